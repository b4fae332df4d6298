"""Named people, places and content for the search tests.

``member`` belongs to the private "Pricing internal" community (owned by
``facilitator``), ``moderator`` is a moderator by role who belongs to no
community, ``outsider`` is an employee in nothing, and ``customer`` is a
customer account. Every piece of content carries one distinctive word, so
a test can ask exactly who finds it.
"""

from pathlib import Path
from typing import Any

import pytest
from django.db import connection

from accounts.models import Role
from answers.models import Answer, FaqEntry, Question
from communities.models import Community, Membership
from conftest import make_person
from core.markdown import render_markdown
from library.models import Document, DocumentFile, DocumentTag, Tag
from search.indexing import reindex_all
from search.selectors import search
from social.services import publish_post


def pytest_ignore_collect(collection_path: Path, config: pytest.Config) -> bool | None:
    """Collect each backend's own tests only when the suite runs on its engine."""
    if collection_path.name in ("test_sqlite_backend.py", "test_sqlite_full_window.py"):
        return connection.vendor != "sqlite"
    if collection_path.name == "test_postgres_plans.py":
        return connection.vendor != "postgresql"
    return None


@pytest.fixture
def commit(django_capture_on_commit_callbacks):
    """Run what a block schedules after commit, as a real commit would."""

    def capture():
        return django_capture_on_commit_callbacks(execute=True)

    return capture


@pytest.fixture
def member(private_community):
    person = make_person("mia", Role.SALES_REP, group="sales")
    Membership.objects.create(community=private_community, person=person)
    return person


@pytest.fixture
def moderator(db):
    return make_person("mo", Role.MODERATOR, group="operations")


def found(person, text, **options):
    """Return (kind, object id) of every hit ``person`` gets for ``text``."""
    results = search(person, text, page_size=100, **options)
    return sorted((hit.kind, hit.object_id) for hit in results.hits)


def _question(community, author, title, body=""):
    return Question.objects.create(
        community=community,
        author=author,
        author_name=author.display_name,
        title=title,
        body=body,
        body_html=render_markdown(body).html,
    )


def _answer(question, author, body):
    return Answer.objects.create(
        question=question,
        author=author,
        author_name=author.display_name,
        body=body,
        body_html=render_markdown(body).html,
    )


@pytest.fixture
def content(
    facilitator, sales_rep, private_community, payments_community, customer_community
):
    """One item of each kind in each audience, then a full reindex."""
    items: dict[str, Any] = {}
    items["private_post"] = publish_post(
        author=facilitator,
        community=private_community,
        body="Discount matrix attached: pricingmatrixfile for Q3",
    )
    items["open_post"] = publish_post(
        author=sales_rep,
        community=payments_community,
        body="Short-pay tip: check the remittance advice first",
    )
    items["customer_post"] = publish_post(
        author=sales_rep,
        community=customer_community,
        body="Welcome customers, confirmations happen here: welcomeword",
    )
    items["private_question"] = _question(
        private_community, facilitator, "Margin floor", "For zebrafloor deals"
    )
    items["private_answer"] = _answer(
        items["private_question"], facilitator, "Never below the quokkafloor margin"
    )
    items["open_question"] = _question(
        payments_community, sales_rep, "Splitting", "How to split a lemurpay payment"
    )
    items["open_answer"] = _answer(
        items["open_question"], sales_rep, "Use the split dialog for narwhalsplit"
    )
    items["internal_faq"] = FaqEntry.objects.create(
        question="When is a walruscredit note issued?",
        answer="After approval.",
        answer_html="<p>After approval.</p>",
    )
    items["customer_faq"] = FaqEntry.objects.create(
        question="How do I confirm a delivery?",
        answer="Use the otterconfirm button.",
        answer_html="<p>Use the otterconfirm button.</p>",
        customer_visible=True,
    )
    internal_doc = Document.objects.create(
        title="Internal price list",
        summary="Prices",
        body="",
        body_html="",
        owner=facilitator,
    )
    DocumentFile.objects.create(
        document=internal_doc,
        number=1,
        file="library/1/v1/x",
        original_name="falconprices.xlsx",
        size=10,
        sha256="0" * 64,
        content_type="application/vnd.ms-excel",
    )
    items["internal_doc"] = internal_doc
    items["customer_doc"] = Document.objects.create(
        title="Dispute guide",
        summary="How to raise a beaverdispute",
        body="",
        body_html="",
        customer_visible=True,
        owner=facilitator,
    )
    reindex_all()
    return items


@pytest.fixture
def hidden_community(db):
    return Community.objects.get(slug="pricing-internal")


@pytest.fixture
def library_tag(db):
    def tag(document, name, key):
        tag, _ = Tag.objects.get_or_create(
            key=key, defaults={"name": name, "slug": key}
        )
        DocumentTag.objects.create(document=document, tag=tag)
        return tag

    return tag
