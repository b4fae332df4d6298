"""The record a help panel's question names: the ask, the page, the API.

The people are one of each role. Fiona is a finance clerk, Mona a manager
(the finance manager who approves write-offs) and Wanda a warehouse worker.
Sally is a sales representative and Carla a contact of the customer Alfreds
Futterkiste. Bruno, the outsider, is a contact of another customer (Bon
app'). The records all belong to Alfreds Futterkiste's business: order
10250, its invoice INV-10250, payment PAY-0042 and vendor bill BILL-1.
"""

import html
import re
from datetime import date
from decimal import Decimal
from typing import Any

import pytest
from django.test import Client

from accounts.models import Role, SuperUserAssignment, User
from answers.models import Question
from answers.services.questions import create_question
from assist.models import HelpContext
from assist.services import ask_and_route
from conftest import make_person
from notifications.models import Notification
from reconciliation.models import (
    Party,
    Payment,
    PurchaseOrder,
    PurchaseOrderLine,
    VendorBill,
)
from reconciliation.tests.factories import (
    ProductFactory,
    create_invoice,
    create_order,
    create_shipment,
)

pytestmark = pytest.mark.django_db

SHORT_PAYMENT = "reconciliation.order.short_payment"
# Customers may ask only from portal screens, so their asks use this one.
PORTAL_ORDER = "portal.order"


def screen_for(person: User) -> str:
    return PORTAL_ORDER if person.is_external else SHORT_PAYMENT


ORDER, INVOICE, PAYMENT, BILL = "10250", "INV-10250", "PAY-0042", "BILL-1"
KINDS = {
    "order": ORDER,
    "invoice": INVOICE,
    "payment": PAYMENT,
    "vendor_bill": BILL,
}
PEOPLE = ("fiona", "mona", "wanda", "sally", "carla", "bruno")

# Which kinds each person may see, by that kind's one visibility rule.
SEES = {
    "fiona": {"order", "invoice", "payment", "vendor_bill"},
    "mona": {"order", "invoice", "payment", "vendor_bill"},
    "wanda": {"order", "invoice", "vendor_bill"},
    "sally": {"order", "invoice"},
    # Carla's company made the payment; her statement lists it.
    "carla": {"order", "invoice", "payment"},
    "bruno": set(),
}
MATRIX = [(name, kind) for name in PEOPLE for kind in KINDS]


@pytest.fixture
def people(customer_party, other_party) -> dict[str, User]:
    return {
        "fiona": make_person("fiona", Role.FINANCE_CLERK, group="operations"),
        "mona": make_person("mona", Role.MANAGER),
        "wanda": make_person("wanda", Role.WAREHOUSE, group="warehouse"),
        "sally": make_person("sally", Role.SALES_REP, group="sales"),
        "carla": make_person(
            "carla", Role.CUSTOMER, customer=customer_party, group="customers"
        ),
        "bruno": make_person(
            "bruno", Role.CUSTOMER, customer=other_party, group="customers"
        ),
    }


@pytest.fixture
def records(company, customer_party, people) -> dict[str, Any]:
    order = create_order(
        company=company,
        customer=customer_party,
        number=ORDER,
        sales_rep=people["sally"],
    )
    create_shipment(order=order)
    invoice = create_invoice(order=order, number=INVOICE)
    payment = Payment.objects.create(
        company=company,
        number=PAYMENT,
        party=customer_party,
        currency_id="USD",
        amount=Decimal("10.00"),
        amount_unallocated=Decimal("10.00"),
        value_date=date(2024, 3, 20),
    )
    vendor = Party.objects.create(
        company=company, code="EXOTL", name="Exotic Liquids", currency_id="USD"
    )
    purchase_order = PurchaseOrder.objects.create(
        company=company,
        number="PO-1001",
        vendor=vendor,
        currency_id="USD",
        order_date=date(2024, 3, 1),
        promised_date=date(2099, 12, 31),
    )
    PurchaseOrderLine.objects.create(
        order=purchase_order,
        line_no=1,
        product=ProductFactory.create(company=company, sku="CHAI", name="Chai"),
        qty_ordered=Decimal("10"),
        unit_price=Decimal("18.00"),
    )
    bill = VendorBill.objects.create(
        company=company,
        number=BILL,
        vendor=vendor,
        purchase_order=purchase_order,
        supplier_ref="EL-77",
        currency_id="USD",
        bill_date=date(2024, 3, 12),
    )
    return {"order": order, "invoice": invoice, "payment": payment, "bill": bill}


@pytest.fixture
def spaces(payments_community, customer_community):
    return {"payments": payments_community, "customers": customer_community}


def signed_in(person: User) -> Client:
    client = Client()
    client.force_login(person)
    return client


def ask(person: User, kind: str, ref: str):
    return signed_in(person).post(
        "/assist/ask/",
        {
            "context": screen_for(person),
            "title": "Which invoice does this settle?",
            "record_kind": kind,
            "record_ref": ref,
        },
        HTTP_HX_REQUEST="true",
    )


def alert_text(response) -> str:
    match = re.search(r'role="alert">(.*?)</p>', response.content.decode(), re.S)
    return html.unescape(match.group(1)) if match else ""


# The ask


@pytest.mark.parametrize(("name", "kind"), MATRIX)
def test_ask_checks_kind_rule(people, records, spaces, name, kind):
    response = ask(people[name], kind, KINDS[kind])

    if kind in SEES[name]:
        assert response.status_code == 200, alert_text(response)
        question = Question.objects.get()
        assert question.record_kind == kind
        assert question.record_ref == KINDS[kind]
    else:
        assert response.status_code == 422
        assert repr(KINDS[kind]) in alert_text(response)
        assert Question.objects.count() == 0
        assert Notification.objects.count() == 0


@pytest.mark.parametrize(
    ("kind", "message"),
    [
        (
            "payment",
            "Payment 'PAY-0042' is not among the payments you can see: ask "
            "from a screen that shows it to you, or ask without it.",
        ),
        (
            "vendor_bill",
            "Vendor bill 'BILL-1' is not among the vendor bills you can see: "
            "ask from a screen that shows it to you, or ask without it.",
        ),
        (
            "order",
            "Order '10250' is not among the orders you can see: ask from the "
            "order's own page.",
        ),
    ],
)
def test_refusal_names_record(people, records, spaces, kind, message):
    response = ask(people["bruno"], kind, KINDS[kind])

    assert alert_text(response) == message


def test_missing_record_is_refused(people, records, spaces):
    response = ask(people["fiona"], "payment", "PAY-9999")

    assert response.status_code == 422
    assert "'PAY-9999' is not among the payments" in alert_text(response)
    assert Question.objects.count() == 0


def test_unknown_kind_is_refused(people, records, spaces):
    response = ask(people["fiona"], "shipment", "SH-1")

    assert response.status_code == 422
    assert alert_text(response) == (
        "Unknown record kind 'shipment': use order, payment, invoice, "
        "vendor_bill or purchase_order, or reload the page and ask again."
    )
    assert Question.objects.count() == 0


def test_number_without_kind_is_order(people, records, spaces):
    response = ask(people["sally"], "", ORDER)

    assert response.status_code == 200
    question = Question.objects.get()
    assert (question.record_kind, question.record_ref) == ("order", ORDER)


def test_kind_without_number_is_no_record(people, records, spaces):
    response = ask(people["fiona"], "payment", "")

    assert response.status_code == 200
    question = Question.objects.get()
    assert (question.record_kind, question.record_ref) == ("", "")


def test_repeat_with_other_kind_is_new(people, records, spaces):
    """A payment and an order with the same number make two questions."""
    fiona = people["fiona"]
    Payment.objects.filter(pk=records["payment"].pk).update(number=ORDER)

    first = ask_and_route(
        asker=fiona,
        context_key=SHORT_PAYMENT,
        title="Which invoice?",
        body="",
        record_kind="order",
        record_ref=ORDER,
    )
    second = ask_and_route(
        asker=fiona,
        context_key=SHORT_PAYMENT,
        title="Which invoice?",
        body="",
        record_kind="payment",
        record_ref=ORDER,
    )

    assert second.repeated is False
    assert first.question.pk != second.question.pk


# The question page and the API


@pytest.fixture
def questions(people, records, spaces) -> dict[str, Question]:
    """One question per kind, in the customer space that all six may read."""
    context = HelpContext.objects.get(key=SHORT_PAYMENT)
    return {
        kind: create_question(
            author=people["fiona"],
            community=spaces["customers"],
            title=f"A question about a record of kind {kind}",
            context=context,
            record_kind=kind,
            record_ref=ref,
        )
        for kind, ref in KINDS.items()
    }


def expected_url(name: str, kind: str, records: dict[str, Any]) -> str:
    if kind == "payment":
        # The clerk opens it on the cash screen and the customer on her
        # statement. It is applied to no order, so no order page shows it.
        if name == "carla":
            return "/reconciliation/portal/statement/"
        if name != "fiona":
            return ""
        return f"/reconciliation/work/cash/?payment={records['payment'].pk}"
    if kind == "vendor_bill":
        return f"/reconciliation/work/purchasing/bills/{BILL}/"
    return f"/reconciliation/orders/{ORDER}/"


LABELS = {
    "order": f"order {ORDER}",
    "invoice": f"invoice {INVOICE}",
    "payment": f"payment {PAYMENT}",
    "vendor_bill": f"vendor bill {BILL}",
}


@pytest.mark.parametrize(("name", "kind"), MATRIX)
def test_page_names_record_to_viewers(people, records, questions, name, kind):
    question = questions[kind]
    response = signed_in(people[name]).get(f"/questions/{question.pk}/")

    assert response.status_code == 200
    page = response.content.decode()
    if kind not in SEES[name]:
        assert KINDS[kind] not in page
        assert 'data-testid="question-record"' not in page
        return
    url = expected_url(name, kind, records)
    if url:
        assert f'<a href="{html.escape(url)}" data-testid="question-record"' in page
    else:
        assert '<span data-testid="question-record"' in page
    assert f"{LABELS[kind]}</" in page


@pytest.mark.parametrize(("name", "kind"), MATRIX)
def test_api_names_record_to_viewers(people, records, questions, name, kind):
    question = questions[kind]
    response = signed_in(people[name]).get(f"/api/answers/questions/{question.pk}")

    assert response.status_code == 200
    body = response.json()
    if kind in SEES[name]:
        assert (body["record_kind"], body["record_ref"]) == (kind, KINDS[kind])
    else:
        assert (body["record_kind"], body["record_ref"]) == ("", "")
        assert KINDS[kind] not in response.content.decode()


def test_invoice_without_order_links_nowhere(people, records, spaces):
    """An employee reads the number of an invoice that no order page lists."""
    invoice = records["invoice"]
    type(invoice).objects.filter(pk=invoice.pk).update(order=None)
    question = create_question(
        author=people["fiona"],
        community=spaces["customers"],
        title="Who raised this invoice?",
        record_kind="invoice",
        record_ref=INVOICE,
    )

    employee = signed_in(people["sally"]).get(f"/questions/{question.pk}/")
    customer = signed_in(people["carla"]).get(f"/questions/{question.pk}/")

    assert (
        f'<span data-testid="question-record" data-kind="invoice">invoice {INVOICE}</span>'
        in employee.content.decode()
    )
    assert (
        'href="/reconciliation/portal/statement/" data-testid="question-record"'
        in customer.content.decode()
    )


# The notification


def test_notification_names_record_to_viewers(people, records, spaces, payments):
    """A payments super-user who may not see payments gets no number."""
    fiona, sally = people["fiona"], people["sally"]
    for person in (fiona, sally):
        SuperUserAssignment.objects.create(person=person, crm_function=payments)
    clerk = make_person("petra", Role.FINANCE_CLERK, group="operations")

    ask_and_route(
        asker=clerk,
        context_key=SHORT_PAYMENT,
        title="Which invoice does this settle?",
        body="",
        record_kind="payment",
        record_ref=PAYMENT,
    )

    messages = {
        item.recipient.username: item.message
        for item in Notification.objects.select_related("recipient")
    }
    assert messages == {
        "fiona": f"Petra Tester asked on payment {PAYMENT}: Which invoice does this settle?",
        "sally": "Petra Tester asked: Which invoice does this settle?",
    }


# The embedded panel, which another tool opens with any record number


def embed_page(person: User, kind: str, ref: str) -> str:
    response = signed_in(person).get(
        "/assist/embed/",
        {"context": screen_for(person), "record_kind": kind, "record": ref},
    )
    assert response.status_code == 200
    return response.content.decode()


def hidden_value(page: str, name: str) -> str:
    match = re.search(rf'name="{name}" value="([^"]*)"', page)
    assert match, f"no hidden field {name}"
    return html.unescape(match.group(1))


@pytest.mark.parametrize(("name", "kind"), MATRIX)
def test_embed_offers_only_visible_record(people, records, spaces, name, kind):
    page = embed_page(people[name], kind, KINDS[kind])
    label = f"{Question.RecordKind(kind).label} {KINDS[kind]}"

    if kind in SEES[name]:
        assert f"This question will name {label[0].lower()}{label[1:]}." in page
        assert 'data-testid="ask-record-withheld"' not in page
        assert hidden_value(page, "record_ref") == KINDS[kind]
        assert hidden_value(page, "record_kind") == kind
    else:
        assert "This question will name" not in page
        assert f"{label} is not one of the records you can see" in page
        assert hidden_value(page, "record_ref") == ""
        assert hidden_value(page, "record_kind") == ""


def test_embed_ask_without_hidden_record(people, records, spaces):
    """The ask the panel builds for a record the asker may not see goes through."""
    page = embed_page(people["bruno"], "order", ORDER)

    response = ask(
        people["bruno"],
        hidden_value(page, "record_kind"),
        hidden_value(page, "record_ref"),
    )

    assert response.status_code == 200, alert_text(response)
    question = Question.objects.get()
    assert (question.record_kind, question.record_ref) == ("", "")


def test_embed_missing_record_reads_as_hidden(people, records, spaces):
    page = embed_page(people["fiona"], "order", "SO-99999")

    assert "Order SO-99999 is not one of the records you can see" in page
    assert hidden_value(page, "record_ref") == ""


def test_embed_unknown_kind_names_no_record(people, records, spaces):
    page = embed_page(people["fiona"], "shipment", "SH-1")

    assert "Record SH-1 is not one of the records you can see" in page
    assert hidden_value(page, "record_ref") == ""


def test_panel_view_checks_record(people, records, spaces):
    response = signed_in(people["bruno"]).get(
        "/assist/panel/",
        {"context": PORTAL_ORDER, "record_kind": "order", "record": ORDER},
    )

    page = response.content.decode()
    assert response.status_code == 200
    assert "This question will name" not in page
    assert hidden_value(page, "record_ref") == ""
