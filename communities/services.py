"""Create communities and pin posts in them.

Membership writes (join, leave, requests, invitations, roles) live in
``communities.membership``. Every function here runs in one transaction,
checks the actor's permission first and records an audit event.
"""

import logging
from collections.abc import Iterator, Sequence
from contextlib import contextmanager

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction

from accounts.models import CrmFunction, User
from communities.models import (
    Community,
    CommunityPin,
    Membership,
    name_key,
    name_skeleton,
)
from communities.selectors import (
    community_url,
    require_manager,
    visible_communities,
)
from communities.slugs import base_slug, unique_slug
from core.audit import record_event
from core.confusables import mixed_script_message
from core.forms import too_long_message
from core.text import clean_line, clean_text
from notifications.models import Notification
from notifications.services import notify
from social.models import Post

logger = logging.getLogger(__name__)

MAX_NAME_LENGTH = 120
MAX_PURPOSE_LENGTH = 1_000
MAX_STARTERS = 5
MAX_STARTER_LENGTH = 200
MAX_PINS = 5
# Concurrent creators can take the same slug between the check and the insert.
_SLUG_ATTEMPTS = 5


def clean_name(name: str) -> str:
    cleaned = clean_line(name)
    if not cleaned:
        raise ValidationError(
            "The community name is empty: give it a name people will recognise."
        )
    if len(cleaned) > MAX_NAME_LENGTH:
        raise ValidationError(
            too_long_message("The community name", len(cleaned), MAX_NAME_LENGTH)
        )
    return cleaned


def clean_purpose(purpose: str) -> str:
    cleaned = clean_text(purpose)
    if not cleaned:
        raise ValidationError(
            "The purpose is empty: say in a sentence what the community is for."
        )
    if len(cleaned) > MAX_PURPOSE_LENGTH:
        raise ValidationError(
            too_long_message("The purpose", len(cleaned), MAX_PURPOSE_LENGTH)
        )
    return cleaned


def clean_starters(starters: Sequence[str]) -> list[str]:
    """Drop blank and repeated starters and check the count and each length."""
    kept: list[str] = []
    seen: set[str] = set()
    for starter in starters:
        cleaned = clean_line(starter)
        if not cleaned or cleaned.casefold() in seen:
            continue
        if len(cleaned) > MAX_STARTER_LENGTH:
            raise ValidationError(
                too_long_message(
                    f"The conversation starter {cleaned[:40]!r}...",
                    len(cleaned),
                    MAX_STARTER_LENGTH,
                )
            )
        seen.add(cleaned.casefold())
        kept.append(cleaned)
    if len(kept) > MAX_STARTERS:
        raise ValidationError(
            f"There are {len(kept)} conversation starters; the limit is "
            f"{MAX_STARTERS}. Keep the ones most likely to get a reply."
        )
    return kept


def _duplicate_name_error(creator: User, name: str) -> ValidationError:
    # Name only the fact that the name is taken when the creator cannot see
    # the community, so a private community's existence is all that shows.
    existing = Community.objects.filter(name_key=name_key(name))
    if visible_communities(creator).filter(pk__in=existing.values("pk")).exists():
        return ValidationError(
            f"A community named {name!r} already exists: pick another name, or "
            "join that one."
        )
    return ValidationError(f"The name {name!r} is already taken: pick another name.")


def _check_look_alike_name(creator: User, name: str) -> None:
    """Raise ``ValidationError`` when ``name`` looks like an existing community's.

    A name that mixes alphabets in a word is rejected as well, even when no
    community looks like it.
    """
    error = _look_alike_name_error(creator, name)
    if error is not None:
        raise error
    mixed = mixed_script_message(name, "community name")
    if mixed:
        raise ValidationError(mixed)


def _look_alike_name_error(creator: User, name: str) -> ValidationError | None:
    """Return the error for a community whose stored skeleton is ``name``'s, or None.

    The community is named when ``creator`` may see it, and otherwise only
    reported to exist, as for an exact duplicate. A community marked as a
    look-alike by migration 0004 has no skeleton, but the older community
    it looks like has the same one.
    """
    look_alikes = Community.objects.filter(name_skeleton=name_skeleton(name))
    if not look_alikes.exists():
        return None
    seen = visible_communities(creator).filter(pk__in=look_alikes.values("pk")).first()
    if seen is not None:
        return ValidationError(
            f"The name {name!r} looks the same as the existing community "
            f"{seen.name!r}: they differ only in letters that look alike, in "
            "accents or in invisible characters. Pick a name that reads "
            "differently, or join that one."
        )
    return ValidationError(
        f"The name {name!r} looks the same as the name of an existing community: "
        "pick a name that reads differently."
    )


@contextmanager
def _field(name: str) -> Iterator[None]:
    """Re-raise a ``ValidationError`` keyed by the form field it is about."""
    try:
        yield
    except ValidationError as error:
        raise ValidationError({name: error.messages}) from None


def _insert_community(
    *, creator: User, name: str, purpose: str, visibility: str, starters: list[str]
) -> Community:
    """Insert the row under the first free slug, retrying when one is taken."""
    base = base_slug(name)
    for _attempt in range(_SLUG_ATTEMPTS):
        taken = set(
            Community.objects.filter(slug__startswith=base).values_list(
                "slug", flat=True
            )
        )
        community = Community(
            slug=unique_slug(base, taken),
            name=name,
            purpose=purpose,
            visibility=visibility,
            conversation_starters=starters,
            created_by=creator,
        )
        try:
            with transaction.atomic():
                community.save(force_insert=True)
        except IntegrityError:
            # A community committed since the checks in ``create_community``
            # may have taken the name or a look-alike of it.
            name_taken = Community.objects.filter(name_key=name_key(name)).exists()
            if name_taken:
                raise ValidationError(
                    {"name": _duplicate_name_error(creator, name).messages}
                ) from None
            look_alike = _look_alike_name_error(creator, name)
            if look_alike is not None:
                raise ValidationError({"name": look_alike.messages}) from None
            logger.info("community slug taken, retrying: slug=%s", community.slug)
            continue
        return community
    raise ValidationError(
        f"Could not find a free address for {name!r}: try again in a moment."
    )


@transaction.atomic
def create_community(
    *,
    creator: User,
    name: str,
    purpose: str,
    visibility: str,
    crm_functions: Sequence[CrmFunction] = (),
    conversation_starters: Sequence[str] = (),
) -> Community:
    """Create a community with ``creator`` as its owner."""
    if creator.is_external:
        raise PermissionDenied("Customer accounts cannot create communities.")
    with _field("name"):
        name = clean_name(name)
        if Community.objects.filter(name_key=name_key(name)).exists():
            raise _duplicate_name_error(creator, name)
        _check_look_alike_name(creator, name)
    with _field("purpose"):
        purpose = clean_purpose(purpose)
    if visibility not in Community.Visibility.values:
        raise ValidationError(
            {
                "visibility": f"Unknown visibility {visibility!r}: choose one of "
                f"{', '.join(Community.Visibility.values)}."
            }
        )
    with _field("conversation_starters"):
        starters = clean_starters(conversation_starters)

    community = _insert_community(
        creator=creator,
        name=name,
        purpose=purpose,
        visibility=visibility,
        starters=starters,
    )
    community.crm_functions.set(crm_functions)
    Membership.objects.create(
        community=community, person=creator, role=Membership.Role.OWNER
    )
    record_event(
        actor=creator,
        action="community.created",
        target=community,
        source="screen",
        after={
            "name": name,
            "slug": community.slug,
            "visibility": visibility,
            "crm_functions": sorted(function.slug for function in crm_functions),
            "conversation_starters": starters,
        },
    )
    logger.info(
        "community created: community=%s slug=%s by=%s",
        community.pk,
        community.slug,
        creator.pk,
    )
    return community


@transaction.atomic
def pin_post(*, actor: User, community: Community, post: Post) -> CommunityPin:
    """Pin ``post`` to the top of its community's feed."""
    # Lock the community so two managers cannot both take the last pin slot.
    community = Community.objects.select_for_update().get(pk=community.pk)
    require_manager(actor, community, "pin posts")
    if post.community_id != community.pk:
        raise ValidationError(f"Post {post.pk} is not in {community.name}.")
    if CommunityPin.objects.filter(community=community, post=post).exists():
        raise ValidationError(f"Post {post.pk} is already pinned.")
    pinned = CommunityPin.objects.filter(community=community).count()
    if pinned >= MAX_PINS:
        raise ValidationError(
            f"{community.name} already has {pinned} pinned posts; the limit is "
            f"{MAX_PINS}. Unpin one first."
        )

    pin = CommunityPin.objects.create(community=community, post=post, pinned_by=actor)
    record_event(
        actor=actor,
        action="community.post_pinned",
        target=community,
        source="screen",
        after={"post": post.pk},
    )
    if post.author is not None:
        notify(
            recipients=[post.author],
            kind=Notification.Kind.POST_PINNED,
            actor=actor,
            message=f"{actor.display_name} pinned your post in {community.name}.",
            url=f"{community_url(community)}#post-{post.pk}",
            # Keyed by the post, so only an author who may still read it is
            # notified. The author of a post pinned twice is notified once.
            subject_key=f"post:{post.pk}",
        )
    logger.info("post pinned: community=%s post=%s", community.pk, post.pk)
    return pin


@transaction.atomic
def unpin_post(*, actor: User, community: Community, post: Post) -> None:
    require_manager(actor, community, "unpin posts")
    deleted, _ = CommunityPin.objects.filter(community=community, post=post).delete()
    if not deleted:
        raise ValidationError(f"Post {post.pk} is not pinned.")
    record_event(
        actor=actor,
        action="community.post_unpinned",
        target=community,
        source="screen",
        before={"post": post.pk},
    )
    logger.info("post unpinned: community=%s post=%s", community.pk, post.pk)
