"""The coach dashboard: every client with tier, readiness, adherence, last log, alerts and
payment; sorting and filtering by GET parameters (htmx swaps the table alone); who sees
whom; and a query count that does not grow with the number of clients."""

from __future__ import annotations

import datetime
import re
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from athletes.models import AthleteProfile, Enrolment
from billing.models import Entitlement, Subscription
from coaching.methodology import default_rules
from coaching.models import Alert, Membership, Methodology, MethodologyVersion, Tier
from coaching.selectors import tenant_today
from coaching.tenancy import tenant_context
from programs.models import AutoregulationRun, PlannedSession, ProgramBlock, SessionLog
from tests import factories

URL = "/t/alpha/dashboard/"


def _tiers(tenant) -> tuple[MethodologyVersion, Tier, Tier]:
    with tenant_context(tenant):
        methodology = Methodology.objects.create(
            name="Strength basics", slug="strength-basics", discipline="strength"
        )
        version = MethodologyVersion.objects.create(
            methodology=methodology, number=1, rules=default_rules("strength")
        )
        diy = Tier.objects.create(
            methodology=methodology, name="DIY", slug="diy", price=Decimal("19"), autonomy="auto"
        )
        premium = Tier.objects.create(
            methodology=methodology,
            name="Premium",
            slug="premium",
            price=Decimal("99"),
            autonomy="approve",
        )
    return version, diy, premium


def _client(
    tenant,
    email: str,
    *,
    version,
    tier,
    readiness: float | None = 60.0,
    done: int = 1,
    planned: int = 2,
    alerts: int = 0,
    payment: str | None = "active",
    coach: Membership | None = None,
) -> AthleteProfile:
    """A client with plain rows: an enrolment, `planned` sessions in the last week of which
    `done` were logged, last night's readiness, `alerts` open alerts and an entitlement."""
    account = factories.member(tenant, "client", email=email)
    today = tenant_today(tenant)
    with tenant_context(tenant):
        athlete = AthleteProfile.objects.get(user=account)
        membership = Membership.objects.get(user=account)
        if coach is not None:
            membership.coach = coach
            membership.save(update_fields=["coach"])
        Enrolment.objects.create(
            athlete=athlete, tier=tier, methodology_version=version, started=today
        )
        block = ProgramBlock.objects.create(
            athlete=athlete, methodology_version=version, start_date=today, weeks=4
        )
        for k in range(planned):
            day = today - datetime.timedelta(days=1 + k)
            session = PlannedSession.objects.create(
                block=block, athlete=athlete, date=day, week=1, kind="strength",
                name=f"Day {k}", duration_min=60,
            )  # fmt: skip
            if k < done:
                SessionLog.objects.create(
                    athlete=athlete, planned_session=session, date=day, kind="strength",
                    duration_s=3600,
                )  # fmt: skip
        if readiness is not None:
            AutoregulationRun.objects.create(
                athlete=athlete, date=today - datetime.timedelta(days=1),
                methodology_version=version, autonomy=tier.autonomy, readiness_score=readiness,
            )  # fmt: skip
        for k in range(alerts):
            Alert.objects.create(
                client=membership, kind="plateau", severity=2, title="Squat stalled",
                evidence={"rule": "r", "points": []}, dedupe_key=f"p{k}", day=today,
            )  # fmt: skip
        if payment == "grace":
            subscription = Subscription.objects.create(
                athlete=athlete, tier=tier, stripe_subscription_id=f"sub_{email}",
                stripe_customer_id=f"cus_{email}", price_id="price_x", status="past_due",
            )  # fmt: skip
            Entitlement.objects.create(
                athlete=athlete, status="grace", source="subscription", subscription=subscription,
                until=datetime.datetime.now(datetime.UTC) + datetime.timedelta(days=3),
            )  # fmt: skip
        elif payment == "active":
            Entitlement.objects.create(athlete=athlete, status="active", source="subscription")
    return athlete


@pytest.fixture
def tiers(tenant_a):
    return _tiers(tenant_a)


def _names(html: str) -> list[str]:
    return re.findall(r'href="/t/alpha/clients/\d+/">([^<]+)</a>', html)


def test_the_dashboard_shows_each_clients_columns(client, tenant_a, owner_a, tiers):
    version, diy, premium = tiers
    _client(tenant_a, "ann@alpha.test", version=version, tier=premium, readiness=72.4,
            done=1, planned=2, alerts=2, payment="grace")  # fmt: skip
    client.force_login(owner_a)
    page = client.get(URL)
    assert page.status_code == 200
    html = page.content.decode()
    assert _names(html) == ["Ann"]
    row = html[html.index(">Ann</a>") :]
    row = row[: row.index("</tr>")]
    cells = re.findall(r"<td[^>]*>(.*?)</td>", row, re.S)
    text = [re.sub(r"<[^>]+>", "", c).strip() for c in cells]
    yesterday = tenant_today(tenant_a) - datetime.timedelta(days=1)
    assert text == [
        "Premium",
        "72",
        "50 % (1/2)",
        "50 % (1/2)",
        f"{yesterday:%a %-d %b}",
        "Payment failed (grace)",
        "2",
    ]
    assert "needs attention" in row


def test_query_count_is_the_same_for_5_and_40_clients(client, tenant_a, owner_a, tiers):
    version, diy, premium = tiers
    client.force_login(owner_a)
    client.get(URL)  # warm the session and the tenant lookups

    def count() -> tuple[int, int]:
        with CaptureQueriesContext(connection) as queries:
            page = client.get(URL)
        assert page.status_code == 200
        return len(queries), len(_names(page.content.decode()))

    for k in range(5):
        _client(tenant_a, f"c{k}@alpha.test", version=version, tier=diy if k % 2 else premium,
                alerts=k % 3, payment="active" if k % 2 else "grace")  # fmt: skip
    five, shown = count()
    assert shown == 5
    for k in range(5, 40):
        _client(tenant_a, f"c{k}@alpha.test", version=version, tier=diy if k % 2 else premium,
                alerts=k % 3, payment="active" if k % 2 else "grace")  # fmt: skip
    forty, shown = count()
    assert shown == 40
    assert forty == five


def test_sorting_by_a_column_puts_clients_without_a_value_last(client, tenant_a, owner_a, tiers):
    version, diy, _ = tiers
    _client(tenant_a, "low@alpha.test", version=version, tier=diy, readiness=30)
    _client(tenant_a, "high@alpha.test", version=version, tier=diy, readiness=80)
    _client(tenant_a, "none@alpha.test", version=version, tier=diy, readiness=None)
    client.force_login(owner_a)
    up = client.get(URL, {"sort": "readiness"}).content.decode()
    down = client.get(URL, {"sort": "readiness", "dir": "desc"}).content.decode()
    assert _names(up) == ["Low", "High", "None"]
    assert _names(down) == ["High", "Low", "None"]
    # the header of the sorted column links to the other direction and says how it sorts
    assert 'aria-sort="ascending"' in up and "sort=readiness&amp;dir=desc" in up


def test_filters_combine_and_the_htmx_request_gets_only_the_table(client, tenant_a, owner_a, tiers):
    version, diy, premium = tiers
    _client(tenant_a, "ann@alpha.test", version=version, tier=premium, payment="grace")
    _client(tenant_a, "bob@alpha.test", version=version, tier=premium, alerts=1)
    _client(tenant_a, "cat@alpha.test", version=version, tier=diy, readiness=35)
    _client(tenant_a, "dan@alpha.test", version=version, tier=diy)
    client.force_login(owner_a)
    assert _names(client.get(URL, {"tier": premium.pk}).content.decode()) == ["Ann", "Bob"]
    assert _names(client.get(URL, {"payment": "grace"}).content.decode()) == ["Ann"]
    # needs attention: open alerts or readiness below 40
    assert _names(client.get(URL, {"attention": "1"}).content.decode()) == ["Bob", "Cat"]
    assert _names(client.get(URL, {"q": "DAN@alpha"}).content.decode()) == ["Dan"]
    assert _names(client.get(URL, {"tier": diy.pk, "attention": "1"}).content.decode()) == ["Cat"]
    # a stale link with unknown values still opens
    assert client.get(URL, {"sort": "nope", "payment": "bogus"}).status_code == 200
    partial = client.get(
        URL, {"tier": diy.pk}, HTTP_HX_REQUEST="true", HTTP_HX_TARGET="client-table"
    )
    body = partial.content.decode()
    assert "<html" not in body and "<tbody>" in body
    assert _names(body) == ["Cat", "Dan"]
    whole = client.get(URL, {"tier": diy.pk}).content.decode()
    assert "<html" in whole and 'hx-push-url="true"' in whole


def test_a_coach_starts_on_their_own_and_unassigned_clients(
    client, tenant_a, owner_a, coach_a, tiers
):
    version, diy, _ = tiers
    with tenant_context(tenant_a):
        me = Membership.objects.get(user=coach_a)
    other = factories.member(tenant_a, "coach", email="other@alpha.test", mfa=True)
    with tenant_context(tenant_a):
        them = Membership.objects.get(user=other)
    _client(tenant_a, "mine@alpha.test", version=version, tier=diy, coach=me)
    _client(tenant_a, "theirs@alpha.test", version=version, tier=diy, coach=them)
    _client(tenant_a, "nobody@alpha.test", version=version, tier=diy)
    client.force_login(coach_a)
    assert _names(client.get(URL).content.decode()) == ["Mine", "Nobody"]
    assert _names(client.get(URL, {"who": "all"}).content.decode()) == [
        "Mine", "Nobody", "Theirs",
    ]  # fmt: skip
    client.force_login(owner_a)
    assert _names(client.get(URL).content.decode()) == ["Mine", "Nobody", "Theirs"]


def test_clients_and_other_tenants_get_a_404(client, tenant_a, client_a, client_b):
    client.force_login(client_a)
    assert client.get(URL).status_code == 404
    client.force_login(client_b)
    assert client.get(URL).status_code == 404
