"""Factories. Tenant-scoped objects are created inside `tenant_context` of their tenant,
as production code would."""

from __future__ import annotations

import datetime
from decimal import Decimal

import factory
from allauth.account.models import EmailAddress
from allauth.mfa.totp.internal.auth import TOTP, generate_totp_secret
from django.contrib.auth import get_user_model

from athletes.models import AthleteProfile, CheckIn
from coaching.models import Membership, Tenant
from coaching.tenancy import tenant_context

PASSWORD = "correct-horse-battery-staple"


class TenantFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Tenant
        django_get_or_create = ("slug",)

    slug = factory.Sequence(lambda n: f"tenant-{n}")
    name = factory.LazyAttribute(lambda o: o.slug.title())
    timezone = "Europe/Amsterdam"
    currency = "EUR"


def user(email: str, *, mfa: bool = False):
    account = get_user_model().objects.create_user(username=email, email=email, password=PASSWORD)
    EmailAddress.objects.create(user=account, email=email, verified=True, primary=True)
    if mfa:
        TOTP.activate(account, generate_totp_secret())
    return account


def member(tenant: Tenant, role: str, *, email: str, mfa: bool = False, consents: bool = True):
    """A member of `tenant`; a client also gets a profile and, unless `consents=False`,
    every consent purpose granted (most tests are about what consent allows)."""
    account = user(email, mfa=mfa)
    with tenant_context(tenant):
        Membership.objects.create(user=account, role=role)
        if role == "client":
            profile = AthleteProfile.objects.create(
                user=account,
                display_name=email.split("@")[0].title(),
                discipline="strength",
                sex="female",
                birth_date=datetime.date(1994, 5, 17),
                height_cm=Decimal("168.0"),
            )
            if consents:
                from athletes.consent import consents_seed_granted

                consents_seed_granted([profile])
    return account


def checkin(tenant: Tenant, account, day: datetime.date, **values) -> CheckIn:
    with tenant_context(tenant):
        athlete = AthleteProfile.objects.get(user=account)
        defaults = {"sleep_hours": Decimal("7.5"), "soreness": 2, "hrv_rmssd_ms": Decimal("62.0")}
        defaults.update(values)
        return CheckIn.objects.create(athlete=athlete, date=day, **defaults)


def methodology_on_sale(tenant: Tenant, discipline: str = "strength", rules: dict | None = None):
    """A published methodology version and an active DIY tier, through the services (the
    only way a version gets published)."""
    from coaching import services as coaching_services

    with tenant_context(tenant):
        methodology = coaching_services.methodology_create(
            name=f"{discipline.title()} method", slug=f"{discipline}-method", discipline=discipline
        )
        version = coaching_services.version_draft_create(methodology=methodology, rules=rules)
        version = coaching_services.version_publish(version=version)
        tier = coaching_services.tier_create(
            methodology=methodology,
            name="DIY",
            slug=f"{discipline}-diy",
            price=Decimal("29.00"),
            autonomy="auto",
        )
    return version, tier


def enrolled_strength_athlete(
    tenant: Tenant,
    account,
    *,
    start: datetime.date,
    weekdays: list[int],
    rules: dict | None = None,
    autonomy: str = "auto",
    squat_kg: Decimal = Decimal("113.54"),
):
    """A client enrolled on a strength tier of `autonomy`, assessed (back squat 5 @ RPE 8;
    113.54 kg → e1RM 140 kg) and with a block from `start`, all through the services.
    Returns (profile, published version)."""
    from athletes import services as athlete_services
    from coaching import services as coaching_services
    from coaching.methodology import default_rules
    from programs import services
    from programs.models import Exercise

    version, tier = methodology_on_sale(tenant, "strength", rules or default_rules("strength"))
    with tenant_context(tenant):
        if autonomy != "auto":
            tier = coaching_services.tier_create(
                methodology=tier.methodology,
                name=autonomy.title(),
                slug=f"strength-{autonomy}",
                price=Decimal("99.00"),
                autonomy=autonomy,
            )
        services.exercise_library_install()
        profile = AthleteProfile.objects.get(user=account)
        athlete_services.profile_update(
            profile=profile,
            available_weekdays=weekdays,
            equipment=["barbell", "rack", "bench", "dumbbell"],
            session_minutes=75,
        )
        athlete_services.enrolment_create(athlete=profile, tier=tier, started=start)
        assessment = athlete_services.assessment_create(
            athlete=profile, date=start - datetime.timedelta(days=3)
        )
        services.assessment_lift_add(
            assessment=assessment,
            exercise=Exercise.objects.get(slug="back-squat"),
            weight_kg=squat_kg,
            reps=5,
            rpe=Decimal("8"),
        )
        services.block_generate(athlete=profile, start_date=start)
    return profile, version
