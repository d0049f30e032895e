"""Export (right of access and portability): registry coverage, the round trip (100 % of
the athlete's rows, 0 of anyone else's), the ZIP's shape, the signed link and the API."""

from __future__ import annotations

import csv
import datetime
import io
import json
import zipfile
from collections import deque
from decimal import Decimal

import pytest
from allauth.account.models import EmailAddress, EmailConfirmation
from django.apps import apps
from django.contrib.admin.models import ADDITION, LogEntry
from django.contrib.auth import get_user_model
from django.db import models
from django.utils import timezone
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from athletes.models import Assessment, AthleteProfile, CheckIn, Enrolment
from athletes.privacy import ERASERS, EXPORTERS, NOT_PERSONAL
from coaching.methodology import default_rules
from coaching.models import (
    Alert,
    AuditEvent,
    Membership,
    Methodology,
    MethodologyVersion,
    Tier,
)
from coaching.tenancy import tenant_context
from privacy import services, tasks
from privacy.models import DataRequest
from tests import factories

DAY = datetime.date(2026, 11, 2)
PERSON_TARGETS = ("auth.User", "athletes.AthleteProfile")


# --- helpers shared with test_privacy_erasure.py ---------------------------------------


def related_to_a_person() -> dict[str, type[models.Model]]:
    """Every model with a FK/OneToOne chain to a user or an athlete (fixpoint)."""
    found = {label: apps.get_model(label) for label in PERSON_TARGETS}
    changed = True
    while changed:
        changed = False
        for model in apps.get_models():
            label = model._meta.label
            if label in found:
                continue
            for field in model._meta.concrete_fields:
                if field.is_relation and field.related_model._meta.label in found:
                    found[label] = model
                    changed = True
                    break
    return found


def path_to_user(model: type[models.Model]) -> str | None:
    """The shortest forward-FK lookup from `model` to the user's id (independent of the
    exporters' own paths), e.g. "session__athlete__user_id"; None when there is none."""
    user_label = get_user_model()._meta.label
    if model._meta.label == user_label:
        return "pk"
    queue = deque([(model, "")])
    seen = {model._meta.label}
    while queue:
        current, prefix = queue.popleft()
        for field in current._meta.concrete_fields:
            if not field.is_relation or field.name == "tenant":
                continue
            target = field.related_model
            lookup = f"{prefix}{field.name}"
            if target._meta.label == user_label:
                return f"{lookup}_id"
            if target._meta.label not in seen:
                seen.add(target._meta.label)
                queue.append((target, f"{lookup}__"))
    return None


def rows_of(model: type[models.Model], user_id: int) -> set[int]:
    """Ids of `model` rows that reach the user (in the current tenant for tenant data)."""
    path = path_to_user(model)
    manager = model._default_manager
    return set(manager.filter(**{path: user_id}).values_list("pk", flat=True))


def registered_models() -> list[type[models.Model]]:
    labels = set(EXPORTERS) | set(ERASERS)
    return [apps.get_model(label) for label in sorted(labels)]


def tenant_basics(tenant) -> dict:
    """Exercise, methodology, version and tier of a tenant (created once)."""
    from programs.models import Exercise

    with tenant_context(tenant):
        squat, _ = Exercise.objects.get_or_create(
            slug="back-squat", defaults={"name": "Back squat", "pattern": "squat"}
        )
        methodology, _ = Methodology.objects.get_or_create(
            slug="privacy-basics", defaults={"name": "Basics", "discipline": "strength"}
        )
        version = MethodologyVersion.objects.filter(methodology=methodology).first()
        if version is None:
            version = MethodologyVersion.objects.create(
                methodology=methodology, number=1, rules=default_rules("strength")
            )
        tier, _ = Tier.objects.get_or_create(
            slug="privacy-diy",
            defaults={
                "methodology": methodology,
                "name": "DIY",
                "price": Decimal("19.00"),
                "currency": "EUR",
                "autonomy": "auto",
            },
        )
    return {"squat": squat, "version": version, "tier": tier}


def join(tenant, account) -> AthleteProfile:
    """An existing person becomes a client of another tenant too."""
    with tenant_context(tenant):
        Membership.objects.create(user=account, role="client")
        return AthleteProfile.objects.create(
            user=account,
            display_name="Same Person",
            discipline="strength",
            sex="female",
            birth_date=datetime.date(1994, 5, 17),
            height_cm=Decimal("168.0"),
        )


def personal_rows(tenant, account, tag: str) -> None:
    """A row in every personal model for one athlete of `tenant` (cheap ORM rows; the
    round trip adds service-made rows on top)."""
    from athletes.models import ConsentEvent, ConsentPolicy
    from billing.models import Customer, Entitlement, Invoice, Subscription
    from nutrition.models import (
        DayTarget,
        ExpenditureEstimate,
        FoodLogEntry,
        NutritionProfile,
        NutritionRun,
        PlanDay,
        ShoppingList,
    )
    from programs.models import (
        Adjustment,
        AssessmentLift,
        AthleteModel,
        AutoregulationRun,
        PlannedSession,
        PlannedSet,
        Prediction,
        ProgramBlock,
        SessionLog,
        SetLog,
    )

    basics = tenant_basics(tenant)
    squat, version, tier = basics["squat"], basics["version"], basics["tier"]
    # Platform rows of the login (idempotent for a person in two tenants).
    Token.objects.get_or_create(user=account)
    address = EmailAddress.objects.filter(user=account).first()
    EmailConfirmation.objects.get_or_create(email_address=address, key=f"key-{tag}")
    LogEntry.objects.create(user=account, object_repr=tag, action_flag=ADDITION)
    with tenant_context(tenant):
        athlete = AthleteProfile.objects.get(user=account)
        CheckIn.objects.create(athlete=athlete, date=DAY, hrv_rmssd_ms=Decimal("55.0"))
        from athletes.models import DeviceSample, ImportJob

        ImportJob.objects.create(athlete=athlete, kind="csv_checkins", filename=f"{tag}.csv",
                                 size_bytes=10)  # fmt: skip
        DeviceSample.objects.create(
            athlete=athlete, source="garmin", metric="steps", timestamp=timezone.now(),
            value=Decimal("9000"), day=DAY,
        )  # fmt: skip
        from athletes.models import CoachNote

        CoachNote.objects.create(athlete=athlete, body=f"Note on {tag}.")
        from athletes.models import Message

        Message.objects.create(athlete=athlete, from_client=True, body=f"Hello from {tag}.")
        policy, _ = ConsentPolicy.objects.get_or_create(
            purpose="health_data", version=1, defaults={"text": "Health data, plainly."}
        )
        ConsentEvent.objects.create(
            athlete=athlete, purpose="health_data", action="grant", policy=policy
        )
        assessment = Assessment.objects.create(athlete=athlete, date=DAY, hr_max_bpm=190)
        AssessmentLift.objects.create(
            assessment=assessment, exercise=squat, weight_kg=Decimal("100"), reps=5,
            e1rm_kg=Decimal("123.30"),
        )  # fmt: skip
        Enrolment.objects.create(
            athlete=athlete, tier=tier, methodology_version=version, started=DAY, ended=DAY
        )
        session = SessionLog.objects.create(
            athlete=athlete, date=DAY, kind="strength", duration_s=3600
        )
        SetLog.objects.create(
            session=session, exercise=squat, set_index=1, weight_kg=Decimal("100"), reps=5
        )
        block = ProgramBlock.objects.create(
            athlete=athlete, methodology_version=version, start_date=DAY, weeks=4
        )
        planned = PlannedSession.objects.create(
            block=block, athlete=athlete, date=DAY, week=1, kind="strength", name="Squat day",
            duration_min=60,
        )  # fmt: skip
        PlannedSet.objects.create(session=planned, exercise=squat, set_index=1, reps=5)
        run = AutoregulationRun.objects.create(
            athlete=athlete, date=DAY, methodology_version=version, autonomy="auto"
        )
        Adjustment.objects.create(
            athlete=athlete, planned_session=planned, effective_date=DAY, run=run,
            rule="short_sleep", before={"duration_min": 60}, after={"duration_min": 50},
            sentence="Shorter because you slept 5 h.", status="applied",
        )  # fmt: skip
        Alert.objects.create(
            client=Membership.objects.get(user=account), kind="plateau", severity=2,
            title="Back squat has stalled", evidence={"rule": "r", "points": []},
            dedupe_key=f"plateau:{tag}", day=DAY,
        )  # fmt: skip
        AthleteModel.objects.create(
            athlete=athlete, kind="anomaly", version="anomaly-1", fitted_on=DAY, n_days=28,
            blob=b"\x00fitted", meta={},
        )  # fmt: skip
        Prediction.objects.create(
            athlete=athlete, kind="e1rm", subject="back-squat", made_on=DAY, for_date=DAY,
            predicted=120.0, method="trend", reason="Predicted e1RM 120 kg.",
        )  # fmt: skip
        from programs.models import CalendarFeed

        CalendarFeed.objects.create(athlete=athlete, token_hash=f"{tag:c<64}"[:64])
        if not NutritionProfile.objects.filter(athlete=athlete).exists():
            NutritionProfile.objects.create(athlete=athlete, allergies=["peanuts"])
        DayTarget.objects.create(
            athlete=athlete, date=DAY, day_load="rest", energy_kcal=2000, protein_g=130,
            carbs_g=220, fat_g=67,
        )  # fmt: skip
        PlanDay.objects.create(athlete=athlete, date=DAY, target={"energy_kcal": 2000})
        FoodLogEntry.objects.create(
            athlete=athlete, date=DAY, key="food:banana", name="Banana", grams=Decimal("118"),
            energy_kcal=105, protein_g=1.3, carbs_g=27, fat_g=0.4,
        )  # fmt: skip
        ShoppingList.objects.create(athlete=athlete, start=DAY, end=DAY)
        estimate = ExpenditureEstimate.objects.create(
            athlete=athlete, date=DAY, window_days=28, weigh_ins=3, intake_days=2,
            formula_kcal=2400, previous_kcal=2400,
        )  # fmt: skip
        NutritionRun.objects.create(athlete=athlete, date=DAY, expenditure=estimate)
        Customer.objects.create(athlete=athlete, stripe_customer_id=f"cus_{tag}")
        subscription = Subscription.objects.create(
            athlete=athlete, tier=tier, stripe_subscription_id=f"sub_{tag}",
            stripe_customer_id=f"cus_{tag}", price_id="price_x", status="active",
        )  # fmt: skip
        Entitlement.objects.create(athlete=athlete, status="active", subscription=subscription)
        Invoice.objects.create(
            athlete=athlete, subscription=subscription, stripe_invoice_id=f"in_{tag}",
            status="paid", amount_due=1900, amount_paid=1900, currency="eur",
            issued=timezone.now(),
        )  # fmt: skip
        DataRequest.objects.create(athlete=athlete, kind="export", status="pending")
        from coaching.models import NightlyRun, NightlyStep

        night, _ = NightlyRun.objects.get_or_create(date=DAY)
        NightlyStep.objects.create(
            run=night, athlete=athlete, date=DAY, step="programs", status="done", ms=9
        )
        from coaching.models import Invitation

        Invitation.objects.create(
            email=account.email, role="client", token_hash=f"{account.pk:064d}",
            expires_at=timezone.now(), accepted_at=timezone.now(), accepted_by=account,
        )  # fmt: skip


def zip_of(row: DataRequest, settings) -> zipfile.ZipFile:
    return zipfile.ZipFile(settings.PRIVATE_MEDIA_ROOT / row.file)


# --- coverage --------------------------------------------------------------------------


def test_every_model_related_to_a_person_is_exported_and_erased_or_has_a_reason():
    undecided = [
        label
        for label in related_to_a_person()
        if label not in NOT_PERSONAL and not (label in EXPORTERS and label in ERASERS)
    ]
    assert undecided == [], (
        "Register an exporter and an eraser (athletes/privacy.py) or a NOT_PERSONAL reason"
    )


def test_registries_are_consistent():
    labels = {m._meta.label for m in apps.get_models()}
    assert set(EXPORTERS) == set(ERASERS)
    assert set(EXPORTERS) <= labels and set(NOT_PERSONAL) <= labels
    assert not set(EXPORTERS) & set(NOT_PERSONAL)
    assert all(reason.strip() for reason in NOT_PERSONAL.values())
    names = [e.name for e in EXPORTERS.values()]
    assert len(names) == len(set(names)), "one file per exporter"
    # The scans below need a way from each registered model to the person.
    assert [m._meta.label for m in registered_models() if path_to_user(m) is None] == []


# --- round trip ------------------------------------------------------------------------


@pytest.fixture
def private_root(settings, tmp_path):
    settings.PRIVATE_MEDIA_ROOT = tmp_path / "private"
    return settings


@pytest.fixture
def three_athletes(tenant_a, tenant_b, client_a, client_b):
    """A1 (client_a) with service-made programs and nutrition rows on top of a row in
    every personal model; A2 in the same tenant; B1 in tenant B."""
    from nutrition.services import nutrition_refresh

    a2 = factories.member(tenant_a, "client", email="second@alpha.test")
    start = DAY + datetime.timedelta(days=14)  # clear of personal_rows' DAY
    profile, _ = factories.enrolled_strength_athlete(tenant_a, client_a, start=start, weekdays=[0])
    factories.checkin(tenant_a, client_a, start - datetime.timedelta(days=1), body_weight_kg=70)
    with tenant_context(tenant_a):
        nutrition_refresh(athlete=profile, start=start, days=2)
    personal_rows(tenant_a, client_a, "a1")
    personal_rows(tenant_a, a2, "a2")
    personal_rows(tenant_b, client_b, "b1")
    return client_a, a2, client_b


def _exported_ids(archive: zipfile.ZipFile) -> dict[str, set]:
    """Model label -> exported primary keys (row numbers for models whose key is a secret
    left out of the export, e.g. API tokens: those compare by count)."""
    ids = {}
    for label, exporter in EXPORTERS.items():
        rows = json.loads(archive.read(f"{exporter.name}.json"))
        pk = exporter.model._meta.pk.attname
        ids[label] = {row[pk] if pk in row else f"row{i}" for i, row in enumerate(rows)}
    return ids


def _comparable(label: str, ids: set) -> set:
    pk = apps.get_model(label)._meta.pk.attname
    if pk in _secret_keys():
        return {f"row{i}" for i in range(len(ids))}
    return ids


def _secret_keys() -> set[str]:
    return {"key"}


def test_export_holds_all_of_the_athletes_rows_and_nobody_elses(
    private_root, tenant_a, tenant_b, three_athletes
):
    a1, a2, b1 = three_athletes
    # given an export request of A1
    with tenant_context(tenant_a):
        athlete = AthleteProfile.objects.get(user=a1)
        row = DataRequest.objects.create(athlete=athlete, kind="export", status="pending")
    # when the task builds it
    assert tasks.export_build(tenant_a.pk, row.pk) == "ready"
    with tenant_context(tenant_a):
        row.refresh_from_db()
        exported = _exported_ids(zip_of(row, private_root))
        expected = {
            m._meta.label: _comparable(m._meta.label, rows_of(m, a1.pk))
            for m in registered_models()
        }
        others = {m._meta.label: rows_of(m, a2.pk) for m in registered_models()}
    with tenant_context(tenant_b):
        b_rows = {m._meta.label: rows_of(m, b1.pk) for m in registered_models()}
    # then every model's file has exactly A1's rows: all of them, none of A2's or B1's
    for label, ids in exported.items():
        assert ids == expected[label], label
        assert not ids & others[label], label
        assert not ids & b_rows[label], label
    # and A1 has rows in every personal model, so no file is vacuously right
    empty = sorted(label for label, ids in exported.items() if not ids)
    assert empty == ["mfa.Authenticator"]  # client_a has no second factor
    assert len(exported["programs.PlannedSet"]) > 1  # the service-made block is in
    assert len(exported["nutrition.PlanDay"]) > 1  # so are the refreshed meal plans


def test_zip_has_csv_for_tables_and_a_readme(private_root, tenant_a, client_a):
    personal_rows(tenant_a, client_a, "a1")
    with tenant_context(tenant_a):
        athlete = AthleteProfile.objects.get(user=client_a)
        row = DataRequest.objects.create(athlete=athlete, kind="export", status="pending")
        services.export_build(request=row)
    archive = zip_of(row, private_root)
    names = set(archive.namelist())
    readme = archive.read("README.txt").decode()
    assert "Alpha Strength (alpha)" in readme
    for exporter in EXPORTERS.values():
        assert f"{exporter.name}.json" in names
        assert (f"{exporter.name}.csv" in names) == exporter.tabular
        assert exporter.name in readme
    for name in ("checkins", "session_logs", "set_logs", "body_metrics", "food_log",
                 "meal_plans", "adjustments", "consent_ledger", "invoices"):  # fmt: skip
        assert EXPORTERS[_label_of(name)].tabular, name
    checkins = list(csv.DictReader(io.StringIO(archive.read("checkins.csv").decode())))
    assert checkins[0]["hrv_rmssd_ms"] == "55.0"
    account = json.loads(archive.read("account.json"))
    assert account[0]["email"] == "client@alpha.test" and "password" not in account[0]
    assert "key" not in json.loads(archive.read("api_tokens.json"))[0]


def _label_of(name: str) -> str:
    return next(label for label, e in EXPORTERS.items() if e.name == name)


def test_export_request_enqueues_the_build_after_commit(
    tenant_a, client_a, monkeypatch, django_capture_on_commit_callbacks
):
    sent = []
    monkeypatch.setattr(tasks.export_build, "delay", lambda *args: sent.append(args))
    with tenant_context(tenant_a):
        athlete = AthleteProfile.objects.get(user=client_a)
        with django_capture_on_commit_callbacks(execute=True):
            row = services.export_request(athlete=athlete, requested_by=client_a.pk)
    assert sent == [(tenant_a.pk, row.pk)]
    assert row.status == "pending"


# --- the signed link and the page ------------------------------------------------------


@pytest.fixture
def built(private_root, tenant_a, client_a):
    with tenant_context(tenant_a):
        athlete = AthleteProfile.objects.get(user=client_a)
        row = DataRequest.objects.create(athlete=athlete, kind="export", status="pending")
        row = services.export_build(request=row)
    return row


def test_page_shows_a_download_link_that_serves_the_zip(client, tenant_a, client_a, built):
    client.force_login(client_a)
    page = client.get("/t/alpha/privacy/")
    assert page.status_code == 200
    with tenant_context(tenant_a):
        link = f"/t/alpha/privacy/download/{services.download_token(built)}/"
    assert link.encode() in page.content
    response = client.get(link)
    assert response.status_code == 200
    assert response["Content-Disposition"].startswith("attachment")
    archive = zipfile.ZipFile(io.BytesIO(b"".join(response.streaming_content)))
    assert "README.txt" in archive.namelist()
    with tenant_context(tenant_a):
        assert AuditEvent.objects.filter(action="export.download", actor_user_id=client_a.pk)


def test_link_is_404_for_someone_else_another_tenant_or_after_24_hours(
    client, tenant_a, tenant_b, client_a, client_b, built
):
    with tenant_context(tenant_a):
        token = services.download_token(built)
    other = factories.member(tenant_a, "client", email="nosy@alpha.test")
    client.force_login(other)
    assert client.get(f"/t/alpha/privacy/download/{token}/").status_code == 404
    client.force_login(client_b)
    assert client.get(f"/t/bravo/privacy/download/{token}/").status_code == 404
    client.force_login(client_a)
    assert client.get(f"/t/alpha/privacy/download/{token}x/").status_code == 404
    # a link signed at build time expires 24 h later
    with tenant_context(tenant_a):
        DataRequest.objects.filter(pk=built.pk).update(
            finished_at=timezone.now() - datetime.timedelta(hours=25)
        )
        built.refresh_from_db()
        old = services.download_token(built)
        assert services.export_expired(built)
    assert client.get(f"/t/alpha/privacy/download/{old}/").status_code == 404
    # and the hourly task removes the expired ZIP from disk
    path = services.export_path(built)
    assert path.is_file()
    assert tasks.erasures_run() == 0
    with tenant_context(tenant_a):
        built.refresh_from_db()
    assert (built.status, built.file, path.exists()) == ("expired", "", False)


def test_client_requests_an_export_from_the_page(client, tenant_a, client_a, monkeypatch):
    monkeypatch.setattr(tasks.export_build, "delay", lambda *args: None)
    client.force_login(client_a)
    response = client.post("/t/alpha/privacy/export/")
    assert response.status_code == 302
    with tenant_context(tenant_a):
        assert DataRequest.objects.filter(kind="export", athlete__user=client_a).count() == 1


# --- API -------------------------------------------------------------------------------


def test_api_creates_and_lists_own_requests_and_hides_other_tenants(
    tenant_a, tenant_b, client_a, client_b, monkeypatch
):
    monkeypatch.setattr(tasks.export_build, "delay", lambda *args: None)
    api = APIClient()
    api.force_authenticate(client_b)
    theirs = api.post("/t/bravo/api/v1/data-requests/", {"kind": "export"}, format="json")
    assert theirs.status_code == 201
    api.force_authenticate(client_a)
    mine = api.post("/t/alpha/api/v1/data-requests/", {"kind": "erasure"}, format="json")
    assert mine.status_code == 201 and mine.json()["status"] == "scheduled"
    listed = api.get("/t/alpha/api/v1/data-requests/").json()
    assert [r["id"] for r in listed["results"]] == [mine.json()["id"]]
    assert api.get(f"/t/alpha/api/v1/data-requests/{theirs.json()['id']}/").status_code == 404
    # a client can't act for another athlete: the same 404 as a missing one
    a2 = factories.member(tenant_a, "client", email="second@alpha.test")
    with tenant_context(tenant_a):
        a2_id = AthleteProfile.objects.get(user=a2).pk
    body = {"kind": "export", "athlete": a2_id}
    assert api.post("/t/alpha/api/v1/data-requests/", body, format="json").status_code == 404
    cancel = api.post(f"/t/alpha/api/v1/data-requests/{mine.json()['id']}/cancel/")
    assert cancel.status_code == 200 and cancel.json()["status"] == "cancelled"
    again = api.post(f"/t/alpha/api/v1/data-requests/{mine.json()['id']}/cancel/")
    assert again.status_code == 409 and again.json()["error"]["code"] == "not_scheduled"
