from django.urls import path

from imports import views

app_name = "imports"

urlpatterns = [
    path("", views.batch_list, name="batch_list"),
    path("sources/new/", views.source_create, name="source_create"),
    path("sources/<int:source_id>/", views.source_edit, name="source_edit"),
    path("sources/<int:source_id>/upload/", views.upload, name="upload"),
    path(
        "sources/<int:source_id>/preview/<str:sha256>/",
        views.preview,
        name="preview",
    ),
    path(
        "sources/<int:source_id>/preview/<str:sha256>/commit/",
        views.commit,
        name="commit",
    ),
    path("batches/<int:batch_id>/", views.batch_detail, name="batch_detail"),
]
