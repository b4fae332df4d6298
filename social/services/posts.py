"""Publish, edit and delete posts, blog posts and announcements in communities."""

import logging
from collections.abc import Callable, Sequence
from datetime import timedelta

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import F
from django.utils import timezone

from accounts.models import Role, User
from communities.models import Community, Membership
from core.audit import record_event
from core.forms import empty_message, too_long_message
from core.markdown import Hashtag as ParsedHashtag
from core.markdown import Rendered, render_markdown
from core.text import clean_line, clean_text
from library.uploads import CheckedUpload, stored_or_removed
from social.models import UNSPELLED, Hashtag, Post, PostHashtag, PostRevision
from social.selectors import can_moderate
from social.services.attachments import remove_attachments, store_attachments
from social.services.mentions import (
    MentionTarget,
    check_mention_cap,
    notify_new_mentions,
    resolve_mentions,
)

logger = logging.getLogger(__name__)

MAX_POST_LENGTH = 5_000
MAX_LONG_FORM_LENGTH = 50_000
MAX_TITLE_LENGTH = 200
MAX_SUMMARY_LENGTH = 500
MAX_TAGS_PER_POST = 30
# Announcements go to the top of everyone's feed, so only executives and the
# learning team (learning facilitators) may publish them.
ANNOUNCER_ROLES = frozenset({Role.EXECUTIVE, Role.FACILITATOR})
LONG_FORM_KINDS = frozenset({Post.Kind.BLOG, Post.Kind.ANNOUNCEMENT})


def store_hashtags(parsed: list[ParsedHashtag]) -> list[Hashtag]:
    """Return the rows for ``parsed`` tags, inserting new ones, in two queries.

    A tag keeps the spelling it was first used with; a concurrent first use
    is absorbed by the unique name. A tag that a follow created has no
    spelling yet, and its first post gives it one, with one more query.
    """
    names = [tag.name for tag in parsed]
    Hashtag.objects.bulk_create(
        [Hashtag(name=tag.name, display_name=tag.display_name) for tag in parsed],
        ignore_conflicts=True,
    )
    by_name = {tag.name: tag for tag in Hashtag.objects.filter(name__in=names)}
    for tag in parsed:
        row = by_name[tag.name]
        if row.display_name == UNSPELLED:
            Hashtag.objects.filter(pk=row.pk, display_name=UNSPELLED).update(
                display_name=tag.display_name
            )
            row.refresh_from_db(fields=["display_name"])
    return [by_name[name] for name in names]


def can_post_in(person: User, community: Community) -> bool:
    """Check whether ``person`` may post. The caller checks that they see it."""
    if community.visibility == Community.Visibility.PRIVATE:
        return Membership.objects.filter(community=community, person=person).exists()
    return person.is_active


def can_announce(person: User) -> bool:
    return person.role in ANNOUNCER_ROLES and person.is_active


def _render_post_body(
    body: str, *, limit: int = MAX_POST_LENGTH
) -> tuple[str, Rendered]:
    text = clean_text(body)
    if not text:
        raise ValidationError(empty_message("The post", "write at least one word"))
    if len(text) > limit:
        raise ValidationError(too_long_message("The post", len(text), limit))

    rendered = render_markdown(text)
    if len(rendered.hashtags) > MAX_TAGS_PER_POST:
        raise ValidationError(
            f"The post has {len(rendered.hashtags)} different hashtags; the limit "
            f"is {MAX_TAGS_PER_POST}. Keep the ones people will search for."
        )
    return text, rendered


def _mention_message(post: Post) -> Callable[[str], str]:
    """Return the mention text for an author name as a recipient may read it."""
    return lambda author: f"{author} mentioned you in a post in {post.community.name}."


def _clean_heading(kind: str, title: str, summary: str) -> tuple[str, str]:
    """Return the cleaned title and summary, or raise naming the bad value."""
    if kind not in Post.Kind.values:
        known = ", ".join(Post.Kind.values)
        raise ValidationError(f"{kind!r} is not a kind of post: use one of {known}.")
    title = clean_line(title)
    summary = clean_line(summary)
    label = Post.Kind(kind).label.lower()
    if kind == Post.Kind.MICRO:
        if title or summary:
            raise ValidationError(
                "A short post has no title or summary: publish it as a blog post "
                "to give it one."
            )
        return "", ""

    if not title:
        raise ValidationError(f"The {label} has no title: give it one.")
    if len(title) > MAX_TITLE_LENGTH:
        raise ValidationError(
            too_long_message("The title", len(title), MAX_TITLE_LENGTH)
        )
    if len(summary) > MAX_SUMMARY_LENGTH:
        raise ValidationError(
            too_long_message("The summary", len(summary), MAX_SUMMARY_LENGTH)
        )
    return title, summary


def _recent_duplicate(
    *,
    author: User,
    community: Community,
    kind: str,
    title: str,
    summary: str,
    body: str,
    attachments: Sequence[CheckedUpload],
) -> Post | None:
    """Lock the author's row and return their identical recent post, if any.

    A double click or a retried request sends the same post again. The lock
    makes a second publish by the same author wait until the first one
    commits, so it finds the first post instead of racing it. The caller
    must run this inside its transaction, which holds the lock until commit.
    """
    seconds = settings.SOCIAL_DUPLICATE_POST_SECONDS
    if seconds == 0:
        return None

    # select_for_update() locks only when the rows are read, hence list().
    list(User.objects.select_for_update().filter(pk=author.pk).values_list("pk"))
    window = timedelta(seconds=seconds)
    candidates = Post.objects.filter(
        author=author,
        community=community,
        kind=kind,
        title=title,
        summary=summary,
        body=body,
        shared_from__isnull=True,
        deleted_at__isnull=True,
        created_at__gte=timezone.now() - window,
    ).order_by("-created_at", "-id")
    digests = [item.sha256 for item in attachments]
    for post in candidates:
        stored = list(post.attachments.values_list("sha256", flat=True))
        if stored == digests:
            return post
    return None


@transaction.atomic
def publish_post(
    *,
    author: User,
    community: Community,
    body: str,
    kind: str = Post.Kind.MICRO,
    title: str = "",
    summary: str = "",
    attachments: Sequence[CheckedUpload] = (),
) -> Post:
    """Publish a short post, a blog post or an announcement in ``community``.

    Blog posts and announcements need a title and may carry a summary; only
    executives and learning facilitators publish announcements.
    ``attachments`` come from ``check_attachments``; their files are removed
    again when the post cannot be written.

    The same post again (same author, community, kind, heading, body and
    attachment contents) within SOCIAL_DUPLICATE_POST_SECONDS returns the
    earlier post and writes nothing.
    """
    if not can_post_in(author, community):
        raise PermissionDenied("Join this community before posting in it.")
    title, summary = _clean_heading(kind, title, summary)
    if kind == Post.Kind.ANNOUNCEMENT and not can_announce(author):
        raise PermissionDenied(
            "Only executives and learning facilitators can publish announcements."
        )
    limit = MAX_LONG_FORM_LENGTH if kind in LONG_FORM_KINDS else MAX_POST_LENGTH
    text, rendered = _render_post_body(body, limit=limit)
    mentioned = resolve_mentions(rendered.mentions)
    check_mention_cap(mentioned, text_kind="post")

    duplicate = _recent_duplicate(
        author=author,
        community=community,
        kind=kind,
        title=title,
        summary=summary,
        body=text,
        attachments=attachments,
    )
    if duplicate is not None:
        logger.info(
            "duplicate post not published: post=%s author=%s community=%s",
            duplicate.pk,
            author.pk,
            community.slug,
        )
        return duplicate

    with stored_or_removed() as stored:
        post = Post.objects.create(
            community=community,
            kind=kind,
            title=title,
            summary=summary,
            author=author,
            author_name=author.display_name,
            body=text,
            body_html=rendered.html,
        )
        store_attachments(post, attachments, stored=stored)
        tags = store_hashtags(rendered.hashtags)
        # The post is new, so its tag rows are inserted without reading any first.
        PostHashtag.objects.bulk_create(
            [PostHashtag(post=post, hashtag=tag) for tag in tags]
        )
        notified = notify_new_mentions(
            author=author,
            target=MentionTarget(post=post),
            people=mentioned,
            message=_mention_message(post),
        )
        record_event(
            actor=author,
            action="post.published",
            target=post,
            source="screen",
            after={
                "community": community.slug,
                "kind": kind,
                "title": title,
                "hashtags": [tag.name for tag in tags],
                "mentioned": [person.username for person in notified],
                "attachments": [item.name for item in attachments],
            },
        )
    logger.info(
        "post published: post=%s kind=%s community=%s", post.pk, kind, community.slug
    )
    return post


def _lock_post(post: Post) -> Post:
    """Return ``post`` re-read under a row lock, so edits and deletes queue."""
    return Post.objects.select_for_update().select_related("community").get(pk=post.pk)


@transaction.atomic
def edit_post(
    *,
    editor: User,
    post: Post,
    body: str,
    title: str | None = None,
    summary: str | None = None,
) -> Post:
    """Replace the text of ``post``, keeping the old text as a revision.

    Only the author edits a post. A blog post or announcement may get a new
    ``title`` and ``summary`` too; ``None`` keeps the one it has. People the
    new text mentions are notified when the earlier text had not already
    notified them.
    """
    post = _lock_post(post)
    if post.is_deleted:
        raise ValidationError("This post was deleted, so it cannot be edited.")
    if post.author_id != editor.pk:
        raise PermissionDenied("Only the author of a post can edit it.")
    title, summary = _clean_heading(
        post.kind,
        post.title if title is None else title,
        post.summary if summary is None else summary,
    )
    limit = MAX_LONG_FORM_LENGTH if post.kind in LONG_FORM_KINDS else MAX_POST_LENGTH
    text, rendered = _render_post_body(body, limit=limit)
    if (text, title, summary) == (post.body, post.title, post.summary):
        return post
    mentioned = resolve_mentions(rendered.mentions)
    check_mention_cap(mentioned, text_kind="post")

    PostRevision.objects.create(
        post=post,
        title=post.title,
        summary=post.summary,
        body=post.body,
        edited_by=editor,
        edited_by_name=editor.display_name,
    )
    before: dict[str, object] = {"body": post.body}
    after: dict[str, object] = {"body": text}
    if post.kind in LONG_FORM_KINDS:
        before |= {"title": post.title, "summary": post.summary}
        after |= {"title": title, "summary": summary}
    post.title = title
    post.summary = summary
    post.body = text
    post.body_html = rendered.html
    post.edited_at = timezone.now()
    post.save(
        update_fields=[
            "title",
            "summary",
            "body",
            "body_html",
            "edited_at",
            "updated_at",
        ]
    )
    tags = store_hashtags(rendered.hashtags)
    post.hashtags.set(tags)
    notified = notify_new_mentions(
        author=editor,
        target=MentionTarget(post=post),
        people=mentioned,
        message=_mention_message(post),
    )
    record_event(
        actor=editor,
        action="post.edited",
        target=post,
        source="screen",
        before=before,
        after={
            **after,
            "hashtags": [tag.name for tag in tags],
            "mentioned": [person.username for person in notified],
        },
    )
    logger.info("post edited: post=%s editor=%s", post.pk, editor.pk)
    return post


@transaction.atomic
def delete_post(*, actor: User, post: Post, reason: str = "") -> Post:
    """Blank ``post`` to a tombstone that keeps its comments in place.

    The author or a moderator of the community may delete. Deletion blanks
    every text column (title, summary, body and its HTML), so no surface
    that reads the row (the API, feeds, tag pages, search, FAQ sources)
    can show the removed text. The text is kept as a revision that only the
    author and the community's moderators can read.
    """
    post = _lock_post(post)
    if post.is_deleted:
        raise ValidationError("This post was already deleted.")
    if post.author_id != actor.pk and not can_moderate(actor, post.community):
        raise PermissionDenied(
            "Only the author or a moderator of this community can delete this post."
        )

    PostRevision.objects.create(
        post=post,
        title=post.title,
        summary=post.summary,
        body=post.body,
        edited_by=actor,
        edited_by_name=actor.display_name,
    )
    Post.objects.filter(pk=post.pk).with_actor(actor).update(
        title="",
        summary="",
        body="",
        body_html="",
        deleted_at=timezone.now(),
        updated_at=timezone.now(),
    )
    post.hashtags.clear()
    remove_attachments(post)
    record_event(
        actor=actor,
        action="post.deleted",
        target=post,
        source="screen",
        before={"title": post.title, "summary": post.summary, "body": post.body},
        reason=reason,
    )
    logger.info("post deleted: post=%s actor=%s", post.pk, actor.pk)
    post.refresh_from_db()
    return post


def change_comment_count(post_id: int, delta: int) -> None:
    """Add ``delta`` to the post's comment counter in the database."""
    Post.objects.filter(pk=post_id).update(comment_count=F("comment_count") + delta)
