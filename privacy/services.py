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

import calendar
import csv
import datetime
import io
import json
import logging
import os
import secrets
import zipfile
import zoneinfo
from base64 import b64encode
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.models import AbstractBaseUser
from django.contrib.sessions.models import Session
from django.core import signing
from django.core.serializers.json import DjangoJSONEncoder
from django.db import DatabaseError, transaction
from django.db.models import Q
from django.utils import timezone

from athletes import consent
from athletes.models import AthleteProfile
from athletes.privacy import EXPORTERS, collecting_notes, erasers_in_order
from coaching import audit
from coaching import selectors as coaching_selectors
from coaching.errors import DomainError
from coaching.models import Membership, MethodologyVersion, Tenant
from coaching.tenancy import current_tenant, tenant_context
from privacy import notify
from privacy.models import DataRequest, RetentionPolicy

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


ExportCounts = dict[str, tuple[str, int, bool]]


def write_json_csv(
    archive: zipfile.ZipFile, stem: str, rows: list[dict[str, Any]], *, tabular: bool
) -> None:
    """One data type into the ZIP: `stem`.json always, `stem`.csv for tables."""
    archive.writestr(f"{stem}.json", json.dumps(rows, cls=_Encoder, indent=1))
    if tabular:
        archive.writestr(f"{stem}.csv", _csv(rows))


def athlete_export_write(
    archive: zipfile.ZipFile, athlete: AthleteProfile, *, prefix: str = ""
) -> ExportCounts:
    """Everything every exporter holds on `athlete` (current tenant), plus a README, into
    `archive` under `prefix` ("" for a person's own export, "clients/12/" inside a
    tenant's offboarding export). Returns exporter name -> (model label, rows, tabular)."""
    counts: ExportCounts = {}
    for exporter in sorted(EXPORTERS.values(), key=lambda e: e.name):
        rows = [dict(r) for r in exporter.rows(athlete)]
        write_json_csv(archive, f"{prefix}{exporter.name}", rows, tabular=exporter.tabular)
        counts[exporter.name] = (exporter.model._meta.label, len(rows), exporter.tabular)
    archive.writestr(f"{prefix}README.txt", _readme(counts, athlete))
    return counts


def zip_publish(request: DataRequest, *, partial: Path, target: Path, rel: Path) -> None:
    """Move a finished ZIP into place and mark its request ready. If the request went
    meanwhile (erased), the ZIP must not outlive it."""
    os.replace(partial, target)
    request.file = str(rel)
    request.status = DataRequest.Status.READY
    request.finished_at = timezone.now()
    try:
        request.save(update_fields=["file", "status", "finished_at"])
    except DatabaseError:
        target.unlink(missing_ok=True)
        raise


def export_build(*, request: DataRequest) -> DataRequest:
    """Build the ZIP for one export request. Safe to run twice: a finished request is
    left alone; a half-written file never becomes visible (written, then renamed). The
    athlete is e-mailed the link once the build is committed."""
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
    with zipfile.ZipFile(partial, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        counts = athlete_export_write(archive, athlete)
    zip_publish(request, partial=partial, target=target, rel=rel)
    audit.record(
        action="export.build",
        actor_user_id=None,
        subject_user_id=athlete.user_id,
        detail={"request_id": request.pk, "files": len(counts)},
    )
    logger.info("export built: request %s, %s files", request.pk, len(counts))
    tenant = current_tenant()
    transaction.on_commit(lambda: _export_ready_mail(tenant, request))
    return request


def _export_ready_mail(tenant: Tenant, request: DataRequest) -> None:
    link = notify.tenant_url(tenant, "privacy_download", download_token(request))
    notify.export_ready(request, link=link, expires=request.finished_at + LINK_MAX_AGE)


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
    *,
    athlete: AthleteProfile,
    requested_by: int | None,
    grace: datetime.timedelta | None = None,
    notify_person: bool = True,
) -> DataRequest:
    """Schedule the erasure of the athlete's data in this tenant after the grace period;
    asking again returns the request already scheduled. The person is e-mailed the date
    and how to cancel (`notify_person=False` for erasures that run at once: retention,
    account deletion, tenant deletion)."""
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
    if notify_person:
        tenant = current_tenant()
        transaction.on_commit(lambda: _erasure_mail(tenant, row, notify.erasure_scheduled))
    return row


def _erasure_mail(tenant: Tenant, request: DataRequest, send: Any) -> None:
    """E-mail the person an erasure's news, with the link to their privacy page."""
    if request.athlete is None:
        return
    send(request, link=notify.tenant_url(tenant, "privacy"))


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
    tenant = current_tenant()
    transaction.on_commit(lambda: _erasure_mail(tenant, request, notify.erasure_cancelled))
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


REMINDER_BEFORE = datetime.timedelta(days=2)


def erasure_reminders_due(now: datetime.datetime | None = None) -> list[DataRequest]:
    """Scheduled erasures of the current tenant due within `REMINDER_BEFORE` whose
    person has not been reminded yet."""
    now = now or timezone.now()
    return list(
        DataRequest.objects.filter(
            kind=DataRequest.Kind.ERASURE,
            status=DataRequest.Status.SCHEDULED,
            reminded_at__isnull=True,
            athlete__isnull=False,
            due_at__gt=now,
            due_at__lte=now + REMINDER_BEFORE,
        ).order_by("due_at", "pk")
    )


def erasure_remind(*, request: DataRequest, now: datetime.datetime | None = None) -> bool:
    """E-mail one reminder and mark it sent, in one transaction: a failed send leaves the
    request unmarked for the next run; a reminder already sent is not sent again."""
    with transaction.atomic():
        row = (
            DataRequest.objects.select_for_update()
            .filter(pk=request.pk, status=DataRequest.Status.SCHEDULED, reminded_at__isnull=True)
            .first()
        )
        if row is None or row.athlete is None:
            return False
        notify.erasure_reminder(row, link=notify.tenant_url(current_tenant(), "privacy"))
        row.reminded_at = now or timezone.now()
        row.save(update_fields=["reminded_at"])
    return True


def erasure_reminders_send(now: datetime.datetime | None = None) -> int:
    """Every tenant's reminders, two days before an erasure runs (the beat task). A
    failing send is logged and retried on the next run; the others still go."""
    sent = 0
    for tenant in coaching_selectors.all_tenants():
        with tenant_context(tenant):
            for row in erasure_reminders_due(now):
                try:
                    sent += erasure_remind(request=row, now=now)
                except Exception as exc:  # noqa: BLE001 - one failure must not stop the rest
                    logger.error(
                        "erasure reminder failed: request %s (%s)", row.pk, type(exc).__name__
                    )
    return sent


def erase_now(*, athlete: AthleteProfile, requested_by: int | None) -> DataRequest:
    """Erase the athlete's data in the current tenant at once, through the same request
    and erasers as a scheduled erasure (account deletion, tenant deletion). Runs inside
    the caller's transaction when there is one."""
    with transaction.atomic():
        row = erasure_request(
            athlete=athlete,
            requested_by=requested_by,
            grace=datetime.timedelta(0),
            notify_person=False,
        )
        if row.due_at > timezone.now():  # one already scheduled: due now instead
            row.due_at = timezone.now()
            row.save(update_fields=["due_at"])
        return erasure_run(request=row)


def login_erase(user_id: int) -> None:
    """Delete a login: its sessions, then the user with what cascades from it (e-mail
    addresses, authenticators, API tokens). Platform rows only: call it once the
    person's tenant data is gone."""
    with transaction.atomic():
        for session in Session.objects.iterator():
            if str(session.get_decoded().get("_auth_user_id")) == str(user_id):
                session.delete()
        get_user_model().objects.filter(pk=user_id).delete()


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
                erased[tenant.pk] = erase_now(athlete=athlete, requested_by=user.pk).pk
            # Staff rows keep the work, not the author.
            MethodologyVersion.objects.filter(created_by_id=user.pk).update(created_by=None)
            Membership.objects.filter(user_id=user.pk).delete()
    with transaction.atomic():
        login_erase(user.pk)
        audit.record(action="account.erase", actor_user_id=None, detail={"tenants": len(erased)})
    return erased


# --- Retention -----------------------------------------------------------------------
# Per-tenant policy (`RetentionPolicy`): a client inactive for longer than
# `inactive_months` is erased by the scheduled run, through the same erasers as a
# requested erasure. Inactive = no open enrolment, no live subscription, no open
# entitlement; the clock starts at the latest end among enrolments and subscriptions (or,
# never enrolled nor subscribed, at the profile's creation). The latest end, not the
# enrolment's alone: a client who kept paying after their programme ended is not
# inactive from the programme's end.

LIVE_SUBSCRIPTION = ("trialing", "active", "past_due")
OPEN_ENTITLEMENT = ("active", "grace")


@dataclass(frozen=True)
class Candidate:
    """One client the policy would erase: why (`reason`) and since when (`since`)."""

    athlete_id: int
    reason: str  # "enrolment_ended" | "subscription_ended" | "never_enrolled"
    since: datetime.date


@dataclass
class RetentionReport:
    tenant_slug: str
    inactive_months: int
    enabled: bool
    cutoff: datetime.date
    dry_run: bool
    candidates: list[Candidate] = field(default_factory=list)
    erased: dict[int, int] = field(default_factory=dict)  # athlete id -> DataRequest id
    failed: list[int] = field(default_factory=list)  # athlete ids left for the next run


def retention_policy() -> RetentionPolicy:
    """The current tenant's policy; the defaults (24 months, on) when none was saved. Not
    saved here: reading the policy must not write."""
    return RetentionPolicy.objects.first() or RetentionPolicy()


def months_before(day: datetime.date, months: int) -> datetime.date:
    """The same day of the month `months` earlier, clamped to the month's last day (31
    March minus one month is 28/29 February)."""
    index = day.year * 12 + day.month - 1 - months
    year, month = divmod(index, 12)
    month += 1
    last = calendar.monthrange(year, month)[1]
    return datetime.date(year, month, min(day.day, last))


def _local_date(value: datetime.datetime, tz: zoneinfo.ZoneInfo) -> datetime.date:
    return timezone.localtime(value, tz).date()


def retention_candidates(today: datetime.date) -> list[Candidate]:
    """Clients of the current tenant past the retention period on `today` (the tenant's
    calendar). Empty when the policy is disabled."""
    from athletes.models import Enrolment
    from billing.models import Entitlement, Subscription

    policy = retention_policy()
    if not policy.enabled:
        return []
    cutoff = months_before(today, policy.inactive_months)
    tz = zoneinfo.ZoneInfo(current_tenant().timezone)
    start_of_today = datetime.datetime.combine(today, datetime.time.min, tzinfo=tz)

    active: set[int] = set(
        Enrolment.objects.filter(Q(ended__isnull=True) | Q(ended__gte=today)).values_list(
            "athlete_id", flat=True
        )
    )
    active |= set(
        Subscription.objects.filter(status__in=LIVE_SUBSCRIPTION).values_list(
            "athlete_id", flat=True
        )
    )
    active |= set(
        Entitlement.objects.filter(status__in=OPEN_ENTITLEMENT)
        .filter(Q(until__isnull=True) | Q(until__gte=start_of_today))
        .values_list("athlete_id", flat=True)
    )

    last: dict[int, tuple[datetime.date, str]] = {}

    def seen(athlete_id: int, day: datetime.date, reason: str) -> None:
        if athlete_id not in last or day > last[athlete_id][0]:
            last[athlete_id] = (day, reason)

    for athlete_id, ended in Enrolment.objects.filter(ended__isnull=False).values_list(
        "athlete_id", "ended"
    ):
        seen(athlete_id, ended, "enrolment_ended")
    for athlete_id, *ends in Subscription.objects.values_list(
        "athlete_id", "canceled_at", "current_period_end", "updated"
    ):
        # The latest date Stripe told us of: when it stopped, or the period it ran to.
        known = [e for e in ends[:2] if e is not None] or [ends[2]]
        seen(athlete_id, max(_local_date(e, tz) for e in known), "subscription_ended")

    found: list[Candidate] = []
    for athlete_id, created in AthleteProfile.objects.values_list("pk", "created").order_by("pk"):
        if athlete_id in active:
            continue
        since, reason = last.get(athlete_id, (_local_date(created, tz), "never_enrolled"))
        if since < cutoff:
            found.append(Candidate(athlete_id=athlete_id, reason=reason, since=since))
    return found


def _retention_erase(candidate: Candidate, months: int) -> DataRequest:
    """Erase one candidate now: an erasure request due immediately (no grace: the policy
    is the notice), run by `erasure_run`, its notes saying it was retention."""
    with transaction.atomic():
        athlete = AthleteProfile.objects.select_for_update().get(pk=candidate.athlete_id)
        row = erasure_request(
            athlete=athlete,
            requested_by=None,
            grace=datetime.timedelta(0),
            notify_person=False,
        )
        if row.due_at > timezone.now():  # a request already scheduled: due now instead
            row.due_at = timezone.now()
            row.save(update_fields=["due_at"])
        row = erasure_run(request=row)
        why = f"reason: retention ({candidate.reason} {candidate.since.isoformat()}, "
        row.notes = [why + f"policy {months} months)", *row.notes]
        row.save(update_fields=["notes"])
        audit.record(
            action="erasure.retention",
            actor_user_id=None,
            subject_user_id=None,
            detail={"request_id": row.pk, "reason": candidate.reason, "months": months},
        )
    return row


def retention_apply(today: datetime.date, *, dry_run: bool = True) -> RetentionReport:
    """The current tenant's retention run: the candidates, and unless `dry_run` their
    erasure, one transaction each (a failure is logged and left for the next run; the
    others still go)."""
    policy = retention_policy()
    report = RetentionReport(
        tenant_slug=current_tenant().slug,
        inactive_months=policy.inactive_months,
        enabled=policy.enabled,
        cutoff=months_before(today, policy.inactive_months),
        dry_run=dry_run,
        candidates=retention_candidates(today),
    )
    if dry_run:
        return report
    for candidate in report.candidates:
        try:
            row = _retention_erase(candidate, policy.inactive_months)
        except Exception as exc:  # noqa: BLE001 - one client's failure must not stop the rest
            logger.error(
                "retention erasure failed: athlete %s (%s)",
                candidate.athlete_id,
                type(exc).__name__,
            )
            report.failed.append(candidate.athlete_id)
            continue
        report.erased[candidate.athlete_id] = row.pk
    logger.info(
        "retention run: tenant %s, %s erased, %s failed",
        report.tenant_slug,
        len(report.erased),
        len(report.failed),
    )
    return report


def retention_run_all() -> dict[str, int]:
    """The scheduled task: every tenant, in its context, on its own calendar, for real.
    Returns tenant slug → clients erased."""
    erased: dict[str, int] = {}
    for tenant in coaching_selectors.all_tenants():
        with tenant_context(tenant):
            report = retention_apply(coaching_selectors.tenant_today(tenant), dry_run=False)
            erased[tenant.slug] = len(report.erased)
    return erased
