"""Follow buttons (htmx endpoints) and the "my follows" page."""

from dataclasses import replace

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_POST

from accounts.selectors import access_person
from communities.selectors import access_community
from core.http import AuthenticatedRequest
from social.follow_selectors import (
    FollowButton,
    community_button,
    community_follow_button,
    followed_communities,
    followed_hashtags,
    followed_people,
    person_button,
    person_follow_button,
    shown_tag_name,
    shown_tag_names,
    tag_button,
    tag_follow_button,
)
from social.forms import ToggleForm
from social.services.follows import (
    hashtag_for_follow,
    set_community_follow,
    set_hashtag_follow,
    set_person_follow,
)

BAD_TOGGLE = "Say whether to follow or unfollow: send active=1 or active=0."


def _next_url(request: AuthenticatedRequest) -> str:
    target = request.POST.get("next", "")
    if url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return target
    return ""


def _respond(
    request: AuthenticatedRequest, button: FollowButton, error: str = ""
) -> HttpResponse:
    """Return the refreshed button to htmx, or redirect a plain form post back."""
    next_url = _next_url(request)
    if not request.headers.get("HX-Request"):
        if error:
            messages.error(request, error)
        return redirect(next_url or "follows:follow_list")

    context = {"follow": replace(button, next_url=next_url), "follow_error": error}
    status = 422 if error else 200
    return render(request, "social/_follow_button.html", context, status=status)


def _active(request: AuthenticatedRequest) -> bool | None:
    form = ToggleForm(request.POST)
    return form.cleaned_data["active"] if form.is_valid() else None


@require_POST
@login_required
def person_follow(request: AuthenticatedRequest, username: str) -> HttpResponse:
    person = access_person(request.user, username)
    active = _active(request)
    if active is None:
        return _respond(request, person_follow_button(request.user, person), BAD_TOGGLE)
    try:
        set_person_follow(follower=request.user, person=person, active=active)
    except ValidationError as error:
        button = person_follow_button(request.user, person)
        return _respond(request, button, " ".join(error.messages))
    return _respond(request, person_follow_button(request.user, person))


@require_POST
@login_required
def tag_follow(request: AuthenticatedRequest, name: str) -> HttpResponse:
    try:
        hashtag = hashtag_for_follow(name)
    except ValidationError as error:
        raise Http404(" ".join(error.messages)) from error
    # The spelling shows only to a reader who may see a post carrying the tag.
    shown = shown_tag_name(request.user, hashtag)
    button = tag_follow_button(request.user, hashtag.name, shown)
    active = _active(request)
    if active is None:
        return _respond(request, button, BAD_TOGGLE)
    set_hashtag_follow(follower=request.user, hashtag=hashtag, active=active)
    button = tag_follow_button(request.user, hashtag.name, shown)
    return _respond(request, button)


@require_POST
@login_required
def community_follow(request: AuthenticatedRequest, slug: str) -> HttpResponse:
    community = access_community(request.user, slug)
    active = _active(request)
    if active is None:
        button = community_follow_button(request.user, community)
        return _respond(request, button, BAD_TOGGLE)
    try:
        set_community_follow(follower=request.user, community=community, active=active)
    except PermissionDenied as error:
        raise Http404("No community found with that address.") from error
    return _respond(request, community_follow_button(request.user, community))


@login_required
def follow_list(request: AuthenticatedRequest) -> HttpResponse:
    viewer = request.user
    people = [
        person_button(person, following=True) for person in followed_people(viewer)
    ]
    hashtags = list(followed_hashtags(viewer))
    shown = shown_tag_names(viewer, hashtags)
    tags = [tag_button(tag.name, shown[tag.pk], following=True) for tag in hashtags]
    communities = [
        community_button(community, following=True)
        for community in followed_communities(viewer)
    ]
    return render(
        request,
        "social/follow_list.html",
        {"people": people, "tags": tags, "communities": communities},
    )
