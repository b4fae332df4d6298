"""A form base class whose messages name the value and say what to do.

Django's own messages ("This field is required.", "Ensure this value has at
most 200 characters (it has 250).") name neither the field nor the way out.
A form that a person fills in derives from ``ExplainedForm`` and names its
values in ``value_names``; each field then gets messages such as "The
answer is empty: write at least one word." and "The title has 250
characters; shorten it to 200 or fewer." A message that a field declares
itself is kept.
"""

from collections.abc import Mapping
from typing import Any, ClassVar

from django import forms

# Django's default texts, which a field's own message replaces.
_DEFAULT_REQUIRED = str(forms.Field.default_error_messages["required"])
_DEFAULT_INVALID_CHOICE = {
    str(forms.ChoiceField.default_error_messages["invalid_choice"]),
    str(forms.ModelChoiceField.default_error_messages["invalid_choice"]),
    str(forms.ModelMultipleChoiceField.default_error_messages["invalid_choice"]),
}


def empty_message(name: str, hint: str) -> str:
    """Return the message for an empty value: "The answer is empty: write ..."."""
    return f"{name} is empty: {hint}."


def missing_message(name: str, hint: str) -> str:
    """Return the message for a choice or file not sent: "The file is missing: ..."."""
    return f"{name} is missing: {hint}."


def too_long_message(name: str, length: int | str, limit: int | str) -> str:
    """Return the message for a value over its limit, as the forms word it.

    Services that check a length themselves use it too, so a form and the
    service behind it say the same thing.
    """
    return f"{name} has {length} characters; shorten it to {limit} or fewer."


def default_empty_hint(field: forms.Field) -> str:
    """Return what to do about an empty ``field``, from the kind of input it is."""
    if field.widget.is_hidden:
        return "reload the page and send the form again"
    if isinstance(field, forms.FileField):
        return "choose a file"
    if isinstance(field, forms.ModelMultipleChoiceField | forms.MultipleChoiceField):
        return "pick at least one"
    if isinstance(field, forms.ChoiceField | forms.ModelChoiceField):
        return "pick one from the list"
    if isinstance(field, forms.DateField):
        return "enter a date as YYYY-MM-DD"
    if isinstance(field, forms.URLField):
        return "enter an address such as https://example.com/"
    if isinstance(field, forms.CharField):
        return "write at least one word"
    return "fill it in"


def _percent_safe(text: str) -> str:
    # Django fills a message's ``%(...)`` parameters with ``%`` when the
    # error has parameters, so there a literal percent sign is doubled.
    return text.replace("%", "%%")


def explain_field(field: forms.Field, name: str, empty_hint: str = "") -> None:
    """Give ``field`` messages that call its value ``name`` ("The answer").

    Only Django's generic messages are replaced: a message the field
    declares itself already says more about its value.
    """
    safe = _percent_safe(name)
    hint = empty_hint or default_empty_hint(field)
    messages = field.error_messages
    if str(messages.get("required", "")) == _DEFAULT_REQUIRED:
        # Text is empty, but a file, a choice or a date is missing.
        written = isinstance(field, forms.CharField) and not isinstance(
            field, forms.URLField
        )
        # "required" has no parameters, so its text is used as it is.
        messages["required"] = (empty_message if written else missing_message)(
            name, hint
        )
    if isinstance(field, forms.CharField):
        messages.setdefault(
            "max_length",
            # The validator fills in the length and the limit.
            too_long_message(safe, "%(show_value)d", "%(limit_value)d"),
        )
        messages.setdefault(
            "min_length",
            f"{safe} has %(show_value)d characters; write at least %(limit_value)d.",
        )
        messages.setdefault(
            "null_characters_not_allowed",
            f"{safe} contains a null character, which text cannot hold: "
            "type it again without pasting.",
        )
    if str(messages.get("invalid_choice", "")) in _DEFAULT_INVALID_CHOICE:
        # A posted value can be long: the message shows its first 60 characters.
        messages["invalid_choice"] = (
            f"%(value).60r is not a choice for {safe[:1].lower()}{safe[1:]}: pick "
            "one from the list."
        )


def label_name(field: forms.Field, field_name: str) -> str:
    """Return a name for a field that its form does not name: its quoted label."""
    label = str(field.label or field_name.replace("_", " ").capitalize())
    return f'The "{label.removesuffix(" (optional)")}" field'


class ExplainedForm(forms.Form):
    """A form whose fields' messages name their value and say what to do.

    ``value_names`` maps a field to how messages name its value ("The
    answer"); a field it leaves out is named by its label. ``empty_hints``
    maps a field to what to do when it is empty ("write at least one
    word"); the default follows the kind of input.
    """

    value_names: ClassVar[Mapping[str, str]] = {}
    empty_hints: ClassVar[Mapping[str, str]] = {}

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        for field_name, field in self.fields.items():
            explain_field(
                field,
                self.value_names.get(field_name) or label_name(field, field_name),
                self.empty_hints.get(field_name, ""),
            )
