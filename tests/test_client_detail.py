"""The coach's page of one client: what it shows, who may open it (and that opening it is
audited), the revert button on the changes timeline, and coach notes (encrypted, pinned
first, shown in the review queue beside the client's pending changes)."""

from __future__ import annotations

import datetime
from decimal import Decimal

import pytest
from django.db import connection, transaction
from django.utils import timezone

from athletes import consent
from athletes.models import AthleteProfile, CoachNote
from coaching.models import Alert, AuditEvent, Membership
from coaching.tenancy import tenant_context
from programs import services
from programs.models import Adjustment
from programs.services.adjustments import session_rx
from tests import factories

TODAY = timezone.localdate()
NIGHT = TODAY - datetime.timedelta(days=1)
START = TODAY - datetime.timedelta(days=7)
WEEKDAYS = sorted({(TODAY + datetime.timedelta(days=d)).weekday() for d in (0, 2, 4)})


def premium_client_with_a_pending_change(tenant, account) -> tuple[AthleteProfile, Adjustment]:
    """A premium client whose HRV sat below baseline for a week: last night's run drafted
    a change that waits for the coach (the engine's real path, as tests/test_adjustments)."""
    profile, _ = factories.enrolled_strength_athlete(
        tenant, account, start=START, weekdays=WEEKDAYS, autonomy="approve"
    )
    for k in range(70):
        day = NIGHT - datetime.timedelta(days=69 - k)
        rmssd = Decimal("40") if k >= 63 else Decimal("58" if k % 2 else "62")
        factories.checkin(tenant, account, day, hrv_rmssd_ms=rmssd, sleep_hours=Decimal("7.5"))
    with tenant_context(tenant):
        services.autoregulate(athlete=profile, date=NIGHT)
        [adjustment] = Adjustment.objects.filter(athlete=profile, status="pending")
    return profile, adjustment


@pytest.fixture
def athlete(tenant_a, client_a):
    profile, _ = factories.enrolled_strength_athlete(
        tenant_a, client_a, start=START, weekdays=WEEKDAYS
    )
    return profile


def url(athlete_id: int, rest: str = "") -> str:
    return f"/t/alpha/clients/{athlete_id}/{rest}"


def test_the_coach_sees_profile_baseline_block_alerts_and_the_view_is_audited(
    client, tenant_a, coach_a, client_a, athlete
):
    with tenant_context(tenant_a):
        alert = Alert.objects.create(
            client=Membership.objects.get(user=client_a), kind="plateau", severity=2,
            title="Back squat has stalled", evidence={"rule": "r", "points": []},
            dedupe_key="plateau:x", day=TODAY,
        )  # fmt: skip
    client.force_login(coach_a)
    page = client.get(url(athlete.pk))
    assert page.status_code == 200
    html = page.content.decode()
    assert "Client" in html and "client@alpha.test" in html
    assert "Back squat" in html and "140 kg" in html  # the baseline lift's e1RM
    assert f'href="/t/alpha/plan/{athlete.pk}/"' in html
    assert f"{START.day} {START:%b} – " in html and "4 weeks" in html  # the block's summary
    assert f'href="/t/alpha/alerts/{alert.pk}/"' in html
    with tenant_context(tenant_a):
        event = AuditEvent.objects.filter(action="client.view").latest("at")
    assert event.subject_user_id == client_a.pk and event.actor_user_id == coach_a.pk
    assert event.detail == {"page": "client", "athlete_id": athlete.pk}


def test_clients_and_other_tenants_athletes_are_404(
    client, tenant_a, tenant_b, owner_a, client_a, client_b, athlete
):
    client.force_login(client_a)
    assert client.get(url(athlete.pk)).status_code == 404
    with tenant_context(tenant_b):
        theirs = AthleteProfile.objects.get(user=client_b)
    client.force_login(owner_a)
    missing = client.get(url(999999))
    other = client.get(url(theirs.pk))
    assert other.status_code == missing.status_code == 404
    assert other.content == missing.content
    assert client.post(url(theirs.pk, "notes/"), {"body": "x"}).status_code == 404


def test_readiness_trend_is_an_svg_only_with_coach_access(
    client, tenant_a, coach_a, client_a, athlete
):
    with tenant_context(tenant_a):
        from programs.models import AutoregulationRun

        for k, score in enumerate([55.0, 48.0, 38.2]):
            AutoregulationRun.objects.create(
                athlete=athlete, date=TODAY - datetime.timedelta(days=3 - k),
                methodology_version=athlete.blocks.get().methodology_version, autonomy="auto",
                readiness_score=score,
            )  # fmt: skip
    client.force_login(coach_a)
    html = client.get(url(athlete.pk)).content.decode()
    section = html[html.index("readiness-h") :][:1500]
    assert "<svg" in html and "<polyline" in html and "latest 38 of 100" in html, section
    with tenant_context(tenant_a):
        consent.consent_withdraw(athlete=athlete, purpose=consent.COACH_ACCESS)
    html = client.get(url(athlete.pk)).content.decode()
    assert "<polyline" not in html and "has not given coach access" in html


def test_notes_are_encrypted_listed_pinned_first_and_deletable(client, tenant_a, coach_a, athlete):
    client.force_login(coach_a)
    for body, pinned in [("Older pinned", True), ("Plain one", False), ("Newest plain", False)]:
        data = {"body": body, **({"pinned": "on"} if pinned else {})}
        assert client.post(url(athlete.pk, "notes/"), data).status_code == 302
    html = client.get(url(athlete.pk)).content.decode()
    order = [html.index(t) for t in ("Older pinned", "Newest plain", "Plain one")]
    assert order == sorted(order)
    with tenant_context(tenant_a), transaction.atomic():
        with connection.cursor() as cursor:
            cursor.execute("SELECT body FROM athletes_coachnote")
            stored = [row[0] for row in cursor.fetchall()]
    assert len(stored) == 3 and not any("plain" in s.lower() for s in stored)
    with tenant_context(tenant_a):
        note = next(n for n in CoachNote.objects.all() if n.body == "Plain one")
    assert client.post(url(athlete.pk, f"notes/{note.pk}/delete/")).status_code == 302
    with tenant_context(tenant_a):
        assert sorted(n.body for n in CoachNote.objects.all()) == ["Newest plain", "Older pinned"]
        assert AuditEvent.objects.filter(action="coach_note.delete").count() == 1


def test_an_empty_or_too_long_note_is_a_form_error_that_keeps_the_text(
    client, tenant_a, coach_a, athlete
):
    client.force_login(coach_a)
    empty = client.post(url(athlete.pk, "notes/"), {"body": "   "})
    assert empty.status_code == 400 and "Write something first." in empty.content.decode()
    long_text = "knee " * 900
    too_long = client.post(url(athlete.pk, "notes/"), {"body": long_text, "pinned": "on"})
    html = too_long.content.decode()
    assert too_long.status_code == 400 and "at most 4000 characters" in html
    assert long_text.strip() in html and 'name="pinned" id="id_pinned" checked' in html.replace(
        'type="checkbox" ', ""
    )
    with tenant_context(tenant_a):
        assert CoachNote.objects.count() == 0


def test_a_client_cannot_write_notes_and_the_service_refuses_them(tenant_a, client_a, athlete):
    from athletes import services as athlete_services

    with tenant_context(tenant_a):
        member = Membership.objects.get(user=client_a)
        with pytest.raises(athlete_services.CoachNoteInvalid):
            athlete_services.coach_note_create(athlete=athlete, author=member, body="hi")


def test_pinned_notes_stand_beside_the_clients_pending_change_in_the_review_queue(
    client, tenant_a, coach_a, client_a
):
    profile, adjustment = premium_client_with_a_pending_change(tenant_a, client_a)
    client.force_login(coach_a)
    client.post(url(profile.pk, "notes/"), {"body": "Exams until the 20th", "pinned": "on"})
    client.post(url(profile.pk, "notes/"), {"body": "Unpinned aside"})
    html = client.get("/t/alpha/review/").content.decode()
    row = html[html.index(f'value="{adjustment.pk}"') :]
    row = row[: row.index("</tr>")]
    assert "Exams until the 20th" in row and "Unpinned aside" not in html


def test_revert_on_the_timeline_restores_the_previous_prescription(
    client, tenant_a, coach_a, client_a
):
    profile, adjustment = premium_client_with_a_pending_change(tenant_a, client_a)
    with tenant_context(tenant_a):
        session = adjustment.planned_session
        before = session_rx(session)
        services.adjustment_approve(adjustment=adjustment, by=Membership.objects.get(user=coach_a))
    client.force_login(coach_a)
    html = client.get(url(profile.pk)).content.decode()
    assert adjustment.sentence in html
    revert = url(profile.pk, f"changes/{adjustment.pk}/revert/")
    assert f'action="{revert}"' in html
    response = client.post(revert)
    assert response.status_code == 302 and response["Location"] == url(profile.pk)
    with tenant_context(tenant_a):
        adjustment.refresh_from_db()
        assert adjustment.status == "reverted"
        assert session_rx(session).as_dict() == before.as_dict()
    # a second revert of the same change is not offered (and is a 404)
    assert client.post(revert).status_code == 404
