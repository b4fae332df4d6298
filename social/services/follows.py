"""Follow and unfollow people, hashtags and communities.

Each write states the wanted end state (following or not) instead of
toggling, so two clicks that race end in the state the person saw last. The
partial unique constraints on ``Follow`` keep one row per follower and
target, and an insert that hits one is a no-op.

Following grants no access: a person follows only people and communities
they may see, and the feed still filters every post by the post rule.
"""

import logging

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction

from accounts.models import User
from accounts.selectors import visible_people
from communities.models import Community
from communities.selectors import visible_communities
from core.audit import record_event
from core.markdown import MAX_TAG_LENGTH, normalize_tag, render_markdown
from core.text import clean_text
from social.models import UNSPELLED, Follow, Hashtag

logger = logging.getLogger(__name__)


def _set_follow(follower: User, active: bool, **target: object) -> bool:
    """Insert or delete the follow row for ``target``; return whether it changed."""
    if active:
        try:
            with transaction.atomic():
                Follow.objects.create(follower=follower, **target)
        except IntegrityError:
            return False
        return True
    removed, _ = Follow.objects.filter(follower=follower, **target).delete()
    return removed > 0


def _record(follower: User, active: bool, target: object, label: str) -> None:
    action = "follow.added" if active else "follow.removed"
    record_event(
        actor=follower,
        action=action,
        target=target,  # type: ignore[arg-type]
        source="screen",
        after={"target": label},
    )
    logger.info("%s: follower=%s target=%s", action, follower.pk, label)


@transaction.atomic
def set_person_follow(*, follower: User, person: User, active: bool) -> bool:
    """Follow or unfollow ``person``; return whether anything changed."""
    if person.pk == follower.pk:
        raise ValidationError("You cannot follow yourself.")
    if active and not visible_people(follower).filter(pk=person.pk).exists():
        raise PermissionDenied("No person found with that username.")

    changed = _set_follow(follower, active, person=person)
    if changed:
        _record(follower, active, person, f"person:{person.username}")
    return changed


def followable_tag_key(raw_name: str) -> str:
    """Return the key of the tag named ``raw_name``, or raise ``ValidationError``.

    The name must be a tag by the same rule posts are parsed with, so a
    follow can never create a tag that no post could carry, and the tag page
    returns 404 for any other name.
    """
    name = clean_text(raw_name).removeprefix("#")
    parsed = render_markdown(f"#{name}").hashtags
    key = normalize_tag(name)
    if len(parsed) != 1 or parsed[0].name != key or len(key) > MAX_TAG_LENGTH:
        raise ValidationError(
            f"{raw_name!r} is not a hashtag: use letters, digits and underscores, "
            f"with at least one letter, optionally ending in up to three + or # "
            f"signs (C++, C#), and at most {MAX_TAG_LENGTH} characters."
        )
    return key


def hashtag_for_follow(raw_name: str) -> Hashtag:
    """Return the hashtag named ``raw_name``, creating it when no post used it yet.

    A row made here has no spelling (an empty ``display_name``): the first
    post that carries the tag sets it (``store_hashtags``), so the follower's
    typing never becomes the spelling everyone reads.
    """
    key = followable_tag_key(raw_name)
    hashtag, _ = Hashtag.objects.get_or_create(
        name=key, defaults={"display_name": UNSPELLED}
    )
    return hashtag


@transaction.atomic
def set_hashtag_follow(*, follower: User, hashtag: Hashtag, active: bool) -> bool:
    """Follow or unfollow ``hashtag``; return whether anything changed.

    Anyone may follow any tag: the tag page and the feed show only the
    tagged posts the follower may see.
    """
    changed = _set_follow(follower, active, hashtag=hashtag)
    if changed:
        _record(follower, active, hashtag, f"hashtag:{hashtag.name}")
    return changed


@transaction.atomic
def set_community_follow(*, follower: User, community: Community, active: bool) -> bool:
    """Follow or unfollow ``community``; return whether anything changed."""
    if active and not visible_communities(follower).filter(pk=community.pk).exists():
        raise PermissionDenied("No community found with that address.")

    changed = _set_follow(follower, active, community=community)
    if changed:
        _record(follower, active, community, f"community:{community.slug}")
    return changed
