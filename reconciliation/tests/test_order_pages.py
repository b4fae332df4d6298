"""The order list and order page: filters, content, and bounded query counts."""

import pytest

from core.testing import signed_in
from reconciliation.models import Discrepancy, ReconStatus

pytestmark = pytest.mark.django_db


def open_discrepancy(
    order, code="SHORT_PAYMENT", explanation="Paid 100.00 of 180.00 USD."
):
    return Discrepancy.objects.create(
        company=order.company,
        order=order,
        code=code,
        severity="medium",
        owner_role="finance_clerk",
        explanation=explanation,
        rule="payment.short@1",
        fingerprint=f"{order.number}:{code}",
    )


def test_list_filters_by_status_and_code(sales_rep, customer_party, make_order):
    short = make_order("10250", customer_party, recon_status=ReconStatus.EXCEPTION)
    open_discrepancy(short)
    late = make_order("10251", customer_party, recon_status=ReconStatus.EXCEPTION)
    open_discrepancy(late, code="LATE_SHIP")
    make_order("10252", customer_party)
    client = signed_in(sales_rep)

    exception = client.get("/reconciliation/orders/", {"status": "exception"})
    assert [order.number for order in exception.context["page"]] == ["10251", "10250"]

    short_paid = client.get("/reconciliation/orders/", {"code": "SHORT_PAYMENT"})
    assert [order.number for order in short_paid.context["page"]] == ["10250"]
    assert short_paid.context["page"][0].open_discrepancies == 1


def test_list_ignores_unknown_filter_values(sales_rep, customer_party, make_order):
    make_order("10250", customer_party)
    response = signed_in(sales_rep).get(
        "/reconciliation/orders/", {"status": "bogus", "code": "<script>"}
    )
    assert response.status_code == 200
    assert [order.number for order in response.context["page"]] == ["10250"]


def test_list_search_by_customer(sales_rep, customer_party, other_party, make_order):
    make_order("10250", customer_party)
    make_order("10251", other_party)
    response = signed_in(sales_rep).get("/reconciliation/orders/", {"q": "alfreds"})
    assert [order.number for order in response.context["page"]] == ["10250"]


def test_list_query_count_is_constant(
    sales_rep, customer_party, make_order, django_assert_num_queries
):
    for number in range(10250, 10253):
        open_discrepancy(make_order(str(number), customer_party))
    client = signed_in(sales_rep)
    # Session, user, help version and four for the help panel: the context
    # chain, one count of FAQ entries and documents, one read of their rows
    # with the answered questions, and the super-users. Then the paginator's
    # count, the page of orders and the unread count in the header.
    with django_assert_num_queries(10):
        client.get("/reconciliation/orders/")
    for number in range(10253, 10290):
        open_discrepancy(make_order(str(number), customer_party))
    # The panel now comes from the cache.
    with django_assert_num_queries(6):
        client.get("/reconciliation/orders/")


def test_order_page_shows_lines_discrepancies_and_panel(
    sales_rep, super_user, customer_party, make_order
):
    order = make_order("10250", customer_party, recon_status=ReconStatus.EXCEPTION)
    open_discrepancy(
        order, explanation="Invoice INV-10250 was paid 100.00 of 180.00 USD."
    )
    response = signed_in(sales_rep).get("/reconciliation/orders/10250/")
    content = response.content.decode()

    assert response.status_code == 200
    assert response.context["help_context"] == "reconciliation.order.short_payment"
    assert "SHORT_PAYMENT" in content
    assert "Operations/finance clerk" in content
    assert "Invoice INV-10250 was paid 100.00 of 180.00 USD." in content
    assert 'data-testid="help-panel"' in content
    assert "Petra Tester" in content


def test_order_without_discrepancy_uses_order_context(
    sales_rep, customer_party, make_order
):
    make_order("10250", customer_party)
    response = signed_in(sales_rep).get("/reconciliation/orders/10250/")
    assert response.context["help_context"] == "reconciliation.order"


def test_unknown_order_is_404(sales_rep):
    response = signed_in(sales_rep).get("/reconciliation/orders/99999/")
    assert response.status_code == 404


def test_order_page_query_count_is_constant(
    sales_rep, super_user, customer_party, make_order, django_assert_num_queries
):
    order = make_order("10250", customer_party)
    open_discrepancy(order)
    client = signed_in(sales_rep)
    # session, user, order, lines, products, shipments, invoices, discrepancies,
    # the cases the reader may open, match groups, the help version, the help
    # panel (context chain, one census of FAQ entries and documents, one read
    # of their rows and of the answered questions, super-users), the unread
    # count in the header, and the timeline's 10 (reconciliation.timeline)
    with django_assert_num_queries(26):
        client.get("/reconciliation/orders/10250/")
    # The same panel again comes from the cache.
    with django_assert_num_queries(22):
        client.get("/reconciliation/orders/10250/")
    open_discrepancy(order, code="LATE_SHIP")
    with django_assert_num_queries(22):
        client.get("/reconciliation/orders/10250/")


def test_order_page_links_only_openable_cases(sales_rep, customer_party, make_order):
    """A rep who did not take the order sees its cases but links only their own."""
    from accounts.models import Role
    from conftest import make_person

    nancy = make_person("nancy", Role.SALES_REP)
    order = make_order("10668", customer_party, sales_rep=nancy)
    theirs = open_discrepancy(order, code="DAMAGED")
    mine = Discrepancy.objects.create(
        company=order.company,
        order=order,
        code="PRICE_MISMATCH",
        severity="medium",
        owner_role="sales_rep",
        assignee=sales_rep,
        explanation="The customer disputes the price.",
        rule="price.mismatch@1",
        fingerprint="10668:PRICE_MISMATCH",
    )

    page = signed_in(sales_rep).get("/reconciliation/orders/10668/").content.decode()

    assert f'href="/reconciliation/cases/{theirs.pk}/"' not in page
    assert f'href="/reconciliation/work/cases/{theirs.pk}/"' not in page
    assert f'href="/reconciliation/cases/{mine.pk}/"' in page
    assert f'href="/reconciliation/work/cases/{mine.pk}/"' in page
    assert "Damaged on delivery" in page
    assert (
        signed_in(sales_rep).get(f"/reconciliation/cases/{mine.pk}/").status_code == 200
    )


def test_pager_keeps_filters(sales_rep, customer_party, make_order):
    for number in range(10300, 10351):
        make_order(str(number), customer_party)
    response = signed_in(sales_rep).get(
        "/reconciliation/orders/", {"q": "alfreds", "page": "1"}
    )
    assert b'href="?q=alfreds&amp;page=2">Next</a>' in response.content
