"""Reactions, bookmarks and helpful marks: one row per person, set or cleared.

Each write states the wanted end state (on or off) instead of toggling, so
two clicks that race end in the state the person saw last. A unique
constraint keeps one row per person, and an insert that hits it is a no-op.
The post's counters (reactions of each kind, helpful marks) move with F()
in the same transaction, only when a row was really added or removed.
"""

import logging

from django.core.exceptions import ValidationError
from django.db import IntegrityError, models, transaction
from django.db.models import F

from accounts.models import User
from core.audit import record_event
from social.models import Bookmark, HelpfulMark, Post, Reaction

logger = logging.getLogger(__name__)


def _insert_once(model: type[models.Model], **fields: object) -> bool:
    """Insert a row and return True, or return False when the row already exists."""
    try:
        with transaction.atomic():
            model.objects.create(**fields)  # type: ignore[attr-defined]
    except IntegrityError:
        return False
    return True


def _check_open(post: Post) -> None:
    # Read from the database: the caller's instance may predate a deletion.
    if not Post.objects.filter(pk=post.pk, deleted_at__isnull=True).exists():
        raise ValidationError("This post was deleted, so it takes no reactions.")


@transaction.atomic
def set_reaction(*, person: User, post: Post, kind: str, active: bool) -> bool:
    """Add or remove ``person``'s reaction of ``kind``; return whether it changed."""
    if kind not in Reaction.Kind.values:
        known = ", ".join(Reaction.Kind.values)
        raise ValidationError(f"{kind!r} is not a reaction: use one of {known}.")
    _check_open(post)

    if active:
        changed = _insert_once(Reaction, post=post, person=person, kind=kind)
    else:
        removed, _ = Reaction.objects.filter(
            post=post, person=person, kind=kind
        ).delete()
        changed = removed > 0
    if changed:
        # The counter moves in the transaction that adds or removes the row,
        # and only when a row was added or removed, so racing clicks that
        # change nothing move nothing.
        counter = Reaction.counter_field(kind)
        delta = 1 if active else -1
        Post.objects.filter(pk=post.pk).update(**{counter: F(counter) + delta})
        record_event(
            actor=person,
            action="reaction.added" if active else "reaction.removed",
            target=post,
            source="screen",
            after={"kind": kind},
        )
        logger.info(
            "reaction %s: post=%s person=%s kind=%s",
            "added" if active else "removed",
            post.pk,
            person.pk,
            kind,
        )
    return changed


@transaction.atomic
def set_bookmark(*, person: User, post: Post, active: bool) -> bool:
    """Add or remove ``person``'s bookmark of ``post``; return whether it changed.

    A deleted post takes no new bookmark: its tombstone has nothing left to
    come back to. A bookmark made before the deletion stays, shows the
    tombstone, and can be removed.
    """
    if active:
        if not Post.objects.filter(pk=post.pk, deleted_at__isnull=True).exists():
            raise ValidationError(
                f"Post {post.pk} was deleted, so it cannot be bookmarked."
            )
        changed = _insert_once(Bookmark, post=post, person=person)
    else:
        removed, _ = Bookmark.objects.filter(post=post, person=person).delete()
        changed = removed > 0
    if changed:
        record_event(
            actor=person,
            action="bookmark.added" if active else "bookmark.removed",
            target=post,
            source="screen",
        )
    return changed


@transaction.atomic
def set_helpful(*, person: User, post: Post, active: bool) -> bool:
    """Mark or unmark ``post`` as helpful; the post's counter moves with the row."""
    if active and post.author_id == person.pk:
        raise ValidationError("You cannot mark your own post as helpful.")
    _check_open(post)

    if active:
        changed = _insert_once(HelpfulMark, post=post, person=person)
    else:
        removed, _ = HelpfulMark.objects.filter(post=post, person=person).delete()
        changed = removed > 0
    if changed:
        delta = 1 if active else -1
        Post.objects.filter(pk=post.pk).update(helpful_count=F("helpful_count") + delta)
        record_event(
            actor=person,
            action="post.marked_helpful" if active else "post.unmarked_helpful",
            target=post,
            source="screen",
        )
    return changed
