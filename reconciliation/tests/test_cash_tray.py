"""The cash screen's allocation tray, from the trial that found it missing.

Named people: fiona (finance clerk), mona (manager), carla (customer),
sally (sales rep). Hanari Carnes owes two invoices, of 1,332.00 and
1,402.00 USD, and paid them with one payment of 2,714.00: the bank kept a
charge of 20.00.
"""

from decimal import Decimal

import pytest

from accounts.models import Role
from conftest import make_person
from core.models import AuditEvent
from core.testing import messages_of, signed_in
from reconciliation import cash_work, work
from reconciliation.models import (
    Allocation,
    Approval,
    Company,
    Currency,
    Discrepancy,
    Invoice,
    Party,
    Payment,
)
from reconciliation.tests.factories import (
    PaymentFactory,
    create_invoice,
    create_order,
    create_shipment,
)

pytestmark = pytest.mark.django_db

CASH_URL = "/reconciliation/work/cash/"
APPLY_URL = "/reconciliation/work/cash/apply/"


@pytest.fixture(autouse=True)
def _pinned_settings(settings):
    settings.RECONCILIATION_PAYMENT_TOLERANCE = "0.01"
    settings.RECONCILIATION_WRITE_OFF_LIMIT = "50.00"


def build_trial(
    *, amount: str = "2714.00", reference: str = "Hanari payment, less bank charges"
) -> tuple[Payment, Invoice, Invoice]:
    """Return the payment and its two invoices, oldest first, nothing allocated."""
    company = Company.objects.create(
        name="Trial company", base_currency=Currency.objects.get(code="USD")
    )
    party = Party.objects.create(
        company=company, code="HANAR", name="Hanari Carnes", currency_id="USD"
    )
    invoices = []
    for total in ("1332.00", "1402.00"):
        order = create_order(lines=[("1", total)], company=company, customer=party)
        create_shipment(order=order)
        invoices.append(create_invoice(order=order))
    payment = PaymentFactory.create(
        company=company,
        party=party,
        amount=Decimal(amount),
        reference=reference,
        number="PAY-11080",
    )
    return payment, invoices[0], invoices[1]


@pytest.fixture
def trial(db):
    return build_trial()


def tray_post(payment, lines, **fields):
    data = {
        "payment": payment.pk,
        "confirm_tray": "1",
        "tray": [f"{invoice.pk}:{amount}" for invoice, amount in lines],
    }
    data.update(fields)
    return data


def test_trial_tray_reconciles_payment(clerk, trial):
    payment, first, second = trial

    response = signed_in(clerk).post(
        APPLY_URL,
        tray_post(
            payment,
            [(first, "1332.00"), (second, "1382.00")],
            writeoff_invoice=second.pk,
            reason_code="bank_charge",
            note="The bank kept 20.00 USD on the transfer.",
        ),
        follow=True,
    )

    (message,) = messages_of(response)
    case = Discrepancy.objects.get(invoice=second, code="SHORT_PAYMENT")
    assert message == (
        f"Applied 2,714.00 USD of payment PAY-11080 to {first.number}, "
        f"{second.number}. Payment PAY-11080 is applied in full. Wrote off "
        f"20.00 USD on invoice {second.number}; case {case.pk} is resolved."
    )
    payment.refresh_from_db()
    second.refresh_from_db()
    first.refresh_from_db()
    assert payment.amount_unallocated == 0
    assert (first.amount_residual, second.amount_residual) == (0, 0)
    assert (case.state, case.resolution_code, case.resolved_by) == (
        "resolved",
        "write_off",
        clerk,
    )
    assert case.resolution_note == (
        "Bank charge: The bank kept 20.00 USD on the transfer."
    )
    booked = Allocation.objects.get(invoice=second)
    assert (booked.amount, booked.writeoff_forgiven) == (
        Decimal("1382.00"),
        Decimal("20.00"),
    )
    written = AuditEvent.objects.get(action="allocation.written_off")
    assert (written.actor, written.after["case"]) == (clerk, case.pk)
    assert not Discrepancy.objects.filter(
        payment=payment, state__in=["open", "assigned", "in_progress"]
    ).exists()


def test_write_off_over_limit_waits(clerk, trial, settings):
    settings.RECONCILIATION_WRITE_OFF_LIMIT = "10.00"
    payment, first, second = trial

    outcome = cash_work.apply_tray(
        actor=clerk,
        payment_id=payment.pk,
        lines=[(first.pk, Decimal("1332.00")), (second.pk, Decimal("1382.00"))],
        write_off=cash_work.WriteOffRequest(second.pk, "bank_charge", "Bank fee"),
    )

    assert outcome.write_off is not None
    approval = outcome.write_off.approval
    assert approval is not None
    assert (approval.decision, approval.requested_by, approval.amount) == (
        Approval.Decision.PENDING,
        clerk,
        Decimal("20.00"),
    )
    second.refresh_from_db()
    assert second.amount_residual == Decimal("20.00")
    assert outcome.write_off.case.state == "in_progress"
    assert Allocation.objects.filter(payment=payment).count() == 2


def test_tray_over_payment_writes_nothing(clerk, trial):
    payment, first, second = trial

    response = signed_in(clerk).post(
        APPLY_URL, tray_post(payment, [(first, "1332.00"), (second, "1402.00")])
    )

    assert response.status_code == 200
    assert messages_of(response) == [
        "The tray totals 2,734.00 USD, more than the 2,714.00 USD left on payment "
        "PAY-11080: lower an amount or remove a line, so the total is no more "
        "than what is left."
    ]
    html = response.content.decode()
    assert f'name="tray" value="{second.pk}:1402.00"' in html
    assert 'data-testid="tray-error"' in html
    assert not Allocation.objects.exists()


def test_bad_write_off_reason_rolls_back(clerk, trial):
    payment, first, second = trial

    response = signed_in(clerk).post(
        APPLY_URL,
        tray_post(
            payment,
            [(first, "1332.00"), (second, "1382.00")],
            writeoff_invoice=second.pk,
            reason_code="gift",
            note="Bank fee",
        ),
    )

    (message,) = messages_of(response)
    assert message.startswith("Write-off reason 'gift' is not one of the reasons:")
    assert "Bank fee" in response.content.decode()
    assert not Allocation.objects.exists()


def test_empty_write_off_note(clerk, trial):
    payment, first, second = trial

    with pytest.raises(work.WorkError, match="The write-off note is empty"):
        cash_work.apply_tray(
            actor=clerk,
            payment_id=payment.pk,
            lines=[(first.pk, Decimal("1332.00")), (second.pk, Decimal("1382.00"))],
            write_off=cash_work.WriteOffRequest(second.pk, "bank_charge", "  "),
        )

    assert not Allocation.objects.exists()


def test_tray_rejects_invoice_twice(clerk, trial):
    payment, first, _ = trial

    with pytest.raises(work.WorkError, match="lists an invoice twice"):
        cash_work.apply_tray(
            actor=clerk,
            payment_id=payment.pk,
            lines=[(first.pk, Decimal("1.00")), (first.pk, Decimal("2.00"))],
        )
    assert not Allocation.objects.exists()


def test_line_over_invoice_rolls_back(clerk, trial):
    payment, first, second = trial

    with pytest.raises(work.WorkError) as raised:
        cash_work.apply_tray(
            actor=clerk,
            payment_id=payment.pk,
            lines=[(first.pk, Decimal("1000.00")), (second.pk, Decimal("1500.00"))],
        )

    assert str(raised.value) == (
        f"Amount 1,500.00 USD is more than the 1,402.00 USD open on invoice "
        f"{second.number}: allocate 1,402.00 USD or less."
    )
    assert not Allocation.objects.exists()


def test_pick_shows_tray_residual(clerk, trial):
    payment, first, second = trial
    client = signed_in(clerk)

    added = client.get(
        CASH_URL,
        {
            "payment": payment.pk,
            "pick": [f"{first.pk}:1332.00", f"{second.pk}:1382.00"],
        },
    )
    assert added.status_code == 302
    page = client.get(added["Location"])

    assert page.context["tray_total"] == Decimal("2714.00")
    assert page.context["tray_left"] == 0
    assert page.context["writeoff_choice"] == str(second.pk)
    [open_line] = page.context["open_lines"]
    assert (open_line.invoice, open_line.open_after) == (second, Decimal("20.00"))
    html = page.content.decode()
    assert 'data-testid="tray-left">0.00 USD' in html
    assert 'data-testid="tray-total">2,714.00 USD' in html

    dropped = client.get(f"{added['Location']}&drop={first.pk}")
    page = client.get(dropped["Location"])
    assert page.context["tray_total"] == Decimal("1382.00")
    assert page.context["tray_left"] == Decimal("1332.00")


def test_add_keeps_typed_amount(clerk, trial):
    payment, first, second = trial

    response = signed_in(clerk).post(
        APPLY_URL,
        {
            "payment": payment.pk,
            "invoice": second.pk,
            "amount": "1500",
            "add": "1",
            "tray": [f"{first.pk}:1332.00"],
        },
    )

    message = (
        f"Amount from payment PAY-11080 to invoice {second.number} is 1,500.00 "
        "USD, more than the 1,402.00 USD open on the invoice: enter 1,402.00 USD "
        "or less."
    )
    assert messages_of(response) == [message]
    html = response.content.decode()
    assert f'value="1500" aria-label="Amount for {second.number}"' in html
    assert f'<p class="field-error" id="amount-error-{second.pk}"' in html
    assert [line.invoice for line in response.context["tray_lines"]] == [first]


def test_box_starts_at_payment_left(clerk, trial):
    payment, first, second = trial
    cash_work.apply_cash(
        actor=clerk, payment_id=payment.pk, invoice_id=first.pk, amount=Decimal("1332")
    )

    page = signed_in(clerk).get(CASH_URL, {"payment": payment.pk})

    # 1,382.00 left on the payment, 1,402.00 open on the invoice.
    assert dict(page.context["invoices"]) == {second: Decimal("1382.00")}
    assert f'value="1382.00" aria-label="Amount for {second.number}"' in (
        page.content.decode()
    )


def test_rejected_allocation_keeps_typed_amount(clerk, trial):
    payment, first, second = trial
    cash_work.apply_cash(
        actor=clerk, payment_id=payment.pk, invoice_id=first.pk, amount=Decimal("1332")
    )

    response = signed_in(clerk).post(
        APPLY_URL, {"payment": payment.pk, "invoice": second.pk, "amount": "1402.00"}
    )

    message = (
        "Amount 1,402.00 USD is more than the 1,382.00 USD left on payment "
        "PAY-11080: allocate 1,382.00 USD or less."
    )
    assert messages_of(response) == [message]
    html = response.content.decode()
    assert f'value="1402.00" aria-label="Amount for {second.number}"' in html
    assert html.count(message) == 2  # at the top and beside the box
    assert Allocation.objects.filter(invoice=second).count() == 0


def test_write_off_on_spent_payment(clerk, trial):
    payment, first, second = trial
    for invoice, amount in ((first, "1332.00"), (second, "1382.00")):
        cash_work.apply_cash(
            actor=clerk,
            payment_id=payment.pk,
            invoice_id=invoice.pk,
            amount=Decimal(amount),
        )
    client = signed_in(clerk)

    page = client.get(CASH_URL, {"payment": payment.pk})
    assert [row[0] for row in page.context["partly_paid"]] == [second]
    assert 'data-testid="applied-in-full"' in page.content.decode()

    empty = client.post(
        CASH_URL,
        {
            "action": "write_off",
            "payment": payment.pk,
            "invoice": second.pk,
            "reason_code": "bank_charge",
            "note": "",
        },
    )
    assert messages_of(empty) == [
        "The write-off note is empty: say what the difference is, such as the "
        "bank's charge on the transfer."
    ]
    done = client.post(
        CASH_URL,
        {
            "action": "write_off",
            "payment": payment.pk,
            "invoice": second.pk,
            "reason_code": "bank_charge",
            "note": "Bank fee on the transfer",
        },
        follow=True,
    )

    case = Discrepancy.objects.get(invoice=second, code="SHORT_PAYMENT")
    assert messages_of(done) == [
        f"Wrote off 20.00 USD on invoice {second.number}; case {case.pk} is resolved."
    ]
    second.refresh_from_db()
    assert (second.amount_residual, case.state) == (0, "resolved")


def test_write_off_needs_payment_on_invoice(clerk, trial):
    payment, first, second = trial
    cash_work.apply_cash(
        actor=clerk, payment_id=payment.pk, invoice_id=first.pk, amount=Decimal("10")
    )

    with pytest.raises(work.WorkError) as raised:
        cash_work.write_off_rest(
            actor=clerk,
            payment_id=payment.pk,
            invoice_id=second.pk,
            reason_code="bank_charge",
            note="Fee",
        )

    assert str(raised.value) == (
        f"Payment PAY-11080 pays nothing on invoice {second.number}, so the "
        "1,402.00 USD open on it is not a difference of this payment: allocate "
        "the payment to the invoice first."
    )


@pytest.mark.parametrize("role", [Role.CUSTOMER, Role.SALES_REP, Role.MANAGER])
def test_only_finance_clerks_use_tray(trial, role):
    payment, first, _ = trial
    kwargs = {"customer": payment.party} if role == Role.CUSTOMER else {}
    person = make_person("someone", role, **kwargs)
    client = signed_in(person)

    assert client.get(CASH_URL, {"payment": payment.pk}).status_code == 403
    confirm = client.post(APPLY_URL, tray_post(payment, [(first, "1332.00")]))
    write_off = client.post(
        CASH_URL,
        {
            "action": "write_off",
            "payment": payment.pk,
            "invoice": first.pk,
            "reason_code": "bank_charge",
            "note": "x",
        },
    )

    assert (confirm.status_code, write_off.status_code) == (403, 403)
    assert not Allocation.objects.exists()


def test_write_off_of_paid_invoice_rolls_back(clerk, trial):
    payment, first, _ = trial

    with pytest.raises(work.WorkError) as raised:
        cash_work.apply_tray(
            actor=clerk,
            payment_id=payment.pk,
            lines=[(first.pk, Decimal("1332.00"))],
            write_off=cash_work.WriteOffRequest(first.pk, "bank_charge", "Fee"),
        )

    assert str(raised.value) == (
        f"Invoice {first.number} has nothing open to write off: it is paid in full."
    )
    assert not Allocation.objects.exists()
