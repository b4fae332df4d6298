"""The home feed and follows over JSON, with the same rules as the pages.

The feed comes from ``social.feed.home_feed``, whose posts pass the post
visibility rule. Follow writes go through ``social.services.follows``: a
person or community the caller may not see is a 404, and following grants
no access to anything.
"""

from django.http import Http404, HttpRequest
from ninja import Router, Schema
from ninja.errors import HttpError

from accounts.selectors import access_person
from communities.selectors import access_community
from social.api_schemas import (
    DEFAULT_PAGE_SIZE,
    NOT_FOUND,
    WRITE_ERRORS,
    CommunityRefOut,
    ErrorOut,
    PostOut,
    person,
    serialize_posts,
    service_errors,
)
from social.feed import home_feed
from social.follow_selectors import (
    followed_communities,
    followed_hashtags,
    followed_people,
    shown_tag_names,
)
from social.models import Follow
from social.services.follows import (
    hashtag_for_follow,
    set_community_follow,
    set_hashtag_follow,
    set_person_follow,
)

router = Router(tags=["feed and follows"])


class FeedOut(Schema):
    posts: list[PostOut]
    # Unread announcements shown above the first page; empty on later pages.
    pinned: list[PostOut]
    # Pass it back as ``cursor`` with the same ``sort``; None on the last page.
    next_cursor: str | None


class PersonRefOut(Schema):
    username: str
    name: str


class HashtagRefOut(Schema):
    name: str
    display_name: str


class FollowsOut(Schema):
    people: list[PersonRefOut]
    hashtags: list[HashtagRefOut]
    communities: list[CommunityRefOut]


class FollowStateOut(Schema):
    # "person", "hashtag" or "community"
    kind: str
    # The username, the normalized tag name or the community slug.
    target: str
    following: bool


@router.get(
    "/feed",
    response={200: FeedOut, 422: ErrorOut},
    summary="Your home feed",
)
def get_feed(
    request: HttpRequest,
    cursor: str = "",
    sort: str = "newest",
    limit: int = DEFAULT_PAGE_SIZE,
) -> FeedOut:
    """Return one page of posts from people, tags and communities you follow.

    ``sort`` is ``newest`` or ``helpful``. Pages are cut by keyset
    positions, so no post is skipped or repeated between pages.
    """
    viewer = person(request)
    try:
        page = home_feed(viewer, cursor=cursor or None, sort=sort, limit=limit)
    except ValueError as error:
        # InvalidCursor is a ValueError too, and carries its own message.
        raise HttpError(422, str(error)) from None
    # One serialization for both lists keeps the query count fixed.
    serialized = serialize_posts(viewer, [*page.pinned, *page.posts])
    pinned_count = len(page.pinned)
    return FeedOut(
        posts=serialized[pinned_count:],
        pinned=serialized[:pinned_count],
        next_cursor=page.next_cursor,
    )


@router.get("/follows", response=FollowsOut, summary="What you follow")
def list_follows(request: HttpRequest) -> FollowsOut:
    """Return the people, hashtags and communities you follow and may still see."""
    viewer = person(request)
    hashtags = list(followed_hashtags(viewer))
    shown = shown_tag_names(viewer, hashtags)
    return FollowsOut(
        people=[
            PersonRefOut(username=followed.username, name=followed.display_name)
            for followed in followed_people(viewer)
        ],
        hashtags=[
            HashtagRefOut(name=tag.name, display_name=shown[tag.pk]) for tag in hashtags
        ],
        communities=[
            CommunityRefOut(
                slug=community.slug,
                name=community.name,
                visibility=community.visibility,
            )
            for community in followed_communities(viewer)
        ],
    )


def _follow_person(request: HttpRequest, username: str, active: bool) -> FollowStateOut:
    viewer = person(request)
    try:
        followed = access_person(viewer, username)
    except Http404:
        raise HttpError(
            404, f"No person {username!r} found among the people you may see."
        ) from None
    with service_errors(request):
        set_person_follow(follower=viewer, person=followed, active=active)
    following = Follow.objects.filter(follower=viewer, person=followed).exists()
    return FollowStateOut(kind="person", target=followed.username, following=following)


@router.put(
    "/follows/people/{username}",
    response={200: FollowStateOut, **WRITE_ERRORS},
    summary="Follow a person",
)
def follow_person(request: HttpRequest, username: str) -> FollowStateOut:
    return _follow_person(request, username, True)


@router.delete(
    "/follows/people/{username}",
    response={200: FollowStateOut, **WRITE_ERRORS},
    summary="Stop following a person",
)
def unfollow_person(request: HttpRequest, username: str) -> FollowStateOut:
    return _follow_person(request, username, False)


def _follow_tag(request: HttpRequest, name: str, active: bool) -> FollowStateOut:
    viewer = person(request)
    with service_errors(request):
        hashtag = hashtag_for_follow(name)
        set_hashtag_follow(follower=viewer, hashtag=hashtag, active=active)
    following = Follow.objects.filter(follower=viewer, hashtag=hashtag).exists()
    return FollowStateOut(kind="hashtag", target=hashtag.name, following=following)


@router.put(
    "/follows/tags/{name}",
    response={200: FollowStateOut, 422: ErrorOut},
    summary="Follow a hashtag",
)
def follow_tag(request: HttpRequest, name: str) -> FollowStateOut:
    """Follow a hashtag, given with or without its ``#``, in any case."""
    return _follow_tag(request, name, True)


@router.delete(
    "/follows/tags/{name}",
    response={200: FollowStateOut, 422: ErrorOut},
    summary="Stop following a hashtag",
)
def unfollow_tag(request: HttpRequest, name: str) -> FollowStateOut:
    return _follow_tag(request, name, False)


def _follow_community(request: HttpRequest, slug: str, active: bool) -> FollowStateOut:
    viewer = person(request)
    try:
        community = access_community(viewer, slug)
    except Http404:
        raise HttpError(
            404, f"No community {slug!r} found among the communities you may see."
        ) from None
    with service_errors(request):
        set_community_follow(follower=viewer, community=community, active=active)
    following = Follow.objects.filter(follower=viewer, community=community).exists()
    return FollowStateOut(kind="community", target=community.slug, following=following)


@router.put(
    "/follows/communities/{slug}",
    response={200: FollowStateOut, **NOT_FOUND},
    summary="Follow a community",
)
def follow_community(request: HttpRequest, slug: str) -> FollowStateOut:
    """Follow a community you may see; its posts then reach your home feed."""
    return _follow_community(request, slug, True)


@router.delete(
    "/follows/communities/{slug}",
    response={200: FollowStateOut, **NOT_FOUND},
    summary="Stop following a community",
)
def unfollow_community(request: HttpRequest, slug: str) -> FollowStateOut:
    return _follow_community(request, slug, False)
