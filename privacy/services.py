"""Exports and erasures of a person's data (DESIGN.md, Privacy), driven by the registries
in `athletes/privacy.py` that every app fills from its `AppConfig.ready()`.

- Export: `export_request` → Celery `privacy.export_build` → a ZIP under
  `PRIVATE_MEDIA_ROOT` (one JSON file per exporter, CSV for tabular ones, README.txt),
  downloaded through a signed link that expires 24 h after the build.
- Erasure: `erasure_request` (grace period, cancellable) → `erasures_due` →
  `erasure_run`, every eraser in order inside one transaction; a failure rolls all of it
  back and the request stays scheduled for the next run.
- `account_erase`: the person deletes their account: every tenant, then the user.

Nothing here logs personal data: ids, counts and model labels only.
"""

from __future__ import annotations

import csv
import datetime
import io
import json
import logging
import os
import secrets
import zipfile
from base64 import b64encode
from pathlib import Path
from typing import Any

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.models import AbstractBaseUser
from django.contrib.sessions.models import Session
from django.core import signing
from django.core.serializers.json import DjangoJSONEncoder
from django.db import DatabaseError, transaction
from django.utils import timezone

from athletes import consent
from athletes.models import AthleteProfile
from athletes.privacy import EXPORTERS, collecting_notes, erasers_in_order
from coaching import audit
from coaching import selectors as coaching_selectors
from coaching.errors import DomainError
from coaching.models import Membership, MethodologyVersion
from coaching.tenancy import current_tenant, tenant_context
from privacy.models import DataRequest

logger = logging.getLogger(__name__)

ERASURE_GRACE = datetime.timedelta(days=14)
LINK_MAX_AGE = datetime.timedelta(hours=24)
_SALT = "privacy.export.download"


class PrivacyError(DomainError):
    code = "privacy"
    status = 409


# --- Export --------------------------------------------------------------------------


def export_request(*, athlete: AthleteProfile, requested_by: int | None) -> DataRequest:
    """Queue an export; the ZIP is built by a task once this transaction commits."""
    row = DataRequest(
        athlete=athlete,
        kind=DataRequest.Kind.EXPORT,
        status=DataRequest.Status.PENDING,
        requested_by=requested_by,
    )
    row.full_clean()
    row.save()
    tenant_id, request_id = row.tenant_id, row.pk

    def enqueue() -> None:
        from privacy import tasks

        tasks.export_build.delay(tenant_id, request_id)

    transaction.on_commit(enqueue)
    audit.record(
        action="export.request",
        actor_user_id=requested_by,
        subject_user_id=athlete.user_id,
        detail={"request_id": row.pk},
    )
    return row


class _Encoder(DjangoJSONEncoder):
    def default(self, o: Any) -> Any:
        if isinstance(o, bytes | memoryview):
            return b64encode(bytes(o)).decode("ascii")
        return super().default(o)


def _cell(value: Any) -> Any:
    """One CSV cell: JSON for nested values, ISO text for dates and decimals."""
    if value is None:
        return ""
    if isinstance(value, dict | list):
        return json.dumps(value, cls=_Encoder)
    if isinstance(value, str | int | float | bool):
        return value
    return _Encoder().default(value)


def _csv(rows: list[dict[str, Any]]) -> str:
    if not rows:
        return ""
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=list(rows[0]))
    writer.writeheader()
    for row in rows:
        writer.writerow({key: _cell(value) for key, value in row.items()})
    return out.getvalue()


def _readme(counts: dict[str, tuple[str, int, bool]], athlete: AthleteProfile) -> str:
    tenant = current_tenant()
    lines = [
        "Your data export",
        "================",
        "",
        f"Coaching business: {tenant.name} ({tenant.slug})",
        f"Created: {timezone.now().isoformat(timespec='seconds')}",
        f"Athlete id: {athlete.pk}",
        "",
        "Only this coaching business's copy of your data is here; another business you",
        "are a client of answers for its own. Each file NAME.json is a list of rows, one",
        "per record, with every stored field (ids of related records as numbers). Files",
        "marked CSV also come as NAME.csv for spreadsheets. Secrets (password hashes,",
        "API token keys, two-factor secrets) are left out on purpose.",
        "",
        "File                              Rows  Model",
    ]
    for name, (label, count, tabular) in sorted(counts.items()):
        files = f"{name}.json" + (" + .csv" if tabular else "")
        lines.append(f"{files:<32} {count:>6}  {label}")
    return "\n".join(lines) + "\n"


def export_build(*, request: DataRequest) -> DataRequest:
    """Build the ZIP for one export request. Safe to run twice: a finished request is
    left alone; a half-written file never becomes visible (written, then renamed)."""
    if request.kind != DataRequest.Kind.EXPORT or request.status != DataRequest.Status.PENDING:
        return request
    athlete = request.athlete
    if athlete is None:
        request.status, request.error = DataRequest.Status.FAILED, "The athlete no longer exists."
        request.finished_at = timezone.now()
        request.save(update_fields=["status", "error", "finished_at"])
        return request
    root = Path(settings.PRIVATE_MEDIA_ROOT)
    rel = Path("exports") / str(request.tenant_id) / f"{request.pk}-{secrets.token_hex(8)}.zip"
    target = root / rel
    target.parent.mkdir(parents=True, exist_ok=True)
    partial = target.with_suffix(".part")
    counts: dict[str, tuple[str, int, bool]] = {}
    with zipfile.ZipFile(partial, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for exporter in sorted(EXPORTERS.values(), key=lambda e: e.name):
            rows = [dict(r) for r in exporter.rows(athlete)]
            archive.writestr(f"{exporter.name}.json", json.dumps(rows, cls=_Encoder, indent=1))
            if exporter.tabular:
                archive.writestr(f"{exporter.name}.csv", _csv(rows))
            counts[exporter.name] = (exporter.model._meta.label, len(rows), exporter.tabular)
        archive.writestr("README.txt", _readme(counts, athlete))
    os.replace(partial, target)
    request.file = str(rel)
    request.status = DataRequest.Status.READY
    request.finished_at = timezone.now()
    try:
        request.save(update_fields=["file", "status", "finished_at"])
    except DatabaseError:
        # The request went meanwhile (erased): its ZIP must not outlive it.
        target.unlink(missing_ok=True)
        raise
    audit.record(
        action="export.build",
        actor_user_id=None,
        subject_user_id=athlete.user_id,
        detail={"request_id": request.pk, "files": len(counts)},
    )
    logger.info("export built: request %s, %s files", request.pk, len(counts))
    return request


class _BuiltAtSigner(signing.TimestampSigner):
    """Signs with the build time instead of now, so every link to one ZIP expires 24 h
    after the ZIP was built, however often the page shows it."""

    def __init__(self, at: datetime.datetime) -> None:
        super().__init__(salt=_SALT)
        self._at = at

    def timestamp(self) -> str:
        return signing.b62_encode(int(self._at.timestamp()))


def download_token(request: DataRequest) -> str:
    if request.status != DataRequest.Status.READY or request.finished_at is None:
        raise PrivacyError("This export is not ready.", code="not_ready")
    return _BuiltAtSigner(request.finished_at).sign(f"{request.tenant_id}:{request.pk}")


def export_expired(request: DataRequest) -> bool:
    return request.finished_at is None or timezone.now() - request.finished_at > LINK_MAX_AGE


def export_by_token(token: str) -> DataRequest:
    """The ready export a link names, in the current tenant; PrivacyError when the link is
    forged, expired, of another tenant or of an export that is gone."""
    try:
        value = signing.TimestampSigner(salt=_SALT).unsign(token, max_age=LINK_MAX_AGE)
        tenant_id, request_id = (int(part) for part in value.split(":"))
    except (signing.BadSignature, ValueError):
        raise PrivacyError(
            "This download link is invalid or has expired.", code="bad_link"
        ) from None
    found = DataRequest.objects.filter(
        pk=request_id, kind=DataRequest.Kind.EXPORT, status=DataRequest.Status.READY
    ).first()
    if tenant_id != current_tenant().pk or found is None or not found.file:
        raise PrivacyError("This download link is invalid or has expired.", code="bad_link")
    return found


def export_path(request: DataRequest) -> Path:
    return Path(settings.PRIVATE_MEDIA_ROOT) / request.file


def export_downloaded(*, request: DataRequest, by: int) -> None:
    """Audit: someone fetched a person's export (staff fetching a client's shows up)."""
    audit.record(
        action="export.download",
        actor_user_id=by,
        subject_user_id=request.athlete.user_id if request.athlete else None,
        detail={"request_id": request.pk},
    )


def exports_prune(now: datetime.datetime | None = None) -> int:
    """Delete the ZIPs of the current tenant whose link has expired: a copy of someone's
    health data should not sit on disk longer than the link that serves it."""
    cutoff = (now or timezone.now()) - LINK_MAX_AGE
    stale = list(
        DataRequest.objects.filter(
            kind=DataRequest.Kind.EXPORT, status=DataRequest.Status.READY, finished_at__lt=cutoff
        )
    )
    for row in stale:
        export_path(row).unlink(missing_ok=True)
        row.file, row.status = "", DataRequest.Status.EXPIRED
        row.save(update_fields=["file", "status"])
    return len(stale)


# --- Erasure -------------------------------------------------------------------------


def erasure_request(
    *, athlete: AthleteProfile, requested_by: int | None, grace: datetime.timedelta | None = None
) -> DataRequest:
    """Schedule the erasure of the athlete's data in this tenant after the grace period;
    asking again returns the request already scheduled."""
    existing = DataRequest.objects.filter(
        athlete=athlete, kind=DataRequest.Kind.ERASURE, status=DataRequest.Status.SCHEDULED
    ).first()
    if existing is not None:
        return existing
    now = timezone.now()
    row = DataRequest(
        athlete=athlete,
        kind=DataRequest.Kind.ERASURE,
        status=DataRequest.Status.SCHEDULED,
        requested_by=requested_by,
        requested_at=now,
        due_at=now + (ERASURE_GRACE if grace is None else grace),
    )
    row.full_clean()
    row.save()
    audit.record(
        action="erasure.request",
        actor_user_id=requested_by,
        subject_user_id=athlete.user_id,
        detail={"request_id": row.pk, "grace_days": (row.due_at - now).days},
    )
    return row


def erasure_cancel(*, request: DataRequest, by: int | None) -> DataRequest:
    if request.kind != DataRequest.Kind.ERASURE or request.status != DataRequest.Status.SCHEDULED:
        raise PrivacyError("Only a scheduled erasure can be cancelled.", code="not_scheduled")
    request.status = DataRequest.Status.CANCELLED
    request.finished_at = timezone.now()
    request.save(update_fields=["status", "finished_at"])
    audit.record(
        action="erasure.cancel",
        actor_user_id=by,
        subject_user_id=request.athlete.user_id if request.athlete else None,
        detail={"request_id": request.pk},
    )
    return request


def erasures_due(now: datetime.datetime | None = None) -> list[DataRequest]:
    """Scheduled erasures of the current tenant whose grace period is over."""
    return list(
        DataRequest.objects.filter(
            kind=DataRequest.Kind.ERASURE,
            status=DataRequest.Status.SCHEDULED,
            due_at__lte=now or timezone.now(),
        ).order_by("due_at", "pk")
    )


def erasure_run(*, request: DataRequest) -> DataRequest:
    """Run every registered eraser for the request's athlete, in order, in one
    transaction (with `app.erasure` on, which the consent ledger's trigger requires). An
    error rolls everything back; the request keeps its status and records the error
    type, and the next run retries."""
    try:
        with transaction.atomic():
            consent.ledger_erasure_allow()  # SET LOCAL app.erasure = 'on'
            row = DataRequest.objects.select_for_update().get(pk=request.pk)
            if row.kind != DataRequest.Kind.ERASURE or row.status != DataRequest.Status.SCHEDULED:
                return row
            athlete = row.athlete
            person = athlete.user_id if athlete is not None else None
            counts: dict[str, int] = {}
            with collecting_notes() as notes:
                if athlete is not None:
                    for eraser in erasers_in_order():
                        if not eraser.account_level:
                            counts[eraser.model._meta.label] = eraser.erase(athlete)
            row.athlete = None
            if row.requested_by == person:
                row.requested_by = None
            row.status = DataRequest.Status.DONE
            row.finished_at = timezone.now()
            row.error = ""
            row.notes = notes
            row.save(
                update_fields=["athlete", "requested_by", "status", "finished_at", "error", "notes"]
            )
            # No personal data: the request id and how many rows of each model went.
            audit.record(
                action="erasure.done",
                actor_user_id=row.requested_by,
                subject_user_id=None,
                detail={
                    "request_id": row.pk,
                    "rows": sum(counts.values()),
                    "models": len([c for c in counts.values() if c]),
                },
            )
    except Exception as exc:
        DataRequest.objects.filter(pk=request.pk).update(error=type(exc).__name__)
        # The type only: a database error's message can quote the row's values.
        logger.error("erasure failed: request %s (%s)", request.pk, type(exc).__name__)
        raise
    logger.info("erasure done: request %s, %s rows", row.pk, sum(counts.values()))
    return row


def erasures_run_due() -> int:
    """Every tenant's due erasures and expired export files (the beat task). A failing
    erasure doesn't stop the rest."""
    done = 0
    for tenant in coaching_selectors.all_tenants():
        with tenant_context(tenant):
            exports_prune()
            for row in erasures_due():
                try:
                    erasure_run(request=row)
                    done += 1
                except Exception:  # noqa: BLE001, S112 - logged in erasure_run; retried next run
                    continue
    return done


def account_erase(user: AbstractBaseUser) -> dict[int, int]:
    """The person deletes their account: erase their data in every tenant they belong
    to (no grace: they asked, now), then the user with its login rows (e-mail addresses,
    authenticators, tokens, sessions). Returns tenant id → erased request id."""
    erased: dict[int, int] = {}
    for membership in coaching_selectors.memberships_of_user_across_tenants(user):
        tenant = membership.tenant
        with tenant_context(tenant), transaction.atomic():
            athlete = AthleteProfile.objects.filter(user_id=user.pk).first()
            if athlete is not None:
                row = erasure_request(athlete=athlete, requested_by=user.pk)
                row.due_at = timezone.now()
                row.save(update_fields=["due_at"])
                erased[tenant.pk] = erasure_run(request=row).pk
            # Staff rows keep the work, not the author.
            MethodologyVersion.objects.filter(created_by_id=user.pk).update(created_by=None)
            Membership.objects.filter(user_id=user.pk).delete()
    with transaction.atomic():
        for session in Session.objects.iterator():
            if str(session.get_decoded().get("_auth_user_id")) == str(user.pk):
                session.delete()
        get_user_model().objects.filter(pk=user.pk).delete()
        audit.record(action="account.erase", actor_user_id=None, detail={"tenants": len(erased)})
    return erased
