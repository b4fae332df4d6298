import re
from typing import Any

from django import forms
from django.db.models import Q, QuerySet
from django.utils.html import format_html

from accounts.models import CrmFunction, LearnerGroup
from answers.services.common import MAX_COMMENT_LENGTH
from assist.contexts import CUSTOMER_CONTEXT_ROOT
from assist.models import HelpContext
from communities.models import Community
from core.forms import ExplainedForm
from core.numbers import AsciiIntegerField


class ScreenChoiceField(forms.ModelChoiceField):  # type: ignore[type-arg]
    """A choice of one help context, shown as "Title (key)" in a select."""

    def label_from_instance(self, obj: HelpContext) -> str:
        return f"{obj.title} ({obj.key})"


class ScreenCheckboxesField(forms.ModelMultipleChoiceField):  # type: ignore[type-arg]
    """Help contexts as checkboxes, each labelled by its title with its key small."""

    widget = forms.CheckboxSelectMultiple

    def label_from_instance(self, obj: HelpContext) -> str:
        return format_html('{} <small class="muted">{}</small>', obj.title, obj.key)


QUESTION_REFERENCE = re.compile(
    r"^\s*(?:.*?/questions/)?([0-9]{1,18})/?(?:[#?].*)?\s*$"
)


def customer_screens() -> QuerySet[HelpContext]:
    """Return the help contexts a customer account may pick: the portal's."""
    screens = HelpContext.objects.filter(
        Q(key=CUSTOMER_CONTEXT_ROOT) | Q(key__startswith=f"{CUSTOMER_CONTEXT_ROOT}.")
    )
    return screens.order_by("key")


class AnswerForm(ExplainedForm):
    value_names = {"body": "The answer"}

    body = forms.CharField(
        label="Your answer",
        max_length=20_000,
        widget=forms.Textarea(attrs={"rows": 5}),
        help_text="Markdown works: **bold**, lists, `code` and links.",
    )


class PromoteForm(ExplainedForm):
    value_names = {"question_text": "The FAQ question"}

    question_text = forms.CharField(
        label="FAQ question",
        max_length=200,
        required=False,
        help_text="Leave empty to use the question as asked.",
    )


CUSTOMERS_READ_LABEL = "Customers may read this question"


class AskQuestionForm(ExplainedForm):
    value_names = {
        "community": "The community",
        "title": "The question",
        "body": "The details text",
        "context": "The screen",
    }
    empty_hints = {"title": "type your question in a few words"}

    community = forms.ModelChoiceField(
        label="Community",
        queryset=Community.objects.none(),
        empty_label="Pick a community",
        error_messages={
            "required": "Pick the community to ask in.",
            "invalid_choice": (
                "That community is not one you can ask in: pick one from the list."
            ),
        },
    )
    customers_may_read = forms.BooleanField(
        label=CUSTOMERS_READ_LABEL,
        required=False,
        help_text="Required to ask in a community that customers can read.",
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
        widget=forms.Textarea(attrs={"rows": 5}),
        help_text="Markdown works. Add #hashtags to file the question.",
    )
    context = ScreenChoiceField(
        label="Screen (optional)",
        queryset=HelpContext.objects.order_by("key"),
        to_field_name="key",
        required=False,
        empty_label="No particular screen",
        error_messages={
            "invalid_choice": (
                "Unknown help context %(value)r: pick a screen from the list or "
                "leave it empty."
            )
        },
    )

    def __init__(
        self, *args: Any, communities: Any, employee: bool, **kwargs: Any
    ) -> None:
        """Set the communities to choose from.

        An employee starts on the empty choice, so nothing lands in a
        community customers read by default, and must confirm such a
        community with ``customers_may_read``. A customer account starts on
        its first community, because every community it can ask in is one
        its own people read.
        """
        super().__init__(*args, **kwargs)
        community_field = self.fields["community"]
        community_field.queryset = communities  # type: ignore[attr-defined]
        self.employee = employee
        if not employee:
            community_field.empty_label = None  # type: ignore[attr-defined]
            del self.fields["customers_may_read"]
            # A customer is offered and accepted only the portal's screens
            # (``assist.contexts.is_customer_context``); a posted internal
            # key gets the same message as a key no screen declares.
            self.fields["context"].queryset = customer_screens()  # type: ignore[attr-defined]

    def customer_visible_names(self) -> list[str]:
        """Return the names of the offered communities that customers can read."""
        communities = self.fields["community"].queryset  # type: ignore[attr-defined]
        return [
            community.name
            for community in communities
            if community.visibility == Community.Visibility.CUSTOMER
        ]

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        community = cleaned.get("community")
        if (
            self.employee
            and community is not None
            and community.visibility == Community.Visibility.CUSTOMER
            and not cleaned.get("customers_may_read")
        ):
            self.add_error(
                "customers_may_read",
                f"Customers can read questions in {community.name}. Tick "
                f'"{CUSTOMERS_READ_LABEL}" to ask there, or pick an '
                "employees-only community.",
            )
        return cleaned


class QuestionCommentForm(ExplainedForm):
    value_names = {"body": "The comment", "answer": "The answer number"}

    body = forms.CharField(
        label="Comment",
        max_length=MAX_COMMENT_LENGTH,
        widget=forms.Textarea(attrs={"rows": 2}),
    )
    answer = AsciiIntegerField(required=False, min_value=1, widget=forms.HiddenInput)


class VoteForm(ExplainedForm):
    value_names = {"value": "The vote"}
    empty_hints = {"value": "send 1 (up), -1 (down) or 0"}

    value = forms.TypedChoiceField(
        choices=[("1", "up"), ("-1", "down"), ("0", "none")],
        coerce=int,
        error_messages={
            "invalid_choice": "%(value)r is not a vote: send 1 (up), -1 (down) or 0."
        },
    )


class DuplicateForm(ExplainedForm):
    value_names = {"original": "The original question", "reason": "The note"}
    empty_hints = {
        "original": "paste the original's address, such as /questions/12/, "
        "or type its number"
    }

    original = forms.CharField(
        label="Original question",
        max_length=300,
        help_text="The number or the address of the question this one repeats.",
    )
    reason = forms.CharField(label="Note (optional)", max_length=300, required=False)

    def clean_original(self) -> int:
        raw: str = self.cleaned_data["original"]
        match = QUESTION_REFERENCE.match(raw)
        if match is None:
            shown = raw if len(raw) <= 60 else f"{raw[:60]}..."
            raise forms.ValidationError(
                f"{shown!r} is not a question number or address: paste the "
                "original's address, such as /questions/12/, or its number."
            )
        return int(match.group(1))


class FaqEntryForm(ExplainedForm):
    value_names = {
        "question_text": "The FAQ question",
        "answer_text": "The FAQ answer",
        "contexts": "The screens it covers",
        "learner_groups": "The learner groups",
        "crm_function": "The CRM function",
    }

    question_text = forms.CharField(label="FAQ question", max_length=200)
    answer_text = forms.CharField(
        label="Answer",
        max_length=20_000,
        widget=forms.Textarea(attrs={"rows": 8}),
        help_text="Markdown. Write it for every reader of the FAQ.",
    )
    contexts = ScreenCheckboxesField(
        label="Screens it covers",
        queryset=HelpContext.objects.order_by("key"),
        required=False,
    )
    learner_groups = forms.ModelMultipleChoiceField(
        label="Written for",
        queryset=LearnerGroup.objects.order_by("name"),
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text="It comes first in these learner groups' help panels.",
    )


NOT_OWNED_FUNCTION = (
    "That CRM function is not one whose FAQ you own: pick one from the list."
)


class FaqFromSourceForm(FaqEntryForm):
    crm_function = forms.ModelChoiceField(
        label="CRM function",
        queryset=CrmFunction.objects.none(),
        empty_label="Pick a CRM function",
        help_text="Its super-users own and review the entry.",
        error_messages={
            "required": "Pick the CRM function whose FAQ gets the entry.",
            "invalid_choice": NOT_OWNED_FUNCTION,
        },
    )

    def __init__(
        self, *args: Any, functions: QuerySet[CrmFunction], **kwargs: Any
    ) -> None:
        """Offer ``functions``, the CRM functions whose FAQ the curator owns."""
        super().__init__(*args, **kwargs)
        self.fields["crm_function"].queryset = functions  # type: ignore[attr-defined]


class FaqEditForm(FaqEntryForm):
    crm_function = forms.ModelChoiceField(
        label="CRM function",
        queryset=CrmFunction.objects.none(),
        required=False,
        empty_label="No CRM function (general)",
        help_text=(
            "Its super-users own and review the entry, so another function "
            "hands the entry to that function's super-users."
        ),
        error_messages={
            "required": "Pick the CRM function whose FAQ keeps the entry.",
            "invalid_choice": NOT_OWNED_FUNCTION,
        },
    )

    def __init__(
        self,
        *args: Any,
        functions: QuerySet[CrmFunction],
        may_be_general: bool,
        **kwargs: Any,
    ) -> None:
        """Offer ``functions``, and no function only to owners of general entries."""
        super().__init__(*args, **kwargs)
        field = self.fields["crm_function"]
        field.queryset = functions  # type: ignore[attr-defined]
        if not may_be_general:
            field.required = True
            field.empty_label = "Pick a CRM function"  # type: ignore[attr-defined]


class ReleaseForm(ExplainedForm):
    value_names = {
        "title": "The release name",
        "released_on": "The release date",
        "contexts": "The screens it changed",
        "notes": "The note on the release",
    }

    title = forms.CharField(label="Release", max_length=200)
    released_on = forms.DateField(
        label="Release date",
        widget=forms.DateInput(attrs={"type": "date"}),
        error_messages={"invalid": "Enter the release date as YYYY-MM-DD."},
    )
    contexts = ScreenCheckboxesField(
        label="Screens it changed",
        queryset=HelpContext.objects.order_by("key"),
        to_field_name="key",
        error_messages={"required": "Pick at least one screen the release changed."},
    )
    notes = forms.CharField(
        label="Notes (optional)",
        required=False,
        max_length=5_000,
        widget=forms.Textarea(attrs={"rows": 3}),
    )
