"""Two credit notes proposed at once on one invoice, from two of its cases.

Each writer runs on its own database connection, started together on a
barrier (``race`` from the concurrency tests). The invoice row lock makes the
second proposal add up the first one's draft credit note, so together they
never credit more than the invoice total. Named people: sally (sales rep on
the order).
"""

from decimal import Decimal

import pytest
from django.db.models import Sum

from reconciliation.credit_proposals import propose_credit_note
from reconciliation.models import Invoice
from reconciliation.tests.conftest import make_case
from reconciliation.tests.factories import create_invoice, create_order, create_shipment
from reconciliation.tests.test_concurrency import race

pytestmark = pytest.mark.django_db(transaction=True)


def test_parallel_proposals_stay_within_total(customer_party, sales_rep, settings):
    settings.SALES_REP_CREDIT_LIMIT = "1000.00"
    order = create_order(
        lines=[("10", "36.36"), ("4", "41.815")],
        company=customer_party.company,
        customer=customer_party,
        sales_rep=sales_rep,
    )
    create_shipment(order=order)
    invoice = create_invoice(order=order)
    # Cases without a figure, so the invoice total is the only bound.
    cases = [
        make_case(order, code="SHORT_PAYMENT", invoice=invoice, difference=None),
        make_case(order, code="PRICE_MISMATCH", invoice=invoice, difference=None),
    ]

    def proposer(case):
        return lambda: propose_credit_note(
            actor=sales_rep, case_id=case.pk, amount=Decimal("300.00"), message="Sorry"
        )

    errors = race(*(proposer(case) for case in cases))

    assert len(errors) == 1
    credited = Invoice.objects.filter(
        kind=Invoice.Kind.CREDIT_NOTE, origin_invoice=invoice
    ).exclude(state=Invoice.State.CANCELLED)
    assert credited.count() == 1
    assert credited.aggregate(total=Sum("amount_total"))["total"] == Decimal("300.00")
