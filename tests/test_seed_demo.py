"""`seed_demo` and `demo_totp`: the demo data is complete, realistic, reproducible and
tenant-isolated, and the commands refuse what they must refuse.

Runs as the application role under row-level security, so every tenant-scoped read here
happens inside `tenant_context`, as it would in the product.
"""

from __future__ import annotations

import datetime
import io
import re
import types
from collections import Counter
from decimal import Decimal

import pytest
from allauth.account.models import EmailAddress
from allauth.mfa.models import Authenticator
from allauth.mfa.totp.internal.auth import TOTP
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db.models import Count, Sum

from athletes.models import AthleteProfile, CheckIn
from coaching.models import Membership, Tenant
from coaching.rls import tenant_tables
from coaching.tenancy import tenant_context
from config import demo
from programs.models import Exercise, SessionLog, SetLog

TODAY = datetime.date(2026, 11, 23)
FIRST_DAY = TODAY - datetime.timedelta(days=55)
MAIN_LIFTS = ("Back Squat", "Safety Bar Squat", "Bench Press", "Deadlift", "Trap Bar Deadlift",
              "Overhead Press")  # fmt: skip


def seed(*args: str) -> str:
    out = io.StringIO()
    call_command("seed_demo", "--today", TODAY.isoformat(), *args, stdout=out)
    return out.getvalue()


@pytest.fixture
def seeded(db) -> str:
    return seed()


def tenant(slug: str) -> Tenant:
    return Tenant.objects.get(slug=slug)


def fingerprint() -> dict[str, object]:
    """Aggregates that change if any generated value changes."""
    result: dict[str, object] = {}
    for slug in demo.DEMO_SLUGS:
        with tenant_context(tenant(slug)):
            result[slug] = (
                sorted(
                    AthleteProfile.objects.values_list(
                        "user__email", "display_name", "tier", "sex", "birth_date", "height_cm"
                    )
                ),
                CheckIn.objects.aggregate(
                    n=Count("id"),
                    hrv=Sum("hrv_rmssd_ms"),
                    kg=Sum("body_weight_kg"),
                    sleep=Sum("sleep_hours"),
                    soreness=Sum("soreness"),
                ),  # fmt: skip
                SessionLog.objects.aggregate(
                    n=Count("id"), s=Sum("duration_s"), m=Sum("distance_m"), w=Sum("avg_power_w")
                ),
                SetLog.objects.aggregate(n=Count("id"), kg=Sum("weight_kg"), rpe=Sum("rpe")),
            )
    return result


def test_seed_creates_two_tenants_each_with_owner_coach_twenty_clients_and_the_dual_client(
    seeded,
):
    assert sorted(Tenant.objects.values_list("slug", "name", "timezone", "currency")) == [
        ("ironworks", "Ironworks Strength", "Europe/London", "GBP"),
        ("tempo", "Tempo Endurance", "Europe/Amsterdam", "EUR"),
    ]
    for slug in demo.DEMO_SLUGS:
        with tenant_context(tenant(slug)):
            roles = Counter(Membership.objects.values_list("role", flat=True))
            clients = set(
                Membership.objects.filter(role="client").values_list("user__email", flat=True)
            )
            owner = Membership.objects.get(role="owner").user.email
            coach = Membership.objects.get(role="coach").user.email
            tiers = Counter(AthleteProfile.objects.values_list("tier", flat=True))
            sexes = Counter(AthleteProfile.objects.values_list("sex", flat=True))
        assert roles == {"owner": 1, "coach": 1, "client": 21}
        assert (owner, coach) == (f"owner@{slug}.demo", f"coach@{slug}.demo")
        assert clients == {f"client{n:02d}@{slug}.demo" for n in range(1, 21)} | {"dual@demo.test"}
        # 10/6/4 among the numbered clients, plus the dual client on the hybrid tier.
        assert tiers == {"diy": 10, "hybrid": 7, "premium": 4}
        assert sexes["male"] >= 5 and sexes["female"] >= 5
    assert get_user_model().objects.filter(email__in=demo.demo_emails()).count() == 45


def test_every_demo_user_logs_in_by_verified_email_and_staff_have_the_demo_totp(seeded):
    users = get_user_model().objects.filter(email__in=demo.demo_emails())
    for account in users:
        assert account.username == account.email
        assert account.check_password(demo.DEMO_PASSWORD)
    assert EmailAddress.objects.filter(user__in=users, verified=True, primary=True).count() == len(
        demo.demo_emails()
    )
    staff_with_totp = set(
        Authenticator.objects.filter(type=Authenticator.Type.TOTP).values_list(
            "user__email", flat=True
        )
    )
    assert staff_with_totp == {
        "owner@ironworks.demo", "coach@ironworks.demo", "owner@tempo.demo", "coach@tempo.demo",
    }  # fmt: skip


def test_every_client_has_eight_weeks_of_checkins_and_sessions(seeded):
    for slug, discipline, kinds, min_sessions in (
        ("ironworks", "strength", {"strength"}, 8 * 3),
        ("tempo", "endurance", {"run", "ride"}, 8 * 4),
    ):
        with tenant_context(tenant(slug)):
            profiles = AthleteProfile.objects.annotate(
                checkins_n=Count("checkins", distinct=True),
                sessions_n=Count("session_logs", distinct=True),
            )
            assert len(profiles) == 21
            for profile in profiles:
                assert profile.discipline == discipline
                # ~10% of days are missed, but never more than 14%.
                assert 45 <= profile.checkins_n < 56
                assert profile.sessions_n >= min_sessions
            assert set(SessionLog.objects.values_list("kind", flat=True)) == kinds
            dates = CheckIn.objects.values_list("date", flat=True)
            assert (min(dates), max(dates)) == (FIRST_DAY, TODAY)
            session_dates = SessionLog.objects.values_list("date", flat=True)
            assert FIRST_DAY <= min(session_dates) and max(session_dates) <= TODAY


def test_strength_sets_use_the_library_with_realistic_reps_rpe_and_slowly_rising_loads(seeded):
    with tenant_context(tenant("ironworks")):
        assert set(Exercise.objects.values_list("category", flat=True)) == {
            "squat", "hinge", "press", "pull", "single_leg", "accessory",
        }  # fmt: skip
        groups = Counter(Exercise.objects.values_list("substitution_group", flat=True))
        assert groups["squat"] >= 2 and groups["hip_hinge"] >= 2
        sets = list(SetLog.objects.select_related("exercise", "session"))
        sessions_n = SessionLog.objects.count()
    assert len(sets) >= 8 * sessions_n
    assert {s.rpe for s in sets} <= {Decimal(f"{x / 2:.1f}") for x in range(13, 21)}
    assert all(Decimal("6.5") <= s.rpe <= Decimal("10") for s in sets)
    assert all(3 <= s.reps <= 8 and s.weight_kg > 0 for s in sets)

    def e1rm(s: SetLog) -> float:
        return float(s.weight_kg) * (1 + (s.reps + 10 - float(s.rpe)) / 30)

    main = [s for s in sets if s.exercise.name in MAIN_LIFTS]
    early = [e1rm(s) for s in main if s.session.date < FIRST_DAY + datetime.timedelta(days=14)]
    late = [e1rm(s) for s in main if s.session.date > TODAY - datetime.timedelta(days=14)]
    growth = (sum(late) / len(late)) / (sum(early) / len(early))
    assert 1.0 < growth < 1.15


def test_endurance_rides_have_power_and_runs_have_pace_and_heart_rate(seeded):
    with tenant_context(tenant("tempo")):
        rides = list(SessionLog.objects.filter(kind="ride"))
        runs = list(SessionLog.objects.filter(kind="run"))
        assert not SetLog.objects.exists()
    assert rides and runs
    for ride in rides:
        assert ride.avg_power_w and ride.normalized_power_w >= ride.avg_power_w
        assert ride.distance_m and ride.avg_hr_bpm and ride.session_rpe
    for run in runs:
        assert run.avg_power_w is None
        pace_s_per_km = run.duration_s / (run.distance_m / 1000)
        assert 150 < pace_s_per_km < 480
        assert 90 < run.avg_hr_bpm < 200


def test_generated_rows_pass_the_model_field_validators(seeded):
    related = ["tenant", "athlete", "session", "exercise", "user"]
    for slug in demo.DEMO_SLUGS:
        with tenant_context(tenant(slug)):
            for model in (AthleteProfile, CheckIn, SessionLog, SetLog, Exercise):
                for row in model.objects.all():
                    row.clean_fields(exclude=related)
            checkins = list(CheckIn.objects.all())
    assert all(Decimal("5.5") <= c.sleep_hours <= Decimal("9") for c in checkins)
    assert {c.soreness for c in checkins} <= {1, 2, 3, 4, 5}
    assert {c.stress for c in checkins} <= {1, 2, 3, 4, 5}
    assert all(c.hrv_rmssd_ms and c.resting_hr_bpm for c in checkins)


def test_same_seed_gives_the_same_data_and_another_seed_does_not(seeded):
    first = fingerprint()

    seed("--reset")
    again = fingerprint()
    seed("--reset", "--seed", "7")
    other = fingerprint()

    assert again == first
    assert other != first


def test_second_run_without_reset_is_refused_and_changes_nothing(seeded):
    before = fingerprint()

    with pytest.raises(CommandError, match="--reset"):
        seed()

    assert fingerprint() == before
    assert Tenant.objects.filter(slug__in=demo.DEMO_SLUGS).count() == 2


def test_reset_replaces_the_demo_users_instead_of_duplicating_them(seeded):
    seed("--reset")

    assert get_user_model().objects.filter(email__in=demo.demo_emails()).count() == 45
    assert Authenticator.objects.count() == 4


def test_queries_inside_one_demo_tenant_never_return_the_other_tenants_rows(seeded):
    ironworks, tempo = tenant("ironworks"), tenant("tempo")
    for current, other in ((ironworks, tempo), (tempo, ironworks)):
        with tenant_context(current):
            for model, _ in tenant_tables():
                scoped = set(model.objects.values_list("tenant_id", flat=True))
                # unscoped() skips the ORM filter; row-level security must still hold.
                unscoped = set(model.objects.unscoped().values_list("tenant_id", flat=True))
                assert scoped <= {current.pk}, model
                assert unscoped <= {current.pk}, model
            dual = AthleteProfile.objects.get(user__email=demo.DUAL_CLIENT_EMAIL)
            assert dual.tenant_id == current.pk
        with tenant_context(other):
            assert CheckIn.objects.exists() and SessionLog.objects.exists()


def test_output_lists_the_logins_and_no_health_values(seeded):
    out = seeded

    assert demo.LOGIN_URL in out and demo.DEMO_PASSWORD in out
    for email in ("owner@ironworks.demo", "coach@tempo.demo", "client01@ironworks.demo",
                  "client20@tempo.demo", "dual@demo.test"):  # fmt: skip
        assert email in out
    assert "python manage.py demo_totp" in out
    assert not re.search(r"hrv|rmssd|sleep|weight|bpm|\bkg\b", out, re.IGNORECASE)


def test_demo_totp_refuses_without_debug(settings):
    settings.DEBUG = False

    with pytest.raises(CommandError, match="DEBUG"):
        call_command("demo_totp", stdout=io.StringIO())


def test_demo_totp_prints_a_code_allauth_accepts_for_the_seeded_staff(
    seeded, settings, monkeypatch
):
    settings.DEBUG = True
    frozen = 1_795_000_000.0
    clock = types.SimpleNamespace(time=lambda: frozen)
    monkeypatch.setattr("config.demo.time", clock)
    monkeypatch.setattr("allauth.mfa.totp.internal.auth.time", clock)
    out = io.StringIO()

    call_command("demo_totp", stdout=out)

    code = out.getvalue().strip()
    assert re.fullmatch(r"\d{6}", code)
    owner = Authenticator.objects.get(
        user__email="owner@ironworks.demo", type=Authenticator.Type.TOTP
    )
    assert TOTP(owner).validate_code(code)


def test_seed_demo_refuses_where_demo_seeding_is_disabled(db, settings):
    settings.DEMO_SEED_ALLOWED = False
    with pytest.raises(CommandError, match="DEMO_SEED_ALLOWED"):
        call_command("seed_demo", stdout=io.StringIO())
    assert not Tenant.objects.exists()
