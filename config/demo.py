"""Demo data for local product runs: two coaching businesses with eight weeks of history.

`manage.py seed_demo` calls `demo_seed`; `manage.py demo_totp` calls `demo_totp_code`.
The password and the TOTP secret are public constants on purpose, so that anyone who
runs `make demo` can log in as every persona. Never seed a database that real people use.

Determinism: every random draw comes from a `random.Random` stream named after the seed
and a stable label (tenant slug, client e-mail). One client's history therefore does not
shift when another client's generator changes, and the same seed and anchor date give the
same rows. The dual-tenant client's morning check-ins come from a stream named after the
person only, so both tenants see the same sleep, HRV and weight, as they would from one
watch and one scale.

Speed: rows go in with `bulk_create` (the tenant-scoped queryset stamps the tenant), and
every demo user shares one password hash, because hashing 45 passwords with PBKDF2 alone
would take longer than the rest of the seed.
"""

from __future__ import annotations

import datetime
import math
import random
import time
import zoneinfo
from collections import Counter
from dataclasses import dataclass, field
from decimal import Decimal

from allauth.account.models import EmailAddress
from allauth.mfa import app_settings as mfa_settings
from allauth.mfa.totp.internal.auth import TOTP, format_hotp_value, hotp_value
from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.hashers import make_password
from django.contrib.auth.models import AbstractBaseUser
from django.db import transaction
from django.utils import timezone

from athletes.models import AthleteProfile, CheckIn
from coaching.models import Membership, Tenant
from coaching.tenancy import tenant_context
from programs.models import Exercise, SessionLog, SetLog

DEMO_PASSWORD = "demo-password-2026"  # noqa: S105 - public on purpose, demo only
# Base32 (RFC 4648). Add it to an authenticator app, or run `manage.py demo_totp`.
DEMO_TOTP_SECRET = "DEMOCOACHINGPLATFORMTOTPSECRET22"  # noqa: S105 - public, demo only
DEFAULT_SEED = 42
HISTORY_WEEKS = 8
LOGIN_URL = "http://127.0.0.1:8000/accounts/login/"
DUAL_CLIENT_EMAIL = "dual@demo.test"
CLIENT_TIERS = (("diy", 10), ("hybrid", 6), ("premium", 4))
CLIENTS_PER_TENANT = sum(count for _, count in CLIENT_TIERS)
DUAL_CLIENT_TIER = "hybrid"
# Below SQLite's and PostgreSQL's bind-parameter limits for every model seeded here.
_BATCH_SIZE = 500


class DemoSeedRefused(RuntimeError):
    """Seeding can't go ahead; the message says why in one line."""


class DemoDataExists(DemoSeedRefused):
    """The demo tenants or users are already there; replacing them needs `reset=True`."""


@dataclass(frozen=True, kw_only=True)
class DemoTenantSpec:
    slug: str
    name: str
    timezone: str
    currency: str
    discipline: str
    owner_name: tuple[str, str]
    coach_name: tuple[str, str]

    @property
    def email_domain(self) -> str:
        return f"{self.slug}.demo"


DEMO_TENANTS = (
    DemoTenantSpec(
        slug="ironworks",
        name="Ironworks Strength",
        timezone="Europe/London",
        currency="GBP",
        discipline=AthleteProfile.Discipline.STRENGTH,
        owner_name=("Maggie", "Holt"),
        coach_name=("Dev", "Mistry"),
    ),
    DemoTenantSpec(
        slug="tempo",
        name="Tempo Endurance",
        timezone="Europe/Amsterdam",
        currency="EUR",
        discipline=AthleteProfile.Discipline.ENDURANCE,
        owner_name=("Sanne", "Verhoeven"),
        coach_name=("Joris", "Kuipers"),
    ),
)
DEMO_SLUGS = tuple(spec.slug for spec in DEMO_TENANTS)


@dataclass(frozen=True, kw_only=True)
class DemoTenantLogins:
    slug: str
    name: str
    owner_email: str
    coach_email: str
    client_emails: tuple[str, ...]


@dataclass(frozen=True, kw_only=True)
class DemoSeedResult:
    seed: int
    first_day: datetime.date
    last_day: datetime.date
    tenants: tuple[DemoTenantLogins, ...]
    dual_client_email: str
    row_counts: tuple[tuple[str, int], ...]


@dataclass(frozen=True, kw_only=True)
class DemoTotpCode:
    code: str
    seconds_left: int


# --- public API ---------------------------------------------------------------------


def demo_emails() -> list[str]:
    """Every login the seed creates; `demo_reset` deletes exactly these users."""
    emails = []
    for spec in DEMO_TENANTS:
        emails += [f"owner@{spec.email_domain}", f"coach@{spec.email_domain}"]
        emails += [_client_email(spec, n) for n in range(1, CLIENTS_PER_TENANT + 1)]
    return [*emails, DUAL_CLIENT_EMAIL]


def demo_data_exists() -> bool:
    return (
        Tenant.objects.filter(slug__in=DEMO_SLUGS).exists()
        or get_user_model().objects.filter(email__in=demo_emails()).exists()
    )


@transaction.atomic
def demo_reset() -> None:
    """Delete the demo tenants (with all their rows) and the demo users.

    Each tenant is deleted inside its own tenant context: under row-level security the
    cascade can only see (and delete) that tenant's rows.
    """
    for tenant in Tenant.objects.filter(slug__in=DEMO_SLUGS):
        with tenant_context(tenant):
            tenant.delete()
    get_user_model().objects.filter(email__in=demo_emails()).delete()


@transaction.atomic
def demo_seed(
    *, seed: int = DEFAULT_SEED, today: datetime.date | None = None, reset: bool = False
) -> DemoSeedResult:
    """Create both demo tenants, their people and eight weeks of history, in one transaction.

    `today` anchors the history (the last day that gets data); by default it is today in
    each tenant's time zone. Existing demo data is an error unless `reset` is set, so a
    second run never silently mixes two seeds.
    """
    if not settings.DEMO_SEED_ALLOWED:
        raise DemoSeedRefused("Demo seeding is disabled here (DEMO_SEED_ALLOWED is off).")
    if demo_data_exists():
        if not reset:
            raise DemoDataExists(
                f"Demo data already exists (tenants {', '.join(DEMO_SLUGS)} or their users); "
                "run with --reset to replace it."
            )
        demo_reset()

    counts: Counter[str] = Counter()
    rosters = {spec.slug: _roster(seed, spec) for spec in DEMO_TENANTS}
    unique_members = {m.email: m for roster in rosters.values() for m in roster}
    users = _users_create(list(unique_members.values()), counts)

    logins = []
    first_days, last_days = [], []
    for spec in DEMO_TENANTS:
        tenant_today = today or timezone.localdate(timezone=zoneinfo.ZoneInfo(spec.timezone))
        days = [
            tenant_today - datetime.timedelta(days=offset)
            for offset in range(HISTORY_WEEKS * 7 - 1, -1, -1)
        ]
        first_days.append(days[0])
        last_days.append(days[-1])
        _tenant_seed(
            seed=seed, spec=spec, roster=rosters[spec.slug], users=users, days=days, counts=counts
        )
        logins.append(
            DemoTenantLogins(
                slug=spec.slug,
                name=spec.name,
                owner_email=f"owner@{spec.email_domain}",
                coach_email=f"coach@{spec.email_domain}",
                client_emails=tuple(
                    _client_email(spec, n) for n in range(1, CLIENTS_PER_TENANT + 1)
                ),
            )
        )
    return DemoSeedResult(
        seed=seed,
        first_day=min(first_days),
        last_day=max(last_days),
        tenants=tuple(logins),
        dual_client_email=DUAL_CLIENT_EMAIL,
        row_counts=tuple(counts.items()),
    )


def demo_login_lines(result: DemoSeedResult) -> list[str]:
    """What `seed_demo` prints: where and how to log in. Never health values."""
    rows = ", ".join(f"{count} {name}" for name, count in result.row_counts)
    lines = [
        f"Seeded demo data (seed {result.seed}, {result.first_day} to {result.last_day}).",
        f"Rows: {rows}.",
        "",
        f"Log in at {LOGIN_URL}",
        f"Password for every demo user: {DEMO_PASSWORD}",
    ]
    for tenant in result.tenants:
        lines += [
            "",
            f"{tenant.name} (pages under http://127.0.0.1:8000/t/{tenant.slug}/)",
            f"  owner    {tenant.owner_email}",
            f"  coach    {tenant.coach_email}",
            f"  clients  {tenant.client_emails[0]} ... {tenant.client_emails[-1]}",
        ]
    lines += [
        "",
        f"Client of both tenants: {result.dual_client_email}",
        "Staff logins (owner, coach) ask for a TOTP code: python manage.py demo_totp",
    ]
    return lines


def demo_totp_code(*, at: float | None = None) -> DemoTotpCode:
    """The code an authenticator app with `DEMO_TOTP_SECRET` shows at `at` (default: now).

    Computed with allauth's own HOTP functions and period, so it is exactly what
    allauth's login check accepts.
    """
    now = int(time.time() if at is None else at)
    period = mfa_settings.TOTP_PERIOD
    code = format_hotp_value(hotp_value(DEMO_TOTP_SECRET, now // period))
    return DemoTotpCode(code=code, seconds_left=period - now % period)


# --- people -------------------------------------------------------------------------


@dataclass(frozen=True, kw_only=True)
class _Member:
    email: str
    first_name: str
    last_name: str
    role: str
    sex: str = ""
    tier: str = ""


@dataclass(frozen=True, kw_only=True)
class _NamePool:
    female: tuple[str, ...]
    male: tuple[str, ...]
    last: tuple[str, ...]


_NAMES = {
    "ironworks": _NamePool(
        female=(
            "Amelia",
            "Olivia",
            "Isla",
            "Emily",
            "Sophie",
            "Grace",
            "Freya",
            "Chloe",
            "Hannah",
            "Lucy",
            "Priya",
            "Aisha",
        ),
        male=(
            "Oliver",
            "George",
            "Harry",
            "Jack",
            "Charlie",
            "Thomas",
            "James",
            "Alfie",
            "Callum",
            "Rhys",
            "Arjun",
            "Kwame",
        ),
        last=(
            "Smith",
            "Jones",
            "Taylor",
            "Brown",
            "Williams",
            "Wilson",
            "Evans",
            "Thomas",
            "Roberts",
            "Walker",
            "Wright",
            "Hughes",
            "Green",
            "Hall",
            "Khan",
            "Patel",
            "Okafor",
            "Murphy",
            "Campbell",
            "Davies",
        ),
    ),  # fmt: skip
    "tempo": _NamePool(
        female=(
            "Emma",
            "Julia",
            "Sophie",
            "Tess",
            "Sara",
            "Anna",
            "Fenna",
            "Lotte",
            "Noor",
            "Eva",
            "Mila",
            "Saar",
        ),
        male=(
            "Daan",
            "Sem",
            "Lucas",
            "Levi",
            "Finn",
            "Bram",
            "Thijs",
            "Jesse",
            "Ruben",
            "Lars",
            "Milan",
            "Sven",
        ),
        last=(
            "de Jong",
            "Jansen",
            "de Vries",
            "van den Berg",
            "van Dijk",
            "Bakker",
            "Visser",
            "Smit",
            "Meijer",
            "de Boer",
            "Mulder",
            "de Groot",
            "Bos",
            "Vos",
            "Peters",
            "Hendriks",
            "Dekker",
            "Brouwer",
            "Kok",
            "Willems",
        ),
    ),  # fmt: skip
}
_DUAL = _Member(
    email=DUAL_CLIENT_EMAIL,
    first_name="Alex",
    last_name="Morgan",
    role=Membership.Role.CLIENT,
    sex=AthleteProfile.Sex.FEMALE,
    tier=DUAL_CLIENT_TIER,
)


def _rng(seed: int, *labels: str) -> random.Random:
    # String seeds are hashed with SHA-512: stable across processes and Python versions.
    return random.Random(f"{seed}:{':'.join(labels)}")  # noqa: S311 - reproducible demo data


def _client_email(spec: DemoTenantSpec, number: int) -> str:
    return f"client{number:02d}@{spec.email_domain}"


def _roster(seed: int, spec: DemoTenantSpec) -> list[_Member]:
    rng = _rng(seed, spec.slug, "roster")
    names = _NAMES[spec.slug]
    n_male = rng.randint(8, 12)
    sexes = [AthleteProfile.Sex.MALE] * n_male + [AthleteProfile.Sex.FEMALE] * (
        CLIENTS_PER_TENANT - n_male
    )
    rng.shuffle(sexes)
    tiers = [tier for tier, count in CLIENT_TIERS for _ in range(count)]
    rng.shuffle(tiers)
    firsts = {
        AthleteProfile.Sex.MALE: rng.sample(names.male, len(names.male)),
        AthleteProfile.Sex.FEMALE: rng.sample(names.female, len(names.female)),
    }
    lasts = rng.sample(names.last, CLIENTS_PER_TENANT)
    members = [
        _Member(email=f"owner@{spec.email_domain}", first_name=spec.owner_name[0],
                last_name=spec.owner_name[1], role=Membership.Role.OWNER),
        _Member(email=f"coach@{spec.email_domain}", first_name=spec.coach_name[0],
                last_name=spec.coach_name[1], role=Membership.Role.COACH),
    ]  # fmt: skip
    for index in range(CLIENTS_PER_TENANT):
        sex = sexes[index]
        members.append(
            _Member(
                email=_client_email(spec, index + 1),
                first_name=firsts[sex].pop(),
                last_name=lasts[index],
                role=Membership.Role.CLIENT,
                sex=sex,
                tier=tiers[index],
            )
        )
    return [*members, _DUAL]


def _users_create(members: list[_Member], counts: Counter[str]) -> dict[str, AbstractBaseUser]:
    """Users with a verified primary e-mail; owners and coaches get the demo TOTP."""
    password_hash = make_password(DEMO_PASSWORD)
    user_model = get_user_model()
    users = user_model.objects.bulk_create(
        [
            user_model(
                username=m.email,
                email=m.email,
                first_name=m.first_name,
                last_name=m.last_name,
                password=password_hash,
            )
            for m in members
        ]
    )
    EmailAddress.objects.bulk_create(
        [EmailAddress(user=u, email=u.email, verified=True, primary=True) for u in users]
    )
    by_email = {u.email: u for u in users}
    staff = [m for m in members if m.role in (Membership.Role.OWNER, Membership.Role.COACH)]
    for member in staff:
        TOTP.activate(by_email[member.email], DEMO_TOTP_SECRET)
    counts["users"] += len(users)
    counts["email addresses"] += len(users)
    counts["TOTP authenticators"] += len(staff)
    return by_email


@dataclass(frozen=True, kw_only=True)
class _Body:
    """Who the person is, independent of which tenant coaches them."""

    sex: str
    birth_date: datetime.date
    height_cm: float
    weight_kg: float


def _body(seed: int, member: _Member, discipline: str, today: datetime.date) -> _Body:
    rng = _rng(seed, "person", member.email)
    male = member.sex == AthleteProfile.Sex.MALE
    age_years = rng.triangular(19, 58, 31)
    height = _clip(rng.gauss(178.5, 7.0) if male else rng.gauss(165.5, 6.5), 150, 202)
    if member.email == DUAL_CLIENT_EMAIL:
        bmi = _clip(rng.gauss(23.0, 1.2), 20, 26)
    elif discipline == AthleteProfile.Discipline.STRENGTH:
        bmi = _clip(rng.gauss(25.5 if male else 24.0, 2.2), 20, 33)
    else:
        bmi = _clip(rng.gauss(22.5 if male else 21.5, 1.6), 18.5, 27)
    return _Body(
        sex=member.sex,
        birth_date=today - datetime.timedelta(days=int(age_years * 365.25)),
        height_cm=round(height * 2) / 2,
        weight_kg=bmi * (height / 100) ** 2,
    )


# --- one tenant ---------------------------------------------------------------------


@dataclass(kw_only=True)
class _History:
    sessions: list[SessionLog] = field(default_factory=list)
    sets: list[SetLog] = field(default_factory=list)
    # Training load (session RPE x minutes) by date, which drives next-morning soreness.
    load_by_date: dict[datetime.date, float] = field(default_factory=dict)


def _tenant_seed(
    *,
    seed: int,
    spec: DemoTenantSpec,
    roster: list[_Member],
    users: dict[str, AbstractBaseUser],
    days: list[datetime.date],
    counts: Counter[str],
) -> None:
    tenant = Tenant(slug=spec.slug, name=spec.name, timezone=spec.timezone, currency=spec.currency)
    tenant.full_clean()
    tenant.save()
    counts["tenants"] += 1
    with tenant_context(tenant):
        Membership.objects.bulk_create(
            [Membership(user=users[m.email], role=m.role) for m in roster]
        )
        exercises = Exercise.objects.bulk_create(
            [
                Exercise(
                    name=e.name,
                    category=e.category,
                    substitution_group=e.group,
                    is_bilateral=e.bilateral,
                )
                for e in _LIBRARY
            ]
        )
        exercise_by_name = {e.name: e for e in exercises}
        clients = [m for m in roster if m.role == Membership.Role.CLIENT]
        bodies = [_body(seed, m, spec.discipline, days[-1]) for m in clients]
        profiles = AthleteProfile.objects.bulk_create(
            [
                AthleteProfile(
                    user=users[m.email],
                    display_name=f"{m.first_name} {m.last_name}",
                    discipline=spec.discipline,
                    sex=body.sex,
                    birth_date=body.birth_date,
                    height_cm=Decimal(f"{body.height_cm:.1f}"),
                    tier=m.tier,
                )
                for m, body in zip(clients, bodies, strict=True)
            ]
        )
        history = _History()
        checkins: list[CheckIn] = []
        for member, body, profile in zip(clients, bodies, profiles, strict=True):
            rng = _rng(seed, spec.slug, member.email, "training")
            if spec.discipline == AthleteProfile.Discipline.STRENGTH:
                athlete = _strength_history(
                    rng,
                    profile=profile,
                    body=body,
                    tier=member.tier,
                    days=days,
                    exercises=exercise_by_name,
                )
            else:
                athlete = _endurance_history(
                    rng, profile=profile, body=body, tier=member.tier, days=days
                )
            history.sessions += athlete.sessions
            history.sets += athlete.sets
            checkins += _checkins(
                _rng(seed, "checkins", member.email),
                profile=profile,
                body=body,
                discipline=spec.discipline,
                days=days,
                load_by_date=athlete.load_by_date,
            )
        SessionLog.objects.bulk_create(history.sessions, batch_size=_BATCH_SIZE)
        SetLog.objects.bulk_create(history.sets, batch_size=_BATCH_SIZE)
        CheckIn.objects.bulk_create(checkins, batch_size=_BATCH_SIZE)
    counts["memberships"] += len(roster)
    counts["athlete profiles"] += len(profiles)
    counts["exercises"] += len(exercises)
    counts["session logs"] += len(history.sessions)
    counts["set logs"] += len(history.sets)
    counts["check-ins"] += len(checkins)


# --- strength -----------------------------------------------------------------------


@dataclass(frozen=True, kw_only=True)
class _ExerciseSpec:
    name: str
    category: str
    group: str
    bilateral: bool
    # Load as a fraction of one of the four main lifts' e1RM (per hand for dumbbells).
    lift: str
    fraction: float
    increment_kg: float
    # Mean concentric velocity at RPE 10, for the lifts premium clients track with a sensor.
    velocity_at_max: float | None = None


_C = Exercise.Category
_LIBRARY = (
    _ExerciseSpec(name="Back Squat", category=_C.SQUAT, group="squat", bilateral=True,
                  lift="squat", fraction=1.0, increment_kg=2.5, velocity_at_max=0.30),
    _ExerciseSpec(name="Front Squat", category=_C.SQUAT, group="squat", bilateral=True,
                  lift="squat", fraction=0.82, increment_kg=2.5),
    _ExerciseSpec(name="Safety Bar Squat", category=_C.SQUAT, group="squat", bilateral=True,
                  lift="squat", fraction=0.9, increment_kg=2.5, velocity_at_max=0.30),
    _ExerciseSpec(name="Deadlift", category=_C.HINGE, group="hip_hinge", bilateral=True,
                  lift="deadlift", fraction=1.0, increment_kg=2.5, velocity_at_max=0.20),
    _ExerciseSpec(name="Trap Bar Deadlift", category=_C.HINGE, group="hip_hinge",
                  bilateral=True, lift="deadlift", fraction=1.05, increment_kg=2.5,
                  velocity_at_max=0.25),
    _ExerciseSpec(name="Romanian Deadlift", category=_C.HINGE, group="hip_hinge_secondary",
                  bilateral=True, lift="deadlift", fraction=0.62, increment_kg=2.5),
    _ExerciseSpec(name="Stiff-Leg Deadlift", category=_C.HINGE, group="hip_hinge_secondary",
                  bilateral=True, lift="deadlift", fraction=0.6, increment_kg=2.5),
    _ExerciseSpec(name="Hip Thrust", category=_C.ACCESSORY, group="glute", bilateral=True,
                  lift="deadlift", fraction=0.85, increment_kg=2.5),
    _ExerciseSpec(name="Bench Press", category=_C.PRESS, group="horizontal_press",
                  bilateral=True, lift="bench", fraction=1.0, increment_kg=2.5,
                  velocity_at_max=0.17),
    _ExerciseSpec(name="Dumbbell Bench Press", category=_C.PRESS, group="horizontal_press",
                  bilateral=True, lift="bench", fraction=0.37, increment_kg=2.0),
    _ExerciseSpec(name="Close-Grip Bench Press", category=_C.PRESS,
                  group="horizontal_press_secondary", bilateral=True, lift="bench",
                  fraction=0.88, increment_kg=2.5),
    _ExerciseSpec(name="Overhead Press", category=_C.PRESS, group="vertical_press",
                  bilateral=True, lift="press", fraction=1.0, increment_kg=2.5,
                  velocity_at_max=0.20),
    _ExerciseSpec(name="Seated Dumbbell Press", category=_C.PRESS, group="vertical_press",
                  bilateral=True, lift="press", fraction=0.38, increment_kg=2.0),
    _ExerciseSpec(name="Barbell Row", category=_C.PULL, group="horizontal_pull",
                  bilateral=True, lift="bench", fraction=0.8, increment_kg=2.5),
    _ExerciseSpec(name="Chest-Supported Row", category=_C.PULL, group="horizontal_pull",
                  bilateral=True, lift="bench", fraction=0.32, increment_kg=2.0),
    _ExerciseSpec(name="Lat Pulldown", category=_C.PULL, group="vertical_pull", bilateral=True,
                  lift="bench", fraction=0.75, increment_kg=2.5),
    _ExerciseSpec(name="Weighted Pull-Up", category=_C.PULL, group="vertical_pull",
                  bilateral=True, lift="bench", fraction=0.15, increment_kg=2.5),
    _ExerciseSpec(name="Bulgarian Split Squat", category=_C.SINGLE_LEG, group="single_leg_knee",
                  bilateral=False, lift="squat", fraction=0.28, increment_kg=2.0),
    _ExerciseSpec(name="Walking Lunge", category=_C.SINGLE_LEG, group="single_leg_knee",
                  bilateral=False, lift="squat", fraction=0.25, increment_kg=2.0),
    _ExerciseSpec(name="Single-Leg Romanian Deadlift", category=_C.SINGLE_LEG,
                  group="single_leg_hip", bilateral=False, lift="deadlift", fraction=0.2,
                  increment_kg=2.0),
    _ExerciseSpec(name="Face Pull", category=_C.ACCESSORY, group="rear_delt", bilateral=True,
                  lift="press", fraction=0.4, increment_kg=2.5),
    _ExerciseSpec(name="Dumbbell Curl", category=_C.ACCESSORY, group="elbow_flexor",
                  bilateral=True, lift="press", fraction=0.2, increment_kg=2.0),
    _ExerciseSpec(name="Triceps Pushdown", category=_C.ACCESSORY, group="elbow_extensor",
                  bilateral=True, lift="bench", fraction=0.3, increment_kg=2.5),
)  # fmt: skip
_SPEC_BY_NAME = {e.name: e for e in _LIBRARY}

# Four rotating days: (exercise, role). Three-day clients rotate through A, B, C.
_TEMPLATES = (
    (("Back Squat", "main"), ("Romanian Deadlift", "secondary"),
     ("Bulgarian Split Squat", "accessory"), ("Chest-Supported Row", "accessory")),
    (("Bench Press", "main"), ("Barbell Row", "secondary"),
     ("Seated Dumbbell Press", "accessory"), ("Triceps Pushdown", "accessory")),
    (("Deadlift", "main"), ("Front Squat", "secondary"), ("Hip Thrust", "accessory"),
     ("Lat Pulldown", "accessory")),
    (("Overhead Press", "main"), ("Close-Grip Bench Press", "secondary"),
     ("Face Pull", "accessory"), ("Dumbbell Curl", "accessory")),
)  # fmt: skip
# An eight-week block: volume weeks, a deload (week 4), strength weeks ending heavy.
_MAIN_REPS = (8, 6, 6, 5, 5, 4, 3, 3)
_MAIN_RPE = (7.0, 7.5, 8.0, 6.5, 7.5, 8.0, 8.5, 9.0)
_DELOAD_WEEK = 3
# Weekday patterns (Monday = 0) for three and four sessions a week.
_STRENGTH_WEEKS = {
    3: ((0, 2, 4), (0, 2, 5), (1, 3, 5), (0, 3, 5), (1, 3, 6)),
    4: ((0, 1, 3, 4), (0, 1, 3, 5), (0, 2, 4, 5), (1, 2, 4, 6)),
}
# Bodyweight multiples for a novice (first) and an advanced lifter (second).
_E1RM_RATIOS = {
    AthleteProfile.Sex.MALE: {
        "squat": (1.1, 2.1), "bench": (0.8, 1.45), "deadlift": (1.4, 2.5), "press": (0.5, 0.9),
    },
    AthleteProfile.Sex.FEMALE: {
        "squat": (0.8, 1.6), "bench": (0.5, 0.95), "deadlift": (1.1, 2.0), "press": (0.35, 0.6),
    },
}  # fmt: skip
_STRENGTH_NOTES = (
    "Felt quick today.",
    "Short on time, rushed the accessories.",
    "Gym was packed, swapped the order around.",
    "Bar speed was good on the top set.",
    "Grip gave out before the legs did.",
    "New belt, still getting used to it.",
)


def _strength_history(
    rng: random.Random,
    *,
    profile: AthleteProfile,
    body: _Body,
    tier: str,
    days: list[datetime.date],
    exercises: dict[str, Exercise],
) -> _History:
    """Three or four sessions a week on a four-day rotation, loads from a rising e1RM.

    The weight for a set is what the plan asks for (reps at a target RPE of an e1RM that
    rises a little each week); the RPE logged is what that weight felt like given the
    day's readiness, so load and RPE stay consistent the way real logs are.
    """
    history = _History()
    experience = rng.random()  # 0 novice .. 1 advanced
    e1rm0 = {
        lift: body.weight_kg * (low + (high - low) * experience) * rng.uniform(0.92, 1.08)
        for lift, (low, high) in _E1RM_RATIOS[body.sex].items()
    }
    weekly_gain = 0.012 - 0.009 * experience + rng.uniform(-0.002, 0.002)
    frequency = {"diy": 3, "hybrid": rng.choice((3, 4)), "premium": 4}[tier]
    tracks_velocity = tier == "premium"
    # A few clients use the substitution group's alternative for a lift all block.
    swaps = {
        "Back Squat": "Safety Bar Squat",
        "Deadlift": "Trap Bar Deadlift",
        "Romanian Deadlift": "Stiff-Leg Deadlift",
        "Lat Pulldown": "Weighted Pull-Up",
        "Bulgarian Split Squat": "Walking Lunge",
    }
    substitute = {name: alt for name, alt in swaps.items() if rng.random() < 0.2}
    rotation = 0
    for week in range(HISTORY_WEEKS):
        week_days = days[week * 7 : week * 7 + 7]
        n_sessions = frequency if rng.random() > 0.2 else 7 - frequency  # 3 <-> 4
        pattern = rng.choice(_STRENGTH_WEEKS[n_sessions])
        for day in sorted(d for d in week_days if d.weekday() in pattern):
            template = _TEMPLATES[rotation % (4 if frequency == 4 else 3)]
            rotation += 1
            readiness = rng.gauss(0, 0.018)
            session = SessionLog(
                athlete=profile, date=day, kind=SessionLog.Kind.STRENGTH, duration_s=0
            )
            set_rpes: list[float] = []
            set_index = 0
            for name, role in template:
                spec = _SPEC_BY_NAME[substitute.get(name, name)]
                weeks_in = (day - days[0]).days / 7
                planned_e1rm = e1rm0[spec.lift] * spec.fraction * (1 + weekly_gain) ** weeks_in
                for weight, reps, rpe, velocity in _exercise_sets(
                    rng,
                    spec=spec,
                    role=role,
                    week=week,
                    planned_e1rm=planned_e1rm,
                    readiness=readiness,
                    tracks_velocity=tracks_velocity,
                ):
                    history.sets.append(
                        SetLog(
                            session=session,
                            exercise=exercises[spec.name],
                            set_index=set_index,
                            weight_kg=Decimal(f"{weight:.2f}"),
                            reps=reps,
                            rpe=Decimal(f"{rpe:.1f}"),
                            mean_velocity_m_s=(
                                Decimal(f"{velocity:.2f}") if velocity is not None else None
                            ),
                        )
                    )
                    set_rpes.append(rpe)
                    set_index += 1
            minutes = 12 + 4.2 * set_index + rng.gauss(0, 6)
            session.duration_s = int(_clip(minutes, 35, 110) * 60)
            session_rpe = _clip(
                _round_to(sum(set_rpes) / len(set_rpes) + rng.gauss(0, 0.4), 0.5), 5, 10
            )
            session.session_rpe = Decimal(f"{session_rpe:.1f}")
            if rng.random() < 0.1:
                session.notes = rng.choice(_STRENGTH_NOTES)
            history.sessions.append(session)
            history.load_by_date[day] = history.load_by_date.get(day, 0) + (
                session_rpe * session.duration_s / 60
            )
    return history


def _exercise_sets(
    rng: random.Random,
    *,
    spec: _ExerciseSpec,
    role: str,
    week: int,
    planned_e1rm: float,
    readiness: float,
    tracks_velocity: bool,
) -> list[tuple[float, int, float, float | None]]:
    """(weight, reps, RPE, mean velocity) for each set of one exercise in one session.

    Main lifts keep the planned reps and let the RPE fall where the rounded bar weight
    puts it. For the other lifts the rounding step is a large share of a light load (a
    2 kg dumbbell jump on 10 kg is 20%), so, as lifters do, the reps move to keep the
    effort near the target instead.
    """
    scheme = _set_scheme(rng, role, week)
    reps, target_rpe = scheme[0]
    weight = _round_to(planned_e1rm * _fraction_of_max(reps, target_rpe), spec.increment_kg)
    weight = max(weight, spec.increment_kg)
    if role != "main":
        reps_at_target = round(30 * (planned_e1rm / weight - 1) - (10 - target_rpe))
        reps = int(_clip(reps_at_target, max(3, reps - 2), 8))
        scheme = [(reps, rpe) for _, rpe in scheme]
    sets = []
    for set_number, (reps, target_rpe) in enumerate(scheme):
        if role == "main":
            weight = _round_to(planned_e1rm * _fraction_of_max(reps, target_rpe), spec.increment_kg)
            weight = max(weight, spec.increment_kg)
        # Each set of an exercise feels ~0.3 RPE harder than the one before.
        true_e1rm = planned_e1rm * (1 + readiness - 0.008 * set_number)
        reps_in_reserve = 30 * (true_e1rm / weight - 1) - reps
        rpe = _clip(_round_to(10 - reps_in_reserve, 0.5), 6.5, 9.5)
        velocity = None
        if tracks_velocity and role == "main" and spec.velocity_at_max:
            velocity = spec.velocity_at_max + 0.06 * (10 - rpe) + rng.gauss(0, 0.02)
        sets.append((weight, reps, rpe, velocity))
    return sets


def _set_scheme(rng: random.Random, role: str, week: int) -> list[tuple[int, float]]:
    """(reps, target RPE) per set: a top set and back-offs for the main lift."""
    deload = week == _DELOAD_WEEK
    base = _MAIN_RPE[week]
    if role == "main":
        n_sets = 3 if deload else rng.choice((4, 5))
        return [(_MAIN_REPS[week], base if i == 0 else base - 0.5) for i in range(n_sets)]
    if role == "secondary":
        return [(min(8, _MAIN_REPS[week] + 2), max(6.5, base - 0.5))] * 3
    reps = rng.choice((6, 7, 8))
    return [(reps, 7.0 if deload else rng.choice((7.5, 8.0)))] * (2 if deload else 3)


def _fraction_of_max(reps: int, rpe: float) -> float:
    # Epley, counting the reps left in reserve as if they had been done.
    return 1 / (1 + (reps + (10 - rpe)) / 30)


# --- endurance ----------------------------------------------------------------------

_ENDURANCE_NOTES = (
    "Windy on the way back.",
    "Legs heavy for the first 20 minutes, then fine.",
    "Treadmill, it was pouring.",
    "Group ride, went a bit too hard on the climbs.",
    "Nailed the intervals.",
    "Easy and chatty, as prescribed.",
)


def _endurance_history(
    rng: random.Random,
    *,
    profile: AthleteProfile,
    body: _Body,
    tier: str,
    days: list[datetime.date],
) -> _History:
    """Four to six runs and rides a week: one long, one or two quality, the rest easy.

    Power, pace and heart rate come from per-athlete thresholds (FTP, threshold speed,
    max HR) and the session's intensity, so a coach sees plausible ratios (NP >= average
    power, quality sessions harder than easy ones) rather than independent noise.
    """
    history = _History()
    male = body.sex == AthleteProfile.Sex.MALE
    age = (days[-1] - body.birth_date).days / 365.25
    max_hr = 208 - 0.7 * age + rng.gauss(0, 5)
    threshold_speed = _clip(rng.gauss(4.1, 0.4) if male else rng.gauss(3.7, 0.35), 2.9, 5.3)
    ftp = body.weight_kg * _clip(rng.gauss(3.4, 0.45) if male else rng.gauss(3.0, 0.4), 2.2, 5)
    weekly_gain = rng.uniform(0.001, 0.005)
    mode = rng.choices(("runner", "cyclist", "triathlete"), weights=(4, 3, 3))[0]
    base_frequency = {"diy": 4, "hybrid": 5, "premium": rng.choice((5, 6))}[tier]
    for week in range(HISTORY_WEEKS):
        week_days = days[week * 7 : week * 7 + 7]
        n_sessions = int(_clip(base_frequency + rng.choice((-1, 0, 0, 1)), 4, 6))
        long_day = rng.choice((5, 6))
        others = rng.sample([d for d in range(7) if d not in (long_day, 0)], n_sessions - 1)
        quality_days = set(rng.sample(others, 2 if n_sessions == 6 else 1))
        for day in sorted(d for d in week_days if d.weekday() in {long_day, *others}):
            kind = (
                "long"
                if day.weekday() == long_day
                else ("quality" if day.weekday() in quality_days else "easy")
            )
            ride_share = {"runner": 0.15, "cyclist": 0.85, "triathlete": 0.5}[mode]
            is_ride = rng.random() < ride_share
            fitness = (1 + weekly_gain) ** ((day - days[0]).days / 7)
            if is_ride:
                session = _ride(rng, kind=kind, ftp=ftp * fitness, max_hr=max_hr)
            else:
                session = _run(rng, kind=kind, speed=threshold_speed * fitness, max_hr=max_hr)
            session.athlete = profile
            session.date = day
            if rng.random() < 0.08:
                session.notes = rng.choice(_ENDURANCE_NOTES)
            history.sessions.append(session)
            history.load_by_date[day] = history.load_by_date.get(day, 0) + float(
                session.session_rpe
            ) * (session.duration_s / 60)
    return history


# (minutes, fraction of threshold speed or FTP, variability index, fraction of max HR,
#  session RPE) ranges per kind of session.
_RUNS = {
    "easy": ((35, 70), (0.72, 0.80), (1.0, 1.0), (0.68, 0.76), (3.0, 4.5)),
    "long": ((80, 130), (0.74, 0.81), (1.0, 1.0), (0.72, 0.80), (5.0, 7.0)),
    "quality": ((45, 75), (0.85, 0.92), (1.0, 1.0), (0.80, 0.87), (7.0, 8.5)),
}
_RIDES = {
    "easy": ((50, 90), (0.55, 0.68), (1.02, 1.06), (0.62, 0.70), (3.0, 4.5)),
    "long": ((120, 240), (0.62, 0.72), (1.04, 1.10), (0.68, 0.76), (5.0, 7.0)),
    "quality": ((60, 100), (0.70, 0.80), (1.10, 1.20), (0.76, 0.84), (7.0, 8.5)),
}


def _run(rng: random.Random, *, kind: str, speed: float, max_hr: float) -> SessionLog:
    minutes, intensity, _, hr, rpe = (rng.uniform(*r) for r in _RUNS[kind])
    duration_s = int(minutes * 60)
    return SessionLog(
        kind=SessionLog.Kind.RUN,
        duration_s=duration_s,
        distance_m=int(duration_s * speed * intensity),
        avg_hr_bpm=int(max_hr * hr),
        session_rpe=Decimal(f"{_round_to(rpe, 0.5):.1f}"),
    )


def _ride(rng: random.Random, *, kind: str, ftp: float, max_hr: float) -> SessionLog:
    minutes, intensity, variability, hr, rpe = (rng.uniform(*r) for r in _RIDES[kind])
    duration_s = int(minutes * 60)
    avg_power = ftp * intensity
    # Road speed grows roughly with the cube root of power; terrain adds the noise.
    speed_m_s = 7.6 * (avg_power / 200) ** (1 / 3) * rng.uniform(0.9, 1.08)
    return SessionLog(
        kind=SessionLog.Kind.RIDE,
        duration_s=duration_s,
        distance_m=int(duration_s * speed_m_s),
        avg_hr_bpm=int(max_hr * hr),
        avg_power_w=round(avg_power),
        normalized_power_w=round(avg_power * variability),
        session_rpe=Decimal(f"{_round_to(rpe, 0.5):.1f}"),
    )


# --- morning check-ins --------------------------------------------------------------


def _checkins(
    rng: random.Random,
    *,
    profile: AthleteProfile,
    body: _Body,
    discipline: str,
    days: list[datetime.date],
    load_by_date: dict[datetime.date, float],
) -> list[CheckIn]:
    """Daily reports around personal baselines, with a few missed days.

    HRV drifts (AR(1) on the log scale) around a personal baseline, dips after hard days,
    and has zero to two "low stretches" of several days (illness, travel, a bad week)
    where resting HR, stress and sleep move with it, which is what readiness rules look
    for. The number of draws per day never depends on training or skipped days, so the
    same person gets the same values in every tenant.
    """
    endurance = discipline == AthleteProfile.Discipline.ENDURANCE
    female = body.sex == AthleteProfile.Sex.FEMALE
    hrv_baseline = rng.uniform(35, 90)
    rhr_baseline = rng.uniform(42, 56) if endurance else rng.uniform(52, 66)
    rhr_baseline += 3 if female else 0
    sleep_mean = _clip(rng.gauss(7.3, 0.45), 6.2, 8.4)
    stress_mean = rng.uniform(1.5, 3.0)
    weight_slope = rng.uniform(-0.04, 0.025)  # kg per day
    low_days: set[int] = set()
    for _ in range(rng.choices((0, 1, 2), weights=(35, 50, 15))[0]):
        length = rng.randint(3, 7)
        start = rng.randrange(0, len(days) - length)
        low_days.update(range(start, start + length))
    n_skipped = rng.randint(round(0.06 * len(days)), round(0.14 * len(days)))
    skipped = set(rng.sample(range(len(days)), n_skipped))
    mean_load = (sum(load_by_date.values()) / len(load_by_date)) if load_by_date else 1.0

    checkins = []
    drift = 0.0
    for index, day in enumerate(days):
        low = index in low_days
        yesterday_load = load_by_date.get(day - datetime.timedelta(days=1), 0) / mean_load
        drift = 0.5 * drift + rng.gauss(0, 0.08)
        hrv_factor = rng.uniform(0.65, 0.8) if low else 1.0
        hrv = hrv_baseline * math.exp(drift) * hrv_factor * (0.95 if yesterday_load > 1.2 else 1)
        rhr = rhr_baseline + rng.gauss(0, 1.8) + (rng.uniform(3, 7) if low else 0)
        sleep = _clip(rng.gauss(sleep_mean, 0.55) - (0.6 if low else 0), 5.5, 9.0)
        soreness = 1.3 + 1.2 * yesterday_load + rng.gauss(0, 0.6) + (0.5 if low else 0)
        stress = stress_mean + rng.gauss(0, 0.7) + (1 if low else 0)
        weight = body.weight_kg + weight_slope * index + rng.gauss(0, 0.35)
        weighed_in = rng.random() > 0.1
        if index in skipped:
            continue
        checkins.append(
            CheckIn(
                athlete=profile,
                date=day,
                sleep_hours=Decimal(f"{_round_to(sleep, 0.25):.2f}"),
                soreness=int(_clip(round(soreness), 1, 5)),
                stress=int(_clip(round(stress), 1, 5)),
                hrv_rmssd_ms=Decimal(f"{hrv:.1f}"),
                resting_hr_bpm=round(rhr),
                body_weight_kg=Decimal(f"{weight:.1f}") if weighed_in else None,
            )
        )
    return checkins


# --- helpers ------------------------------------------------------------------------


def _clip(value: float, low: float, high: float) -> float:
    return max(low, min(high, value))


def _round_to(value: float, step: float) -> float:
    return round(value / step) * step
