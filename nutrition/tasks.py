"""Celery entry points for nutrition. Thin: load ids, call one service; safe to run twice
(`plan_nutrition` is idempotent per athlete and date)."""

from __future__ import annotations

import datetime

from coaching.tasks import tenant_task


@tenant_task(name="nutrition.plan_nutrition", acks_late=True, reject_on_worker_lost=True)
def plan_nutrition(athlete_id: int, day: str) -> dict[str, object]:
    """One subscriber's nutrition steps for the finished day `day` (ISO date): targets →
    meal plans → shopping list for the 7 days after it."""
    from athletes.selectors import profile_by_id
    from nutrition import services

    run = services.plan_nutrition(
        athlete=profile_by_id(athlete_id), date=datetime.date.fromisoformat(day)
    )
    return {
        "run": run.pk,
        "targets_changed": len(run.targets_changed),
        "days_planned": len(run.days_planned),
        "infeasible": len(run.infeasible),
    }
