from django.urls import path, register_converter

from communities import views


class CommunitySlugConverter:
    """Match a community slug: Unicode letters, digits, hyphens, underscores."""

    regex = r"[-\w]+"

    def to_python(self, value: str) -> str:
        return value

    def to_url(self, value: str) -> str:
        return value


register_converter(CommunitySlugConverter, "community")

app_name = "communities"

urlpatterns = [
    path("", views.community_list, name="community_list"),
    path("new/", views.community_create, name="community_create"),
    path("invitations/", views.invitation_list, name="invitation_list"),
    path(
        "invitations/<int:invitation_id>/accept/",
        views.invitation_accept,
        name="invitation_accept",
    ),
    path(
        "invitations/<int:invitation_id>/decline/",
        views.invitation_decline,
        name="invitation_decline",
    ),
    path("<community:slug>/", views.community_detail, name="community_detail"),
    path("<community:slug>/posts/", views.post_create, name="post_create"),
    path("<community:slug>/join/", views.community_join, name="community_join"),
    path("<community:slug>/leave/", views.community_leave, name="community_leave"),
    path(
        "<community:slug>/request/",
        views.membership_request,
        name="membership_request",
    ),
    path("<community:slug>/members/", views.member_list, name="member_list"),
    path("<community:slug>/files/", views.file_list, name="file_list"),
    path(
        "<community:slug>/members/<int:person_id>/role/",
        views.member_role,
        name="member_role",
    ),
    path(
        "<community:slug>/members/<int:person_id>/remove/",
        views.member_remove,
        name="member_remove",
    ),
    path(
        "<community:slug>/requests/<int:request_id>/approve/",
        views.request_approve,
        name="request_approve",
    ),
    path(
        "<community:slug>/requests/<int:request_id>/reject/",
        views.request_reject,
        name="request_reject",
    ),
    path("<community:slug>/posts/<int:post_id>/pin/", views.post_pin, name="post_pin"),
    path(
        "<community:slug>/posts/<int:post_id>/unpin/",
        views.post_unpin,
        name="post_unpin",
    ),
    path("<community:slug>/starters/", views.starter_list, name="starter_list"),
    path("<community:slug>/starters/post/", views.starter_post, name="starter_post"),
    path("<community:slug>/recruit/", views.recruit, name="recruit"),
]
