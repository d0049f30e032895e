from django.urls import path

from athletes import views

urlpatterns = [
    path("consent/", views.consent_page, name="consent"),
    path("onboarding/about/", views.onboarding_about, name="onboarding_about"),
    path("onboarding/", views.onboarding_questionnaire, name="onboarding"),
]

from athletes import views_admin  # noqa: E402 - issue 10, owners' consent texts

urlpatterns += [
    path("settings/consent-texts/", views_admin.consent_texts, name="consent_texts"),
]

urlpatterns += [
    path("settings/", views.settings_page, name="settings"),  # issue 10, the settings hub
]

urlpatterns += [  # issue 10, the client's Today page and its panels' writes
    path("today/", views.today_page, name="today"),
    path("today/checkin/", views.today_checkin, name="today_checkin"),
    path("today/<slug:panel>/<slug:action>/<int:pk>/", views.today_action, name="today_action"),
]

from athletes import views_imports  # noqa: E402 - issue 11, file imports

urlpatterns += [
    path("imports/", views_imports.imports_page, name="imports"),
    path("imports/<int:job_id>/", views_imports.import_status, name="import_status"),
]

from athletes import views_messages  # noqa: E402 - the client-coach thread

urlpatterns += [
    path("messages/", views_messages.thread, name="messages"),
    path("messages/<int:athlete_id>/", views_messages.thread, name="athlete_messages"),
]
