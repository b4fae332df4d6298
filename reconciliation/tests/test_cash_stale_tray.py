"""The cash screen after the third user trial: old addresses and the note.

Named people: fiona (finance clerk). Hanari Carnes owes invoices of
1,332.00 and 1,402.00 USD and paid them with PAY-11080 of 2,714.00
(``build_trial``). The trial reloaded the tray's address after confirming
it, typed payment ids by hand and sent write-off notes that are too long.
"""

from decimal import Decimal

import pytest
from django.utils.html import escape

from core.testing import messages_of, signed_in
from reconciliation import cash_work
from reconciliation.models import Allocation, Party
from reconciliation.tests.factories import (
    PaymentFactory,
    create_invoice,
    create_order,
    create_shipment,
)
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


def tray_address(payment, lines):
    return {
        "payment": payment.pk,
        "tray": [f"{invoice.pk}:{amount}" for invoice, amount in lines],
    }


def test_confirmed_tray_address_says_the_payment_is_applied(clerk):
    payment, first, second = build_trial()
    client = signed_in(clerk)
    lines = [(first, "1332.00"), (second, "1382.00")]
    client.post(
        APPLY_URL,
        tray_post(
            payment,
            lines,
            writeoff_invoice=second.pk,
            reason_code="bank_charge",
            note="The bank kept 20.00 USD on the transfer.",
        ),
    )
    assert Allocation.objects.filter(payment=payment).count() == 2

    # The back button or a reload asks for the tray's own address again.
    page = client.get(CASH_URL, tray_address(payment, lines))

    html = page.content.decode()
    assert "confirm it below" not in html
    assert "no longer" not in html
    assert 'data-testid="tray"' not in html
    assert "Confirm allocation" not in html
    assert (
        "Payment PAY-11080 is applied in full, so the tray in this address has "
        "nothing left to allocate and is not shown."
    ) in html
    assert page.context["paid_rows"][0].invoice == first
    for invoice, amount in (
        (first, "1,332.00"),
        (second, "1,382.00"),
    ):
        order = invoice.order
        assert (
            f"Paid {amount} USD on invoice {invoice.number}, order "
            f'<a href="/reconciliation/orders/{order.number}/">{order.number}</a>'
        ) in html
    # Nothing was allocated twice.
    assert Allocation.objects.filter(payment=payment).count() == 2


def test_paid_invoice_in_tray_is_named_once(clerk):
    payment, first, second = build_trial(amount="3000.00")
    cash_work.apply_cash(
        actor=clerk,
        payment_id=payment.pk,
        invoice_id=first.pk,
        amount=Decimal("1332.00"),
    )

    page = signed_in(clerk).get(
        CASH_URL, tray_address(payment, [(first, "1332.00"), (second, "1402.00")])
    )

    html = page.content.decode()
    message = (
        f"Invoice {first.number} is no longer open: it has nothing left to pay, "
        "or it was cancelled since the tray was filled. Remove it from the tray."
    )
    assert html.count(message) == 1
    assert html.count('data-testid="tray-line-error"') == 1
    assert 'data-testid="tray-error"' not in html
    assert "disabled>Confirm allocation" in html


def test_tray_names_other_customers_invoice(clerk):
    payment, first, _second = build_trial()
    other = Party.objects.create(
        company=payment.company, code="BERGS", name="Berglunds", currency_id="USD"
    )
    order = create_order(
        lines=[("1", "10.00")], company=payment.company, customer=other
    )
    create_shipment(order=order)
    theirs = create_invoice(order=order)

    page = signed_in(clerk).get(
        CASH_URL, tray_address(payment, [(first, "1332.00"), (theirs, "10.00")])
    )

    html = page.content.decode()
    message = (
        f"Invoice {theirs.number} is not an invoice of payment PAY-11080's "
        "customer: remove it from the tray."
    )
    assert html.count(escape(message)) == 1
    assert "no longer" not in html


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        (
            "abc",
            "The address names payment 'abc', which is not a payment id (a whole "
            "number such as 796): pick a payment from the list of unallocated "
            "payments.",
        ),
        (
            "99999",
            "The address names payment 99999, which is not a payment this screen "
            "has: it may be another company's, or not exist. Pick a payment from "
            "the list of unallocated payments.",
        ),
    ],
)
def test_unknown_payment_in_address_is_named(clerk, raw, message):
    build_trial()

    page = signed_in(clerk).get(CASH_URL, {"payment": raw})

    assert page.status_code == 200
    html = page.content.decode()
    assert 'data-testid="payment-error"' in html
    assert escape(message) in html
    assert page.context["selected"] is None


@pytest.mark.parametrize(("length", "shown"), [(600, "600"), (5000, "5,000")])
def test_long_write_off_note_gets_its_real_length(clerk, length, shown):
    payment, first, second = build_trial()

    response = signed_in(clerk).post(
        APPLY_URL,
        tray_post(
            payment,
            [(first, "1332.00"), (second, "1382.00")],
            writeoff_invoice=second.pk,
            reason_code="bank_charge",
            note="x" * length,
        ),
    )

    assert messages_of(response) == [
        f"The write-off note has {shown} characters: shorten it to 500 or fewer."
    ]
    # The note stays whole in its box, to be shortened there.
    assert f">{'x' * length}</textarea>" in response.content.decode()
    assert not Allocation.objects.filter(payment=payment).exists()


def test_write_off_note_is_marked_required(clerk):
    payment, first, second = build_trial()
    client = signed_in(clerk)

    with_write_off = client.get(
        CASH_URL, tray_address(payment, [(first, "1332.00"), (second, "1382.00")])
    ).content.decode()
    assert (
        '<label for="tray-note">Note (required for a write-off, up to 500 '
        "characters)</label>"
    ) in with_write_off
    assert 'maxlength="500" required data-testid="write-off-note"' in with_write_off

    # With "No write-off" chosen the note may stay empty, so it is not required.
    without = client.get(
        CASH_URL,
        {
            **tray_address(payment, [(first, "1332.00"), (second, "1382.00")]),
            "writeoff_invoice": "",
            "writeoff_set": "1",
        },
    ).content.decode()
    assert 'maxlength="500" data-testid="write-off-note"' in without


def test_empty_note_is_still_checked_on_the_server(clerk):
    payment, first, second = build_trial()

    response = signed_in(clerk).post(
        APPLY_URL,
        tray_post(
            payment,
            [(first, "1332.00"), (second, "1382.00")],
            writeoff_invoice=second.pk,
            reason_code="bank_charge",
            note="   ",
        ),
    )

    assert messages_of(response) == [
        "The write-off note is empty: say what the difference is, such as the "
        "bank's charge on the transfer."
    ]
    assert not Allocation.objects.filter(payment=payment).exists()


def test_spent_payment_write_off_note_is_required(clerk):
    payment, first, second = build_trial()
    for invoice, amount in ((first, "1332.00"), (second, "1382.00")):
        cash_work.apply_cash(
            actor=clerk,
            payment_id=payment.pk,
            invoice_id=invoice.pk,
            amount=Decimal(amount),
        )

    html = signed_in(clerk).get(CASH_URL, {"payment": payment.pk}).content.decode()

    assert (
        f'<label for="note-{second.pk}">Note for {second.number} (required, up to '
        "500 characters)</label>"
    ) in html
    assert f'id="note-{second.pk}" name="note" rows="2" maxlength="500" required' in (
        html
    )


def test_unknown_payer_needs_customer(clerk):
    payment, _first, _second = build_trial()
    waiting = PaymentFactory.create(
        company=payment.company, party=None, number="BS-20261206-1"
    )

    page = signed_in(clerk).get(CASH_URL, {"payment": waiting.pk})

    assert (
        "Payment BS-20261206-1 has no customer yet: choose its customer under "
        "Payments from an unknown payer, then allocate it."
    ) in page.content.decode()
