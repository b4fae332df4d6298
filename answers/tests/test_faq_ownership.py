"""Who owns which FAQ: one rule, read alike by services, pages and queries.

``can_own_faq`` decides edits and reviews. The FAQ index shows the review
state to the same people, the function desks list the same functions, and
``FaqOwnership.entries`` selects the same entries in SQL. Each is compared
with ``can_own_faq`` for every named person and every kind of entry, so a
second copy of the rule that drifts fails here.
"""

import pytest
from django.test import Client

from accounts.models import CrmFunction, Role, SuperUserAssignment
from answers.models import FaqEntry
from answers.permissions import FaqOwnership, can_own_faq
from answers.selectors import desk_functions
from conftest import make_person

pytestmark = pytest.mark.django_db


@pytest.fixture
def shipping(db):
    return CrmFunction.objects.create(slug="shipping-faq", name="Shipping FAQ")


@pytest.fixture
def entries(payments, shipping):
    """One entry per kind of owner: payments, shipping and no function."""
    made = {}
    for name, function in (
        ("payments", payments),
        ("shipping", shipping),
        ("general", None),
    ):
        made[name] = FaqEntry.objects.create(
            question=f"A {name} question",
            answer="An answer.",
            answer_html="<p>An answer.</p>",
            crm_function=function,
        )
    return made


@pytest.fixture
def people(super_user, facilitator, moderator, sales_rep, customer, shipping):
    both = make_person("bo", Role.FINANCE_CLERK, group="operations")
    for function in CrmFunction.objects.filter(slug__in=["payments", "shipping-faq"]):
        SuperUserAssignment.objects.create(person=both, crm_function=function)
    return {
        "payments super-user": super_user,
        "super-user of two functions": both,
        "facilitator": facilitator,
        "moderator": moderator,
        "sales rep": sales_rep,
        "customer": customer,
    }


def expected_owned(person, entries) -> set[str]:
    return {
        name
        for name, entry in entries.items()
        if can_own_faq(person, entry.crm_function)
    }


def test_rule_gives_expected_owners(people, entries):
    owned = {name: expected_owned(person, entries) for name, person in people.items()}
    assert owned == {
        "payments super-user": {"payments"},
        "super-user of two functions": {"payments", "shipping"},
        "facilitator": {"payments", "shipping", "general"},
        "moderator": {"payments", "shipping", "general"},
        "sales rep": set(),
        "customer": set(),
    }


def test_sql_condition_matches_rule(people, entries):
    for name, person in people.items():
        selected = set(
            FaqEntry.objects.filter(FaqOwnership(person).entries()).values_list(
                "question", flat=True
            )
        )
        expected = {f"A {key} question" for key in expected_owned(person, entries)}
        assert selected == expected, name


def test_faq_index_shows_review_state_to_owners_only(people, entries):
    for name, person in people.items():
        if person.is_external:
            continue
        client = Client()
        client.force_login(person)
        page = client.get("/questions/faq/")
        shown = {
            entry.question.removeprefix("A ").removesuffix(" question")
            for entry in page.context["page"]
            if entry.may_own
        }
        assert shown == expected_owned(person, entries), name


def test_desks_list_the_owned_functions(people, entries, payments, shipping):
    for name, person in people.items():
        functions = set(desk_functions(person))
        expected = {
            function
            for function in (payments, shipping)
            if can_own_faq(person, function)
        }
        assert functions & {payments, shipping} == expected, name
