from django.urls import path

from athletes import views

urlpatterns = [
    path("consent/", views.consent_page, name="consent"),
]
