"""Ask questions, and close duplicates into their original."""

import logging
from datetime import timedelta

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone

from accounts.models import User
from answers.models import Question
from answers.permissions import CLOSE_DENIED, REOPEN_DENIED, can_close
from answers.selectors import visible_questions
from answers.services.common import (
    KIND_QUESTION_CLOSED,
    clean_body,
    clean_title,
    function_for_question,
    parse_question_tags,
    question_url,
    save_tags,
)
from answers.services.mentions import checked_mentions, notify_qa_mentions
from assist.contexts import is_customer_context
from assist.models import HelpContext
from communities.models import Community
from core.audit import record_event
from core.markdown import render_markdown
from core.text import clean_line
from notifications.models import Notification
from notifications.services import notify
from reconciliation.models import Party
from social.services.posts import can_post_in

logger = logging.getLogger(__name__)

# A second identical question within this time is taken for a repeated click.
DUPLICATE_WINDOW = timedelta(minutes=10)


def recent_duplicate(
    *,
    asker: User,
    title: str,
    context_key: str | None,
    record_kind: str = "",
    record_ref: str = "",
    community: Community | None = None,
) -> Question | None:
    """Lock the asker's row and return their same question asked in the window.

    The same question is the same title, screen context and record (and
    ``community`` when given). The lock makes a second ask by the same person
    wait until the first commits, so it finds the first question instead of
    racing it. The caller must run this inside its transaction.
    """
    # select_for_update() locks only when the rows are read, hence list().
    list(User.objects.select_for_update().filter(pk=asker.pk).values_list("pk"))
    rows = Question.objects.filter(
        author=asker,
        title=clean_line(title),
        record_kind=record_kind,
        record_ref=record_ref,
        created_at__gte=timezone.now() - DUPLICATE_WINDOW,
    )
    if context_key:
        rows = rows.filter(context__key=context_key)
    else:
        rows = rows.filter(context__isnull=True)
    if community is not None:
        rows = rows.filter(community=community)
    return rows.order_by("created_at", "pk").first()


@transaction.atomic
def create_question(
    *,
    author: User,
    community: Community,
    title: str,
    body: str = "",
    context: HelpContext | None = None,
    record_ref: str = "",
    record_kind: str = "",
    customer: Party | None = None,
) -> Question:
    """Store a question with its hashtags; the caller checks where it may go.

    The caller also checks that the author may see the record. A
    ``record_ref`` without a ``record_kind`` is an order number.
    """
    record_ref = record_ref[:80]
    if not record_ref:
        record_kind = ""
    elif not record_kind:
        record_kind = Question.RecordKind.ORDER
    title = clean_title(title)
    body = clean_body(body, required=False, what="description")
    tags = parse_question_tags(title, body)
    rendered = render_markdown(body) if body else None
    # Checked before the row is written: a group mention or too many
    # people is rejected with nothing stored.
    mentioned = checked_mentions(rendered, text_kind="question") if rendered else []
    question = Question.objects.create(
        community=community,
        context=context,
        crm_function=function_for_question(context, community),
        record_kind=record_kind,
        record_ref=record_ref,
        customer=customer,
        author=author,
        author_name=author.display_name,
        title=title,
        body=body,
        body_html=rendered.html if rendered else "",
    )
    stored = save_tags(tags)
    question.hashtags.set(stored)
    record_event(
        actor=author,
        action="question.asked",
        target=question,
        source="screen",
        after={"community": community.slug, "context": context.key if context else ""},
    )
    notify_qa_mentions(
        author=author,
        question=question,
        people=mentioned,
        subject_key=f"question:{question.pk}",
        url=question_url(question),
        text_kind="a question",
    )
    return question


@transaction.atomic
def ask_question(
    *,
    asker: User,
    community: Community,
    title: str,
    body: str = "",
    context: HelpContext | None = None,
) -> Question:
    """Post a question from the ask page and notify its function's super-users.

    ``community`` must be one the asker can see; a private one needs membership.
    Super-users are notified only when they can read the question. The same
    question again (same community, title and context) within
    ``DUPLICATE_WINDOW`` returns the first one and notifies nobody again.
    """
    if not can_post_in(asker, community):
        raise PermissionDenied(
            f"Join {community.name} before asking in it, or pick another community."
        )
    if (
        asker.is_external
        and context is not None
        and not is_customer_context(context.key)
    ):
        # The same words as for a key no screen declares, so the message
        # does not tell a customer which internal keys exist.
        raise ValidationError(
            f"Unknown help context {context.key!r}: pick a screen from the list "
            "or leave it empty."
        )
    repeated = recent_duplicate(
        asker=asker,
        title=title,
        context_key=context.key if context else None,
        community=community,
    )
    if repeated is not None:
        logger.info("question asked twice, kept the first: question=%s", repeated.pk)
        return repeated
    question = create_question(
        author=asker,
        community=community,
        title=title,
        body=body,
        context=context,
        customer=asker.customer if asker.is_external else None,
    )
    if question.crm_function is not None:
        recipients = [
            person
            for person in User.objects.listed().filter(
                super_user_assignments__crm_function=question.crm_function,
                is_active=True,
            )
            if visible_questions(person).filter(pk=question.pk).exists()
        ]
        notify(
            recipients=recipients,
            kind=Notification.Kind.QUESTION_ROUTED,
            actor=asker,
            message=f"{asker.display_name} asked: {question.title}",
            url=question_url(question),
            subject_key=f"question:{question.pk}",
        )
    logger.info("question asked: question=%s community=%s", question.pk, community.slug)
    return question


def _lock_pair(first_id: int, second_id: int) -> dict[int, Question]:
    """Lock both questions in id order, so two crossing closes cannot deadlock."""
    rows = (
        Question.objects.select_for_update()
        .filter(pk__in=[first_id, second_id])
        .order_by("pk")
    )
    return {row.pk: row for row in rows}


def _split_duplicates(
    question: Question, original: Question
) -> tuple[list[int], list[Question]]:
    """Split the duplicates of ``question`` by whether their asker sees ``original``.

    Return the ids of those that can move to ``original`` and the rows of
    those that must be reopened instead, locked.
    """
    moved: list[int] = []
    reopened: list[Question] = []
    duplicates = (
        Question.objects.select_for_update(of=("self",))
        .filter(duplicate_of=question)
        .select_related("author")
        .order_by("pk")
    )
    for duplicate in duplicates:
        asker = duplicate.author
        if asker is None or visible_questions(asker).filter(pk=original.pk).exists():
            moved.append(duplicate.pk)
        else:
            reopened.append(duplicate)
    return moved, reopened


def _reopen_for_hidden_original(
    *, actor: User, duplicate: Question, closed: Question, original: Question
) -> None:
    """Reopen ``duplicate``, whose asker cannot open the question it would move to.

    The notice names neither the new original nor its community, because
    the asker may not see them.
    """
    duplicate.duplicate_of = None
    duplicate.closed_at = None
    duplicate.closed_by = None
    duplicate.save(
        update_fields=["duplicate_of", "closed_at", "closed_by", "updated_at"]
    )
    event = record_event(
        actor=actor,
        action="question.reopened",
        target=duplicate,
        source="screen",
        before={"duplicate_of": closed.pk},
        after={"duplicate_of": None},
        reason=(
            f"question {closed.pk} was closed into question {original.pk}, "
            "which the asker cannot open"
        ),
    )
    if duplicate.author is not None:
        notify(
            recipients=[duplicate.author],
            kind=Notification.Kind.QUESTION_REOPENED,
            actor=actor,
            message=(
                "Your question is open again, because the question it was closed "
                f"into was closed into one you cannot open: {duplicate.title}"
            ),
            url=question_url(duplicate),
            subject_key=f"question-reopened:{duplicate.pk}:{event.pk}",
        )


@transaction.atomic
def close_as_duplicate(
    *, actor: User, question: Question, original_id: int, reason: str = ""
) -> Question:
    """Close ``question`` as a duplicate of the question ``original_id``.

    The original must be a question the closer and the asker can both see,
    must not be closed itself, and must not be the question. Questions that
    were closed into ``question`` move to the original, so no chain forms. A
    question whose asker cannot open the original is reopened instead, with
    a notice to its asker, so no question points its asker at a page they
    cannot open.
    """
    if original_id == question.pk:
        raise ValidationError("A question cannot be a duplicate of itself.")
    if not visible_questions(actor).filter(pk=original_id).exists():
        raise ValidationError(
            f"No question {original_id} found among those you can see: check "
            "the number of the original question."
        )
    locked = _lock_pair(question.pk, original_id)
    question = locked[question.pk]
    original = locked[original_id]
    question.community = Community.objects.get(pk=question.community_id)

    if not can_close(actor, question):
        raise PermissionDenied(CLOSE_DENIED)
    if question.is_duplicate:
        raise ValidationError(
            f"This question is already closed as a duplicate of question "
            f"{question.duplicate_of_id}: reopen it first."
        )
    if original.is_duplicate:
        raise ValidationError(
            f"Question {original.pk} is itself closed as a duplicate: close this "
            "one into the question it points to."
        )
    asker = question.author
    if (
        asker is not None
        and not visible_questions(asker).filter(pk=original.pk).exists()
    ):
        raise ValidationError(
            f"The asker of this question cannot see question {original.pk}, so "
            "closing would hide the answer from them: pick an original they can "
            "read, or answer here."
        )

    now = timezone.now()
    moved, reopened = _split_duplicates(question, original)
    Question.objects.filter(pk__in=moved).update(duplicate_of=original, updated_at=now)
    for duplicate in reopened:
        _reopen_for_hidden_original(
            actor=actor, duplicate=duplicate, closed=question, original=original
        )
    question.duplicate_of = original
    question.closed_at = now
    question.closed_by = actor
    question.save(
        update_fields=["duplicate_of", "closed_at", "closed_by", "updated_at"]
    )
    record_event(
        actor=actor,
        action="question.closed_as_duplicate",
        target=question,
        source="screen",
        before={"duplicate_of": None},
        after={
            "duplicate_of": original.pk,
            "moved_duplicates": moved,
            "reopened_duplicates": [duplicate.pk for duplicate in reopened],
        },
        reason=reason,
    )
    if asker is not None:
        notify(
            recipients=[asker],
            kind=KIND_QUESTION_CLOSED,
            actor=actor,
            message=f"Your question was closed as a duplicate: {question.title}",
            url=question_url(original),
            subject_key=f"question-closed:{question.pk}:{original.pk}",
        )
    logger.info(
        "question closed as duplicate: question=%s original=%s moved=%s reopened=%s",
        question.pk,
        original.pk,
        moved,
        [duplicate.pk for duplicate in reopened],
    )
    return question


@transaction.atomic
def reopen_question(*, actor: User, question: Question) -> Question:
    """Reopen a question closed as a duplicate; its own answers were kept."""
    question = (
        Question.objects.select_for_update()
        .select_related("community")
        .get(pk=question.pk)
    )
    if not can_close(actor, question):
        raise PermissionDenied(REOPEN_DENIED)
    if not question.is_duplicate:
        raise ValidationError("This question is open: there is nothing to reopen.")

    before = {"duplicate_of": question.duplicate_of_id}
    question.duplicate_of = None
    question.closed_at = None
    question.closed_by = None
    question.save(
        update_fields=["duplicate_of", "closed_at", "closed_by", "updated_at"]
    )
    record_event(
        actor=actor,
        action="question.reopened",
        target=question,
        source="screen",
        before=before,
        after={"duplicate_of": None},
    )
    return question
