"""Forms for library uploads, new versions and tags."""

from typing import Any

from django import forms
from django.core.exceptions import ValidationError
from django.core.validators import URLValidator

from accounts.models import CrmFunction, LearnerGroup
from assist.models import HelpContext
from core.forms import ExplainedForm
from library.models import Kind
from library.tags import InvalidTagError, split_tag_names


class ScreenMultipleChoiceField(forms.ModelMultipleChoiceField):  # type: ignore[type-arg]
    """Help contexts in a multiple select, each shown as "Title (key)"."""

    def label_from_instance(self, obj: HelpContext) -> str:
        return f"{obj.title} ({obj.key})"


class WebAddressField(forms.URLField):
    """An http or https address, with one error message that names the value."""

    default_validators = [URLValidator(schemes=["http", "https"])]

    def clean(self, value: Any) -> Any:
        try:
            return super().clean(value)
        except ValidationError as error:
            if all(item.code != "invalid" for item in error.error_list):
                raise
            raise ValidationError(
                f"{value!r} is not a web address: only http and https links are "
                "allowed. Enter an address such as https://example.com/guide.",
                code="invalid",
            ) from None


class ItemForm(ExplainedForm):
    value_names = {
        "kind": "The kind",
        "title": "The title",
        "summary": "The summary",
        "body": "The page text",
        "url": "The link address",
        "file": "The file",
        "poster": "The poster",
        "crm_function": "The CRM function",
        "contexts": "The screen list",
        "learner_groups": "The learner group list",
        "customer_visible": "The customer visibility",
        "tags": "The tag list",
    }

    kind = forms.ChoiceField(label="Kind", choices=Kind.choices, initial=Kind.DOCUMENT)
    title = forms.CharField(label="Title", max_length=200)
    summary = forms.CharField(label="Summary", max_length=300, required=False)
    body = forms.CharField(
        label="Page text",
        widget=forms.Textarea,
        required=False,
        help_text="Markdown, for pages.",
    )
    url = WebAddressField(
        label="Link address",
        max_length=500,
        required=False,
        assume_scheme="https",
        help_text="The address, for links.",
    )
    file = forms.FileField(
        label="File",
        required=False,
        help_text="PDF, docx, xlsx, pptx or Markdown for documents, MP4 for "
        "videos, zip for demo packages.",
    )
    poster = forms.FileField(
        label="Poster",
        required=False,
        help_text="PNG, JPEG, GIF or WebP image shown before a video plays. "
        "Without one, the item page shows a placeholder, not a frame of the video.",
    )
    crm_function = forms.ModelChoiceField(
        label="CRM function",
        queryset=CrmFunction.objects.all(),
        required=False,
        empty_label="No particular function",
    )
    contexts = ScreenMultipleChoiceField(
        label="Screens",
        queryset=HelpContext.objects.order_by("key"),
        required=False,
        to_field_name="key",
        help_text="The CRM screens this item helps with.",
    )
    customer_visible = forms.BooleanField(
        label="Visible to customers",
        required=False,
        help_text="Let customer accounts read it.",
    )
    learner_groups = forms.ModelMultipleChoiceField(
        label="Written for",
        queryset=LearnerGroup.objects.order_by("name"),
        required=False,
        to_field_name="slug",
        widget=forms.CheckboxSelectMultiple,
        help_text="Who it is written for: it comes first in their help panels.",
    )
    tags = forms.CharField(
        label="Tags",
        required=False,
        max_length=500,
        help_text="Comma-separated, e.g. C#, returns.",
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        # Labels read as headings above their inputs, without Django's colon.
        kwargs.setdefault("label_suffix", "")
        super().__init__(*args, **kwargs)

    def clean_tags(self) -> list[str]:
        try:
            return split_tag_names(self.cleaned_data["tags"])
        except InvalidTagError as error:
            raise forms.ValidationError(str(error)) from None

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        kind = cleaned.get("kind")
        if kind in {Kind.DOCUMENT, Kind.VIDEO, Kind.PACKAGE} and not cleaned.get(
            "file"
        ):
            self.add_error("file", f"A {Kind(kind).label.lower()} needs a file.")
        # An address that failed its own check already has a message.
        if kind == Kind.LINK and not cleaned.get("url") and "url" not in self.errors:
            self.add_error("url", "A link needs its address (https://...).")
        if cleaned.get("poster") and kind != Kind.VIDEO:
            self.add_error("poster", "Only a video has a poster image.")
        return cleaned


class ItemEditForm(ExplainedForm):
    """The fields of an item its owner or a curator may change after adding it."""

    value_names = {
        "title": "The title",
        "summary": "The summary",
        "contexts": "The screen list",
        "customer_visible": "The customer visibility",
    }

    title = forms.CharField(label="Title", max_length=200)
    summary = forms.CharField(label="Summary", max_length=300, required=False)
    contexts = ScreenMultipleChoiceField(
        label="Screens",
        queryset=HelpContext.objects.order_by("key"),
        required=False,
        to_field_name="key",
        help_text="The CRM screens this item helps with.",
    )
    customer_visible = forms.BooleanField(
        label="Visible to customers",
        required=False,
        help_text="Let customer accounts read it. Clearing this hides it from "
        "customers at once, in the library, search and help panels.",
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("label_suffix", "")
        super().__init__(*args, **kwargs)


class WithdrawForm(ExplainedForm):
    value_names = {"reason": "The reason"}

    reason = forms.CharField(
        label="Reason",
        max_length=300,
        required=False,
        help_text="Kept in the audit log with the withdrawal.",
    )


class VersionForm(ExplainedForm):
    value_names = {"file": "The file", "note": "The note"}

    file = forms.FileField(label="File")
    note = forms.CharField(
        label="Note",
        max_length=300,
        required=False,
        help_text="What changed in this version.",
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("label_suffix", "")
        super().__init__(*args, **kwargs)


class PosterForm(ExplainedForm):
    value_names = {"poster": "The poster", "remove": "The remove choice"}

    poster = forms.FileField(
        label="New poster",
        required=False,
        help_text="PNG, JPEG, GIF or WebP image shown before the video plays.",
    )
    remove = forms.BooleanField(
        label="Remove the poster",
        required=False,
        help_text="The item page then shows a placeholder before the video plays.",
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("label_suffix", "")
        super().__init__(*args, **kwargs)

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        if cleaned.get("poster") and cleaned.get("remove"):
            raise forms.ValidationError(
                "Choose a new poster or tick Remove the poster, not both."
            )
        if not cleaned.get("poster") and not cleaned.get("remove"):
            raise forms.ValidationError(
                "Choose an image for the poster, or tick Remove the poster."
            )
        return cleaned


class TagForm(ExplainedForm):
    value_names = {"tags": "The tag list"}
    empty_hints = {"tags": "type at least one tag name"}

    tags = forms.CharField(max_length=500, help_text="Comma-separated tag names.")

    def clean_tags(self) -> list[str]:
        try:
            names = split_tag_names(self.cleaned_data["tags"])
        except InvalidTagError as error:
            raise forms.ValidationError(str(error)) from None
        if not names:
            raise forms.ValidationError("Type at least one tag name.")
        return names
