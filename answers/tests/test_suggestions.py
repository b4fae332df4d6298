"""Similar questions and FAQ entries suggested while a person types."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from answers.models import FaqEntry
from answers.selectors import similarity, suggest_similar, title_tokens
from answers.services import close_as_duplicate, create_question

pytestmark = pytest.mark.django_db


def test_tokens_drop_stop_words_and_case():
    assert title_tokens("How do I WRITE off a Short-Payment?") == {
        "write",
        "off",
        "short",
        "payment",
    }


def test_tokens_of_blank_input_are_empty():
    assert title_tokens(" \u200b ") == set()


def test_similarity_is_cosine_of_sets():
    assert similarity({"a1", "b2"}, {"a1", "b2"}) == 1.0
    assert similarity({"a1", "b2"}, {"a1", "c3", "d4", "e5"}) == pytest.approx(
        1 / (2 * 2**0.5)
    )
    assert similarity(set(), {"a1"}) == 0.0


@pytest.fixture
def knowledge(sales_rep, payments_community, private_community, facilitator):
    create_question(
        author=sales_rep,
        community=payments_community,
        title="How to write off a short payment",
    )
    create_question(
        author=sales_rep, community=payments_community, title="Printer is jammed"
    )
    create_question(
        author=facilitator,
        community=private_community,
        title="Short payment floor for key accounts",
    )
    FaqEntry.objects.create(
        question="Short payment under 1 %: write off?",
        answer="Yes.",
        answer_html="Yes.",
    )
    FaqEntry.objects.create(
        question="Short payment from a customer: what to send",
        answer="A statement.",
        answer_html="A statement.",
        customer_visible=True,
    )


def test_ranking_puts_best_overlap_first(knowledge, outsider):
    titles = [s.title for s in suggest_similar(outsider, "write off short payment")]
    assert titles == [
        "How to write off a short payment",
        "Short payment under 1 %: write off?",
        "Short payment from a customer: what to send",
    ]


def test_hidden_questions_are_never_suggested(knowledge, outsider, facilitator):
    outsider_titles = {
        s.title for s in suggest_similar(outsider, "short payment floor")
    }
    assert "Short payment floor for key accounts" not in outsider_titles
    owner_titles = [
        s.title for s in suggest_similar(facilitator, "short payment floor")
    ]
    assert owner_titles[0] == "Short payment floor for key accounts"


def test_customer_sees_only_customer_faq(knowledge, customer):
    suggestions = suggest_similar(customer, "short payment")
    assert [(s.kind, s.title) for s in suggestions] == [
        ("faq", "Short payment from a customer: what to send")
    ]


def test_duplicates_are_left_out(sales_rep, payments_community):
    original = create_question(
        author=sales_rep, community=payments_community, title="Credit note numbering"
    )
    repeat = create_question(
        author=sales_rep, community=payments_community, title="Credit note numbers"
    )
    close_as_duplicate(actor=sales_rep, question=repeat, original_id=original.pk)
    assert [s.pk for s in suggest_similar(sales_rep, "credit note")] == [original.pk]


def test_suggestions_cost_two_queries(knowledge, outsider):
    with CaptureQueriesContext(connection) as queries:
        suggest_similar(outsider, "write off short payment")
    # Two reads of visible rows; the community subquery is inside them.
    assert len(queries) == 2


def test_like_wildcards_match_literally(sales_rep, payments_community):
    create_question(author=sales_rep, community=payments_community, title="order_id x")
    create_question(author=sales_rep, community=payments_community, title="orderXid y")
    assert [s.title for s in suggest_similar(sales_rep, "order_id")] == ["order_id x"]


class TestEndpoint:
    def test_returns_links_for_typed_title(self, signed_in, knowledge, outsider):
        response = signed_in(outsider).get(
            "/questions/suggest/", {"title": "write off short payment"}
        )
        html = response.content.decode()
        assert response.status_code == 200
        assert html.count('data-testid="suggestion"') == 3
        assert "Short payment floor for key accounts" not in html

    def test_empty_title_returns_nothing(self, signed_in, knowledge, outsider):
        response = signed_in(outsider).get("/questions/suggest/", {"title": ""})
        assert response.status_code == 200
        assert response.content.strip() == b""

    def test_long_input_is_cut(self, signed_in, knowledge, outsider):
        response = signed_in(outsider).get(
            "/questions/suggest/", {"title": "short " * 5000}
        )
        assert response.status_code == 200

    def test_signed_out_gets_login_redirect(self, client, knowledge):
        response = client.get("/questions/suggest/", {"title": "short"})
        assert response.status_code == 302

    def test_help_panel_title_carries_the_hook(
        self, signed_in, sales_rep, payments_community
    ):
        response = signed_in(sales_rep).get(
            "/assist/panel/", {"context": "reconciliation.order.short_payment"}
        )
        html = response.content.decode()
        assert (
            'hx-get="/questions/suggest/" hx-trigger="input changed delay:300ms, '
            'change changed, load[this.value.trim().length > 0]"'
        ) in html
        assert 'id="ask-suggestions"' in html
