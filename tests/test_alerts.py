"""Coach by exception: alerts raised once per key, a ranked inbox cut at the coach's daily
budget with the overflow in a digest e-mail, routing by assigned coach, decisions
(acknowledge, snooze, resolve) over the API and the page, and the isolation contract."""

from __future__ import annotations

import datetime

import pytest
from django.core import mail
from rest_framework.test import APIClient

from coaching import selectors, services
from coaching.models import Alert, Membership
from coaching.tenancy import tenant_context
from coaching.views import evidence_display
from tests import factories

A = "/t/alpha/api/v1"
DAY = datetime.date(2026, 11, 23)
MISSING = 987654321


@pytest.fixture
def api():
    return APIClient()


def _member(tenant, account) -> Membership:
    with tenant_context(tenant):
        return Membership.objects.select_related("user").get(user=account)


def _raise(
    tenant,
    account,
    key: str,
    *,
    kind: str = "plateau",
    severity: int = 2,
    day: datetime.date = DAY,
    title: str | None = None,
    evidence: dict | None = None,
) -> Alert:
    with tenant_context(tenant):
        alert, _created = services.alert_raise(
            client=_member(tenant, account),
            kind=kind,
            severity=severity,
            title=title or f"Alert {key}",
            evidence=evidence
            or {
                "rule": "theil_sen_slope_le_0",
                "params": {"weeks": 4, "exercise": "back-squat"},
                "points": [
                    {"week": "2026-W44", "e1rm_kg": 141.2},
                    {"week": "2026-W45", "e1rm_kg": 140.8},
                ],
            },
            dedupe_key=key,
            day=day,
        )
    return alert


def _inbox(tenant, account, day: datetime.date = DAY) -> selectors.Inbox:
    with tenant_context(tenant):
        return selectors.alert_inbox(_member(tenant, account), day)


def _keys(alerts) -> list[str]:
    return [a.dedupe_key for a in alerts]


def _today(tenant) -> datetime.date:
    return selectors.tenant_today(tenant)


def _reload(tenant, alert: Alert) -> Alert:
    with tenant_context(tenant):
        return Alert.objects.get(pk=alert.pk)


@pytest.fixture
def coach_x(tenant_a):
    return factories.member(tenant_a, "coach", email="xavier@alpha.test", mfa=True)


# --- raising ---------------------------------------------------------------------------


def test_raising_the_same_key_twice_is_a_no_op(tenant_a, client_a):
    # given an alert raised by a nightly run
    first = _raise(tenant_a, client_a, "plateau:back-squat:2026-W47", title="Squat has stalled")
    # when the next run raises the same key with other values
    with tenant_context(tenant_a):
        again, created = services.alert_raise(
            client=_member(tenant_a, client_a),
            kind="decline",
            severity=3,
            title="Something else",
            evidence={"rule": "other"},
            dedupe_key="plateau:back-squat:2026-W47",
            day=DAY + datetime.timedelta(days=1),
        )
        count = Alert.objects.count()
    # then it is the same alert, unchanged
    assert (created, again.pk, count) == (False, first.pk, 1)
    assert (again.kind, again.severity, again.title) == ("plateau", 2, "Squat has stalled")


def test_the_same_key_about_two_clients_is_two_alerts(tenant_a, client_a):
    # detector keys name the finding, not the client
    other = factories.member(tenant_a, "client", email="other@alpha.test")
    first = _raise(tenant_a, client_a, "plateau:back-squat:2026-W47")
    second = _raise(tenant_a, other, "plateau:back-squat:2026-W47")
    assert first.pk != second.pk
    assert (first.client.user_id, second.client.user_id) == (client_a.pk, other.pk)


def test_a_resolved_alert_stays_resolved_when_raised_again(tenant_a, coach_a, client_a):
    alert = _raise(tenant_a, client_a, "decline:k1")
    with tenant_context(tenant_a):
        services.alert_resolve(alert=alert, by=_member(tenant_a, coach_a))
    again = _raise(tenant_a, client_a, "decline:k1")
    assert again.pk == alert.pk
    assert _reload(tenant_a, alert).status == "resolved"
    assert _inbox(tenant_a, coach_a).shown == []


def test_evidence_keeps_dates_and_decimals_as_text(tenant_a, client_a):
    from decimal import Decimal

    alert = _raise(
        tenant_a,
        client_a,
        "rpe:1",
        evidence={"rule": "rpe_drift", "points": [{"day": DAY, "rpe": Decimal("8.5")}]},
    )
    assert _reload(tenant_a, alert).evidence["points"] == [{"day": "2026-11-23", "rpe": "8.5"}]


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"kind": "sunburn"}, "kind"),
        ({"severity": 4}, "severity"),
        ({"title": "  "}, "title"),
        ({"evidence": ["not", "an", "object"]}, "evidence"),
        ({"evidence": {"rule": object()}}, "evidence"),
        ({"dedupe_key": ""}, "dedupe_key"),
    ],
)
def test_raise_refuses_bad_input_naming_the_field(tenant_a, client_a, change, field):
    values = {
        "kind": "plateau",
        "severity": 2,
        "title": "Fine",
        "evidence": {"rule": "r"},
        "dedupe_key": "k",
        "day": DAY,
        **change,
    }
    with tenant_context(tenant_a):
        with pytest.raises(services.AlertInvalid) as caught:
            services.alert_raise(client=_member(tenant_a, client_a), **values)
        assert Alert.objects.count() == 0
    assert field in caught.value.fields
    assert caught.value.status == 400


def test_alerts_are_about_clients_of_this_business_only(tenant_a, tenant_b, coach_a, client_b):
    # a coach is not a client, and tenant B's client is not ours
    for membership in (_member(tenant_a, coach_a), _member(tenant_b, client_b)):
        with tenant_context(tenant_a), pytest.raises(services.AlertInvalid) as caught:
            services.alert_raise(
                client=membership,
                kind="plateau",
                severity=1,
                title="t",
                evidence={},
                dedupe_key=f"k{membership.pk}",
                day=DAY,
            )
        assert "client" in caught.value.fields


# --- the inbox: ranking, budget, digest -------------------------------------------------


def test_budget_shows_ten_ranked_and_puts_the_overflow_in_the_digest(tenant_a, coach_a, client_a):
    # given 13 open alerts: 4 high, 5 medium, 4 low
    for i in range(13):
        severity = 3 if i < 4 else 2 if i < 9 else 1
        _raise(tenant_a, client_a, f"k{i:02}", severity=severity)
    # when the coach opens today's inbox
    inbox = _inbox(tenant_a, coach_a)
    # then ten are shown, most severe first, and the three lowest wait in the digest
    assert inbox.budget == 10
    assert [a.severity for a in inbox.shown] == [3] * 4 + [2] * 5 + [1]
    assert _keys(inbox.digest) == ["k10", "k11", "k12"]
    assert {a.severity for a in inbox.digest} == {1}


def test_ranking_is_severity_then_kind_then_oldest_and_acknowledged_last(
    tenant_a, coach_a, client_a
):
    earlier = DAY - datetime.timedelta(days=3)
    _raise(tenant_a, client_a, "plateau-new", kind="plateau", severity=2)
    _raise(tenant_a, client_a, "plateau-old", kind="plateau", severity=2, day=earlier)
    _raise(tenant_a, client_a, "decline", kind="decline", severity=2)
    _raise(tenant_a, client_a, "payment", kind="payment_failed", severity=3)
    _raise(tenant_a, client_a, "low", kind="decline", severity=1)
    seen = _raise(tenant_a, client_a, "seen-high", kind="decline", severity=3)
    with tenant_context(tenant_a):
        services.alert_acknowledge(alert=seen, by=_member(tenant_a, coach_a))
    assert _keys(_inbox(tenant_a, coach_a).shown) == [
        "payment",  # high beats medium, whatever the kind
        "decline",  # same severity: the client's health before a plateau
        "plateau-old",  # same severity and kind: the one waiting longest first
        "plateau-new",
        "low",
        "seen-high",  # acknowledged: still visible, below everything not yet looked at
    ]


def test_alerts_for_a_later_day_are_not_in_todays_inbox(tenant_a, coach_a, client_a):
    _raise(tenant_a, client_a, "tomorrow", day=DAY + datetime.timedelta(days=1))
    assert _inbox(tenant_a, coach_a).shown == []


def test_each_coach_sets_their_own_budget(tenant_a, coach_a, owner_a, client_a):
    with tenant_context(tenant_a):
        Membership.objects.filter(user=coach_a).update(alert_daily_budget=2)
    for i in range(4):
        _raise(tenant_a, client_a, f"k{i}")
    assert (len(_inbox(tenant_a, coach_a).shown), len(_inbox(tenant_a, coach_a).digest)) == (2, 2)
    assert (len(_inbox(tenant_a, owner_a).shown), len(_inbox(tenant_a, owner_a).digest)) == (4, 0)


def test_acknowledged_overflow_is_not_mailed_again(tenant_a, coach_a, client_a):
    with tenant_context(tenant_a):
        Membership.objects.filter(user=coach_a).update(alert_daily_budget=1)
    _raise(tenant_a, client_a, "open", severity=1)
    seen = _raise(tenant_a, client_a, "seen", severity=1)
    with tenant_context(tenant_a):
        services.alert_acknowledge(alert=seen, by=_member(tenant_a, coach_a))
    inbox = _inbox(tenant_a, coach_a)
    assert (_keys(inbox.shown), inbox.digest) == (["open"], [])


# --- routing by assigned coach ----------------------------------------------------------


def test_assigned_clients_alerts_go_to_their_coach_only(
    api, tenant_a, owner_a, coach_a, coach_x, client_a
):
    # given client A assigned to coach X, and an unassigned client
    other = factories.member(tenant_a, "client", email="unassigned@alpha.test")
    with tenant_context(tenant_a):
        services.membership_assign_coach(
            client=_member(tenant_a, client_a), coach=_member(tenant_a, coach_x)
        )
    mine = _raise(tenant_a, client_a, "assigned")
    _raise(tenant_a, other, "unassigned")
    # then X sees both, coach A only the unassigned one, and so does the owner's inbox
    assert _keys(_inbox(tenant_a, coach_x).shown) == ["assigned", "unassigned"]
    assert _keys(_inbox(tenant_a, coach_a).shown) == ["unassigned"]
    assert _keys(_inbox(tenant_a, owner_a).shown) == ["unassigned"]
    # and over the API coach A cannot open X's client's alert, nor decide it
    api.force_authenticate(coach_a)
    assert api.get(f"{A}/alerts/{mine.pk}/").status_code == 404
    assert api.post(f"{A}/alerts/{mine.pk}/resolve/").status_code == 404
    assert _reload(tenant_a, mine).status == "open"
    # while the owner, who oversees the business, may open it
    api.force_authenticate(owner_a)
    assert api.get(f"{A}/alerts/{mine.pk}/").status_code == 200


def test_assigning_a_coach_over_the_api(api, tenant_a, tenant_b, owner_a, coach_x, client_a):
    client = _member(tenant_a, client_a)
    coach = _member(tenant_a, coach_x)
    api.force_authenticate(owner_a)
    # when staff assign coach X
    response = api.post(f"{A}/memberships/{client.pk}/coach/", {"coach": coach.pk}, format="json")
    # then the client's coach is X
    assert response.status_code == 200, response.json()
    assert response.json()["coach"] == coach.pk
    assert _member(tenant_a, client_a).coach_id == coach.pk
    # and null unassigns
    response = api.post(f"{A}/memberships/{client.pk}/coach/", {"coach": None}, format="json")
    assert response.status_code == 200 and _member(tenant_a, client_a).coach_id is None


def test_a_coach_must_be_a_coach_of_this_business(
    api, tenant_a, tenant_b, owner_a, client_a, client_b
):
    client = _member(tenant_a, client_a)
    peer = _member(tenant_a, factories.member(tenant_a, "client", email="peer@alpha.test"))
    foreign = factories.member(tenant_b, "coach", email="coach@bravo.test", mfa=True)
    api.force_authenticate(owner_a)
    url = f"{A}/memberships/{client.pk}/coach/"
    not_a_coach = api.post(url, {"coach": peer.pk}, format="json")
    assert not_a_coach.status_code == 400
    assert not_a_coach.json()["error"]["code"] == "assignment_invalid"
    assert "coach" in not_a_coach.json()["error"]["fields"]
    other_tenant = api.post(url, {"coach": _member(tenant_b, foreign).pk}, format="json")
    assert other_tenant.status_code == 400
    assert other_tenant.json()["error"]["fields"]["coach"] == ["No such object."]
    # a coach is not a client: assigning to a coach's membership is refused
    owner = _member(tenant_a, owner_a)
    response = api.post(f"{A}/memberships/{owner.pk}/coach/", {"coach": owner.pk}, format="json")
    assert response.status_code == 400 and "client" in response.json()["error"]["fields"]
    assert _member(tenant_a, client_a).coach_id is None


def test_clients_cannot_list_members_or_assign(api, tenant_a, coach_a, client_a):
    client = _member(tenant_a, client_a)
    api.force_authenticate(client_a)
    assert api.get(f"{A}/memberships/").status_code == 404
    assert (
        api.post(
            f"{A}/memberships/{client.pk}/coach/",
            {"coach": _member(tenant_a, coach_a).pk},
            format="json",
        ).status_code
        == 404
    )


# --- decisions --------------------------------------------------------------------------


def test_snooze_hides_the_alert_until_its_day(tenant_a, coach_a, client_a):
    today = _today(tenant_a)
    alert = _raise(tenant_a, client_a, "k", day=today)
    until = today + datetime.timedelta(days=3)
    with tenant_context(tenant_a):
        services.alert_snooze(alert=alert, by=_member(tenant_a, coach_a), until=until)
    assert _inbox(tenant_a, coach_a, today).shown == []
    assert _inbox(tenant_a, coach_a, until - datetime.timedelta(days=1)).shown == []
    back = _inbox(tenant_a, coach_a, until).shown
    assert _keys(back) == ["k"] and back[0].status == "snoozed"


@pytest.mark.parametrize("offset", [0, -1, 400])
def test_snooze_needs_a_day_after_today_within_a_year(api, tenant_a, coach_a, client_a, offset):
    alert = _raise(tenant_a, client_a, "k", day=_today(tenant_a))
    api.force_authenticate(coach_a)
    until = _today(tenant_a) + datetime.timedelta(days=offset)
    response = api.post(f"{A}/alerts/{alert.pk}/snooze/", {"until": until}, format="json")
    assert response.status_code == 400
    body = response.json()["error"]
    assert body["code"] == "alert_invalid" and body["fields"]["until"]
    assert _reload(tenant_a, alert).status == "open"


def test_decisions_over_the_api_and_refused_transitions(api, tenant_a, coach_a, client_a):
    alert = _raise(tenant_a, client_a, "k", day=_today(tenant_a))
    coach = _member(tenant_a, coach_a)
    api.force_authenticate(coach_a)
    # acknowledge
    response = api.post(f"{A}/alerts/{alert.pk}/acknowledge/")
    assert response.status_code == 200
    assert (response.json()["status"], response.json()["decided_by"]) == ("acknowledged", coach.pk)
    # acknowledging twice is refused with a message that says why
    twice = api.post(f"{A}/alerts/{alert.pk}/acknowledge/")
    assert twice.status_code == 409
    assert twice.json()["error"]["code"] == "alert_transition_refused"
    assert "already acknowledged" in twice.json()["error"]["message"]
    # snooze, then resolve
    until = (_today(tenant_a) + datetime.timedelta(days=2)).isoformat()
    snoozed = api.post(f"{A}/alerts/{alert.pk}/snooze/", {"until": until}, format="json")
    assert (snoozed.status_code, snoozed.json()["snoozed_until"]) == (200, until)
    resolved = api.post(f"{A}/alerts/{alert.pk}/resolve/")
    assert resolved.status_code == 200
    assert (resolved.json()["status"], resolved.json()["snoozed_until"]) == ("resolved", None)
    # a resolved alert takes no further decision, and nothing about it is lost
    for decision, body in (("resolve", {}), ("acknowledge", {}), ("snooze", {"until": until})):
        refused = api.post(f"{A}/alerts/{alert.pk}/{decision}/", body, format="json")
        assert refused.status_code == 409, decision
        assert "already resolved" in refused.json()["error"]["message"]
    final = _reload(tenant_a, alert)
    assert (final.status, final.decided_by_id, final.evidence) == (
        "resolved",
        coach.pk,
        alert.evidence,
    )


def test_retrieve_carries_the_evidence_and_list_views(api, tenant_a, coach_a, client_a):
    today = _today(tenant_a)
    with tenant_context(tenant_a):
        Membership.objects.filter(user=coach_a).update(alert_daily_budget=1)
    first = _raise(tenant_a, client_a, "high", severity=3, day=today)
    _raise(tenant_a, client_a, "low", severity=1, day=today)
    done = _raise(tenant_a, client_a, "done", severity=3, day=today)
    with tenant_context(tenant_a):
        services.alert_resolve(alert=done, by=_member(tenant_a, coach_a))
    api.force_authenticate(coach_a)

    def keys(view: str | None) -> list[str]:
        url = f"{A}/alerts/" + (f"?view={view}" if view else "")
        return [row["dedupe_key"] for row in api.get(url).json()["results"]]

    assert keys(None) == keys("inbox") == ["high"]
    assert keys("digest") == ["low"]
    assert sorted(keys("all")) == ["done", "high", "low"]
    assert "evidence" not in api.get(f"{A}/alerts/").json()["results"][0]
    detail = api.get(f"{A}/alerts/{first.pk}/").json()
    assert detail["evidence"]["rule"] == "theil_sen_slope_le_0"
    assert detail["client_label"] == "client@alpha.test"
    bad = api.get(f"{A}/alerts/?view=everything")
    assert bad.status_code == 400 and "view" in bad.json()["error"]["fields"]


# --- isolation --------------------------------------------------------------------------


def test_clients_never_see_alerts(api, tenant_a, client_a):
    alert = _raise(tenant_a, client_a, "about-me")
    api.force_authenticate(client_a)
    assert api.get(f"{A}/alerts/").status_code == 404
    assert api.get(f"{A}/alerts/{alert.pk}/").status_code == 404
    assert api.post(f"{A}/alerts/{alert.pk}/acknowledge/").status_code == 404
    assert _reload(tenant_a, alert).status == "open"


def test_another_tenants_alert_is_the_same_404_as_a_missing_one(
    api, tenant_a, tenant_b, coach_a, client_b
):
    theirs = _raise(tenant_b, client_b, "bravo")
    api.force_authenticate(coach_a)
    for suffix in ("", "acknowledge/", "resolve/"):
        method = api.get if not suffix else api.post
        got = method(f"{A}/alerts/{theirs.pk}/{suffix}")
        missing = method(f"{A}/alerts/{MISSING}/{suffix}")
        assert got.status_code == missing.status_code == 404
        assert got.content == missing.content
    assert api.get(f"{A}/alerts/?view=all").json()["results"] == []
    assert _reload(tenant_b, theirs).status == "open"


# --- digest e-mail ----------------------------------------------------------------------


def test_digest_mails_the_overflow_by_title_without_the_evidence(tenant_a, coach_a, client_a):
    # given 13 alerts whose evidence holds health numbers
    for i in range(13):
        _raise(
            tenant_a,
            client_a,
            f"k{i:02}",
            severity=3 if i < 10 else 1,
            title=f"Readiness low for 3 days ({i:02})",
            kind="readiness_low",
            evidence={
                "rule": "readiness_below_40_for_3_days",
                "params": {"threshold": 40},
                "points": [{"day": "2026-11-21", "hrv_rmssd_ms": 31.7, "readiness": 27}],
            },
        )
    # when the digest is sent
    with tenant_context(tenant_a):
        sent = services.alert_digest_send(coach=_member(tenant_a, coach_a), day=DAY)
    # then one e-mail to the coach lists the three that did not fit, by title only
    assert sent == 3 and len(mail.outbox) == 1
    message = mail.outbox[0]
    assert message.to == ["coach@alpha.test"]
    assert "3 more alerts" in message.subject
    for i in (10, 11, 12):
        assert f"Readiness low for 3 days ({i:02})" in message.body
    assert "Readiness low for 3 days (09)" not in message.body
    for secret in ("31.7", "27", "hrv", "threshold", "readiness_below"):
        assert secret not in message.body
    assert "/t/alpha/alerts/" in message.body


def test_no_digest_when_everything_fits(tenant_a, coach_a, client_a):
    _raise(tenant_a, client_a, "k")
    with tenant_context(tenant_a):
        assert services.alert_digest_send(coach=_member(tenant_a, coach_a), day=DAY) == 0
    assert mail.outbox == []


# --- the page ---------------------------------------------------------------------------


def test_the_inbox_page_ranks_alerts_shows_evidence_and_counts_the_digest(
    client, tenant_a, coach_a, client_a
):
    today = _today(tenant_a)
    for i in range(12):
        _raise(tenant_a, client_a, f"k{i:02}", severity=3 if i == 5 else 2, day=today)
    client.force_login(coach_a)
    response = client.get("/t/alpha/alerts/")
    assert response.status_code == 200
    html = response.content.decode()
    # the high one comes first, evidence is laid out as a table, two wait in the digest
    assert html.index("Alert k05") < html.index("Alert k00")
    assert "theil_sen_slope_le_0" in html and "<th>e1rm_kg</th>" in html and "141.2" in html
    assert "2 more in today's digest" in html
    assert 'name="csrfmiddlewaretoken"' in html
    assert html.count('action="/t/alpha/alerts/') >= 30  # three buttons per shown alert


def test_the_page_buttons_decide_and_explain_a_refusal(client, tenant_a, coach_a, client_a):
    today = _today(tenant_a)
    alert = _raise(tenant_a, client_a, "k", day=today, title="Squat has stalled")
    client.force_login(coach_a)
    base = f"/t/alpha/alerts/{alert.pk}"
    # acknowledge
    response = client.post(f"{base}/acknowledge/")
    assert response.status_code == 302 and response["Location"] == "/t/alpha/alerts/"
    assert _reload(tenant_a, alert).status == "acknowledged"
    # snooze from the detail page, back on the detail page
    until = today + datetime.timedelta(days=5)
    response = client.post(f"{base}/snooze/", {"until": until.isoformat(), "next": "detail"})
    assert response["Location"] == f"{base}/"
    assert (_reload(tenant_a, alert).status, _reload(tenant_a, alert).snoozed_until) == (
        "snoozed",
        until,
    )
    inbox_page = client.get("/t/alpha/alerts/").content.decode()
    assert f'href="{base}/"' not in inbox_page and "Nothing needs you today." in inbox_page
    # resolve, then resolving again says why not
    client.post(f"{base}/resolve/")
    assert _reload(tenant_a, alert).status == "resolved"
    page = client.post(f"{base}/resolve/", follow=True).content.decode()
    assert "already resolved" in page
    # a snooze into the past is refused with the reason
    other = _raise(tenant_a, client_a, "k2", day=today)
    page = client.post(
        f"/t/alpha/alerts/{other.pk}/snooze/", {"until": today.isoformat()}, follow=True
    ).content.decode()
    assert "Snooze until a day after today." in page
    assert _reload(tenant_a, other).status == "open"


def test_the_detail_page_shows_one_alert(client, tenant_a, coach_a, client_a):
    alert = _raise(tenant_a, client_a, "k", title="Squat has stalled")
    client.force_login(coach_a)
    html = client.get(f"/t/alpha/alerts/{alert.pk}/").content.decode()
    assert "Squat has stalled" in html and "<details open>" in html
    assert client.get(f"/t/alpha/alerts/{MISSING}/").status_code == 404
    assert client.post(f"/t/alpha/alerts/{alert.pk}/explode/").status_code == 404


def test_the_alert_pages_are_for_staff_only(client, tenant_a, client_a):
    alert = _raise(tenant_a, client_a, "k")
    client.force_login(client_a)
    assert client.get("/t/alpha/alerts/").status_code == 404
    assert client.get(f"/t/alpha/alerts/{alert.pk}/").status_code == 404
    assert client.post(f"/t/alpha/alerts/{alert.pk}/resolve/").status_code == 404
    assert _reload(tenant_a, alert).status == "open"


def test_the_staff_home_links_the_inbox(client, tenant_a, owner_a, client_a):
    _raise(tenant_a, client_a, "k", day=_today(tenant_a))
    client.force_login(owner_a)
    html = client.get("/t/alpha/").content.decode()
    assert 'href="/t/alpha/alerts/"' in html and "1 in today's inbox" in html


def test_evidence_display_handles_rows_lists_and_extras():
    shown = evidence_display(
        {
            "rule": "missed_2_of_3",
            "params": {"window_days": 7},
            "points": [{"date": "2026-11-20", "done": False}, {"date": "2026-11-21", "x": None}],
            "note": {"source": "planner"},
        }
    )
    assert shown.rule == "missed_2_of_3"
    assert shown.params == [("window_days", "7")]
    assert shown.columns == ["date", "done", "x"]
    assert shown.rows == [["2026-11-20", "False", "—"], ["2026-11-21", "—", "—"]]
    assert shown.other == [("note", '{"source": "planner"}')]
    assert evidence_display({"points": [[1, 2], [3]]}).rows == [["1", "2"], ["3", ""]]
