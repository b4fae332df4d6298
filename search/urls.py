from django.urls import path

from search import views

app_name = "search"

urlpatterns = [
    path("", views.search_page, name="search"),
    path("missed/", views.missed_searches, name="missed_searches"),
    path("missed/record/", views.record_shown_miss, name="record_missed"),
]
