"""Writes of the social app: posts, comments, reactions and mentions."""

from social.services.comments import (
    MAX_COMMENT_LENGTH,
    delete_comment,
    edit_comment,
    post_comment,
)
from social.services.posts import (
    MAX_POST_LENGTH,
    MAX_TAGS_PER_POST,
    can_post_in,
    delete_post,
    edit_post,
    publish_post,
    store_hashtags,
)
from social.services.reactions import set_bookmark, set_helpful, set_reaction

__all__ = [
    "MAX_COMMENT_LENGTH",
    "MAX_POST_LENGTH",
    "MAX_TAGS_PER_POST",
    "can_post_in",
    "delete_comment",
    "delete_post",
    "edit_comment",
    "edit_post",
    "post_comment",
    "publish_post",
    "set_bookmark",
    "set_helpful",
    "set_reaction",
    "store_hashtags",
]
