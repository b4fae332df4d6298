"""One visibility rule for a payment, on the order page and the help surfaces.

Margaret is a sales representative and Paula a finance clerk (the payments
super-user). Alfki is a contact of the customer Alfreds Futterkiste and
Wandk a contact of another customer, Die Wandernde Kuh. Otto, the outsider,
is a warehouse worker. Order SO-10348 belongs to Alfreds Futterkiste; its
invoice is paid by PAY-10348. PAY-20001 is a second payment of Alfreds
Futterkiste, applied to nothing yet.
"""

import html
import re
from datetime import date
from decimal import Decimal

import pytest
from django.test import Client

from accounts.models import Role, SuperUserAssignment, User
from answers.models import Question
from assist.services import ask_and_route
from conftest import make_person
from notifications.models import Notification
from reconciliation.models import Party, Payment
from reconciliation.selectors import visible_payments
from reconciliation.tests.factories import (
    create_invoice,
    create_order,
    create_payment,
    create_shipment,
)

pytestmark = pytest.mark.django_db

ORDER, APPLIED, UNAPPLIED = "SO-10348", "PAY-10348", "PAY-20001"
SHORT_PAYMENT = "reconciliation.order.short_payment"


@pytest.fixture
def people(customer_party, company) -> dict[str, User]:
    wandernde = Party.objects.create(
        company=company, code="WANDK", name="Die Wandernde Kuh", currency_id="USD"
    )
    return {
        "margaret": make_person("margaret", Role.SALES_REP, group="sales"),
        "paula": make_person("paula", Role.FINANCE_CLERK, group="operations"),
        "otto": make_person("otto", Role.WAREHOUSE, group="warehouse"),
        "alfki": make_person(
            "alfki", Role.CUSTOMER, customer=customer_party, group="customers"
        ),
        "wandk": make_person(
            "wandk", Role.CUSTOMER, customer=wandernde, group="customers"
        ),
    }


@pytest.fixture
def order(company, customer_party, people):
    order = create_order(
        company=company,
        customer=customer_party,
        number=ORDER,
        sales_rep=people["margaret"],
    )
    create_shipment(order=order)
    invoice = create_invoice(order=order, number="INV-10348")
    create_payment(invoice=invoice, amount="10.00", number=APPLIED)
    Payment.objects.create(
        company=company,
        number=UNAPPLIED,
        party=customer_party,
        currency_id="USD",
        amount=Decimal("5.00"),
        amount_unallocated=Decimal("5.00"),
        value_date=date(2024, 3, 20),
    )
    return order


def signed_in(person: User) -> Client:
    client = Client()
    client.force_login(person)
    return client


def panel_names(person: User, ref: str) -> bool:
    """Return whether the embedded panel's ask would name payment ``ref``."""
    context = "portal.statement" if person.is_external else SHORT_PAYMENT
    response = signed_in(person).get(
        "/assist/embed/",
        {"context": context, "record_kind": "payment", "record": ref},
    )
    assert response.status_code == 200
    page = response.content.decode()
    named = f"This question will name payment {ref}." in page
    withheld = f"Payment {ref} is not one of the records you can see" in page
    assert named != withheld
    return named


# Who may see each payment, by the one rule.
SEES = {
    "margaret": {APPLIED},
    "otto": {APPLIED},
    "paula": {APPLIED, UNAPPLIED},
    "alfki": {APPLIED, UNAPPLIED},
    "wandk": set(),
}


@pytest.mark.parametrize("name", sorted(SEES))
def test_rule_lists_payments(people, order, name):
    numbers = set(visible_payments(people[name]).values_list("number", flat=True))

    assert numbers == SEES[name]


@pytest.mark.parametrize("name", sorted(SEES))
@pytest.mark.parametrize("ref", [APPLIED, UNAPPLIED])
def test_panel_names_payment_by_the_rule(people, order, name, ref):
    assert panel_names(people[name], ref) == (ref in SEES[name])


@pytest.mark.parametrize("name", ["margaret", "otto", "paula"])
def test_order_page_lists_only_visible_payments(people, order, name):
    """Every payment the order page names passes the rule, and the panel agrees."""
    page = signed_in(people[name]).get(f"/reconciliation/orders/{ORDER}/")

    assert page.status_code == 200
    listed = set(re.findall(r"Payment (PAY-\d+) on", page.content.decode()))
    assert listed == {APPLIED}
    assert listed <= set(
        visible_payments(people[name]).values_list("number", flat=True)
    )
    assert all(panel_names(people[name], ref) for ref in listed)


def test_margaret_asks_about_payment_on_her_order(
    people, order, payments, payments_community
):
    """The sales rep's question names the payment, and she gets its order page."""
    SuperUserAssignment.objects.create(person=people["paula"], crm_function=payments)

    ask_and_route(
        asker=people["margaret"],
        context_key=SHORT_PAYMENT,
        title="Why is this invoice short?",
        body="",
        record_kind="payment",
        record_ref=APPLIED,
    )

    question = Question.objects.get()
    assert (question.record_kind, question.record_ref) == ("payment", APPLIED)
    notice = Notification.objects.get(recipient=people["paula"])
    assert f"on payment {APPLIED}" in notice.message
    page = signed_in(people["margaret"]).get(f"/questions/{question.pk}/")
    link = re.search(
        r'<a href="([^"]*)" data-testid="question-record"', page.content.decode()
    )
    assert link and html.unescape(link.group(1)) == f"/reconciliation/orders/{ORDER}/"
