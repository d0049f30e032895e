"""Writes of methodologies, their versions and tiers. One transaction each, validated
before saving; refusals are `DomainError`s with a code (the API maps them)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from decimal import Decimal
from typing import Any

from django.contrib.auth.models import AbstractBaseUser
from django.db import IntegrityError, transaction
from django.utils import timezone

from coaching import selectors
from coaching.errors import DomainError
from coaching.methodology import RulesInvalid, ValidatedRules, default_rules, validate_rules
from coaching.models import Methodology, MethodologyVersion, Tier
from coaching.tenancy import current_tenant


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
