"""Demo data for local product runs: two coaching businesses with eight weeks of history
and a generated training block for every client.

`manage.py seed_demo` calls `demo_seed`; `manage.py demo_totp` calls `demo_totp_code`.
The password and the TOTP secret are public constants on purpose, so that anyone who
runs `make demo` can log in as every persona. Never seed a database that real people use.

Determinism: every random draw comes from a `random.Random` stream named after the seed
and a stable label (tenant slug, client e-mail). One client's history therefore does not
shift when another client's generator changes, and the same seed and anchor date give the
same rows. The dual-tenant client's morning check-ins come from a stream named after the
person only, so both tenants see the same sleep, HRV and weight, as they would from one
watch and one scale.

What each tenant gets, in order: the shipped exercise library; one methodology whose
first version is validated and published by the coaching services, sold in three tiers
(DIY, Hybrid, Premium); the clients' profiles (training days, session length, equipment,
goal), each enrolled on their tier; a baseline assessment on the first day of the history
and a second one on the last, whose lifts are the working e1RMs of the logged sets (the
engine's `working_e1rm`); eight weeks of logs with the engine's sRPE load, TSS and TRIMP;
check-ins; then `block_generate` plans every client's next four weeks from the
Monday after the history, so every demo client has a plan to read; and last each client
gets food preferences (diet, an occasional allergy) and a 7-day meal plan from the last
day of the history, fuelled by that plan, and complimentary access (an entitlement marked
"comped": the demo has no Stripe).

Speed: rows go in with `bulk_create` (the tenant-scoped queryset stamps the tenant), and
every demo user shares one password hash, because hashing 45 passwords with PBKDF2 alone
would take longer than the rest of the seed. Methodologies, tiers, enrolments and blocks
go through their services, so they are validated exactly as in the product.
"""

from __future__ import annotations

import datetime
import functools
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

from athletes.consent import consents_seed_granted, ledger_erasure_allow
from athletes.models import EQUIPMENT, Assessment, AthleteProfile, CheckIn
from athletes.services import enrolment_create
from billing.services import entitlement_comp
from coaching.methodology import default_rules
from coaching.models import (
    PRODUCT_AUTONOMY,
    PRODUCT_CHECKIN_CADENCE_DAYS,
    Membership,
    Methodology,
    MethodologyVersion,
    Tenant,
    Tier,
)
from coaching.services import methodology_create, tier_create, version_draft_create, version_publish
from coaching.tenancy import tenant_context
from nutrition.models import PlanDay
from nutrition.services import nutrition_refresh, preferences_update
from programs.engine import load as load_engine
from programs.engine.library import ExerciseInfo, load_library
from programs.engine.strength import e1rm, round_to_increment, rpe_percent, working_e1rm
from programs.models import (
    AssessmentLift,
    Exercise,
    PlannedSession,
    PlannedSet,
    SessionLog,
    SetLog,
)
from programs.services import block_generate, exercise_library_install

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
# Numbered clients per tenant who train at home (dumbbells, bench, bands, pull-up bar).
HOME_GYM_CLIENTS = 3
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
    methodology_name: str
    methodology_slug: str
    methodology_description: str
    # Monthly prices of the DIY, Hybrid and Premium tiers, in the tenant's currency.
    prices: tuple[str, str, str]
    brand_colour: str = "#1f5fbf"

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
        methodology_name="Ironworks 5s",
        methodology_slug="ironworks-5s",
        methodology_description=(
            "Three sessions built on the squat, bench press, deadlift and overhead press: "
            "a top set of five at a rising RPE, then three back-off fives at 90 %, with "
            "pattern accessories. Deload every fourth week."
        ),
        prices=("29.00", "79.00", "199.00"),
        brand_colour="#b3261e",
    ),
    DemoTenantSpec(
        slug="tempo",
        name="Tempo Endurance",
        timezone="Europe/Amsterdam",
        currency="EUR",
        discipline=AthleteProfile.Discipline.ENDURANCE,
        owner_name=("Sanne", "Verhoeven"),
        coach_name=("Joris", "Kuipers"),
        methodology_name="Tempo Polarised",
        methodology_slug="tempo-polarised",
        methodology_description=(
            "Polarised running: about 80 % of the time easy, one or two hard interval "
            "sessions and a long run each week, volume rising 5 % a week, then a deload week."
        ),
        prices=("25.00", "69.00", "179.00"),
        brand_colour="#0f766e",
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
    methodology: str
    tiers: tuple[str, ...]


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
    cascade can only see (and delete) that tenant's rows. Foreign keys between tenant
    rows are CASCADE or RESTRICT (never PROTECT), so the tenant's cascade takes them all.
    """
    # Deleting a tenant deletes its consent ledger: the one delete the ledger's trigger
    # allows, and only once the transaction says so (athletes.consent).
    ledger_erasure_allow()
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
        offer = _tenant_seed(
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
                methodology=f"{offer.methodology.name} v{offer.version.number}",
                tiers=tuple(tier.name for tier in offer.tiers.values()),
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
            f"  offer    {tenant.methodology} (published), tiers {', '.join(tenant.tiers)}",
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
    home_gym: bool = False


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
    home_gyms = set(rng.sample(range(CLIENTS_PER_TENANT), HOME_GYM_CLIENTS))
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
                home_gym=index in home_gyms,
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


@dataclass(frozen=True, kw_only=True)
class _Offer:
    methodology: Methodology
    version: MethodologyVersion
    tiers: dict[str, Tier]  # by product: diy, hybrid, premium


@dataclass(kw_only=True)
class _History:
    sessions: list[SessionLog] = field(default_factory=list)
    sets: list[SetLog] = field(default_factory=list)
    # Training load (session RPE x minutes) by date, which drives next-morning soreness.
    load_by_date: dict[datetime.date, float] = field(default_factory=dict)
    # Logged sets per exercise slug, (date, kg, reps, RPE), as `working_e1rm` reads them.
    sets_by_slug: dict[str, list[tuple[datetime.date, float, int, float]]] = field(
        default_factory=dict
    )


@dataclass(kw_only=True)
class _Client:
    """One client of one tenant, built in memory before anything is saved."""

    member: _Member
    profile: AthleteProfile
    history: _History
    checkins: list[CheckIn]
    assessments: list[Assessment]
    lifts: list[AssessmentLift]


def _tenant_seed(
    *,
    seed: int,
    spec: DemoTenantSpec,
    roster: list[_Member],
    users: dict[str, AbstractBaseUser],
    days: list[datetime.date],
    counts: Counter[str],
) -> _Offer:
    tenant = Tenant(
        slug=spec.slug,
        name=spec.name,
        timezone=spec.timezone,
        currency=spec.currency,
        brand_colour=spec.brand_colour,
    )
    tenant.full_clean()
    tenant.save()
    counts["tenants"] += 1
    with tenant_context(tenant):
        Membership.objects.bulk_create(
            [Membership(user=users[m.email], role=m.role) for m in roster]
        )
        exercise_library_install()
        exercises = {e.slug: e for e in Exercise.objects.all()}
        offer = _offer_create(spec, created_by=users[f"owner@{spec.email_domain}"])
        clients = [
            _client(seed, spec=spec, member=m, user=users[m.email], days=days, exercises=exercises)
            for m in roster
            if m.role == Membership.Role.CLIENT
        ]
        AthleteProfile.objects.bulk_create([c.profile for c in clients])
        # Demo clients have agreed to every purpose (one insert per tenant, no audit:
        # nobody decided anything here), so every demo feature has its data.
        consents_seed_granted([c.profile for c in clients])
        for c in clients:
            enrolment_create(
                athlete=c.profile,
                tier=offer.tiers[c.member.tier],
                methodology_version=offer.version,
                started=days[0],
            )
        assessments = [a for c in clients for a in c.assessments]
        lifts = [lift for c in clients for lift in c.lifts]
        sessions = [s for c in clients for s in c.history.sessions]
        sets = [s for c in clients for s in c.history.sets]
        checkins = [ci for c in clients for ci in c.checkins]
        Assessment.objects.bulk_create(assessments, batch_size=_BATCH_SIZE)
        AssessmentLift.objects.bulk_create(lifts, batch_size=_BATCH_SIZE)
        SessionLog.objects.bulk_create(sessions, batch_size=_BATCH_SIZE)
        SetLog.objects.bulk_create(sets, batch_size=_BATCH_SIZE)
        CheckIn.objects.bulk_create(checkins, batch_size=_BATCH_SIZE)
        # The next block starts on the Monday after the history; it plans from the
        # latest assessment, whose lifts are the working e1RMs of the logged sets.
        start = days[-1] + datetime.timedelta(days=7 - days[-1].weekday())
        for c in clients:
            block_generate(athlete=c.profile, start_date=start)
        planned_sessions = PlannedSession.objects.count()
        planned_sets = PlannedSet.objects.count()
        for c in clients:
            _nutrition(seed, c.member, c.profile, today=days[-1])
            # No Stripe in the demo: access is granted without payment, marked as such.
            entitlement_comp(
                athlete=c.profile,
                reason="Demo client: complimentary access granted by the demo seed, no payment.",
            )
        plan_days = PlanDay.objects.count()
    counts["memberships"] += len(roster)
    counts["exercises"] += len(exercises)
    counts["methodologies"] += 1
    counts["published versions"] += 1
    counts["tiers"] += len(offer.tiers)
    counts["athlete profiles"] += len(clients)
    counts["enrolments"] += len(clients)
    counts["assessments"] += len(assessments)
    counts["assessment lifts"] += len(lifts)
    counts["session logs"] += len(sessions)
    counts["set logs"] += len(sets)
    counts["check-ins"] += len(checkins)
    counts["program blocks"] += len(clients)
    counts["planned sessions"] += planned_sessions
    counts["planned sets"] += planned_sets
    counts["meal plan days"] += plan_days
    counts["comped entitlements"] += len(clients)
    return offer


# Diet styles as a coaching clientele might have them; a few clients have an allergy.
_DIETS = (("omnivore", 12), ("vegetarian", 3), ("pescatarian", 2), ("vegan", 3))
_ALLERGIES = ((), (), (), (), (), ("peanuts",), ("tree-nuts",), ("milk",), ("gluten",))
_NUTRITION_GOALS = {"body_composition": "lose", "hypertrophy": "gain"}


def _nutrition(
    seed: int, member: _Member, athlete: AthleteProfile, *, today: datetime.date
) -> None:
    """Preferences, then targets and a 7-day meal plan from `today`, via the services."""
    rng = _rng(seed, "nutrition", member.email)
    diets, weights = zip(*_DIETS, strict=True)
    preferences_update(
        athlete=athlete,
        data={
            "diet": rng.choices(diets, weights=weights)[0],
            "allergies": list(rng.choice(_ALLERGIES)),
            "meals_per_day": rng.choice((3, 4, 4, 5)),
            "cooking_skill": rng.choice((1, 2, 2, 3)),
            "goal": _NUTRITION_GOALS.get(athlete.goal, "maintain"),
        },
    )
    nutrition_refresh(athlete=athlete, start=today)


# --- what the tenant sells ----------------------------------------------------------

_TIERS = (
    ("diy", "DIY", (
        "A four-week block planned from your assessment and logs",
        "Loads and volume adjust automatically to your check-ins",
        "Training log and progress charts",
    )),
    ("hybrid", "Hybrid", (
        "Everything in DIY",
        "Your coach reviews the changes the engine flags",
        "A coach check-in every month",
    )),
    ("premium", "Premium", (
        "Everything in Hybrid",
        "Your coach approves every change to your plan",
        "A coach check-in every week",
    )),
)  # fmt: skip


def _offer_create(spec: DemoTenantSpec, *, created_by: AbstractBaseUser) -> _Offer:
    """The methodology, its first version (validated and published by the coaching
    services) and the three tiers selling it."""
    methodology = methodology_create(
        name=spec.methodology_name,
        slug=spec.methodology_slug,
        discipline=spec.discipline,
        description=spec.methodology_description,
    )
    draft = version_draft_create(
        methodology=methodology,
        rules=_methodology_rules(spec.discipline),
        notes="First version.",
        created_by=created_by,
    )
    version = version_publish(version=draft)
    tiers = {
        key: tier_create(
            methodology=methodology,
            name=name,
            slug=key,
            price=Decimal(price),
            autonomy=PRODUCT_AUTONOMY[key],
            checkin_cadence_days=PRODUCT_CHECKIN_CADENCE_DAYS[key],
            features=features,
            sort_order=index,
        )
        for index, ((key, name, features), price) in enumerate(
            zip(_TIERS, spec.prices, strict=True), start=1
        )
    }
    return _Offer(methodology=methodology, version=version, tiers=tiers)


def _methodology_rules(discipline: str) -> dict:
    """The discipline's default document with the demo coach's choices."""
    rules = default_rules(discipline)
    if discipline == AthleteProfile.Discipline.STRENGTH:
        rules["progression"] = {
            "model": "rpe_top_set_backoff",
            "plate_increment_kg": 2.5,
            "params": {
                "top_set_reps": 5,
                "top_set_rpe": 7.5,
                "backoff_sets": 3,
                "backoff_reps": 5,
                "backoff_percent_of_top": 0.9,
            },
        }
        rules["sessions"] = [
            {"name": "Squat and bench", "slots": [
                {"exercise": "back-squat", "role": "main"},
                {"exercise": "bench-press", "role": "main"},
                {"pattern": "single_leg", "role": "accessory", "sets": 3, "reps": 8, "rpe": 7.5},
                {"pattern": "pull", "role": "accessory", "sets": 3, "reps": 10, "rpe": 7.5},
            ]},
            {"name": "Deadlift and press", "slots": [
                {"exercise": "deadlift", "role": "main"},
                {"exercise": "overhead-press", "role": "main"},
                {"pattern": "pull", "role": "accessory", "sets": 3, "reps": 8, "rpe": 8.0},
                {"pattern": "press", "role": "accessory", "sets": 3, "reps": 10, "rpe": 7.5},
            ]},
            {"name": "Bench and legs", "slots": [
                {"exercise": "bench-press", "role": "main"},
                {"pattern": "squat", "role": "accessory", "sets": 3, "reps": 8, "rpe": 7.5},
                {"pattern": "hinge", "role": "accessory", "sets": 3, "reps": 8, "rpe": 7.5},
                {"pattern": "pull", "role": "accessory", "sets": 3, "reps": 10, "rpe": 7.5},
            ]},
        ]  # fmt: skip
        rules["guardrails"]["protected_exercises"] = ["back-squat"]
    else:
        rules["progression"] = {
            "model": "polarised",
            "params": {
                "weekly_minutes": 270,
                "weekly_ramp_percent": 5,
                "sport": "run",
                "long_session_fraction": 0.3,
            },
        }
    return rules


# --- one client ---------------------------------------------------------------------

_FULL_GYM = ("barbell", "dumbbell", "machine", "cable", "pullup_bar", "bench", "rack")
_HOME_GYM = ("dumbbell", "bands", "pullup_bar", "bench")
_INJURIES = (
    "Old left shoulder impingement: no behind-the-neck pressing.",
    "Lower back flares up with high-rep deadlifts; keep hinges at 8 reps or fewer.",
    "Right knee: patellar tendon niggle after long downhill runs.",
    "Achilles tightness in spring; build running volume gradually.",
    "Tennis elbow (left), mostly settled.",
)
_COACH_NOTES = (
    "Prefers morning sessions; trains before work.",
    "Competes in a local meet in spring.",
    "Travels for work every other week; hotel gym then.",
    "Responds well to higher frequency; watch sleep in busy weeks.",
    "Aiming for a half marathon in April.",
    "Returning after a year off; keep RPE honest.",
)


def _client(
    seed: int,
    *,
    spec: DemoTenantSpec,
    member: _Member,
    user: AbstractBaseUser,
    days: list[datetime.date],
    exercises: dict[str, Exercise],
) -> _Client:
    body = _body(seed, member, spec.discipline, days[-1])
    profile = AthleteProfile(
        user=user,
        display_name=f"{member.first_name} {member.last_name}",
        discipline=spec.discipline,
        sex=body.sex,
        birth_date=body.birth_date,
        height_cm=Decimal(f"{body.height_cm:.1f}"),
    )
    rng = _rng(seed, spec.slug, member.email, "training")
    if spec.discipline == AthleteProfile.Discipline.STRENGTH:
        lifter = _lifter(rng, member=member, body=body, profile=profile)
        history = _strength_history(
            rng, lifter=lifter, profile=profile, days=days, exercises=exercises
        )
    else:
        runner = _endurance_athlete(rng, member=member, body=body, profile=profile, days=days)
        history = _endurance_history(rng, athlete=runner, profile=profile, days=days)
    if rng.random() < 0.15:
        profile.injuries = rng.choice(_INJURIES)
    if member.tier != "diy" and rng.random() < 0.5:
        profile.coach_notes = rng.choice(_COACH_NOTES)
    checkins = _checkins(
        _rng(seed, "checkins", member.email),
        profile=profile,
        body=body,
        discipline=spec.discipline,
        days=days,
        load_by_date=history.load_by_date,
    )
    if spec.discipline == AthleteProfile.Discipline.STRENGTH:
        assessments, lifts = _strength_assessments(
            rng, lifter=lifter, profile=profile, history=history, checkins=checkins,
            days=days, exercises=exercises,
        )  # fmt: skip
    else:
        assessments = _endurance_assessments(
            athlete=runner, profile=profile, checkins=checkins, days=days
        )
        lifts = []
    _session_loads(history.sessions, profile=profile, assessments=assessments)
    return _Client(
        member=member,
        profile=profile,
        history=history,
        checkins=checkins,
        assessments=assessments,
        lifts=lifts,
    )


def _equipment(rng: random.Random, *, home_gym: bool) -> list[str]:
    """In the order of the shared vocabulary (athletes.models.EQUIPMENT)."""
    have = set(_HOME_GYM if home_gym else _FULL_GYM)
    if not home_gym:
        if rng.random() < 0.3:
            have.add("trap_bar")
        if rng.random() < 0.3:
            have.add("kettlebell")
    elif rng.random() < 0.5:
        have.add("kettlebell")
    return [item for item in EQUIPMENT if item in have]


def _weighed(checkins: list[CheckIn]) -> list[CheckIn]:
    return [c for c in checkins if c.body_weight_kg is not None]


def _session_loads(
    sessions: list[SessionLog], *, profile: AthleteProfile, assessments: list[Assessment]
) -> None:
    """sRPE load, TSS and TRIMP as `programs.services` computes them when a log is written,
    from the assessment in force on the session's day, where the inputs exist."""
    for session in sessions:
        assessment = max((a for a in assessments if a.date <= session.date), key=lambda a: a.date)
        minutes = session.duration_s / 60
        session.srpe_load = load_engine.session_rpe_load(float(session.session_rpe), minutes)
        if session.kind == SessionLog.Kind.RIDE and assessment.ftp_w:
            session.tss = load_engine.tss(
                session.duration_s, session.normalized_power_w, assessment.ftp_w
            )
        elif session.kind == SessionLog.Kind.RUN and assessment.threshold_pace_s_per_km:
            session.tss = load_engine.run_tss(
                session.duration_s,
                session.distance_m / session.duration_s,
                assessment.threshold_speed_m_s,
            )
        rest, peak = assessment.hr_rest_bpm, assessment.hr_max_bpm
        if session.avg_hr_bpm and rest and peak and rest <= session.avg_hr_bpm <= peak:
            session.trimp = load_engine.trimp(minutes, session.avg_hr_bpm, rest, peak, profile.sex)


# --- strength -----------------------------------------------------------------------


@dataclass(frozen=True, kw_only=True)
class _Lift:
    """How the demo loads one library exercise."""

    slug: str
    # Which of the lifter's starting e1RMs it scales, and by how much: the library's
    # e1rm_ratio to its group's reference lift where it has one (per hand for dumbbells),
    # else the demo's own fraction.
    base: str
    fraction: float
    increment_kg: float
    # Mean concentric velocity at RPE 10, for the lifts premium clients track with a sensor.
    velocity_at_max: float | None


# A library substitution group's reference lift -> the starting e1RM it scales.
_GROUP_BASE = {
    "squat": "squat", "hinge": "deadlift", "horizontal-press": "bench",
    "vertical-press": "press", "horizontal-pull": "row", "vertical-pull": "pulldown",
}  # fmt: skip
# Exercises without an e1rm_ratio in the library: (base, fraction).
_OWN_FRACTIONS = {
    "face-pull": ("press", 0.4),
    "dumbbell-curl": ("press", 0.2),
    "hammer-curl": ("press", 0.22),
    "cable-triceps-pushdown": ("bench", 0.3),
    "overhead-dumbbell-triceps-extension": ("bench", 0.22),
    "reverse-dumbbell-fly": ("press", 0.12),
}
_VELOCITY_AT_MAX = {
    "back-squat": 0.30, "safety-bar-squat": 0.30, "deadlift": 0.20,
    "trap-bar-deadlift": 0.25, "bench-press": 0.17, "overhead-press": 0.20,
}  # fmt: skip


@functools.cache
def _lift(slug: str) -> _Lift:
    info: ExerciseInfo = load_library().exercise(slug)
    if info.e1rm_ratio is not None:
        base, fraction = _GROUP_BASE[info.substitution_group], info.e1rm_ratio
    else:
        base, fraction = _OWN_FRACTIONS[slug]
    dumbbell = "dumbbell" in info.equipment and "barbell" not in info.equipment
    return _Lift(
        slug=slug,
        base=base,
        fraction=fraction,
        increment_kg=2.0 if dumbbell else 2.5,
        velocity_at_max=_VELOCITY_AT_MAX.get(slug),
    )


# Four rotating days of (library slug, role); three-day clients rotate through A, B, C.
_GYM_TEMPLATES = (
    (("back-squat", "main"), ("romanian-deadlift", "secondary"),
     ("bulgarian-split-squat", "accessory"), ("chest-supported-dumbbell-row", "accessory")),
    (("bench-press", "main"), ("barbell-row", "secondary"),
     ("seated-dumbbell-shoulder-press", "accessory"), ("cable-triceps-pushdown", "accessory")),
    (("deadlift", "main"), ("front-squat", "secondary"), ("barbell-hip-thrust", "accessory"),
     ("lat-pulldown", "accessory")),
    (("overhead-press", "main"), ("close-grip-bench-press", "secondary"),
     ("face-pull", "accessory"), ("dumbbell-curl", "accessory")),
)  # fmt: skip
_HOME_TEMPLATES = (
    (("bulgarian-split-squat", "main"), ("dumbbell-romanian-deadlift", "secondary"),
     ("chest-supported-dumbbell-row", "accessory"), ("dumbbell-curl", "accessory")),
    (("dumbbell-bench-press", "main"), ("one-arm-dumbbell-row", "secondary"),
     ("seated-dumbbell-shoulder-press", "accessory"),
     ("overhead-dumbbell-triceps-extension", "accessory")),
    (("dumbbell-romanian-deadlift", "main"), ("goblet-squat", "secondary"),
     ("dumbbell-hip-thrust", "accessory"), ("dumbbell-pullover", "accessory")),
    (("seated-dumbbell-shoulder-press", "main"), ("incline-dumbbell-press", "secondary"),
     ("reverse-dumbbell-fly", "accessory"), ("hammer-curl", "accessory")),
)  # fmt: skip
# Lifts a client may swap for the block (their own choice, 20 % each), and what they need.
_SWAPS = {
    "back-squat": ("safety-bar-squat", "rack"),
    "deadlift": ("trap-bar-deadlift", "trap_bar"),
    "romanian-deadlift": ("stiff-leg-deadlift", "barbell"),
    "lat-pulldown": ("close-grip-lat-pulldown", "cable"),
    "bulgarian-split-squat": ("dumbbell-walking-lunge", "dumbbell"),
}
# An eight-week block: volume weeks, a deload (week 4), strength weeks ending heavy.
_MAIN_REPS = (8, 6, 6, 5, 5, 4, 3, 3)
_MAIN_RPE = (7.0, 7.5, 8.0, 6.5, 7.5, 8.0, 8.5, 9.0)
_DELOAD_WEEK = 3
# Training days (Monday = 0) for three and four sessions a week.
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
_STRENGTH_GOALS = (
    (AthleteProfile.Goal.STRENGTH, 6), (AthleteProfile.Goal.HYPERTROPHY, 3),
    (AthleteProfile.Goal.BODY_COMPOSITION, 2), (AthleteProfile.Goal.HEALTH, 2),
    (AthleteProfile.Goal.PERFORMANCE, 1),
)  # fmt: skip


@dataclass(frozen=True, kw_only=True)
class _Lifter:
    experience: float  # 0 novice .. 1 advanced
    e1rm0: dict[str, float]  # starting e1RM per base lift
    weekly_gain: float
    templates: tuple[tuple[tuple[str, str], ...], ...]
    substitute: dict[str, str]
    tracks_velocity: bool


def _lifter(
    rng: random.Random, *, member: _Member, body: _Body, profile: AthleteProfile
) -> _Lifter:
    """The lifter's starting strength and habits; sets the profile's training settings."""
    experience = rng.random()
    e1rm0 = {
        lift: body.weight_kg * (low + (high - low) * experience) * rng.uniform(0.92, 1.08)
        for lift, (low, high) in _E1RM_RATIOS[body.sex].items()
    }
    e1rm0["row"] = e1rm0["bench"] * rng.uniform(0.75, 0.85)
    e1rm0["pulldown"] = e1rm0["bench"] * rng.uniform(0.7, 0.8)
    weekly_gain = 0.012 - 0.009 * experience + rng.uniform(-0.002, 0.002)
    frequency = {"diy": 3, "hybrid": rng.choice((3, 4)), "premium": 4}[member.tier]
    profile.available_weekdays = list(rng.choice(_STRENGTH_WEEKS[frequency]))
    profile.session_minutes = rng.choice((45, 60, 60, 75, 90))
    profile.equipment = _equipment(rng, home_gym=member.home_gym)
    profile.training_age_years = Decimal(
        f"{_round_to(0.5 + 11 * experience + rng.uniform(0, 2), 0.5):.1f}"
    )
    goals, weights = zip(*_STRENGTH_GOALS, strict=True)
    profile.goal = rng.choices(goals, weights=weights)[0]
    substitute = {}
    for name, (alternative, needs) in _SWAPS.items():
        if rng.random() < 0.2 and needs in profile.equipment and not member.home_gym:
            substitute[name] = alternative
    return _Lifter(
        experience=experience,
        e1rm0=e1rm0,
        weekly_gain=weekly_gain,
        templates=_HOME_TEMPLATES if member.home_gym else _GYM_TEMPLATES,
        substitute=substitute,
        tracks_velocity=member.tier == "premium" and not member.home_gym,
    )


def _week_days(
    rng: random.Random, week_days: list[datetime.date], weekdays: list[int]
) -> list[datetime.date]:
    """A strength week on the client's days: now and then a session is missed or moved
    to the day before or after."""
    planned = [d for d in week_days if d.weekday() in weekdays]
    roll = rng.random()
    if roll < 0.1:
        planned.pop(rng.randrange(len(planned)))
    elif roll < 0.25:
        index = rng.randrange(len(planned))
        free = [d for d in week_days if d not in planned and abs((d - planned[index]).days) == 1]
        if free:
            planned[index] = rng.choice(free)
    return sorted(planned)


def _strength_history(
    rng: random.Random,
    *,
    lifter: _Lifter,
    profile: AthleteProfile,
    days: list[datetime.date],
    exercises: dict[str, Exercise],
) -> _History:
    """Sessions on the client's training days, on a rotation of their templates, with
    loads from a rising e1RM.

    The weight for a set is what the plan asks for (reps at a target RPE of an e1RM that
    rises a little each week); the RPE logged is what that weight felt like given the
    day's readiness, so load and RPE stay consistent the way real logs are.
    """
    history = _History()
    rotation = 0
    n_templates = 4 if len(profile.available_weekdays) == 4 else 3
    for week in range(HISTORY_WEEKS):
        for day in _week_days(rng, days[week * 7 : week * 7 + 7], profile.available_weekdays):
            template = lifter.templates[rotation % n_templates]
            rotation += 1
            readiness = rng.gauss(0, 0.018)
            session = SessionLog(
                athlete=profile, date=day, kind=SessionLog.Kind.STRENGTH, duration_s=0
            )
            set_rpes: list[float] = []
            set_index = 0
            for slug, role in template:
                lift = _lift(lifter.substitute.get(slug, slug))
                weeks_in = (day - days[0]).days / 7
                planned_e1rm = (
                    lifter.e1rm0[lift.base] * lift.fraction * (1 + lifter.weekly_gain) ** weeks_in
                )
                for weight, reps, rpe, velocity in _exercise_sets(
                    rng,
                    lift=lift,
                    role=role,
                    week=week,
                    planned_e1rm=planned_e1rm,
                    readiness=readiness,
                    tracks_velocity=lifter.tracks_velocity,
                ):
                    set_index += 1
                    history.sets.append(
                        SetLog(
                            session=session,
                            exercise=exercises[lift.slug],
                            set_index=set_index,
                            weight_kg=Decimal(f"{weight:.2f}"),
                            reps=reps,
                            rpe=Decimal(f"{rpe:.1f}"),
                            mean_velocity_m_s=(
                                Decimal(f"{velocity:.2f}") if velocity is not None else None
                            ),
                        )
                    )
                    history.sets_by_slug.setdefault(lift.slug, []).append((day, weight, reps, rpe))
                    set_rpes.append(rpe)
            minutes = 12 + 4.2 * set_index + rng.gauss(0, 6)
            session.duration_s = int(_clip(minutes, 35, profile.session_minutes + 15) * 60)
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
    lift: _Lift,
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
    weight = _round_to(planned_e1rm * _fraction_of_max(reps, target_rpe), lift.increment_kg)
    weight = max(weight, lift.increment_kg)
    if role != "main":
        reps_at_target = round(30 * (planned_e1rm / weight - 1) - (10 - target_rpe))
        reps = int(_clip(reps_at_target, max(3, reps - 2), 8))
        scheme = [(reps, rpe) for _, rpe in scheme]
    sets = []
    for set_number, (reps, target_rpe) in enumerate(scheme):
        if role == "main":
            weight = _round_to(planned_e1rm * _fraction_of_max(reps, target_rpe), lift.increment_kg)
            weight = max(weight, lift.increment_kg)
        # Each set of an exercise feels ~0.3 RPE harder than the one before.
        true_e1rm = planned_e1rm * (1 + readiness - 0.008 * set_number)
        reps_in_reserve = 30 * (true_e1rm / weight - 1) - reps
        rpe = _clip(_round_to(10 - reps_in_reserve, 0.5), 6.5, 9.5)
        velocity = None
        if tracks_velocity and role == "main" and lift.velocity_at_max:
            velocity = lift.velocity_at_max + 0.06 * (10 - rpe) + rng.gauss(0, 0.02)
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


def _strength_assessments(
    rng: random.Random,
    *,
    lifter: _Lifter,
    profile: AthleteProfile,
    history: _History,
    checkins: list[CheckIn],
    days: list[datetime.date],
    exercises: dict[str, Exercise],
) -> tuple[list[Assessment], list[AssessmentLift]]:
    """A tested baseline on the first day (a rep-max on each main lift of the client's
    templates) and, on the last day, the working e1RM of every exercise logged since,
    as the engine computes it (`working_e1rm`, best of the last three sessions)."""
    weighed = _weighed(checkins)
    first = Assessment(
        athlete=profile,
        date=days[0],
        body_weight_kg=weighed[0].body_weight_kg,
        notes="Baseline: a rep-max test on each main lift.",
    )
    latest = Assessment(
        athlete=profile,
        date=days[-1],
        body_weight_kg=weighed[-1].body_weight_kg,
        notes=f"Working e1RMs from the last {HISTORY_WEEKS} weeks of logged sets.",
    )
    lifts = []
    for template in lifter.templates:
        lift = _lift(next(slug for slug, role in template if role == "main"))
        reps = 5 if lifter.experience < 0.4 else rng.choice((3, 5))
        rpe = rng.choice((8.5, 9.0, 9.5))
        target = lifter.e1rm0[lift.base] * lift.fraction
        weight = round_to_increment(target * rpe_percent(reps, rpe), lift.increment_kg)
        lifts.append(_assessment_lift(first, exercises[lift.slug], weight, reps, rpe, tested=True))
    for slug, sets in history.sets_by_slug.items():
        value = working_e1rm(sets, today=days[-1])
        if value is None:
            continue
        # The set the working e1RM comes from (working_e1rm returns one set's e1RM).
        weight, reps, rpe = next(
            (w, r, p) for _, w, r, p in sets if math.isclose(e1rm(w, r, p), value)
        )
        lifts.append(_assessment_lift(latest, exercises[slug], weight, reps, rpe, tested=False))
    return [first, latest], lifts


def _assessment_lift(
    assessment: Assessment,
    exercise: Exercise,
    weight: float,
    reps: int,
    rpe: float,
    *,
    tested: bool,
) -> AssessmentLift:
    """As `programs.services.assessment_lift_add` stores it: the e1RM from the RTS chart."""
    return AssessmentLift(
        assessment=assessment,
        exercise=exercise,
        weight_kg=Decimal(f"{weight:.2f}"),
        reps=reps,
        rpe=Decimal(f"{rpe:.1f}"),
        tested=tested,
        e1rm_kg=Decimal(f"{e1rm(weight, reps, rpe):.2f}"),
    )


# --- endurance ----------------------------------------------------------------------

_ENDURANCE_NOTES = (
    "Windy on the way back.",
    "Legs heavy for the first 20 minutes, then fine.",
    "Treadmill, it was pouring.",
    "Group ride, went a bit too hard on the climbs.",
    "Nailed the intervals.",
    "Easy and chatty, as prescribed.",
)
_ENDURANCE_GOALS = (
    (AthleteProfile.Goal.PERFORMANCE, 5), (AthleteProfile.Goal.ENDURANCE, 4),
    (AthleteProfile.Goal.HEALTH, 2), (AthleteProfile.Goal.BODY_COMPOSITION, 1),
)  # fmt: skip
# Session lengths (minutes) per number of training days. The engine caps every session,
# the long run included, at this length, so fewer days need longer sessions to hold the
# methodology's weekly minutes with a long run longer than the easy ones.
_ENDURANCE_MINUTES = {4: (90,), 5: (75, 90), 6: (60, 75, 90)}


@dataclass(frozen=True, kw_only=True)
class _EnduranceAthlete:
    mode: str  # runner, cyclist, triathlete
    max_hr: float
    threshold_speed: float  # m/s
    ftp: float  # W
    weekly_gain: float
    long_day: int


def _endurance_athlete(
    rng: random.Random,
    *,
    member: _Member,
    body: _Body,
    profile: AthleteProfile,
    days: list[datetime.date],
) -> _EnduranceAthlete:
    """The athlete's thresholds and habits; sets the profile's training settings."""
    male = body.sex == AthleteProfile.Sex.MALE
    age = (days[-1] - body.birth_date).days / 365.25
    max_hr = 208 - 0.7 * age + rng.gauss(0, 5)
    threshold_speed = _clip(rng.gauss(4.1, 0.4) if male else rng.gauss(3.7, 0.35), 2.9, 5.3)
    ftp = body.weight_kg * _clip(rng.gauss(3.4, 0.45) if male else rng.gauss(3.0, 0.4), 2.2, 5)
    weekly_gain = rng.uniform(0.001, 0.005)
    mode = rng.choices(("runner", "cyclist", "triathlete"), weights=(4, 3, 3))[0]
    n_days = {"diy": 4, "hybrid": 5, "premium": rng.choice((5, 6))}[member.tier]
    long_day = rng.choice((5, 6))
    # Monday stays a rest day after the long session.
    others = rng.sample([d for d in range(1, 7) if d != long_day], n_days - 1)
    profile.available_weekdays = sorted([long_day, *others])
    profile.session_minutes = rng.choice(_ENDURANCE_MINUTES[n_days])
    profile.equipment = rng.choice(([], ["bands"], ["dumbbell", "bands"], list(_HOME_GYM)))
    profile.equipment = [item for item in EQUIPMENT if item in profile.equipment]
    profile.training_age_years = Decimal(f"{_round_to(rng.uniform(1, 15), 0.5):.1f}")
    goals, weights = zip(*_ENDURANCE_GOALS, strict=True)
    profile.goal = rng.choices(goals, weights=weights)[0]
    return _EnduranceAthlete(
        mode=mode,
        max_hr=max_hr,
        threshold_speed=threshold_speed,
        ftp=ftp,
        weekly_gain=weekly_gain,
        long_day=long_day,
    )


def _endurance_history(
    rng: random.Random,
    *,
    athlete: _EnduranceAthlete,
    profile: AthleteProfile,
    days: list[datetime.date],
) -> _History:
    """Runs and rides on the athlete's days: one long, one or two quality, the rest easy;
    now and then a session is missed or an extra one fits in.

    Power, pace and heart rate come from per-athlete thresholds (FTP, threshold speed,
    max HR) and the session's intensity, so a coach sees plausible ratios (NP >= average
    power, quality sessions harder than easy ones) rather than independent noise.
    """
    history = _History()
    ride_share = {"runner": 0.15, "cyclist": 0.85, "triathlete": 0.5}[athlete.mode]
    for week in range(HISTORY_WEEKS):
        week_days = days[week * 7 : week * 7 + 7]
        planned = [d for d in week_days if d.weekday() in profile.available_weekdays]
        easy_days = [d for d in planned if d.weekday() != athlete.long_day]
        roll = rng.random()
        if roll < 0.12:
            planned.remove(rng.choice(easy_days))
        elif roll < 0.22:
            free = [d for d in week_days if d not in planned and d.weekday() != 0]
            if free:
                planned.append(rng.choice(free))
        easy_days = [d for d in planned if d.weekday() != athlete.long_day]
        quality_days = set(rng.sample(easy_days, 2 if len(planned) >= 6 else 1))
        for day in sorted(planned):
            kind = (
                "long"
                if day.weekday() == athlete.long_day
                else ("quality" if day in quality_days else "easy")
            )
            is_ride = rng.random() < ride_share
            fitness = (1 + athlete.weekly_gain) ** ((day - days[0]).days / 7)
            if is_ride:
                session = _ride(rng, kind=kind, ftp=athlete.ftp * fitness, max_hr=athlete.max_hr)
            else:
                session = _run(
                    rng, kind=kind, speed=athlete.threshold_speed * fitness, max_hr=athlete.max_hr
                )
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
# How far the session's peak heart rate sits above its average, as a fraction of max HR.
_PEAK_ABOVE_AVERAGE = {"easy": (0.04, 0.08), "long": (0.06, 0.10), "quality": (0.08, 0.13)}


def _peak_hr(rng: random.Random, kind: str, avg_hr: int, max_hr: float) -> int:
    return min(round(max_hr), avg_hr + round(max_hr * rng.uniform(*_PEAK_ABOVE_AVERAGE[kind])))


def _run(rng: random.Random, *, kind: str, speed: float, max_hr: float) -> SessionLog:
    minutes, intensity, _, hr, rpe = (rng.uniform(*r) for r in _RUNS[kind])
    duration_s = int(minutes * 60)
    avg_hr = int(max_hr * hr)
    return SessionLog(
        kind=SessionLog.Kind.RUN,
        duration_s=duration_s,
        distance_m=int(duration_s * speed * intensity),
        avg_hr_bpm=avg_hr,
        max_hr_bpm=_peak_hr(rng, kind, avg_hr, max_hr),
        session_rpe=Decimal(f"{_round_to(rpe, 0.5):.1f}"),
    )


def _ride(rng: random.Random, *, kind: str, ftp: float, max_hr: float) -> SessionLog:
    minutes, intensity, variability, hr, rpe = (rng.uniform(*r) for r in _RIDES[kind])
    duration_s = int(minutes * 60)
    avg_power = ftp * intensity
    # Road speed grows roughly with the cube root of power; terrain adds the noise.
    speed_m_s = 7.6 * (avg_power / 200) ** (1 / 3) * rng.uniform(0.9, 1.08)
    avg_hr = int(max_hr * hr)
    return SessionLog(
        kind=SessionLog.Kind.RIDE,
        duration_s=duration_s,
        distance_m=int(duration_s * speed_m_s),
        avg_hr_bpm=avg_hr,
        max_hr_bpm=_peak_hr(rng, kind, avg_hr, max_hr),
        avg_power_w=round(avg_power),
        normalized_power_w=round(avg_power * variability),
        session_rpe=Decimal(f"{_round_to(rpe, 0.5):.1f}"),
    )


def _endurance_assessments(
    *,
    athlete: _EnduranceAthlete,
    profile: AthleteProfile,
    checkins: list[CheckIn],
    days: list[datetime.date],
) -> list[Assessment]:
    """Field tests on the first and the last day: threshold pace for everyone, FTP for
    those who ride with power, HR max, and resting HR from the week's check-ins."""
    weighed = _weighed(checkins)
    end_fitness = (1 + athlete.weekly_gain) ** ((days[-1] - days[0]).days / 7)
    out = []
    for day, fitness, week, weight, note in (
        (days[0], 1.0, checkins[:7], weighed[0].body_weight_kg, "Baseline field tests."),
        (days[-1], end_fitness, checkins[-7:], weighed[-1].body_weight_kg, "Retest."),
    ):
        rest = round(sum(c.resting_hr_bpm for c in week) / len(week))
        out.append(
            Assessment(
                athlete=profile,
                date=day,
                body_weight_kg=weight,
                ftp_w=min(600, round(athlete.ftp * fitness)) if athlete.mode != "runner" else None,
                threshold_pace_s_per_km=round(1000 / (athlete.threshold_speed * fitness)),
                hr_max_bpm=round(athlete.max_hr),
                hr_rest_bpm=rest,
                notes=note,
            )
        )
    return out


# --- morning check-ins --------------------------------------------------------------

_CHECKIN_NOTES = (
    "Slept badly, noisy neighbours.",
    "Busy week at work.",
    "Bit of a cold coming on.",
    "Travel day.",
    "Feeling fresh.",
    "Kids up in the night.",
)


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
    where resting HR, stress, sleep and mood move with it, which is what readiness rules
    look for. Some people never rate their mood. The number of draws per day never
    depends on training or skipped days, so the same person gets the same values in
    every tenant.
    """
    endurance = discipline == AthleteProfile.Discipline.ENDURANCE
    female = body.sex == AthleteProfile.Sex.FEMALE
    hrv_baseline = rng.uniform(35, 90)
    rhr_baseline = rng.uniform(42, 56) if endurance else rng.uniform(52, 66)
    rhr_baseline += 3 if female else 0
    sleep_mean = _clip(rng.gauss(7.3, 0.45), 6.2, 8.4)
    stress_mean = rng.uniform(1.5, 3.0)
    weight_slope = rng.uniform(-0.04, 0.025)  # kg per day
    rates_mood = rng.random() > 0.2
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
        sleep_quality = 3 + 0.9 * (sleep - 7) + rng.gauss(0, 0.6) - (0.5 if low else 0)
        mood = 3.8 - 0.45 * (stress - 2) + rng.gauss(0, 0.6) - (0.4 if low else 0)
        note_roll, note = rng.random(), rng.choice(_CHECKIN_NOTES)
        if index in skipped:
            continue
        checkins.append(
            CheckIn(
                athlete=profile,
                date=day,
                sleep_hours=Decimal(f"{_round_to(sleep, 0.25):.2f}"),
                sleep_quality=int(_clip(round(sleep_quality), 1, 5)),
                soreness=int(_clip(round(soreness), 1, 5)),
                stress=int(_clip(round(stress), 1, 5)),
                mood=int(_clip(round(mood), 1, 5)) if rates_mood else None,
                hrv_rmssd_ms=Decimal(f"{hrv:.1f}"),
                resting_hr_bpm=round(rhr),
                body_weight_kg=Decimal(f"{weight:.1f}") if weighed_in else None,
                notes=note if note_roll < 0.04 else "",
            )
        )
    return checkins


# --- helpers ------------------------------------------------------------------------


def _clip(value: float, low: float, high: float) -> float:
    return max(low, min(high, value))


def _round_to(value: float, step: float) -> float:
    return round(value / step) * step
