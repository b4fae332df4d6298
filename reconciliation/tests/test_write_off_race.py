"""A write-off and a credit note on one invoice, requested at the same moment.

Each writer runs on its own database connection, started together on a
barrier (``race`` from the concurrency tests). Both check the invoice's credit
and write-offs under the invoice's row lock, so the second one reads the
first one's row and is rejected: together they never take more than the
invoice total off it. Named people: fiona (finance clerk), sally (sales rep
on the order).
"""

from decimal import Decimal

import pytest
from django.db.models import Sum

from reconciliation import cases
from reconciliation.credit_notes import credit_on_invoice
from reconciliation.credit_proposals import propose_credit_note
from reconciliation.models import Invoice
from reconciliation.tests.conftest import make_case
from reconciliation.tests.test_concurrency import race

pytestmark = pytest.mark.django_db(transaction=True)


def test_write_off_and_credit_note_at_once(
    short_payment_case, clerk, sales_rep, settings
):
    settings.RECONCILIATION_WRITE_OFF_LIMIT = "100.00"
    settings.SALES_REP_CREDIT_LIMIT = "1000.00"
    invoice = short_payment_case.invoice
    price_case = make_case(
        short_payment_case.order, code="PRICE_MISMATCH", invoice=invoice
    )
    cases.start_case(case_id=short_payment_case.pk, actor=clerk)

    def write_off() -> object:
        return cases.resolve_case(
            case_id=short_payment_case.pk,
            actor=clerk,
            resolution_code="write_off",
            note="Bank fee.",
        )

    def credit() -> object:
        return propose_credit_note(
            actor=sales_rep,
            case_id=price_case.pk,
            amount=Decimal("300.00"),
            message="For the price.",
        )

    errors = race(write_off, credit)

    # 83.63 written off and 300.00 credited would take 383.63 off 363.60.
    assert len(errors) == 1
    after_race = credit_on_invoice(
        Invoice.objects.select_related("currency").get(pk=invoice.pk)
    )
    assert after_race.taken_off <= Decimal("363.60")
    assert after_race.taken_off in (Decimal("83.63"), Decimal("300.00"))
    drafts = Invoice.objects.filter(
        kind=Invoice.Kind.CREDIT_NOTE, origin_invoice=invoice
    ).exclude(state=Invoice.State.CANCELLED)
    assert drafts.aggregate(total=Sum("amount_total"))["total"] in (
        None,
        Decimal("300.00"),
    )
