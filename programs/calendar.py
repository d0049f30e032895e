"""A client's plan as a calendar feed (ICS, RFC 5545) their phone subscribes to.

The link is the only credential (calendar apps can't log in), so it is long, random and
revocable: only its sha256 is stored (like coaching.Invitation), it is shown once when
made, a new link revokes the old one, and an unknown or revoked token is the same 404.

Each planned session is one all-day event with a UID that never changes, so calendar
apps update it in place: SEQUENCE counts the changes applied to the session (an applied
adjustment, a revert) and LAST-MODIFIED is the newest of them, which is what tells a
calendar app that an event it already has is different now.
"""

from __future__ import annotations

import datetime
import hashlib
import secrets
from collections import defaultdict

from django.db import transaction
from django.db.models import Prefetch, Q
from django.utils import timezone
from icalendar import Calendar, Event

from athletes.models import AthleteProfile
from coaching import audit
from coaching.context import current_tenant
from coaching.selectors import tenant_today
from programs.models import Adjustment, CalendarFeed, PlannedSession, PlannedSet, ProgramBlock
from programs.today import targets_text

PRODID = "-//Coaching Platform//Training plan//EN"
# How often we ask calendar apps to fetch again (they may take longer; most do).
REFRESH = datetime.timedelta(hours=1)


def _token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


# --- writes -------------------------------------------------------------------------------


@transaction.atomic
def calendar_feed_create(*, athlete: AthleteProfile) -> tuple[CalendarFeed, str]:
    """A new link for the athlete's calendar; the raw token is returned once and never
    stored. Any live link stops working (at most one per athlete)."""
    # Two quick clicks make one live link, not a unique-constraint error.
    AthleteProfile.objects.select_for_update().filter(pk=athlete.pk).first()
    CalendarFeed.objects.filter(athlete=athlete, revoked_at__isnull=True).update(
        revoked_at=timezone.now()
    )
    token = secrets.token_urlsafe(32)
    feed = CalendarFeed(athlete=athlete, token_hash=_token_hash(token))
    feed.assign_current_tenant()
    feed.full_clean(exclude=["tenant"], validate_constraints=False)
    feed.save()
    audit.record(
        action="calendar_feed.create",
        actor_user_id=athlete.user_id,
        subject_user_id=athlete.user_id,
        detail={"feed_id": feed.pk},
    )
    return feed, token


@transaction.atomic
def calendar_feed_revoke(*, athlete: AthleteProfile) -> int:
    """Stop the athlete's link from working. Returns how many links were live (0 or 1)."""
    revoked = CalendarFeed.objects.filter(athlete=athlete, revoked_at__isnull=True).update(
        revoked_at=timezone.now()
    )
    if revoked:
        audit.record(
            action="calendar_feed.revoke",
            actor_user_id=athlete.user_id,
            subject_user_id=athlete.user_id,
        )
    return revoked


# --- reads --------------------------------------------------------------------------------


def calendar_feed_live(athlete: AthleteProfile) -> CalendarFeed | None:
    return CalendarFeed.objects.filter(athlete=athlete, revoked_at__isnull=True).first()


def calendar_feed_by_token(token: str) -> CalendarFeed | None:
    """The live feed of this token in the current tenant (another tenant's token, a
    revoked one and a made-up one all find nothing)."""
    if not token or len(token) > 200:
        return None
    return (
        CalendarFeed.objects.select_related("athlete")
        .filter(token_hash=_token_hash(token), revoked_at__isnull=True)
        .first()
    )


def feed_sessions(athlete: AthleteProfile, today: datetime.date) -> list[PlannedSession]:
    """From today through the active block and a next block already generated (never a
    superseded block's sessions), with their sets and applied changes."""
    applied = Adjustment.objects.filter(applied_at__isnull=False).order_by("applied_at", "id")
    return list(
        PlannedSession.objects.filter(athlete=athlete, date__gte=today)
        .filter(~Q(block__status=ProgramBlock.Status.SUPERSEDED))
        .select_related("block")
        .prefetch_related(
            Prefetch("sets", queryset=PlannedSet.objects.select_related("exercise")),
            Prefetch("adjustments", queryset=applied, to_attr="applied_changes"),
        )
        .order_by("date", "id")
    )


# --- the feed -----------------------------------------------------------------------------


def _kg(value: object) -> str:
    return f"{float(value):g} kg"  # type: ignore[arg-type]


def _set_text(s: PlannedSet) -> str:
    parts = [str(s.reps)]
    if s.load_kg is not None and s.exercise.loadable:
        parts.append(f"@ {_kg(s.load_kg)}")
    if s.target_rpe is not None:
        parts.append(f"(RPE {float(s.target_rpe):g})")
    return " ".join(parts)


def session_targets(session: PlannedSession) -> list[str]:
    """What to do, one line per exercise ("Back squat: 3 x 5 @ 100 kg (RPE 8)"), or the
    endurance duration, zone and targets."""
    lines = [f"{session.duration_min} min"]
    if session.kind == PlannedSession.Kind.STRENGTH:
        by_exercise: dict[str, list[str]] = defaultdict(list)
        names: dict[str, str] = {}
        for s in sorted(session.sets.all(), key=lambda s: s.set_index):
            names[s.exercise.slug] = s.exercise.name
            by_exercise[s.exercise.slug].append(_set_text(s))
        for slug, sets in by_exercise.items():
            groups: list[tuple[int, str]] = []
            for text in sets:
                if groups and groups[-1][1] == text:
                    groups[-1] = (groups[-1][0] + 1, text)
                else:
                    groups.append((1, text))
            lines.append(f"{names[slug]}: " + ", ".join(f"{n} x {t}" for n, t in groups))
    else:
        if session.endurance_type:
            lines[0] += f" {session.endurance_type}"
        targets = targets_text(session)
        if targets:
            lines.append(targets)
        if session.planned_tss:
            lines.append(f"planned TSS {session.planned_tss:.0f}")
    return lines


def _event(session: PlannedSession, host: str) -> Event:
    changes = getattr(session, "applied_changes", [])
    modified = changes[-1].applied_at if changes else session.block.created
    event = Event()
    event.add("uid", f"planned-session-{session.pk}@{host}")
    event.add("dtstamp", modified)
    event.add("last-modified", modified)
    event.add("sequence", len(changes))
    event.add("dtstart", session.date)
    event.add("dtend", session.date + datetime.timedelta(days=1))
    event.add("transp", "TRANSPARENT")  # an all-day reminder, not a busy day
    if session.rest_day:
        event.add("summary", f"Rest day (instead of {session.name})")
        description = ["Your plan turned this session into a rest day."]
    else:
        event.add("summary", session.name)
        description = session_targets(session)
    if session.is_deload:
        description.append("Deload week.")
    if changes:
        description.append(f"Latest change: {changes[-1].sentence}")
    event.add("description", "\n".join(description))
    return event


def calendar_ics(athlete: AthleteProfile, *, today: datetime.date | None = None) -> bytes:
    """The feed's bytes: one VEVENT per planned session from `today` on."""
    tenant = current_tenant()
    cal = Calendar()
    cal.add("prodid", PRODID)
    cal.add("version", "2.0")
    cal.add("calscale", "GREGORIAN")
    cal.add("method", "PUBLISH")
    cal.add("x-wr-calname", f"Training plan · {tenant.name}")
    cal.add("x-wr-timezone", tenant.timezone or "UTC")
    cal.add("refresh-interval", REFRESH, parameters={"VALUE": "DURATION"})
    cal.add("x-published-ttl", "PT1H")  # Outlook's name for REFRESH-INTERVAL
    host = f"{tenant.slug}.coaching-platform"
    for session in feed_sessions(athlete, today or tenant_today()):
        cal.add_component(_event(session, host))
    return cal.to_ical()
