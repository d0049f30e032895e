"""Consent (issue 8): the append-only ledger (model and PostgreSQL trigger), the state
derived from it, the gates that refuse or skip without a purpose, the withdraw hook that
deletes fitted models, the client's consent page and the API, and tenant isolation."""

from __future__ import annotations

import datetime
from decimal import Decimal

import pytest
from django.db import DatabaseError, connection, transaction
from django.utils import timezone
from rest_framework.test import APIClient

from athletes import consent, selectors
from athletes import services as athlete_services
from athletes.models import AthleteProfile, ConsentEvent, ConsentPolicy, LedgerAppendOnly
from coaching.models import Membership
from coaching.tenancy import tenant_context
from tests import factories

TODAY = timezone.localdate()
NIGHT = TODAY - datetime.timedelta(days=1)
START = TODAY - datetime.timedelta(days=7)
WEEKDAYS = sorted({(TODAY + datetime.timedelta(days=d)).weekday() for d in (0, 2, 4)})
UA = "Mozilla/5.0 (consent test) " + "x" * 400


@pytest.fixture
def api():
    return APIClient()


class _AuditRows:
    """The audit log's rows written since the fixture began, read from the real table
    each time (as dicts with the keys `record()` takes)."""

    def __init__(self) -> None:
        from coaching.models import AuditEvent

        last = AuditEvent.objects.order_by("-id").first()
        self._after = last.pk if last is not None else 0

    def _rows(self) -> list[dict]:
        from coaching.models import AuditEvent

        return [
            {
                "action": e.action,
                "actor_user_id": e.actor_user_id,
                "subject_user_id": e.subject_user_id,
                "detail": e.detail,
            }
            for e in AuditEvent.objects.filter(pk__gt=self._after).order_by("id")
        ]

    def __iter__(self):
        return iter(self._rows())

    def __getitem__(self, index):
        return self._rows()[index]


@pytest.fixture
def audits(db):
    """The audit events consent writes, from the real log."""
    return _AuditRows()


@pytest.fixture
def fresh(tenant_a):
    """A client of A who has never answered any consent question."""
    account = factories.member(tenant_a, "client", email="fresh@alpha.test", consents=False)
    with tenant_context(tenant_a):
        return account, AthleteProfile.objects.get(user=account)


def _profile(tenant, account) -> AthleteProfile:
    with tenant_context(tenant):
        return AthleteProfile.objects.get(user=account)


# --- the ledger ----------------------------------------------------------------------------


def test_policies_are_created_lazily_once_per_tenant(tenant_a, tenant_b, fresh):
    with tenant_context(tenant_a):
        first = consent.policies_current()
        again = consent.policies_current()
        assert set(first) == set(consent.PURPOSES)
        assert {p.pk for p in first.values()} == {p.pk for p in again.values()}
        assert all(p.version == 1 and p.text for p in first.values())
        newer = ConsentPolicy.objects.create(purpose="health_data", version=2, text="Plainer.")
        assert consent.policies_current()["health_data"] == newer
    with tenant_context(tenant_b):
        assert ConsentPolicy.objects.count() == 0


def test_state_is_the_latest_event_per_purpose(tenant_a, fresh, audits):
    account, athlete = fresh
    with tenant_context(tenant_a):
        assert consent.consent_state(athlete) == dict.fromkeys(consent.PURPOSES, False)
        consent.consent_grant(athlete, "health_data", ip="203.0.113.9", user_agent=UA)
        consent.consent_grant(athlete, "coach_access")
        consent.consent_withdraw(athlete, "coach_access")
        consent.consent_grant(athlete, "marketing_email")
        consent.consent_withdraw(athlete, "marketing_email")
        consent.consent_grant(athlete, "marketing_email")
        state = consent.consent_state(athlete)
        assert state == {
            "health_data": True,
            "nutrition_planning": False,
            "ml_personalisation": False,
            "coach_access": False,
            "marketing_email": True,
        }
        assert consent.has_consent(athlete, "health_data")
        assert not consent.has_consent(athlete, "coach_access")
        first = consent.ledger_of(athlete).first()
        assert first.ip == "203.0.113.9" and len(first.user_agent) == 300
        assert first.policy.version == 1
        assert ConsentEvent.objects.filter(athlete=athlete).count() == 6
    assert [c["action"] for c in audits][:3] == [
        "consent.grant",
        "consent.grant",
        "consent.withdraw",
    ]
    assert audits[0]["subject_user_id"] == account.pk
    assert audits[0]["actor_user_id"] == account.pk
    assert audits[0]["detail"]["purpose"] == "health_data"


def test_unknown_purpose_is_refused(tenant_a, fresh):
    _account, athlete = fresh
    with tenant_context(tenant_a), pytest.raises(consent.UnknownPurpose):
        consent.consent_grant(athlete, "telepathy")


def test_ledger_rows_cannot_be_updated_or_deleted_through_the_orm(tenant_a, fresh):
    _account, athlete = fresh
    with tenant_context(tenant_a):
        event = consent.consent_grant(athlete, "health_data")
        event.action = "withdraw"
        with pytest.raises(LedgerAppendOnly):
            event.save()
        with pytest.raises(LedgerAppendOnly):
            event.delete()
        with pytest.raises(LedgerAppendOnly):
            ConsentEvent.objects.filter(pk=event.pk).update(action="withdraw")
        with pytest.raises(LedgerAppendOnly):
            ConsentEvent.objects.filter(pk=event.pk).delete()
        assert ConsentEvent.objects.get(pk=event.pk).action == "grant"


def _raw(sql: str, params: list) -> None:
    with connection.cursor() as cursor:
        cursor.execute(sql, params)


@pytest.mark.skipif(connection.vendor != "postgresql", reason="the trigger is PostgreSQL's")
def test_database_refuses_raw_update_and_delete_but_allows_erasure(tenant_a, fresh):
    _account, athlete = fresh
    with tenant_context(tenant_a):
        event = consent.consent_grant(athlete, "health_data")
        with pytest.raises(DatabaseError, match="append-only"), transaction.atomic():
            _raw("UPDATE athletes_consentevent SET action = 'withdraw' WHERE id = %s", [event.pk])
        with pytest.raises(DatabaseError, match="append-only"), transaction.atomic():
            _raw("DELETE FROM athletes_consentevent WHERE id = %s", [event.pk])
        assert ConsentEvent.objects.filter(pk=event.pk).exists()
        # Erasure may even UPDATE nothing: the setting opens DELETE only.
        with pytest.raises(DatabaseError, match="append-only"), transaction.atomic():
            consent.ledger_erasure_allow()
            _raw("UPDATE athletes_consentevent SET ip = NULL WHERE id = %s", [event.pk])
        # The setting lives only as long as its transaction (a rolled-back one undoes it).
        with pytest.raises(RuntimeError), transaction.atomic():
            _raw("SET LOCAL app.erasure = 'on'", [])
            raise RuntimeError("roll back")
        with pytest.raises(DatabaseError, match="append-only"), transaction.atomic():
            _raw("DELETE FROM athletes_consentevent WHERE id = %s", [event.pk])
        with transaction.atomic():
            _raw("SET LOCAL app.erasure = 'on'", [])
            _raw("DELETE FROM athletes_consentevent WHERE id = %s", [event.pk])
        assert not ConsentEvent.objects.filter(pk=event.pk).exists()


# --- gates ---------------------------------------------------------------------------------


def test_checkin_and_body_measurements_need_health_data(tenant_a, fresh):
    _account, athlete = fresh
    with tenant_context(tenant_a):
        with pytest.raises(consent.ConsentRequired) as refused:
            athlete_services.checkin_upsert(athlete=athlete, date=NIGHT, sleep_hours=7)
        assert refused.value.status == 403 and refused.value.code == "consent_required"
        assert "health data" in refused.value.message
        with pytest.raises(consent.ConsentRequired):
            athlete_services.assessment_create(
                athlete=athlete, date=NIGHT, body_weight_kg=Decimal("70")
            )
        # An assessment without body measurements stores no health data of that kind.
        athlete_services.assessment_create(athlete=athlete, date=NIGHT, hr_max_bpm=190)
        consent.consent_grant(athlete, "health_data")
        _checkin, created = athlete_services.checkin_upsert(
            athlete=athlete, date=NIGHT, sleep_hours=7
        )
        assert created
        consent.consent_withdraw(athlete, "health_data")
        with pytest.raises(consent.ConsentRequired):
            athlete_services.checkin_upsert(athlete=athlete, date=NIGHT, sleep_hours=8)


def test_checkin_api_answers_403_consent_required(api, tenant_a, fresh):
    account, _athlete = fresh
    api.force_authenticate(account)
    response = api.post("/t/alpha/api/v1/checkins/", {"date": NIGHT.isoformat(), "mood": 3})
    assert response.status_code == 403
    assert response.json()["error"]["code"] == "consent_required"


def test_staff_see_checkins_only_of_clients_granting_coach_access(tenant_a, client_a, coach_a):
    factories.checkin(tenant_a, client_a, NIGHT)
    with tenant_context(tenant_a):
        athlete = AthleteProfile.objects.get(user=client_a)
        coach = Membership.objects.get(user=coach_a)
        client = Membership.objects.get(user=client_a)
        assert selectors.checkins_visible_to(coach).count() == 1
        consent.consent_withdraw(athlete, "coach_access")
        assert selectors.checkins_visible_to(coach).count() == 0
        assert selectors.checkins_visible_to(client).count() == 1  # always their own
        consent.consent_grant(athlete, "coach_access")
        assert selectors.checkins_visible_to(coach).count() == 1


def test_nutrition_night_is_skipped_without_nutrition_planning(tenant_a, client_a):
    from nutrition import services as nutrition_services
    from nutrition.models import DayTarget, ExpenditureEstimate, NutritionRun, ShoppingList

    profile, _ = factories.enrolled_strength_athlete(
        tenant_a, client_a, start=START, weekdays=WEEKDAYS
    )
    with tenant_context(tenant_a):
        consent.consent_withdraw(profile, "nutrition_planning")
        run = nutrition_services.plan_nutrition(athlete=profile, date=NIGHT)
        assert run.notes == ["Skipped: no consent to nutrition planning."]
        assert NutritionRun.objects.filter(athlete=profile).count() == 1
        assert not DayTarget.objects.exists()
        assert not ExpenditureEstimate.objects.exists()
        assert not ShoppingList.objects.exists()
        assert run.days_planned == [] and run.expenditure is None


def test_programs_night_skips_autoregulation_and_models_without_consent(tenant_a, client_a):
    from programs import services as program_services
    from programs.models import Adjustment, AthleteModel, Prediction

    profile, _ = factories.enrolled_strength_athlete(
        tenant_a, client_a, start=START, weekdays=WEEKDAYS
    )
    for k in range(40):
        factories.checkin(tenant_a, client_a, NIGHT - datetime.timedelta(days=k))
    with tenant_context(tenant_a):
        consent.consent_withdraw(profile, "health_data")
        consent.consent_withdraw(profile, "ml_personalisation")
        result = program_services.athlete_night(athlete=profile, date=NIGHT)
        assert set(result.skipped) == {"autoregulation", "anomaly", "predictions"}
        assert result.skipped["autoregulation"] == "Skipped: no consent to the use of health data."
        assert "personal models" in result.skipped["predictions"]
        assert result.run.notes == [result.skipped["autoregulation"]]
        assert result.run.readiness_score is None and result.run.readiness == {}
        assert result.predictions["made"] == []
        assert not Adjustment.objects.exists()
        assert not AthleteModel.objects.exists() and not Prediction.objects.exists()
        again = program_services.athlete_night(athlete=profile, date=NIGHT)
        assert again.run.pk == result.run.pk


def test_programs_night_runs_autoregulation_with_health_data_only(tenant_a, client_a):
    from programs import services as program_services
    from programs.models import AthleteModel

    profile, _ = factories.enrolled_strength_athlete(
        tenant_a, client_a, start=START, weekdays=WEEKDAYS
    )
    with tenant_context(tenant_a):
        consent.consent_withdraw(profile, "ml_personalisation")
        result = program_services.athlete_night(athlete=profile, date=NIGHT)
        assert "autoregulation" not in result.skipped
        assert set(result.skipped) == {"anomaly", "predictions"}
        assert not AthleteModel.objects.exists()


def test_withdrawing_ml_personalisation_deletes_the_athletes_models(tenant_a, client_a, fresh):
    from programs.models import AthleteModel, Prediction

    profile = _profile(tenant_a, client_a)
    _other_account, other = fresh
    with tenant_context(tenant_a):
        for athlete in (profile, other):
            AthleteModel.objects.create(
                athlete=athlete, kind="anomaly", version="anomaly-1", fitted_on=NIGHT,
                n_days=28, blob=b"model", meta={},
            )  # fmt: skip
            Prediction.objects.create(
                athlete=athlete, kind="e1rm", subject="back-squat", made_on=NIGHT,
                for_date=TODAY, predicted=140.0, method="trend", reason="test",
            )  # fmt: skip
        consent.consent_withdraw(profile, "ml_personalisation")
        assert not AthleteModel.objects.filter(athlete=profile).exists()
        assert not Prediction.objects.filter(athlete=profile).exists()
        assert AthleteModel.objects.filter(athlete=other).count() == 1
        assert Prediction.objects.filter(athlete=other).count() == 1


# --- the consent page ----------------------------------------------------------------------


def test_consent_page_ticks_nothing_for_a_client_who_never_answered(client, tenant_a, fresh):
    account, _athlete = fresh
    client.force_login(account)
    response = client.get("/t/alpha/consent/")
    assert response.status_code == 200
    html = response.content.decode()
    for purpose in consent.PURPOSES:
        assert f'value="{purpose}"' in html
    assert " checked" not in html
    assert consent.DEFAULT_TEXTS["ml_personalisation"] in html


def test_consent_page_post_records_changed_purposes_with_ip_and_ua(client, tenant_a, fresh, audits):
    account, athlete = fresh
    client.force_login(account)
    response = client.post(
        "/t/alpha/consent/",
        {"purposes": ["health_data", "coach_access"]},
        REMOTE_ADDR="198.51.100.7",
        HTTP_USER_AGENT=UA,
    )
    assert response.status_code == 302
    with tenant_context(tenant_a):
        events = list(consent.ledger_of(athlete))
        assert [(e.purpose, e.action) for e in events] == [
            ("health_data", "grant"),
            ("coach_access", "grant"),
        ]
        assert {e.ip for e in events} == {"198.51.100.7"}
        assert all(e.user_agent == UA[:300] for e in events)
    html = client.get("/t/alpha/consent/").content.decode()
    assert html.count(" checked") == 2
    # Unticking coach access withdraws it; the unchanged purpose records nothing.
    client.post("/t/alpha/consent/", {"purposes": ["health_data"]}, REMOTE_ADDR="198.51.100.7")
    with tenant_context(tenant_a):
        assert ConsentEvent.objects.filter(athlete=athlete).count() == 3
        assert consent.consent_state(athlete)["coach_access"] is False
    assert [c["action"] for c in audits] == ["consent.grant"] * 2 + ["consent.withdraw"]


def test_consent_page_is_404_for_staff_without_a_profile(client, tenant_a, owner_a):
    client.force_login(owner_a)
    assert client.get("/t/alpha/consent/").status_code in (302, 404)


# --- the API -------------------------------------------------------------------------------


def test_client_reads_and_changes_own_consent(api, tenant_a, fresh):
    account, athlete = fresh
    api.force_authenticate(account)
    body = api.get("/t/alpha/api/v1/consents/").json()
    assert body["state"] == dict.fromkeys(consent.PURPOSES, False)
    assert body["policies"]["health_data"]["version"] == 1
    response = api.post(
        "/t/alpha/api/v1/consents/",
        {"purpose": "nutrition_planning", "action": "grant"},
        HTTP_USER_AGENT="app/1.0",
        REMOTE_ADDR="192.0.2.1",
    )
    assert response.status_code == 201
    assert response.json()["state"]["nutrition_planning"] is True
    assert "ip" not in response.json()["events"][0]
    with tenant_context(tenant_a):
        event = consent.ledger_of(athlete).get()
        assert (event.ip, event.user_agent) == ("192.0.2.1", "app/1.0")


def test_unknown_purpose_is_400_listing_the_purposes(api, tenant_a, fresh):
    account, _athlete = fresh
    api.force_authenticate(account)
    response = api.post("/t/alpha/api/v1/consents/", {"purpose": "x", "action": "grant"})
    assert response.status_code == 400
    error = response.json()["error"]
    assert error["code"] == "unknown_purpose"
    assert all(purpose in error["message"] for purpose in consent.PURPOSES)
    bad_action = api.post(
        "/t/alpha/api/v1/consents/", {"purpose": "health_data", "action": "maybe"}
    )
    assert bad_action.status_code == 400


def test_coach_sees_a_clients_granted_purposes_but_cannot_change_them(
    api, tenant_a, coach_a, fresh
):
    account, athlete = fresh
    with tenant_context(tenant_a):
        consent.consent_grant(athlete, "health_data", actor_user_id=account.pk)
    api.force_authenticate(coach_a)
    response = api.get(f"/t/alpha/api/v1/consents/?athlete={athlete.pk}")
    assert response.status_code == 200
    assert response.json()["state"]["health_data"] is True
    assert response.json()["state"]["coach_access"] is False
    assert api.get("/t/alpha/api/v1/consents/").status_code == 400
    refused = api.post("/t/alpha/api/v1/consents/", {"purpose": "health_data", "action": "grant"})
    assert refused.status_code == 403


def test_another_tenants_athlete_is_404(api, tenant_a, coach_a, client_b):
    other = _profile(factories.TenantFactory(slug="bravo"), client_b)
    api.force_authenticate(coach_a)
    theirs = api.get(f"/t/alpha/api/v1/consents/?athlete={other.pk}")
    missing = api.get("/t/alpha/api/v1/consents/?athlete=987654321")
    assert theirs.status_code == missing.status_code == 404
    assert theirs.content == missing.content


def test_a_client_who_has_not_chosen_is_asked_on_every_page_until_they_do(client, tenant_a):
    account = factories.member(tenant_a, "client", email="new@alpha.test", consents=False)
    client.force_login(account)
    home = client.get("/t/alpha/plan/").content.decode()
    assert "please choose what you agree to" in home
    consent_page = client.get("/t/alpha/consent/").content.decode()
    assert "please choose what you agree to" not in consent_page  # not on the page itself
    with tenant_context(tenant_a):
        athlete = AthleteProfile.objects.get(user=account)
        for purpose in consent.PURPOSES:
            consent.consent_withdraw(athlete, purpose)  # answering "no" counts as answered
    assert "please choose what you agree to" not in client.get("/t/alpha/plan/").content.decode()


def test_staff_and_consenting_clients_are_not_asked(client, tenant_a, coach_a, client_a):
    client.force_login(client_a)
    assert "please choose what you agree to" not in client.get("/t/alpha/plan/").content.decode()
    client.force_login(coach_a)
    assert "please choose what you agree to" not in client.get("/t/alpha/plan/").content.decode()
