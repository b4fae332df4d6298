from django import forms


class AnswerForm(forms.Form):
    body = forms.CharField(
        label="Your answer",
        max_length=20_000,
        widget=forms.Textarea(attrs={"rows": 5}),
        help_text="Markdown works: **bold**, lists, `code` and links.",
    )


class PromoteForm(forms.Form):
    question_text = forms.CharField(
        label="FAQ question",
        max_length=200,
        required=False,
        help_text="Leave empty to use the question as asked.",
    )
