from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.db.models import Count
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from communities.models import Community
from communities.selectors import access_community, visible_communities
from core.http import AuthenticatedRequest
from social.forms import PostForm
from social.services import can_post_in, publish_post

FEED_LENGTH = 30


@login_required
def community_list(request: AuthenticatedRequest) -> HttpResponse:
    communities = (
        visible_communities(request.user)
        .annotate(member_count=Count("memberships", distinct=True))
        .prefetch_related("crm_functions")
        .order_by("name")
    )
    return render(
        request, "communities/community_list.html", {"communities": communities}
    )


def _render_community(
    request: AuthenticatedRequest,
    community: Community,
    form: PostForm,
    status: int = 200,
) -> HttpResponse:
    posts = community.posts.prefetch_related("hashtags")[:FEED_LENGTH]
    questions = community.questions.select_related("context").annotate(
        answer_count=Count("answers")
    )[:FEED_LENGTH]
    return render(
        request,
        "communities/community_detail.html",
        {
            "community": community,
            "posts": posts,
            "questions": questions,
            "form": form,
            "may_post": can_post_in(request.user, community),
        },
        status=status,
    )


@login_required
def community_detail(request: AuthenticatedRequest, slug: str) -> HttpResponse:
    community = access_community(request.user, slug)
    return _render_community(request, community, PostForm())


@require_POST
@login_required
def post_create(request: AuthenticatedRequest, slug: str) -> HttpResponse:
    community = access_community(request.user, slug)
    form = PostForm(request.POST)
    if form.is_valid():
        try:
            publish_post(
                author=request.user, community=community, body=form.cleaned_data["body"]
            )
        except ValidationError as error:
            form.add_error("body", error)
        else:
            messages.success(request, "Posted.")
            return redirect("communities:community_detail", slug=community.slug)
    return _render_community(request, community, form, status=422)
