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

from privacy import views_admin  # noqa: E402 - issue 10, owners' list of requests

urlpatterns += [
    path("privacy/requests/", views_admin.data_requests, name="data_requests"),
    path(
        "privacy/requests/<int:request_id>/cancel/",
        views_admin.data_request_cancel,
        name="data_request_cancel",
    ),
]
