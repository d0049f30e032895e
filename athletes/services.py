"""Writes of athlete data. One transaction each, validated before saving."""

from __future__ import annotations

import datetime
from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from athletes import consent, selectors
from athletes.models import Assessment, AthleteProfile, CheckIn, CoachNote, Enrolment
from coaching import selectors as coaching_selectors
from coaching.errors import DomainError
from coaching.models import Membership, MethodologyVersion, Tier

# A morning report may be late (yesterday's) or entered the evening before in another
# zone; further in the future is a typo.
MAX_DAYS_AHEAD = 1

CHECKIN_FIELDS = (
    "sleep_hours", "sleep_quality", "soreness", "stress", "mood",
    "hrv_rmssd_ms", "resting_hr_bpm", "body_weight_kg", "notes",
)  # fmt: skip
PROFILE_FIELDS = (
    "display_name", "discipline", "sex", "birth_date", "height_cm", "training_age_years",
    "goal", "available_weekdays", "session_minutes", "equipment", "injuries", "coach_notes",
)  # fmt: skip


class DateInFuture(DomainError):
    code = "date_in_future"


def _not_in_future(field: str, day: datetime.date) -> None:
    if day > timezone.localdate() + datetime.timedelta(days=MAX_DAYS_AHEAD):
        raise DateInFuture(
            f"{day.isoformat()} is in the future.", fields={field: ["This date is in the future."]}
        )


@transaction.atomic
def checkin_upsert(
    *, athlete: AthleteProfile, date: datetime.date, **values: Any
) -> tuple[CheckIn, bool]:
    """One check-in per athlete and day: a second report for the day updates the first
    (only the fields given). Returns the check-in and whether it was created."""
    unknown = set(values) - set(CHECKIN_FIELDS)
    if unknown:
        raise DomainError(f"Unknown check-in fields: {', '.join(sorted(unknown))}.")
    # Consent gate (issue 8): a check-in is health data; none is stored without consent.
    consent.consent_require(athlete, consent.HEALTH_DATA)
    _not_in_future("date", date)
    checkin = CheckIn.objects.select_for_update().filter(athlete=athlete, date=date).first()
    created = checkin is None
    if created:
        checkin = CheckIn(athlete=athlete, date=date)
    for name, value in values.items():
        setattr(checkin, name, value)
    # What the client types wins over a device from now on (athletes.devices).
    device_fields = [f for f in checkin.device_fields or [] if f not in values]
    touched_device = device_fields != (checkin.device_fields or [])
    checkin.device_fields = device_fields
    checkin.assign_current_tenant()
    checkin.full_clean(validate_unique=False, validate_constraints=False)
    if created:
        checkin.save()
    else:
        extra = ["device_fields"] if touched_device else []
        checkin.save(update_fields=[*values, *extra, "updated"])
    return checkin, created


@transaction.atomic
def profile_update(*, profile: AthleteProfile, **values: Any) -> AthleteProfile:
    unknown = set(values) - set(PROFILE_FIELDS)
    if unknown:
        raise DomainError(f"Unknown profile fields: {', '.join(sorted(unknown))}.")
    for name, value in values.items():
        setattr(profile, name, value)
    profile.full_clean(validate_unique=False, validate_constraints=False)
    profile.save(update_fields=list(values))
    return profile


@transaction.atomic
def assessment_create(
    *,
    athlete: AthleteProfile,
    date: datetime.date,
    body_weight_kg: Decimal | None = None,
    body_fat_percent: Decimal | None = None,
    ftp_w: int | None = None,
    threshold_pace_s_per_km: int | None = None,
    hr_max_bpm: int | None = None,
    hr_rest_bpm: int | None = None,
    notes: str = "",
) -> Assessment:
    # Consent gate (issue 8): body measurements are health data.
    if body_weight_kg is not None or body_fat_percent is not None:
        consent.consent_require(athlete, consent.HEALTH_DATA)
    _not_in_future("date", date)
    assessment = Assessment(
        athlete=athlete,
        date=date,
        body_weight_kg=body_weight_kg,
        body_fat_percent=body_fat_percent,
        ftp_w=ftp_w,
        threshold_pace_s_per_km=threshold_pace_s_per_km,
        hr_max_bpm=hr_max_bpm,
        hr_rest_bpm=hr_rest_bpm,
        notes=notes,
    )
    assessment.assign_current_tenant()
    assessment.full_clean()
    assessment.save()
    return assessment


class EnrolmentInvalid(DomainError):
    code = "enrolment_invalid"


@transaction.atomic
def enrolment_create(
    *,
    athlete: AthleteProfile,
    tier: Tier,
    methodology_version: MethodologyVersion | None = None,
    started: datetime.date | None = None,
) -> Enrolment:
    """Put a client on a tier, at the methodology's latest published version unless one
    is named. An open enrolment is ended the day before (moving tiers or versions)."""
    started = started or timezone.localdate()
    version = methodology_version or coaching_selectors.latest_published_version(tier.methodology)
    if version is None or version.status != MethodologyVersion.Status.PUBLISHED:
        raise EnrolmentInvalid(
            "Enrol on a published methodology version.",
            fields={"methodology_version": ["This methodology has no published version."]},
        )
    if version.methodology_id != tier.methodology_id:
        raise EnrolmentInvalid(
            "The version belongs to another methodology than the tier.",
            fields={"methodology_version": ["Pick a version of the tier's methodology."]},
        )
    if not tier.is_active:
        raise EnrolmentInvalid("This tier is not on sale.", fields={"tier": ["Inactive tier."]})
    current = Enrolment.objects.select_for_update().filter(athlete=athlete, ended__isnull=True)
    for open_enrolment in current:
        open_enrolment.ended = max(open_enrolment.started, started - datetime.timedelta(days=1))
        open_enrolment.save(update_fields=["ended"])
    enrolment = Enrolment(athlete=athlete, tier=tier, methodology_version=version, started=started)
    enrolment.assign_current_tenant()
    enrolment.full_clean(validate_constraints=False)
    enrolment.save()
    return enrolment


# --- onboarding (issue 10): from a new client to their first plan ------------------------

ABOUT_FIELDS = ("display_name", "discipline", "sex", "birth_date", "height_cm", "goal")


class OnboardingInvalid(DomainError):
    """The questionnaire was refused; `section` names the part whose fields are in
    `fields` ("" for the core part: profile, schedule, baseline)."""

    code = "onboarding_invalid"

    def __init__(
        self,
        message: str,
        *,
        section: str = "",
        code: str | None = None,
        fields: dict | None = None,
    ):
        super().__init__(message, code=code, fields=fields)
        self.section = section


def _validation_fields(exc: ValidationError) -> dict[str, list[str]]:
    if hasattr(exc, "error_dict"):
        return {name: list(messages) for name, messages in exc.message_dict.items()}
    return {"__all__": list(exc.messages)}


@transaction.atomic
def onboarding_profile_create(*, membership: Membership, **values: Any) -> AthleteProfile:
    """The first step: a client member gets their profile (once; a second submit
    updates it). Everything else (consent, enrolment, baseline) hangs on it."""
    if membership.role != Membership.Role.CLIENT:
        raise OnboardingInvalid("Only clients have an athlete profile.", code="not_client")
    unknown = set(values) - set(ABOUT_FIELDS)
    if unknown:
        raise OnboardingInvalid(f"Unknown profile fields: {', '.join(sorted(unknown))}.")
    profile = AthleteProfile.objects.select_for_update().filter(user_id=membership.user_id).first()
    created = profile is None
    if created:
        profile = AthleteProfile(user_id=membership.user_id)
    for name, value in values.items():
        setattr(profile, name, value)
    profile.assign_current_tenant()
    try:
        if profile.birth_date:
            _not_in_future("birth_date", profile.birth_date)
        profile.full_clean(validate_unique=False, validate_constraints=False)
    except ValidationError as exc:
        fields = _validation_fields(exc)
        raise OnboardingInvalid(next(iter(fields.values()))[0], fields=fields) from exc
    except DateInFuture as exc:
        raise OnboardingInvalid(exc.message, fields=exc.fields) from exc
    if created:
        profile.save()
    else:
        profile.save(update_fields=list(values))
    return profile


@dataclass(frozen=True)
class Onboarded:
    athlete: AthleteProfile
    assessment: Assessment
    sections: tuple[str, ...]  # the sections applied (lifts and block, food and meal plan)


def onboarding_complete(
    *,
    athlete: AthleteProfile,
    available_weekdays: list[int],
    session_minutes: int,
    equipment: list[str],
    training_age_years: Decimal = Decimal("0"),
    injuries: str = "",
    body_weight_kg: Decimal | None = None,
    threshold_pace_s_per_km: int | None = None,
    ftp_w: int | None = None,
    sections: Mapping[str, Mapping[str, Any]] | None = None,
    start: datetime.date | None = None,
) -> Onboarded:
    """The questionnaire, all or nothing: schedule and equipment on the profile, the
    baseline as today's assessment, then every registered section in order (programs:
    main-lift bests and the first block; nutrition: preferences and the first meal
    plan). Any refusal rolls everything back and names the field, so the client fixes it
    and submits again with what they entered still on the page."""
    from athletes import onboarding

    if selectors.current_enrolment(athlete) is None:
        raise OnboardingInvalid(
            "Choose a tier first: your plan follows your coach's method for it.",
            code="not_enrolled",
        )
    if body_weight_kg is not None and not consent.has_consent(athlete, consent.HEALTH_DATA):
        raise OnboardingInvalid(
            "You haven't agreed to the use of health data, so we can't store your body"
            " weight: leave it empty or change your privacy choices.",
            fields={"body_weight_kg": ["Needs your consent to health data."]},
        )
    start = start or timezone.localdate()
    answers = sections or {}
    applied: list[str] = []
    with transaction.atomic():
        try:
            profile_update(
                profile=athlete,
                available_weekdays=available_weekdays,
                session_minutes=session_minutes,
                equipment=equipment,
                training_age_years=training_age_years,
                injuries=injuries,
            )
            assessment = assessment_create(
                athlete=athlete,
                date=start,
                body_weight_kg=body_weight_kg,
                threshold_pace_s_per_km=threshold_pace_s_per_km,
                ftp_w=ftp_w,
                notes="Baseline from the onboarding questionnaire.",
            )
        except ValidationError as exc:
            fields = _validation_fields(exc)
            raise OnboardingInvalid(next(iter(fields.values()))[0], fields=fields) from exc
        except DomainError as exc:
            raise OnboardingInvalid(exc.message, fields=exc.fields) from exc
        for section in onboarding.sections_for(athlete):
            context = onboarding.Context(
                athlete=athlete,
                assessment=assessment,
                start=start,
                data=answers.get(section.name, {}),
            )
            try:
                section.apply(context)
            except ValidationError as exc:
                fields = _validation_fields(exc)
                raise OnboardingInvalid(
                    next(iter(fields.values()))[0], section=section.name, fields=fields
                ) from exc
            except DomainError as exc:
                raise OnboardingInvalid(
                    exc.message, section=section.name, fields=exc.fields
                ) from exc
            applied.append(section.name)
    return Onboarded(athlete=athlete, assessment=assessment, sections=tuple(applied))


# --- coach notes (issue 10) -----------------------------------------------------------

COACH_NOTE_MAX_CHARS = 4000


class CoachNoteInvalid(DomainError):
    code = "coach_note_invalid"


@transaction.atomic
def coach_note_create(
    *, athlete: AthleteProfile, author: Membership, body: str, pinned: bool = False
) -> CoachNote:
    """A staff member writes a note about a client. Only staff write notes (a client
    never reads them: they are the coach's working context)."""
    if not selectors.is_staff(author):
        raise CoachNoteInvalid("Only coaches, owners and admins write notes about a client.")
    body = (body or "").strip()
    if not body:
        raise CoachNoteInvalid(
            "Write something first.", fields={"body": ["Write something first."]}
        )
    if len(body) > COACH_NOTE_MAX_CHARS:
        message = f"Keep a note under {COACH_NOTE_MAX_CHARS} characters."
        raise CoachNoteInvalid(message, fields={"body": [message]})
    note = CoachNote(athlete=athlete, author=author, body=body, pinned=pinned)
    note.assign_current_tenant()
    note.full_clean()
    note.save()
    return note


@transaction.atomic
def coach_note_delete(*, note: CoachNote, by: Membership) -> None:
    """Any staff member may remove a note (a coach leaving hands clients over); the
    audit log keeps who removed which note, never its text."""
    if not selectors.is_staff(by):
        raise CoachNoteInvalid("Only coaches, owners and admins remove notes.")
    from coaching import audit

    audit.record(
        action="coach_note.delete",
        actor_user_id=by.user_id,
        subject_user_id=note.athlete.user_id,
        detail={"note_id": note.pk, "athlete_id": note.athlete_id},
    )
    note.delete()
