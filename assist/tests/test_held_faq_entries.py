"""FAQ entries held for their owners in the help panel and its JSON endpoint.

The owners of an entry are its function's super-users and the stand-ins
(facilitators and moderators), by ``answers.permissions.FaqOwnership``.
"""

import json

import pytest
from django.test import Client

from accounts.models import CrmFunction, Role, SuperUserAssignment
from answers.models import FaqEntry
from assist.api import HelpOut
from assist.models import HelpContext
from assist.selectors import build_help_panel
from assist.tokens import issue_token
from conftest import make_person
from core.testing import signed_in

pytestmark = pytest.mark.django_db

KEY = "reconciliation.order.short_payment"
PANEL_URL = f"/assist/panel/?context={KEY}"
HELP_URL = f"/api/assist/help?context={KEY}"
HELD_BADGE = b'data-testid="held-badge"'


def faq_entry(question: str, *, held: bool, crm_function=None) -> FaqEntry:
    entry = FaqEntry.objects.create(
        question=question,
        answer=f"Answer to {question}",
        answer_html=f"<p>Answer to {question}</p>",
        crm_function=crm_function,
        # Held overrides customer_visible: customers must not read it.
        customer_visible=True,
        owners_only=held,
    )
    entry.contexts.add(HelpContext.objects.get(key=KEY))
    return entry


@pytest.fixture
def entries(payments):
    held = faq_entry("Held payments entry", held=True, crm_function=payments)
    published = faq_entry("Published entry", held=False, crm_function=payments)
    return held, published


@pytest.fixture
def colleague(db):
    """An employee in the payments super-user's learner group who owns nothing."""
    return make_person("olga", Role.FINANCE_CLERK, group="operations")


@pytest.fixture
def other_function_super_user(db):
    person = make_person("wanda", Role.WAREHOUSE, group="warehouse")
    fulfilment = CrmFunction.objects.exclude(slug="payments").first()
    assert fulfilment is not None
    SuperUserAssignment.objects.create(person=person, crm_function=fulfilment)
    return person


def panel_entries(person, key: str = KEY) -> list[tuple[str, bool]]:
    panel = build_help_panel(viewer=person, key=key)
    return [(entry.question, entry.held) for entry in panel.faq_entries]


def test_owner_sees_held_entry_marked(entries, super_user):
    assert panel_entries(super_user) == [
        ("Held payments entry", True),
        ("Published entry", False),
    ]


def test_stand_in_sees_held_entry(entries, facilitator):
    assert panel_entries(facilitator) == [
        ("Held payments entry", True),
        ("Published entry", False),
    ]


def test_held_entry_without_function_is_stand_ins_only(
    payments, super_user, facilitator
):
    faq_entry("Held entry of no function", held=True)

    assert panel_entries(super_user) == []
    assert panel_entries(facilitator) == [("Held entry of no function", True)]


@pytest.mark.parametrize(
    "person", ["sales_rep", "outsider", "colleague", "other_function_super_user"]
)
def test_other_employees_never_see_it(entries, super_user, person, request):
    viewer = request.getfixturevalue(person)

    assert panel_entries(viewer) == [("Published entry", False)]


def test_customer_never_sees_it(entries, super_user, customer):
    # A customer reads only the portal's contexts.
    statement = HelpContext.objects.get(key="portal.statement")
    for entry in entries:
        entry.contexts.add(statement)

    assert panel_entries(customer, "portal.statement") == [("Published entry", False)]

    response = signed_in(customer).get(
        "/api/assist/help", {"context": "portal.statement"}
    )
    assert [item["question"] for item in response.json()["faq_entries"]] == [
        "Published entry"
    ]


def test_owner_panel_leaves_audience_cache_alone(entries, super_user, colleague):
    # Both are in the "operations" learner group, so they share one cached
    # panel. The owner asks first, so a held entry put into the cache would
    # reach the colleague.
    owner_page = signed_in(super_user).get(PANEL_URL)
    colleague_page = signed_in(colleague).get(PANEL_URL)

    assert HELD_BADGE in owner_page.content
    assert b"Held payments entry" in owner_page.content
    assert HELD_BADGE not in colleague_page.content
    assert b"Held payments entry" not in colleague_page.content
    assert b"Published entry" in colleague_page.content


def test_owner_json_marks_held_entry(entries, super_user, colleague):
    held, published = entries

    owner_body = signed_in(super_user).get(HELP_URL).content.decode()
    owner = json.loads(owner_body)
    other = signed_in(colleague).get(HELP_URL).json()

    # The body with held entries added is still what the schema writes.
    assert HelpOut.model_validate_json(owner_body).model_dump_json() == owner_body
    assert [(item["id"], item["held"]) for item in owner["faq_entries"]] == [
        (held.pk, True),
        (published.pk, False),
    ]
    assert [item["id"] for item in other["faq_entries"]] == [published.pk]


def test_owner_token_gets_no_held_entry(entries, super_user):
    _, published = entries
    issued = issue_token(owner=super_user, name="CRM", scopes=["help:read"])

    response = Client().get(HELP_URL, headers={"Authorization": f"Bearer {issued.raw}"})

    assert response.status_code == 200
    assert [item["id"] for item in response.json()["faq_entries"]] == [published.pk]


def test_entry_held_later_shows_to_owner_only(entries, super_user, colleague):
    _, published = entries
    assert panel_entries(super_user)[1] == ("Published entry", False)

    published.owners_only = True
    published.save()

    assert panel_entries(super_user) == [
        ("Published entry", True),
        ("Held payments entry", True),
    ]
    assert panel_entries(colleague) == []


def test_new_super_user_sees_held_entry(entries, colleague, payments):
    assert panel_entries(colleague) == [("Published entry", False)]

    SuperUserAssignment.objects.create(person=colleague, crm_function=payments)

    assert panel_entries(colleague)[0] == ("Held payments entry", True)


def test_cached_panel_queries_by_viewer(
    entries, super_user, colleague, django_assert_num_queries
):
    colleague_client = signed_in(colleague)
    owner_client = signed_in(super_user)
    for client in (colleague_client, owner_client):
        client.get(PANEL_URL)

    # session, user, help version: the non-owner's cached panel
    with django_assert_num_queries(3):
        page = colleague_client.get(PANEL_URL)
    assert b"Published entry" in page.content

    # the same, then one read of the owner's held entries
    with django_assert_num_queries(4):
        page = owner_client.get(PANEL_URL)
    assert HELD_BADGE in page.content


def test_owner_without_held_entries_costs_no_query(
    super_user, payments, django_assert_num_queries
):
    faq_entry("Published entry", held=False, crm_function=payments)
    client = signed_in(super_user)
    client.get(PANEL_URL)

    # session, user, help version: the held entries on the chain are cached
    # too, and there are none
    with django_assert_num_queries(3):
        page = client.get(PANEL_URL)
    assert b"Published entry" in page.content
