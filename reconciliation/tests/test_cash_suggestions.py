"""Suggested matches on the cash screen, one rule at a time.

Named person: fiona (finance clerk). Hanari Carnes owes invoices of
1,332.00 and 1,402.00 USD (``build_trial``); each test changes the payment.
"""

from decimal import Decimal

import pytest

from core.testing import signed_in
from reconciliation.cash import suggest
from reconciliation.tests.test_cash_tray import CASH_URL, build_trial

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _pinned_settings(settings):
    settings.RECONCILIATION_PAYMENT_TOLERANCE = "0.01"
    settings.RECONCILIATION_WRITE_OFF_LIMIT = "50.00"


def numbers(suggestion):
    return [(invoice.number, amount) for invoice, amount in suggestion.lines]


def test_bank_charge_pair_for_trial_payment():
    payment, first, second = build_trial()

    [best] = suggest(payment, Decimal("2714.00"))

    assert best.rules == ("cash.bank_charge@1",)
    assert numbers(best) == [
        (first.number, Decimal("1332.00")),
        (second.number, Decimal("1382.00")),
    ]
    assert best.open_after == Decimal("20.00")
    assert best.why == (
        f"Same customer, and {first.number} 1,332.00 USD + {second.number} "
        "1,402.00 USD add up to 2,734.00 USD, 20.00 USD more than the 2,714.00 "
        "USD left: likely a bank charge, which stays open on "
        f"{second.number} to write off."
    )


def test_reference_ranks_named_invoice_first():
    payment, first, second = build_trial(amount="1332.00")
    payment.reference = f"Remittance {second.number}"
    payment.save()

    ranked = suggest(payment, Decimal("1332.00"))

    assert [s.rules for s in ranked] == [
        ("cash.reference@1",),
        ("cash.exact_amount@1",),
    ]
    assert numbers(ranked[0]) == [(second.number, Decimal("1332.00"))]
    assert ranked[0].score == 4
    assert ranked[0].why.startswith(
        f"Same customer, and the payment's reference 'Remittance {second.number}' "
        f"names {second.number}."
    )
    assert numbers(ranked[1]) == [(first.number, Decimal("1332.00"))]
    assert ranked[1].score == 3


def test_exact_combination_is_suggested():
    payment, first, second = build_trial(amount="2734.00")

    [best] = suggest(payment, Decimal("2734.00"))

    assert (best.rules, best.score, best.open_after) == (
        ("cash.combination@1",),
        2,
        Decimal("0"),
    )
    assert numbers(best) == [
        (first.number, Decimal("1332.00")),
        (second.number, Decimal("1402.00")),
    ]


def test_tolerance_rule_uses_payment_tolerance(settings):
    settings.RECONCILIATION_PAYMENT_TOLERANCE = "25.00"
    payment, _, second = build_trial(amount="1382.00")

    [best] = suggest(payment, Decimal("1382.00"))

    assert (best.rules, best.score) == (("cash.tolerance@1",), 2)
    assert numbers(best) == [(second.number, Decimal("1382.00"))]
    assert "within the payment tolerance" in best.why


def test_tray_invoices_are_left_out():
    payment, first, second = build_trial()

    [best] = suggest(payment, Decimal("1382.00"), taken={first.pk})

    assert best.rules == ("cash.bank_charge@1",)
    assert numbers(best) == [(second.number, Decimal("1382.00"))]
    assert best.open_after == Decimal("20.00")


def test_difference_above_limit_is_not_a_bank_charge(settings):
    settings.RECONCILIATION_WRITE_OFF_LIMIT = "10.00"
    payment, _, _ = build_trial()

    assert suggest(payment, Decimal("2714.00")) == []


def test_screen_shows_score_and_why(clerk):
    payment, first, second = build_trial()

    page = signed_in(clerk).get(CASH_URL, {"payment": payment.pk})

    html = page.content.decode()
    assert "Score 1" in html
    assert "likely a bank charge" in html
    assert f"pick={first.pk}%3A1332.00&amp;pick={second.pk}%3A1382.00" in html
