"""Each library form names its value and says what to do.

Every text field a person fills in is tried empty, with only spaces and one
character over its limit; the pages keep the typed text and save nothing.
"""

import pytest

from core.testing import signed_in
from core.tests.form_checks import check_text_field
from library.forms import ItemEditForm, ItemForm, TagForm, VersionForm, WithdrawForm
from library.models import Document, Kind

pytestmark = pytest.mark.django_db


def _too_long(name: str, limit: int) -> str:
    return f"{name} has {limit + 1} characters; shorten it to {limit} or fewer."


TITLE_EMPTY = "The title is empty: write at least one word."


@pytest.mark.parametrize(
    ("field", "limit", "empty", "too_long"),
    [
        ("title", 200, TITLE_EMPTY, _too_long("The title", 200)),
        ("summary", 300, None, _too_long("The summary", 300)),
        ("tags", 500, None, _too_long("The tag list", 500)),
    ],
)
def test_item_form(field, limit, empty, too_long):
    check_text_field(
        ItemForm,
        {
            "kind": Kind.LINK,
            "title": "Cash application guide",
            "summary": "",
            "url": "https://example.com/guide",
            "tags": "",
        },
        field,
        limit=limit,
        empty=empty,
        too_long=too_long,
        limit_is_valid=field != "tags",
    )


@pytest.mark.parametrize(
    ("field", "limit", "empty", "too_long"),
    [
        ("title", 200, TITLE_EMPTY, _too_long("The title", 200)),
        ("summary", 300, None, _too_long("The summary", 300)),
    ],
)
def test_item_edit_form(field, limit, empty, too_long):
    check_text_field(
        ItemEditForm,
        {"title": "Cash application guide", "summary": ""},
        field,
        limit=limit,
        empty=empty,
        too_long=too_long,
    )


def test_withdraw_form():
    check_text_field(
        WithdrawForm,
        {"reason": "Out of date."},
        "reason",
        limit=300,
        empty=None,
        too_long=_too_long("The reason", 300),
    )


def test_tag_form():
    check_text_field(
        TagForm,
        {"tags": "returns"},
        "tags",
        limit=500,
        empty="The tag list is empty: type at least one tag name.",
        too_long=_too_long("The tag list", 500),
        limit_is_valid=False,
    )


def test_version_form_without_file_says_to_choose_one():
    form = VersionForm({"note": "x" * 301})

    assert not form.is_valid()
    assert form.errors == {
        "file": ["The file is missing: choose a file."],
        "note": [_too_long("The note", 300)],
    }


# --- The page: nothing saved, the typed text stays ---


def test_long_title_keeps_the_typed_item(sales_rep):
    typed = "Guide " * 40

    response = signed_in(sales_rep).post(
        "/library/new/",
        {
            "kind": Kind.LINK,
            "title": typed,
            "summary": "How to apply cash.",
            "url": "https://example.com/guide",
        },
    )

    page = response.content.decode()
    assert response.status_code == 400
    assert (
        f"The title has {len(typed.strip())} characters; shorten it to 200 or fewer."
        in page
    )
    assert f'value="{typed}"' in page
    assert 'value="How to apply cash."' in page
    assert Document.objects.count() == 0
