"""The FAQ index and the question list: filters, visibility and query counts.

Named people: ``outsider`` is an employee in no community, ``member``
belongs to the private pricing community, ``moderator`` has the moderator
role, ``super_user`` owns the payments FAQ and ``customer`` is a customer
account.
"""

import datetime

import pytest
from django.test import override_settings

from accounts.models import CrmFunction
from answers.models import FaqEntry
from answers.services import accept_answer, create_question, post_answer
from assist.models import HelpContext
from library.forms import ItemForm
from social.models import Post
from social.services import publish_post

pytestmark = pytest.mark.django_db

SHORT_PAYMENT = "reconciliation.order.short_payment"


def make_entry(
    question: str,
    *,
    crm_function: CrmFunction | None = None,
    customer_visible: bool = False,
    keys: tuple[str, ...] = (),
    due: datetime.date | None = datetime.date(2999, 1, 1),
) -> FaqEntry:
    entry = FaqEntry.objects.create(
        question=question,
        answer=f"Answer to {question}",
        answer_html=f"<p>Answer to <em>{question}</em> &amp; more</p>",
        crm_function=crm_function,
        customer_visible=customer_visible,
        last_reviewed_on=datetime.date(2026, 1, 1),
        review_due_on=due,
    )
    entry.contexts.set(HelpContext.objects.filter(key__in=keys))
    return entry


def questions_of(response) -> list[str]:
    return [entry.question for entry in response.context["page"]]


@pytest.fixture
def entries(payments):
    return {
        "fee": make_entry(
            "Is a small short payment a bank fee?",
            crm_function=payments,
            keys=(SHORT_PAYMENT,),
        ),
        "overdue": make_entry(
            "Who approves a write-off?",
            crm_function=payments,
            due=datetime.date(2020, 1, 1),
        ),
        "general": make_entry("Where is the glossary?"),
        "portal": make_entry(
            "How do I report a damaged delivery?",
            customer_visible=True,
            keys=("reconciliation.order",),
        ),
    }


class TestFaqIndex:
    def test_employees_see_every_entry_grouped(self, signed_in, entries, outsider):
        response = signed_in(outsider).get("/questions/faq/")
        assert response.status_code == 200
        assert questions_of(response) == [
            "Is a small short payment a bank fee?",
            "Who approves a write-off?",
            "How do I report a damaged delivery?",
            "Where is the glossary?",
        ]
        html = response.content.decode()
        assert html.count('data-testid="faq-group"') == 2
        assert "<h2>Payments</h2>" in html
        assert "<h2>General</h2>" in html

    def test_customer_sees_only_customer_entries(self, signed_in, entries, customer):
        response = signed_in(customer).get("/questions/faq/")
        assert questions_of(response) == ["How do I report a damaged delivery?"]
        assert [f.slug for f in response.context["functions"]] == []
        # The entry covers an internal screen, which a customer is not shown.
        assert [c.key for c in response.context["contexts"]] == []

    def test_screen_keys_shown_to_employees_only(
        self, signed_in, entries, customer, outsider
    ):
        customer_html = signed_in(customer).get("/questions/faq/").content.decode()
        employee_html = signed_in(outsider).get("/questions/faq/").content.decode()

        assert "reconciliation.order)" not in customer_html
        assert 'title="reconciliation.order"' not in customer_html
        assert "(reconciliation.order)</option>" in employee_html

    def test_row_shows_short_plain_answer(self, signed_in, entries, outsider):
        html = signed_in(outsider).get("/questions/faq/").content.decode()
        assert "Answer to Where is the glossary? &amp; more" in html
        assert "<em>" not in html

    @pytest.mark.parametrize(
        ("who", "review_rows"),
        [
            ("outsider", 0),
            ("member", 0),
            ("customer", 0),
            ("super_user", 2),
            ("moderator", 4),
            ("facilitator", 4),
        ],
    )
    def test_review_state_only_for_owners(
        self, signed_in, entries, request, who, review_rows
    ):
        person = request.getfixturevalue(who)
        html = signed_in(person).get("/questions/faq/").content.decode()
        assert html.count('data-testid="review-state"') == review_rows

    def test_owner_sees_why_entry_needs_review(self, signed_in, entries, super_user):
        html = signed_in(super_user).get("/questions/faq/").content.decode()
        assert "Needs review:</strong> Its review was due on 2020-01-01" in html
        assert "next review due 2999-01-01" in html

    def test_filter_by_function(self, signed_in, entries, outsider):
        response = signed_in(outsider).get("/questions/faq/?function=payments")
        assert questions_of(response) == [
            "Is a small short payment a bank fee?",
            "Who approves a write-off?",
        ]

    def test_filter_general(self, signed_in, entries, outsider):
        response = signed_in(outsider).get("/questions/faq/?function=general")
        assert questions_of(response) == [
            "How do I report a damaged delivery?",
            "Where is the glossary?",
        ]

    def test_filter_by_screen_includes_screens_below(
        self, signed_in, entries, outsider
    ):
        client = signed_in(outsider)
        parent = client.get("/questions/faq/?context=reconciliation.order")
        child = client.get(f"/questions/faq/?context={SHORT_PAYMENT}")
        assert questions_of(parent) == [
            "Is a small short payment a bank fee?",
            "How do I report a damaged delivery?",
        ]
        assert questions_of(child) == ["Is a small short payment a bank fee?"]

    def test_screen_choices_show_titles(self, signed_in, entries, outsider):
        html = signed_in(outsider).get("/questions/faq/").content.decode()
        assert f"Short payment ({SHORT_PAYMENT})" in html

    @pytest.mark.parametrize(
        ("query", "message"),
        [
            ("function=nope", "No CRM function &#x27;nope&#x27;: pick one"),
            ("context=no.such", "No screen &#x27;no.such&#x27;: pick one"),
        ],
    )
    def test_unknown_filter_is_400(self, signed_in, entries, outsider, query, message):
        response = signed_in(outsider).get(f"/questions/faq/?{query}")
        assert response.status_code == 400
        assert message in response.content.decode()
        assert questions_of(response) == []

    def test_nul_bytes_in_filters_are_dropped(self, signed_in, entries, outsider):
        # PostgreSQL rejects NUL in a text parameter, so it must not reach a query.
        client = signed_in(outsider)
        by_function = client.get("/questions/faq/", {"function": "pay\x00ments"})
        by_screen = client.get("/questions/faq/", {"context": f"{SHORT_PAYMENT}\x00"})
        unknown = client.get("/questions/faq/", {"context": "no\x00.such"})
        assert by_function.status_code == 200
        assert questions_of(by_function) == [
            "Is a small short payment a bank fee?",
            "Who approves a write-off?",
        ]
        assert by_screen.status_code == 200
        assert questions_of(by_screen) == ["Is a small short payment a bank fee?"]
        assert unknown.status_code == 400
        assert "No screen &#x27;no.such&#x27;: pick one" in unknown.content.decode()

    @override_settings(ANSWERS_PAGE_SIZE=3)
    def test_paginated(self, signed_in, entries, outsider):
        client = signed_in(outsider)
        assert len(questions_of(client.get("/questions/faq/"))) == 3
        assert questions_of(client.get("/questions/faq/?page=2")) == [
            "Where is the glossary?"
        ]

    def test_anonymous_goes_to_login(self, client):
        response = client.get("/questions/faq/")
        assert response.status_code == 302
        assert response["Location"].startswith("/accounts/login/")

    # A customer's page runs no query for the CRM function filter.
    @pytest.mark.parametrize(("who", "queries"), [("super_user", 10), ("customer", 9)])
    def test_query_count_is_constant(
        self, signed_in, payments, request, who, queries, django_assert_num_queries
    ):
        person = request.getfixturevalue(who)
        client = signed_in(person)
        for number in range(2):
            make_entry(
                f"Few {number}",
                crm_function=payments,
                customer_visible=True,
                keys=(SHORT_PAYMENT,),
            )
        client.get("/questions/faq/")
        with django_assert_num_queries(queries):
            client.get("/questions/faq/")
        for number in range(20):
            make_entry(
                f"Many {number}",
                crm_function=payments,
                customer_visible=True,
                keys=(SHORT_PAYMENT, "reconciliation.order"),
            )
        with django_assert_num_queries(queries):
            client.get("/questions/faq/")


def test_questions_page_links_faq_index(signed_in, outsider):
    html = signed_in(outsider).get("/questions/").content.decode()
    assert 'href="/questions/faq/"' in html


@pytest.fixture
def answered(sales_rep, outsider, super_user, payments_community):
    """Three payments questions: one unanswered, one answered, one accepted."""
    create_question(
        author=sales_rep, community=payments_community, title="Nobody answered"
    )
    answered = create_question(
        author=sales_rep, community=payments_community, title="Answered #fees"
    )
    post_answer(author=outsider, question=answered, body="Maybe.")
    accepted = create_question(
        author=sales_rep, community=payments_community, title="Accepted #fees"
    )
    post_answer(author=outsider, question=accepted, body="First try.")
    best = post_answer(author=super_user, question=accepted, body="Yes, code BF.")
    accept_answer(actor=sales_rep, answer=best)


@pytest.fixture
def mixed(answered, member, private_community, customer, customer_community):
    create_question(author=member, community=private_community, title="Floor price")
    create_question(
        author=customer, community=customer_community, title="Where is my order?"
    )


def titles_of(response) -> list[str]:
    return [question.title for question in response.context["page"]]


class TestQuestionList:
    def test_rows_show_answer_count_and_accepted(self, signed_in, answered, outsider):
        response = signed_in(outsider).get("/questions/")
        counts = {q.title: q.answer_count for q in response.context["page"]}
        assert counts == {
            "Accepted #fees": 2,
            "Answered #fees": 1,
            "Nobody answered": 0,
        }
        html = response.content.decode()
        assert html.count('data-testid="accepted-mark"') == 1
        assert "2 answers" in html
        assert "1 answer<" in html
        assert "0 answers" in html

    @pytest.mark.parametrize(
        ("state", "titles"),
        [
            ("unanswered", ["Nobody answered"]),
            ("answered", ["Answered #fees"]),
            ("accepted", ["Accepted #fees"]),
            ("", ["Accepted #fees", "Answered #fees", "Nobody answered"]),
        ],
    )
    def test_filter_by_answer_state(self, signed_in, answered, outsider, state, titles):
        response = signed_in(outsider).get(f"/questions/?state={state}")
        assert titles_of(response) == titles

    def test_filter_by_community_and_tag(self, signed_in, mixed, member):
        client = signed_in(member)
        by_community = client.get("/questions/?community=pricing-internal")
        by_tag = client.get("/questions/?tag=fees&state=accepted")
        assert titles_of(by_community) == ["Floor price"]
        assert titles_of(by_tag) == ["Accepted #fees"]

    def test_nul_byte_in_tag_filter_is_dropped(self, signed_in, answered, outsider):
        client = signed_in(outsider)
        response = client.get("/questions/", {"tag": "fe\x00es", "state": "accepted"})
        assert response.status_code == 200
        assert titles_of(response) == ["Accepted #fees"]

    def test_bad_state_is_400(self, signed_in, answered, outsider):
        response = signed_in(outsider).get("/questions/?state=solved")
        assert response.status_code == 400
        assert "&#x27;solved&#x27; is not an answer state" in response.content.decode()
        assert titles_of(response) == []

    @pytest.mark.parametrize(
        ("who", "slug"),
        [("outsider", "pricing-internal"), ("customer", "payments")],
    )
    def test_hidden_community_filter_is_400(self, signed_in, mixed, request, who, slug):
        person = request.getfixturevalue(who)
        response = signed_in(person).get(f"/questions/?community={slug}")
        assert response.status_code == 400
        assert f"No community &#x27;{slug}&#x27; that you can see" in (
            response.content.decode()
        )
        assert titles_of(response) == []

    @pytest.mark.parametrize(
        ("who", "titles", "communities"),
        [
            (
                "outsider",
                [
                    "Where is my order?",
                    "Accepted #fees",
                    "Answered #fees",
                    "Nobody answered",
                ],
                ["Customer corner", "Payments"],
            ),
            (
                "member",
                [
                    "Where is my order?",
                    "Floor price",
                    "Accepted #fees",
                    "Answered #fees",
                    "Nobody answered",
                ],
                ["Customer corner", "Payments", "Pricing internal"],
            ),
            ("customer", ["Where is my order?"], ["Customer corner"]),
        ],
    )
    def test_each_role_sees_its_questions(
        self, signed_in, mixed, request, who, titles, communities
    ):
        person = request.getfixturevalue(who)
        response = signed_in(person).get("/questions/")
        assert titles_of(response) == titles
        assert [c.name for c in response.context["communities"]] == communities

    def test_moderator_sees_open_questions(self, signed_in, mixed, moderator):
        response = signed_in(moderator).get("/questions/?state=unanswered")
        assert "Nobody answered" in titles_of(response)

    # A customer's list costs one more query: the staff hidden from customers.
    @pytest.mark.parametrize(("who", "queries"), [("outsider", 8), ("customer", 9)])
    def test_query_count_is_constant(
        self,
        signed_in,
        request,
        who,
        queries,
        sales_rep,
        outsider,
        payments_community,
        customer_community,
        customer,
        django_assert_num_queries,
    ):
        person = request.getfixturevalue(who)
        client = signed_in(person)

        def add_questions(count: int) -> None:
            for number in range(count):
                for community in (payments_community, customer_community):
                    question = create_question(
                        author=sales_rep,
                        community=community,
                        title=f"Question {number} #tag{number}",
                    )
                    post_answer(author=outsider, question=question, body="Ok.")

        add_questions(1)
        client.get("/questions/?state=answered")
        with django_assert_num_queries(queries):
            client.get("/questions/?state=answered")
        add_questions(10)
        with django_assert_num_queries(queries):
            client.get("/questions/?state=answered")


class TestMakeFaqEntryPrefill:
    def test_blog_post_title_becomes_question(
        self, signed_in, sales_rep, payments_community, super_user
    ):
        post = publish_post(
            author=sales_rep,
            community=payments_community,
            kind=Post.Kind.BLOG,
            title="Writing off bank fees",
            body="# Steps\n\nOpen the case.",
        )
        response = signed_in(super_user).get(f"/questions/faq/new/?post={post.pk}")
        assert response.context["form"].initial["question_text"] == (
            "Writing off bank fees"
        )
        assert 'value="Writing off bank fees"' in response.content.decode()

    def test_post_first_line_becomes_question(
        self, signed_in, sales_rep, payments_community, super_user
    ):
        post = publish_post(
            author=sales_rep,
            community=payments_community,
            body="\n## Is 0.50 short a bank fee?\nYes, under 1 %.",
        )
        response = signed_in(super_user).get(f"/questions/faq/new/?post={post.pk}")
        assert response.context["form"].initial["question_text"] == (
            "Is 0.50 short a bank fee?"
        )


class TestFormLabels:
    def test_faq_form_shows_screen_titles(
        self, signed_in, sales_rep, payments_community, super_user
    ):
        post = publish_post(author=sales_rep, community=payments_community, body="Hi")
        html = signed_in(super_user).get(f"/questions/faq/new/?post={post.pk}")
        text = html.content.decode()
        assert f'Short payment <small class="muted">{SHORT_PAYMENT}</small>' in text
        assert "CRM function" in text

    def test_library_form_labels(self, db):
        html = ItemForm().as_div()
        assert '<label for="id_url">Link address</label>' in html
        assert '<label for="id_crm_function">CRM function</label>' in html
        assert f"Short payment ({SHORT_PAYMENT})" in html
        assert "Crm function" not in html
        assert "Url:" not in html
