"""The cached help panel follows changes to questions, answers and communities.

Each test reads the panel once to fill the cache, changes the content
through the services or the ORM, and reads the panel again.
"""

import re

import pytest
from django.contrib.auth.models import AnonymousUser
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from answers.services import accept_answer, create_question, post_answer, set_vote
from answers.services.answering import delete_answer, unaccept_answer
from assist.caching import watched_models
from assist.models import HelpContext
from assist.selectors import (
    PANEL_READS_UNWATCHED,
    build_help_panel,
    compute_help_panel,
)
from assist.tests.factories import answered
from communities.models import Community

pytestmark = pytest.mark.django_db

KEY = "reconciliation.order.short_payment"
TITLE = "Floor price for the ALFKI short payment"


def titles(person, key: str = KEY) -> list[str]:
    panel = build_help_panel(viewer=person, key=key)
    return [question.title for question in panel.answered_questions]


def api_titles(person) -> list[str]:
    client = Client()
    client.force_login(person)
    response = client.get("/api/assist/help", {"context": KEY})
    return [question["title"] for question in response.json()["answered_questions"]]


def ask_and_accept(asker, helper, community, title=TITLE):
    question = create_question(
        author=asker,
        community=community,
        title=title,
        context=HelpContext.objects.get(key=KEY),
    )
    answer = post_answer(author=helper, question=question, body="Use the floor price.")
    accept_answer(actor=asker, answer=answer)
    return question, answer


class TestAnsweredQuestions:
    def test_new_accepted_answer_shows_at_once(
        self, sales_rep, super_user, outsider, payments_community
    ):
        assert titles(outsider) == []
        ask_and_accept(sales_rep, super_user, payments_community)
        assert titles(outsider) == [TITLE]

    def test_unaccepted_answer_leaves_at_once(
        self, sales_rep, super_user, outsider, payments_community
    ):
        question, _ = ask_and_accept(sales_rep, super_user, payments_community)
        assert titles(outsider) == [TITLE]
        unaccept_answer(actor=sales_rep, question=question)
        assert titles(outsider) == []

    def test_deleted_accepted_answer_leaves_at_once(
        self, sales_rep, super_user, outsider, payments_community
    ):
        _, answer = ask_and_accept(sales_rep, super_user, payments_community)
        assert titles(outsider) == [TITLE]
        delete_answer(actor=super_user, answer=answer)
        assert titles(outsider) == []

    def test_removed_answer_row_leaves_at_once(self, outsider, payments_community):
        # The database sets accepted_answer to NULL, so Question sends no signal.
        question = answered(TITLE, payments_community, KEY)
        assert titles(outsider) == [TITLE]
        question.accepted_answer.delete()
        assert titles(outsider) == []

    def test_vote_reorders_at_once(
        self, sales_rep, super_user, outsider, facilitator, payments_community
    ):
        ask_and_accept(sales_rep, super_user, payments_community, title="First")
        _, second = ask_and_accept(
            sales_rep, super_user, payments_community, title="Second"
        )
        assert titles(outsider) == ["Second", "First"]
        set_vote(person=facilitator, answer=second, value=-1)
        assert titles(outsider) == ["First", "Second"]

    def test_deleted_question_leaves_at_once(self, outsider, payments_community):
        question = answered(TITLE, payments_community, KEY)
        assert titles(outsider) == [TITLE]
        question.delete()
        assert titles(outsider) == []

    def test_renamed_question_shows_new_title(self, outsider, payments_community):
        question = answered(TITLE, payments_community, KEY)
        assert titles(outsider) == [TITLE]
        question.title = "Floor price, renamed"
        question.save()
        assert titles(outsider) == ["Floor price, renamed"]


class TestCommunityChanges:
    def test_question_moved_to_private_community_leaves(
        self, outsider, payments_community, private_community
    ):
        question = answered(TITLE, payments_community, KEY)
        assert titles(outsider) == [TITLE]
        question.community = private_community
        question.save()
        assert titles(outsider) == []

    def test_community_turned_private_leaves_panel_and_api(
        self, outsider, payments_community
    ):
        answered(TITLE, payments_community, KEY)
        assert titles(outsider) == [TITLE]
        assert api_titles(outsider) == [TITLE]
        payments_community.visibility = Community.Visibility.PRIVATE
        payments_community.save()
        assert titles(outsider) == []
        assert api_titles(outsider) == []

    def test_community_turned_internal_leaves_customer_panel(
        self, customer, customer_community
    ):
        # A customer reads only the portal's contexts.
        answered(TITLE, customer_community, "portal.order")
        assert titles(customer, "portal.order") == [TITLE]
        customer_community.visibility = Community.Visibility.OPEN
        customer_community.save()
        assert titles(customer, "portal.order") == []


def tables_read(viewer) -> set[str]:
    """Return the names of the tables the uncached panel's SQL names for ``viewer``."""
    tables = connection.introspection.table_names()
    with CaptureQueriesContext(connection) as captured:
        compute_help_panel(viewer=viewer, key=KEY)
    found = set()
    for query in captured.captured_queries:
        for table in tables:
            if re.search(rf"(?<![\w]){re.escape(table)}(?![\w])", query["sql"]):
                found.add(table)
    return found


def test_cache_watches_every_table_panel_reads(
    sales_rep, customer, super_user, payments_community, customer_community
):
    # Content at every level, so no part of the read is skipped.
    answered(TITLE, payments_community, KEY)
    answered("For customers", customer_community, KEY)
    watched = {model._meta.db_table for model in watched_models()}
    unwatched = {model._meta.db_table for model in PANEL_READS_UNWATCHED}
    for viewer in (sales_rep, customer, AnonymousUser()):
        read = tables_read(viewer)
        assert "answers_question" in read
        missing = read - watched - unwatched
        assert missing == set(), f"{viewer}: the panel reads {sorted(missing)}"
