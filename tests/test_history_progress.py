"""History and progress pages (issue 10): what was logged beside what was planned, the
timeline of changes with their reasons, and the progress charts with their text."""

from __future__ import annotations

import datetime
import re
from decimal import Decimal

from django.utils import timezone

from athletes import consent
from athletes.models import AthleteProfile
from coaching.models import AuditEvent
from coaching.tenancy import tenant_context
from programs import services
from programs.models import Adjustment, AutoregulationRun, Exercise, PlannedSession
from tests import factories

TODAY = timezone.localdate()
START = TODAY - datetime.timedelta(days=21)


def _athlete(tenant, account) -> tuple[AthleteProfile, object]:
    weekdays = [(START.weekday() + offset) % 7 for offset in (0, 2, 4)]
    return factories.enrolled_strength_athlete(tenant, account, start=START, weekdays=weekdays)


def _log_planned(profile: AthleteProfile, session: PlannedSession, *, done: int, rpe: str):
    """Log `done` of the session's planned sets at their planned load."""
    planned = list(session.sets.all())[:done]
    return services.session_log_create(
        athlete=profile,
        date=session.date,
        kind="strength",
        duration_s=3600,
        planned_session=session,
        session_rpe=Decimal(rpe),
        sets=[
            {
                "exercise": s.exercise,
                "weight_kg": s.load_kg or Decimal("20"),
                "reps": s.reps,
                "rpe": s.target_rpe,
            }
            for s in planned
        ],
    )


# --- history -------------------------------------------------------------------------------


def test_history_lists_logs_newest_first_with_sets_done_of_planned_and_rpe(
    client, tenant_a, client_a
):
    profile, _ = _athlete(tenant_a, client_a)
    with tenant_context(tenant_a):
        past = list(PlannedSession.objects.filter(athlete=profile, date__lt=TODAY)[:2])
        first, second = past
        _log_planned(profile, first, done=first.sets.count(), rpe="7")
        _log_planned(profile, second, done=second.sets.count() - 1, rpe="8.5")
        services.session_log_create(
            athlete=profile, date=TODAY, kind="run", duration_s=1800, session_rpe=Decimal("4")
        )
        counts = (first.sets.count(), second.sets.count())
    client.force_login(client_a)

    page = client.get("/t/alpha/history/")

    assert page.status_code == 200
    rows = re.findall(r'<tr class="history-session">(.*?)</tr>', page.content.decode(), re.S)
    assert len(rows) == 3
    assert "Run" in rows[0] and "(unplanned)" in rows[0] and ">4<" in rows[0]
    assert second.name in rows[1] and f"{counts[1] - 1} of {counts[1]}" in rows[1]
    assert ">8.5<" in rows[1]
    assert first.name in rows[2] and f"{counts[0]} of {counts[0]}" in rows[2]


def test_history_paginates_twenty_sessions_a_page(client, tenant_a, client_a):
    with tenant_context(tenant_a):
        profile = AthleteProfile.objects.get(user=client_a)
        for offset in range(23):
            services.session_log_create(
                athlete=profile,
                date=TODAY - datetime.timedelta(days=offset),
                kind="run",
                duration_s=1200 + offset,
            )
    client.force_login(client_a)

    first = client.get("/t/alpha/history/").content.decode()
    second = client.get("/t/alpha/history/?page=2").content.decode()

    assert first.count('class="history-session"') == 20
    assert "Page 1 of 2" in first and '?page=2#sessions"' in first
    assert second.count('class="history-session"') == 3
    oldest = (TODAY - datetime.timedelta(days=22)).strftime("%a %-d %b %Y")
    assert oldest in second and oldest not in first


def _adjustments(tenant, profile: AthleteProfile) -> None:
    with tenant_context(tenant):
        session = PlannedSession.objects.filter(athlete=profile).first()
        run = AutoregulationRun.objects.create(
            athlete=profile,
            date=TODAY,
            methodology_version=session.block.methodology_version,
            autonomy="auto",
        )
        for status, sentence in (
            ("applied", "Intensity −5 % because HRV was below your baseline for 3 nights."),
            ("pending", "Volume −20 % waits for your coach."),
            ("rejected", "A rest day your coach turned down."),
            ("reverted", "Shorter because you slept 5 h."),
        ):
            Adjustment.objects.create(
                athlete=profile,
                planned_session=session,
                effective_date=session.date,
                run=run,
                rule="test_rule",
                before={"duration_min": 60},
                after={"duration_min": 50},
                sentence=sentence,
                status=status,
            )


def test_client_timeline_shows_applied_and_reverted_changes_with_their_reasons(
    client, tenant_a, client_a
):
    profile, _ = _athlete(tenant_a, client_a)
    _adjustments(tenant_a, profile)
    client.force_login(client_a)

    body = client.get("/t/alpha/history/").content.decode()

    items = re.findall(r'<li class="timeline-item status-(\w+)"', body)
    assert sorted(items) == ["applied", "reverted"]
    assert "HRV was below your baseline for 3 nights." in body
    assert "<s>Shorter because you slept 5 h.</s>" in body
    assert "Reverted" in body and "Applied" in body
    # what waits for the coach or was rejected stays between coach and engine
    assert "waits for your coach" not in body and "turned down" not in body


def test_coach_sees_every_status_and_another_tenants_athlete_is_404(
    client, tenant_a, tenant_b, coach_a, client_a, client_b
):
    profile, _ = _athlete(tenant_a, client_a)
    _adjustments(tenant_a, profile)
    with tenant_context(tenant_b):
        theirs = AthleteProfile.objects.get(user=client_b)
    client.force_login(coach_a)

    page = client.get(f"/t/alpha/history/{profile.pk}/")

    body = page.content.decode()
    assert page.status_code == 200
    assert sorted(re.findall(r'class="timeline-item status-(\w+)"', body)) == [
        "applied",
        "pending",
        "rejected",
        "reverted",
    ]
    assert "Waiting for the coach" in body
    with tenant_context(tenant_a):
        assert AuditEvent.objects.filter(action="client.view", detail__page="history").exists()
    assert client.get(f"/t/alpha/history/{theirs.pk}/").status_code == 404
    assert client.get(f"/t/alpha/progress/{theirs.pk}/").status_code == 404


def test_a_client_cannot_open_another_clients_history_or_progress(client, tenant_a, client_a):
    with tenant_context(tenant_a):
        profile = AthleteProfile.objects.get(user=client_a)
    other = factories.member(tenant_a, "client", email="other@alpha.test")
    client.force_login(other)
    assert client.get(f"/t/alpha/history/{profile.pk}/").status_code == 404
    assert client.get(f"/t/alpha/progress/{profile.pk}/").status_code == 404


# --- progress ------------------------------------------------------------------------------


def _squat_sessions(tenant, profile: AthleteProfile, loads: list[str]) -> None:
    """One back-squat session a week back from today: 5 reps @ RPE 8 at each load."""
    with tenant_context(tenant):
        squat = Exercise.objects.get(slug="back-squat")
        for weeks_ago, load in zip(range(len(loads) - 1, -1, -1), loads, strict=True):
            services.session_log_create(
                athlete=profile,
                date=TODAY - datetime.timedelta(weeks=weeks_ago),
                kind="strength",
                duration_s=3600,
                session_rpe=Decimal("7"),
                sets=[
                    {"exercise": squat, "weight_kg": Decimal(load), "reps": 5, "rpe": Decimal(8)}
                ],
            )


def test_progress_charts_e1rm_per_main_lift_with_a_text_summary_and_table(
    client, tenant_a, client_a
):
    profile, _ = _athlete(tenant_a, client_a)
    # 5 @ RPE 8 is 81.1 % of 1RM on the RTS chart: 113.54 kg → 140 kg, 121.65 → 150 kg
    _squat_sessions(tenant_a, profile, ["113.54", "117.6", "121.65"])
    client.force_login(client_a)

    page = client.get("/t/alpha/progress/")

    body = page.content.decode()
    assert page.status_code == 200
    panel = body[body.index('id="e1rm-back-squat"') :]
    panel = panel[: panel.index("</section>")]
    assert "Back squat: working e1RM 150.0 kg" in panel
    assert "up 10.0 kg since" in panel and "(3 sessions)" in panel
    assert 'role="img"' in panel and "<polyline" in panel
    assert panel.count("<circle") == 3
    assert '<th scope="col">Best set e1RM (kg)</th>' in panel
    assert "<td>140.0</td>" in panel and "<td>150.0</td>" in panel
    # a strength athlete has no PMC
    assert 'id="pmc"' not in body


def test_progress_shows_readiness_and_body_weight_trend(client, tenant_a, client_a):
    profile, version = _athlete(tenant_a, client_a)
    with tenant_context(tenant_a):
        for offset, score in ((14, 60.0), (7, 70.0), (0, 80.0)):
            AutoregulationRun.objects.create(
                athlete=profile,
                date=TODAY - datetime.timedelta(days=offset),
                methodology_version=version,
                autonomy="auto",
                readiness_score=score,
            )
        # a run older than 8 weeks is not charted
        AutoregulationRun.objects.create(
            athlete=profile,
            date=TODAY - datetime.timedelta(weeks=9),
            methodology_version=version,
            autonomy="auto",
            readiness_score=10.0,
        )
    for offset, kg in ((20, "71.0"), (10, "70.4"), (0, "69.8")):
        factories.checkin(
            tenant_a, client_a, TODAY - datetime.timedelta(days=offset), body_weight_kg=Decimal(kg)
        )
    client.force_login(client_a)

    body = client.get("/t/alpha/progress/").content.decode()

    readiness = body[body.index('id="readiness"') :]
    readiness = readiness[: readiness.index("</section>")]
    assert "Latest 80 on" in readiness and "average 70 over 3 days" in readiness
    assert "<td>10</td>" not in readiness
    weight = body[body.index('id="body-weight"') :]
    weight = weight[: weight.index("</section>")]
    assert "Trend " in weight and ", down " in weight and "(3 weigh-ins)" in weight
    assert weight.count("<circle") == 3 and "<polyline" in weight
    assert "<td>69.8</td>" in weight


def test_staff_see_body_weight_only_with_coach_access_consent(client, tenant_a, coach_a, client_a):
    profile, _ = _athlete(tenant_a, client_a)
    for offset, kg in ((7, "71.0"), (0, "70.0")):
        factories.checkin(
            tenant_a, client_a, TODAY - datetime.timedelta(days=offset), body_weight_kg=Decimal(kg)
        )
    client.force_login(coach_a)
    assert 'id="body-weight"' in client.get(f"/t/alpha/progress/{profile.pk}/").content.decode()
    with tenant_context(tenant_a):
        consent.consent_withdraw(profile, consent.COACH_ACCESS, actor_user_id=client_a.pk)
    body = client.get(f"/t/alpha/progress/{profile.pk}/").content.decode()
    assert 'id="body-weight"' not in body


def test_progress_draws_the_pmc_for_an_endurance_athlete(client, tenant_a, client_a):
    with tenant_context(tenant_a):
        profile = AthleteProfile.objects.get(user=client_a)
        profile.discipline = "endurance"
        profile.save(update_fields=["discipline"])
        for offset in range(0, 28, 2):
            services.session_log_create(
                athlete=profile,
                date=TODAY - datetime.timedelta(days=offset),
                kind="run",
                duration_s=3600,
                session_rpe=Decimal("6"),
            )
    client.force_login(client_a)

    body = client.get("/t/alpha/progress/").content.decode()

    pmc = body[body.index('id="pmc"') :]
    pmc = pmc[: pmc.index("</section>")]
    assert "fitness (CTL)" in pmc and "fatigue (ATL)" in pmc and "form (TSB)" in pmc
    assert pmc.count("<polyline") == 3
    assert "Load in SRPE" in pmc
    assert re.search(
        r"On \d+ \w+: fitness \(CTL\) \d+, fatigue \(ATL\) \d+, form \(TSB\) [+-]\d+", pmc
    )


def test_progress_without_data_says_what_to_log(client, tenant_a, client_a):
    client.force_login(client_a)
    body = client.get("/t/alpha/progress/").content.decode()
    assert "Nothing to chart yet." in body
