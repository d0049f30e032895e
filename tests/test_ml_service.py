"""Per-athlete models made persistent, on real PostgreSQL: the unusual-day forest is fitted
once 28 days exist, names what drove an alert and is not refitted by a re-run; a
prediction is stored before the session and scored when the log arrives; the bias audit
reads the scored rows; the API keeps each tenant's and each client's predictions apart."""

from __future__ import annotations

import datetime
import io
from decimal import Decimal

import pytest
from django.core.management import CommandError, call_command
from django.utils import timezone
from rest_framework.test import APIClient

from athletes.models import AthleteProfile
from coaching.models import Alert
from coaching.tenancy import tenant_context
from programs import services
from programs.engine import strength
from programs.ml.common import Insufficient
from programs.models import AthleteModel, Exercise, Prediction
from programs.services import learning
from tests import factories

TODAY = timezone.localdate()
NIGHT = TODAY - datetime.timedelta(days=1)
START = TODAY - datetime.timedelta(days=7)
WEEKDAYS = sorted({(TODAY + datetime.timedelta(days=d)).weekday() for d in (0, 2, 4)})
DAY = datetime.date(2026, 6, 30)  # the day judged by the anomaly tests


@pytest.fixture
def api():
    return APIClient()


def _login(api, user, tenant):
    api.force_authenticate(user)
    api.credentials(HTTP_X_TENANT=tenant.slug)


def _ordinary_days(tenant, user, days: int) -> None:
    """`days` ordinary check-ins before DAY, varying a little as real ones do."""
    for k in range(days):
        day = DAY - datetime.timedelta(days=days - k)
        factories.checkin(
            tenant,
            user,
            day,
            sleep_hours=Decimal("7.5") + Decimal(k % 3) / 4,
            sleep_quality=3 + k % 2,
            soreness=2 + (k % 4 == 0),
            stress=2 + (k % 3 == 0),
            mood=4 - (k % 5 == 0),
            hrv_rmssd_ms=Decimal(58 + (k * 7) % 9),
            resting_hr_bpm=50 + (k * 5) % 4,
        )


def _unusual_day(tenant, user):
    factories.checkin(
        tenant,
        user,
        DAY,
        sleep_hours=Decimal("7.5"),
        sleep_quality=3,
        soreness=2,
        stress=2,
        mood=4,
        hrv_rmssd_ms=Decimal("30.0"),
        resting_hr_bpm=66,
    )


def _profile(tenant, user):
    with tenant_context(tenant):
        return AthleteProfile.objects.get(user=user)


# --- anomaly --------------------------------------------------------------------------------


def test_an_unusual_day_after_28_days_raises_an_alert_naming_the_features(tenant_a, client_a):
    _ordinary_days(tenant_a, client_a, 40)
    _unusual_day(tenant_a, client_a)
    athlete = _profile(tenant_a, client_a)
    with tenant_context(tenant_a):
        result = learning.anomaly_check(athlete=athlete, date=DAY)
        stored = AthleteModel.objects.get(athlete=athlete, kind="anomaly")
        [alert] = Alert.objects.filter(kind="anomaly")
    assert result.is_anomaly
    assert stored.fitted_on == DAY - datetime.timedelta(days=1)  # the judged day isn't training
    assert stored.n_days == 40 and stored.version == "anomaly-1"
    assert {"resting_hr_bpm", "ln_rmssd"} <= set(result.named)
    assert alert.title.startswith("Unusual day: ")
    assert "resting HR" in alert.title and "HRV" in alert.title
    assert not any(ch.isdigit() for ch in alert.title)  # titles carry no measurements
    assert alert.dedupe_key == f"anomaly:{DAY.isoformat()}" and alert.severity == 2
    named = {p["feature"]: p for p in alert.evidence["points"] if p["named"]}
    assert named["resting_hr_bpm"]["z"] > 2 and named["ln_rmssd"]["z"] < -2


def test_an_ordinary_day_raises_nothing(tenant_a, client_a):
    _ordinary_days(tenant_a, client_a, 40)
    factories.checkin(
        tenant_a,
        client_a,
        DAY,
        sleep_hours=Decimal("7.75"),
        sleep_quality=3,
        soreness=2,
        stress=2,
        mood=4,
        hrv_rmssd_ms=Decimal("61.0"),
        resting_hr_bpm=51,
    )
    athlete = _profile(tenant_a, client_a)
    with tenant_context(tenant_a):
        result = learning.anomaly_check(athlete=athlete, date=DAY)
        assert not result.is_anomaly
        assert not Alert.objects.exists()


def test_fewer_than_28_days_stores_no_model_and_raises_nothing(tenant_a, client_a):
    _ordinary_days(tenant_a, client_a, 20)
    _unusual_day(tenant_a, client_a)
    athlete = _profile(tenant_a, client_a)
    with tenant_context(tenant_a):
        result = learning.anomaly_check(athlete=athlete, date=DAY)
        assert isinstance(result, Insufficient)
        assert result.have == 20 and result.need == 28
        assert not AthleteModel.objects.exists()
        assert not Alert.objects.exists()


def test_running_the_same_night_again_neither_refits_nor_alerts_twice(tenant_a, client_a):
    _ordinary_days(tenant_a, client_a, 40)
    _unusual_day(tenant_a, client_a)
    athlete = _profile(tenant_a, client_a)
    with tenant_context(tenant_a):
        first = learning.anomaly_check(athlete=athlete, date=DAY)
        stored = AthleteModel.objects.get()
        second = learning.anomaly_check(athlete=athlete, date=DAY)
        again = AthleteModel.objects.get()
        assert Alert.objects.filter(kind="anomaly").count() == 1
    assert second.score == first.score
    assert (again.updated, bytes(again.blob)) == (stored.updated, bytes(stored.blob))


def test_a_week_of_new_days_refits_the_stored_model(tenant_a, client_a):
    _ordinary_days(tenant_a, client_a, 40)
    athlete = _profile(tenant_a, client_a)
    later = DAY + datetime.timedelta(days=8)
    with tenant_context(tenant_a):
        learning.anomaly_check(athlete=athlete, date=DAY - datetime.timedelta(days=1))
        assert AthleteModel.objects.get().fitted_on == DAY - datetime.timedelta(days=2)
    for k in range(8):
        factories.checkin(tenant_a, client_a, DAY + datetime.timedelta(days=k))
    with tenant_context(tenant_a):
        learning.anomaly_check(athlete=athlete, date=later)
        refitted = AthleteModel.objects.get()
    assert refitted.fitted_on == later - datetime.timedelta(days=1)
    assert refitted.meta["refit_weekday"] == athlete.pk % 7


# --- predictions ----------------------------------------------------------------------------


def _enrolled(tenant, user):
    """A real enrolled strength athlete: block from a week ago, sessions today/+2/+4."""
    profile, _ = factories.enrolled_strength_athlete(
        tenant, user, start=START, weekdays=WEEKDAYS, squat_kg=Decimal("100")
    )
    return profile


def _log(athlete, day, slug, weight):
    services.session_log_create(
        athlete=athlete,
        date=day,
        kind="strength",
        duration_s=3600,
        sets=[
            {
                "exercise": Exercise.objects.get(slug=slug),
                "weight_kg": Decimal(weight),
                "reps": 5,
                "rpe": Decimal("8"),
            }
        ],
    )


def _predicted_and_scored(tenant, user):
    athlete = _enrolled(tenant, user)
    with tenant_context(tenant):
        for days_ago, weight in ((6, "100"), (4, "102.5"), (2, "105")):
            _log(athlete, TODAY - datetime.timedelta(days=days_ago), "back-squat", "100")
            _log(athlete, TODAY - datetime.timedelta(days=days_ago), "bench-press", weight)
        made = learning.predictions_update(athlete=athlete, date=NIGHT)
        predictions = {p.subject: p for p in Prediction.objects.filter(athlete=athlete)}
        slug = made["made"][0]
        _log(athlete, TODAY, slug, "110")
        scored = learning.predictions_update(athlete=athlete, date=TODAY)
    return athlete, made, predictions, slug, scored


def test_a_prediction_is_stored_then_scored_when_the_log_arrives(tenant_a, client_a):
    athlete, made, predictions, slug, scored = _predicted_and_scored(tenant_a, client_a)
    assert made["for_date"] == TODAY and made["made"]
    assert set(made["made"]) == set(predictions)
    before = predictions[slug]
    assert before.made_on == NIGHT and before.actual is None and before.scored_on is None
    assert before.reason.startswith("Predicted e1RM")
    assert scored["scored"] == 1
    with tenant_context(tenant_a):
        after = Prediction.objects.get(pk=before.pk)
        mae = learning.prediction_mae(athlete)
        # Tomorrow's night run makes nothing new for today's session and keeps the row.
        learning.predictions_update(athlete=athlete, date=TODAY)
        assert Prediction.objects.get(pk=before.pk).predicted == before.predicted
    actual = strength.e1rm(110.0, 5, 8.0)
    assert after.actual == pytest.approx(actual)
    assert after.abs_error == pytest.approx(abs(before.predicted - actual))
    assert after.scored_on == TODAY and after.predicted == before.predicted
    assert mae == {slug: (pytest.approx(after.abs_error), 1)}


def test_the_audit_command_prints_groups_with_counts_and_flags_small_ones(tenant_a, client_a):
    _predicted_and_scored(tenant_a, client_a)
    out = io.StringIO()
    call_command("model_audit", tenant=tenant_a.slug, stdout=out)
    text = out.getvalue()
    assert f"Model audit for {tenant_a.slug}: 1 scored predictions" in text
    rows = {line.split()[0]: line.split()[1:] for line in text.splitlines() if line[:2] == "  "}
    with tenant_context(tenant_a):
        error = Prediction.objects.get(abs_error__isnull=False).abs_error
    mae = f"{error:.2f}".rstrip("0").rstrip(".")
    # The client is a woman born 1994 with training age 0: one row in each dimension.
    assert rows["female"] == ["1", mae, "SMALL"]
    assert rows["25–34"] == ["1", mae, "SMALL"]
    assert rows["<1"] == ["1", mae, "SMALL"]
    assert rows["male"] == ["0", "—", "SMALL"]  # empty groups are listed, not hidden
    assert rows["55+"] == ["0", "—", "SMALL"]
    assert "flagged small, not hidden" in text


def test_the_audit_command_refuses_an_unknown_tenant(db):
    with pytest.raises(CommandError, match="No tenant with slug 'nope'"):
        call_command("model_audit", tenant="nope", stdout=io.StringIO())


# --- API --------------------------------------------------------------------------------------


def test_the_api_shows_predictions_to_staff_and_the_client_only(
    api, tenant_a, tenant_b, client_a, client_b, coach_a
):
    athlete, _, _, slug, _ = _predicted_and_scored(tenant_a, client_a)
    other = factories.member(tenant_a, "client", email="other@alpha.test")
    other_profile = _profile(tenant_a, other)
    url = f"/api/v1/athlete-models/{athlete.pk}/predictions/"

    _login(api, coach_a, tenant_a)
    body = api.get(url).json()
    assert body["athlete"] == athlete.pk and body["mae"][0]["subject"] == slug
    assert body["mae"][0]["count"] == 1 and body["predictions"]
    audit = api.get("/api/v1/model-audit/").json()
    assert audit["count"] == 1 and "sex:male" in audit["small_groups"]

    _login(api, client_a, tenant_a)
    assert api.get(url).status_code == 200
    assert api.get(f"/api/v1/athlete-models/{other_profile.pk}/predictions/").status_code == 404
    assert api.get("/api/v1/model-audit/").status_code == 404  # staff only

    _login(api, client_b, tenant_b)
    assert api.get(url).status_code == 404


def test_another_tenants_audit_sees_none_of_these_predictions(
    api, tenant_a, tenant_b, client_a, client_b
):
    _predicted_and_scored(tenant_a, client_a)
    owner_b = factories.member(tenant_b, "owner", email="owner@bravo.test", mfa=True)
    _login(api, owner_b, tenant_b)
    audit = api.get("/api/v1/model-audit/").json()
    assert audit["count"] == 0 and audit["overall_mae"] is None
    assert learning.model_audit(tenant_b).count == 0
