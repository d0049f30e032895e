from django.urls import path

from privacy import views

urlpatterns = [
    path("privacy/", views.page, name="privacy"),
    path("privacy/export/", views.export, name="privacy_export"),
    path("privacy/erasure/", views.erasure, name="privacy_erasure"),
    path(
        "privacy/erasure/<int:request_id>/cancel/",
        views.erasure_cancel,
        name="privacy_erasure_cancel",
    ),
    path("privacy/download/<str:token>/", views.download, name="privacy_download"),
    path(
        "privacy/tenant-export/<str:token>/",
        views.tenant_export_download,
        name="privacy_tenant_export_download",
    ),
    path("privacy/athlete/<int:athlete_id>/", views.page, name="athlete_privacy"),
    path(
        "privacy/athlete/<int:athlete_id>/export/",
        views.export,
        name="athlete_privacy_export",
    ),
    path(
        "privacy/athlete/<int:athlete_id>/erasure/",
        views.erasure,
        name="athlete_privacy_erasure",
    ),
    path(
        "privacy/athlete/<int:athlete_id>/erasure/<int:request_id>/cancel/",
        views.erasure_cancel,
        name="athlete_privacy_erasure_cancel",
    ),
]
