from django.contrib import admin
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView

from billing import views as billing_views
from coaching import views, views_admin, views_dashboard, views_lifecycle, views_methodology

api_v1 = [
    path("", include("athletes.api")),
    path("", include("athletes.consent_api")),
    path("", include("athletes.devices_api")),
    path("", include("programs.api")),
    path("", include("programs.api_metrics")),
    path("", include("programs.api_ml")),
    path("", include("programs.api_simulation")),
    path("", include("coaching.api")),
    path("", include("nutrition.api")),
    path("", include("billing.api")),
    path("", include("privacy.api")),
]

urlpatterns = [
    path("", views.home, name="home"),
    path("healthz", views.healthz, name="healthz"),
    path("", include("athletes.urls")),
    path("", include("programs.urls")),
    path("", include("nutrition.urls")),
    path("", include("billing.urls")),
    path("", include("privacy.urls")),
    path("stripe/webhook/", billing_views.stripe_webhook, name="stripe_webhook"),
    path(
        "methodologies/<int:methodology_id>/versions/",
        views.methodology_versions,
        name="methodology_versions",
    ),
    path("methodology/", views_methodology.methodology_list, name="methodology"),
    path(
        "methodology/<int:methodology_id>/edit/",
        views_methodology.methodology_edit,
        name="methodology_edit",
    ),
    path(
        "methodology/<int:methodology_id>/publish/",
        views_methodology.methodology_publish,
        name="methodology_publish",
    ),
    path("methodology/tiers/", views_methodology.tier_list, name="methodology_tiers"),
    path(
        "methodology/tiers/<int:tier_id>/",
        views_methodology.tier_edit,
        name="methodology_tier_edit",
    ),
    path("dashboard/", views_dashboard.coach_dashboard, name="coach_dashboard"),
    path("alerts/", views.alerts_inbox, name="alerts"),
    path("alerts/<int:alert_id>/", views.alert_detail, name="alert_detail"),
    path(
        "alerts/<int:alert_id>/<str:decision>/",
        views.alert_decide,
        name="alert_decide",
    ),
    path("members/", views_lifecycle.members, name="members"),
    path("branding/", views_lifecycle.branding, name="branding"),
    path("brand/logo", views_lifecycle.brand_logo, name="brand_logo"),
    path("invite/<str:token>/", views_lifecycle.invitation, name="invitation"),
    path("start/", views_lifecycle.tenant_signup, name="tenant_signup"),
    path("welcome/", views_lifecycle.welcome, name="client_welcome"),
    path("nightly/", views.nightly_runs, name="nightly_runs"),
    path("nightly/<int:run_id>/", views.nightly_run_detail, name="nightly_run"),
    path("nightly/<int:run_id>/retry/", views.nightly_run_retry, name="nightly_run_retry"),
    path(
        "nightly/<int:run_id>/progress/",
        views.nightly_run_progress,
        name="nightly_run_progress",
    ),
    path("audit/", views_admin.audit_log, name="audit_log"),
    path("staff/tenants/", views_admin.staff_tenants, name="staff_tenants"),
    path("accounts/", include("allauth.urls")),
    path("admin/tenant/", views.admin_tenant_select, name="admin_tenant_select"),
    path("admin/", admin.site.urls),
    path("api/v1/", include((api_v1, "api"), namespace="api")),
    path("api/schema/", SpectacularAPIView.as_view(), name="schema"),
    path("api/docs/", SpectacularSwaggerView.as_view(url_name="schema"), name="api-docs"),
]
