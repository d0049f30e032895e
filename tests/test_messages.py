"""The client-coach thread: hybrid and premium only, both directions, read marks, bad
input kept, and nobody else's thread."""

from __future__ import annotations

import pytest

from athletes.models import AthleteProfile, Message
from coaching.tenancy import tenant_context
from tests import factories


@pytest.fixture
def hybrid(tenant_a, client_a):
    import datetime

    profile, _ = factories.enrolled_strength_athlete(
        tenant_a, client_a, start=datetime.date(2026, 11, 2), weekdays=[0, 2, 4], autonomy="queue"
    )
    return profile


def _thread(tenant):
    with tenant_context(tenant):
        return list(Message.objects.order_by("id"))


def test_client_and_coach_write_and_each_sees_the_other_read(
    client, tenant_a, client_a, coach_a, hybrid
):
    client.force_login(client_a)
    assert client.get("/t/alpha/messages/").status_code == 200
    assert (
        client.post("/t/alpha/messages/", {"body": "Knee is sore after squats."}).status_code == 302
    )
    client.force_login(coach_a)
    page = client.get(f"/t/alpha/messages/{hybrid.pk}/")
    assert page.status_code == 200 and "Knee is sore after squats." in page.content.decode()
    client.post(f"/t/alpha/messages/{hybrid.pk}/", {"body": "Box squats this week, then."})
    first, second = _thread(tenant_a)
    assert first.from_client and first.read_at is not None  # the coach opened the thread
    assert not second.from_client and second.read_at is None
    client.force_login(client_a)
    body = client.get("/t/alpha/messages/").content.decode()
    assert "Box squats this week, then." in body and "coach@alpha.test" in body
    assert _thread(tenant_a)[1].read_at is not None
    # the detail page links the thread
    client.force_login(coach_a)
    detail = client.get(f"/t/alpha/clients/{hybrid.pk}/").content.decode()
    assert f'href="/t/alpha/messages/{hybrid.pk}/"' in detail


def test_an_empty_or_long_message_is_refused_and_kept(client, tenant_a, client_a, hybrid):
    client.force_login(client_a)
    empty = client.post("/t/alpha/messages/", {"body": "   "})
    assert empty.status_code == 400 and "Write something first." in empty.content.decode()
    long = client.post("/t/alpha/messages/", {"body": "x" * 4001})
    assert long.status_code == 400 and "under 4000 characters" in long.content.decode()
    assert "x" * 4001 in long.content.decode()  # what was typed comes back
    assert _thread(tenant_a) == []


def test_diy_has_no_coach_messages(client, tenant_a, client_a, coach_a):
    import datetime

    profile, _ = factories.enrolled_strength_athlete(
        tenant_a, client_a, start=datetime.date(2026, 11, 2), weekdays=[0, 2, 4], autonomy="auto"
    )
    client.force_login(client_a)
    page = client.get("/t/alpha/messages/").content.decode()
    assert "do-it-yourself tier" in page and "<textarea" not in page
    refused = client.post("/t/alpha/messages/", {"body": "Hello?"})
    assert refused.status_code == 400
    client.force_login(coach_a)
    assert client.post(f"/t/alpha/messages/{profile.pk}/", {"body": "Hi"}).status_code == 400
    assert _thread(tenant_a) == []


def test_nobody_else_reads_a_thread(client, tenant_a, tenant_b, client_a, coach_a, hybrid):
    other = factories.member(tenant_a, "client", email="other@alpha.test")
    client.force_login(other)
    assert client.get(f"/t/alpha/messages/{hybrid.pk}/").status_code == 404
    client.force_login(client_a)
    assert client.get(f"/t/alpha/messages/{hybrid.pk}/").status_code == 404  # staff URL
    client.force_login(coach_a)
    assert client.get("/t/alpha/messages/").status_code == 404  # a coach has no own thread
    outsider = factories.member(tenant_b, "coach", email="coach@bravo.test", mfa=True)
    client.force_login(outsider)
    assert client.get(f"/t/bravo/messages/{hybrid.pk}/").status_code == 404
    with tenant_context(tenant_b):
        assert not AthleteProfile.objects.filter(pk=hybrid.pk).exists()
