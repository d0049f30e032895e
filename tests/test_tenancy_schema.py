"""The tenancy contract at the schema level: every model decided, every tenant table
under FORCEd row-level security, uniques distributable by tenant, the app role owning
nothing."""

from __future__ import annotations

import pytest
from django.apps import apps
from django.conf import settings
from django.db import models

from coaching.rls import POLICY_NAME, TENANT_PREDICATE, tenant_tables
from coaching.tenancy import is_tenant_scoped

# Models that are not tenant data, each with the reason. Adding a model without either
# inheriting TenantScoped or a line here fails CI.
NOT_TENANT_SCOPED = {
    "coaching.Tenant": "the tenant itself: platform data, looked up before any tenant is known",
    "auth.User": "people are global: one login, memberships in several tenants",
    "auth.Group": "Django permission groups for platform staff",
    "auth.Permission": "Django's permission catalogue, same for all tenants",
    "auth.Group_permissions": "auto-created join of two platform tables",
    "auth.User_groups": "auto-created join of two platform tables",
    "auth.User_user_permissions": "auto-created join of two platform tables",
    "contenttypes.ContentType": "Django's model catalogue, same for all tenants",
    "sessions.Session": "login sessions are per user, before and across tenants",
    "admin.LogEntry": "platform staff's admin actions; the audit log issue replaces it",
    "account.EmailAddress": "belongs to the global user (allauth)",
    "account.EmailConfirmation": "belongs to the global user (allauth)",
    "mfa.Authenticator": "belongs to the global user (allauth MFA)",
    "authtoken.Token": "API token of the global user; the tenant comes per request",
    "authtoken.TokenProxy": "proxy of authtoken.Token for the admin",
    "billing.BillingAccount": (
        "the platform's record of a tenant's Stripe account and fee: a webhook is routed "
        "to its tenant by account id before any tenant is known"
    ),
    "billing.TenantPlan": (
        "what the platform bills a tenant, on the platform's own Stripe account: platform "
        "data, routed by webhook before any tenant is known"
    ),
    "billing.WebhookEvent": (
        "Stripe events are stored (once, by event id) before their tenant is known; "
        "the tenant is filled in when the event is resolved"
    ),
    "coaching.AuditEvent": (
        "the append-only audit log holds platform events with no tenant and must outlive a "
        "deleted tenant until retention; filtered per tenant by coaching.audit.audit_events"
    ),
    "django_celery_beat.PeriodicTask": "platform schedule; tasks carry tenant_id themselves",
    "django_celery_beat.PeriodicTasks": "beat's change marker (platform)",
    "django_celery_beat.IntervalSchedule": "platform schedule definitions",
    "django_celery_beat.CrontabSchedule": "platform schedule definitions",
    "django_celery_beat.SolarSchedule": "platform schedule definitions",
    "django_celery_beat.ClockedSchedule": "platform schedule definitions",
}


def _label(model: type[models.Model]) -> str:
    return f"{model._meta.app_label}.{model._meta.object_name}"


def test_every_model_is_tenant_scoped_or_allowlisted_with_a_reason():
    undecided = [
        _label(model)
        for model in apps.get_models(include_auto_created=True)
        if not is_tenant_scoped(model) and _label(model) not in NOT_TENANT_SCOPED
    ]
    assert undecided == [], (
        "Each model must inherit TenantScoped or be added to NOT_TENANT_SCOPED with a reason"
    )


def test_allowlist_has_no_stale_or_tenant_scoped_entries():
    labels = {_label(m): m for m in apps.get_models(include_auto_created=True)}
    assert sorted(set(NOT_TENANT_SCOPED) - set(labels)) == []
    assert [name for name in NOT_TENANT_SCOPED if is_tenant_scoped(labels[name])] == []
    assert all(reason.strip() for reason in NOT_TENANT_SCOPED.values())


def test_every_unique_constraint_on_a_tenant_table_includes_tenant():
    offenders = []
    for model, _table in tenant_tables():
        meta = model._meta
        for field in meta.local_fields:
            if field.unique and not field.primary_key:
                offenders.append(f"{_label(model)}.{field.name} (unique=True)")
        for fields in meta.unique_together:
            if "tenant" not in fields and "tenant_id" not in fields:
                offenders.append(f"{_label(model)} unique_together {fields}")
        for constraint in meta.constraints:
            if isinstance(constraint, models.UniqueConstraint):
                if "tenant" not in constraint.fields and "tenant_id" not in constraint.fields:
                    offenders.append(f"{_label(model)} {constraint.name}")
    assert offenders == []


def test_tenant_fk_is_indexed_on_every_tenant_table():
    for model, _table in tenant_tables():
        assert model._meta.get_field("tenant").db_index, _label(model)


@pytest.mark.django_db
def test_every_tenant_table_has_forced_rls_and_the_tenant_policy(owner_connection):
    tables = [table for _model, table in tenant_tables()]
    assert len(tables) >= 6
    rows = owner_connection.execute(
        "SELECT c.relname, c.relrowsecurity, c.relforcerowsecurity, p.qual "
        "FROM pg_class c LEFT JOIN pg_policies p "
        "  ON p.tablename = c.relname AND p.policyname = %s "
        "WHERE c.relname = ANY(%s)",
        [POLICY_NAME, tables],
    ).fetchall()
    state = {name: (enabled, forced, qual) for name, enabled, forced, qual in rows}
    assert set(state) == set(tables)
    for table, (enabled, forced, qual) in state.items():
        assert enabled and forced, table
        assert qual is not None, f"{table} has no {POLICY_NAME} policy"
        assert "current_setting('app.tenant_id'::text, true)" in qual, (table, qual)
    assert "NULLIF" in TENANT_PREDICATE


@pytest.mark.django_db
def test_app_role_owns_no_table_and_cannot_bypass_rls(owner_connection):
    role = settings.DATABASE_APP_ROLE
    owned = owner_connection.execute(
        "SELECT c.relname FROM pg_class c JOIN pg_roles r ON r.oid = c.relowner "
        "JOIN pg_namespace n ON n.oid = c.relnamespace "
        "WHERE r.rolname = %s AND n.nspname = 'public'",
        [role],
    ).fetchall()
    assert owned == []
    superuser, bypass = owner_connection.execute(
        "SELECT rolsuper, rolbypassrls FROM pg_roles WHERE rolname = %s", [role]
    ).fetchone()
    assert (superuser, bypass) == (False, False)


@pytest.mark.django_db
def test_tests_really_run_as_the_app_role():
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SELECT current_user")
        assert cursor.fetchone()[0] == settings.DATABASE_APP_ROLE
