"""A customer has one order page, the portal's; the staff order page redirects.

Named people: carla (customer of Alfreds Futterkiste), bruno (customer of
Bon app'), sally (sales rep).
"""

import re

import pytest

from accounts.models import Role
from conftest import make_person
from core.testing import signed_in
from reconciliation.tests.factories import create_order

pytestmark = pytest.mark.django_db


@pytest.fixture
def order(customer_party, sales_rep):
    return create_order(
        lines=[("10", "36.36")],
        company=customer_party.company,
        customer=customer_party,
        sales_rep=sales_rep,
    )


@pytest.fixture
def bruno(other_party):
    return make_person("bruno", Role.CUSTOMER, customer=other_party)


def test_staff_order_page_redirects_customer(order, customer):
    response = signed_in(customer).get(f"/reconciliation/orders/{order.number}/")
    assert response.status_code == 302
    assert response["Location"] == f"/reconciliation/portal/orders/{order.number}/"


def test_redirect_keeps_hidden_orders_404(order, bruno):
    client = signed_in(bruno)
    assert client.get(f"/reconciliation/orders/{order.number}/").status_code == 404
    assert client.get("/reconciliation/orders/NOPE/").status_code == 404


def test_staff_order_list_redirects_customer(customer):
    response = signed_in(customer).get("/reconciliation/orders/?q=10")
    assert response.status_code == 302
    assert response["Location"] == "/reconciliation/portal/"


def test_staff_still_get_the_staff_order_page(order, sales_rep):
    response = signed_in(sales_rep).get(f"/reconciliation/orders/{order.number}/")
    assert response.status_code == 200
    assert response.templates[0].name == "reconciliation/order_detail.html"


def order_links(html: str) -> set[str]:
    return set(re.findall(r'href="(/reconciliation/[^"]*orders/[^"]*)"', html))


def test_customer_links_point_at_portal_order(order, customer):
    client = signed_in(customer)
    for url in (
        "/",
        "/reconciliation/portal/",
        f"/reconciliation/portal/orders/{order.number}/",
        f"/reconciliation/portal/orders/{order.number}/problem/",
        "/reconciliation/portal/statement/",
    ):
        html = client.get(url).content.decode()
        assert 'href="/reconciliation/orders/"' not in html, url
        for link in order_links(html):
            assert link.startswith("/reconciliation/portal/orders/"), (url, link)
    home = client.get("/").content.decode()
    assert '<a href="/reconciliation/portal/">Orders</a>' in home


def test_portal_order_page_shows_order_summary(order, customer):
    response = signed_in(customer).get(f"/reconciliation/portal/orders/{order.number}/")
    text = response.content.decode()
    assert "total 363.60 USD" in text
    assert "363.6000" not in text
