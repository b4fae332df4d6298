"""Comment on posts, reply to comments, and edit or delete comments."""

import logging
from collections.abc import Callable
from datetime import timedelta

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone

from accounts.authors import shown_name
from accounts.models import User
from core.audit import record_event
from core.forms import empty_message, too_long_message
from core.markdown import Rendered, render_markdown
from core.text import clean_text
from notifications.models import Notification
from notifications.services import notify
from social.models import Comment, CommentRevision, Post
from social.selectors import can_moderate, visible_posts
from social.services.mentions import (
    MentionTarget,
    check_mention_cap,
    notify_new_mentions,
    resolve_mentions,
)
from social.services.posts import (
    MAX_TAGS_PER_POST,
    can_post_in,
    change_comment_count,
    store_hashtags,
)

logger = logging.getLogger(__name__)

MAX_COMMENT_LENGTH = 5_000


def _render_comment_body(body: str) -> tuple[str, Rendered]:
    text = clean_text(body)
    if not text:
        raise ValidationError(empty_message("The comment", "write at least one word"))
    if len(text) > MAX_COMMENT_LENGTH:
        raise ValidationError(
            too_long_message("The comment", len(text), MAX_COMMENT_LENGTH)
        )

    rendered = render_markdown(text)
    if len(rendered.hashtags) > MAX_TAGS_PER_POST:
        raise ValidationError(
            f"The comment has {len(rendered.hashtags)} different hashtags; the "
            f"limit is {MAX_TAGS_PER_POST}. Keep the ones people will search for."
        )
    return text, rendered


def _mention_message(post: Post) -> Callable[[str], str]:
    """Return the mention text for an author name as a recipient may read it."""
    community = post.community.name
    return lambda author: f"{author} mentioned you in a comment in {community}."


def _notify_thread(
    *, author: User, comment: Comment, parent: Comment | None, skip: set[int]
) -> None:
    """Tell the post's author, and the parent comment's author, about ``comment``.

    People already notified by a mention in the comment and people who can
    no longer see the post are skipped.
    """
    post = comment.post
    url = f"/posts/{post.pk}/comments/{comment.pk}/"
    subject_key = f"comment:{comment.pk}"
    watchers: list[tuple[int | None, str, str]] = [
        (
            post.author_id,
            Notification.Kind.COMMENT_POSTED,
            "{author} commented on your post.",
        )
    ]
    if parent is not None:
        watchers.append(
            (
                parent.author_id,
                Notification.Kind.REPLY_POSTED,
                "{author} replied to your comment.",
            )
        )

    for person_id, kind, message in watchers:
        if person_id is None or person_id in skip or person_id == author.pk:
            continue
        person = User.objects.filter(pk=person_id, is_active=True).first()
        if person is None or not visible_posts(person).filter(pk=post.pk).exists():
            continue
        notify(
            recipients=[person],
            kind=kind,
            actor=author,
            message=message.format(author=shown_name(person, author)),
            url=url,
            subject_key=subject_key,
        )
        skip.add(person_id)


def _recent_duplicate(
    *, author: User, post: Post, parent: Comment | None, body: str
) -> Comment | None:
    """Return the author's identical comment sent within the window, if any.

    The caller holds the lock on the post's row, so a second identical
    comment waits until the first one commits and then finds it.
    """
    seconds = settings.SOCIAL_DUPLICATE_POST_SECONDS
    if seconds == 0:
        return None
    return (
        Comment.objects.filter(
            post=post,
            parent=parent,
            author=author,
            body=body,
            deleted_at__isnull=True,
            created_at__gte=timezone.now() - timedelta(seconds=seconds),
        )
        .order_by("created_at", "id")
        .first()
    )


@transaction.atomic
def post_comment(
    *, author: User, post: Post, body: str, parent: Comment | None = None
) -> Comment:
    """Add a comment to ``post``; a reply to a reply joins the same parent.

    The same comment again (same author, post, parent and text) within
    SOCIAL_DUPLICATE_POST_SECONDS returns the earlier comment and writes
    nothing, as ``publish_post`` does for posts.
    """
    if not can_post_in(author, post.community):
        raise PermissionDenied("Join this community before commenting in it.")
    post = Post.objects.select_for_update().select_related("community").get(pk=post.pk)
    if post.is_deleted:
        raise ValidationError("This post was deleted, so it takes no new comments.")
    if parent is not None:
        if parent.post_id != post.pk:
            raise ValidationError(
                f"Comment {parent.pk} belongs to another post: reply on that post."
            )
        if parent.parent_id is not None:
            parent = Comment.objects.get(pk=parent.parent_id)
        if parent.is_deleted:
            raise ValidationError(
                "This comment was deleted, so it takes no new replies."
            )
    text, rendered = _render_comment_body(body)
    mentioned = resolve_mentions(rendered.mentions)
    check_mention_cap(mentioned, text_kind="comment")
    duplicate = _recent_duplicate(author=author, post=post, parent=parent, body=text)
    if duplicate is not None:
        logger.info(
            "duplicate comment not posted: comment=%s post=%s author=%s",
            duplicate.pk,
            post.pk,
            author.pk,
        )
        return duplicate

    comment = Comment.objects.create(
        post=post,
        parent=parent,
        author=author,
        author_name=author.display_name,
        body=text,
        body_html=rendered.html,
    )
    tags = store_hashtags(rendered.hashtags)
    comment.hashtags.set(tags)
    change_comment_count(post.pk, 1)
    notified = notify_new_mentions(
        author=author,
        target=MentionTarget(post=post, comment=comment),
        people=mentioned,
        message=_mention_message(post),
    )
    _notify_thread(
        author=author,
        comment=comment,
        parent=parent,
        skip={person.pk for person in notified},
    )
    record_event(
        actor=author,
        action="comment.posted",
        target=comment,
        source="screen",
        after={
            "post": post.pk,
            "parent": parent.pk if parent else None,
            "hashtags": [tag.name for tag in tags],
            "mentioned": [person.username for person in notified],
        },
    )
    logger.info(
        "comment posted: comment=%s post=%s parent=%s",
        comment.pk,
        post.pk,
        parent.pk if parent else None,
    )
    return comment


def _lock_comment(comment: Comment) -> Comment:
    return (
        Comment.objects.select_for_update()
        .select_related("post__community")
        .get(pk=comment.pk)
    )


@transaction.atomic
def edit_comment(*, editor: User, comment: Comment, body: str) -> Comment:
    """Replace the text of ``comment``, keeping the old text as a revision."""
    comment = _lock_comment(comment)
    if comment.is_deleted:
        raise ValidationError("This comment was deleted, so it cannot be edited.")
    if comment.author_id != editor.pk:
        raise PermissionDenied("Only the author of a comment can edit it.")
    text, rendered = _render_comment_body(body)
    if text == comment.body:
        return comment
    mentioned = resolve_mentions(rendered.mentions)
    check_mention_cap(mentioned, text_kind="comment")

    CommentRevision.objects.create(
        comment=comment,
        body=comment.body,
        edited_by=editor,
        edited_by_name=editor.display_name,
    )
    before = {"body": comment.body}
    comment.body = text
    comment.body_html = rendered.html
    comment.edited_at = timezone.now()
    comment.save(update_fields=["body", "body_html", "edited_at", "updated_at"])
    tags = store_hashtags(rendered.hashtags)
    comment.hashtags.set(tags)
    notified = notify_new_mentions(
        author=editor,
        target=MentionTarget(post=comment.post, comment=comment),
        people=mentioned,
        message=_mention_message(comment.post),
    )
    record_event(
        actor=editor,
        action="comment.edited",
        target=comment,
        source="screen",
        before=before,
        after={
            "body": text,
            "hashtags": [tag.name for tag in tags],
            "mentioned": [person.username for person in notified],
        },
    )
    logger.info("comment edited: comment=%s editor=%s", comment.pk, editor.pk)
    return comment


@transaction.atomic
def delete_comment(*, actor: User, comment: Comment, reason: str = "") -> Comment:
    """Blank ``comment`` to a tombstone; its replies stay under it."""
    comment = _lock_comment(comment)
    if comment.is_deleted:
        raise ValidationError("This comment was already deleted.")
    community = comment.post.community
    if comment.author_id != actor.pk and not can_moderate(actor, community):
        raise PermissionDenied(
            "Only the author or a moderator of this community can delete this comment."
        )

    CommentRevision.objects.create(
        comment=comment,
        body=comment.body,
        edited_by=actor,
        edited_by_name=actor.display_name,
    )
    before = {"body": comment.body}
    comment.body = ""
    comment.body_html = ""
    comment.deleted_at = timezone.now()
    comment.save(update_fields=["body", "body_html", "deleted_at", "updated_at"])
    comment.hashtags.clear()
    record_event(
        actor=actor,
        action="comment.deleted",
        target=comment,
        source="screen",
        before=before,
        reason=reason,
    )
    logger.info("comment deleted: comment=%s actor=%s", comment.pk, actor.pk)
    return comment
