from django.contrib.auth.decorators import login_required
from django.http import HttpResponse
from django.shortcuts import render

from core.http import AuthenticatedRequest
from core.markdown import normalize_tag
from social.models import Hashtag
from social.selectors import posts_tagged

TAG_PAGE_LENGTH = 50


@login_required
def tag_detail(request: AuthenticatedRequest, name: str) -> HttpResponse:
    key = normalize_tag(name)
    hashtag = Hashtag.objects.filter(name=key).first()
    posts = posts_tagged(request.user, key)[:TAG_PAGE_LENGTH] if hashtag else []
    return render(
        request,
        "social/tag_detail.html",
        {"tag_name": hashtag.display_name if hashtag else name, "posts": posts},
    )
