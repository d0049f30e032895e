"""Offboarding a tenant (issue 8, Tenant lifecycle): a full export, then deletion once the
retention period is over, with the same coverage guarantees as a person's erasure.

- `tenant_offboard`: status offboarded (the middleware 404s the tenant from then on),
  `delete_after` = today + `TENANT_OFFBOARD_RETENTION_DAYS`, and a `DataRequest` of kind
  "tenant" whose ZIP (`tenant_export_build`, a Celery task) holds one folder per client
  with exactly what that client's own export holds, plus the tenant's own records.
  Platform staff download it through a signed link (`tenant_export_url`).
- `tenant_delete`: every client erased through the eraser registry (as `erasure_run`:
  Stripe customers through the billing gateway, invoices pseudonymised), then every
  remaining row of the tenant in every model with a tenant FK, found by walking
  `apps.get_models()` (no list to keep up to date), except `OUTLIVE_THE_TENANT`; logins
  that belong to no other tenant go too. Safe to re-run after a crash: each client's
  erasure commits on its own, the sweep is one transaction, a deleted tenant is a no-op.

Nothing here logs or audits personal data: ids and counts only.
"""

from __future__ import annotations

import datetime
import logging
import secrets
import shutil
import zipfile
from pathlib import Path
from typing import Any

from django.apps import apps
from django.conf import settings
from django.contrib.auth import get_user_model
from django.core import signing
from django.db import connection, models, transaction
from django.utils import timezone

from athletes import consent
from athletes.models import AthleteProfile, ConsentPolicy
from billing import services as billing_services
from coaching import audit
from coaching import selectors as coaching_selectors
from coaching.models import Membership, Methodology, MethodologyVersion, Tenant, Tier
from coaching.tenancy import current_tenant, is_tenant_scoped, tenant_context
from privacy import services
from privacy.models import DataRequest

logger = logging.getLogger(__name__)

_SALT = "privacy.tenant_export.download"
LINK_MAX_AGE = services.LINK_MAX_AGE

#: Rows of a deleted tenant that stay, and why (the deletion scan checks these too).
OUTLIVE_THE_TENANT: dict[str, str] = {
    "billing.Invoice": "Money records kept for the legal retention period, pseudonymised "
    "by the client erasure (no link to a person, no hosted URL).",
    "coaching.AuditEvent": "The audit log outlives tenants by design; it holds ids, never "
    "personal data, and leaves through `audit_prune` (AUDIT_RETENTION_DAYS).",
}


class OffboardingError(services.PrivacyError):
    code = "offboarding"


# --- Offboard ------------------------------------------------------------------------


def tenant_offboard(*, tenant: Tenant, by_user_id: int | None, reason: str) -> DataRequest:
    """Close a tenant: offboarded from now on (nobody reaches it), its deletion due after
    the retention period, and its full export queued. Returns the export's request.
    Billing stops first (`billing.services.tenant_billing_stop`: every live subscription
    ends at its period end, so no client pays for a business that is gone): if Stripe
    refuses, nothing here has changed and staff can retry."""
    reason = (reason or "").strip()
    if not reason:
        raise OffboardingError("Say why the tenant is offboarded.", code="reason_required")
    if tenant.status == Tenant.Status.OFFBOARDED:
        raise OffboardingError(
            f"Tenant {tenant.slug} is already offboarded (data deleted after "
            f"{tenant.delete_after}).",
            code="already_offboarded",
        )
    stopped = billing_services.tenant_billing_stop(tenant)
    with transaction.atomic():
        locked = Tenant.objects.select_for_update().get(pk=tenant.pk)
        if locked.status == Tenant.Status.OFFBOARDED:
            raise OffboardingError(
                f"Tenant {locked.slug} is already offboarded (data deleted after "
                f"{locked.delete_after}).",
                code="already_offboarded",
            )
        today = coaching_selectors.tenant_today(locked)
        locked.status = Tenant.Status.OFFBOARDED
        locked.status_reason = reason[:200]
        locked.status_changed = timezone.now()
        locked.delete_after = today + datetime.timedelta(
            days=settings.TENANT_OFFBOARD_RETENTION_DAYS
        )
        locked.save(update_fields=["status", "status_reason", "status_changed", "delete_after"])
        with tenant_context(locked):
            row = DataRequest(
                athlete=None,
                kind=DataRequest.Kind.TENANT,
                status=DataRequest.Status.PENDING,
                requested_by=by_user_id,
            )
            row.full_clean()
            row.save()
            audit.record(
                action="tenant.offboard",
                actor_user_id=by_user_id,
                detail={
                    "request_id": row.pk,
                    "delete_after": locked.delete_after.isoformat(),
                    "subscriptions_stopped": stopped["subscriptions"],
                    "platform_plan_stopped": stopped["platform_plan"],
                },
            )
        tenant_id, request_id = locked.pk, row.pk

        def enqueue() -> None:
            from privacy import tasks

            tasks.tenant_export_build.delay(tenant_id, request_id)

        transaction.on_commit(enqueue)
    for name in ("status", "status_reason", "status_changed", "delete_after"):
        setattr(tenant, name, getattr(locked, name))
    logger.info("tenant %s offboarded: export request %s", tenant_id, request_id)
    return row


# --- The tenant's export -------------------------------------------------------------


def _values(queryset: models.QuerySet, *extra: str) -> list[dict[str, Any]]:
    names = [f.attname for f in queryset.model._meta.concrete_fields]
    return list(queryset.order_by("pk").values(*names, *extra))


def _tenant_tables() -> dict[str, tuple[list[dict[str, Any]], bool]]:
    """The tenant's own records (current tenant): stem -> (rows, tabular)."""
    from billing.models import Invoice

    return {
        "memberships": (
            list(
                Membership.objects.order_by("pk").values(
                    "id", "user_id", "user__email", "role", "coach_id", "created"
                )
            ),
            True,
        ),
        "methodologies": (_values(Methodology.objects.all()), False),
        "methodology_versions": (_values(MethodologyVersion.objects.all()), False),
        "tiers": (_values(Tier.objects.all()), True),
        "consent_policies": (_values(ConsentPolicy.objects.all()), False),
        "invoices": (_values(Invoice.objects.all()), True),
    }


def _tenant_readme(
    tenant: Tenant,
    tables: dict[str, int],
    clients: dict[int, services.ExportCounts],
) -> str:
    lines = [
        "Coaching business export",
        "========================",
        "",
        f"Business: {tenant.name} ({tenant.slug})",
        f"Created: {timezone.now().isoformat(timespec='seconds')}",
        f"Offboarded: {tenant.status_changed.isoformat(timespec='seconds')}"
        if tenant.status_changed
        else "Offboarded: -",
        f"Data deleted after: {tenant.delete_after}",
        f"Clients: {len(clients)}",
        "",
        "tenant/NAME.json (and .csv for tables): the business's own records.",
        "clients/<athlete id>/: one folder per client, the same files (and README) as",
        "that client's own data export. Secrets (password hashes, API token keys,",
        "two-factor secrets) are left out on purpose.",
        "",
        "File                                   Rows",
    ]
    for stem, count in sorted(tables.items()):
        lines.append(f"{'tenant/' + stem + '.json':<38} {count:>6}")
    totals: dict[str, int] = {}
    for counts in clients.values():
        for name, (_label, count, _tabular) in counts.items():
            totals[name] = totals.get(name, 0) + count
    lines += ["", "All clients together:", ""]
    for name, count in sorted(totals.items()):
        lines.append(f"{'clients/*/' + name + '.json':<38} {count:>6}")
    return "\n".join(lines) + "\n"


def tenant_export_build(*, request: DataRequest) -> DataRequest:
    """Build the current tenant's offboarding ZIP. Safe to run twice: a finished
    request is left alone; a half-written file never becomes visible."""
    if request.kind != DataRequest.Kind.TENANT or request.status != DataRequest.Status.PENDING:
        return request
    tenant = current_tenant()
    root = Path(settings.PRIVATE_MEDIA_ROOT)
    rel = Path("exports") / str(tenant.pk) / f"tenant-{request.pk}-{secrets.token_hex(8)}.zip"
    target = root / rel
    target.parent.mkdir(parents=True, exist_ok=True)
    partial = target.with_suffix(".part")
    clients: dict[int, services.ExportCounts] = {}
    table_counts: dict[str, int] = {}
    with zipfile.ZipFile(partial, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for stem, (rows, tabular) in _tenant_tables().items():
            services.write_json_csv(archive, f"tenant/{stem}", rows, tabular=tabular)
            table_counts[stem] = len(rows)
        for athlete in AthleteProfile.objects.order_by("pk").iterator():
            clients[athlete.pk] = services.athlete_export_write(
                archive, athlete, prefix=f"clients/{athlete.pk}/"
            )
        archive.writestr("README.txt", _tenant_readme(tenant, table_counts, clients))
    services.zip_publish(request, partial=partial, target=target, rel=rel)
    audit.record(
        action="tenant.export.build",
        actor_user_id=None,
        detail={"request_id": request.pk, "clients": len(clients)},
    )
    logger.info("tenant export built: request %s, %s clients", request.pk, len(clients))
    return request


def tenant_export_of(tenant: Tenant) -> DataRequest | None:
    """The tenant's newest offboarding export (any status)."""
    with tenant_context(tenant):
        return (
            DataRequest.objects.filter(kind=DataRequest.Kind.TENANT)
            .order_by("-requested_at", "-pk")
            .first()
        )


def tenant_export_token(request: DataRequest) -> str:
    """A link token for platform staff, valid `LINK_MAX_AGE` from now (a new one can be
    made until the tenant is deleted: the ZIP stays that long, for the hand-over)."""
    if request.kind != DataRequest.Kind.TENANT or request.status != DataRequest.Status.READY:
        raise OffboardingError("This tenant export is not ready.", code="not_ready")
    return signing.TimestampSigner(salt=_SALT).sign(f"{request.tenant_id}:{request.pk}")


def tenant_export_url(request: DataRequest) -> str:
    """The path of the staff download link (platform URL: no tenant prefix, the tenant
    itself is offboarded and 404s)."""
    from django.urls import reverse

    return reverse("privacy_tenant_export_download", args=[tenant_export_token(request)])


def tenant_export_by_token(token: str) -> tuple[Tenant, DataRequest]:
    """The ready tenant export a staff link names; OffboardingError when forged, expired
    or gone. Platform code: enters the tenant the signed token names."""
    bad = OffboardingError("This download link is invalid or has expired.", code="bad_link")
    try:
        value = signing.TimestampSigner(salt=_SALT).unsign(token, max_age=LINK_MAX_AGE)
        tenant_id, request_id = (int(part) for part in value.split(":"))
    except (signing.BadSignature, ValueError):
        raise bad from None
    tenant = coaching_selectors.tenant_by_id(tenant_id)
    if tenant is None or tenant.deleted_at is not None:
        raise bad
    with tenant_context(tenant):
        found = DataRequest.objects.filter(
            pk=request_id, kind=DataRequest.Kind.TENANT, status=DataRequest.Status.READY
        ).first()
    if found is None or not found.file:
        raise bad
    return tenant, found


def tenant_export_downloaded(*, tenant: Tenant, request: DataRequest, by: int) -> None:
    with tenant_context(tenant):
        audit.record(
            action="tenant.export.download", actor_user_id=by, detail={"request_id": request.pk}
        )


# --- Deletion ------------------------------------------------------------------------


def _tenant_fk(model: type[models.Model]) -> models.Field | None:
    for field in model._meta.concrete_fields:
        if field.is_relation and field.related_model is Tenant:
            return field
    return None


def models_with_tenant_rows() -> list[type[models.Model]]:
    """Every concrete model with a FK to the tenant (TenantScoped or platform data such
    as a tenant's billing account), walked from `apps.get_models()`."""
    return [
        model
        for model in apps.get_models()
        if not model._meta.proxy
        and model is not Tenant
        and (is_tenant_scoped(model) or _tenant_fk(model) is not None)
    ]


def deletion_order() -> list[type[models.Model]]:
    """The models whose rows a tenant deletion removes, referencing models before the
    ones they reference (RESTRICT/PROTECT FKs such as enrolment -> tier), so each delete
    finds nothing still pointing at it. A cycle keeps its members in label order."""
    targets = {
        m._meta.label: m
        for m in models_with_tenant_rows()
        if m._meta.label not in OUTLIVE_THE_TENANT
    }
    refers: dict[str, set[str]] = {label: set() for label in targets}
    for label, model in targets.items():
        for field in model._meta.concrete_fields:
            if field.is_relation and field.related_model is not None:
                target = field.related_model._meta.label
                if target in targets and target != label:
                    refers[label].add(target)
    order: list[str] = []
    pending = dict(refers)
    while pending:
        # Models nobody still pending refers to can go now.
        referenced = {t for label in pending for t in pending[label]}
        ready = sorted(label for label in pending if label not in referenced)
        if not ready:
            ready = sorted(pending)[:1]
        for label in ready:
            order.append(label)
            pending.pop(label)
    return [targets[label] for label in order]


def _rows_of_tenant(model: type[models.Model], tenant: Tenant) -> models.QuerySet:
    field = _tenant_fk(model) if not is_tenant_scoped(model) else None
    name = field.attname if field is not None else "tenant_id"
    return model._base_manager.filter(**{name: tenant.pk})


def _has_other_memberships(user_id: int) -> bool:
    """Whether the user belongs to any tenant but the current one, whatever its status
    (an offboarded tenant not yet deleted still holds their data). RLS shows a user's
    own memberships across tenants only with `app.user_id` set, for this transaction."""
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT set_config('app.user_id', %s, true)", [str(user_id)])
    try:
        return (
            Membership.objects.unscoped()
            .filter(user_id=user_id)
            .exclude(tenant_id=current_tenant().pk)
            .exists()
        )
    finally:
        if connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                cursor.execute("SELECT set_config('app.user_id', '', true)")


def _login_erase_if_unused(user_id: int) -> int:
    """Delete the login unless it is platform staff's or belongs to another tenant too.
    Runs in the tenant's context so what of this tenant still points at the user (its
    membership, invitations it accepted) goes or is unlinked with it."""
    user = get_user_model().objects.filter(pk=user_id).first()
    if user is None or user.is_staff or user.is_superuser or _has_other_memberships(user_id):
        return 0
    services.login_erase(user_id)
    return 1


def _remove_export_files(tenant_id: int) -> None:
    folder = Path(settings.PRIVATE_MEDIA_ROOT) / "exports" / str(tenant_id)
    shutil.rmtree(folder, ignore_errors=True)


def tenant_delete(*, tenant: Tenant, today: datetime.date | None = None) -> dict[str, int]:
    """Delete an offboarded tenant's data once `delete_after` has passed. Returns model
    label -> rows deleted by the sweep (empty when it had already run)."""
    tenant = Tenant.objects.get(pk=tenant.pk)
    if tenant.deleted_at is not None:
        return {}
    if tenant.status != Tenant.Status.OFFBOARDED or tenant.delete_after is None:
        raise OffboardingError(
            f"Tenant {tenant.slug} is not offboarded: offboard it first.", code="not_offboarded"
        )
    today = today or coaching_selectors.tenant_today(tenant)
    if today <= tenant.delete_after:
        raise OffboardingError(
            f"Tenant {tenant.slug} is kept until {tenant.delete_after}: deletion runs after.",
            code="too_early",
        )
    with tenant_context(tenant):
        # 1. Every client through the eraser registry, and their login when it belongs
        # nowhere else, one transaction each: a failure (e.g. Stripe down) stops here and
        # the next run resumes with who is left.
        erased = logins = 0
        for athlete in list(AthleteProfile.objects.order_by("pk")):
            with transaction.atomic():
                services.erase_now(athlete=athlete, requested_by=None)
                logins += _login_erase_if_unused(athlete.user_id)
            erased += 1
        # 2. The rest of the tenant, and the staff's logins that belong nowhere else.
        deleted: dict[str, int] = {}
        with transaction.atomic():
            consent.ledger_erasure_allow()
            user_ids = sorted(set(Membership.objects.values_list("user_id", flat=True)))
            for model in deletion_order():
                _, per_model = _rows_of_tenant(model, tenant).delete()
                for label, count in per_model.items():
                    if count:
                        deleted[label] = deleted.get(label, 0) + count
            for user_id in user_ids:
                logins += _login_erase_if_unused(user_id)
            Tenant.objects.filter(pk=tenant.pk).update(deleted_at=timezone.now())
            audit.record(
                action="tenant.delete",
                actor_user_id=None,
                detail={
                    "clients": erased,
                    "rows": sum(deleted.values()),
                    "models": len(deleted),
                    "logins": logins,
                },
            )
            transaction.on_commit(lambda: _remove_export_files(tenant.pk))
    logger.info(
        "tenant %s deleted: %s clients, %s rows, %s logins",
        tenant.pk,
        erased,
        sum(deleted.values()),
        logins,
    )
    return deleted


def tenants_due_for_deletion(today: datetime.date | None = None) -> list[Tenant]:
    found = Tenant.objects.filter(
        status=Tenant.Status.OFFBOARDED, deleted_at__isnull=True, delete_after__isnull=False
    ).order_by("delete_after", "pk")
    return [t for t in found if (today or coaching_selectors.tenant_today(t)) > t.delete_after]


def tenants_delete_due(today: datetime.date | None = None) -> int:
    """The beat task: every offboarded tenant past its retention period. One failure is
    logged and retried on the next run; the others still go."""
    done = 0
    for tenant in tenants_due_for_deletion(today):
        try:
            tenant_delete(tenant=tenant, today=today)
        except Exception as exc:  # noqa: BLE001 - one tenant must not stop the rest
            logger.error("tenant deletion failed: tenant %s (%s)", tenant.pk, type(exc).__name__)
            continue
        done += 1
    return done
