"""Each Q&A and FAQ form names its value and says what to do.

Every text field a person fills in is tried empty, with only spaces and one
character over its limit; the views keep the typed text and save nothing.
"""

from datetime import date
from typing import Any

import pytest

from accounts.models import CrmFunction
from answers.forms import (
    AnswerForm,
    AskQuestionForm,
    DuplicateForm,
    FaqEditForm,
    FaqFromSourceForm,
    PromoteForm,
    QuestionCommentForm,
    ReleaseForm,
)
from answers.models import Answer, FaqEntry, Question
from assist.models import HelpContext
from communities.models import Community
from core.testing import signed_in
from core.tests.form_checks import check_text_field

pytestmark = pytest.mark.django_db


def _too_long(name: str, limit: int) -> str:
    return f"{name} has {limit + 1} characters; shorten it to {limit} or fewer."


def test_answer_form():
    check_text_field(
        AnswerForm,
        {"body": "Write it off."},
        "body",
        limit=20_000,
        empty="The answer is empty: write at least one word.",
        too_long=_too_long("The answer", 20_000),
    )


def test_promote_form_may_be_left_empty():
    check_text_field(
        PromoteForm,
        {"question_text": "Write off?"},
        "question_text",
        limit=200,
        empty=None,
        too_long=_too_long("The FAQ question", 200),
    )


def test_comment_form():
    check_text_field(
        QuestionCommentForm,
        {"body": "Thanks."},
        "body",
        limit=2_000,
        empty="The comment is empty: write at least one word.",
        too_long=_too_long("The comment", 2_000),
    )


@pytest.mark.parametrize(
    ("field", "limit", "empty", "too_long"),
    [
        (
            "original",
            300,
            "The original question is empty: paste the original's address, "
            "such as /questions/12/, or type its number.",
            _too_long("The original question", 300),
        ),
        ("reason", 300, None, _too_long("The note", 300)),
    ],
)
def test_duplicate_form(field, limit, empty, too_long):
    check_text_field(
        DuplicateForm,
        {"original": "12", "reason": ""},
        field,
        limit=limit,
        empty=empty,
        too_long=too_long,
        limit_is_valid=field != "original",
    )


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
    ],
)
def test_ask_question_form(
    sales_rep, payments_community, field, limit, empty, too_long
):
    def build(data: dict[str, Any]) -> AskQuestionForm:
        return AskQuestionForm(data, communities=Community.objects.all(), employee=True)

    check_text_field(
        build,
        {"community": payments_community.pk, "title": "Write off?", "body": ""},
        field,
        limit=limit,
        empty=empty,
        too_long=too_long,
    )


def test_ask_question_form_without_community(payments_community):
    form = AskQuestionForm(
        {"title": "Write off?"}, communities=Community.objects.all(), employee=True
    )

    assert not form.is_valid()
    assert form.errors["community"] == ["Pick the community to ask in."]


@pytest.mark.parametrize("form_class", [FaqFromSourceForm, FaqEditForm])
@pytest.mark.parametrize(
    ("field", "limit", "empty", "too_long"),
    [
        (
            "question_text",
            200,
            "The FAQ question is empty: write at least one word.",
            _too_long("The FAQ question", 200),
        ),
        (
            "answer_text",
            20_000,
            "The FAQ answer is empty: write at least one word.",
            _too_long("The FAQ answer", 20_000),
        ),
    ],
)
def test_faq_forms(payments, form_class, field, limit, empty, too_long):
    functions = CrmFunction.objects.all()

    def build(data: dict[str, Any]) -> FaqFromSourceForm | FaqEditForm:
        if form_class is FaqEditForm:
            return FaqEditForm(data, functions=functions, may_be_general=False)
        return FaqFromSourceForm(data, functions=functions)

    check_text_field(
        build,
        {
            "question_text": "Write off?",
            "answer_text": "Yes, under 1 %.",
            "crm_function": payments.pk,
        },
        field,
        limit=limit,
        empty=empty,
        too_long=too_long,
    )


@pytest.mark.parametrize(
    ("field", "limit", "empty", "too_long"),
    [
        (
            "title",
            200,
            "The release name is empty: write at least one word.",
            _too_long("The release name", 200),
        ),
        ("notes", 5_000, None, _too_long("The note on the release", 5_000)),
    ],
)
def test_release_form(field, limit, empty, too_long):
    screen = HelpContext.objects.order_by("key").first()
    assert screen is not None

    check_text_field(
        ReleaseForm,
        {
            "title": "CRM 7.2",
            "released_on": date(2026, 12, 1).isoformat(),
            "contexts": [screen.key],
            "notes": "",
        },
        field,
        limit=limit,
        empty=empty,
        too_long=too_long,
    )


# --- The views: nothing saved, the typed text stays ---


def test_blank_answer_keeps_nothing_and_says_why(sales_rep, payments_question):
    response = signed_in(sales_rep).post(
        f"/questions/{payments_question.pk}/answers/", {"body": "   "}
    )

    assert response.status_code == 422
    assert "The answer is empty: write at least one word." in response.content.decode()
    assert Answer.objects.count() == 0


def test_long_answer_keeps_the_typed_text(sales_rep, payments_question):
    typed = "Write it off. " * 1_500

    response = signed_in(sales_rep).post(
        f"/questions/{payments_question.pk}/answers/", {"body": typed}
    )

    page = response.content.decode()
    assert response.status_code == 422
    assert (
        f"The answer has {len(typed.strip())} characters; shorten it to 20000 or "
        "fewer." in page
    )
    assert typed in page
    assert Answer.objects.count() == 0


def test_long_question_title_keeps_the_typed_text(sales_rep, payments_community):
    typed = "W" * 240

    response = signed_in(sales_rep).post(
        "/questions/ask/",
        {"community": payments_community.pk, "title": typed, "body": "Details."},
    )

    page = response.content.decode()
    assert response.status_code == 422
    assert "The question has 240 characters; shorten it to 200 or fewer." in page
    assert typed in page
    assert "Details.</textarea>" in page
    assert Question.objects.count() == 0


def test_promote_long_question_kept(
    facilitator, super_user, sales_rep, payments_question
):
    signed_in(super_user).post(
        f"/questions/{payments_question.pk}/answers/", {"body": "Write it off."}
    )
    answer = payments_question.answers.get()
    signed_in(sales_rep).post(f"/questions/answers/{answer.pk}/accept/")
    client = signed_in(facilitator)
    typed = "Q" * 201

    response = client.post(
        f"/questions/answers/{answer.pk}/promote/", {"question_text": typed}
    )

    page = response.content.decode()
    assert response.status_code == 422
    assert "The FAQ question has 201 characters; shorten it to 200 or fewer." in page
    assert f'value="{typed}"' in page
    assert FaqEntry.objects.count() == 0
