"""Reads of follows: the state of a follow button and a person's follows.

A follow of a person or community the follower can no longer see (a private
community they left, a deactivated account) stays stored but is listed
nowhere, and the feed reads nothing through it.

A followed tag shows its stored spelling only to a reader who can see a
post that carries it, as the tag page does. Everyone else reads its key, so
a tag used only in hidden posts reads exactly like an unused one.
"""

from collections.abc import Iterable
from dataclasses import dataclass

from django.db.models import Exists, OuterRef, QuerySet
from django.urls import reverse

from accounts.models import User
from accounts.selectors import visible_people
from communities.models import Community
from communities.selectors import visible_communities
from social.models import Follow, Hashtag, PostHashtag


@dataclass(frozen=True)
class FollowButton:
    """The follow button's state: the URL it posts to and the label it shows."""

    kind: str
    url: str
    following: bool
    label: str
    # The page of the followed person, tag or community; empty when it has none.
    link: str = ""
    next_url: str = ""


def person_button(person: User, *, following: bool) -> FollowButton:
    url = reverse("follows:person_follow", args=[person.username])
    link = reverse("people:profile", args=[person.username])
    return FollowButton("person", url, following, person.display_name, link)


def tag_button(key: str, display_name: str, *, following: bool) -> FollowButton:
    url = reverse("follows:tag_follow", args=[key])
    link = reverse("social:tag_detail", args=[key])
    return FollowButton("tag", url, following, f"#{display_name}", link)


def community_button(community: Community, *, following: bool) -> FollowButton:
    url = reverse("follows:community_follow", args=[community.slug])
    link = reverse("communities:community_detail", args=[community.slug])
    return FollowButton("community", url, following, community.name, link)


def person_follow_button(viewer: User, person: User) -> FollowButton:
    following = Follow.objects.filter(follower=viewer, person=person).exists()
    return person_button(person, following=following)


def tag_follow_button(viewer: User, key: str, display_name: str) -> FollowButton:
    following = Follow.objects.filter(follower=viewer, hashtag__name=key).exists()
    return tag_button(key, display_name, following=following)


def community_follow_button(viewer: User, community: Community) -> FollowButton:
    following = Follow.objects.filter(follower=viewer, community=community).exists()
    return community_button(community, following=following)


def followed_people(viewer: User) -> QuerySet[User]:
    return (
        visible_people(viewer)
        .filter(followers__follower=viewer)
        .order_by("last_name", "first_name", "username")
    )


def shown_tag_names(viewer: User, hashtags: Iterable[Hashtag]) -> dict[int, str]:
    """Return the name ``viewer`` may read for each of ``hashtags``, by id.

    It is the stored spelling when ``viewer`` can see an undeleted post
    carrying the tag, and the key otherwise. One query for all the tags.
    """
    tags = list(hashtags)
    visible = Exists(
        visible_communities(viewer).filter(pk=OuterRef("post__community_id"))
    )
    seen = set(
        PostHashtag.objects.filter(
            visible,
            hashtag_id__in=[tag.pk for tag in tags],
            post__deleted_at__isnull=True,
        )
        .values_list("hashtag_id", flat=True)
        .distinct()
    )
    return {
        tag.pk: (tag.display_name or tag.name) if tag.pk in seen else tag.name
        for tag in tags
    }


def shown_tag_name(viewer: User, hashtag: Hashtag) -> str:
    return shown_tag_names(viewer, [hashtag])[hashtag.pk]


def followed_hashtags(viewer: User) -> QuerySet[Hashtag]:
    return Hashtag.objects.filter(followers__follower=viewer).order_by("name")


def followed_communities(viewer: User) -> QuerySet[Community]:
    return (
        visible_communities(viewer).filter(followers__follower=viewer).order_by("name")
    )
