from django import forms

from assist.contexts import DECLARED_KEYS


class AskForm(forms.Form):
    context = forms.CharField(max_length=120, widget=forms.HiddenInput)
    record_ref = forms.CharField(
        max_length=80, required=False, widget=forms.HiddenInput
    )
    title = forms.CharField(
        label="Your question",
        max_length=200,
        widget=forms.TextInput(attrs={"placeholder": "What do you need to know?"}),
    )
    body = forms.CharField(
        label="Details (optional)",
        required=False,
        max_length=20_000,
        widget=forms.Textarea(attrs={"rows": 3}),
    )

    def clean_context(self) -> str:
        key: str = self.cleaned_data["context"]
        if key not in DECLARED_KEYS:
            raise forms.ValidationError(
                f"Unknown help context {key!r}: reload the page and ask again.",
                code="own",
            )
        return key
