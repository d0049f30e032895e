from django.contrib import admin
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView

from coaching import views

api_v1 = [
    path("", include("athletes.api")),
    path("", include("programs.api")),
    path("", include("coaching.api")),
]

urlpatterns = [
    path("", views.home, name="home"),
    path("healthz", views.healthz, name="healthz"),
    path("", include("programs.urls")),
    path(
        "methodologies/<int:methodology_id>/versions/",
        views.methodology_versions,
        name="methodology_versions",
    ),
    path("accounts/", include("allauth.urls")),
    path("admin/tenant/", views.admin_tenant_select, name="admin_tenant_select"),
    path("admin/", admin.site.urls),
    path("api/v1/", include((api_v1, "api"), namespace="api")),
    path("api/schema/", SpectacularAPIView.as_view(), name="schema"),
    path("api/docs/", SpectacularSwaggerView.as_view(url_name="schema"), name="api-docs"),
]
