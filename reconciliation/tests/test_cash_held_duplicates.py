"""An invoice held as a possible duplicate takes no cash on the cash screen.

Named person: fiona (finance clerk). Hanari Carnes owes invoices of
1,332.00 and 1,402.00 USD (``build_trial``). The first has the reference
PO-77, and a third invoice of 1,332.00 on another order repeats it: the
matching pass holds that copy until a person decides its duplicate-invoice
case, and so does the cash screen.
"""

from decimal import Decimal

import pytest

from core.testing import messages_of, signed_in
from reconciliation import cash_work, work
from reconciliation.cash import suggest
from reconciliation.matching import match_order
from reconciliation.models import Allocation, Discrepancy, Invoice, Payment
from reconciliation.tests.factories import (
    create_invoice,
    create_order,
    create_shipment,
)
from reconciliation.tests.test_cash_tray import APPLY_URL, CASH_URL, build_trial

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _pinned_settings(settings):
    settings.RECONCILIATION_PAYMENT_TOLERANCE = "0.01"
    settings.RECONCILIATION_WRITE_OFF_LIMIT = "50.00"


def build_held(*, amount: str = "2714.00") -> tuple[Payment, Invoice, Invoice]:
    """Return the payment, the original invoice and its held copy."""
    payment, first, _ = build_trial(amount=amount)
    Invoice.objects.filter(pk=first.pk).update(reference="PO-77")
    first.refresh_from_db()
    order = create_order(
        lines=[("1", "1332.00")], company=payment.company, customer=payment.party
    )
    create_shipment(order=order)
    copy = create_invoice(order=order, reference="po-77")
    return payment, first, copy


def held_message(payment: Payment, copy: Invoice, first: Invoice, case=None) -> str:
    why = (
        f"Invoice {copy.number} is held as a possible duplicate of invoice "
        f"{first.number} (same customer and reference 'po-77'), so payment "
        f"{payment.number} cannot be allocated to it"
    )
    if case is None:
        return (
            f"{why}: allocate the payment to invoice {first.number}, or wait for "
            "the next matching pass to open the duplicate-invoice case and decide "
            "it first."
        )
    return (
        f"{why}: allocate the payment to invoice {first.number}, or decide "
        f"duplicate-invoice case {case.pk} first."
    )


def duplicate_case(copy: Invoice) -> Discrepancy:
    assert copy.order is not None
    match_order(copy.order)
    return Discrepancy.objects.get(invoice=copy, code="DUPLICATE_INVOICE")


def test_suggestions_leave_out_held_copy():
    payment, first, copy = build_held(amount="1332.00")

    ranked = suggest(payment, Decimal("1332.00"))

    offered = {invoice for s in ranked for invoice, _ in s.lines}
    assert first in offered
    assert copy not in offered
    [exact] = [s for s in ranked if s.lines[0][0] == first]
    assert exact.rules == ("cash.exact_amount@1",)


def test_open_list_marks_held_copy_with_case_link(clerk):
    payment, first, copy = build_held()
    case = duplicate_case(copy)

    page = signed_in(clerk).get(CASH_URL, {"payment": payment.pk})

    rows = {row[0]: row[3] for row in page.context["invoice_rows"]}
    assert rows[first] is None
    held = rows[copy]
    assert (held.original.number, held.case_number) == (first.number, str(case.pk))
    html = page.content.decode()
    assert (
        f"Possible duplicate of invoice {first.number}: same customer and "
        "reference po-77. It takes no cash until its duplicate-invoice case is "
        f'decided: <a href="/reconciliation/cases/{case.pk}/">case {case.pk}</a>.'
    ) in html
    assert f'aria-label="Amount for {copy.number}"' not in html
    assert f'aria-label="Amount for {first.number}"' in html


def test_apply_cash_refuses_held_copy(clerk):
    payment, first, copy = build_held()
    case = duplicate_case(copy)

    with pytest.raises(work.WorkError) as raised:
        cash_work.apply_cash(
            actor=clerk,
            payment_id=payment.pk,
            invoice_id=copy.pk,
            amount=Decimal("100.00"),
        )

    assert str(raised.value) == held_message(payment, copy, first, case)
    assert not Allocation.objects.exists()


def test_allocate_button_refuses_held_copy_before_its_case(clerk):
    payment, first, copy = build_held()

    response = signed_in(clerk).post(
        APPLY_URL, {"payment": payment.pk, "invoice": copy.pk, "amount": "100.00"}
    )

    assert messages_of(response) == [held_message(payment, copy, first)]
    assert not Allocation.objects.exists()


def test_add_to_tray_refuses_held_copy(clerk):
    payment, first, copy = build_held()
    case = duplicate_case(copy)

    response = signed_in(clerk).post(
        APPLY_URL,
        {
            "payment": payment.pk,
            "invoice": copy.pk,
            "amount": "1332.00",
            "add": "1",
            "tray": [f"{first.pk}:1332.00"],
        },
    )

    assert messages_of(response) == [held_message(payment, copy, first, case)]
    assert [line.invoice for line in response.context["tray_lines"]] == [first]


def test_tray_with_held_copy_cannot_confirm(clerk):
    payment, first, copy = build_held()
    case = duplicate_case(copy)
    client = signed_in(clerk)

    query: dict[str, int | list[str]] = {
        "payment": payment.pk,
        "tray": [f"{first.pk}:1332.00", f"{copy.pk}:1.00"],
    }
    page = client.get(CASH_URL, query)
    [_, line] = page.context["tray_lines"]
    assert line.error == held_message(payment, copy, first, case)
    assert page.context["tray_ok"] is False

    with pytest.raises(work.WorkError) as raised:
        cash_work.apply_tray(
            actor=clerk,
            payment_id=payment.pk,
            lines=[(first.pk, Decimal("1332.00")), (copy.pk, Decimal("1.00"))],
        )
    assert str(raised.value) == held_message(payment, copy, first, case)
    assert not Allocation.objects.exists()


def test_decided_case_keeps_copy_held(clerk):
    payment, first, copy = build_held()
    case = duplicate_case(copy)
    Discrepancy.objects.filter(pk=case.pk).update(state=Discrepancy.State.REJECTED)

    with pytest.raises(work.WorkError) as raised:
        cash_work.apply_cash(
            actor=clerk,
            payment_id=payment.pk,
            invoice_id=copy.pk,
            amount=Decimal("100.00"),
        )

    assert str(raised.value) == (
        f"Invoice {copy.number} is held as a possible duplicate of invoice "
        f"{first.number} (same customer and reference 'po-77'), so payment "
        f"{payment.number} cannot be allocated to it: duplicate-invoice case "
        f"{case.pk} is decided, but the invoice still repeats the reference of "
        f"invoice {first.number}. Cancel the copy, or allocate the payment to "
        f"invoice {first.number}."
    )
    assert not Allocation.objects.exists()
    page = signed_in(clerk).get(CASH_URL, {"payment": payment.pk})
    assert (
        "Its duplicate-invoice case is decided (<a "
        f'href="/reconciliation/cases/{case.pk}/">case {case.pk}</a>), but it '
        "still repeats that reference, so it takes no cash until the copy is "
        "cancelled."
    ) in page.content.decode()


def test_cancelled_copy_is_no_longer_held(clerk):
    payment, first, copy = build_held(amount="1332.00")
    duplicate_case(copy)
    Invoice.objects.filter(pk=copy.pk).update(state=Invoice.State.CANCELLED)

    allocation = cash_work.apply_cash(
        actor=clerk, payment_id=payment.pk, invoice_id=first.pk, amount=Decimal("1332")
    )

    assert allocation.invoice == first
    assert cash_work.held_duplicates(payment) == {}
