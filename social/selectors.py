"""Reads of posts: a post is visible to whoever may see its community."""

from django.db.models import QuerySet

from accounts.permissions import Viewer
from communities.selectors import visible_communities
from social.models import Post


def visible_posts(viewer: Viewer) -> QuerySet[Post]:
    return Post.objects.filter(community__in=visible_communities(viewer))


def posts_tagged(viewer: Viewer, tag_name: str) -> QuerySet[Post]:
    return (
        visible_posts(viewer)
        .filter(hashtags__name=tag_name)
        .select_related("community")
        .prefetch_related("hashtags")
    )
