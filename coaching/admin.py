"""Django admin for platform staff, tenant-aware.

Staff pick a tenant explicitly (/admin/tenant/); the choice lives in their session and
`TenantMiddleware` enters it for /admin/ requests. Until they pick one, tenant-scoped
admin pages show nothing but a link to the picker: the scoped manager would otherwise
raise, and we never want a cross-tenant changelist.

When you add a tenant-scoped model to the admin, subclass `TenantScopedAdmin`.
"""

from __future__ import annotations

from django import forms
from django.contrib import admin, messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect

from coaching import audit, lifecycle, services
from coaching.errors import DomainError
from coaching.models import (
    Alert,
    AuditEvent,
    Invitation,
    Membership,
    Methodology,
    MethodologyVersion,
    Tenant,
    Tier,
)
from coaching.tenancy import get_current_tenant

ADMIN_TENANT_SESSION_KEY = "admin_tenant_id"


class TenantScopedAdmin(admin.ModelAdmin):
    def _tenant_or_redirect(self, request: HttpRequest) -> HttpResponse | None:
        if get_current_tenant() is None:
            messages.info(
                request, "Pick a tenant first: tenant data is shown one tenant at a time."
            )
            return redirect("admin_tenant_select")
        return None

    def _audit(self, request: HttpRequest, object_id: str | None) -> None:
        """Staff opening tenant data in the admin is an access to client data: logged."""
        detail: dict = {"model": self.model._meta.label}
        if object_id and str(object_id).isdigit():
            detail["object_id"] = int(object_id)
        audit.record(action="admin.view", actor_user_id=request.user.pk, detail=detail)

    def changelist_view(self, request, extra_context=None):
        redirected = self._tenant_or_redirect(request)
        if redirected:
            return redirected
        self._audit(request, None)
        return super().changelist_view(request, extra_context)

    def changeform_view(self, request, object_id=None, form_url="", extra_context=None):
        redirected = self._tenant_or_redirect(request)
        if redirected:
            return redirected
        self._audit(request, object_id)
        return super().changeform_view(request, object_id, form_url, extra_context)

    def delete_view(self, request, object_id, extra_context=None):
        return self._tenant_or_redirect(request) or super().delete_view(
            request, object_id, extra_context
        )

    def history_view(self, request, object_id, extra_context=None):
        return self._tenant_or_redirect(request) or super().history_view(
            request, object_id, extra_context
        )


class AuditedAdmin(admin.ModelAdmin):
    """Platform records staff read (tenants, the audit log itself): every view logged."""

    def changelist_view(self, request, extra_context=None):
        audit.record(
            action="admin.view",
            actor_user_id=request.user.pk,
            detail={"model": self.model._meta.label},
        )
        return super().changelist_view(request, extra_context)

    def changeform_view(self, request, object_id=None, form_url="", extra_context=None):
        detail: dict = {"model": self.model._meta.label}
        if object_id and str(object_id).isdigit():
            detail["object_id"] = int(object_id)
        audit.record(action="admin.view", actor_user_id=request.user.pk, detail=detail)
        return super().changeform_view(request, object_id, form_url, extra_context)


# Apps above coaching add tenant actions here (privacy: offboarding), since coaching may
# not import them.
_tenant_actions: list = []


def register_tenant_action(action) -> None:
    """Add an admin action (a function decorated with `@admin.action`) to TenantAdmin."""
    if action not in _tenant_actions:
        _tenant_actions.append(action)


class TenantCreationForm(forms.ModelForm):
    owner_email = forms.EmailField(
        help_text="The owner gets an invitation by e-mail (valid 14 days)."
    )

    class Meta:
        model = Tenant
        fields = ["slug", "name", "timezone", "currency", "brand_colour"]


@admin.register(Tenant)
class TenantAdmin(AuditedAdmin):
    """Onboarding, suspension and reactivation go through `coaching.lifecycle` (audited,
    owner invited); offboarding is `privacy.offboarding`. Tenants are never deleted here."""

    list_display = ["slug", "name", "status", "status_reason", "timezone", "currency", "created"]
    list_filter = ["status"]
    search_fields = ["slug", "name"]
    fields = [
        "slug", "name", "timezone", "currency", "brand_colour",
        "status", "status_reason", "status_changed", "delete_after", "deleted_at",
    ]  # fmt: skip
    readonly_fields = [
        "slug", "status", "status_reason", "status_changed", "delete_after", "deleted_at"
    ]  # fmt: skip
    actions = ["suspend", "reactivate"]

    def get_form(self, request, obj=None, change=False, **kwargs):
        if obj is None:
            kwargs["form"] = TenantCreationForm
            kwargs["fields"] = [*TenantCreationForm.Meta.fields, "owner_email"]
        return super().get_form(request, obj, change=change, **kwargs)

    def get_fields(self, request, obj=None):
        if obj is None:
            return [*TenantCreationForm.Meta.fields, "owner_email"]
        return super().get_fields(request, obj)

    def get_readonly_fields(self, request, obj=None):
        return [] if obj is None else self.readonly_fields

    def save_model(self, request: HttpRequest, obj, form, change: bool) -> None:
        if change:
            super().save_model(request, obj, form, change)
            return
        data = form.cleaned_data
        onboarded = lifecycle.tenant_create(
            slug=data["slug"],
            name=data["name"],
            timezone_name=data["timezone"],
            currency=data["currency"],
            brand_colour=data["brand_colour"],
            owner_email=data["owner_email"],
            by_user_id=request.user.pk,
        )
        obj.pk = onboarded.tenant.pk

    def has_delete_permission(self, request: HttpRequest, obj=None) -> bool:
        return False

    def get_actions(self, request: HttpRequest):
        actions = super().get_actions(request)
        for action in _tenant_actions:
            actions[action.__name__] = self.get_action(action)
        return actions

    @admin.action(description="Suspend (read-only, nightly run skipped)")
    def suspend(self, request: HttpRequest, queryset) -> None:
        for tenant in queryset:
            try:
                lifecycle.tenant_suspend(
                    tenant=tenant, reason="Suspended by platform staff.", by_user_id=request.user.pk
                )
            except DomainError as exc:
                self.message_user(request, f"{tenant.slug}: {exc.message}", messages.ERROR)
            else:
                self.message_user(request, f"{tenant.slug} suspended.")

    @admin.action(description="Reactivate")
    def reactivate(self, request: HttpRequest, queryset) -> None:
        for tenant in queryset:
            try:
                lifecycle.tenant_reactivate(tenant=tenant, by_user_id=request.user.pk)
            except DomainError as exc:
                self.message_user(request, f"{tenant.slug}: {exc.message}", messages.ERROR)
            else:
                self.message_user(request, f"{tenant.slug} is active.")


@admin.register(Membership)
class MembershipAdmin(TenantScopedAdmin):
    list_display = ["user", "role", "coach", "alert_daily_budget", "created"]
    list_filter = ["role"]
    raw_id_fields = ["user"]
    # Assignment has rules (a client, to a coach or owner of the same business): it goes
    # through `services.membership_assign_coach` (API), not a free dropdown.
    readonly_fields = ["coach"]


@admin.register(Methodology)
class MethodologyAdmin(TenantScopedAdmin):
    list_display = ["name", "slug", "discipline", "created"]
    list_filter = ["discipline"]
    search_fields = ["name", "slug"]


class MethodologyVersionForm(forms.ModelForm):
    class Meta:
        model = MethodologyVersion
        fields = ["rules", "notes"]

    def clean_rules(self) -> dict:
        try:
            return services.rules_validate_for(
                methodology=self.instance.methodology, rules=self.cleaned_data["rules"]
            )
        except services.RulesDocumentInvalid as exc:
            errors = [f"{path}: {text}" for path, texts in exc.fields.items() for text in texts]
            raise forms.ValidationError(errors) from exc


@admin.register(MethodologyVersion)
class MethodologyVersionAdmin(TenantScopedAdmin):
    """Drafts are edited through the services; published versions are read-only.

    New drafts come from the API (numbering and the one-draft rule live in the service).
    """

    form = MethodologyVersionForm
    list_display = ["methodology", "number", "status", "published_at", "created_by"]
    list_filter = ["status", "methodology"]
    raw_id_fields = ["created_by"]
    actions = ["publish_drafts"]
    readonly_fields = ["methodology", "number", "status", "published_at", "created", "created_by"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj=None) -> bool:
        return obj is None or not obj.is_published

    def has_change_permission(self, request: HttpRequest, obj=None) -> bool:
        # A published version opens as Django's read-only view page.
        if obj is not None and obj.is_published:
            return False
        return super().has_change_permission(request, obj)

    def save_model(self, request: HttpRequest, obj, form, change: bool) -> None:
        updated = services.version_draft_update(
            version=obj, rules=form.cleaned_data["rules"], notes=form.cleaned_data["notes"]
        )
        obj.rules = updated.rules

    @admin.action(description="Publish the selected drafts")
    def publish_drafts(self, request: HttpRequest, queryset) -> None:
        for version in queryset.filter(status=MethodologyVersion.Status.DRAFT):
            try:
                services.version_publish(version=version)
            except DomainError as exc:
                self.message_user(request, f"{version}: {exc.message} {exc.fields}", messages.ERROR)
            else:
                self.message_user(request, f"Published {version}.", messages.SUCCESS)


@admin.register(Tier)
class TierAdmin(TenantScopedAdmin):
    list_display = [
        "name",
        "methodology",
        "autonomy",
        "price",
        "currency",
        "interval",
        "checkin_cadence_days",
        "is_active",
        "sort_order",
    ]
    list_filter = ["autonomy", "is_active", "interval"]
    search_fields = ["name", "slug"]


@admin.register(Alert)
class AlertAdmin(TenantScopedAdmin):
    """Read-only: alerts are raised by detectors and decided by coaches in their inbox;
    the admin is for looking into one."""

    list_display = ["day", "kind", "severity", "status", "title", "client", "decided_by"]
    list_filter = ["status", "kind", "severity"]
    search_fields = ["dedupe_key", "title"]
    date_hierarchy = "day"

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj=None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj=None) -> bool:
        return False


@admin.register(AuditEvent)
class AuditEventAdmin(AuditedAdmin):
    """Read-only, across tenants (platform staff): filter by tenant and action. The log is
    append-only; rows leave only through `manage.py audit_prune`."""

    list_display = ["at", "tenant", "action", "actor_user_id", "subject_user_id", "detail"]
    list_filter = ["tenant", "action"]
    date_hierarchy = "at"
    readonly_fields = [
        "at", "tenant", "actor_user_id", "subject_user_id", "action", "detail", "ip"
    ]  # fmt: skip

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj=None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj=None) -> bool:
        return False


@admin.register(Invitation)
class InvitationAdmin(TenantScopedAdmin):
    """Read-only: invitations are sent and withdrawn on the members page (audited)."""

    list_display = ["email", "role", "created", "expires_at", "accepted_at", "revoked_at"]
    list_filter = ["role"]
    exclude = ["token_hash"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj=None) -> bool:
        return False
