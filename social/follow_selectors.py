"""Reads of follows: the state of a follow button and a person's follows.

A follow of a person or community the follower can no longer see (a private
community they left, a deactivated account) stays stored but is listed
nowhere, and the feed reads nothing through it.
"""

from dataclasses import dataclass

from django.db.models import QuerySet
from django.urls import reverse

from accounts.models import User
from accounts.selectors import visible_people
from communities.models import Community
from communities.selectors import visible_communities
from social.models import Follow, Hashtag


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


def followed_hashtags(viewer: User) -> QuerySet[Hashtag]:
    return Hashtag.objects.filter(followers__follower=viewer).order_by("name")


def followed_communities(viewer: User) -> QuerySet[Community]:
    return (
        visible_communities(viewer).filter(followers__follower=viewer).order_by("name")
    )
