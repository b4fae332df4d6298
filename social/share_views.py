"""The page that shares (quotes) a post into another community."""

import logging

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpResponse
from django.shortcuts import redirect, render

from accounts.authors import hidden_author_labels
from communities.selectors import access_community
from core.http import AuthenticatedRequest
from social.models import Post
from social.selectors import access_post
from social.services.shares import share_post, share_targets

logger = logging.getLogger(__name__)


def _render_form(
    request: AuthenticatedRequest,
    original: Post,
    *,
    error: str = "",
    status: int = 200,
) -> HttpResponse:
    context = {
        "original": original,
        "hidden_authors": hidden_author_labels(request.user, [original.author_id]),
        "targets": list(share_targets(request.user, original)),
        "chosen": request.POST.get("community", ""),
        "comment": request.POST.get("comment", ""),
        "error": error,
    }
    return render(request, "social/share_form.html", context, status=status)


@login_required
def post_share(request: AuthenticatedRequest, post_id: int) -> HttpResponse:
    """Show the share form for a post the viewer may read, or publish the share.

    A post the viewer may not read is a 404, so its text never reaches the
    form.
    """
    original = access_post(request.user, post_id)
    if original.is_deleted:
        return _render_form(
            request,
            original,
            error=f"Post {original.pk} was deleted, so it cannot be shared.",
            status=422 if request.method == "POST" else 200,
        )
    if request.method != "POST":
        return _render_form(request, original)

    slug = request.POST.get("community", "")
    community = access_community(request.user, slug)
    try:
        share = share_post(
            actor=request.user,
            original=original,
            community=community,
            comment=request.POST.get("comment", ""),
        )
    except (ValidationError, PermissionDenied) as error:
        text = " ".join(error.messages) if isinstance(error, ValidationError) else ""
        logger.info(
            "share rejected: post=%s community=%s person=%s error=%s",
            original.pk,
            community.slug,
            request.user.pk,
            text or error,
        )
        return _render_form(request, original, error=text or str(error), status=422)
    messages.success(request, f"Shared into {community.name}.")
    return redirect("posts:post_detail", post_id=share.pk)
