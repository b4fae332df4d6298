"""The session page writes money as the work screens do, and drafts as drafts."""

from datetime import timedelta
from decimal import Decimal

import pytest

from practice import services
from practice.tests.conftest import signed_in
from reconciliation.models import Invoice, Payment

pytestmark = pytest.mark.django_db


@pytest.fixture
def session(learner):
    return services.start_session(
        learner=learner, scenario_key="short-payment-write-off"
    )


def session_page(learner, session) -> str:
    return signed_in(learner).get(f"/practice/sessions/{session.pk}/").content.decode()


def test_amounts_have_thousands_separators(learner, session):
    invoice = Invoice.objects.filter(
        company=session.company, kind=Invoice.Kind.INVOICE
    ).first()
    Invoice.objects.filter(pk=invoice.pk).update(
        amount_total=Decimal("1280.00"),
        amount_paid=Decimal("1000.00"),
        amount_residual=Decimal("280.00"),
    )
    Payment.objects.filter(company=session.company).update(
        amount=Decimal("2500.00"), amount_unallocated=Decimal("1500.00")
    )

    page = session_page(learner, session)

    assert '<td data-label="Total">1,280.00</td>' in page
    assert '<td data-label="Paid">1,000.00</td>' in page
    assert '<td data-label="Amount">2,500.00</td>' in page
    assert '<td data-label="Not allocated">1,500.00</td>' in page
    assert "1280.00" not in page
    assert "2500.00" not in page


def test_limits_name_the_company_currency(learner, session, settings):
    settings.RECONCILIATION_WRITE_OFF_LIMIT = "1500"
    settings.SALES_REP_CREDIT_LIMIT = "2250.5"
    currency = session.company.base_currency

    page = session_page(learner, session)

    assert f"A write-off above 1,500.00 {currency.code} and" in page
    assert f"a credit note above 2,250.50 {currency.code} need" in page


def test_draft_credit_note_is_not_open(learner, session):
    invoice = Invoice.objects.filter(
        company=session.company, kind=Invoice.Kind.INVOICE
    ).first()
    Invoice.objects.create(
        company=session.company,
        kind=Invoice.Kind.CREDIT_NOTE,
        number="PR-CN-9001",
        customer=invoice.customer,
        order=invoice.order,
        origin_invoice=invoice,
        currency=invoice.currency,
        invoice_date=invoice.invoice_date,
        due_date=invoice.invoice_date + timedelta(days=30),
        state=Invoice.State.DRAFT,
        amount_total=Decimal("180.00"),
        amount_residual=Decimal("180.00"),
    )

    page = session_page(learner, session)

    row = page.split("PR-CN-9001</td>", 1)[1].split("</tr>", 1)[0]
    assert "Credit note PR-CN-9001" in page
    assert (
        f"Draft credit: 180.00 {invoice.currency_id} once posted, nothing open" in row
    )
    assert '<td data-label="Paid">—</td>' in row
    assert "Open 180.00" not in row
    assert f"180.00 {invoice.currency_id}</td>" not in row
