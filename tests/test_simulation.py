"""Shadow mode on a real block in PostgreSQL: a methodology version replayed over past
nights proposes what the nightly run would have, a draft without a rule proposes less,
tight guardrails show up as clips, and nothing is written."""

from __future__ import annotations

import copy
import datetime
from decimal import Decimal
from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.utils import timezone
from rest_framework.test import APIClient

from athletes.models import AthleteProfile
from coaching import services as coaching_services
from coaching.models import MethodologyVersion
from coaching.tenancy import tenant_context
from programs import services, simulation
from programs.models import Adjustment, AutoregulationRun, Exercise, PlannedSession, PlannedSet
from tests import factories

TODAY = timezone.localdate()
NIGHT = TODAY - datetime.timedelta(days=1)
START = TODAY - datetime.timedelta(days=7)
WEEKDAYS = sorted({(TODAY + datetime.timedelta(days=d)).weekday() for d in (0, 2, 4)})


@pytest.fixture
def api():
    return APIClient()


def _athlete(tenant, user, *, rules=None):
    return factories.enrolled_strength_athlete(
        tenant, user, start=START, weekdays=WEEKDAYS, rules=rules
    )


def _low_hrv_nights(tenant, user, *, low_days=7):
    for k in range(70):
        day = NIGHT - datetime.timedelta(days=69 - k)
        low = k >= 70 - low_days
        rmssd = Decimal("40") if low else Decimal("58" if k % 2 else "62")
        factories.checkin(tenant, user, day, hrv_rmssd_ms=rmssd, sleep_hours=Decimal("7.5"))


def _rules(version, *, hrv_low_streak=True, guardrails=None):
    rules = copy.deepcopy(version.rules)
    for rule in rules["autoregulation"]["rules"]:
        if rule["name"] == "hrv_low_streak":
            rule["enabled"] = hrv_low_streak
    rules["guardrails"].update(guardrails or {})
    return rules


def _draft(tenant, version, **kwargs) -> MethodologyVersion:
    with tenant_context(tenant):
        return coaching_services.version_draft_create(
            methodology=version.methodology, rules=_rules(version, **kwargs)
        )


def _counts() -> tuple[int, int, int]:
    return (
        Adjustment.objects.count(),
        AutoregulationRun.objects.count(),
        PlannedSet.objects.count(),
    )


def test_replay_of_low_hrv_nights_proposes_hrv_cuts_and_writes_nothing(tenant_a, client_a):
    profile, version = _athlete(tenant_a, client_a)
    _low_hrv_nights(tenant_a, client_a)
    with tenant_context(tenant_a):
        before = _counts()
        sets_before = list(PlannedSet.objects.order_by("id").values_list("id", "load_kg", "reps"))
        report = simulation.simulate(athletes=[profile], rules=version.rules, end=NIGHT, weeks=1)
        assert _counts() == before
        assert (
            list(PlannedSet.objects.order_by("id").values_list("id", "load_kg", "reps"))
            == sets_before
        )
    [row] = report.athletes
    total = report.total.as_dict()
    assert row.status == "ok" and total["nights"] == 7
    assert report.start == NIGHT - datetime.timedelta(days=6) and report.end == NIGHT
    assert total["rules"].get("hrv_low_streak", 0) >= 1
    assert total["proposals"] == sum(total["rules"].values())
    assert total["changes"]["sets"] >= 1 and total["changes"]["load"] >= 1
    assert total["readiness_mean"] is not None and total["mean_magnitude_percent"] > 0
    # The streak reaches 3 nights five nights ago; the sessions two and five nights
    # later are each cut once (the next night sees the first one again: already cut).
    assert total["rules"] == {"hrv_low_streak": 2}


def test_a_draft_without_the_rule_proposes_nothing_and_compare_shows_it(tenant_a, client_a):
    profile, version = _athlete(tenant_a, client_a)
    _low_hrv_nights(tenant_a, client_a)
    draft = _draft(tenant_a, version, hrv_low_streak=False)
    assert draft.status == "draft"
    with tenant_context(tenant_a):
        comparison = simulation.compare(
            athletes=[profile], rules_a=version.rules, rules_b=draft.rules, end=NIGHT, weeks=1
        )
    a, b = comparison.a.total.as_dict(), comparison.b.total.as_dict()
    fired = a["rules"]["hrv_low_streak"]
    assert fired >= 1 and "hrv_low_streak" not in b["rules"]
    diff = comparison.differences()
    assert diff["rules"]["hrv_low_streak"] == -fired
    assert b["proposals"] == 0 and diff["proposals"] == -a["proposals"] == -fired
    assert diff["nights"] == 0


def test_tight_guardrails_are_counted_as_clips(tenant_a, client_a):
    profile, version = _athlete(tenant_a, client_a)
    _low_hrv_nights(tenant_a, client_a)
    tight = _rules(version, guardrails={"max_load_change_session_percent": 1})
    with tenant_context(tenant_a):
        loose = simulation.simulate(athletes=[profile], rules=version.rules, end=NIGHT, weeks=1)
        report = simulation.simulate(athletes=[profile], rules=tight, end=NIGHT, weeks=1)
    assert loose.total.clipped == 0
    total = report.total.as_dict()
    assert total["clipped"] >= 1
    assert total["guardrails"]["max_load_change_session_percent"] >= 1
    assert total["mean_magnitude_percent"] <= loose.total.as_dict()["mean_magnitude_percent"]


def test_an_athlete_without_a_plan_is_reported_as_such(tenant_a, client_a):
    profile, version = _athlete(tenant_a, client_a)
    other = factories.member(tenant_a, "client", email="other@alpha.test")
    with tenant_context(tenant_a):
        planless = AthleteProfile.objects.get(user=other)
        report = simulation.simulate(
            athletes=[profile, planless], rules=version.rules, end=NIGHT, weeks=2
        )
    assert [a.status for a in report.athletes] == ["ok", simulation.NO_PLAN]
    assert report.athletes[1].tally.nights == 0 and report.total.nights == 14


def test_predicted_vs_actual_compares_the_simulated_top_set_with_the_logged_one(tenant_a, client_a):
    profile, version = _athlete(tenant_a, client_a)
    with tenant_context(tenant_a):
        session = (
            PlannedSession.objects.filter(athlete=profile, date__lt=TODAY)
            .exclude(date=START)
            .prefetch_related("sets__exercise")
            .order_by("date")
            .first()
        )
        top = {}
        for s in session.sets.all():
            if s.load_kg is not None:
                top[s.exercise.slug] = max(top.get(s.exercise.slug, 0), float(s.load_kg))
        slug, load = sorted(top.items())[0]
        services.session_log_create(
            athlete=profile,
            planned_session=session,
            date=session.date,
            kind="strength",
            duration_s=3600,
            sets=[
                {
                    "exercise": Exercise.objects.get(slug=slug),
                    "weight_kg": Decimal(str(load + 2.5)),
                    "reps": 5,
                    "rpe": Decimal("8"),
                }
            ],
        )
        report = simulation.simulate(athletes=[profile], rules=version.rules, end=NIGHT, weeks=1)
    strength = report.total.as_dict()["strength"]
    assert strength == {"lifts": 1, "mean_abs_diff_kg": 2.5}


# --- command -----------------------------------------------------------------------------


def test_command_prints_both_versions_and_the_difference(tenant_a, client_a):
    profile, version = _athlete(tenant_a, client_a)
    _low_hrv_nights(tenant_a, client_a)
    draft = _draft(tenant_a, version, hrv_low_streak=False)
    out = StringIO()
    with tenant_context(tenant_a):
        before = _counts()
    call_command(
        "simulate_methodology",
        "--tenant", tenant_a.slug, "--version", str(version.pk), "--compare", str(draft.pk),
        "--weeks", "1", "--end", NIGHT.isoformat(), stdout=out,
    )  # fmt: skip
    text = out.getvalue()
    assert f"A: v{version.number}" in text and f"B: v{draft.number}" in text
    assert "Client" in text and "TOTAL" in text and "hrv_low_streak" in text
    assert "B − A:" in text and "hrv_low_streak -" in text
    with tenant_context(tenant_a):
        assert _counts() == before
    out = StringIO()
    call_command(
        "simulate_methodology", "--tenant", tenant_a.slug, "--version", str(version.pk),
        "--athlete", str(profile.pk), "--weeks", "1", "--end", NIGHT.isoformat(), stdout=out,
    )  # fmt: skip
    assert "TOTAL" in out.getvalue() and "B − A" not in out.getvalue()


@pytest.mark.parametrize(
    "args, message",
    [
        (["--tenant", "nope", "--version", "1"], "No tenant"),
        (["--version", "999999"], "No methodology version"),
        (["--athlete", "999999"], "No athlete"),
        (["--weeks", "0"], "--weeks must be 1–26"),
        (["--weeks", "27"], "--weeks must be 1–26"),
        (["--end", "yesterday"], "--end must be"),
    ],
)
def test_command_errors_are_one_line(tenant_a, tenant_b, client_a, args, message):
    _, version = _athlete(tenant_a, client_a)
    base = {"--tenant": tenant_a.slug, "--version": str(version.pk)}
    for flag, value in zip(args[::2], args[1::2], strict=True):
        base[flag] = value
    argv = [x for pair in base.items() for x in pair]
    with pytest.raises(CommandError) as exc:
        call_command("simulate_methodology", *argv, stdout=StringIO())
    assert message in str(exc.value) and "\n" not in str(exc.value)


def test_command_does_not_see_another_tenants_version(tenant_a, tenant_b, client_a):
    _, version = _athlete(tenant_a, client_a)
    with pytest.raises(CommandError, match="No methodology version"):
        call_command(
            "simulate_methodology", "--tenant", tenant_b.slug, "--version", str(version.pk),
            stdout=StringIO(),
        )  # fmt: skip


# --- API ---------------------------------------------------------------------------------


def _login(api, user, tenant):
    api.force_authenticate(user)
    api.credentials(HTTP_X_TENANT=tenant.slug)


def test_api_staff_compare_defaults_to_the_enrolled_cohort(api, tenant_a, client_a, coach_a):
    profile, version = _athlete(tenant_a, client_a)
    _low_hrv_nights(tenant_a, client_a)
    draft = _draft(tenant_a, version, hrv_low_streak=False)
    with tenant_context(tenant_a):
        before = _counts()
    _login(api, coach_a, tenant_a)
    response = api.post(
        "/api/v1/simulations/",
        {"version": version.pk, "compare_version": draft.pk, "weeks": 1},
        format="json",
    )
    assert response.status_code == 200, response.content
    body = response.json()
    assert [a["athlete"] for a in body["a"]["athletes"]] == [profile.pk]
    assert body["a"]["end"] == NIGHT.isoformat()
    assert body["a"]["total"]["rules"]["hrv_low_streak"] >= 1
    assert body["b"]["total"]["rules"] == {}
    assert body["differences"]["rules"]["hrv_low_streak"] < 0
    single = api.post(
        "/api/v1/simulations/",
        {"version": version.pk, "athletes": [profile.pk], "weeks": 1, "end": NIGHT.isoformat()},
        format="json",
    )
    assert single.status_code == 200
    assert single.json()["report"]["total"]["proposals"] == body["a"]["total"]["proposals"]
    with tenant_context(tenant_a):
        assert _counts() == before


def test_api_is_staff_only_validated_and_tenant_isolated(
    api, tenant_a, tenant_b, client_a, coach_a
):
    profile, version = _athlete(tenant_a, client_a)
    _login(api, client_a, tenant_a)
    assert (
        api.post("/api/v1/simulations/", {"version": version.pk}, format="json").status_code == 404
    )
    _login(api, coach_a, tenant_a)
    bad = [
        {"version": version.pk, "weeks": 13},
        {"version": version.pk, "weeks": 0},
        {"version": version.pk, "athletes": [profile.pk] * 51},
        {"version": version.pk, "end": TODAY.isoformat()},
        {"version": 999999},
    ]
    for body in bad:
        response = api.post("/api/v1/simulations/", body, format="json")
        assert response.status_code == 400, (body, response.content)
    # Another tenant's version and athlete don't resolve in tenant B.
    owner_b = factories.member(tenant_b, "owner", email="owner@bravo.test", mfa=True)
    _login(api, owner_b, tenant_b)
    for body in ({"version": version.pk}, {"version": version.pk, "athletes": [profile.pk]}):
        response = api.post("/api/v1/simulations/", body, format="json")
        assert response.status_code == 400
        assert "version" in response.json()["error"]["fields"]
