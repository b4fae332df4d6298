from django.urls import path

from social import blog_views, feed_views, post_views, share_views

app_name = "posts"

urlpatterns = [
    path("bookmarks/", post_views.bookmark_list, name="bookmark_list"),
    path("feed/", feed_views.feed_more, name="feed_more"),
    path("feed/new/", feed_views.feed_new_count, name="feed_new_count"),
    path("blogs/", blog_views.long_form_list, name="long_form_list"),
    path("new/", blog_views.post_compose, name="post_compose"),
    path("short/", feed_views.home_post_create, name="home_post_create"),
    path(
        "<int:post_id>/read/",
        feed_views.announcement_read,
        name="announcement_read",
    ),
    path("<int:post_id>/", post_views.post_detail, name="post_detail"),
    path(
        "<int:post_id>/attachments/<int:position>",
        post_views.attachment_file,
        name="attachment_file",
    ),
    path("<int:post_id>/edit/", post_views.post_edit, name="post_edit"),
    path("<int:post_id>/delete/", post_views.post_delete, name="post_delete"),
    path("<int:post_id>/history/", post_views.post_history, name="post_history"),
    path("<int:post_id>/share/", share_views.post_share, name="post_share"),
    path("<int:post_id>/reactions/", post_views.reaction_set, name="reaction_set"),
    path("<int:post_id>/bookmark/", post_views.bookmark_set, name="bookmark_set"),
    path("<int:post_id>/helpful/", post_views.helpful_set, name="helpful_set"),
    path("<int:post_id>/comments/", post_views.comment_list, name="comment_list"),
    path(
        "<int:post_id>/comments/new/", post_views.comment_create, name="comment_create"
    ),
    path(
        "<int:post_id>/comments/<int:comment_id>/",
        post_views.comment_permalink,
        name="comment_permalink",
    ),
    path(
        "comments/<int:comment_id>/edit/",
        post_views.comment_edit,
        name="comment_edit",
    ),
    path(
        "comments/<int:comment_id>/delete/",
        post_views.comment_delete,
        name="comment_delete",
    ),
]
