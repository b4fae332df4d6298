"""Help panel ranking by the reader's learner group, and answered questions."""

import pytest

from accounts.models import LearnerGroup, Role
from answers.models import FaqEntry, Question
from assist.models import HelpContext
from assist.selectors import build_help_panel, compute_help_panel, viewer_audience
from assist.tests.factories import answered
from conftest import make_person
from library.models import Document

pytestmark = pytest.mark.django_db

SHORT_PAYMENT = "reconciliation.order.short_payment"
STATEMENT = "portal.statement"


def document(title: str, key: str, *groups: str, helpful: int = 0) -> Document:
    item = Document.objects.create(
        title=title,
        summary=f"About {title}",
        body="x",
        body_html="<p>x</p>",
        helpful_count=helpful,
        customer_visible=True,
    )
    item.contexts.add(HelpContext.objects.get(key=key))
    item.learner_groups.set(LearnerGroup.objects.filter(slug__in=groups))
    return item


def document_titles(viewer) -> list[str]:
    panel = build_help_panel(viewer=viewer, key=SHORT_PAYMENT)
    return [item.title for item in panel.documents]


def question_titles(viewer, key: str = SHORT_PAYMENT) -> list[str]:
    panel = build_help_panel(viewer=viewer, key=key)
    return [item.title for item in panel.answered_questions]


class TestLearnerGroups:
    def test_content_for_the_readers_group_ranks_first(self, sales_rep, super_user):
        document("For everyone", SHORT_PAYMENT, helpful=9)
        document("For operations", SHORT_PAYMENT, "operations")
        document("For sales", SHORT_PAYMENT, "sales")

        # sally is in sales, petra in operations.
        assert document_titles(sales_rep) == [
            "For sales",
            "For everyone",
            "For operations",
        ]
        assert document_titles(super_user) == [
            "For operations",
            "For everyone",
            "For sales",
        ]

    def test_the_context_level_still_comes_before_the_group(self, sales_rep):
        document("Parent, for sales", "reconciliation.order", "sales")
        document("Exact, for everyone", SHORT_PAYMENT)
        ranked = compute_help_panel(viewer=sales_rep, key=SHORT_PAYMENT)
        assert [item.title for item in ranked.documents] == [
            "Exact, for everyone",
            "Parent, for sales",
        ]
        # The panel shows the nearest level only (HelpPanel.focused).
        assert document_titles(sales_rep) == ["Exact, for everyone"]

    def test_a_reader_without_a_group_gets_helpfulness_order(self):
        nobody = make_person("nina", Role.SALES_REP)
        document("Less helpful, for sales", SHORT_PAYMENT, "sales", helpful=1)
        document("More helpful", SHORT_PAYMENT, helpful=5)
        assert document_titles(nobody) == ["More helpful", "Less helpful, for sales"]

    def test_faq_entries_for_the_readers_group_rank_first(self, sales_rep):
        context = HelpContext.objects.get(key=SHORT_PAYMENT)
        for question, groups, helpful in (
            ("For everyone", [], 9),
            ("For sales", ["sales"], 0),
        ):
            entry = FaqEntry.objects.create(
                question=question,
                answer="x",
                answer_html="<p>x</p>",
                helpful_count=helpful,
            )
            entry.contexts.add(context)
            entry.learner_groups.set(LearnerGroup.objects.filter(slug__in=groups))
        panel = build_help_panel(viewer=sales_rep, key=SHORT_PAYMENT)
        assert [item.question for item in panel.faq_entries] == [
            "For sales",
            "For everyone",
        ]

    def test_panels_are_cached_per_group(self, sales_rep, super_user, customer):
        assert viewer_audience(sales_rep) != viewer_audience(super_user)
        assert viewer_audience(customer) == f"external:{customer.customer_id}"


class TestAnsweredQuestions:
    def test_answered_questions_of_the_screen_are_listed(
        self, sales_rep, payments_community
    ):
        answered("Exact question", payments_community, SHORT_PAYMENT)
        answered("Parent question", payments_community, "reconciliation.order")
        Question.objects.create(
            community=payments_community,
            context=HelpContext.objects.get(key=SHORT_PAYMENT),
            author_name="Asker",
            title="Still open",
        )
        ranked = compute_help_panel(viewer=sales_rep, key=SHORT_PAYMENT)
        assert [item.title for item in ranked.answered_questions] == [
            "Exact question",
            "Parent question",
        ]
        assert question_titles(sales_rep) == ["Exact question"]

    def test_private_community_questions_stay_out(self, facilitator, private_community):
        answered("Private pricing rule", private_community, SHORT_PAYMENT)
        # fran owns the private community and still gets none in the panel,
        # which is cached for everyone in her learner group.
        assert question_titles(facilitator) == []

    def test_a_customer_sees_only_their_companys_questions(
        self, customer, customer_party, other_party, customer_community
    ):
        # A customer reads only the portal's contexts.
        answered("Ours", customer_community, STATEMENT, customer=customer_party)
        answered("Theirs", customer_community, STATEMENT, customer=other_party)
        answered("General", customer_community, STATEMENT)
        assert sorted(question_titles(customer, STATEMENT)) == ["General", "Ours"]

        other = make_person(
            "otis", Role.CUSTOMER, customer=other_party, group="customers"
        )
        assert sorted(question_titles(other, STATEMENT)) == ["General", "Theirs"]

    def test_employees_see_customer_community_questions(
        self, sales_rep, customer_party, customer_community
    ):
        answered("Ours", customer_community, SHORT_PAYMENT, customer=customer_party)
        assert question_titles(sales_rep) == ["Ours"]


def test_the_json_lists_answered_questions(
    sales_rep, payments_community, client, settings
):
    settings.COMMONPLACE_BASE_URL = "https://learn.example.com"
    question = answered("Exact question", payments_community, SHORT_PAYMENT)
    client.force_login(sales_rep)
    body = client.get("/api/assist/help", {"context": SHORT_PAYMENT}).json()
    assert body["answered_questions"] == [
        {
            "id": question.pk,
            "title": "Exact question",
            "url": f"https://learn.example.com/questions/{question.pk}/",
            "context": SHORT_PAYMENT,
        }
    ]
