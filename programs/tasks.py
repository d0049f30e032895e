"""Celery entry points for programs. Thin: load ids, call one service; safe to run twice
(every step of a night is idempotent per athlete and date)."""

from __future__ import annotations

import datetime

from coaching.tasks import tenant_task


@tenant_task(name="programs.athlete_night", acks_late=True, reject_on_worker_lost=True)
def athlete_night(athlete_id: int, day: str) -> dict[str, object]:
    """One subscriber's programs steps for the finished day `day` (ISO date)."""
    from athletes.selectors import profile_by_id
    from programs import services

    result = services.athlete_night(
        athlete=profile_by_id(athlete_id), date=datetime.date.fromisoformat(day)
    )
    return {
        "run": result.run.pk,
        "applied": result.run.applied,
        "queued": result.run.queued,
        "alerts": result.alerts_raised,
    }
