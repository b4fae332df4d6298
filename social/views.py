from django.contrib.auth.decorators import login_required
from django.http import HttpResponse
from django.shortcuts import render

from core.http import AuthenticatedRequest
from core.markdown import MAX_TAG_LENGTH, normalize_tag
from core.text import clean_text
from social.feed import tag_timeline
from social.follow_selectors import tag_follow_button
from social.models import Hashtag, Post
from social.selectors import attach_conversations

TAG_PAGE_LENGTH = 50


@login_required
def tag_detail(request: AuthenticatedRequest, name: str) -> HttpResponse:
    # Control characters such as NUL never occur in a tag, and PostgreSQL
    # rejects NUL in a text parameter, so they are removed before the lookup.
    key = clean_text(normalize_tag(name))[:MAX_TAG_LENGTH]
    hashtag = Hashtag.objects.filter(name=key).first()
    posts: list[Post] = []
    if hashtag:
        posts = tag_timeline(request.user, hashtag.pk, limit=TAG_PAGE_LENGTH)
    attach_conversations(request.user, posts)
    # The stored spelling shows only beside posts the reader may see, so a
    # tag used only in hidden posts reads exactly like an unused one.
    shown = hashtag.display_name if hashtag and posts else key
    follow = tag_follow_button(request.user, key, shown) if key else None
    return render(
        request,
        "social/tag_detail.html",
        {"tag_name": shown, "posts": posts, "follow": follow},
    )
