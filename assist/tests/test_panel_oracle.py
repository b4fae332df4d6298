"""The help panel against the ranking rule computed in Python from every row.

The panel reads each level of the context chain with its own ORDER BY and
LIMIT and merges the levels. These tests build random content with many ties
(helpful votes, dates, scores), tagged at several levels of the chain and
written for several learner groups, and check that the merged lists are the
first entries of the full ranking, for readers with and without a group and
for a customer account.
"""

import random
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import pytest

from accounts.models import LearnerGroup, Role, User
from answers.models import Answer, FaqEntry, Question
from assist import ranking
from assist.models import HelpContext
from assist.selectors import compute_help_panel
from communities.models import Community
from conftest import make_person
from library.models import Document

pytestmark = pytest.mark.django_db

KEY = "reconciliation.order.short_payment"
CHAIN = (KEY, "reconciliation.order", "reconciliation")
OTHER = "reconciliation.order.late_ship"
GROUPS = ("sales", "operations", "customers")
START = datetime(2026, 1, 1, tzinfo=UTC)


@dataclass(frozen=True)
class Made:
    pk: int
    keys: frozenset[str]
    groups: frozenset[str]
    helpful: int
    updated: datetime
    customer_visible: bool


def pick_keys(rng: random.Random) -> frozenset[str]:
    return frozenset(rng.sample((*CHAIN, OTHER), rng.choice((1, 1, 1, 2, 3))))


def make_items(rng: random.Random, model, count: int) -> list[Made]:
    """Create ``count`` FAQ entries or library items with random ranking fields."""
    contexts = {context.key: context for context in HelpContext.objects.all()}
    groups = {group.slug: group for group in LearnerGroup.objects.all()}
    made = []
    for index in range(count):
        keys = pick_keys(rng)
        chosen = frozenset(rng.sample(GROUPS, rng.choice((0, 0, 1, 2))))
        helpful = rng.randrange(3)
        updated = START + timedelta(days=rng.randrange(3))
        visible = rng.random() < 0.5
        item: FaqEntry | Document
        if model is FaqEntry:
            item = FaqEntry.objects.create(
                question=f"Entry {index}",
                answer="x",
                answer_html="<p>x</p>",
                helpful_count=helpful,
                customer_visible=visible,
            )
        else:
            item = Document.objects.create(
                title=f"Item {index}",
                summary="x",
                body="x",
                body_html="<p>x</p>",
                helpful_count=helpful,
                customer_visible=visible,
            )
        item.contexts.set([contexts[key] for key in keys])
        item.learner_groups.set([groups[slug] for slug in chosen])
        model.objects.filter(pk=item.pk).update(updated_at=updated)
        made.append(Made(item.pk, keys, chosen, helpful, updated, visible))
    return made


def expected_items(made: list[Made], viewer: User, limit: int) -> list[tuple[int, str]]:
    """Rank by the rule: deepest context, written for the reader, helpful, fresh."""
    group = viewer.learner_group.slug if viewer.learner_group else None
    depth = {key: len(CHAIN) - position for position, key in enumerate(CHAIN)}
    rows = []
    for item in made:
        levels = [depth[key] for key in item.keys if key in depth]
        if not levels or (viewer.is_external and not item.customer_visible):
            continue
        match = max(levels)
        written_for = group in item.groups
        ranking = (-match, not written_for, -item.helpful, -item.updated.timestamp())
        rows.append((*ranking, item.pk, CHAIN[len(CHAIN) - match]))
    rows.sort()
    return [(row[-2], row[-1]) for row in rows[:limit]]


@dataclass(frozen=True)
class MadeQuestion:
    pk: int
    key: str | None
    community: Community
    accepted: bool
    score: int
    created: datetime


def make_questions(rng: random.Random, communities: list[Community], count: int):
    contexts = {context.key: context for context in HelpContext.objects.all()}
    made = []
    for index in range(count):
        key = rng.choice((*CHAIN, OTHER, None))
        community = rng.choice(communities)
        question = Question.objects.create(
            community=community,
            context=contexts[key] if key else None,
            author_name="Asker",
            title=f"Question {index}",
        )
        accepted = rng.random() < 0.7
        score = rng.randrange(-1, 3)
        created = START + timedelta(days=rng.randrange(3))
        if accepted:
            answer = Answer.objects.create(
                question=question, author_name="Helper", body="y", body_html="<p>y</p>"
            )
            Answer.objects.filter(pk=answer.pk).update(score=score)
            question.accepted_answer = answer
            question.save()
        # A higher-scored answer that is not accepted must not count.
        Answer.objects.create(
            question=question, author_name="Other", body="z", body_html="<p>z</p>"
        )
        Question.objects.filter(pk=question.pk).update(created_at=created)
        made.append(MadeQuestion(question.pk, key, community, accepted, score, created))
    return made


def expected_questions(made: list[MadeQuestion], viewer: User, limit: int):
    depth = {key: len(CHAIN) - position for position, key in enumerate(CHAIN)}
    rows = []
    for question in made:
        if not question.accepted or question.key not in depth:
            continue
        visibility = question.community.visibility
        if visibility == Community.Visibility.PRIVATE:
            continue
        if viewer.is_external and visibility != Community.Visibility.CUSTOMER:
            continue
        ranking = (-depth[question.key], -question.score, -question.created.timestamp())
        rows.append((*ranking, question.pk, question.key))
    rows.sort()
    return [(row[-2], row[-1]) for row in rows[:limit]]


@pytest.fixture
def readers(sales_rep, customer) -> list[User]:
    # Wendy's group is not in GROUPS, so no item is written for it.
    return [
        sales_rep,
        customer,
        make_person("nina", Role.SALES_REP),
        make_person("wendy", Role.WAREHOUSE, group="warehouse"),
    ]


# 0 reads every level and group by walking the rank index, 3 mixes both
# plans, 600 (the default) reads these small sets whole.
@pytest.mark.parametrize("small_set", [0, 3, 600])
@pytest.mark.parametrize("seed", range(4))
@pytest.mark.parametrize("limit", [1, 5])
def test_items_are_the_first_of_the_full_ranking(
    readers, settings, monkeypatch, small_set, seed, limit
):
    settings.HELP_PANEL_LIMIT = limit
    monkeypatch.setattr(ranking, "SMALL_SET", small_set)
    rng = random.Random(seed)
    entries = make_items(rng, FaqEntry, rng.randrange(5, 40))
    documents = make_items(rng, Document, rng.randrange(5, 40))

    for viewer in readers:
        panel = compute_help_panel(viewer=viewer, key=KEY)
        got_entries = [(item.pk, item.context_key) for item in panel.faq_entries]
        got_documents = [(item.pk, item.context_key) for item in panel.documents]
        assert got_entries == expected_items(entries, viewer, limit), viewer
        assert got_documents == expected_items(documents, viewer, limit), viewer


@pytest.mark.parametrize("seed", range(4))
def test_answered_questions_are_the_first_of_the_full_ranking(
    readers, payments_community, customer_community, private_community, seed
):
    rng = random.Random(seed)
    communities = [payments_community, customer_community, private_community]
    made = make_questions(rng, communities, rng.randrange(5, 30))

    for viewer in readers:
        panel = compute_help_panel(viewer=viewer, key=KEY)
        got = [(item.pk, item.context_key) for item in panel.answered_questions]
        assert got == expected_questions(made, viewer, 5), viewer
