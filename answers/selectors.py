"""Reads of questions, answers and FAQ entries, with their visibility rules.

A question is visible to whoever may see its community; among customer
accounts, a customer's own question only to their company's contacts. Its
answers, comments and votes are visible exactly when it is. An FAQ entry is
visible to every employee, and to customer accounts only when it is marked
customer-visible. Its sources are shown only to readers who may see them.
"""

import datetime
import html
import math
import re
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from django.db import connection
from django.db.models import (
    Case,
    Count,
    Exists,
    F,
    IntegerField,
    OuterRef,
    Prefetch,
    Q,
    QuerySet,
    Subquery,
    Value,
    When,
)
from django.db.models.functions import Coalesce, Concat
from django.http import Http404
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.html import strip_tags
from django.utils.text import Truncator

from accounts.models import CrmFunction, Role, User
from accounts.permissions import Viewer
from answers.conf import suggestion_limit, unanswered_after_hours
from answers.models import (
    Answer,
    AnswerVote,
    FaqEntry,
    FaqSource,
    Question,
    QuestionComment,
    ReleaseNote,
    ScreenChange,
)
from answers.permissions import FaqOwnership
from assist.models import HelpContext
from communities.models import Community
from communities.selectors import visible_communities
from core.queries import kept_statement
from core.text import clean_line
from social.models import Comment, Post
from social.selectors import can_moderate, visible_posts

MAX_COMMENTS_SHOWN = 200


def visible_questions(viewer: Viewer) -> QuerySet[Question]:
    questions = Question.objects.filter(community__in=visible_communities(viewer))
    return _own_company_only(viewer, questions)


def visible_questions_outside_private(viewer: Viewer) -> QuerySet[Question]:
    """Return ``visible_questions`` minus those in private communities.

    For lists shown alike to a whole audience (the help panel), since who
    may read a private community depends on membership. Each row's community
    is checked by a correlated EXISTS, so a read that walks an index in its
    ORDER BY stops after its first rows.
    """
    communities = (
        visible_communities(viewer)
        .exclude(visibility=Community.Visibility.PRIVATE)
        .filter(pk=OuterRef("community_id"))
    )
    return _own_company_only(viewer, Question.objects.filter(Exists(communities)))


def _own_company_only(
    viewer: Viewer, questions: QuerySet[Question]
) -> QuerySet[Question]:
    if isinstance(viewer, User) and viewer.is_external:
        # A customer's question names their orders and invoices; other
        # customer companies in the same space must not read it.
        questions = questions.filter(
            Q(customer__isnull=True) | Q(customer_id=viewer.customer_id)
        )
    return questions


def access_question(viewer: Viewer, question_id: int) -> Question:
    """Return the question with answers, or raise 404 when hidden from ``viewer``."""
    question = (
        visible_questions(viewer)
        .select_related(
            "community", "context__crm_function", "context__parent", "crm_function"
        )
        .prefetch_related(
            Prefetch("answers", queryset=Answer.objects.select_related("faq_entry"))
        )
        .filter(pk=question_id)
        .first()
    )
    if question is None:
        raise Http404("No question found with that number.")
    return question


def access_answer(viewer: Viewer, answer_id: int) -> Answer:
    """Return the answer, or raise 404 when ``viewer`` may not see its question."""
    answer = (
        Answer.objects.filter(pk=answer_id, question__in=visible_questions(viewer))
        .select_related("question__community", "question__crm_function")
        .first()
    )
    if answer is None:
        raise Http404("No answer found with that number.")
    return answer


def access_question_comment(viewer: Viewer, comment_id: int) -> QuestionComment:
    comment = (
        QuestionComment.objects.filter(
            pk=comment_id, question__in=visible_questions(viewer)
        )
        .select_related("question__community")
        .first()
    )
    if comment is None:
        raise Http404("No comment found with that number.")
    return comment


class AnswerState(StrEnum):
    """The question list's filter on a question's answers."""

    UNANSWERED = "unanswered"
    ANSWERED = "answered"
    ACCEPTED = "accepted"


def questions_list(
    viewer: Viewer,
    *,
    tag: str = "",
    state: AnswerState | None = None,
    community: Community | None = None,
) -> QuerySet[Question]:
    """Return the viewer's visible questions, newest first, with ``answer_count``.

    ``answer_count`` counts live answers (a deleted answer is a tombstone).
    ``state`` keeps questions with no live answer (unanswered), with live
    answers but none accepted (answered), or with an accepted answer.
    """
    live_counts = (
        _live_answers()
        .order_by()
        .values("question")
        .annotate(count=Count("pk"))
        .values("count")
    )
    questions = (
        visible_questions(viewer)
        .select_related("community")
        .annotate(
            answer_count=Coalesce(
                Subquery(live_counts, output_field=IntegerField()), Value(0)
            )
        )
    )
    if tag:
        questions = questions.filter(hashtags__name=tag)
    if community is not None:
        questions = questions.filter(community=community)
    if state == AnswerState.UNANSWERED:
        questions = questions.filter(answer_count=0)
    elif state == AnswerState.ANSWERED:
        questions = questions.filter(answer_count__gt=0, accepted_answer__isnull=True)
    elif state == AnswerState.ACCEPTED:
        questions = questions.filter(accepted_answer__isnull=False)
    return questions.prefetch_related("hashtags").order_by("-created_at", "-id")


@dataclass
class AnswerView:
    answer: Answer
    accepted: bool
    my_vote: int
    # The FAQ entry made from the answer, when the viewer may read it.
    faq_entry_id: int | None = None
    may_edit: bool = False
    may_delete: bool = False
    comments: list[QuestionComment] = field(default_factory=list)


@dataclass
class QuestionPage:
    """The question page for one viewer, read in a fixed number of queries."""

    question: Question
    answers: list[AnswerView]
    comments: list[QuestionComment]
    original: Question | None
    duplicates: list[Question]
    may_moderate: bool = False

    @property
    def live_answer_count(self) -> int:
        """Count the answers that are not deleted, as the question list does."""
        return sum(1 for view in self.answers if not view.answer.is_deleted)


def question_page(viewer: User, question: Question) -> QuestionPage:
    """Gather the page for a question from ``access_question``.

    Answers come accepted first, then by score, then oldest first. A
    duplicate's original, and the FAQ entry made from an answer, are shown
    only when the viewer may see them.
    """
    answers = list(question.answers.all())
    votes = dict(
        AnswerVote.objects.filter(answer__question=question, person=viewer).values_list(
            "answer_id", "value"
        )
    )
    comments = list(
        QuestionComment.objects.filter(question=question).order_by("created_at", "id")[
            :MAX_COMMENTS_SHOWN
        ]
    )
    by_answer: dict[int | None, list[QuestionComment]] = {}
    for comment in comments:
        by_answer.setdefault(comment.answer_id, []).append(comment)
    readable_entries = dict(
        visible_faq_entries(viewer)
        .filter(source_answer__question=question)
        .values_list("source_answer_id", "pk")
    )

    moderator = can_moderate(viewer, question.community)
    views = [
        AnswerView(
            answer=answer,
            accepted=answer.pk == question.accepted_answer_id,
            my_vote=votes.get(answer.pk, 0),
            faq_entry_id=readable_entries.get(answer.pk),
            may_edit=answer.author_id == viewer.pk and not answer.is_deleted,
            may_delete=(answer.author_id == viewer.pk or moderator)
            and not answer.is_deleted,
            comments=by_answer.get(answer.pk, []),
        )
        for answer in answers
    ]
    views.sort(key=lambda view: (not view.accepted, -view.answer.score, view.answer.pk))
    original = None
    if question.duplicate_of_id is not None:
        original = visible_questions(viewer).filter(pk=question.duplicate_of_id).first()
    duplicates = list(
        visible_questions(viewer)
        .filter(duplicate_of=question)
        .order_by("created_at", "id")
        .only("pk", "title", "created_at")
    )
    return QuestionPage(
        question=question,
        answers=views,
        comments=by_answer.get(None, []),
        original=original,
        duplicates=duplicates,
        may_moderate=moderator,
    )


def vote_of(person: User, answer: Answer) -> int:
    """Return ``person``'s vote on ``answer``: 1, -1, or 0 for none."""
    value = (
        AnswerVote.objects.filter(answer=answer, person=person)
        .values_list("value", flat=True)
        .first()
    )
    return value or 0


def visible_faq_entries(viewer: Viewer) -> QuerySet[FaqEntry]:
    """Return the FAQ entries ``viewer`` may read.

    Employees read every entry, customer accounts the customer-visible ones.
    An entry held for its owners (``owners_only``) is read only by them.
    """
    if not isinstance(viewer, User):
        return FaqEntry.objects.none()
    if viewer.is_external:
        return FaqEntry.objects.filter(customer_visible=True, owners_only=False)
    return FaqEntry.objects.filter(
        Q(owners_only=False) | FaqOwnership(viewer).entries()
    )


def held_faq_entries_hidden_from(viewer: Viewer) -> QuerySet[FaqEntry]:
    """Return the entries held for their owners that ``viewer`` may not read.

    Among held entries this is the complement of ``visible_faq_entries``,
    which reads a held entry by its owners only (``FaqOwnership``), for
    surfaces (search) whose rows carry no owner. The index
    ``faq_held_for_owners`` reads the held entries without the others.
    """
    held = FaqEntry.objects.filter(owners_only=True)
    if not isinstance(viewer, User):
        return held
    return held.exclude(FaqOwnership(viewer).entries())


def held_faq_ids_hidden_from_sql(viewer: User) -> tuple[str, list[Any]] | None:
    """Return the SQL of the ids ``held_faq_entries_hidden_from(viewer)`` gives.

    The statement is compiled once per database and audience
    (``kept_statement``) and selects one column, the ids in id order. None
    when ``viewer`` owns every FAQ, so no held entry is hidden from them.
    """
    ownership = FaqOwnership(viewer)
    if ownership.owns_all:
        return None
    audience = "customer" if ownership.owns_nothing else "employee"
    role = Role.CUSTOMER if ownership.owns_nothing else Role.SALES_REP

    def build(person_id: int) -> QuerySet[Any]:
        stand_in = User(pk=person_id, role=role)
        rows = held_faq_entries_hidden_from(stand_in)
        return rows.order_by("pk").values_list("pk")

    key = (connection.vendor, "held_faq_entries_hidden_from", audience)
    sql, params = kept_statement(key, build, viewer.pk)
    if connection.vendor == "sqlite":
        sql = _with_held_index(sql)
    return sql, params


# Held entries are few, but SQLite's statistics only count distinct values.
# With every entry unheld, ANALYZE estimates that "owners_only = ?" matches
# every row, so the planner scanned the whole table (about 10 ms for 50,000
# entries on the search benchmark's data) instead of reading the index
# (under 0.1 ms).
_FAQ_TABLE = 'FROM "answers_faqentry"'


def _with_held_index(sql: str) -> str:
    """Return ``sql`` with an ``INDEXED BY faq_held_for_owners`` hint for SQLite."""
    if _FAQ_TABLE not in sql:
        raise ValueError(f"No {_FAQ_TABLE!r} in the held FAQ statement: {sql}")
    return sql.replace(_FAQ_TABLE, f'{_FAQ_TABLE} INDEXED BY "faq_held_for_owners"', 1)


def held_faq_ids_hidden_from(viewer: User) -> tuple[int, ...]:
    """Return the ids of ``held_faq_entries_hidden_from(viewer)``, in id order.

    Search reads them on every query, so it runs the kept SQL of
    ``held_faq_ids_hidden_from_sql`` and builds no queryset.
    """
    statement = held_faq_ids_hidden_from_sql(viewer)
    if statement is None:
        return ()
    sql, params = statement
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return tuple(row[0] for row in cursor.fetchall())


def published_faq_entries(viewer: Viewer) -> QuerySet[FaqEntry]:
    """Return ``visible_faq_entries`` without the entries held for their owners.

    For surfaces shown alike to a whole audience: the help panel and its
    cache. The owners' branch of ``visible_faq_entries`` only adds held
    entries, so it is left out, and "not held" is a negation. SQLite can
    then use ``faq_held_for_owners`` for neither, and reads a busy
    context's entries in helpful order by ``faq_most_helpful``.
    """
    if not isinstance(viewer, User):
        return FaqEntry.objects.none()
    published = FaqEntry.objects.exclude(owners_only=True)
    if viewer.is_external:
        return published.filter(customer_visible=True)
    return published


def faq_index_entries(
    viewer: User,
    *,
    crm_function: CrmFunction | None = None,
    general_only: bool = False,
    context: HelpContext | None = None,
) -> QuerySet[FaqEntry]:
    """Return the FAQ entries ``viewer`` may read, by CRM function, then question.

    ``general_only`` keeps the entries without a CRM function. ``context``
    keeps the entries on that screen or on a screen below it, the way a
    release of a screen reaches the entries above it. Each entry carries its
    review state (``with_review_state``) and its screens, prefetched.
    """
    entries = visible_faq_entries(viewer)
    if general_only:
        entries = entries.filter(crm_function__isnull=True)
    elif crm_function is not None:
        entries = entries.filter(crm_function=crm_function)
    if context is not None:
        screens = HelpContext.objects.filter(
            Q(pk=context.pk) | Q(key__startswith=f"{context.key}.")
        )
        entries = entries.filter(
            Exists(
                FaqEntry.contexts.through.objects.filter(
                    faqentry_id=OuterRef("pk"), helpcontext__in=screens
                )
            )
        )
    return (
        with_review_state(entries)
        .select_related("crm_function")
        .prefetch_related(Prefetch("contexts", HelpContext.objects.order_by("key")))
        .order_by(
            F("crm_function__position").asc(nulls_last=True),
            F("crm_function__name").asc(nulls_last=True),
            "question",
            "pk",
        )
    )


def access_faq_entry(viewer: Viewer, entry_id: int) -> FaqEntry:
    entry = (
        visible_faq_entries(viewer)
        .select_related("crm_function")
        .filter(pk=entry_id)
        .first()
    )
    if entry is None:
        raise Http404("No FAQ entry found with that number.")
    return entry


SOURCE_EXCERPT_LENGTH = 160


def plain_excerpt(body_html: str) -> str:
    """Return the start of a source's rendered text as plain text.

    The excerpt is made from the sanitized HTML, not the Markdown, so no
    Markdown marks show. The template escapes it again.
    """
    text = " ".join(html.unescape(strip_tags(body_html)).split())
    return Truncator(text).chars(SOURCE_EXCERPT_LENGTH)


@dataclass(frozen=True)
class SourceLink:
    kind: str
    label: str
    url: str
    excerpt: str


def visible_sources(viewer: User, entry: FaqEntry) -> list[SourceLink]:
    """Return the entry's sources that ``viewer`` may open, in the order added.

    Each kind goes through its own visibility rule: answers through their
    question, comments and posts through their community.
    """
    rows = list(FaqSource.objects.filter(entry=entry))
    answer_ids = [row.answer_id for row in rows if row.answer_id]
    comment_ids = [row.comment_id for row in rows if row.comment_id]
    post_ids = [row.post_id for row in rows if row.post_id]
    answers = (
        {
            answer.pk: answer
            for answer in Answer.objects.filter(
                pk__in=answer_ids, question__in=visible_questions(viewer)
            ).select_related("question")
        }
        if answer_ids
        else {}
    )
    comments = (
        {
            comment.pk: comment
            for comment in Comment.objects.filter(
                pk__in=comment_ids, post__in=visible_posts(viewer)
            )
        }
        if comment_ids
        else {}
    )
    posts: dict[int, Post] = (
        {post.pk: post for post in visible_posts(viewer).filter(pk__in=post_ids)}
        if post_ids
        else {}
    )

    from accounts.authors import Authored, author_of, hidden_author_labels

    sourced: list[Authored] = [*answers.values(), *comments.values(), *posts.values()]
    hidden = hidden_author_labels(viewer, [item.author_id for item in sourced])

    links: list[SourceLink] = []
    for row in rows:
        if row.answer_id in answers:
            answer = answers[row.answer_id]
            links.append(
                SourceLink(
                    kind=row.kind,
                    label=(
                        f"Answer by {author_of(answer, hidden)} "
                        f"to: {answer.question.title}"
                    ),
                    url=f"/questions/{answer.question_id}/#answer-{answer.pk}",
                    excerpt=""
                    if answer.is_deleted
                    else plain_excerpt(answer.body_html),
                )
            )
        elif row.comment_id in comments:
            comment = comments[row.comment_id]
            links.append(
                SourceLink(
                    kind=row.kind,
                    label=f"Comment by {author_of(comment, hidden)}",
                    url=f"/posts/{comment.post_id}/comments/{comment.pk}/",
                    excerpt=""
                    if comment.is_deleted
                    else plain_excerpt(comment.body_html),
                )
            )
        elif row.post_id in posts:
            post = posts[row.post_id]
            name = post.title or f"Post by {author_of(post, hidden)}"
            links.append(
                SourceLink(
                    kind=row.kind,
                    label=f"{post.get_kind_display()}: {name}",
                    url=f"/posts/{post.pk}/",
                    excerpt="" if post.is_deleted else plain_excerpt(post.body_html),
                )
            )
    return links


def desk_functions(viewer: User) -> QuerySet[CrmFunction]:
    """Return the CRM functions whose desk pages ``viewer`` may open."""
    return FaqOwnership(viewer).functions()


def faq_owners(crm_function: CrmFunction | None) -> QuerySet[User]:
    """Return the active super-users of ``crm_function``, who own its FAQ."""
    if crm_function is None:
        return User.objects.none()
    return (
        User.objects.listed()
        .filter(super_user_assignments__crm_function=crm_function, is_active=True)
        .order_by("pk")
    )


def _screen_changed_since_review(day: datetime.date) -> Exists:
    """Return whether a release up to ``day`` changed the entry's screen since review.

    A change to a screen counts for entries on that screen and on every
    screen above it (a change to ``a.b.c`` counts for entries on ``a.b``).
    """
    changes = ScreenChange.objects.filter(
        release__takes_effect_at__gt=OuterRef(OuterRef("last_reviewed_at")),
        release__released_on__lte=day,
    ).filter(
        Q(context_id=OuterRef("helpcontext_id"))
        | Q(context__key__startswith=Concat(OuterRef("helpcontext__key"), Value(".")))
    )
    links = FaqEntry.contexts.through.objects.filter(faqentry_id=OuterRef("pk")).filter(
        Exists(changes)
    )
    return Exists(links)


def releases_changing_screen(
    entry: FaqEntry, *, day: datetime.date | None = None
) -> list[ReleaseNote]:
    """Return the releases that changed ``entry``'s screens since its review.

    The same rule as ``_screen_changed_since_review``, newest release first.
    """
    return releases_changing_screens([entry], day=day).get(entry.pk, [])


def releases_changing_screens(
    entries: Sequence[FaqEntry], *, day: datetime.date | None = None
) -> dict[int, list[ReleaseNote]]:
    """Map each entry's pk to the releases that changed its screens since review.

    The rule of ``_screen_changed_since_review``, newest release first, read
    in two queries for any number of entries. Entries never reviewed and
    entries without such a release are left out.
    """
    reviewed = {
        entry.pk: entry.last_reviewed_at
        for entry in entries
        if entry.last_reviewed_at is not None
    }
    if not reviewed:
        return {}
    day = day or timezone.localdate()
    keys_by_entry: dict[int, set[str]] = defaultdict(set)
    links = FaqEntry.contexts.through.objects.filter(
        faqentry_id__in=reviewed
    ).values_list("faqentry_id", "helpcontext__key")
    for entry_id, key in links:
        keys_by_entry[entry_id].add(key)
    screens = Q()
    for key in set().union(*keys_by_entry.values()):
        screens |= Q(context__key=key) | Q(context__key__startswith=f"{key}.")
    if not screens:
        return {}
    changes = ScreenChange.objects.filter(
        screens,
        release__takes_effect_at__gt=min(reviewed.values()),
        release__released_on__lte=day,
    ).select_related("release", "context")
    releases: dict[int, dict[int, ReleaseNote]] = defaultdict(dict)
    for change in changes:
        release = change.release
        changed_key = change.context.key
        for entry_id, keys in keys_by_entry.items():
            if release.takes_effect_at is None:
                continue
            if release.takes_effect_at <= reviewed[entry_id]:
                continue
            if any(_covers(key, changed_key) for key in keys):
                releases[entry_id][release.pk] = release
    return {
        entry_id: sorted(
            found.values(),
            key=lambda release: (release.takes_effect_at, release.pk),
            reverse=True,
        )
        for entry_id, found in releases.items()
    }


def _covers(entry_key: str, changed_key: str) -> bool:
    # A change to a screen counts for that screen and every screen above it.
    return changed_key == entry_key or changed_key.startswith(f"{entry_key}.")


def with_review_state(
    entries: QuerySet[FaqEntry], *, day: datetime.date | None = None
) -> QuerySet[FaqEntry]:
    """Annotate ``is_due``, ``screen_changed`` and ``needs_review`` on each entry."""
    day = day or timezone.localdate()
    due = Q(review_due_on__lte=day) | Q(review_due_on__isnull=True)
    entries = entries.annotate(
        is_due=Case(
            When(due, then=Value(1)), default=Value(0), output_field=IntegerField()
        ),
        screen_changed=_screen_changed_since_review(day),
    )
    return entries.annotate(
        needs_review=Case(
            When(due | ~Q(review_flag="") | Q(screen_changed=True), then=Value(1)),
            default=Value(0),
            output_field=IntegerField(),
        )
    )


def entries_needing_review(
    viewer: User, crm_function: CrmFunction | None, *, day: datetime.date | None = None
) -> QuerySet[FaqEntry]:
    """Return the function's FAQ entries that need review, longest overdue first."""
    entries = visible_faq_entries(viewer).filter(crm_function=crm_function)
    return (
        with_review_state(entries, day=day)
        .filter(needs_review=1)  # type: ignore[misc]
        .order_by("review_due_on", "pk")
    )


def review_reasons(
    entry: FaqEntry,
    *,
    day: datetime.date | None = None,
    releases: list[ReleaseNote] | None = None,
) -> list[str]:
    """Describe why an entry from ``with_review_state`` needs review on ``day``.

    Pass ``releases`` from ``releases_changing_screens``, which reads them
    for a whole page at once. Without them this function queries them.
    """
    reasons = []
    if entry.review_flag:
        reasons.append(entry.get_review_flag_display())
    if getattr(entry, "screen_changed", False):
        if releases is None:
            releases = releases_changing_screen(entry, day=day)
        if releases:
            named = "; ".join(
                f"{release.title} ({date_format(release.released_on, 'DATE_FORMAT')})"
                for release in releases
            )
            reasons.append(
                f"A release changed its screen since the last review: {named}"
            )
        else:
            reasons.append("A release changed its screen since the last review")
    if getattr(entry, "is_due", 0):
        if entry.review_due_on is None:
            reasons.append("It has never been reviewed")
        else:
            due = date_format(entry.review_due_on, "DATE_FORMAT")
            reasons.append(f"Its review was due on {due}")
    return reasons


def _live_answers() -> QuerySet[Answer]:
    return Answer.objects.filter(question=OuterRef("pk"), deleted_at__isnull=True)


def unanswered_questions(
    viewer: User,
    crm_function: CrmFunction,
    *,
    now: datetime.datetime | None = None,
) -> QuerySet[Question]:
    """Return the function's open questions without an answer, oldest first.

    Only questions waiting longer than ``ANSWERS_UNANSWERED_AFTER_HOURS``
    count. A deleted answer does not count as an answer.
    """
    now = now or timezone.now()
    cutoff = now - datetime.timedelta(hours=unanswered_after_hours())
    return _open_without_answer(viewer, crm_function).filter(created_at__lte=cutoff)


def recent_unanswered_questions(
    viewer: User,
    crm_function: CrmFunction,
    *,
    now: datetime.datetime | None = None,
) -> QuerySet[Question]:
    """Return the function's questions without an answer yet within the set time.

    These are the open questions asked less than
    ``ANSWERS_UNANSWERED_AFTER_HOURS`` ago, oldest first, so the desk shows
    them below the overdue ones.
    """
    now = now or timezone.now()
    cutoff = now - datetime.timedelta(hours=unanswered_after_hours())
    return _open_without_answer(viewer, crm_function).filter(created_at__gt=cutoff)


def _open_without_answer(viewer: User, crm_function: CrmFunction) -> QuerySet[Question]:
    return (
        visible_questions(viewer)
        .filter(crm_function=crm_function, duplicate_of__isnull=True)
        .exclude(Exists(_live_answers()))
        .select_related("community", "context")
        .order_by("created_at", "id")
    )


# Similar questions and FAQ entries, suggested while a person types.
# NOTE: token overlap over titles, to be replaced by the full-text search
# interface once it exists; callers use only ``suggest_similar``.

MIN_TOKEN_LENGTH = 2
MAX_QUERY_TOKENS = 8
MAX_CANDIDATES = 200
MAX_SUGGEST_INPUT = 200
STOP_WORDS = frozenset(
    {
        "a", "an", "and", "are", "as", "at", "be", "but", "by", "can", "do",
        "does", "for", "from", "how", "i", "if", "in", "is", "it", "me", "my",
        "of", "on", "or", "our", "should", "so", "that", "the", "their",
        "there", "this", "to", "was", "we", "what", "when", "where", "which",
        "who", "why", "will", "with", "you", "your",
    }
)  # fmt: skip
_WORD = re.compile(r"\w+")


def title_tokens(text: str) -> set[str]:
    """Return the case-folded words of ``text`` that carry meaning."""
    words = _WORD.findall(clean_line(text)[:MAX_SUGGEST_INPUT].casefold())
    return {
        word
        for word in words
        if len(word) >= MIN_TOKEN_LENGTH and word not in STOP_WORDS
    }


def similarity(query: set[str], candidate: set[str]) -> float:
    """Return the cosine of two token sets.

    That is the number of shared words over the geometric mean of the set sizes.
    """
    if not query or not candidate:
        return 0.0
    shared = len(query & candidate)
    return shared / math.sqrt(len(query) * len(candidate))


def _title_matches(field_name: str, tokens: set[str]) -> Q:
    # Longer words are rarer, so they pick better candidates.
    chosen = sorted(tokens, key=lambda token: (-len(token), token))[:MAX_QUERY_TOKENS]
    condition = Q()
    for token in chosen:
        condition |= Q(**{f"{field_name}__icontains": token})
    return condition


@dataclass(frozen=True)
class Suggestion:
    kind: str
    pk: int
    title: str
    url: str
    score: float
    answered: bool


def suggest_similar(viewer: Viewer, text: str) -> list[Suggestion]:
    """Return visible FAQ entries and open questions whose titles resemble ``text``.

    Costs two queries. FAQ entries rank before questions at equal similarity,
    and answered questions before unanswered ones.
    """
    tokens = title_tokens(text)
    if not tokens:
        return []
    limit = suggestion_limit()
    questions = (
        visible_questions(viewer)
        .filter(duplicate_of__isnull=True)
        .filter(_title_matches("title", tokens))
        .order_by("-created_at", "-id")
        .values_list("pk", "title", "accepted_answer_id")[:MAX_CANDIDATES]
    )
    entries = (
        visible_faq_entries(viewer)
        .filter(_title_matches("question", tokens))
        .order_by("-updated_at", "-id")
        .values_list("pk", "question")[:MAX_CANDIDATES]
    )
    found = [
        Suggestion("faq", pk, title, f"/questions/faq/{pk}/", score, True)
        for pk, title in entries
        if (score := similarity(tokens, title_tokens(title))) > 0
    ]
    found += [
        Suggestion(
            "question", pk, title, f"/questions/{pk}/", score, accepted is not None
        )
        for pk, title, accepted in questions
        if (score := similarity(tokens, title_tokens(title))) > 0
    ]
    found.sort(
        key=lambda item: (-item.score, item.kind != "faq", not item.answered, -item.pk)
    )
    return found[:limit]
