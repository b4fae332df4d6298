"""Suggestions for a part payment: the order the remittance names, the only invoice.

Named person: fiona (finance clerk). Folk och fä HB owes INV-11050 of
810.00 USD for order SO-11050 and sent PAY-11079, "Part payment, order
11050", of 469.80 USD. The third user trial found no suggestion for it.
"""

from decimal import Decimal

import pytest

from core.testing import signed_in
from reconciliation.cash import suggest
from reconciliation.models import Company, Currency, Invoice, Party, Payment
from reconciliation.tests.factories import (
    PaymentFactory,
    create_invoice,
    create_order,
    create_shipment,
)
from reconciliation.tests.test_cash_tray import CASH_URL

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _pinned_settings(settings):
    settings.RECONCILIATION_PAYMENT_TOLERANCE = "0.01"
    settings.RECONCILIATION_WRITE_OFF_LIMIT = "50.00"


def folk_och_fa(*totals: tuple[str, str], reference: str, amount: str = "469.80"):
    """Return the payment and one invoice per ``(order number, total)``."""
    company = Company.objects.create(
        name="Trial company", base_currency=Currency.objects.get(code="USD")
    )
    party = Party.objects.create(
        company=company, code="FOLKO", name="Folk och fä HB", currency_id="USD"
    )
    invoices = []
    for number, total in totals:
        order = create_order(
            lines=[("1", total)], company=company, customer=party, number=number
        )
        create_shipment(order=order)
        invoices.append(
            create_invoice(order=order, number=number.replace("SO-", "INV-"))
        )
    payment = PaymentFactory.create(
        company=company,
        party=party,
        amount=Decimal(amount),
        reference=reference,
        number="PAY-11079",
    )
    return payment, invoices


def lines(suggestion) -> list[tuple[str, Decimal]]:
    return [(invoice.number, amount) for invoice, amount in suggestion.lines]


def test_trial_part_payment_suggests_its_order_invoice():
    payment, [_invoice] = folk_och_fa(
        ("SO-11050", "810.00"), reference="Part payment, order 11050"
    )

    [best] = suggest(payment, Decimal("469.80"))

    assert best.rules == ("cash.order_reference@1", "cash.only_open@1")
    assert best.score == 2
    assert lines(best) == [("INV-11050", Decimal("469.80"))]
    assert best.open_after == Decimal("340.20")
    assert best.why == (
        "Same customer, and the payment's reference 'Part payment, order 11050' "
        "names its order SO-11050 and it is the customer's only open invoice, "
        "with 810.00 USD open, more than the 469.80 USD left. Payment PAY-11079 "
        "pays all it has left, and 340.20 USD stays open on INV-11050 for the "
        "customer to pay."
    )


def test_only_open_invoice_is_suggested_without_a_reference():
    payment, [invoice] = folk_och_fa(("SO-11050", "810.00"), reference="Payment")

    [best] = suggest(payment, Decimal("469.80"))

    assert (best.rules, best.score) == (("cash.only_open@1",), 1)
    assert lines(best) == [(invoice.number, Decimal("469.80"))]


@pytest.mark.parametrize(
    "reference",
    ["Part payment, order 11050", "SO-11050 part", "Order no. 11050", "order #11050"],
)
def test_named_order_picks_its_invoice_among_several(reference):
    payment, [_other, named] = folk_och_fa(
        ("SO-11049", "300.00"), ("SO-11050", "810.00"), reference=reference
    )

    [best] = suggest(payment, Decimal("469.80"))

    assert (best.rules, best.score) == (("cash.order_reference@1",), 2)
    assert lines(best) == [(named.number, Decimal("469.80"))]


@pytest.mark.parametrize("reference", ["Payment 11050", "Part payment, order 110500"])
def test_digits_alone_name_no_order(reference):
    payment, _invoices = folk_och_fa(
        ("SO-11049", "300.00"), ("SO-11050", "810.00"), reference=reference
    )

    assert suggest(payment, Decimal("469.80")) == []


def test_order_hint_ranks_below_an_exact_amount():
    payment, [exact, named] = folk_och_fa(
        ("SO-11049", "469.80"),
        ("SO-11050", "810.00"),
        reference="Part payment, order 11050",
    )

    ranked = suggest(payment, Decimal("469.80"))

    assert [(s.rules, s.score) for s in ranked] == [
        (("cash.exact_amount@1",), 3),
        (("cash.order_reference@1",), 2),
    ]
    assert [lines(s)[0][0] for s in ranked] == [exact.number, named.number]


def test_only_open_counts_the_tray():
    payment, [first, _second] = folk_och_fa(
        ("SO-11049", "300.00"), ("SO-11050", "810.00"), reference="Payment"
    )

    # With SO-11049's invoice in the tray, the other is not the only one open.
    assert suggest(payment, Decimal("169.80"), taken={first.pk}) == []


def test_cash_screen_shows_the_part_payment_suggestion(clerk):
    payment, [invoice] = folk_och_fa(
        ("SO-11050", "810.00"), reference="Part payment, order 11050"
    )

    page = signed_in(clerk).get(CASH_URL, {"payment": payment.pk})

    html = page.content.decode()
    assert "No rule suggests" not in html
    assert "Rule: cash.order_reference@1, cash.only_open@1" in html
    assert f"pick={invoice.pk}%3A469.80" in html
    assert Invoice.objects.get(pk=invoice.pk).amount_residual == Decimal("810.00")
    assert Payment.objects.get(pk=payment.pk).amount_unallocated == Decimal("469.80")


def test_part_payment_tray_presets_no_write_off(clerk):
    payment, [invoice] = folk_och_fa(
        ("SO-11050", "810.00"), reference="Part payment, order 11050"
    )

    page = signed_in(clerk).get(
        CASH_URL, {"payment": payment.pk, "tray": f"{invoice.pk}:469.80"}
    )

    # 340.20 USD stays open for the customer to pay: no write-off is chosen,
    # so the note is not required either.
    assert page.context["writeoff_choice"] == ""
    assert 'maxlength="500" data-testid="write-off-note"' in page.content.decode()
    assert "disabled>Confirm allocation" not in page.content.decode()
