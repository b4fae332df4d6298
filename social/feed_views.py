"""The home feed page, its "load more" partial, the new-post poll and read marks."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.db.models import Q, QuerySet
from django.http import HttpResponse, HttpResponseBadRequest
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import urlencode
from django.views.decorators.http import require_POST

from accounts.models import User
from communities.models import Community, Membership
from communities.selectors import visible_communities
from core.http import AuthenticatedRequest
from social.feed import (
    NEW_POST_COUNT_CAP,
    SORTS,
    FeedPage,
    InvalidCursor,
    home_feed,
    new_post_count,
)
from social.forms import HomePostForm, publish_form_post
from social.selectors import access_post, attach_conversations
from social.services.announcements import mark_announcement_read

FEED_PAGE_LENGTH = 20


def _bad_request(message: str) -> HttpResponse:
    return HttpResponseBadRequest(message, content_type="text/plain; charset=utf-8")


def _sort(request: AuthenticatedRequest) -> str:
    sort = request.GET.get("sort", "newest")
    if sort not in SORTS:
        raise InvalidCursor(
            f"Unknown feed order {sort[:40]!r}: use one of {', '.join(SORTS)}."
        )
    return sort


def _read_page(request: AuthenticatedRequest) -> tuple[str, FeedPage]:
    sort = _sort(request)
    cursor = request.GET.get("cursor") or None
    page = home_feed(request.user, cursor=cursor, sort=sort, limit=FEED_PAGE_LENGTH)
    attach_conversations(request.user, [*page.pinned, *page.posts])
    return sort, page


def _context(sort: str, page: FeedPage) -> dict[str, object]:
    more = ""
    if page.next_cursor:
        more = urlencode({"sort": sort, "cursor": page.next_cursor})
    return {
        "feed": page,
        "sort": sort,
        "more_query": more,
        "new_count": 0,
        "since": page.top,
        "cap": NEW_POST_COUNT_CAP,
    }


def postable_communities(person: User) -> QuerySet[Community]:
    """Return the communities ``person`` sees and may post in, by name.

    The same rule as ``can_post_in``: a private community takes posts from
    its members only.
    """
    member_of = Membership.objects.filter(person=person).values("community_id")
    return (
        visible_communities(person)
        .filter(~Q(visibility=Community.Visibility.PRIVATE) | Q(pk__in=member_of))
        .order_by("name")
    )


def home_post_form(request: AuthenticatedRequest) -> HomePostForm:
    communities = postable_communities(request.user)
    if request.method == "POST":
        return HomePostForm(request.POST, request.FILES, communities=communities)
    return HomePostForm(communities=communities)


def home_page(
    request: AuthenticatedRequest,
    post_form: HomePostForm | None = None,
    status: int = 200,
) -> HttpResponse:
    """Render the signed-in home page: the post box, announcements, the feed."""
    try:
        sort, page = _read_page(request)
    except InvalidCursor as error:
        return _bad_request(str(error))
    context = _context(sort, page)
    context["post_form"] = post_form or home_post_form(request)
    return render(request, "core/home.html", context, status=status)


@require_POST
@login_required
def home_post_create(request: AuthenticatedRequest) -> HttpResponse:
    """Publish a short post from the home feed in the community the form names."""
    form = home_post_form(request)
    status = 422
    if form.is_valid():
        community = form.cleaned_data["community"]
        try:
            status = publish_form_post(form, author=request.user, community=community)
        except PermissionDenied as error:
            form.add_error("community", str(error))
            status = 403
        if not status:
            messages.success(request, f"Posted in {community.name}.")
            return redirect("home")
    return home_page(request, form, status)


@login_required
def feed_more(request: AuthenticatedRequest) -> HttpResponse:
    """Return the next feed page as a partial for htmx, or send a browser home."""
    if not request.headers.get("HX-Request"):
        return redirect(f"{reverse('home')}?{request.GET.urlencode()}")
    try:
        sort, page = _read_page(request)
    except InvalidCursor as error:
        return _bad_request(str(error))
    return render(request, "social/_feed_page.html", _context(sort, page))


@login_required
def feed_new_count(request: AuthenticatedRequest) -> HttpResponse:
    """Return the "N new posts" notice, polled by the home page every 30 s."""
    since = request.GET.get("since", "")
    try:
        sort = _sort(request)
        count = new_post_count(request.user, since)
    except InvalidCursor as error:
        return _bad_request(str(error))
    context = {
        "since": since,
        "sort": sort,
        "new_count": count,
        "cap": NEW_POST_COUNT_CAP,
    }
    return render(request, "social/_feed_new.html", context)


@require_POST
@login_required
def announcement_read(request: AuthenticatedRequest, post_id: int) -> HttpResponse:
    """Mark an announcement read; htmx then drops it from the top of the feed."""
    post = access_post(request.user, post_id)
    if post.kind == post.Kind.ANNOUNCEMENT:
        mark_announcement_read(person=request.user, post=post)
    if request.headers.get("HX-Request"):
        return HttpResponse("")
    return redirect("home")
