"""Asking: hashtags, CRM function, the ask page, the list and the pages' guards."""

import pytest

from answers.models import Question
from answers.services import ask_question, create_question
from assist.models import HelpContext
from notifications.models import Notification
from social.models import Hashtag

# Typing, pasting and autofill fire input, and a page may load with a title.
TRIGGER = (
    'hx-trigger="input changed delay:300ms, change changed, '
    'load[this.value.trim().length > 0]"'
)

pytestmark = pytest.mark.django_db


def test_tags_from_title_and_body_share_social_hashtags(sales_rep, payments_community):
    question = create_question(
        author=sales_rep,
        community=payments_community,
        title="#Onboarding: where do credit notes go?",
        body="Also #ＯＮＢＯＡＲＤＩＮＧ and #Zähler, not #10250.",
    )
    names = sorted(question.hashtags.values_list("name", flat=True))
    assert names == ["onboarding", "zähler"]
    assert Hashtag.objects.get(name="onboarding").display_name == "Onboarding"


def test_invisible_characters_do_not_split_tags(sales_rep, payments_community):
    question = create_question(
        author=sales_rep,
        community=payments_community,
        title="Tags",
        body="#\u200bonboarding and #onboard\u200ding and #\u200b",
    )
    assert list(question.hashtags.values_list("name", flat=True)) == ["onboarding"]


def test_function_comes_from_context_then_community(
    sales_rep, payments_community, payments
):
    short_payment = HelpContext.objects.get(key="reconciliation.order.short_payment")
    from_screen = create_question(
        author=sales_rep,
        community=payments_community,
        title="Short?",
        context=short_payment,
    )
    from_community = create_question(
        author=sales_rep, community=payments_community, title="General?"
    )
    assert from_screen.crm_function == payments
    assert from_community.crm_function == payments


def test_ask_question_notifies_super_users(sales_rep, super_user, payments_community):
    question = ask_question(
        asker=sales_rep, community=payments_community, title="Where is the report?"
    )
    notes = Notification.objects.filter(recipient=super_user)
    assert [(n.kind, n.message, n.url) for n in notes] == [
        (
            "question_routed",
            "Sally Tester asked: Where is the report?",
            f"/questions/{question.pk}/",
        )
    ]


def test_ask_question_in_private_space_needs_membership(outsider, private_community):
    from django.core.exceptions import PermissionDenied

    with pytest.raises(PermissionDenied, match="Join Pricing internal before asking"):
        ask_question(asker=outsider, community=private_community, title="Floor?")
    assert Question.objects.count() == 0


class TestAskPage:
    def test_lists_only_communities_one_may_ask_in(
        self, signed_in, outsider, payments_community, private_community
    ):
        response = signed_in(outsider).get("/questions/ask/")
        assert response.status_code == 200
        choices = [
            c.slug for c in response.context["form"].fields["community"].queryset
        ]
        assert choices == ["payments"]

    def test_title_input_carries_the_suggestion_hook(
        self, signed_in, sales_rep, payments_community
    ):
        response = signed_in(sales_rep).get("/questions/ask/")
        html = response.content.decode()
        assert 'hx-get="/questions/suggest/"' in html
        assert TRIGGER in html
        assert 'id="ask-page-suggestions"' in html

    def test_posts_and_redirects(self, signed_in, sales_rep, payments_community):
        response = signed_in(sales_rep).post(
            "/questions/ask/",
            {
                "community": payments_community.pk,
                "title": "Where are credit notes?",
                "body": "#creditnotes",
                "context": "reconciliation.order",
            },
        )
        question = Question.objects.get()
        assert response.status_code == 302
        assert response["Location"] == f"/questions/{question.pk}/"
        assert question.context.key == "reconciliation.order"

    def test_private_community_of_others_is_rejected(
        self, signed_in, outsider, private_community
    ):
        response = signed_in(outsider).post(
            "/questions/ask/", {"community": private_community.pk, "title": "Floor?"}
        )
        assert response.status_code == 422
        assert (
            "That community is not one you can ask in: pick one from the list."
            in response.content.decode()
        )
        assert Question.objects.count() == 0

    def test_empty_title_names_the_problem(
        self, signed_in, sales_rep, payments_community
    ):
        response = signed_in(sales_rep).post(
            "/questions/ask/", {"community": payments_community.pk, "title": " \u200b "}
        )
        assert response.status_code == 422
        assert "The question is empty" in response.content.decode()

    def test_unknown_context_is_rejected(
        self, signed_in, sales_rep, payments_community
    ):
        response = signed_in(sales_rep).post(
            "/questions/ask/",
            {
                "community": payments_community.pk,
                "title": "Hi?",
                "context": "nope.nope",
            },
        )
        assert response.status_code == 422
        assert "Unknown help context" in response.content.decode()


class TestAskCustomerVisibleCommunity:
    """An employee's question reaches customers only by an explicit choice."""

    def test_employee_form_starts_on_empty_choice(
        self, signed_in, sales_rep, customer_community, payments_community
    ):
        response = signed_in(sales_rep).get("/questions/ask/")
        html = response.content.decode()
        assert '<option value="" selected>Pick a community</option>' in html
        assert f'<option value="{customer_community.pk}" selected' not in html

    def test_employee_form_names_customer_communities(
        self, signed_in, sales_rep, customer_community, payments_community
    ):
        response = signed_in(sales_rep).get("/questions/ask/")
        html = response.content.decode()
        assert 'data-testid="customer-visible-note"' in html
        assert "Customers read questions in Customer corner." in html
        assert 'name="customers_may_read"' in html

    def test_post_without_community_is_rejected(
        self, signed_in, sales_rep, customer_community, payments_community
    ):
        response = signed_in(sales_rep).post(
            "/questions/ask/", {"title": "Internal: their margin is low"}
        )
        assert response.status_code == 422
        assert "Pick the community to ask in." in response.content.decode()
        assert Question.objects.count() == 0

    def test_forged_post_without_confirmation_is_rejected(
        self, signed_in, sales_rep, customer_community
    ):
        response = signed_in(sales_rep).post(
            "/questions/ask/",
            {
                "community": customer_community.pk,
                "title": "Internal: their margin is low",
            },
        )
        html = response.content.decode()
        assert response.status_code == 422
        assert "Customers can read questions in Customer corner." in html
        assert "Customers may read this question" in html
        assert Question.objects.count() == 0

    def test_confirmed_post_is_asked(self, signed_in, sales_rep, customer_community):
        response = signed_in(sales_rep).post(
            "/questions/ask/",
            {
                "community": customer_community.pk,
                "title": "When do the new price lists start?",
                "customers_may_read": "on",
            },
        )
        question = Question.objects.get()
        assert response.status_code == 302
        assert question.community == customer_community

    def test_customer_needs_no_confirmation(
        self, signed_in, customer, customer_community
    ):
        page = signed_in(customer).get("/questions/ask/").content.decode()
        assert 'name="customers_may_read"' not in page
        assert "Pick a community" not in page
        response = signed_in(customer).post(
            "/questions/ask/",
            {"community": customer_community.pk, "title": "Where is my order?"},
        )
        assert response.status_code == 302
        assert Question.objects.get().community == customer_community


class TestQuestionPages:
    def test_private_question_is_404_for_outsider_and_customer(
        self, signed_in, private_question, outsider, customer, member
    ):
        url = f"/questions/{private_question.pk}/"
        assert signed_in(outsider).get(url).status_code == 404
        assert signed_in(customer).get(url).status_code == 404
        assert signed_in(member).get(url).status_code == 200

    def test_list_shows_visible_questions_only(
        self, signed_in, outsider, member, payments_question, private_question
    ):
        titles = [
            q.title for q in signed_in(outsider).get("/questions/").context["page"]
        ]
        assert titles == ["How do I write off a short payment?"]
        titles = [q.title for q in signed_in(member).get("/questions/").context["page"]]
        assert titles == [
            "What is the floor price for chai?",
            "How do I write off a short payment?",
        ]

    def test_list_filters_by_normalized_tag(
        self, signed_in, outsider, payments_question
    ):
        response = signed_in(outsider).get("/questions/?tag=SHORTPAY")
        assert [q.pk for q in response.context["page"]] == [payments_question.pk]
        response = signed_in(outsider).get("/questions/?tag=other")
        assert list(response.context["page"]) == []

    def test_signed_out_visitor_is_sent_to_login(self, client, payments_question):
        response = client.get(f"/questions/{payments_question.pk}/")
        assert response.status_code == 302
        assert response["Location"].startswith("/accounts/login/")

    def test_question_page_shows_tags(self, signed_in, outsider, payments_question):
        html = signed_in(outsider).get(f"/questions/{payments_question.pk}/").content
        assert b'href="/questions/?tag=shortpay">#shortpay</a>' in html
