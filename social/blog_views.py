"""Compose blog posts and announcements, and list them."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpResponse, HttpResponseBadRequest
from django.shortcuts import redirect, render
from django.utils.http import urlencode

from communities.selectors import visible_communities
from core.http import AuthenticatedRequest
from social.blogs import long_form_page
from social.feed import InvalidCursor
from social.forms import LongFormPostForm
from social.models import Post
from social.selectors import attach_conversations
from social.services.posts import can_announce, publish_post

LIST_KINDS = {"blog": Post.Kind.BLOG, "announcement": Post.Kind.ANNOUNCEMENT}


def _compose_form(request: AuthenticatedRequest) -> LongFormPostForm:
    communities = visible_communities(request.user).order_by("name")
    initial = {
        "kind": request.GET.get("kind", Post.Kind.BLOG),
        "community": request.GET.get("community", ""),
    }
    return LongFormPostForm(
        request.POST or None,
        initial=initial,
        communities=communities,
        may_announce=can_announce(request.user),
    )


@login_required
def post_compose(request: AuthenticatedRequest) -> HttpResponse:
    """Write a blog post, or an announcement for executives and facilitators."""
    form = _compose_form(request)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            post = publish_post(
                author=request.user,
                community=data["community"],
                body=data["body"],
                kind=data["kind"],
                title=data["title"],
                summary=data["summary"],
            )
        except ValidationError as error:
            form.add_error(None, error)
        except PermissionDenied as error:
            form.add_error(None, str(error))
        else:
            messages.success(request, f"Published: {post.title}")
            return redirect("posts:post_detail", post_id=post.pk)
    status = 422 if request.method == "POST" else 200
    may_announce = can_announce(request.user)
    context = {"form": form, "may_announce": may_announce}
    return render(request, "social/post_compose.html", context, status=status)


@login_required
def long_form_list(request: AuthenticatedRequest) -> HttpResponse:
    """List visible blog posts (or announcements with ``?kind=announcement``)."""
    kind_name = request.GET.get("kind", "blog")
    if kind_name not in LIST_KINDS:
        raise Http404(f"No list of {kind_name[:40]!r}: use blog or announcement.")
    try:
        page = long_form_page(
            request.user,
            kind=LIST_KINDS[kind_name],
            cursor=request.GET.get("cursor") or None,
        )
    except InvalidCursor as error:
        return HttpResponseBadRequest(str(error), content_type="text/plain")
    attach_conversations(request.user, page.posts)
    more = ""
    if page.next_cursor:
        more = urlencode({"kind": kind_name, "cursor": page.next_cursor})
    context = {"feed": page, "kind": kind_name, "more_query": more}
    return render(request, "social/long_form_list.html", context)
