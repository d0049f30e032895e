"""Light registered steps and cheap subscribers for the nightly frame's tests.

The steps write a row the test can count (a check-in per subscriber and night, UNIQUE,
so a second execution that committed would raise) and take a few milliseconds, so a few
hundred subscribers make a run long enough to kill a worker in the middle of it. The
real worker imports this through `tests.nightly_worker_app`.
"""

from __future__ import annotations

import datetime
import time
from decimal import Decimal

from django.contrib.auth import get_user_model

from athletes.models import AthleteProfile, CheckIn, Enrolment
from coaching import nightly
from coaching.models import Membership, Tenant
from coaching.nightly import StepOutcome
from coaching.tenancy import tenant_context

REAL_STEPS = ("programs", "nutrition")
#: Athlete ids whose `light_plan` step raises (the one-subscriber-fails test).
FAIL_FOR: set[int] = set()
STEP_SLEEP_S = 0.004
STARTED = datetime.date(2026, 1, 1)


class StepExploded(RuntimeError):
    pass


def light_record(athlete: AthleteProfile, date: datetime.date) -> StepOutcome:
    time.sleep(STEP_SLEEP_S)
    CheckIn.objects.create(athlete=athlete, date=date, sleep_hours=Decimal("7.0"))
    return StepOutcome.done()


def light_plan(athlete: AthleteProfile, date: datetime.date) -> StepOutcome:
    if athlete.pk in FAIL_FOR:
        raise StepExploded(f"planner blew up for athlete {athlete.pk}")
    time.sleep(STEP_SLEEP_S)
    CheckIn.objects.filter(athlete=athlete, date=date).update(soreness=2)
    return StepOutcome.done()


def use_light_steps() -> dict[str, nightly.Step]:
    """Swap the real steps for the light ones; returns what to restore."""
    saved = {s.name: s for s in nightly.steps()}
    for name in list(saved):
        nightly.unregister_step(name)
    nightly.register_step("light_record", light_record, 10)
    nightly.register_step("light_plan", light_plan, 20)
    return saved


def restore_steps(saved: dict[str, nightly.Step]) -> None:
    for name in [s.name for s in nightly.steps()]:
        nightly.unregister_step(name)
    for step in saved.values():
        nightly.register_step(step.name, step.fn, step.order, step.prepare)


def make_subscribers(tenant: Tenant, n: int, *, tag: str = "sub") -> list[int]:
    """`n` enrolled clients of `tenant` in a handful of bulk inserts (no services: these
    are load, not behaviour). Returns their athlete ids."""
    from athletes.consent import consents_seed_granted
    from tests import factories

    version, tier = factories.methodology_on_sale(tenant, "strength")
    users = get_user_model().objects.bulk_create(
        [
            get_user_model()(username=f"{tag}{i}@{tenant.slug}.test", email=f"{tag}{i}@x.test")
            for i in range(n)
        ]
    )
    with tenant_context(tenant):
        Membership.objects.bulk_create([Membership(user=u, role="client") for u in users])
        profiles = AthleteProfile.objects.bulk_create(
            [
                AthleteProfile(
                    user=u,
                    display_name=f"Sub {i}",
                    discipline="strength",
                    sex="female",
                    birth_date=datetime.date(1990, 1, 1),
                    height_cm=Decimal("170.0"),
                )
                for i, u in enumerate(users)
            ]
        )
        Enrolment.objects.bulk_create(
            [
                Enrolment(
                    athlete=p,
                    tier=tier,
                    methodology_version=version,
                    started=datetime.date(2026, 1, 1),
                )
                for p in profiles
            ]
        )
        consents_seed_granted(profiles)
    return [p.pk for p in profiles]
