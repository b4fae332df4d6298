"""Publish posts into communities."""

import logging

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction

from accounts.models import User
from communities.models import Community, Membership
from core.audit import record_event
from core.markdown import Hashtag as ParsedHashtag
from core.markdown import render_markdown
from core.text import clean_text
from social.models import Hashtag, Post

logger = logging.getLogger(__name__)

MAX_POST_LENGTH = 5_000
MAX_TAGS_PER_POST = 30


def store_hashtags(parsed: list[ParsedHashtag]) -> list[Hashtag]:
    """Return the rows for ``parsed`` tags, inserting new ones, in two queries.

    A tag keeps the spelling it was first used with; a concurrent first use
    is absorbed by the unique name.
    """
    names = [tag.name for tag in parsed]
    Hashtag.objects.bulk_create(
        [Hashtag(name=tag.name, display_name=tag.display_name) for tag in parsed],
        ignore_conflicts=True,
    )
    by_name = {tag.name: tag for tag in Hashtag.objects.filter(name__in=names)}
    return [by_name[name] for name in names]


def can_post_in(person: User, community: Community) -> bool:
    """Return whether ``person`` may post here; the caller checks they can see it."""
    if community.visibility == Community.Visibility.PRIVATE:
        return Membership.objects.filter(community=community, person=person).exists()
    return person.is_active


@transaction.atomic
def publish_post(*, author: User, community: Community, body: str) -> Post:
    if not can_post_in(author, community):
        raise PermissionDenied("Join this community before posting in it.")
    text = clean_text(body)
    if not text:
        raise ValidationError("The post is empty: write something before posting.")
    if len(text) > MAX_POST_LENGTH:
        raise ValidationError(
            f"The post is {len(text)} characters long; the limit is {MAX_POST_LENGTH}."
        )

    rendered = render_markdown(text)
    if len(rendered.hashtags) > MAX_TAGS_PER_POST:
        raise ValidationError(
            f"The post has {len(rendered.hashtags)} different hashtags; the limit "
            f"is {MAX_TAGS_PER_POST}. Keep the ones people will search for."
        )
    post = Post.objects.create(
        community=community,
        author=author,
        author_name=author.display_name,
        body=text,
        body_html=rendered.html,
    )
    tags = store_hashtags(rendered.hashtags)
    post.hashtags.set(tags)
    record_event(
        actor=author,
        action="post.published",
        target=post,
        source="screen",
        after={"community": community.slug, "hashtags": [tag.name for tag in tags]},
    )
    logger.info("post published: post=%s community=%s", post.pk, community.slug)
    return post
