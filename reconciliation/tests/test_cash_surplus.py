"""Writing off what a tray leaves on a payment that paid a little too much.

Named person: fiona (finance clerk). Hanari Carnes owes invoices of
1,332.00 and 1,402.00 USD (``build_trial``), 2,734.00 in all; each test
changes what the payment brought. The payment tolerance is 0.01 and the
write-off limit 50.00.
"""

from decimal import Decimal

import pytest

from core.models import AuditEvent
from core.testing import messages_of, signed_in
from reconciliation import cash_work, work
from reconciliation.models import Allocation, Discrepancy, Invoice
from reconciliation.tests.test_cash_tray import (
    APPLY_URL,
    CASH_URL,
    build_trial,
    tray_post,
)

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _pinned_settings(settings):
    settings.RECONCILIATION_PAYMENT_TOLERANCE = "0.01"
    settings.RECONCILIATION_WRITE_OFF_LIMIT = "50.00"


def full_tray(payment, first, second, **fields):
    return tray_post(payment, [(first, "1332.00"), (second, "1402.00")], **fields)


def test_tray_offers_surplus_write_off(clerk):
    payment, first, second = build_trial(amount="2734.01")

    query: dict[str, int | list[str]] = {
        "payment": payment.pk,
        "tray": [f"{first.pk}:1332.00", f"{second.pk}:1402.00"],
    }
    page = signed_in(clerk).get(CASH_URL, query)

    assert page.context["tray_left"] == Decimal("0.01")
    assert [line.invoice for line in page.context["surplus_lines"]] == [first, second]
    html = page.content.decode()
    assert "Write off what is left on PAY-11080" in html
    assert "The payer sent 0.01 USD more than these invoices." in html
    assert '<option value="">No write-off: leave it on the payment</option>' in html


def test_surplus_within_rounding_is_kept_at_once(clerk):
    payment, first, second = build_trial(amount="2734.01")

    done = signed_in(clerk).post(
        APPLY_URL,
        full_tray(
            payment,
            first,
            second,
            surplus_invoice=second.pk,
            reason_code="rounding",
            note="The payer rounded up.",
        ),
        follow=True,
    )

    assert messages_of(done) == [
        f"Applied 2,734.01 USD of payment PAY-11080 to {first.number}, "
        f"{second.number}. Payment PAY-11080 is applied in full. Kept the 0.01 "
        f"USD that payment PAY-11080 paid beyond invoice {second.number}. The "
        "check after the allocation wrote it off at once: Residual of -0.01 USD "
        "is within the rounding allowance of 0.01 USD (payment.rounding@1)."
    ]
    payment.refresh_from_db()
    second.refresh_from_db()
    assert payment.amount_unallocated == Decimal(0)
    assert second.amount_residual == Decimal(0)
    kept = Allocation.objects.get(invoice=second)
    assert (kept.amount, kept.writeoff_kept) == (Decimal("1402.01"), Decimal("0.01"))
    rounding = Discrepancy.objects.get(invoice=second)
    assert (rounding.code, rounding.state) == ("ROUNDING", "resolved")
    event = AuditEvent.objects.get(action="allocation.surplus_kept")
    assert (event.actor, event.object_id, event.reason) == (
        clerk,
        str(kept.pk),
        "Rounding difference: The payer rounded up.",
    )
    assert event.after == {
        "invoice": second.number,
        "payment": "PAY-11080",
        "kept": "0.01",
        "check_reason": kept.writeoff_reason,
    }


def test_surplus_within_tolerance_opens_no_case(clerk, settings):
    settings.RECONCILIATION_PAYMENT_TOLERANCE = "5.00"
    payment, first, second = build_trial(amount="2737.00")

    outcome = cash_work.apply_tray(
        actor=clerk,
        payment_id=payment.pk,
        lines=[(first.pk, Decimal("1332.00")), (second.pk, Decimal("1402.00"))],
        write_off=cash_work.WriteOffRequest(
            second.pk, "small_overpayment", "Paid a little more.", surplus=True
        ),
    )

    written = outcome.write_off
    assert written is not None
    assert (written.case, written.amount) == (None, Decimal("3.00"))
    assert written.check_reason.startswith("Residual of -3.00 USD is within the ")
    second.refresh_from_db()
    assert second.amount_residual == Decimal(0)
    assert not Discrepancy.objects.filter(invoice=second).exists()


def test_surplus_above_tolerance_resolves_over_payment_case(clerk):
    payment, first, second = build_trial(amount="2744.00")

    outcome = cash_work.apply_tray(
        actor=clerk,
        payment_id=payment.pk,
        lines=[(first.pk, Decimal("1332.00")), (second.pk, Decimal("1402.00"))],
        write_off=cash_work.WriteOffRequest(
            second.pk, "small_overpayment", "Not worth a refund.", surplus=True
        ),
    )

    written = outcome.write_off
    assert written is not None
    assert (written.amount, written.kept, written.approval) == (
        Decimal("10.00"),
        True,
        None,
    )
    case = Discrepancy.objects.get(invoice=second, code="OVER_PAYMENT")
    assert written.case == case
    assert (case.state, case.resolution_code, case.resolution_note) == (
        "resolved",
        "write_off",
        "Small overpayment not worth refunding: Not worth a refund.",
    )
    second.refresh_from_db()
    payment.refresh_from_db()
    assert payment.amount_unallocated == Decimal(0)
    assert second.amount_residual == Decimal(0)
    kept = Allocation.objects.get(invoice=second)
    assert (kept.amount, kept.writeoff_kept) == (Decimal("1412.00"), Decimal("10.00"))
    event = AuditEvent.objects.get(action="allocation.written_off")
    assert (event.actor, event.after["writeoff_kept"], event.after["case"]) == (
        clerk,
        "10.0000",
        case.pk,
    )


def test_surplus_above_limit_is_refused(clerk):
    payment, first, second = build_trial(amount="2800.00")
    client = signed_in(clerk)

    query: dict[str, int | list[str]] = {
        "payment": payment.pk,
        "tray": [f"{first.pk}:1332.00", f"{second.pk}:1402.00"],
    }
    page = client.get(CASH_URL, query)
    assert page.context["surplus_lines"] == []

    response = client.post(
        APPLY_URL,
        full_tray(
            payment,
            first,
            second,
            surplus_invoice=second.pk,
            reason_code="small_overpayment",
            note="Too much",
        ),
    )

    assert messages_of(response) == [
        "The tray leaves 66.00 USD on payment PAY-11080, more than the 50.00 USD "
        "a clerk may write off: allocate it to an open invoice, or leave it on "
        "the payment to refund or keep as credit on the account."
    ]
    assert not Allocation.objects.exists()


def test_surplus_through_line_with_money_open_is_refused(clerk):
    payment, _, second = build_trial(amount="1400.00")

    with pytest.raises(work.WorkError) as raised:
        cash_work.apply_tray(
            actor=clerk,
            payment_id=payment.pk,
            lines=[(second.pk, Decimal("1390.00"))],
            write_off=cash_work.WriteOffRequest(
                second.pk, "rounding", "Rounded", surplus=True
            ),
        )

    assert str(raised.value) == (
        f"Invoice {second.number} keeps 12.00 USD open in the tray, so the 10.00 "
        "USD left on payment PAY-11080 belongs on it: raise its amount instead "
        "of writing the rest off."
    )
    assert not Allocation.objects.exists()


def test_surplus_through_invoice_without_order_is_refused(clerk):
    payment, first, second = build_trial(amount="2734.01")
    Invoice.objects.filter(pk=second.pk).update(order=None)

    with pytest.raises(work.WorkError) as raised:
        cash_work.apply_tray(
            actor=clerk,
            payment_id=payment.pk,
            lines=[(first.pk, Decimal("1332.00")), (second.pk, Decimal("1402.00"))],
            write_off=cash_work.WriteOffRequest(
                second.pk, "rounding", "Rounded", surplus=True
            ),
        )

    assert str(raised.value) == (
        f"Invoice {second.number} has no sales order to check, so the 0.01 USD "
        "left on payment PAY-11080 cannot be written off through it: choose "
        "another invoice of the tray, or leave the money on the payment."
    )
    assert not Allocation.objects.exists()


def test_surplus_takes_its_own_reasons(clerk):
    payment, first, second = build_trial(amount="2734.01")

    with pytest.raises(work.WorkError) as raised:
        cash_work.apply_tray(
            actor=clerk,
            payment_id=payment.pk,
            lines=[(first.pk, Decimal("1332.00")), (second.pk, Decimal("1402.00"))],
            write_off=cash_work.WriteOffRequest(
                second.pk, "bank_charge", "Fee", surplus=True
            ),
        )

    assert str(raised.value) == (
        "Write-off reason 'bank_charge' is not one of the reasons: choose one of "
        "Rounding difference, Small overpayment not worth refunding."
    )
    assert not Allocation.objects.exists()


def test_no_surplus_write_off_leaves_money_on_payment(clerk):
    payment, first, second = build_trial(amount="2734.01")

    signed_in(clerk).post(APPLY_URL, full_tray(payment, first, second))

    payment.refresh_from_db()
    assert payment.amount_unallocated == Decimal("0.01")
    assert not Allocation.objects.filter(writeoff_kept__gt=0).exists()
