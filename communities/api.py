"""Communities over JSON, with the same visibility rule as the pages.

A community the caller may not see is a 404, the same response as for a
missing one. Customer accounts get no internal fields: no CRM functions, no learner
group, no usernames, and only the members whose profiles they may open.
"""

import datetime

from django.http import Http404, HttpRequest
from ninja import Router, Schema
from ninja.errors import HttpError

from accounts.models import User
from communities.models import Community
from communities.selectors import (
    access_community,
    listed_members,
    member_count_for,
    membership_of,
    visible_communities,
)

router = Router(tags=["communities"])

MAX_PAGE_SIZE = 100
MEMBERS_PER_PAGE = 50


class ErrorOut(Schema):
    detail: str


class CommunityOut(Schema):
    slug: str
    name: str
    purpose: str
    visibility: str
    url: str
    member_count: int
    # Empty for customer accounts: CRM functions are internal.
    crm_functions: list[str]
    created_at: datetime.datetime


class CommunityDetailOut(CommunityOut):
    # The caller's role in the community, or None when not a member.
    my_role: str | None
    conversation_starters: list[str]
    # None for customer accounts.
    learner_group: str | None
    posts_url: str


class MemberOut(Schema):
    # None for customer accounts.
    username: str | None
    name: str
    role: str
    joined_at: datetime.datetime


class MemberPageOut(Schema):
    page: int
    pages: int
    member_count: int
    # Members the caller may see listed; the same as member_count for customers.
    listed_count: int
    members: list[MemberOut]


def _viewer(request: HttpRequest) -> User:
    user = request.user
    if not isinstance(user, User):
        raise HttpError(401, "Sign in through /accounts/login/ first.")
    return user


def _found(viewer: User, slug: str) -> Community:
    try:
        return access_community(viewer, slug)
    except Http404:
        raise HttpError(
            404, f"No community {slug!r} found among the communities you may see."
        ) from None


def _member_count(viewer: User, community: Community, listed: int | None = None) -> int:
    """Return the member count ``viewer`` may see, as ``member_count_for`` counts.

    A customer account counts only the members it sees listed; ``listed``
    is that number when the caller already has it.
    """
    if not viewer.is_external:
        return community.memberships.count()
    if listed is None:
        listed = listed_members(viewer, community).count()
    return listed


def _summary(viewer: User, community: Community, member_count: int) -> CommunityOut:
    functions = (
        [] if viewer.is_external else [f.slug for f in community.crm_functions.all()]
    )
    return CommunityOut(
        slug=community.slug,
        name=community.name,
        purpose=community.purpose,
        visibility=community.visibility,
        url=f"/communities/{community.slug}/",
        member_count=member_count,
        crm_functions=functions,
        created_at=community.created_at,
    )


@router.get(
    "",
    response={200: list[CommunityOut], 422: ErrorOut},
    summary="Communities you may see",
)
def list_communities(
    request: HttpRequest, limit: int = 50, offset: int = 0
) -> list[CommunityOut]:
    """Return the communities you may see, by name."""
    viewer = _viewer(request)
    if not 1 <= limit <= MAX_PAGE_SIZE:
        raise HttpError(
            422, f"limit={limit} is out of range: use 1 to {MAX_PAGE_SIZE}."
        )
    if offset < 0:
        raise HttpError(422, f"offset={offset} is negative: use 0 or more.")
    communities = (
        visible_communities(viewer)
        .annotate(member_total=member_count_for(viewer))
        .prefetch_related("crm_functions")
        .order_by("name", "pk")[offset : offset + limit]
    )
    return [
        _summary(viewer, community, community.member_total) for community in communities
    ]


@router.get(
    "/{slug}",
    response={200: CommunityDetailOut, 404: ErrorOut},
    summary="One community",
)
def get_community(request: HttpRequest, slug: str) -> CommunityDetailOut:
    viewer = _viewer(request)
    community = _found(viewer, slug)
    membership = membership_of(viewer, community)
    summary = _summary(viewer, community, _member_count(viewer, community))
    group = community.learner_group
    return CommunityDetailOut(
        **summary.model_dump(),
        my_role=membership.role if membership else None,
        conversation_starters=list(community.conversation_starters),
        learner_group=None if viewer.is_external or group is None else group.slug,
        posts_url=f"/api/social/communities/{community.slug}/posts",
    )


@router.get(
    "/{slug}/members",
    response={200: MemberPageOut, 404: ErrorOut},
    summary="One page of a community's members",
)
def list_members(request: HttpRequest, slug: str, page: int = 1) -> MemberPageOut:
    """Return members, owners first, then moderators, then by name."""
    viewer = _viewer(request)
    community = _found(viewer, slug)
    memberships = listed_members(viewer, community)
    listed = memberships.count()
    pages = max(1, -(-listed // MEMBERS_PER_PAGE))
    if not 1 <= page <= pages:
        raise HttpError(404, f"No page {page} of members: pages run from 1 to {pages}.")
    start = (page - 1) * MEMBERS_PER_PAGE
    rows = memberships[start : start + MEMBERS_PER_PAGE]
    return MemberPageOut(
        page=page,
        pages=pages,
        member_count=_member_count(viewer, community, listed),
        listed_count=listed,
        members=[
            MemberOut(
                username=None if viewer.is_external else row.person.username,
                name=row.person.display_name,
                role=row.role,
                joined_at=row.joined_at,
            )
            for row in rows
        ],
    )
