from django.urls import path

from communities import views

app_name = "communities"

urlpatterns = [
    path("", views.community_list, name="community_list"),
    path("<slug:slug>/", views.community_detail, name="community_detail"),
    path("<slug:slug>/posts/", views.post_create, name="post_create"),
]
