from django.urls import path

from athletes import views

urlpatterns = [
    path("consent/", views.consent_page, name="consent"),
    path("onboarding/about/", views.onboarding_about, name="onboarding_about"),
    path("onboarding/", views.onboarding_questionnaire, name="onboarding"),
]
