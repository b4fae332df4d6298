from django.urls import path

from library import views

app_name = "library"

urlpatterns = [
    path("", views.library_list, name="library_list"),
    path("new/", views.item_create, name="item_create"),
    path("<int:document_id>/", views.document_detail, name="document_detail"),
    path(
        "<int:document_id>/versions/new/", views.version_create, name="version_create"
    ),
    path(
        "<int:document_id>/v<int:number>/file",
        views.version_file,
        name="version_file",
    ),
    # The address before versions were numbered in URLs, kept for old links.
    path(
        "<int:document_id>/versions/<int:version_id>/file",
        views.version_file_by_id,
        name="version_file_by_id",
    ),
    path("<int:document_id>/poster", views.poster_file, name="poster_file"),
    path("<int:document_id>/edit/", views.item_edit, name="item_edit"),
    path("<int:document_id>/poster/edit/", views.poster_edit, name="poster_edit"),
    path("<int:document_id>/withdraw/", views.item_withdraw, name="item_withdraw"),
    path(
        "<int:document_id>/v<int:number>/withdraw/",
        views.version_withdraw,
        name="version_withdraw",
    ),
    path("<int:document_id>/restore/", views.item_restore, name="item_restore"),
    path(
        "<int:document_id>/v<int:number>/restore/",
        views.version_restore,
        name="version_restore",
    ),
    path("<int:document_id>/tags/", views.tags_add, name="tags_add"),
    path(
        "<int:document_id>/tags/<int:tag_id>/remove/",
        views.tag_remove,
        name="tag_remove",
    ),
    path("<int:document_id>/helpful/", views.helpful_toggle, name="helpful_toggle"),
]
