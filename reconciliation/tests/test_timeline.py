"""The order page's timeline: documents and events, words, paging and queries.

Every test builds a small order by hand: ten units at 36.36 USD, shipped in
full, invoiced at 363.60 USD and paid 279.97 USD, with a short-payment case
that the finance clerk owns.
"""

from datetime import UTC, datetime, time, timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from accounts.models import Role
from conftest import make_person
from core.audit import record_event
from core.models import AuditEvent
from core.testing import signed_in
from imports.models import ImportBatch, ImportSource
from reconciliation.models import MatchGroup
from reconciliation.selectors import access_order
from reconciliation.tests.conftest import make_case
from reconciliation.timeline import ENTRIES_PER_PAGE, Entry, order_timeline

pytestmark = pytest.mark.django_db


def order_url(order) -> str:
    return f"/reconciliation/orders/{order.number}/"


def entries_of(response) -> list[Entry]:
    entries: list[Entry] = response.context["timeline"].entries
    return entries


def titles_of(response) -> list[str]:
    return [entry.title for entry in entries_of(response)]


def as_moment(when) -> datetime:
    """Return a document's date as midnight UTC, and an event's time as it is."""
    if isinstance(when, datetime):
        return when
    return datetime.combine(when, time.min, tzinfo=UTC)


def move_case(case, actor, reason="Customer says a deduction was agreed."):
    return record_event(
        actor=actor,
        action="case.state_changed",
        target=case,
        source=AuditEvent.Source.SCREEN,
        before={"state": "open"},
        after={"state": "in_progress"},
        reason=reason,
    )


def test_timeline_shows_documents_newest_first(clerk, short_payment_case):
    order = short_payment_case.order
    response = signed_in(clerk).get(order_url(order))

    entries = entries_of(response)
    documents = [entry.title for entry in entries if entry.is_document]
    invoice = order.invoices.get()
    payment = invoice.allocations.get().payment
    assert f"Payment {payment.number} on {invoice.number}" in documents
    assert f"Invoice {invoice.number}" in documents
    assert f"Shipment {order.shipments.get().number}" in documents
    moments = [as_moment(entry.when) for entry in entries]
    assert moments == sorted(moments, reverse=True)


def test_event_says_who_what_why_and_where(clerk, short_payment_case):
    move_case(short_payment_case, clerk)
    response = signed_in(clerk).get(order_url(short_payment_case.order))

    entry = entries_of(response)[0]
    assert entry.title == "Case moved"
    assert entry.subject == f"Case #{short_payment_case.pk} Short payment"
    assert entry.actor == "Fiona Tester"
    assert entry.role == "Operations/finance clerk"
    assert [(c.label, c.before, c.after) for c in entry.changes] == [
        ("State", "Open", "In progress")
    ]
    assert entry.why == "Customer says a deduction was agreed."
    assert entry.source == "Screen"


def test_money_change_uses_currency_decimals(clerk, short_payment_case):
    invoice = short_payment_case.invoice
    record_event(
        actor=None,
        action="invoice.refreshed",
        target=invoice,
        source=AuditEvent.Source.SYSTEM,
        before={"amount_residual": "363.6000", "amount_total": "363.6000"},
        after={"amount_residual": "83.63", "amount_total": "363.60"},
    )
    response = signed_in(clerk).get(order_url(short_payment_case.order))

    entry = entries_of(response)[0]
    assert entry.title == "Invoice figures recomputed"
    # The total is the same number in both, so it is no change.
    assert [(c.label, c.before, c.after) for c in entry.changes] == [
        ("Open amount", "363.60 USD", "83.63 USD")
    ]
    assert entry.actor == "System"


def test_rule_event_names_rule_and_version(clerk, short_payment_case):
    order = short_payment_case.order
    group = MatchGroup.objects.create(
        company=order.company,
        kind=MatchGroup.Kind.CASH,
        key=f"D:invoice:{short_payment_case.invoice_id}",
        order=order,
        invoice=short_payment_case.invoice,
        rule="payment.allocation@1",
        rule_version="8f89902b5760",
        residual="83.63",
        unit="USD",
    )
    record_event(
        actor=None,
        action="match.confirmed",
        target=group,
        source=AuditEvent.Source.RULE,
        after={
            "state": "confirmed",
            "rule": "payment.allocation@1",
            "rule_version": "8f89902b5760",
            "residual": "83.63",
            "unit": "USD",
            "compared": {"paid": "279.97"},
            "explanation": "Invoice was paid 279.97 of 363.60 USD.",
        },
        reason="payment.allocation@1",
    )
    response = signed_in(clerk).get(order_url(order))

    entry = entries_of(response)[0]
    assert entry.actor == "Matching pass"
    assert entry.source == "Matching rule"
    assert entry.source_detail == "payment.allocation@1, version 8f89902b5760"
    assert entry.why == "Invoice was paid 279.97 of 363.60 USD."
    assert ("Residual", "", "83.63 USD") in [
        (c.label, c.before, c.after) for c in entry.changes
    ]
    # The compared inputs are in the "Why" section, not repeated here.
    assert "Compared" not in [c.label for c in entry.changes]


def test_rule_named_in_reason_is_source(clerk, short_payment_case):
    allocation = short_payment_case.invoice.allocations.get()
    sentence = (
        "Residual of 0.01 USD is within the rounding allowance of 0.02 USD "
        "(payment.rounding@1)."
    )
    record_event(
        actor=None,
        action="allocation.written_off",
        target=allocation,
        source=AuditEvent.Source.RULE,
        before={"writeoff_forgiven": "0.0000", "writeoff_kept": "0.0000"},
        after={"writeoff_forgiven": "0.0100", "writeoff_kept": "0.0000"},
        reason=sentence,
    )
    response = signed_in(clerk).get(order_url(short_payment_case.order))

    entry = entries_of(response)[0]
    assert entry.title == "Difference written off"
    assert entry.source_detail == "payment.rounding@1"
    assert entry.why == sentence
    assert [(c.label, c.before, c.after) for c in entry.changes] == [
        ("Written off (forgiven)", "0.00 USD", "0.01 USD")
    ]


def test_import_event_names_batch_and_file(clerk, short_payment_case):
    order = short_payment_case.order
    source = ImportSource.objects.create(
        company=order.company,
        name="ERP orders",
        kind="sales_order",
        created_by=clerk,
    )
    batch = ImportBatch.objects.create(
        source=source,
        created_by=clerk,
        file_name="orders-march.csv",
        sha256="0" * 64,
        file_format="csv@1",
        status=ImportBatch.Status.COMMITTED,
    )
    record_event(
        actor=clerk,
        action="salesorder.imported",
        target=order,
        source=AuditEvent.Source.IMPORT,
        after={"number": order.number},
        reason=f"import batch {batch.pk}",
    )
    response = signed_in(clerk).get(order_url(order))

    entry = entries_of(response)[0]
    assert entry.title == "Order imported"
    assert entry.source == "Import"
    assert entry.source_detail == f"batch {batch.pk}, file orders-march.csv (csv@1)"
    assert entry.source_url == f"/imports/batches/{batch.pk}/"
    assert entry.why == ""


def test_import_file_hidden_without_import_role(warehouse, clerk, short_payment_case):
    order = short_payment_case.order
    source = ImportSource.objects.create(
        company=order.company,
        name="ERP orders",
        kind="sales_order",
        created_by=clerk,
    )
    batch = ImportBatch.objects.create(
        source=source,
        created_by=clerk,
        file_name="orders-march.csv",
        sha256="1" * 64,
        file_format="csv@1",
        status=ImportBatch.Status.COMMITTED,
    )
    record_event(
        actor=clerk,
        action="salesorder.imported",
        target=order,
        source=AuditEvent.Source.IMPORT,
        reason=f"import batch {batch.pk}",
    )
    entry = entries_of(signed_in(warehouse).get(order_url(order)))[0]
    assert entry.source_detail == f"batch {batch.pk}"
    assert entry.source_url == ""


def test_user_text_is_escaped(clerk, short_payment_case):
    move_case(short_payment_case, clerk, reason="<script>alert('x')</script>")
    response = signed_in(clerk).get(order_url(short_payment_case.order))

    html = response.content.decode()
    assert "<script>alert" not in html
    assert "&lt;script&gt;alert(&#x27;x&#x27;)&lt;/script&gt;" in html


def test_write_off_reason_is_escaped(clerk, short_payment_case):
    allocation = short_payment_case.invoice.allocations.get()
    type(allocation).objects.filter(pk=allocation.pk).update(
        writeoff_reason="<img src=x onerror=alert(1)>"
    )
    html = signed_in(clerk).get(order_url(short_payment_case.order)).content.decode()
    assert "<img src=x" not in html
    assert "&lt;img src=x onerror=alert(1)&gt;" in html


def test_timeline_pages_newest_first(clerk, short_payment_case):
    for number in range(ENTRIES_PER_PAGE + 5):
        move_case(short_payment_case, clerk, reason=f"step {number}")
    client = signed_in(clerk)
    url = order_url(short_payment_case.order)

    first = client.get(url)
    assert len(entries_of(first)) == ENTRIES_PER_PAGE
    assert entries_of(first)[0].why == f"step {ENTRIES_PER_PAGE + 4}"
    assert first.context["timeline"].page.has_next()

    second = client.get(url, {"timeline_page": "2"})
    reasons = [entry.why for entry in entries_of(second) if not entry.is_document]
    assert "step 0" in reasons
    assert f"step {ENTRIES_PER_PAGE + 4}" not in reasons
    assert b"Page 2 of 2" in second.content


def test_timeline_filters_by_kind(clerk, short_payment_case):
    move_case(short_payment_case, clerk)
    client = signed_in(clerk)
    url = order_url(short_payment_case.order)

    cases = client.get(url, {"timeline_kind": "cases"})
    assert {entry.kind for entry in entries_of(cases)} == {"cases"}
    assert "Case moved" in titles_of(cases)

    shipments = client.get(url, {"timeline_kind": "shipments"})
    shipment = short_payment_case.order.shipments.get()
    assert titles_of(shipments) == [f"Shipment {shipment.number}"]


def test_unknown_kind_and_page_show_first_page(clerk, short_payment_case):
    move_case(short_payment_case, clerk)
    response = signed_in(clerk).get(
        order_url(short_payment_case.order),
        {"timeline_kind": "<b>", "timeline_page": "x"},
    )
    assert response.status_code == 200
    assert response.context["timeline"].kind == ""
    assert "Case moved" in titles_of(response)


def count_timeline_queries(viewer, order) -> int:
    order = access_order(viewer, order.number)
    with CaptureQueriesContext(connection) as queries:
        timeline = order_timeline(viewer, order)
        assert timeline is not None
    return len(queries.captured_queries)


def test_query_count_same_for_1_and_50_events(clerk, short_payment_case):
    order = short_payment_case.order
    move_case(short_payment_case, clerk)
    one = count_timeline_queries(clerk, order)
    for number in range(49):
        move_case(short_payment_case, clerk, reason=f"step {number}")
    assert AuditEvent.objects.filter(action="case.state_changed").count() == 50
    fifty = count_timeline_queries(clerk, order)
    assert one == fifty
    # One per kind of subject (11), the currencies, the page's count and
    # rows, and the page's events.
    assert fifty == 15


def test_page_queries_same_for_1_and_50(clerk, short_payment_case):
    order = short_payment_case.order
    client = signed_in(clerk)
    move_case(short_payment_case, clerk)
    client.get(order_url(order))  # Fills the help panel's cache.
    with CaptureQueriesContext(connection) as one:
        client.get(order_url(order))
    for number in range(49):
        move_case(short_payment_case, clerk, reason=f"step {number}")
    with CaptureQueriesContext(connection) as fifty:
        client.get(order_url(order))
    assert len(one.captured_queries) == len(fifty.captured_queries)


# Visibility: one named person per role.


@pytest.fixture
def cases_on_order(short_payment_case, warehouse):
    """Add a warehouse case beside the clerk's short-payment case."""
    order = short_payment_case.order
    shortage = make_case(
        order,
        code="SHORT_SHIP",
        owner_role=Role.WAREHOUSE,
        difference="-2",
    )
    move_case(short_payment_case, None, reason="finance note")
    record_event(
        actor=warehouse,
        action="case.commented",
        target=shortage,
        source=AuditEvent.Source.SCREEN,
        after={"comment_id": 1, "body": "warehouse note"},
    )
    return short_payment_case, shortage


def case_subjects_seen(person, order) -> set[str]:
    response = signed_in(person).get(order_url(order), {"timeline_kind": "cases"})
    assert response.status_code == 200
    return {entry.subject for entry in entries_of(response)}


def test_clerk_sees_only_finance_case_events(clerk, cases_on_order):
    finance, shortage = cases_on_order
    seen = case_subjects_seen(clerk, finance.order)
    assert f"Case #{finance.pk} Short payment" in seen
    assert f"Case #{shortage.pk} Short shipment" not in seen


def test_warehouse_sees_only_warehouse_case_events(warehouse, cases_on_order):
    finance, shortage = cases_on_order
    response = signed_in(warehouse).get(order_url(finance.order))
    seen = {entry.subject for entry in entries_of(response)}
    assert f"Case #{shortage.pk} Short shipment" in seen
    assert f"Case #{finance.pk} Short payment" not in seen
    assert b"finance note" not in response.content
    assert b"warehouse note" in response.content


def test_sales_rep_sees_cases_of_own_orders(sales_rep, cases_on_order):
    finance, shortage = cases_on_order
    seen = case_subjects_seen(sales_rep, finance.order)
    assert f"Case #{finance.pk} Short payment" in seen
    assert f"Case #{shortage.pk} Short shipment" in seen


def test_other_sales_rep_sees_no_case_events(cases_on_order):
    finance, _shortage = cases_on_order
    other_rep = make_person("sam", Role.SALES_REP, group="sales")
    response = signed_in(other_rep).get(order_url(finance.order))
    assert all(entry.kind != "cases" for entry in entries_of(response))
    assert b"finance note" not in response.content


def test_manager_sees_every_case(manager, cases_on_order):
    finance, shortage = cases_on_order
    seen = case_subjects_seen(manager, finance.order)
    assert f"Case #{finance.pk} Short payment" in seen
    assert f"Case #{shortage.pk} Short shipment" in seen


def test_customer_never_gets_staff_timeline(customer, cases_on_order):
    finance, _shortage = cases_on_order
    client = signed_in(customer)
    response = client.get(order_url(finance.order))
    assert response.status_code == 302
    assert (
        response["Location"] == f"/reconciliation/portal/orders/{finance.order.number}/"
    )

    portal = client.get(response["Location"])
    assert portal.status_code == 200
    assert "timeline" not in portal.context
    for text in (b"finance note", b"warehouse note", b"Matching pass", b"Timeline"):
        assert text not in portal.content
    assert order_timeline(customer, finance.order) is None


def test_other_company_customer_gets_404(other_party, cases_on_order):
    finance, _shortage = cases_on_order
    stranger = make_person(
        "bruno", Role.CUSTOMER, customer=other_party, group="customers"
    )
    client = signed_in(stranger)
    assert client.get(order_url(finance.order)).status_code == 404
    portal = f"/reconciliation/portal/orders/{finance.order.number}/"
    assert client.get(portal).status_code == 404


def test_case_hidden_from_clerk_keeps_its_approval_hidden(
    clerk, manager, cases_on_order
):
    _finance, shortage = cases_on_order
    approval = shortage.approvals.create(
        amount="10.00",
        currency_id="USD",
        requested_by=manager,
        request_reason="warehouse write-off",
    )
    record_event(
        actor=manager,
        action="approval.requested",
        target=approval,
        source=AuditEvent.Source.SCREEN,
        after={"amount": "10.00", "currency": "USD"},
        reason="warehouse write-off",
    )
    clerk_page = signed_in(clerk).get(order_url(shortage.order))
    assert b"warehouse write-off" not in clerk_page.content
    manager_page = signed_in(manager).get(order_url(shortage.order))
    entry = next(e for e in entries_of(manager_page) if e.title == "Approval requested")
    assert entry.subject == f"Approval on Case #{shortage.pk} Short shipment"
    assert ("Amount", "", "10.00 USD") in [
        (c.label, c.before, c.after) for c in entry.changes
    ]


def test_event_older_than_documents_sorts_after_them(clerk, short_payment_case):
    event = move_case(short_payment_case, clerk, reason="long ago")
    AuditEvent.objects.filter(pk=event.pk).update(
        occurred_at=timezone.now() - timedelta(days=3650)
    )
    entries = entries_of(signed_in(clerk).get(order_url(short_payment_case.order)))
    assert entries[-1].why == "long ago"
