"""The ask-from-here form names its value and says what to do.

Every text field is tried empty, with only spaces and one character over
its limit; the panel's answer names the problem and nothing is asked.
"""

from typing import Any

import pytest

from answers.models import Question
from assist.forms import AskForm, TokenForm
from core.testing import signed_in
from core.tests.form_checks import check_text_field

pytestmark = pytest.mark.django_db

SHORT_PAYMENT = "reconciliation.order.short_payment"


def _too_long(name: str, limit: int) -> str:
    return f"{name} has {limit + 1} characters; shorten it to {limit} or fewer."


def _build(data: dict[str, Any]) -> AskForm:
    return AskForm(data, external=False)


@pytest.mark.parametrize(
    ("field", "limit", "empty", "too_long"),
    [
        (
            "title",
            200,
            "The question is empty: type your question in a few words.",
            _too_long("The question", 200),
        ),
        ("body", 20_000, None, _too_long("The details text", 20_000)),
        ("record_ref", 80, None, _too_long("The record", 80)),
    ],
)
def test_ask_form(field, limit, empty, too_long):
    check_text_field(
        _build,
        {"context": SHORT_PAYMENT, "title": "Write off 0.40?", "body": ""},
        field,
        limit=limit,
        empty=empty,
        too_long=too_long,
    )


def test_ask_form_without_context_says_to_reload():
    form = _build({"context": "  ", "title": "Write off 0.40?"})

    assert not form.is_valid()
    assert form.errors["context"] == [
        "The help context is empty: reload the page and send the form again."
    ]


@pytest.mark.parametrize(
    ("title", "message"),
    [
        ("   ", "The question is empty: type your question in a few words."),
        ("W" * 250, "The question has 250 characters; shorten it to 200 or fewer."),
    ],
)
def test_panel_ask_names_the_problem(sales_rep, payments_community, title, message):
    response = signed_in(sales_rep).post(
        "/assist/ask/",
        {"context": SHORT_PAYMENT, "title": title, "next": "/questions/"},
        headers={"HX-Request": "true"},
    )

    # The panel's form stays as typed: htmx swaps only the result below it.
    assert response.status_code == 422
    assert message in response.content.decode()
    assert Question.objects.count() == 0


def test_ask_without_javascript_keeps_the_typed_text(sales_rep, payments_community):
    title = "W" * 250

    response = signed_in(sales_rep).post(
        "/assist/ask/",
        {
            "context": SHORT_PAYMENT,
            "record_kind": "",
            "record_ref": "",
            "title": title,
            "body": "The customer paid 0.40 less.",
            "next": "/questions/",
        },
    )

    page = response.content.decode()
    assert response.status_code == 422
    assert (
        'role="alert" data-testid="ask-error">The question has 250 characters; '
        "shorten it to 200 or fewer.</p>" in page
    )
    assert f'value="{title}"' in page
    assert ">The customer paid 0.40 less.</textarea>" in page
    assert f'name="context" value="{SHORT_PAYMENT}"' in page
    assert '<a href="/questions/">Back without asking</a>' in page
    assert Question.objects.count() == 0


def test_token_form_name():
    check_text_field(
        TokenForm,
        {"name": "CRM order screen", "scopes": ["help:read"]},
        "name",
        limit=200,
        empty="The token name is empty: name it after the tool that will use it.",
        too_long=_too_long("The token name", 200),
    )
