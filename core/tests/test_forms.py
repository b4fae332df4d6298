"""The shared form messages: each names its value and says what to do."""

import pytest
from django import forms

from core.forms import ExplainedForm, explain_field, too_long_message


class NoteForm(ExplainedForm):
    value_names = {"note": "The note", "kind": "The kind", "file": "The file"}
    empty_hints = {"note": "write what happened"}

    note = forms.CharField(max_length=10)
    kind = forms.ChoiceField(choices=[("a", "A"), ("b", "B")])
    file = forms.FileField()
    own = forms.CharField(
        label="Own (optional)",
        max_length=5,
        error_messages={"required": "Say something of your own."},
    )
    unnamed = forms.CharField(label="Reference", required=False, max_length=3)


def errors_of(data: dict[str, str]) -> dict[str, list[str]]:
    form = NoteForm(data)
    assert not form.is_valid()
    return {
        name: [str(message) for message in messages]
        for name, messages in form.errors.items()
    }


def test_blank_value_message():
    for blank in ("", "   ", "\n\t "):
        errors = errors_of({"note": blank, "kind": "a", "own": "x"})

        assert errors["note"] == ["The note is empty: write what happened."]


def test_missing_choice_and_file():
    errors = errors_of({"note": "x", "own": "x"})

    assert errors["kind"] == ["The kind is missing: pick one from the list."]
    assert errors["file"] == ["The file is missing: choose a file."]


def test_too_long_names_length_and_limit():
    errors = errors_of({"note": "x" * 25, "kind": "a", "own": "x"})

    assert errors["note"] == ["The note has 25 characters; shorten it to 10 or fewer."]


def test_unknown_choice_names_the_value():
    errors = errors_of({"note": "x", "kind": "zebra", "own": "x"})

    assert errors["kind"] == [
        "'zebra' is not a choice for the kind: pick one from the list."
    ]


def test_null_character_is_named():
    errors = errors_of({"note": "a\x00b", "kind": "a", "own": "x"})

    assert errors["note"] == [
        "The note contains a null character, which text cannot hold: type it "
        "again without pasting."
    ]


def test_field_own_message_is_kept():
    errors = errors_of({"note": "x", "kind": "a", "own": " "})

    assert errors["own"] == ["Say something of your own."]


def test_unnamed_field_uses_label():
    errors = errors_of({"note": "x", "kind": "a", "own": "x", "unnamed": "abcd"})

    assert errors["unnamed"] == [
        'The "Reference" field has 4 characters; shorten it to 3 or fewer.'
    ]


def test_typed_text_stays_in_the_bound_form():
    form = NoteForm({"note": "x" * 25, "kind": "a", "own": "x"})

    assert not form.is_valid()
    assert f'value="{"x" * 25}"' in str(form["note"])


def test_percent_sign_in_a_name_survives():
    field = forms.CharField(max_length=2)
    explain_field(field, "The 100 % note")

    for value, message in (
        ("", "The 100 % note is empty: write at least one word."),
        ("abc", "The 100 % note has 3 characters; shorten it to 2 or fewer."),
    ):
        with pytest.raises(forms.ValidationError) as caught:
            field.clean(value)
        assert caught.value.messages == [message]


def test_services_share_the_wording():
    assert too_long_message("The post", 5001, 5000) == (
        "The post has 5001 characters; shorten it to 5000 or fewer."
    )


def test_one_form_does_not_change_another():
    explained = NoteForm()
    plain = forms.CharField(max_length=10)

    assert "max_length" in explained.fields["note"].error_messages
    assert "max_length" not in plain.error_messages
    assert NoteForm.base_fields["note"].error_messages.get("max_length") is None
