from django.urls import path

from billing import views

urlpatterns = [
    path("join/", views.join, name="join"),
    path("billing/", views.billing, name="billing"),
    path("billing/return/", views.billing_return, name="billing_return"),
    path("billing/admin/", views.billing_admin, name="billing_admin"),
]
