"""Invoices whose numbers share a reference key, and the payments that name them.

``INV-1-0248`` and ``INV-10248`` have one key, ``inv10248``. A payment whose
reference has that key is placed by its exact text when that text is one
invoice's number or reference. Otherwise it stays unplaced, and its case
names every invoice it could pay. The whole-company pass and one new
payment (``cash.match_payment``) follow the same rule.
"""

from datetime import date
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from reconciliation.cash import match_payment
from reconciliation.matching import build_context, run_matching
from reconciliation.models import (
    Allocation,
    Company,
    Discrepancy,
    Invoice,
    Party,
    Payment,
)
from reconciliation.tests.factories import (
    CompanyFactory,
    PartyFactory,
    PaymentFactory,
    create_invoice,
    create_order,
    create_payment,
    create_shipment,
)

pytestmark = pytest.mark.django_db

AS_OF = date(2024, 6, 30)


@pytest.fixture(autouse=True)
def _pinned_settings(settings):
    settings.RECONCILIATION_LATE_DAYS = 0
    settings.RECONCILIATION_PAYMENT_TOLERANCE = "0.01"


def invoice_numbered(
    number: str, customer: Party, price: str = "100.00", reference: str = ""
) -> Invoice:
    order = create_order(customer=customer, lines=[("1", price)])
    create_shipment(order=order)
    return create_invoice(order=order, number=number, reference=reference)


def pay(
    company: Company,
    reference: str,
    amount: str = "100.00",
    party: Party | None = None,
) -> Payment:
    return PaymentFactory.create(
        company=company, party=party, amount=Decimal(amount), reference=reference
    )


def placed(payment: Payment) -> list[tuple[str, Decimal]]:
    rows = Allocation.objects.filter(payment=payment).select_related("invoice")
    return sorted((row.invoice.number, row.amount) for row in rows.order_by("pk"))


def unapplied_text(payment: Payment) -> str:
    case = Discrepancy.objects.get(payment=payment, code="UNAPPLIED_PAYMENT")
    return case.explanation


def new_payment(payment: Payment) -> list[str]:
    """Run the cash rules on ``payment`` alone; return the findings' texts."""
    context = build_context(payment.company, AS_OF)
    results = match_payment(payment=payment, context=context)
    return [finding.explanation for finding in results.findings]


AMBIGUOUS = (
    "Its reference fits invoices INV-1-0248 and INV-10248 alike, so no rule "
    "chose one: allocate it by hand to the invoice the payer meant."
)


@pytest.fixture
def company():
    return CompanyFactory.create()


@pytest.fixture
def customer(company):
    return PartyFactory.create(company=company)


@pytest.fixture
def pair(customer):
    """Two open invoices of 100.00 whose numbers share the key ``inv10248``."""
    return (
        invoice_numbered("INV-10248", customer),
        invoice_numbered("INV-1-0248", customer),
    )


@pytest.mark.parametrize(
    ("reference", "number"),
    [
        ("INV-10248", "INV-10248"),
        ("  inv-10248 ", "INV-10248"),
        ("INV-1-0248", "INV-1-0248"),
        ("Inv-1-0248", "INV-1-0248"),
        ("INV\u20131\u20130248", "INV-1-0248"),  # en dashes
        ("\uff29\uff2e\uff36\uff0d\uff11\uff10\uff12\uff14\uff18", "INV-10248"),
    ],
)
def test_pass_places_exact_reference(company, pair, reference, number):
    payment = pay(company, reference)

    run_matching(company=company, as_of=AS_OF)

    assert placed(payment) == [(number, Decimal("100.00"))]
    assert not Discrepancy.objects.filter(payment=payment).exists()


@pytest.mark.parametrize(
    ("reference", "number"),
    [("INV-10248", "INV-10248"), (" inv-1-0248", "INV-1-0248")],
)
def test_new_payment_places_exact_reference(company, pair, reference, number):
    payment = pay(company, reference)

    assert new_payment(payment) == []

    assert placed(payment) == [(number, Decimal("100.00"))]


@pytest.mark.parametrize("reference", ["inv 10248", "INV10248", "inv/1/0248"])
def test_pass_leaves_shared_key_unplaced(company, pair, reference):
    payment = pay(company, reference)

    run_matching(company=company, as_of=AS_OF)

    assert placed(payment) == []
    assert unapplied_text(payment).endswith(AMBIGUOUS)
    assert f"(reference {reference!r})" in unapplied_text(payment)


def test_new_payment_leaves_shared_key_unplaced(company, pair):
    payment = pay(company, "inv 10248")

    texts = new_payment(payment)

    assert placed(payment) == []
    assert len(texts) == 1
    assert texts[0].endswith(AMBIGUOUS)


def test_shared_key_stops_amount_rules(company, customer, pair):
    # A third invoice of the payer owes exactly the amount, but the payer
    # named one of the pair, so the exact-amount rule must not take it.
    invoice_numbered("INV-20000", customer, price="55.00")
    payment = pay(company, "inv 10248", amount="55.00", party=customer)

    run_matching(company=company, as_of=AS_OF)

    assert placed(payment) == []
    assert unapplied_text(payment).endswith(AMBIGUOUS)


def test_payer_narrows_shared_key(company, customer):
    other = PartyFactory.create(company=company)
    invoice_numbered("INV-10248", other)
    mine = invoice_numbered("INV-1-0248", customer)
    payment = pay(company, "inv 10248", party=customer)

    run_matching(company=company, as_of=AS_OF)

    assert placed(payment) == [(mine.number, Decimal("100.00"))]


def test_three_invoices_listed(company, customer, pair):
    invoice_numbered("INV-102-48", customer)
    payment = pay(company, "inv10248")

    run_matching(company=company, as_of=AS_OF)

    assert placed(payment) == []
    assert unapplied_text(payment).endswith(
        "Its reference fits invoices INV-1-0248, INV-102-48 and INV-10248 alike, "
        "so no rule chose one: allocate it by hand to the invoice the payer meant."
    )


def test_invoice_reference_counts_as_exact(company, customer):
    invoice_numbered("INV-1", customer, reference="PO 10248")
    other = invoice_numbered("INV-2", customer, reference="PO-10248")
    payment = pay(company, "po-10248")

    run_matching(company=company, as_of=AS_OF)

    assert placed(payment) == [(other.number, Decimal("100.00"))]


def test_number_and_reference_alike_unplaced(company, customer):
    # The text is one invoice's number and the other's reference.
    invoice_numbered("INV-10248", customer)
    invoice_numbered("INV-1-0248", customer, reference="inv-10248")
    payment = pay(company, "INV-10248")

    run_matching(company=company, as_of=AS_OF)

    assert placed(payment) == []
    assert unapplied_text(payment).endswith(AMBIGUOUS)


@pytest.mark.parametrize("path", ["pass", "new payment"])
def test_paid_invoice_keeps_its_payments(company, customer, path):
    # INV-10248 is paid. A second payment that names it exactly is not
    # placed on INV-1-0248, which shares its key and is still open.
    paid = invoice_numbered("INV-10248", customer)
    create_payment(invoice=paid, amount="100.00")
    waiting = invoice_numbered("INV-1-0248", customer)
    payment = pay(company, "INV-10248")

    if path == "pass":
        run_matching(company=company, as_of=AS_OF)
    else:
        new_payment(payment)

    assert placed(payment) == []
    waiting.refresh_from_db()
    assert waiting.amount_residual == Decimal("100.00")


@pytest.mark.parametrize("path", ["pass", "new payment"])
def test_paid_invoice_shared_key_unplaced(company, customer, path):
    paid = invoice_numbered("INV-10248", customer)
    create_payment(invoice=paid, amount="100.00")
    invoice_numbered("INV-1-0248", customer)
    payment = pay(company, "inv 10248")

    if path == "pass":
        run_matching(company=company, as_of=AS_OF)
        texts = [unapplied_text(payment)]
    else:
        texts = new_payment(payment)

    assert placed(payment) == []
    assert texts[0].endswith(AMBIGUOUS)


def test_rest_of_payment_stays_off_sibling(company, pair):
    # 150.00 naming INV-10248 pays it in full; the 50.00 left over is not
    # placed on INV-1-0248 just because the two share a key.
    payment = pay(company, "INV-10248", amount="150.00")

    run_matching(company=company, as_of=AS_OF)

    assert placed(payment) == [("INV-10248", Decimal("100.00"))]
    payment.refresh_from_db()
    assert payment.amount_unallocated == Decimal("50.00")
    assert Discrepancy.objects.filter(payment=payment, code="OVER_PAYMENT").exists()


def test_second_pass_places_nothing_more(company, pair):
    payment = pay(company, "INV-10248", amount="150.00")
    run_matching(company=company, as_of=AS_OF)

    summary = run_matching(company=company, as_of=AS_OF)

    assert placed(payment) == [("INV-10248", Decimal("100.00"))]
    assert summary.opened == 0
    assert summary.updated == 0


def held_copy(customer: Party, number: str, reference: str) -> tuple[Invoice, Invoice]:
    """Return a paid invoice and a later copy of it, held as its duplicate."""
    original = invoice_numbered("INV-7000", customer, reference=reference)
    create_payment(invoice=original, amount="100.00")
    assert original.order is not None
    copy = create_invoice(order=original.order, number=number, reference=reference)
    return original, copy


@pytest.mark.parametrize("path", ["pass", "new payment"])
def test_held_copy_named_exactly_is_explained(company, customer, path):
    # The copy INV-10248 is held as a duplicate; INV-1-0248 shares its key.
    _, copy = held_copy(customer, "INV-10248", "PO-7")
    invoice_numbered("INV-1-0248", customer)
    payment = pay(company, "INV-10248", party=customer)

    if path == "pass":
        run_matching(company=company, as_of=AS_OF)
        text = unapplied_text(payment)
    else:
        [text] = new_payment(payment)

    assert placed(payment) == []
    assert text.endswith(
        f"Its reference names invoice {copy.number}, which is held as a possible "
        "duplicate of INV-7000: decide the duplicate-invoice case first, and the "
        "next check applies the payment."
    )


def test_held_copy_in_shared_key_listed(company, customer):
    held_copy(customer, "INV-10248", "PO-7")
    invoice_numbered("INV-1-0248", customer)
    payment = pay(company, "inv 10248", party=customer)

    run_matching(company=company, as_of=AS_OF)

    assert placed(payment) == []
    assert unapplied_text(payment).endswith(AMBIGUOUS)


def test_shared_reference_of_copy_pays_original(company, customer):
    # Original and held copy share the reference PO-7, so a payment of PO-7
    # goes to the open original as before: the copy only repeats it.
    original = invoice_numbered("INV-7000", customer, reference="PO-7")
    assert original.order is not None
    create_invoice(order=original.order, number="INV-7001", reference="PO-7")
    payment = pay(company, "po 7", party=customer)

    run_matching(company=company, as_of=AS_OF)

    assert placed(payment) == [("INV-7000", Decimal("100.00"))]


def queries_of_shared_key(count: int) -> int:
    """Run one new payment whose key names ``count`` invoices; count queries."""
    company = CompanyFactory.create()
    customer = PartyFactory.create(company=company)
    numbers = ["INV-10248", *(f"INV-1{'-' * n}0248" for n in range(1, count))]
    for number in numbers:
        invoice_numbered(number, customer)
    payment = pay(company, "inv 10248", party=customer)
    context = build_context(company, AS_OF)

    with CaptureQueriesContext(connection) as captured:
        results = match_payment(payment=payment, context=context)

    assert [finding.code for finding in results.findings] == ["UNAPPLIED_PAYMENT"]
    return len(captured.captured_queries)


def test_shared_key_queries_do_not_grow():
    assert queries_of_shared_key(2) == queries_of_shared_key(8)
