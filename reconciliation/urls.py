from django.urls import include, path

from reconciliation import case_views, match_views, views

app_name = "reconciliation"

urlpatterns = [
    path("orders/", views.order_list, name="order_list"),
    path("orders/<str:number>/", views.order_detail, name="order_detail"),
    path("cases/", case_views.case_list, name="case_list"),
    path("cases/<int:case_id>/", case_views.case_detail, name="case_detail"),
    path("cases/<int:case_id>/move/", case_views.case_move, name="case_move"),
    path("cases/<int:case_id>/assign/", case_views.case_assign, name="case_assign"),
    path("cases/<int:case_id>/comments/", case_views.case_comment, name="case_comment"),
    path(
        "cases/<int:case_id>/write-off/",
        case_views.case_request_write_off,
        name="case_request_write_off",
    ),
    path(
        "approvals/<int:approval_id>/decide/",
        case_views.approval_decide,
        name="approval_decide",
    ),
    path(
        "matches/<int:group_id>/unreconcile/",
        match_views.unreconcile_match,
        name="match_unreconcile",
    ),
    path("", include("reconciliation.work_urls")),
]
