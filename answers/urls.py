from django.urls import path

from answers import views

app_name = "answers"

urlpatterns = [
    path("<int:question_id>/", views.question_detail, name="question_detail"),
    path("<int:question_id>/answers/", views.answer_create, name="answer_create"),
    path("answers/<int:answer_id>/accept/", views.answer_accept, name="answer_accept"),
    path(
        "answers/<int:answer_id>/promote/", views.answer_promote, name="answer_promote"
    ),
    path("faq/<int:entry_id>/", views.faq_detail, name="faq_detail"),
]
