"""Work bounds of the matching engine: queries per new payment, writes per pass.

The benchmark (``bench/bench_matching.py``) measures time. These tests pin
the work behind that time, so a change that adds a query per payment, or a
write to a pass over unchanged documents, fails here.
"""

from datetime import date
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from core.bulk_writes import COPY_MIN_ROWS, insert_rows, insert_values
from core.models import AuditEvent
from reconciliation.cash import match_payment
from reconciliation.matching import build_context, run_matching
from reconciliation.models import Allocation, Company, Invoice, MatchGroup, Party
from reconciliation.tests.factories import (
    CompanyFactory,
    PartyFactory,
    PaymentFactory,
    create_invoice,
    create_order,
    create_payment,
    create_shipment,
)

pytestmark = pytest.mark.django_db

AS_OF = date(2024, 6, 30)
# Queries of one new payment that pays one invoice by its reference, without
# transaction statements. The rule reads the partner's contacts, the open
# items and the payment's allocations (its balance and reversed pairs, in one
# read). It locks and reads the order, the invoice and the payment, and reads
# the payment's balance again. Then come the allocation and the refresh for
# an allocation: the order's invoices with their allocations (one read), the
# invoices' lines with the order's lines (one read), the writes of the
# invoice, the lines, the order and the payment, and one insert of the
# allocation's event with the refresh's events. SQLite and PostgreSQL run
# the same count; on PostgreSQL the refresh's writes are pipelined, which
# saves round trips, not statements.
NEW_PAYMENT_QUERIES = 15


@pytest.fixture(autouse=True)
def _pinned_settings(settings):
    settings.RECONCILIATION_LATE_DAYS = 0
    settings.RECONCILIATION_PAYMENT_TOLERANCE = "0.01"


def open_invoices(company: Company, customer: Party, count: int) -> list[Invoice]:
    invoices = []
    for index in range(count):
        order = create_order(
            company=company, customer=customer, lines=[("1", f"{100 + index}.00")]
        )
        create_shipment(order=order)
        invoices.append(create_invoice(order=order))
    return invoices


def queries_of_new_payment(open_count: int) -> tuple[int, Invoice]:
    """Match one payment among ``open_count`` open invoices; return the queries."""
    company = CompanyFactory.create()
    customer = PartyFactory.create(company=company)
    invoices = open_invoices(company, customer, open_count)
    target = invoices[-1]
    payment = PaymentFactory.create(
        company=company,
        party=customer,
        amount=target.amount_total,
        reference=target.number,
    )
    context = build_context(company, AS_OF)
    with CaptureQueriesContext(connection) as captured:
        match_payment(payment=payment, context=context)
    payment.refresh_from_db()
    assert payment.amount_unallocated == Decimal(0)
    allocation = Allocation.objects.get(payment=payment)
    assert allocation.invoice_id == target.pk
    statements = [
        query["sql"]
        for query in captured.captured_queries
        if query["sql"] not in {"BEGIN", "BEGIN IMMEDIATE", "COMMIT"}
        and not query["sql"].startswith(("SAVEPOINT", "RELEASE SAVEPOINT"))
    ]
    return len(statements), target


def test_new_payment_runs_a_fixed_number_of_queries():
    few, _ = queries_of_new_payment(2)
    many, target = queries_of_new_payment(12)

    assert few == NEW_PAYMENT_QUERIES
    assert many == NEW_PAYMENT_QUERIES
    target.refresh_from_db()
    assert target.payment_state == Invoice.PaymentState.PAID
    assert target.amount_residual == Decimal(0)


def test_second_pass_writes_nothing():
    company = CompanyFactory.create()
    customer = PartyFactory.create(company=company)
    paid, short = open_invoices(company, customer, 2)
    create_payment(invoice=paid, amount=str(paid.amount_total))
    create_payment(invoice=short, amount="50.00")
    run_matching(company=company, as_of=AS_OF)
    groups = MatchGroup.objects.filter(company=company).count()
    events = AuditEvent.objects.count()

    with CaptureQueriesContext(connection) as captured:
        summary = run_matching(company=company, as_of=AS_OF)

    writes = [
        query["sql"]
        for query in captured.captured_queries
        if query["sql"]
        .lstrip()
        .upper()
        .startswith(("INSERT", "UPDATE", "DELETE", "COPY"))
    ]
    assert writes == []
    assert summary.opened == 0
    assert summary.updated == 0
    assert summary.unchanged == 1
    assert MatchGroup.objects.filter(company=company).count() == groups
    assert AuditEvent.objects.count() == events


def test_insert_rows_sets_ids_and_times():
    company = CompanyFactory.create()
    before = timezone.now()
    rows = [
        MatchGroup(
            company=company,
            kind=MatchGroup.Kind.SHIPMENT,
            key=f"A:line:{index}",
            state=MatchGroup.State.CONFIRMED,
            outcome=MatchGroup.Outcome.CLEAN,
            rule="ship.qty@1",
            rule_version="v1",
            compared={"ordered": "2", "shipped": str(index)},
            residual=Decimal("-1.50"),
        )
        for index in range(3)
    ]

    insert_rows(rows)

    stored = list(
        MatchGroup.objects.filter(company=company)
        .order_by("pk")
        .values_list("pk", "key", "compared", "residual", "origin", "created_at")
    )
    assert [row[0] for row in stored] == [row.pk for row in rows]
    assert [row[1:5] for row in stored] == [
        (
            f"A:line:{index}",
            {"ordered": "2", "shipped": str(index)},
            Decimal("-1.5"),
            "rule",
        )
        for index in range(3)
    ]
    assert all(row[5] >= before for row in stored)
    assert all(not row._state.adding for row in rows)


# On PostgreSQL, the larger count loads the rows with COPY.
@pytest.mark.parametrize("count", [2, COPY_MIN_ROWS + 1])
def test_insert_values_fills_defaults_and_returns_ids(count):
    company = CompanyFactory.create()
    before = timezone.now()
    rows = [
        {
            "company_id": company.pk,
            "kind": MatchGroup.Kind.BILLING,
            "key": f"C:line:{index}",
            "state": MatchGroup.State.PROPOSED,
            "outcome": MatchGroup.Outcome.EXCEPTION,
            "rule": "billing.qty@1",
            "rule_version": "v2",
            "compared": {"invoiced": str(index), "text": 'a "quoted"\tvalue'},
            "residual": Decimal("2.25"),
        }
        for index in range(count)
    ]

    ids = insert_values(MatchGroup, rows)

    stored = list(
        MatchGroup.objects.filter(company=company)
        .order_by("pk")
        .values_list(
            "pk", "key", "compared", "residual", "origin", "score", "confirmed_at"
        )
    )
    assert [row[0] for row in stored] == ids
    assert [row[1:] for row in stored] == [
        (
            f"C:line:{index}",
            {"invoiced": str(index), "text": 'a "quoted"\tvalue'},
            Decimal("2.25"),
            "rule",
            0,
            None,
        )
        for index in range(count)
    ]
    times = MatchGroup.objects.filter(company=company).values_list(
        "created_at", "updated_at"
    )
    assert all(created >= before and updated >= before for created, updated in times)
    # The ids came from the table's sequence, so the next row follows them.
    later = insert_values(MatchGroup, [{**rows[0], "key": "C:line:later"}])
    assert later[0] > max(ids)


def test_insert_values_without_rows_runs_no_query():
    with CaptureQueriesContext(connection) as captured:
        ids = insert_values(MatchGroup, [])
    assert ids == []
    assert len(captured.captured_queries) == 0


def test_new_payment_ignores_other_company_invoices():
    company = CompanyFactory.create()
    other = CompanyFactory.create()
    foreign = open_invoices(other, PartyFactory.create(company=other), 1)[0]
    payment = PaymentFactory.create(
        company=company,
        party=None,
        amount=foreign.amount_total,
        reference=foreign.number.lower(),
    )

    results = match_payment(payment=payment, context=build_context(company, AS_OF))

    payment.refresh_from_db()
    foreign.refresh_from_db()
    assert Allocation.objects.filter(payment=payment).count() == 0
    assert payment.amount_unallocated == foreign.amount_total
    assert foreign.amount_residual == foreign.amount_total
    assert [finding.code for finding in results.findings] == ["UNAPPLIED_PAYMENT"]


def test_new_payment_finds_number_case_insensitively():
    company = CompanyFactory.create()
    customer = PartyFactory.create(company=company)
    target = open_invoices(company, customer, 3)[1]
    payment = PaymentFactory.create(
        company=company,
        party=None,
        amount=target.amount_total,
        reference=f"  {target.number.lower()} ",
    )

    match_payment(payment=payment, context=build_context(company, AS_OF))

    allocation = Allocation.objects.get(payment=payment)
    assert allocation.invoice_id == target.pk
    assert allocation.amount == target.amount_total


def first_pass_queries(order_count: int) -> int:
    """Run a first pass over ``order_count`` orders of each kind; count its queries.

    The kinds are an order paid in full, one paid 0.01 short (inside the
    payment tolerance), one shipped short and one not invoiced.
    """
    company = CompanyFactory.create()
    customer = PartyFactory.create(company=company)
    for _ in range(order_count):
        paid, short_paid = open_invoices(company, customer, 2)
        create_payment(invoice=paid, amount=str(paid.amount_total))
        create_payment(
            invoice=short_paid, amount=str(short_paid.amount_total - Decimal("0.01"))
        )
        short = create_order(company=company, customer=customer, lines=[("4", "9.00")])
        create_shipment(order=short, quantities={1: "3"})
        create_invoice(order=short)
        uninvoiced = create_order(company=company, customer=customer)
        create_shipment(order=uninvoiced)
    with CaptureQueriesContext(connection) as captured:
        run_matching(company=company, as_of=AS_OF)
    return len(captured.captured_queries)


def test_pass_queries_stay_fixed_per_chunk():
    # The pass reads a chunk's documents in a fixed number of queries. A
    # check that read a column the loader leaves unread, such as a time,
    # would run one query per document.
    assert first_pass_queries(1) == first_pass_queries(3)
