from django.urls import path

from answers import faq_views, views

app_name = "answers"

urlpatterns = [
    path("", views.question_list, name="question_list"),
    path("ask/", views.ask, name="ask"),
    path("suggest/", views.suggestions, name="suggest"),
    path("<int:question_id>/", views.question_detail, name="question_detail"),
    path("<int:question_id>/answers/", views.answer_create, name="answer_create"),
    path("<int:question_id>/comments/", views.comment_create, name="comment_create"),
    path("<int:question_id>/close/", views.question_close, name="question_close"),
    path("<int:question_id>/reopen/", views.question_reopen, name="question_reopen"),
    path(
        "<int:question_id>/unaccept/",
        views.question_unaccept,
        name="question_unaccept",
    ),
    path("answers/<int:answer_id>/accept/", views.answer_accept, name="answer_accept"),
    path(
        "answers/<int:answer_id>/promote/", views.answer_promote, name="answer_promote"
    ),
    path("answers/<int:answer_id>/edit/", views.answer_edit, name="answer_edit"),
    path("answers/<int:answer_id>/delete/", views.answer_delete, name="answer_delete"),
    path("answers/<int:answer_id>/vote/", views.answer_vote, name="answer_vote"),
    path(
        "comments/<int:comment_id>/delete/",
        views.comment_delete,
        name="comment_delete",
    ),
    path("faq/", faq_views.faq_index, name="faq_index"),
    path("faq/new/", faq_views.faq_new, name="faq_new"),
    path("faq/source-link/", faq_views.faq_source_link, name="faq_source_link"),
    path("faq/<int:entry_id>/", faq_views.faq_detail, name="faq_detail"),
    path("faq/<int:entry_id>/edit/", faq_views.faq_edit, name="faq_edit"),
    path("faq/<int:entry_id>/reviewed/", faq_views.faq_reviewed, name="faq_reviewed"),
    path(
        "functions/<slug:slug>/review/",
        faq_views.function_review,
        name="function_review",
    ),
    path(
        "functions/<slug:slug>/unanswered/",
        faq_views.function_unanswered,
        name="function_unanswered",
    ),
    path("releases/", faq_views.releases, name="releases"),
]
