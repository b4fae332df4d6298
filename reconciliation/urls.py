from django.urls import path

from reconciliation import views

app_name = "reconciliation"

urlpatterns = [
    path("orders/", views.order_list, name="order_list"),
    path("orders/<str:number>/", views.order_detail, name="order_detail"),
]
