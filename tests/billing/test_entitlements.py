"""Access from a subscription's state, branch by branch (pure: no Stripe, no database)."""

from __future__ import annotations

import datetime

import pytest

from billing.entitlements import ACTIVE, GRACE, NONE, access_from, is_open

NOW = datetime.datetime(2026, 11, 23, 12, 0, tzinfo=datetime.UTC)
DAY = datetime.timedelta(days=1)


def _access(status, **kw):
    args = {
        "cancel_at_period_end": False,
        "current_period_end": NOW + 20 * DAY,
        "trial_end": None,
        "past_due_since": None,
        "grace_days": 7,
        "now": NOW,
    }
    args.update(kw)
    return access_from(status, **args)


@pytest.mark.parametrize("status", ["active", "trialing"])
def test_active_and_trialing_give_access_with_no_end(status):
    access = _access(status)
    assert access.status == ACTIVE and access.until is None
    assert is_open(access.status, access.until, NOW + 365 * DAY)


def test_a_trial_says_until_when():
    assert (
        "Free trial until 30 November 2026" in _access("trialing", trial_end=NOW + 7 * DAY).reason
    )


def test_cancel_at_period_end_keeps_access_to_the_period_end_then_none():
    access = _access("active", cancel_at_period_end=True)
    assert access.status == ACTIVE and access.until == NOW + 20 * DAY
    assert is_open(access.status, access.until, NOW + 19 * DAY)
    assert not is_open(access.status, access.until, NOW + 20 * DAY)
    later = _access("active", cancel_at_period_end=True, now=NOW + 21 * DAY)
    assert later.status == NONE


def test_past_due_is_a_grace_period_counted_from_first_seen_then_none():
    access = _access("past_due", past_due_since=NOW - 2 * DAY)
    assert access.status == GRACE and access.until == NOW + 5 * DAY
    assert "access continues until 28 November 2026" in access.reason
    assert is_open(access.status, access.until, NOW + 4 * DAY)
    assert not is_open(access.status, access.until, NOW + 5 * DAY)
    expired = _access("past_due", past_due_since=NOW - 8 * DAY)
    assert expired.status == NONE and "7-day grace period" in expired.reason


@pytest.mark.parametrize(
    "status", ["canceled", "unpaid", "incomplete", "incomplete_expired", "paused"]
)
def test_ended_or_unpaid_subscriptions_give_no_access(status):
    access = _access(status)
    assert access.status == NONE and not is_open(access.status, access.until, NOW)
