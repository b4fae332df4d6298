from django.urls import path

from library import views

app_name = "library"

urlpatterns = [
    path("<int:document_id>/", views.document_detail, name="document_detail"),
]
