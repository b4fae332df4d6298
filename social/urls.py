from django.urls import path

from social import views

app_name = "social"

urlpatterns = [
    path("<str:name>/", views.tag_detail, name="tag_detail"),
]
