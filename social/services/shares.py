"""Share (quote) a post into a community, only where every reader may read it.

A share is a post whose ``shared_from`` points at the original; it never
copies the original's text. Whoever reads the share sees the quoted post
only if they may see it themselves, so a share is rejected whenever a
possible reader of the target community could not read the original:

| original | may be shared into |
| --- | --- |
| customer-visible (employees and customers) | any community |
| open (all employees) | open and private communities |
| private (its members) | the same community only |
"""

import logging

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import QuerySet
from django.http import Http404

from accounts.models import User
from communities.models import Community
from communities.selectors import visible_communities
from core.audit import record_event
from core.forms import too_long_message
from core.markdown import Rendered, render_markdown
from core.text import clean_text
from social.models import Post
from social.selectors import access_post
from social.services.mentions import (
    MentionTarget,
    check_mention_cap,
    notify_new_mentions,
    resolve_mentions,
)
from social.services.posts import (
    MAX_POST_LENGTH,
    MAX_TAGS_PER_POST,
    can_post_in,
    store_hashtags,
)

logger = logging.getLogger(__name__)

# The width of each visibility's audience: a wider one includes every narrower one.
AUDIENCE_WIDTH: dict[str, int] = {
    Community.Visibility.PRIVATE: 0,
    Community.Visibility.OPEN: 1,
    Community.Visibility.CUSTOMER: 2,
}


def readers_may_read(*, original: Community, target: Community) -> bool:
    """Return whether every possible reader of ``target`` may read ``original``.

    Members of a private community change over time, so a private original
    is covered only by its own community.
    """
    if original.pk == target.pk:
        return True
    if original.visibility == Community.Visibility.PRIVATE:
        return False
    return AUDIENCE_WIDTH[original.visibility] >= AUDIENCE_WIDTH[target.visibility]


def _audience_message(original: Post, target: Community) -> str:
    source = original.community
    if source.visibility == Community.Visibility.PRIVATE:
        return (
            f"Post {original.pk} is in the private community {source.name}, so it "
            f"can be shared only inside {source.name}: only its members may read it."
        )
    return (
        f"Post {original.pk} is in {source.name} "
        f"({source.get_visibility_display().lower()}), so it cannot be shared "
        f"into {target.name} ({target.get_visibility_display().lower()}): some "
        f"people who read {target.name} may not read the original. Share it into "
        "a community with the same readers or fewer."
    )


def check_share(*, actor: User, original: Post, community: Community) -> Post:
    """Return the original re-read for ``actor``, or raise why it cannot be shared.

    Raises Http404 when the actor may not read the original or see the
    target, PermissionDenied when they may not post there, and
    ValidationError when the target's readers may not read the original.
    """
    original = access_post(actor, original.pk)
    if not visible_communities(actor).filter(pk=community.pk).exists():
        raise Http404("No community found with that address.")
    if not can_post_in(actor, community):
        raise PermissionDenied(f"Join {community.name} before sharing into it.")
    if original.is_deleted:
        raise ValidationError(
            f"Post {original.pk} was deleted, so it cannot be shared."
        )
    if not readers_may_read(original=original.community, target=community):
        raise ValidationError(_audience_message(original, community))
    return original


def share_targets(actor: User, original: Post) -> QuerySet[Community]:
    """Return the communities ``actor`` sees whose readers may read ``original``."""
    communities = visible_communities(actor)
    source = original.community
    if source.visibility == Community.Visibility.PRIVATE:
        return communities.filter(pk=source.pk)
    narrower = [
        visibility
        for visibility, width in AUDIENCE_WIDTH.items()
        if width <= AUDIENCE_WIDTH[source.visibility]
    ]
    return communities.filter(visibility__in=narrower).order_by("name")


def _render_comment(comment: str) -> tuple[str, Rendered]:
    text = clean_text(comment)
    if len(text) > MAX_POST_LENGTH:
        raise ValidationError(
            too_long_message("The comment on the share", len(text), MAX_POST_LENGTH)
        )
    if not text:
        return "", Rendered(html="")

    rendered = render_markdown(text)
    if len(rendered.hashtags) > MAX_TAGS_PER_POST:
        raise ValidationError(
            f"The comment on the share has {len(rendered.hashtags)} different "
            f"hashtags; the limit is {MAX_TAGS_PER_POST}."
        )
    return text, rendered


@transaction.atomic
def share_post(
    *, actor: User, original: Post, community: Community, comment: str = ""
) -> Post:
    """Publish a post in ``community`` that quotes ``original``, with a comment."""
    original = check_share(actor=actor, original=original, community=community)
    text, rendered = _render_comment(comment)
    mentioned = resolve_mentions(rendered.mentions)
    check_mention_cap(mentioned, text_kind="post")

    share = Post.objects.create(
        community=community,
        author=actor,
        author_name=actor.display_name,
        body=text,
        body_html=rendered.html,
        shared_from=original,
    )
    tags = store_hashtags(rendered.hashtags)
    share.hashtags.set(tags)
    notified = notify_new_mentions(
        author=actor,
        target=MentionTarget(post=share),
        people=mentioned,
        message=lambda name: f"{name} mentioned you in a post in {community.name}.",
    )
    record_event(
        actor=actor,
        action="post.shared",
        target=share,
        source="screen",
        after={
            "community": community.slug,
            "shared_from": original.pk,
            "hashtags": [tag.name for tag in tags],
            "mentioned": [person.username for person in notified],
        },
    )
    logger.info(
        "post shared: share=%s original=%s community=%s",
        share.pk,
        original.pk,
        community.slug,
    )
    return share
