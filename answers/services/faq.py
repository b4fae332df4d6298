"""Curate the FAQ: make entries from answers, comments and posts, review them.

Every entry keeps links to its sources by exact id. Its text is a copy made
when it was curated, so a later edit of a source never changes the FAQ
silently. The owners review the entry instead.
"""

import datetime
import logging
from enum import Enum
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone

from accounts.models import CrmFunction, LearnerGroup, User
from answers.models import (
    Answer,
    FaqEntry,
    FaqSource,
    Question,
    ReleaseNote,
    ScreenChange,
)
from answers.permissions import can_own_faq, can_promote, can_record_release
from answers.services.common import (
    clean_body,
    clean_title,
    next_review_date,
)
from answers.services.faq_audience import (
    lift_audience_after_review,
    narrow_faq_audiences,
)
from answers.services.faq_sources import lock_unused_source
from assist.models import HelpContext
from communities.models import Community
from core.audit import record_event
from core.markdown import render_markdown
from core.text import clean_line
from notifications.models import Notification
from notifications.services import notify
from social.models import Comment, Post
from social.selectors import visible_posts

logger = logging.getLogger(__name__)

MAX_FAQ_ANSWER_LENGTH = 20_000
MAX_RELEASE_CONTEXTS = 50

PRIVATE_SOURCE_MESSAGE = (
    "{source_name} in a private community stays in it, and every employee reads the "
    "FAQ: repost it in an open community to add it there."
)


def _audience_change(entry: FaqEntry, after: dict[str, Any]) -> dict[str, bool]:
    """Apply the audience an owner's review allows; return the fields' old values.

    The changed fields' new values are added to ``after``.
    """
    before = {
        "customer_visible": entry.customer_visible,
        "owners_only": entry.owners_only,
    }
    changed = lift_audience_after_review(entry)
    after.update({name: getattr(entry, name) for name in changed})
    return {name: before[name] for name in changed}


def _start_review_clock(entry: FaqEntry, actor: User) -> None:
    entry.last_reviewed_at = timezone.now()
    entry.last_reviewed_on = timezone.localdate(entry.last_reviewed_at)
    entry.review_due_on = next_review_date()
    entry.reviewed_by = actor
    entry.review_flag = FaqEntry.ReviewFlag.NONE


@transaction.atomic
def promote_answer_to_faq(
    *, actor: User, answer: Answer, question_text: str = ""
) -> FaqEntry:
    """Make an FAQ entry from an accepted answer, linked to the question's context."""
    question = Question.objects.select_related(
        "community", "context", "crm_function"
    ).get(pk=answer.question_id)
    if not can_promote(actor, question):
        raise PermissionDenied(
            "Only a learning facilitator, a moderator or a super-user of this "
            "CRM function can add answers to the FAQ."
        )
    if question.community.visibility == Community.Visibility.PRIVATE:
        raise ValidationError(
            "Answers in a private community stay in it, and every employee reads "
            "the FAQ: repost the question in an open community to add it there."
        )
    if question.accepted_answer_id != answer.pk:
        raise ValidationError(
            "Accept this answer first: only accepted answers go to the FAQ."
        )
    if FaqEntry.objects.filter(source_answer=answer).exists():
        raise ValidationError("This answer is already an FAQ entry.")

    entry = FaqEntry(
        question=clean_title(clean_line(question_text) or question.title),
        answer=answer.body,
        answer_html=render_markdown(answer.body, mentions=False).html,
        crm_function=question.crm_function,
        # A customer company's own question may name its orders, so only
        # general customer questions reach every customer.
        customer_visible=(
            question.community.visibility == Community.Visibility.CUSTOMER
            and question.customer_id is None
        ),
        source_answer=answer,
        created_by=actor,
    )
    _start_review_clock(entry, actor)
    try:
        with transaction.atomic():
            entry.save()
    except IntegrityError:
        raise ValidationError("This answer is already an FAQ entry.") from None
    FaqSource.objects.create(
        entry=entry, kind=FaqSource.Kind.ANSWER, answer=answer, added_by=actor
    )
    if question.context is not None:
        entry.contexts.add(question.context)

    record_event(
        actor=actor,
        action="faq.promoted",
        target=entry,
        source="screen",
        after={"answer": answer.pk, "question": question.pk},
    )
    notify(
        recipients=[person for person in (answer.author, question.author) if person],
        kind=Notification.Kind.FAQ_PROMOTED,
        actor=actor,
        message=f"An answer is now in the FAQ: {entry.question}",
        url=f"/questions/faq/{entry.pk}/",
        subject_key=f"faq:{entry.pk}",
    )
    logger.info("answer promoted to FAQ: answer=%s faq=%s", answer.pk, entry.pk)
    return entry


def social_source_problem(actor: User, source: Post | Comment) -> str:
    """Return why ``source`` cannot become an FAQ entry for ``actor``, or "".

    The one rule for a post or comment as an FAQ source: the save applies it,
    the "Make FAQ entry" link is offered only where it returns "", and the
    form states it before anything is typed.
    """
    if isinstance(source, Comment):
        # A deleted comment on a post the actor can see gets the deletion
        # message, before the post's own checks.
        if (
            source.is_deleted
            and visible_posts(actor).filter(pk=source.post_id).exists()
        ):
            return "A comment that was deleted cannot become an FAQ entry."
        return post_source_problem(actor, source.post, "A comment")
    return post_source_problem(actor, source, "A post")


def post_source_problem(actor: User, post: Post, source_name: str) -> str:
    """Return why ``post`` or a live comment on it cannot be an FAQ source, or "".

    The part of ``social_source_problem`` that depends on the post only, so a
    page can check it once for all the comments on a post. ``source_name``
    ("A post" or "A comment") starts the message.
    """
    if not visible_posts(actor).filter(pk=post.pk).exists():
        return (
            f"{source_name} you cannot see cannot become an FAQ entry: check the link."
        )
    if post.is_deleted:
        return f"{source_name} that was deleted cannot become an FAQ entry."
    community = Community.objects.get(pk=post.community_id)
    if community.visibility == Community.Visibility.PRIVATE:
        return PRIVATE_SOURCE_MESSAGE.format(source_name=source_name)
    return ""


def _check_social_source(actor: User, source: Post | Comment) -> Post:
    """Return the source's post, or raise if ``social_source_problem`` finds one."""
    problem = social_source_problem(actor, source)
    if problem:
        raise ValidationError(problem)
    return source.post if isinstance(source, Comment) else source


def _source_row(entry: FaqEntry, source: Post | Comment, actor: User) -> FaqSource:
    if isinstance(source, Comment):
        return FaqSource(
            entry=entry, kind=FaqSource.Kind.COMMENT, comment=source, added_by=actor
        )
    return FaqSource(entry=entry, kind=FaqSource.Kind.POST, post=source, added_by=actor)


@transaction.atomic
def create_faq_entry(
    *,
    actor: User,
    source: Post | Comment,
    question_text: str,
    answer_text: str = "",
    crm_function: CrmFunction | None,
    contexts: list[HelpContext] | None = None,
) -> FaqEntry:
    """Make an FAQ entry from a blog post, a microblog post or a comment.

    The answer text defaults to the source's text. Entries from a
    customer-visible community are customer-visible; others are internal.
    """
    if not can_own_faq(actor, crm_function):
        function_name = crm_function.name if crm_function else "this CRM function"
        raise PermissionDenied(
            "Only a learning facilitator, a moderator or a super-user of "
            f"{function_name} can add entries to its FAQ."
        )
    post = _check_social_source(actor, source)
    lock_unused_source(source)
    contexts = contexts or []
    text = clean_body(
        answer_text or source.body,
        required=True,
        what="FAQ answer",
        limit=MAX_FAQ_ANSWER_LENGTH,
    )
    community = Community.objects.get(pk=post.community_id)

    entry = FaqEntry(
        question=clean_title(question_text, what="FAQ question"),
        answer=text,
        answer_html=render_markdown(text, mentions=False).html,
        crm_function=crm_function,
        customer_visible=community.visibility == Community.Visibility.CUSTOMER,
        created_by=actor,
    )
    _start_review_clock(entry, actor)
    entry.save()
    source_row = _source_row(entry, source, actor)
    source_row.save()
    entry.contexts.set(contexts)

    record_event(
        actor=actor,
        action="faq.promoted",
        target=entry,
        source="screen",
        after={
            source_row.kind: source.pk,
            "contexts": [context.key for context in contexts],
        },
    )
    if source.author is not None:
        notify(
            recipients=[source.author],
            kind=Notification.Kind.FAQ_PROMOTED,
            actor=actor,
            message=f"Your {source_row.get_kind_display().lower()} is now in the FAQ: "
            f"{entry.question}",
            url=f"/questions/faq/{entry.pk}/",
            subject_key=f"faq:{entry.pk}",
        )
    logger.info("FAQ entry created: faq=%s %s=%s", entry.pk, source_row.kind, source.pk)
    return entry


@transaction.atomic
def add_faq_source(
    *, actor: User, entry: FaqEntry, source: Post | Comment
) -> FaqSource:
    """Link one more post or comment to an existing entry, without changing its text."""
    entry = FaqEntry.objects.select_for_update().get(pk=entry.pk)
    if not can_own_faq(actor, entry.crm_function):
        raise PermissionDenied("Only the owners of this FAQ can add sources to it.")
    _check_social_source(actor, source)
    row = _source_row(entry, source, actor)
    try:
        with transaction.atomic():
            row.save()
    except IntegrityError:
        raise ValidationError(
            f"This {row.get_kind_display().lower()} is already a source of the entry."
        ) from None
    record_event(
        actor=actor,
        action="faq.source_added",
        target=entry,
        source="screen",
        after={row.kind: source.pk},
    )
    # A post from an employees-only community makes a customer-visible
    # entry internal: the entry shows what every source allows.
    narrow_faq_audiences(entry_ids=[entry.pk], actor=actor, flag=False)
    return row


class _Keep(Enum):
    """The default of an argument that leaves the stored value as it is."""

    KEEP = "keep"


KEEP = _Keep.KEEP


def _function_slug(crm_function: CrmFunction | None) -> str:
    return crm_function.slug if crm_function is not None else ""


def _move_to_function(
    *, actor: User, entry: FaqEntry, crm_function: CrmFunction | None
) -> None:
    """Hand ``entry`` to another CRM function's owners, with an audit event.

    The owners are read from the function (``FaqOwnership``), so the new
    function's super-users own the entry from this save on. The actor must
    own the new function's FAQ too, because the form offers only those
    functions and a forged post must not reach the others.
    """
    if not can_own_faq(actor, crm_function):
        target = crm_function.name if crm_function else "entries without a CRM function"
        raise PermissionDenied(
            f"Only a learning facilitator, a moderator or a super-user of {target} "
            "can move an FAQ entry there: pick a function you are a super-user of."
        )
    before = {"crm_function": _function_slug(entry.crm_function)}
    entry.crm_function = crm_function
    record_event(
        actor=actor,
        action="faq.function_changed",
        target=entry,
        source="screen",
        before=before,
        after={"crm_function": _function_slug(crm_function)},
    )
    logger.info(
        "FAQ entry moved: faq=%s from=%s to=%s",
        entry.pk,
        before["crm_function"],
        _function_slug(crm_function),
    )


@transaction.atomic
def edit_faq_entry(
    *,
    actor: User,
    entry: FaqEntry,
    question_text: str,
    answer_text: str,
    crm_function: CrmFunction | _Keep | None = KEEP,
    contexts: list[HelpContext] | None = None,
    learner_groups: list[LearnerGroup] | None = None,
) -> FaqEntry:
    """Rewrite an entry; saving an edit counts as a review and restarts its clock.

    ``crm_function`` moves the entry to that function's owners (None for no
    function); leave it as ``KEEP`` to keep the function.
    """
    entry = FaqEntry.objects.select_for_update().get(pk=entry.pk)
    if not can_own_faq(actor, entry.crm_function):
        raise PermissionDenied("Only the owners of this FAQ can edit its entries.")
    if not isinstance(crm_function, _Keep) and crm_function != entry.crm_function:
        _move_to_function(actor=actor, entry=entry, crm_function=crm_function)
    question = clean_title(question_text, what="FAQ question")
    text = clean_body(
        answer_text, required=True, what="FAQ answer", limit=MAX_FAQ_ANSWER_LENGTH
    )
    before: dict[str, Any] = {"question": entry.question, "answer": entry.answer}
    after: dict[str, Any] = {"question": question, "answer": text}
    entry.question = question
    entry.answer = text
    entry.answer_html = render_markdown(text, mentions=False).html
    _start_review_clock(entry, actor)
    before.update(_audience_change(entry, after))
    entry.save()
    if contexts is not None:
        entry.contexts.set(contexts)
    if learner_groups is not None:
        entry.learner_groups.set(learner_groups)
    record_event(
        actor=actor,
        action="faq.edited",
        target=entry,
        source="screen",
        before=before,
        after=after,
    )
    return entry


@transaction.atomic
def mark_faq_reviewed(*, actor: User, entry: FaqEntry) -> FaqEntry:
    """Record that an owner checked the entry; its next review is due later."""
    entry = FaqEntry.objects.select_for_update().get(pk=entry.pk)
    if not can_own_faq(actor, entry.crm_function):
        raise PermissionDenied("Only the owners of this FAQ can review its entries.")
    before: dict[str, Any] = {
        "last_reviewed_on": str(entry.last_reviewed_on),
        "review_due_on": str(entry.review_due_on),
        "review_flag": entry.review_flag,
    }
    _start_review_clock(entry, actor)
    after: dict[str, Any] = {
        "last_reviewed_on": str(entry.last_reviewed_on),
        "review_due_on": str(entry.review_due_on),
    }
    before.update(_audience_change(entry, after))
    entry.save(
        update_fields=[
            "last_reviewed_on",
            "last_reviewed_at",
            "review_due_on",
            "reviewed_by",
            "review_flag",
            "customer_visible",
            "owners_only",
            "updated_at",
        ]
    )
    record_event(
        actor=actor,
        action="faq.reviewed",
        target=entry,
        source="screen",
        before=before,
        after=after,
    )
    logger.info("FAQ entry reviewed: faq=%s actor=%s", entry.pk, actor.pk)
    return entry


@transaction.atomic
def record_release(
    *,
    actor: User,
    title: str,
    released_on: datetime.date,
    context_keys: list[str],
    notes: str = "",
) -> ReleaseNote:
    """Record a CRM release and the screens it changed.

    FAQ entries on a changed screen, or on a screen above it, need review
    once the release date has come, unless they were reviewed after the
    release took effect (``answers.models.release_takes_effect_at``).
    """
    if not can_record_release(actor):
        raise PermissionDenied("Only a learning facilitator can record a release.")
    title = clean_title(title, what="release title")
    keys = list(
        dict.fromkeys(clean_line(key) for key in context_keys if clean_line(key))
    )
    if not keys:
        raise ValidationError(
            "Name at least one changed screen: pick its help context key."
        )
    if len(keys) > MAX_RELEASE_CONTEXTS:
        raise ValidationError(
            f"The release names {len(keys)} screens; the limit is "
            f"{MAX_RELEASE_CONTEXTS}. Name the parent screen instead."
        )
    contexts = {
        context.key: context for context in HelpContext.objects.filter(key__in=keys)
    }
    unknown = [key for key in keys if key not in contexts]
    if unknown:
        raise ValidationError(
            f"Unknown help context {unknown[0]!r}: use a key a CRM screen "
            "declares, such as 'reconciliation.order'."
        )

    release = ReleaseNote.objects.create(
        title=title,
        released_on=released_on,
        notes=clean_body(notes, required=False, what="release notes"),
        created_by=actor,
    )
    ScreenChange.objects.bulk_create(
        [ScreenChange(release=release, context=contexts[key]) for key in keys]
    )
    record_event(
        actor=actor,
        action="release.recorded",
        target=release,
        source="screen",
        after={"released_on": str(released_on), "contexts": keys},
    )
    logger.info("release recorded: release=%s contexts=%s", release.pk, keys)
    return release
