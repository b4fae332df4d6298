from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import Http404, HttpResponse
from django.shortcuts import render

from core.http import AuthenticatedRequest
from social.feed import tag_timeline
from social.follow_selectors import tag_follow_button
from social.models import Hashtag, Post
from social.selectors import attach_conversations
from social.services.follows import followable_tag_key

TAG_PAGE_LENGTH = 50


@login_required
def tag_detail(request: AuthenticatedRequest, name: str) -> HttpResponse:
    # A name that no post could carry as a tag is a 404, with the message that
    # a follow of it gets. Control characters such as NUL are removed first.
    try:
        key = followable_tag_key(name)
    except ValidationError as error:
        raise Http404(" ".join(error.messages)) from error
    hashtag = Hashtag.objects.filter(name=key).first()
    posts: list[Post] = []
    if hashtag:
        posts = tag_timeline(request.user, hashtag.pk, limit=TAG_PAGE_LENGTH)
    attach_conversations(request.user, posts)
    # The stored spelling shows only beside posts the reader may see, so a
    # tag used only in hidden posts reads exactly like an unused one.
    shown = (hashtag.display_name or key) if hashtag and posts else key
    follow = tag_follow_button(request.user, key, shown)
    return render(
        request,
        "social/tag_detail.html",
        {"tag_name": shown, "posts": posts, "follow": follow},
    )
