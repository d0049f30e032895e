"""Writes of athlete data. One transaction each, validated before saving."""

from __future__ import annotations

import datetime
from decimal import Decimal

from django.db import IntegrityError, transaction

from athletes.models import AthleteProfile, CheckIn
from coaching.errors import DomainError


class CheckInExists(DomainError):
    code = "checkin_exists"
    status = 409


@transaction.atomic
def checkin_create(
    *,
    athlete: AthleteProfile,
    date: datetime.date,
    sleep_hours: Decimal | None = None,
    soreness: int | None = None,
    stress: int | None = None,
    hrv_rmssd_ms: Decimal | None = None,
    resting_hr_bpm: int | None = None,
    body_weight_kg: Decimal | None = None,
) -> CheckIn:
    checkin = CheckIn(
        athlete=athlete,
        date=date,
        sleep_hours=sleep_hours,
        soreness=soreness,
        stress=stress,
        hrv_rmssd_ms=hrv_rmssd_ms,
        resting_hr_bpm=resting_hr_bpm,
        body_weight_kg=body_weight_kg,
    )
    checkin.assign_current_tenant()
    # Uniqueness is the database's to decide (no race); we turn it into a coded error.
    checkin.full_clean(validate_unique=False, validate_constraints=False)
    try:
        with transaction.atomic():
            checkin.save()
    except IntegrityError as exc:
        raise CheckInExists(
            f"There is already a check-in for {date.isoformat()}; edit it instead.",
            fields={"date": ["A check-in for this date exists."]},
        ) from exc
    return checkin
