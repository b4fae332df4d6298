"""A customer account reaches only what is meant for customers, by page or API."""

import pytest
from django.test import Client

from answers.models import FaqEntry
from answers.services import create_question
from assist.models import HelpContext
from core.testing import signed_in
from library.models import Document

pytestmark = pytest.mark.django_db


@pytest.fixture
def internal_question(sales_rep, payments_community):
    return create_question(
        author=sales_rep,
        community=payments_community,
        title="Margin on the ALFKI order is thin, discount or not?",
        context=HelpContext.objects.get(key="reconciliation.order.short_payment"),
    )


@pytest.fixture
def internal_faq():
    entry = FaqEntry.objects.create(
        question="Internal write-off limits", answer="500", answer_html="<p>500</p>"
    )
    entry.contexts.add(HelpContext.objects.get(key="reconciliation.order"))
    return entry


@pytest.fixture
def internal_document():
    document = Document.objects.create(
        title="Price list 1998", summary="Internal prices", body="x", body_html="x"
    )
    document.contexts.add(HelpContext.objects.get(key="reconciliation.order"))
    return document


class TestCustomerCannotReachInternalContent:
    def test_internal_question_page_is_404(self, customer, internal_question):
        response = signed_in(customer).get(f"/questions/{internal_question.pk}/")
        assert response.status_code == 404
        assert b"Margin" not in response.content

    def test_internal_question_api_is_404(self, customer, internal_question):
        response = signed_in(customer).get(
            f"/api/answers/questions/{internal_question.pk}"
        )
        assert response.status_code == 404
        assert "Margin" not in response.content.decode()

    def test_internal_community_page_is_404(self, customer, payments_community):
        response = signed_in(customer).get("/communities/payments/")
        assert response.status_code == 404

    def test_community_list_shows_customer_spaces_only(
        self, customer, payments_community, customer_community, private_community
    ):
        response = signed_in(customer).get("/communities/")
        assert response.status_code == 200
        assert b"Customer corner" in response.content
        assert b"Payments" not in response.content
        assert b"Pricing internal" not in response.content

    def test_internal_faq_and_document_pages_are_404(
        self, customer, internal_faq, internal_document
    ):
        client = signed_in(customer)
        assert client.get(f"/questions/faq/{internal_faq.pk}/").status_code == 404
        assert client.get(f"/library/{internal_document.pk}/").status_code == 404

    def test_help_api_hides_internal_content(
        self, customer, internal_faq, internal_document, super_user
    ):
        # An internal key reads as unknown to a customer, with no content.
        response = signed_in(customer).get(
            "/api/assist/help", {"context": "reconciliation.order"}
        )
        body = response.json()
        assert response.status_code == 404
        assert list(body) == ["detail"]
        assert "Internal write-off limits" not in body["detail"]

    def test_help_panel_page_hides_internal_content(
        self, customer, internal_faq, internal_document, super_user
    ):
        response = signed_in(customer).get(
            "/assist/panel/", {"context": "reconciliation.order"}
        )
        assert response.status_code == 404
        assert b"Internal write-off limits" not in response.content
        assert b"Price list 1998" not in response.content
        assert b"Petra" not in response.content

    def test_tag_page_hides_internal_posts(
        self, customer, sales_rep, payments_community
    ):
        from social.services import publish_post

        publish_post(
            author=sales_rep, community=payments_community, body="#pricing secret"
        )
        response = signed_in(customer).get("/tags/pricing/")
        assert response.status_code == 200
        assert b"secret" not in response.content


class TestCustomerOrders:
    def test_sees_own_orders_only(
        self, customer, customer_party, other_party, make_order
    ):
        make_order("10643", customer_party)
        make_order("10248", other_party)
        response = signed_in(customer).get("/reconciliation/orders/", follow=True)
        assert response.redirect_chain == [("/reconciliation/portal/", 302)]
        assert response.status_code == 200
        assert b"10643" in response.content
        assert b"10248" not in response.content

    def test_other_customers_order_is_404(self, customer, other_party, make_order):
        make_order("10248", other_party)
        client = signed_in(customer)
        assert client.get("/reconciliation/orders/10248/").status_code == 404
        assert client.get("/api/reconciliation/orders/10248").status_code == 404

    def test_api_lists_own_orders_only(
        self, customer, customer_party, other_party, make_order
    ):
        make_order("10643", customer_party)
        make_order("10248", other_party)
        response = signed_in(customer).get("/api/reconciliation/orders")
        assert [order["number"] for order in response.json()] == ["10643"]

    def test_own_order_page_hides_discrepancies(
        self, customer, customer_party, make_order
    ):
        from reconciliation.models import Discrepancy

        order = make_order("10643", customer_party)
        Discrepancy.objects.create(
            company=order.company,
            order=order,
            code="SHORT_PAYMENT",
            severity="medium",
            owner_role="finance_clerk",
            explanation="Internal note: customer disputes price",
            rule="payment.short@1",
            fingerprint="x",
        )
        response = signed_in(customer).get("/reconciliation/orders/10643/", follow=True)
        assert response.redirect_chain == [
            ("/reconciliation/portal/orders/10643/", 302)
        ]
        assert response.status_code == 200
        assert b"Internal note" not in response.content
        assert b"Sales rep" not in response.content


def test_signed_out_visitor_is_sent_to_login(db):
    response = Client().get("/reconciliation/orders/")
    assert response.status_code == 302
    assert response["Location"] == "/accounts/login/?next=/reconciliation/orders/"
