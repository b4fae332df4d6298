"""Check a form's text field: empty, whitespace-only and too-long values."""

from collections.abc import Callable
from typing import Any

from django import forms


def text_field_errors(
    build: Callable[[dict[str, Any]], forms.Form],
    data: dict[str, Any],
    field: str,
    value: str,
) -> list[str]:
    """Return the errors ``field`` gets when ``value`` replaces it in ``data``.

    ``data`` must be valid as it is, so that only ``value`` can be wrong:
    the form built from ``data`` is checked first.
    """
    valid = build(dict(data))
    assert valid.is_valid(), valid.errors.as_json()
    form = build({**data, field: value})
    form.is_valid()
    return [str(message) for message in form.errors.get(field, [])]


def check_text_field(
    build: Callable[[dict[str, Any]], forms.Form],
    data: dict[str, Any],
    field: str,
    *,
    limit: int,
    empty: str | None,
    too_long: str,
    limit_is_valid: bool = True,
) -> None:
    """Check a text field's empty, whitespace-only and too-long messages.

    ``empty`` is the message for an empty or whitespace-only value, or None
    when the field may be left empty. ``too_long`` is the message for a
    value one character over ``limit``. A value of exactly ``limit``
    characters passes, unless ``limit_is_valid`` is False because the
    field checks more than the length.
    """
    for blank in ("", "   ", "\n\t \r\n"):
        errors = text_field_errors(build, data, field, blank)
        assert errors == ([empty] if empty else []), (field, blank)
    over = text_field_errors(build, data, field, "x" * (limit + 1))
    assert over == [too_long], field
    if limit_is_valid:
        at_limit = text_field_errors(build, data, field, "x" * limit)
        assert at_limit == [], field
