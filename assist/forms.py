from typing import Any

from django import forms

from assist.contexts import may_ask_from
from assist.models import ApiToken, Availability
from core.forms import ExplainedForm
from core.numbers import AsciiIntegerField


class AskForm(ExplainedForm):
    value_names = {
        "context": "The help context",
        "record_kind": "The record kind",
        "record_ref": "The record",
        "title": "The question",
        "body": "The details text",
    }
    empty_hints = {"title": "type your question in a few words"}

    context = forms.CharField(max_length=120, widget=forms.HiddenInput)
    # Empty with a record number means an order, as before kinds were stored.
    record_kind = forms.CharField(
        max_length=20, required=False, widget=forms.HiddenInput
    )
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

    def __init__(self, *args: Any, external: bool, **kwargs: Any) -> None:
        """``external`` is whether the asker is a customer account."""
        super().__init__(*args, **kwargs)
        self.external = external

    def clean_context(self) -> str:
        # A customer asking from an internal screen's context gets the same
        # error as for an unknown key, so the form does not confirm it.
        key: str = self.cleaned_data["context"]
        if not may_ask_from(key, external=self.external):
            raise forms.ValidationError(
                f"Unknown help context {key!r}: reload the page and ask again.",
                code="own",
            )
        return key


class TokenForm(ExplainedForm):
    value_names = {
        "name": "The token name",
        "scopes": "The scope list",
        "expires_on": "The expiry date",
    }
    empty_hints = {"name": "name it after the tool that will use it"}

    name = forms.CharField(
        label="Name",
        max_length=200,
        help_text="The tool that will use it, e.g. 'CRM order screen'.",
    )
    scopes = forms.MultipleChoiceField(
        label="Scopes",
        choices=ApiToken.Scope.choices,
        initial=[ApiToken.Scope.HELP_READ],
        widget=forms.CheckboxSelectMultiple,
        error_messages={
            "required": "Choose at least one scope for the token.",
            "invalid_choice": (
                "Unknown scope %(value)r: choose one of the listed scopes."
            ),
        },
    )
    expires_on = forms.DateField(
        label="Expires on (optional)",
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}),
        error_messages={"invalid": "Write the expiry date as YYYY-MM-DD."},
    )


class AvailabilityForm(ExplainedForm):
    value_names = {"status": "The status", "hours": "The number of hours"}
    empty_hints = {"status": "choose available, busy or away"}

    status = forms.ChoiceField(
        choices=Availability.Status.choices,
        error_messages={
            "invalid_choice": (
                "Unknown status %(value)r: choose available, busy or away."
            )
        },
    )
    hours = AsciiIntegerField(
        required=False,
        min_value=1,
        max_value=24 * 14,
        error_messages={
            "min_value": "Choose at least 1 hour.",
            "max_value": "Choose at most two weeks (336 hours).",
            "invalid": "Write the number of hours as a whole number.",
        },
    )
