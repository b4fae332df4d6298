"""The compiled visibility rules the panel caches: a change shows at once."""

from typing import Any

import pytest
from django.db import connection
from django.test import Client

from accounts.models import Role
from answers.models import FaqEntry
from answers.selectors import visible_questions
from assist.models import HelpContext
from assist.rules import compiled_rule
from assist.tests.factories import answered
from communities.models import Membership
from conftest import make_person

pytestmark = pytest.mark.django_db

SHORT_PAYMENT = "reconciliation.order.short_payment"
# A customer reads only the portal's contexts, so tests with one use this.
STATEMENT = "portal.statement"


def faq(question: str, *, customer_visible: bool, key: str = SHORT_PAYMENT) -> FaqEntry:
    entry = FaqEntry.objects.create(
        question=question,
        answer="x",
        answer_html="<p>x</p>",
        customer_visible=customer_visible,
    )
    entry.contexts.add(HelpContext.objects.get(key=key))
    return entry


def help_json(person, key: str = SHORT_PAYMENT) -> dict[str, Any]:
    client = Client()
    client.force_login(person)
    response = client.get("/api/assist/help", {"context": key})
    assert response.status_code == 200
    body: dict[str, Any] = response.json()
    return body


def visible_question_titles(person) -> list[str]:
    """Run the cached compiled rule of ``visible_questions``."""
    compiled = compiled_rule(visible_questions, person)
    assert compiled is not None
    where, params = compiled
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT title FROM answers_question WHERE {where} ORDER BY title",  # noqa: S608
            params,
        )
        return [row[0] for row in cursor.fetchall()]


def test_new_company_seen_on_next_request(
    customer, customer_party, other_party, customer_community
):
    answered("Ours", customer_community, STATEMENT, customer=customer_party)
    answered("Theirs", customer_community, STATEMENT, customer=other_party)
    body = help_json(customer, STATEMENT)
    titles = [item["title"] for item in body["answered_questions"]]
    assert sorted(titles) == ["Ours"]

    customer.customer = other_party
    customer.save()
    body = help_json(customer, STATEMENT)
    titles = [item["title"] for item in body["answered_questions"]]
    assert sorted(titles) == ["Theirs"]


def test_new_role_seen_on_next_request(sales_rep, customer_party):
    faq("Internal", customer_visible=False, key=STATEMENT)
    faq("Public", customer_visible=True, key=STATEMENT)
    body = help_json(sales_rep, STATEMENT)
    questions = [item["question"] for item in body["faq_entries"]]
    assert sorted(questions) == ["Internal", "Public"]

    sales_rep.role = Role.CUSTOMER
    sales_rep.customer = customer_party
    sales_rep.save()
    body = help_json(sales_rep, STATEMENT)
    questions = [item["question"] for item in body["faq_entries"]]
    assert questions == ["Public"]


def test_membership_change_seen_by_cached_rule(payments_community, private_community):
    answered("Open", payments_community, SHORT_PAYMENT)
    answered("Private", private_community, SHORT_PAYMENT)
    nina = make_person("nina", Role.SALES_REP)
    cached = compiled_rule(visible_questions, nina)
    assert visible_question_titles(nina) == ["Open"]

    membership = Membership.objects.create(community=private_community, person=nina)
    assert compiled_rule(visible_questions, nina) is cached
    assert visible_question_titles(nina) == ["Open", "Private"]

    membership.delete()
    assert visible_question_titles(nina) == ["Open"]


def test_panel_omits_private_after_joining(payments_community, private_community):
    answered("Private", private_community, SHORT_PAYMENT)
    nina = make_person("nina", Role.SALES_REP, group="sales")
    assert help_json(nina)["answered_questions"] == []

    Membership.objects.create(community=private_community, person=nina)
    assert help_json(nina)["answered_questions"] == []
