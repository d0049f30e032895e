"""Writes of methodologies, their versions, tiers, coach assignments and alerts. One
transaction each, validated before saving; refusals are `DomainError`s with a code (the
API maps them)."""

from __future__ import annotations

import datetime
import json
import logging
from collections.abc import Mapping, Sequence
from decimal import Decimal
from typing import Any

from django.contrib.auth.models import AbstractBaseUser
from django.core.exceptions import ValidationError
from django.core.mail import send_mail
from django.core.serializers.json import DjangoJSONEncoder
from django.db import IntegrityError, transaction
from django.template.loader import render_to_string
from django.utils import timezone

from coaching import audit, selectors
from coaching.errors import DomainError
from coaching.methodology import RulesInvalid, ValidatedRules, default_rules, validate_rules
from coaching.models import Alert, Membership, Methodology, MethodologyVersion, Tier
from coaching.routing import tenant_home_url
from coaching.tenancy import current_tenant

logger = logging.getLogger(__name__)


class RulesDocumentInvalid(DomainError):
    code = "rules_invalid"
    status = 400


class VersionPublished(DomainError):
    code = "version_published"
    status = 409


class DraftExists(DomainError):
    code = "draft_exists"
    status = 409


class SlugTaken(DomainError):
    code = "slug_taken"
    status = 409


class MethodologyUnpublished(DomainError):
    code = "methodology_unpublished"
    status = 409


def rules_validate_for(*, methodology: Methodology, rules: Mapping[str, Any]) -> ValidatedRules:
    """The normalised document, or `rules_invalid` with one entry per dotted path.

    A document without `discipline` takes the methodology's; one with another
    discipline is an error at `discipline`.
    """
    errors: dict[str, list[str]] = {}
    if isinstance(rules, Mapping):
        given = rules.get("discipline", methodology.discipline)
        if given != methodology.discipline:
            errors["discipline"] = [
                f"must be {methodology.discipline!r}, the discipline of {methodology.name}"
            ]
        rules = {**rules, "discipline": methodology.discipline}
    try:
        validated = validate_rules(rules)
    except RulesInvalid as exc:
        errors = {**errors, **exc.errors}
    if errors:
        raise RulesDocumentInvalid("The rules document has errors; see fields.", fields=errors)
    return validated


def _save_unique(obj: Any, *, slug: str, update_fields: Sequence[str] | None = None) -> None:
    # Uniqueness is the database's to decide (no race); we turn it into a coded error.
    try:
        with transaction.atomic():
            obj.save(update_fields=update_fields)
    except IntegrityError as exc:
        if "slug" not in str(exc):  # PostgreSQL names the constraint, SQLite the column
            raise
        raise SlugTaken(
            f"The slug {slug!r} is already in use here; pick another.",
            fields={"slug": ["This slug is already in use."]},
        ) from exc


@transaction.atomic
def methodology_create(
    *, name: str, slug: str, discipline: str, description: str = ""
) -> Methodology:
    methodology = Methodology(name=name, slug=slug, discipline=discipline, description=description)
    methodology.assign_current_tenant()
    methodology.full_clean(validate_unique=False, validate_constraints=False)
    _save_unique(methodology, slug=slug)
    return methodology


@transaction.atomic
def version_draft_create(
    *,
    methodology: Methodology,
    rules: Mapping[str, Any] | None = None,
    notes: str = "",
    created_by: AbstractBaseUser | None = None,
) -> MethodologyVersion:
    """The next numbered draft. Without `rules` it starts from the latest version's
    rules (or the discipline's defaults for a first version)."""
    # Serialises numbering and the one-draft rule per methodology.
    methodology = selectors.methodology_for_update(methodology.pk)
    latest = selectors.latest_version(methodology)
    if latest is not None and not latest.is_published:
        raise DraftExists(
            f"Version {latest.number} (id {latest.pk}) is still a draft: edit or publish it first."
        )
    if rules is None:
        rules = latest.rules if latest is not None else default_rules(methodology.discipline)
    version = MethodologyVersion(
        methodology=methodology,
        number=latest.number + 1 if latest is not None else 1,
        rules=rules_validate_for(methodology=methodology, rules=rules),
        notes=notes,
        created_by=created_by,
    )
    version.assign_current_tenant()
    version.full_clean(validate_unique=False, validate_constraints=False)
    version.save()
    return version


def _locked_draft(version: MethodologyVersion) -> MethodologyVersion:
    locked = selectors.version_for_update(version.pk)
    if locked.is_published:
        raise VersionPublished(
            f"Version {locked.number} is published and never changes; create a new draft.",
        )
    return locked


@transaction.atomic
def version_draft_update(
    *,
    version: MethodologyVersion,
    rules: Mapping[str, Any] | None = None,
    notes: str | None = None,
) -> MethodologyVersion:
    """Edit a draft's rules and/or note; `None` leaves a field as it is."""
    version = _locked_draft(version)
    fields = []
    if rules is not None:
        version.rules = rules_validate_for(methodology=version.methodology, rules=rules)
        fields.append("rules")
    if notes is not None:
        version.notes = notes
        fields.append("notes")
    if fields:
        version.full_clean(validate_unique=False, validate_constraints=False)
        version.save(update_fields=fields)
    return version


@transaction.atomic
def version_publish(*, version: MethodologyVersion) -> MethodologyVersion:
    """Freeze a draft. Its rules are validated again: the contract may have moved on."""
    version = _locked_draft(version)
    version.rules = rules_validate_for(methodology=version.methodology, rules=version.rules)
    version.status = MethodologyVersion.Status.PUBLISHED
    version.published_at = timezone.now()
    version.full_clean(validate_unique=False, validate_constraints=False)
    version.save(update_fields=["rules", "status", "published_at"])
    return version


def _require_published(methodology: Methodology) -> None:
    if selectors.latest_published_version(methodology) is None:
        raise MethodologyUnpublished(
            f"{methodology.name} has no published version yet: publish one before "
            "selling it in an active tier.",
            fields={"methodology": ["Publish a version of this methodology first."]},
        )


@transaction.atomic
def tier_create(
    *,
    methodology: Methodology,
    name: str,
    slug: str,
    price: Decimal,
    autonomy: str,
    interval: str = Tier.Interval.MONTH,
    currency: str | None = None,
    checkin_cadence_days: int = 0,
    features: Sequence[str] = (),
    is_active: bool = True,
    sort_order: int = 0,
) -> Tier:
    """A tier selling `methodology`; the currency defaults to the tenant's. An active
    tier needs a published version (a client who signs up must get a plan)."""
    if is_active:
        _require_published(methodology)
    tier = Tier(
        methodology=methodology,
        name=name,
        slug=slug,
        price=price,
        currency=currency or current_tenant().currency,
        interval=interval,
        autonomy=autonomy,
        checkin_cadence_days=checkin_cadence_days,
        features=list(features),
        is_active=is_active,
        sort_order=sort_order,
    )
    tier.assign_current_tenant()
    tier.full_clean(validate_unique=False, validate_constraints=False)
    _save_unique(tier, slug=slug)
    return tier


@transaction.atomic
def tier_update(
    *,
    tier: Tier,
    methodology: Methodology | None = None,
    name: str | None = None,
    slug: str | None = None,
    price: Decimal | None = None,
    currency: str | None = None,
    interval: str | None = None,
    autonomy: str | None = None,
    checkin_cadence_days: int | None = None,
    features: Sequence[str] | None = None,
    is_active: bool | None = None,
    sort_order: int | None = None,
) -> Tier:
    """Change the given fields (`None` leaves one as it is). Prices of existing
    subscriptions are billing's business; this changes what new sign-ups see."""
    tier = selectors.tier_for_update(tier.pk)
    changes = {
        "methodology": methodology,
        "name": name,
        "slug": slug,
        "price": price,
        "currency": currency,
        "interval": interval,
        "autonomy": autonomy,
        "checkin_cadence_days": checkin_cadence_days,
        "features": list(features) if features is not None else None,
        "is_active": is_active,
        "sort_order": sort_order,
    }
    fields = [field for field, value in changes.items() if value is not None]
    for field in fields:
        setattr(tier, field, changes[field])
    if not fields:
        return tier
    if tier.is_active and ("is_active" in fields or "methodology" in fields):
        _require_published(tier.methodology)
    tier.full_clean(validate_unique=False, validate_constraints=False)
    _save_unique(tier, slug=tier.slug, update_fields=fields)
    return tier


# --- coach assignment and alerts (coach by exception) ---------------------------------


class AssignmentInvalid(DomainError):
    code = "assignment_invalid"
    status = 400


class AlertInvalid(DomainError):
    code = "alert_invalid"
    status = 400


class AlertNotFound(DomainError):
    """The decider may not see the alert: the same answer as a missing one."""

    code = "not_found"
    status = 404


class AlertTransitionRefused(DomainError):
    code = "alert_transition_refused"
    status = 409


def _same_tenant(membership: Membership) -> bool:
    return membership.tenant_id == current_tenant().pk


@transaction.atomic
def membership_assign_coach(
    *, client: Membership, coach: Membership | None, by: Membership | None = None
) -> Membership:
    """Route `client`'s alerts to `coach` (a coach or owner of the same business);
    `None` unassigns, so every coach and owner sees them again. `by` (the member making
    the change) is written to the audit log."""
    if not _same_tenant(client) or client.role != Membership.Role.CLIENT:
        raise AssignmentInvalid(
            "Only a client of this business can be assigned a coach.",
            fields={"client": ["Pick a client of this business."]},
        )
    if coach is not None and (
        not _same_tenant(coach) or coach.role not in selectors.ASSIGNABLE_COACH_ROLES
    ):
        raise AssignmentInvalid(
            "A client's coach must be a coach or owner of this business.",
            fields={"coach": ["Pick a coach or owner of this business."]},
        )
    client = Membership.objects.select_for_update().get(pk=client.pk)
    client.coach = coach
    client.save(update_fields=["coach"])
    audit.record(
        action="membership.assign_coach",
        actor_user_id=by.user_id if by is not None else None,
        subject_user_id=client.user_id,
        detail={"membership_id": client.pk, "coach_id": client.coach_id},
    )
    return client


def _validation_fields(exc: ValidationError) -> dict[str, list[str]]:
    if hasattr(exc, "error_dict"):
        return {field: list(messages) for field, messages in exc.message_dict.items()}
    return {"non_field_errors": list(exc.messages)}


@transaction.atomic
def alert_raise(
    *,
    client: Membership,
    kind: str,
    severity: int,
    title: str,
    evidence: Mapping[str, Any],
    dedupe_key: str,
    day: datetime.date,
) -> tuple[Alert, bool]:
    """Raise an alert about `client`, once per client and `dedupe_key`: `(alert, created)`.

    For detectors (programs, billing). Raising an existing key returns the existing
    alert unchanged, whatever its status: a resolved alert stays resolved, and a nightly
    re-run is a no-op. Put what makes the finding distinct into the key (rule, subject,
    period: "plateau:back-squat:2026-W47"), so a new finding gets a new alert.

    `title` is shown in the inbox and the digest e-mail: one sentence a coach may read,
    no measurements. `evidence` is a JSON object, conventionally
    `{"rule": str, "params": {...}, "points": [{...}, ...]}`; dates and Decimals are
    stored as ISO strings.
    """
    errors: dict[str, list[str]] = {}
    if not _same_tenant(client) or client.role != Membership.Role.CLIENT:
        errors["client"] = ["Alerts are about a client of this business."]
    if not isinstance(evidence, Mapping):
        errors["evidence"] = ["Give the evidence as a JSON object (rule, params, points)."]
    else:
        try:
            evidence = json.loads(json.dumps(evidence, cls=DjangoJSONEncoder))
        except (TypeError, ValueError):
            errors["evidence"] = ["The evidence must be JSON (numbers, text, dates, lists)."]
    alert = Alert(
        client=client,
        kind=kind,
        severity=severity,
        title=title.strip() if isinstance(title, str) else title,
        evidence=evidence,
        dedupe_key=dedupe_key,
        day=day,
    )
    alert.assign_current_tenant()
    try:
        alert.full_clean(exclude=list(errors), validate_unique=False, validate_constraints=False)
    except ValidationError as exc:
        errors.update(_validation_fields(exc))
    if errors:
        raise AlertInvalid("The alert has invalid fields; see fields.", fields=errors)

    existing = selectors.alert_by_dedupe_key(client, dedupe_key)
    if existing is not None:
        return existing, False
    try:
        with transaction.atomic():
            alert.save()
    except IntegrityError as exc:
        if "alert_unique_client_dedupe" not in str(exc) and "dedupe_key" not in str(exc):
            raise
        # A concurrent run raised the same key first: theirs is the alert.
        return selectors.alert_by_dedupe_key(client, dedupe_key), False
    logger.info("alert %s raised (%s, severity %s)", alert.pk, alert.kind, alert.severity)
    return alert, True


_DECISIONS: dict[str, tuple[set[str], str]] = {
    # decision -> (statuses it may start from, status it leaves)
    "acknowledge": ({Alert.Status.OPEN, Alert.Status.SNOOZED}, Alert.Status.ACKNOWLEDGED),
    "snooze": (
        {Alert.Status.OPEN, Alert.Status.ACKNOWLEDGED, Alert.Status.SNOOZED},
        Alert.Status.SNOOZED,
    ),
    "resolve": (
        {Alert.Status.OPEN, Alert.Status.ACKNOWLEDGED, Alert.Status.SNOOZED},
        Alert.Status.RESOLVED,
    ),
}
_PAST = {"acknowledge": "acknowledged", "snooze": "snoozed", "resolve": "resolved"}


def _decide(
    alert: Alert, by: Membership, decision: str, snoozed_until: datetime.date | None = None
) -> Alert:
    if not selectors.alerts_visible_to(by).filter(pk=alert.pk).exists():
        raise AlertNotFound("Not found.")
    alert = selectors.alert_for_update(alert.pk)
    allowed, target = _DECISIONS[decision]
    if alert.status not in allowed:
        who = selectors.client_label(alert.decided_by) if alert.decided_by else "someone"
        when = f" on {alert.decided_at:%Y-%m-%d}" if alert.decided_at else ""
        raise AlertTransitionRefused(
            f"This alert is already {alert.get_status_display().lower()} "
            f"(by {who}{when}); it cannot be {_PAST[decision]} now.",
        )
    alert.status = target
    alert.snoozed_until = snoozed_until
    alert.decided_by = by
    alert.decided_at = timezone.now()
    alert.save(update_fields=["status", "snoozed_until", "decided_by", "decided_at", "updated"])
    logger.info("alert %s %s by membership %s", alert.pk, target, by.pk)
    return alert


@transaction.atomic
def alert_acknowledge(*, alert: Alert, by: Membership) -> Alert:
    """The coach has seen it and is on it: it stays in the inbox, below new alerts.
    Acknowledging a snoozed alert ends the snooze."""
    return _decide(alert, by, "acknowledge")


@transaction.atomic
def alert_snooze(*, alert: Alert, by: Membership, until: datetime.date) -> Alert:
    """Hide the alert until `until` (a day after today on the business's calendar, at
    most a year ahead); on that day it is back in the inbox."""
    today = selectors.tenant_today()
    if not isinstance(until, datetime.date) or until <= today:
        raise AlertInvalid(
            "Snooze until a day after today.",
            fields={"until": [f"Pick a day after {today:%Y-%m-%d}."]},
        )
    if until > today + datetime.timedelta(days=366):
        raise AlertInvalid(
            "Snooze for at most a year; resolve the alert if it no longer matters.",
            fields={"until": ["Pick a day within a year."]},
        )
    return _decide(alert, by, "snooze", snoozed_until=until)


@transaction.atomic
def alert_resolve(*, alert: Alert, by: Membership) -> Alert:
    """Done with. A resolved alert never reopens, even if its detector raises the same
    key again; a new finding comes with a new key."""
    return _decide(alert, by, "resolve")


def alert_digest_send(*, coach: Membership, day: datetime.date) -> int:
    """E-mail `coach` the alerts that did not fit in their inbox on `day`; returns how
    many were listed (0: nothing sent). Titles only, never evidence: e-mail leaves our
    systems, and the numbers stay behind the login."""
    inbox = selectors.alert_inbox(coach, day)
    if not inbox.digest:
        return 0
    tenant = current_tenant()
    body = render_to_string(
        "coaching/alert_digest.txt",
        {
            "tenant": tenant,
            "day": day,
            "inbox": inbox,
            "rows": [(alert, selectors.client_label(alert.client)) for alert in inbox.digest],
            "url": tenant_home_url(tenant) + "alerts/",
        },
    )
    count = len(inbox.digest)
    subject = f"{tenant.name}: {count} more alert{'s' if count != 1 else ''} for {day:%d %b %Y}"
    send_mail(subject, body, None, [coach.user.email])
    logger.info("alert digest of %s alerts sent to membership %s", count, coach.pk)
    return count


# --- the methodology editor's one save ------------------------------------------------


@transaction.atomic
def version_draft_save(
    *,
    methodology: Methodology,
    rules: Mapping[str, Any],
    notes: str | None = None,
    created_by: AbstractBaseUser | None = None,
) -> MethodologyVersion:
    """Save `rules` as the methodology's draft: the open draft is edited, else the next
    one is created (published versions never change). Validated by the same
    `rules_validate_for` as the API, before anything is written: a refused document
    leaves the stored draft exactly as it was."""
    # The lock makes "is there a draft?" and the write one step (two tabs saving at once).
    methodology = selectors.methodology_for_update(methodology.pk)
    latest = selectors.latest_version(methodology)
    if latest is not None and not latest.is_published:
        return version_draft_update(version=latest, rules=rules, notes=notes)
    return version_draft_create(
        methodology=methodology, rules=rules, notes=notes or "", created_by=created_by
    )
