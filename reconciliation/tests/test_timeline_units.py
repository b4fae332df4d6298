"""Figures in the order timeline carry their currency or unit, from the third trial.

The trial saw "Residual: 20 → 0" on a match update, beside "20.00 USD"
elsewhere on the page, and an event without a title. The order is the one
of ``test_timeline.py``: ten units at 36.36 USD, invoiced at 363.60 USD
and paid 279.97 USD, with a short-payment case.
"""

import pytest

from core.audit import record_event
from core.models import AuditEvent
from core.testing import signed_in
from reconciliation.models import MatchGroup
from reconciliation.tests.test_timeline import entries_of, order_url
from reconciliation.timeline_text import ACTION_TITLES

pytestmark = pytest.mark.django_db


def updated_group(order, kind: str, unit: str, before: str, after: str):
    """Store a match of ``order`` and a pass event that changed its residual."""
    group = MatchGroup.objects.create(
        company=order.company,
        kind=kind,
        key=f"{kind}:order:{order.pk}",
        order=order,
        rule="payment.short@1",
        rule_version="8f89902b5760",
        residual=after,
        unit=unit,
    )
    # As ``matches.store_match_records`` writes it: only the changed fields.
    record_event(
        actor=None,
        action="match.updated",
        target=group,
        source=AuditEvent.Source.RULE,
        before={"outcome": "exception", "residual": before},
        after={"outcome": "in_tolerance", "residual": after},
        reason="payment.short@1",
    )
    return group


def changes(response) -> list[tuple[str, str, str]]:
    entry = entries_of(response)[0]
    return [(c.label, c.before, c.after) for c in entry.changes]


def test_match_update_residual_has_currency_decimals_and_code(
    clerk, short_payment_case
):
    order = short_payment_case.order
    updated_group(order, MatchGroup.Kind.CASH, "USD", "20", "0")

    response = signed_in(clerk).get(order_url(order))

    assert entries_of(response)[0].title == "Match updated"
    assert changes(response) == [
        ("Outcome", "Exception", "In tolerance"),
        ("Residual", "20.00 USD", "0.00 USD"),
    ]
    assert "Residual: 20.00 USD → 0.00 USD" in response.content.decode()


def test_quantity_match_residual_has_its_unit(clerk, short_payment_case):
    order = short_payment_case.order
    updated_group(order, MatchGroup.Kind.SHIPMENT, "unit", "2", "0")

    response = signed_in(clerk).get(order_url(order))

    assert ("Residual", "2 units", "0 units") in changes(response)


def test_surplus_kept_has_a_title_and_money(clerk, short_payment_case):
    allocation = short_payment_case.invoice.allocations.get()
    record_event(
        actor=clerk,
        action="allocation.surplus_kept",
        target=allocation,
        source=AuditEvent.Source.SCREEN,
        after={
            "invoice": short_payment_case.invoice.number,
            "payment": allocation.payment.number,
            "kept": "0.01",
            "check_reason": "Within the payment tolerance.",
        },
        reason="Rounding difference: one cent over.",
    )

    response = signed_in(clerk).get(order_url(short_payment_case.order))

    assert ACTION_TITLES["allocation.surplus_kept"] == "Overpayment kept"
    entry = entries_of(response)[0]
    assert entry.title == "Overpayment kept"
    assert ("Overpayment kept", "", "0.01 USD") in changes(response)
