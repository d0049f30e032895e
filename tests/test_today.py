"""Issue 10, client side: the Today page. A client checks in (htmx and plain POST), sees
today's session with the reason for every engine change, logs it set by set (done as
prescribed, or what was lifted), sees today's meals and tomorrow. Refusals keep what was
typed and store nothing; another tenant's or client's set is a 404; staff get a 404; the
page's queries don't grow with the plan."""

from __future__ import annotations

import datetime
import html as html_lib
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from athletes import consent
from athletes import selectors as athlete_selectors
from athletes import services as athlete_services
from athletes.models import AthleteProfile, CheckIn
from coaching.selectors import tenant_today
from coaching.tenancy import tenant_context
from nutrition.models import PlanDay
from programs.models import (
    Adjustment,
    Exercise,
    PlannedSession,
    PlannedSet,
    ProgramBlock,
    SessionLog,
    SetLog,
)
from programs.services.logging import set_log_record
from tests import factories

pytestmark = pytest.mark.django_db

HTMX = {"HTTP_HX_REQUEST": "true"}
URL = "/t/alpha/today/"
CHECKIN_URL = "/t/alpha/today/checkin/"


def _set_url(pk: int) -> str:
    return f"/t/alpha/today/session/set/{pk}/"


def _text(response) -> str:
    return html_lib.unescape(response.content.decode())


@pytest.fixture
def day(tenant_a) -> datetime.date:
    return tenant_today(tenant_a)


@pytest.fixture
def athlete(tenant_a, client_a, day) -> AthleteProfile:
    """A strength client with a session today and one tomorrow (a block from today)."""
    profile, _version = factories.enrolled_strength_athlete(
        tenant_a, client_a, start=day, weekdays=[day.weekday(), (day.weekday() + 1) % 7]
    )
    return profile


@pytest.fixture
def session(tenant_a, athlete, day) -> PlannedSession:
    with tenant_context(tenant_a):
        return PlannedSession.objects.filter(athlete=athlete, date=day).first()


def _first_loaded_set(tenant, session) -> PlannedSet:
    with tenant_context(tenant):
        return (
            PlannedSet.objects.filter(session=session, load_kg__isnull=False)
            .select_related("exercise")
            .order_by("set_index")
            .first()
        )


# --- the page ---------------------------------------------------------------------------------


def test_client_sees_todays_session_checkin_and_tomorrow(client, client_a, session, day):
    client.force_login(client_a)
    response = client.get(URL)
    assert response.status_code == 200
    page = _text(response)
    assert session.name in page
    assert "Back squat" in page
    assert "0 of" in page and "sets done" in page
    assert "Save check-in" in page
    tomorrow = day + datetime.timedelta(days=1)
    assert f'Tomorrow <span class="muted">· {tomorrow:%A} {tomorrow.day} {tomorrow:%b}' in page
    assert "hx-post" in page  # htmx forms, with a plain-POST fallback
    assert 'action="/t/alpha/today/checkin/"' in page


def test_an_engine_change_is_shown_with_its_sentence(client, tenant_a, client_a, session):
    with tenant_context(tenant_a):
        Adjustment.objects.create(
            athlete=session.athlete,
            planned_session=session,
            effective_date=session.date,
            rule="short_sleep",
            before={},
            after={},
            sentence="Loads −5 % because you slept 5 h last night (under 6 h).",
            status=Adjustment.Status.APPLIED,
        )
        Adjustment.objects.create(
            athlete=session.athlete,
            planned_session=session,
            effective_date=session.date,
            rule="rpe_overshoot",
            before={},
            after={},
            sentence="Waiting for the coach.",
            status=Adjustment.Status.PENDING,
        )
    client.force_login(client_a)
    page = _text(client.get(URL))
    assert (
        "<strong>Changed:</strong> Loads −5 % because you slept 5 h last night (under 6 h)." in page
    )
    assert "Waiting for the coach." not in page  # not applied: the client doesn't see it


def test_staff_get_a_404_on_today_and_its_actions(client, owner_a, coach_a, session, tenant_a):
    planned = _first_loaded_set(tenant_a, session)
    for member in (owner_a, coach_a):
        client.force_login(member)
        assert client.get(URL).status_code == 404
        assert client.post(_set_url(planned.pk), {"done": "1"}).status_code == 404
        assert client.post(CHECKIN_URL, {"sleep_hours": "7"}).status_code == 404


def test_anonymous_is_sent_to_log_in(client, tenant_a):
    response = client.get(URL)
    assert response.status_code == 302 and "/accounts/login/" in response["Location"]


def test_an_unfinished_onboarding_sends_the_client_to_its_next_step(client, tenant_a, client_a):
    client.force_login(client_a)  # consents given, but no tier yet
    response = client.get(URL)
    assert response.status_code == 302 and response["Location"] == "/t/alpha/join/"


def test_a_day_without_a_session_is_a_rest_day_with_the_next_one(client, tenant_a, client_a, day):
    factories.enrolled_strength_athlete(
        tenant_a, client_a, start=day, weekdays=[(day.weekday() + 2) % 7]
    )
    client.force_login(client_a)
    page = _text(client.get(URL))
    assert "Rest day." in page and "Nothing is planned today" in page
    assert "Next: " in page


def test_without_a_block_the_page_explains(client, tenant_a, client_a, athlete):
    with tenant_context(tenant_a):
        ProgramBlock.objects.update(status=ProgramBlock.Status.SUPERSEDED)
    client.force_login(client_a)
    page = _text(client.get(URL))
    assert "No plan yet." in page


def test_without_access_the_page_links_to_billing_and_refuses_logging(
    client, tenant_a, client_a, session
):
    from billing.models import BillingAccount

    planned = _first_loaded_set(tenant_a, session)
    BillingAccount.objects.create(tenant=tenant_a, stripe_account_id="acct_x", charges_enabled=True)
    client.force_login(client_a)
    page = _text(client.get(URL))
    assert "Your plan is paused" in page
    assert 'href="/t/alpha/billing/"' in page
    assert "Save check-in" not in page and session.name not in page
    assert client.post(_set_url(planned.pk), {"done": "1"}).status_code == 403
    with tenant_context(tenant_a):
        assert not SetLog.objects.exists()


def test_without_consent_the_panels_explain_and_link_to_the_consent_page(
    client, tenant_a, client_a, athlete
):
    with tenant_context(tenant_a):
        consent.consent_withdraw(athlete, consent.HEALTH_DATA)
        consent.consent_withdraw(athlete, consent.NUTRITION_PLANNING)
    client.force_login(client_a)
    page = _text(client.get(URL))
    assert "we only store it with your consent" in page
    assert "consent to nutrition planning" in page
    assert page.count('href="/t/alpha/consent/"') >= 2
    response = client.post(CHECKIN_URL, {"sleep_hours": "7"}, **HTMX)
    assert "we only store it with your consent" in _text(response)
    with tenant_context(tenant_a):
        assert not CheckIn.objects.exists()


def test_todays_meals_are_listed_with_a_swap_link(client, tenant_a, client_a, athlete, day):
    meals = [
        {
            "slot": slot,
            "kind": "meal",
            "locked": False,
            "items": [{"key": f"recipe:{slot}", "name": f"{slot.title()} bowl", "kcal": 600}],
        }
        for slot in ("breakfast", "lunch", "dinner")
    ]
    with tenant_context(tenant_a):
        for offset in (0, 1):
            PlanDay.objects.create(
                athlete=athlete,
                date=day + datetime.timedelta(days=offset),
                target={"energy_kcal": 1800},
                meals=meals,
                totals={"energy_kcal": 1800},
            )
    client.force_login(client_a)
    page = _text(client.get(URL))
    assert "Lunch bowl" in page
    assert f'href="/t/alpha/nutrition/{day.isoformat()}/lunch/swap/"' in page
    assert "3 meals" in page and "1,800 kcal planned" in page  # tomorrow's preview


# --- the check-in -----------------------------------------------------------------------------


ANSWERS = {
    "sleep_hours": "7.5",
    "sleep_quality": "4",
    "soreness": "2",
    "stress": "2",
    "mood": "4",
}


def test_checkin_with_htmx_saves_and_re_renders_the_panel_with_readiness(
    client, tenant_a, client_a, athlete, day
):
    client.force_login(client_a)
    response = client.post(CHECKIN_URL, ANSWERS, **HTMX)
    assert response.status_code == 200
    panel = _text(response)
    assert panel.lstrip().startswith("<section") or 'id="panel-checkin"' in panel
    assert "<html" not in panel  # the panel only, swapped in place
    assert "Saved." in panel and "Readiness " in panel and "/100" in panel
    with tenant_context(tenant_a):
        checkin = CheckIn.objects.get(athlete=athlete, date=day)
    assert checkin.sleep_hours == Decimal("7.5") and checkin.soreness == 2 and checkin.mood == 4


def test_checkin_without_javascript_redirects_back_and_a_second_one_corrects_the_day(
    client, tenant_a, client_a, athlete, day
):
    client.force_login(client_a)
    first = client.post(CHECKIN_URL, ANSWERS)
    assert first.status_code == 302 and first["Location"] == "/t/alpha/today/#panel-checkin"
    second = client.post(CHECKIN_URL, {**ANSWERS, "soreness": "4", "hrv_rmssd_ms": "58.5"})
    assert second.status_code == 302
    with tenant_context(tenant_a):
        rows = list(CheckIn.objects.filter(athlete=athlete))
    assert len(rows) == 1 and rows[0].soreness == 4 and rows[0].hrv_rmssd_ms == Decimal("58.5")
    page = _text(client.get(URL))
    assert "Checked in for" in page and "Change today's check-in" in page


def test_a_refused_checkin_keeps_the_input_and_stores_nothing(client, tenant_a, client_a, athlete):
    client.force_login(client_a)
    bad = {**ANSWERS, "sleep_hours": "30", "hrv_rmssd_ms": "900"}
    swapped = client.post(CHECKIN_URL, bad, **HTMX)
    assert swapped.status_code == 422
    panel = _text(swapped)
    assert "Sleep is between 0 and 24 hours." in panel
    assert "HRV (rMSSD) is between 1 and 400 ms." in panel
    assert 'value="30"' in panel and 'value="900"' in panel
    assert 'value="4" id="id_mood_3" checked' in panel or 'id="id_mood_3" checked' in panel
    page = client.post(CHECKIN_URL, bad)
    assert page.status_code == 400
    assert "Sleep is between 0 and 24 hours." in _text(page) and 'value="30"' in _text(page)
    empty = client.post(CHECKIN_URL, {}, **HTMX)
    assert empty.status_code == 422 and "Fill in at least one answer" in _text(empty)
    with tenant_context(tenant_a):
        assert not CheckIn.objects.exists()


# --- logging the session ----------------------------------------------------------------------


def test_done_as_prescribed_logs_the_set_and_swaps_its_row(client, tenant_a, client_a, session):
    planned = _first_loaded_set(tenant_a, session)
    client.force_login(client_a)
    response = client.post(_set_url(planned.pk), {"done": "1"}, **HTMX)
    assert response.status_code == 200
    row = _text(response)
    assert row.lstrip().startswith("<li") and f'id="set-{planned.pk}"' in row
    assert "✓ Done" in row and "as prescribed" in row
    assert 'hx-swap-oob="true"' in row and "1 of " in row
    with tenant_context(tenant_a):
        log = SessionLog.objects.get(planned_session=session)
        logged = SetLog.objects.get(session=log)
    assert log.date == session.date and log.duration_s == session.duration_min * 60
    assert (logged.set_index, logged.weight_kg, logged.reps, logged.rpe) == (
        planned.set_index,
        planned.load_kg,
        planned.reps,
        planned.target_rpe,
    )


def test_editing_a_set_records_what_was_lifted_and_corrects_it_in_place(
    client, tenant_a, client_a, session
):
    planned = _first_loaded_set(tenant_a, session)
    prefix = f"set{planned.pk}-"
    client.force_login(client_a)
    client.post(_set_url(planned.pk), {"done": "1"}, **HTMX)
    edited = client.post(
        _set_url(planned.pk),
        {prefix + "weight_kg": "105", prefix + "reps": "4", prefix + "rpe": "9.5"},
        **HTMX,
    )
    assert edited.status_code == 200 and "✓ 105 kg × 4 @ RPE 9.5" in _text(edited)
    # without JavaScript: the same form posts and the page comes back
    plain = client.post(
        _set_url(planned.pk),
        {prefix + "weight_kg": "107.5", prefix + "reps": "4", prefix + "rpe": ""},
    )
    assert plain.status_code == 302 and plain["Location"] == "/t/alpha/today/#panel-session"
    with tenant_context(tenant_a):
        assert SessionLog.objects.filter(planned_session=session).count() == 1
        rows = list(SetLog.objects.all())
    assert len(rows) == 1
    assert (rows[0].weight_kg, rows[0].reps, rows[0].rpe) == (Decimal("107.50"), 4, None)


@pytest.mark.parametrize(
    ("values", "message"),
    [
        ({"weight_kg": "abc", "reps": "5"}, "Give the weight as a number of kg, e.g. 82.5."),
        ({"weight_kg": "-5", "reps": "5"}, "The weight can't be negative."),
        ({"weight_kg": "100", "reps": "0"}, "Reps are between 1 and 100."),
        ({"weight_kg": "100", "reps": "5", "rpe": "11"}, "RPE is between 1 and 10."),
        ({"weight_kg": "100"}, "Give the reps you did."),
    ],
)
def test_bad_set_values_are_refused_with_a_clear_error_and_nothing_is_lost(
    client, tenant_a, client_a, session, values, message
):
    planned = _first_loaded_set(tenant_a, session)
    prefix = f"set{planned.pk}-"
    client.force_login(client_a)
    client.post(_set_url(planned.pk), {"done": "1"}, **HTMX)  # logged as prescribed first
    posted = {prefix + k: v for k, v in values.items()}
    swapped = client.post(_set_url(planned.pk), posted, **HTMX)
    assert swapped.status_code == 422
    row = _text(swapped)
    assert message in row and "<details open>" in row
    for value in values.values():
        assert f'value="{value}"' in row  # what was typed stays
    page = client.post(_set_url(planned.pk), posted)
    assert page.status_code == 400 and message in _text(page)
    with tenant_context(tenant_a):
        logged = SetLog.objects.get()
    assert (logged.weight_kg, logged.reps) == (planned.load_kg, planned.reps)  # kept


def test_another_tenants_or_clients_or_days_set_is_a_404(
    client, tenant_a, tenant_b, client_a, client_b, session, day
):
    planned = _first_loaded_set(tenant_a, session)
    # another tenant's client posting A's set id on their own tenant
    factories.enrolled_strength_athlete(tenant_b, client_b, start=day, weekdays=[day.weekday()])
    client.force_login(client_b)
    assert client.post(f"/t/bravo/today/session/set/{planned.pk}/", {"done": "1"}).status_code == (
        404
    )
    theirs = f"/t/bravo/today/session/session/{session.pk}/"
    assert client.post(theirs, {f"log{session.pk}-duration_min": "30"}).status_code == 404
    # another client of the same tenant
    other = factories.member(tenant_a, "client", email="other@alpha.test")
    with tenant_context(tenant_a):
        profile = AthleteProfile.objects.get(user=other)
        enrolment = athlete_selectors.current_enrolment(session.athlete)
        athlete_services.enrolment_create(athlete=profile, tier=enrolment.tier, started=day)
        athlete_services.assessment_create(athlete=profile, date=day)
    client.force_login(other)
    assert client.post(_set_url(planned.pk), {"done": "1"}).status_code == 404
    # the owner's own set, but of tomorrow's session (not today's)
    with tenant_context(tenant_a):
        tomorrow = PlannedSet.objects.filter(
            session__athlete=session.athlete, session__date=day + datetime.timedelta(days=1)
        ).first()
    client.force_login(client_a)
    assert client.post(_set_url(tomorrow.pk), {"done": "1"}).status_code == 404
    assert client.post("/t/alpha/today/session/nope/1/", {"done": "1"}).status_code == 404
    assert client.post("/t/alpha/today/unknown/set/1/", {"done": "1"}).status_code == 404
    assert client.get(_set_url(planned.pk)).status_code == 405
    with tenant_context(tenant_a):
        assert not SetLog.objects.exists() and not SessionLog.objects.exists()


def test_a_set_without_a_planned_load_asks_for_the_weight(client, tenant_a, client_a, session):
    with tenant_context(tenant_a):
        planned = PlannedSet.objects.filter(session=session, load_kg__isnull=True).first()
        bench = Exercise.objects.get(pk=planned.exercise_id) if planned else None
    if planned is None or not bench.loadable:
        pytest.skip("the plan has loads for every lift")
    client.force_login(client_a)
    response = client.post(_set_url(planned.pk), {"done": "1"}, **HTMX)
    assert response.status_code == 422
    assert "Give the weight you lifted, in kg." in _text(response)
    with tenant_context(tenant_a):
        assert not SetLog.objects.exists()


def test_finishing_the_session_records_duration_and_rpe(client, tenant_a, client_a, session):
    planned = _first_loaded_set(tenant_a, session)
    client.force_login(client_a)
    client.post(_set_url(planned.pk), {"done": "1"}, **HTMX)
    prefix = f"log{session.pk}-"
    url = f"/t/alpha/today/session/session/{session.pk}/"
    bad = client.post(url, {prefix + "duration_min": "0", prefix + "session_rpe": "7"}, **HTMX)
    assert bad.status_code == 422 and "A session takes at least 1 minute." in _text(bad)
    done = client.post(url, {prefix + "duration_min": "50", prefix + "session_rpe": "7"}, **HTMX)
    assert done.status_code == 200 and "Finished: 50 min · RPE 7" in _text(done)
    with tenant_context(tenant_a):
        log = SessionLog.objects.get(planned_session=session)
    assert log.duration_s == 3000 and log.session_rpe == Decimal("7.0")
    assert log.srpe_load == pytest.approx(350.0)


# --- queries ----------------------------------------------------------------------------------


def _page_queries(client) -> list[str]:
    with CaptureQueriesContext(connection) as ctx:
        assert client.get(URL).status_code == 200
    return [q["sql"] for q in ctx.captured_queries]


def _change(athlete, session, n: int) -> None:
    Adjustment.objects.create(
        athlete=athlete,
        planned_session=session,
        effective_date=session.date,
        rule="short_sleep",
        before={},
        after={},
        sentence=f"Change {n}.",
        status=Adjustment.Status.APPLIED,
    )


def _meals(athlete, day, count: int) -> None:
    PlanDay.objects.update_or_create(
        athlete=athlete,
        date=day,
        defaults={
            "target": {"energy_kcal": 2000},
            "meals": [
                {"slot": f"meal{n}", "items": [{"name": f"Food {n}", "kcal": 400}]}
                for n in range(count)
            ],
            "totals": {"energy_kcal": 400 * count},
        },
    )


def test_the_page_queries_do_not_grow_with_the_plan(client, tenant_a, client_a, athlete, day):
    # given: a small day: a check-in, one set logged, one change, one meal
    client.force_login(client_a)
    client.post(CHECKIN_URL, ANSWERS)
    with tenant_context(tenant_a):
        session = PlannedSession.objects.filter(athlete=athlete, date=day).first()
        first = session.sets.filter(load_kg__isnull=False).order_by("set_index").first()
        set_log_record(athlete=athlete, planned_set=first, as_prescribed=True)
        _change(athlete, session, 0)
        _meals(athlete, day, 1)
    client.get(URL)  # the check-in's message is shown (and consumed) once
    small = _page_queries(client)
    # when: the session grows to 30-odd sets, all logged, with more changes and meals
    with tenant_context(tenant_a):
        squat = Exercise.objects.get(slug="back-squat")
        top = session.sets.order_by("-set_index").first().set_index
        PlannedSet.objects.bulk_create(
            PlannedSet(
                session=session, exercise=squat, set_index=top + i, reps=5, load_kg=Decimal("60")
            )
            for i in range(1, 25)
        )
        for planned in PlannedSet.objects.filter(session=session, load_kg__isnull=False):
            set_log_record(athlete=athlete, planned_set=planned, as_prescribed=True)
        for n in range(1, 5):
            _change(athlete, session, n)
        _meals(athlete, day, 6)
        _meals(athlete, day + datetime.timedelta(days=1), 6)
        assert SetLog.objects.count() > 25
    large = _page_queries(client)
    # then: the same queries
    assert len(large) == len(small), "\n".join(large)
    assert len(small) <= 30


# --- endurance and rest days ------------------------------------------------------------------


def _run_today(tenant, athlete, day) -> PlannedSession:
    """Today's session turned into an easy run (zone 2 at 5:30–5:00 per km)."""
    with tenant_context(tenant):
        session = PlannedSession.objects.filter(athlete=athlete, date=day).first()
        session.sets.all().delete()
        session.kind = PlannedSession.Kind.RUN
        session.name = "Easy run"
        session.duration_min = 45
        session.zone = 2
        session.target_low = 1000 / 330
        session.target_high = 1000 / 300
        session.target_unit = "m/s"
        session.derivation = {"sentence": "Zone 2 builds your aerobic base."}
        session.save()
    return session


def test_an_endurance_session_shows_its_targets_and_logs_duration_distance_and_rpe(
    client, tenant_a, client_a, athlete, day
):
    session = _run_today(tenant_a, athlete, day)
    client.force_login(client_a)
    page = _text(client.get(URL))
    assert "Easy run" in page and "Zone 2 · 5:30–5:00 min/km" in page
    assert "Zone 2 builds your aerobic base." in page
    url = f"/t/alpha/today/session/session/{session.pk}/"
    prefix = f"log{session.pk}-"
    bad = client.post(url, {prefix + "duration_min": "44", prefix + "distance_km": "-1"}, **HTMX)
    assert bad.status_code == 422
    assert "Give the distance in km, more than 0." in _text(bad) and 'value="-1"' in _text(bad)
    logged = client.post(
        url,
        {prefix + "duration_min": "44", prefix + "distance_km": "8.4", prefix + "session_rpe": "4"},
    )
    assert logged.status_code == 302
    page = _text(client.get(URL))
    assert "Logged: 44 min · 8.4 km · RPE 4" in page
    with tenant_context(tenant_a):
        log = SessionLog.objects.get(planned_session=session)
    assert (log.kind, log.duration_s, log.distance_m) == ("run", 2640, 8400)
    assert log.srpe_load == pytest.approx(176.0)
    # a correction updates the same log
    client.post(url, {prefix + "duration_min": "46", prefix + "distance_km": "8.6"})
    with tenant_context(tenant_a):
        assert SessionLog.objects.filter(planned_session=session).count() == 1
        assert SessionLog.objects.get(planned_session=session).distance_m == 8600


def test_a_session_turned_into_a_rest_day_says_so_and_takes_no_log(
    client, tenant_a, client_a, session
):
    planned = _first_loaded_set(tenant_a, session)
    with tenant_context(tenant_a):
        PlannedSession.objects.filter(pk=session.pk).update(rest_day=True)
    client.force_login(client_a)
    page = _text(client.get(URL))
    assert "Rest day instead." in page and "sets done" not in page
    refused = client.post(_set_url(planned.pk), {"done": "1"}, **HTMX)
    assert refused.status_code == 422
    with tenant_context(tenant_a):
        assert not SetLog.objects.exists()
