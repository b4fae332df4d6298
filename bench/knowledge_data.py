"""Generate the knowledge the help and search benchmarks read, from a fixed seed.

It goes on top of a social data set (``bench/social_data.py``): questions
are asked by its people in its communities. Library items and FAQ entries
are tagged with the declared help contexts, a few contexts carrying most of
the content, as on a real CRM where the busy screens get the most help.

Sizes (library items and FAQ entries together / questions and answers
together): tiny 400 / 900, small 1,000 / 3,000, medium 100,000 / 300,000,
large 500,000 / 1,500,000.
"""

import random
import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from html import escape

from django.db import connection

from accounts.models import LearnerGroup, User
from answers.models import Answer, FaqEntry, Question
from assist.models import HelpContext
from bench.bulk_load import Timer, analyze, insert_rows, reset_sequences
from bench.social_text import DETAILS, OPENERS, SUBJECTS
from communities.models import Community
from library.models import Document, Kind

SEED = 20261204
START = datetime(2025, 12, 1, tzinfo=UTC)
YEAR_SECONDS = 365 * 24 * 3600


@dataclass(frozen=True)
class KnowledgeSize:
    documents: int
    faq_entries: int
    questions: int
    answers: int


KNOWLEDGE_SIZES = {
    "tiny": KnowledgeSize(documents=200, faq_entries=200, questions=300, answers=600),
    "small": KnowledgeSize(
        documents=500, faq_entries=500, questions=1_000, answers=2_000
    ),
    "medium": KnowledgeSize(
        documents=50_000, faq_entries=50_000, questions=100_000, answers=200_000
    ),
    "large": KnowledgeSize(
        documents=250_000, faq_entries=250_000, questions=500_000, answers=1_000_000
    ),
}

# Share of content that is customer-visible, written for a learner group,
# asked from a screen, and answered with an accepted answer.
CUSTOMER_SHARE = 0.2
GROUP_SHARE = 0.3
CONTEXT_SHARE = 0.7
ACCEPTED_SHARE = 0.4


def sentence(rng: random.Random) -> str:
    subject = rng.choice(SUBJECTS).format(n=rng.randint(10_000, 99_999))
    return f"{rng.choice(OPENERS)}: {subject} {rng.choice(DETAILS)}."


def paragraph(text: str) -> str:
    return f"<p>{escape(text)}</p>"


def moment(rng: random.Random) -> datetime:
    return START + timedelta(seconds=rng.randrange(YEAR_SECONDS))


def context_weights(contexts: list[HelpContext]) -> list[float]:
    """Weight contexts so the first few carry most content (a Zipf-like curve)."""
    return [1 / (rank + 1) for rank in range(len(contexts))]


def generate_knowledge(size: KnowledgeSize, *, seed: int = SEED) -> dict[str, int]:
    """Insert the knowledge rows and return how many of each were written."""
    rng = random.Random(seed)
    timer = Timer()
    people = list(User.objects.order_by("pk").values_list("pk", "first_name"))
    communities = list(
        Community.objects.exclude(visibility=Community.Visibility.PRIVATE)
        .order_by("pk")
        .values_list("pk", flat=True)
    )
    if not people or not communities:
        raise SystemExit(
            "No people or communities yet: generate the social data set first "
            "(bench/generate_social.py)."
        )
    contexts = list(HelpContext.objects.order_by("depth", "key"))
    rng.shuffle(contexts)
    weights = context_weights(contexts)
    groups = list(
        LearnerGroup.objects.filter(is_external=False).values_list("pk", flat=True)
    )
    counts: dict[str, int] = {}

    def pick_context() -> HelpContext:
        return rng.choices(contexts, weights)[0]

    # Documents, with their contexts and learner groups.
    started = time.perf_counter()
    first_document = next_id(Document)
    document_rows = []
    document_contexts = []
    document_groups = []
    for offset in range(size.documents):
        pk = first_document + offset
        title = sentence(rng)[:200]
        body = sentence(rng)
        created = moment(rng)
        document_rows.append(
            (
                pk,
                created,
                created,
                title,
                title[:300],
                Kind.MARKDOWN,
                body,
                paragraph(body),
                rng.random() < CUSTOMER_SHARE,
                rng.randrange(50),
            )
        )
        document_contexts.append((pk, pick_context().pk))
        if groups and rng.random() < GROUP_SHARE:
            document_groups.append((pk, rng.choice(groups)))
    counts["documents"] = insert_rows(
        Document,
        [
            "id",
            "created_at",
            "updated_at",
            "title",
            "summary",
            "kind",
            "body",
            "body_html",
            "customer_visible",
            "helpful_count",
        ],
        document_rows,
        moment=START,
    )
    insert_rows(
        Document.contexts.through,
        ["document_id", "helpcontext_id"],
        document_contexts,
        moment=START,
    )
    insert_rows(
        Document.learner_groups.through,
        ["document_id", "learnergroup_id"],
        document_groups,
        moment=START,
    )
    timer.step("documents", counts["documents"], started)

    # FAQ entries and their contexts.
    started = time.perf_counter()
    first_entry = next_id(FaqEntry)
    entry_rows = []
    entry_contexts = []
    for offset in range(size.faq_entries):
        pk = first_entry + offset
        question = sentence(rng)[:200]
        answer = sentence(rng)
        created = moment(rng)
        entry_rows.append(
            (
                pk,
                created,
                created,
                question,
                answer,
                paragraph(answer),
                rng.random() < CUSTOMER_SHARE,
                rng.randrange(80),
            )
        )
        entry_contexts.append((pk, pick_context().pk))
    counts["faq_entries"] = insert_rows(
        FaqEntry,
        [
            "id",
            "created_at",
            "updated_at",
            "question",
            "answer",
            "answer_html",
            "customer_visible",
            "helpful_count",
        ],
        entry_rows,
        moment=START,
    )
    insert_rows(
        FaqEntry.contexts.through,
        ["faqentry_id", "helpcontext_id"],
        entry_contexts,
        moment=START,
    )
    timer.step("faq entries", counts["faq_entries"], started)

    # Questions first without accepted answers, then answers, then the
    # accepted answer set in one UPDATE per batch.
    started = time.perf_counter()
    first_question = next_id(Question)
    question_rows = []
    for offset in range(size.questions):
        pk = first_question + offset
        author_pk, author_name = rng.choice(people)
        body = sentence(rng)
        created = moment(rng)
        context = pick_context() if rng.random() < CONTEXT_SHARE else None
        question_rows.append(
            (
                pk,
                created,
                created,
                rng.choice(communities),
                context.pk if context else None,
                author_pk,
                author_name,
                sentence(rng)[:200],
                body,
                paragraph(body),
            )
        )
    counts["questions"] = insert_rows(
        Question,
        [
            "id",
            "created_at",
            "updated_at",
            "community_id",
            "context_id",
            "author_id",
            "author_name",
            "title",
            "body",
            "body_html",
        ],
        question_rows,
        moment=START,
    )
    timer.step("questions", counts["questions"], started)

    started = time.perf_counter()
    first_answer = next_id(Answer)
    answer_rows = []
    accepted: dict[int, int] = {}
    for offset in range(size.answers):
        pk = first_answer + offset
        question_pk = first_question + rng.randrange(size.questions)
        author_pk, author_name = rng.choice(people)
        body = sentence(rng)
        created = moment(rng)
        answer_rows.append(
            (
                pk,
                created,
                created,
                question_pk,
                author_pk,
                author_name,
                body,
                paragraph(body),
                rng.randrange(-2, 20),
            )
        )
        if question_pk not in accepted and rng.random() < ACCEPTED_SHARE:
            accepted[question_pk] = pk
    counts["answers"] = insert_rows(
        Answer,
        [
            "id",
            "created_at",
            "updated_at",
            "question_id",
            "author_id",
            "author_name",
            "body",
            "body_html",
            "score",
        ],
        answer_rows,
        moment=START,
    )
    with connection.cursor() as cursor:
        table = connection.ops.quote_name(Question._meta.db_table)
        cursor.executemany(
            f"UPDATE {table} SET accepted_answer_id = %s WHERE id = %s",  # noqa: S608
            [(answer_pk, question_pk) for question_pk, answer_pk in accepted.items()],
        )
    counts["accepted_answers"] = len(accepted)
    timer.step("answers", counts["answers"], started)

    loaded = [Document, FaqEntry, Question, Answer]
    reset_sequences(loaded)
    analyze(
        [
            *loaded,
            Document.contexts.through,
            Document.learner_groups.through,
            FaqEntry.contexts.through,
        ]
    )
    for label, count, seconds in timer.steps:
        print(f"  {label}: {count:,} rows in {seconds:.1f} s")
    return counts


def next_id(
    model: type[Document] | type[FaqEntry] | type[Question] | type[Answer],
) -> int:
    latest = model.objects.order_by("-pk").values_list("pk", flat=True).first()
    return (latest or 0) + 1
