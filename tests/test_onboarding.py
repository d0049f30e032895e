"""Issue 10, Public and sign-up: a stranger finds the business's public page, signs up,
joins as a client, and goes through About you → consent → tier → questionnaire to a
first block and meal plan. Pages with Django's test client; the services on PostgreSQL
with RLS, as everywhere."""

from __future__ import annotations

import datetime
import html as html_lib
import re
from decimal import Decimal

import pytest
from allauth.account.models import EmailAddress
from django.contrib.auth import get_user_model
from django.utils import timezone

from athletes import consent, services
from athletes.models import Assessment, AthleteProfile, ConsentEvent, Enrolment
from billing import services as billing_services
from billing.models import Entitlement
from coaching import lifecycle
from coaching.errors import DomainError
from coaching.methodology import default_rules
from coaching.models import Membership
from coaching.tenancy import tenant_context
from nutrition.models import NutritionProfile, PlanDay
from programs.models import AssessmentLift, PlannedSession, ProgramBlock
from tests import factories

pytestmark = pytest.mark.django_db

TODAY = timezone.localdate()
ABOUT = {
    "display_name": "Nora",
    "discipline": "strength",
    "goal": "strength",
    "sex": "female",
    "birth_date": "1992-03-14",
    "height_cm": "171",
}
QUESTIONNAIRE = {
    "available_weekdays": [str(TODAY.weekday()), str((TODAY.weekday() + 2) % 7)],
    "session_minutes": "60",
    "equipment": ["barbell", "rack", "bench", "dumbbell"],
    "training_age_years": "2",
    "injuries": "",
    "body_weight_kg": "64.5",
    "threshold_pace": "",
    "ftp_w": "",
    "bests-back_squat_kg": "80",
    "bests-back_squat_reps": "5",
    "bests-bench_press_kg": "",
    "bests-bench_press_reps": "",
    "bests-deadlift_kg": "100",
    "bests-deadlift_reps": "3",
    "food-diet": "omnivore",
    "food-goal": "maintain",
    "food-meals_per_day": "4",
    "food-allergies": ["peanuts"],
    "food-dislikes": "",
}


@pytest.fixture
def on_sale(tenant_a):
    version, tier = factories.methodology_on_sale(tenant_a, "strength", default_rules("strength"))
    return tier


def _stranger(email: str = "nora@example.test"):
    return factories.user(email)


def _client_member(tenant, email: str = "nora@example.test"):
    account = _stranger(email)
    with tenant_context(tenant):
        lifecycle.client_join(user=account)
    return account


def _athlete(tenant, account) -> AthleteProfile | None:
    with tenant_context(tenant):
        return AthleteProfile.objects.filter(user=account).first()


def _through_tier(client, tenant, account, on_sale, *, purposes=consent.PURPOSES):
    """About you, consent and the complimentary tier, through the pages."""
    client.force_login(account)
    assert client.post("/t/alpha/onboarding/about/", ABOUT).status_code == 302
    client.post("/t/alpha/consent/?onboarding", {"purposes": list(purposes), "onboarding": "1"})
    response = client.post("/t/alpha/join/", {"tier": on_sale.pk})
    assert response.status_code == 302
    return _athlete(tenant, account)


# --- the public page -------------------------------------------------------------------------


def test_anonymous_visitor_sees_the_landing_with_tiers_and_sign_up(client, tenant_a, on_sale):
    response = client.get("/t/alpha/")
    assert response.status_code == 200
    html = response.content.decode()
    assert "Alpha Strength" in html
    assert "29.00 EUR / monthly" in html
    assert "changes apply at once" in html  # the DIY tier's autonomy in plain words
    assert 'href="/accounts/signup/?next=%2Ft%2Falpha%2Fwelcome%2F"' in html


def test_landing_shows_coach_names_but_never_e_mails(client, tenant_a, on_sale, coach_a):
    get_user_model().objects.filter(pk=coach_a.pk).update(first_name="Ada", last_name="Lift")
    html = client.get("/t/alpha/").content.decode()
    assert "Coached by Ada Lift" in html
    assert "coach@alpha.test" not in html


def test_business_selling_nothing_has_no_public_page(client, tenant_a, client_b):
    anonymous = client.get("/t/alpha/")
    assert anonymous.status_code == 302 and anonymous["Location"].startswith("/accounts/login/")
    client.force_login(client_b)
    theirs = client.get("/t/alpha/")
    unknown = client.get("/t/does-not-exist/")
    assert theirs.status_code == unknown.status_code == 404
    assert theirs.content == unknown.content


def test_suspended_business_shows_a_notice_and_no_sign_up(client, tenant_a, on_sale):
    lifecycle.tenant_suspend(tenant=tenant_a, reason="Unpaid.", by_user_id=None)
    html = client.get("/t/alpha/").content.decode()
    assert "isn't taking new clients right now" in html
    assert "/accounts/signup/" not in html


def test_offboarded_business_is_a_404(client, tenant_a, on_sale):
    tenant_a.status = "offboarded"
    tenant_a.save(update_fields=["status"])
    assert client.get("/t/alpha/").status_code == 404


def test_other_pages_stay_404_for_strangers(client, tenant_a, on_sale):
    client.force_login(_stranger())
    assert client.get("/t/alpha/plan/").status_code == 404
    assert client.get("/t/alpha/onboarding/").status_code == 404


# --- joining -----------------------------------------------------------------------------------


def test_verified_stranger_joins_as_client_and_is_sent_to_about_you(client, tenant_a, on_sale):
    account = _stranger()
    client.force_login(account)
    assert b"Join as a client" in client.get("/t/alpha/welcome/").content
    response = client.post("/t/alpha/welcome/")
    assert response.status_code == 302 and response["Location"] == "/t/alpha/"
    with tenant_context(tenant_a):
        assert Membership.objects.get(user=account).role == "client"
    home = client.get("/t/alpha/")
    assert home.status_code == 302 and home["Location"] == "/t/alpha/onboarding/about/"


def test_unverified_e_mail_cannot_join(client, tenant_a, on_sale):
    account = _stranger()
    EmailAddress.objects.filter(user=account).update(verified=False)
    client.force_login(account)
    response = client.post("/t/alpha/welcome/")
    assert response.status_code == 409
    assert b"Verify your e-mail address first" in response.content
    with tenant_context(tenant_a):
        assert not Membership.objects.filter(user=account).exists()


def test_client_join_is_refused_when_nothing_is_on_sale(tenant_a):
    account = _stranger()
    with tenant_context(tenant_a), pytest.raises(DomainError, match="nothing on sale"):
        lifecycle.client_join(user=account)


def test_client_join_twice_keeps_one_membership(tenant_a, on_sale):
    account = _client_member(tenant_a)
    with tenant_context(tenant_a):
        again = lifecycle.client_join(user=account)
        assert Membership.objects.filter(user=account).count() == 1
        assert again.role == "client"


def test_invited_client_lands_in_the_same_onboarding(
    client, tenant_a, on_sale, owner_a, mailoutbox
):
    with tenant_context(tenant_a):
        lifecycle.invitation_create(email="inv@example.test", role="client", by=None)
    token = re.search(r"/invite/([^/]+)/", mailoutbox[-1].body)[1]
    client.force_login(_stranger("inv@example.test"))
    assert client.post(f"/t/alpha/invite/{token}/").status_code == 302
    home = client.get("/t/alpha/")
    assert home["Location"] == "/t/alpha/onboarding/about/"


# --- About you ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("display_name", "", "Tell us what to call you."),
        ("discipline", "swimming", "Select a valid choice"),
        ("sex", "", "Pick one: energy needs depend on it."),
        ("birth_date", "14/03/1992", "Write the date as YYYY-MM-DD."),
        ("birth_date", "2999-01-01", "This date is in the future."),
        ("height_cm", "40", "Give your height in centimetres (100–250)."),
        ("goal", "", "Pick the goal that fits best."),
    ],
)
def test_about_you_refuses_bad_input_per_field_and_keeps_the_rest(
    client, tenant_a, on_sale, field, value, message
):
    account = _client_member(tenant_a)
    client.force_login(account)
    response = client.post("/t/alpha/onboarding/about/", {**ABOUT, field: value})
    assert response.status_code == 400
    form = response.context["form"]
    assert any(message in error for error in form.errors[field])
    assert 'value="Nora"' in response.content.decode() or field == "display_name"
    assert _athlete(tenant_a, account) is None


def test_about_you_creates_the_profile_then_asks_for_consent(client, tenant_a, on_sale):
    account = _client_member(tenant_a)
    client.force_login(account)
    response = client.post("/t/alpha/onboarding/about/", ABOUT)
    assert response.status_code == 302
    assert response["Location"] == "/t/alpha/consent/?onboarding"
    athlete = _athlete(tenant_a, account)
    assert athlete.display_name == "Nora" and athlete.height_cm == Decimal("171.0")


def test_consent_step_ticks_nothing_and_records_unticked_as_no(client, tenant_a, on_sale):
    account = _client_member(tenant_a)
    client.force_login(account)
    client.post("/t/alpha/onboarding/about/", ABOUT)
    page = client.get("/t/alpha/consent/?onboarding").content.decode()
    assert " checked" not in page
    response = client.post(
        "/t/alpha/consent/?onboarding", {"purposes": ["health_data"], "onboarding": "1"}
    )
    assert response["Location"] == "/t/alpha/join/"
    athlete = _athlete(tenant_a, account)
    with tenant_context(tenant_a):
        assert consent.consent_answered(athlete) == set(consent.PURPOSES)
        state = consent.consent_state(athlete)
        assert state["health_data"] and not state["marketing_email"]
        assert ConsentEvent.objects.filter(athlete=athlete, action="grant").count() == 1


def test_comped_tier_enrols_and_marks_access_complimentary(client, tenant_a, on_sale):
    account = _client_member(tenant_a)
    client.force_login(account)
    client.post("/t/alpha/onboarding/about/", ABOUT)
    client.post("/t/alpha/consent/?onboarding", {"onboarding": "1"})
    response = client.post("/t/alpha/join/", {"tier": on_sale.pk})
    assert response["Location"] == "/t/alpha/onboarding/"
    athlete = _athlete(tenant_a, account)
    with tenant_context(tenant_a):
        assert Enrolment.objects.get(athlete=athlete, ended__isnull=True).tier == on_sale
        entitlement = Entitlement.objects.get(athlete=athlete)
        assert entitlement.source == "comped" and "Complimentary" in entitlement.reason


# --- the questionnaire -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("available_weekdays", [], "Pick at least one day you can train."),
        ("session_minutes", "5", "A session needs at least 20 minutes."),
        ("body_weight_kg", "", "Give your body weight"),
        ("body_weight_kg", "900", "Give your body weight in kilograms (25–350)."),
        ("threshold_pace", "fast", "Write the pace as minutes:seconds"),
        ("bests-bench_press_kg", "60", "How many reps did you lift that weight for?"),
        ("bests-deadlift_reps", "30", "Give 1 to 12 reps"),
        ("food-dislikes", "unobtanium", "We don't know unobtanium"),
        ("food-meals_per_day", "9", "Pick 3 to 6 meals a day."),
    ],
)
def test_questionnaire_refuses_bad_input_per_field_and_stores_nothing(
    client, tenant_a, on_sale, field, value, message
):
    account = _client_member(tenant_a)
    athlete = _through_tier(client, tenant_a, account, on_sale)
    response = client.post("/t/alpha/onboarding/", {**QUESTIONNAIRE, field: value})
    assert response.status_code == 400
    html = html_lib.unescape(response.content.decode())
    assert message in html
    assert "Nothing was saved yet." in html
    assert 'value="80"' in html  # what was entered is still there
    with tenant_context(tenant_a):
        assert not Assessment.objects.filter(athlete=athlete).exists()
        assert not ProgramBlock.objects.filter(athlete=athlete).exists()
        assert not NutritionProfile.objects.filter(athlete=athlete).exists()


def test_a_refusal_from_a_later_section_rolls_everything_back(client, tenant_a):
    # given: a method that offers no paleo plan (the nutrition service refuses it, after
    # the profile, the assessment, the lifts and the block were written)
    rules = default_rules("strength")
    rules["nutrition"]["diet_styles"] = ["omnivore", "vegetarian"]
    _version, tier = factories.methodology_on_sale(tenant_a, "strength", rules)
    account = _client_member(tenant_a)
    athlete = _through_tier(client, tenant_a, account, tier)
    response = client.post("/t/alpha/onboarding/", {**QUESTIONNAIRE, "food-diet": "paleo"})
    assert response.status_code == 400
    assert "doesn't offer a paleo plan" in html_lib.unescape(response.content.decode())
    with tenant_context(tenant_a):
        athlete.refresh_from_db()
        assert athlete.session_minutes == 60 and athlete.equipment == []
        assert not Assessment.objects.filter(athlete=athlete).exists()
        assert not AssessmentLift.objects.exists()
        assert not ProgramBlock.objects.filter(athlete=athlete).exists()


def test_full_flow_plans_the_first_block_and_meals(client, tenant_a, on_sale):
    account = _client_member(tenant_a)
    athlete = _through_tier(client, tenant_a, account, on_sale)
    response = client.post("/t/alpha/onboarding/", QUESTIONNAIRE)
    assert response.status_code == 302 and response["Location"] == "/t/alpha/today/"
    with tenant_context(tenant_a):
        athlete.refresh_from_db()
        assert athlete.session_minutes == 60
        assert athlete.equipment == ["barbell", "rack", "bench", "dumbbell"]
        assessment = Assessment.objects.get(athlete=athlete)
        assert assessment.body_weight_kg == Decimal("64.50") and assessment.date == TODAY
        lifts = {lift.exercise.slug: lift for lift in AssessmentLift.objects.all()}
        assert set(lifts) == {"back-squat", "deadlift"}
        assert not lifts["back-squat"].tested
        profile = NutritionProfile.objects.get(athlete=athlete)
        assert profile.allergies == ["peanuts"] and profile.meals_per_day == 4
        assert Enrolment.objects.filter(athlete=athlete, ended__isnull=True).exists()
        block = ProgramBlock.objects.get(athlete=athlete, status="active")
        assert PlannedSession.objects.filter(block=block, date=TODAY).exists()
        assert PlanDay.objects.filter(athlete=athlete, date=TODAY).exists()
    # and: the home now opens (no more steps), the plan page shows the block
    assert client.get("/t/alpha/")["Location"] == "/t/alpha/today/"
    assert client.get("/t/alpha/onboarding/")["Location"] == "/t/alpha/today/"


def test_without_nutrition_consent_there_is_no_food_section_and_no_meal_plan(
    client, tenant_a, on_sale
):
    account = _client_member(tenant_a)
    athlete = _through_tier(client, tenant_a, account, on_sale, purposes=["health_data"])
    page = client.get("/t/alpha/onboarding/").content.decode()
    assert "food-diet" not in page
    answers = {k: v for k, v in QUESTIONNAIRE.items() if not k.startswith("food-")}
    assert client.post("/t/alpha/onboarding/", answers).status_code == 302
    with tenant_context(tenant_a):
        assert ProgramBlock.objects.filter(athlete=athlete).exists()
        assert not PlanDay.objects.filter(athlete=athlete).exists()


def test_onboarding_complete_needs_an_enrolment(tenant_a, on_sale):
    account = _client_member(tenant_a)
    with tenant_context(tenant_a):
        membership = Membership.objects.get(user=account)
        athlete = services.onboarding_profile_create(
            membership=membership,
            display_name="Nora",
            discipline="strength",
            sex="female",
            birth_date=datetime.date(1992, 3, 14),
            height_cm=Decimal("171"),
            goal="strength",
        )
        with pytest.raises(services.OnboardingInvalid, match="Choose a tier first"):
            services.onboarding_complete(
                athlete=athlete, available_weekdays=[0], session_minutes=60, equipment=[]
            )


def test_body_weight_without_health_consent_is_refused_on_its_field(tenant_a, on_sale):
    account = _client_member(tenant_a)
    with tenant_context(tenant_a):
        membership = Membership.objects.get(user=account)
        athlete = services.onboarding_profile_create(
            membership=membership,
            display_name="Nora",
            discipline="strength",
            sex="female",
            birth_date=datetime.date(1992, 3, 14),
            height_cm=Decimal("171"),
            goal="strength",
        )
        services.enrolment_create(athlete=athlete, tier=on_sale)
        with pytest.raises(services.OnboardingInvalid) as refused:
            services.onboarding_complete(
                athlete=athlete,
                available_weekdays=[0],
                session_minutes=60,
                equipment=[],
                body_weight_kg=Decimal("70"),
            )
        assert "body_weight_kg" in refused.value.fields
        assert not Assessment.objects.filter(athlete=athlete).exists()


def test_onboarding_pages_are_404_for_members_of_another_tenant(
    client, tenant_a, tenant_b, on_sale, client_b
):
    client.force_login(client_b)
    unknown = client.get("/t/does-not-exist/")
    for path in ("/t/alpha/onboarding/about/", "/t/alpha/onboarding/"):
        response = client.get(path)
        assert response.status_code == 404
        assert response.content == unknown.content


def test_staff_have_no_onboarding(client, tenant_a, on_sale, owner_a):
    client.force_login(owner_a)
    assert client.get("/t/alpha/onboarding/about/").status_code == 404
    assert client.get("/t/alpha/").status_code == 200


def test_with_stripe_configured_a_tier_is_never_complimentary(client, tenant_a, on_sale, settings):
    # given: an installation with a Stripe key (the business hasn't connected its account)
    settings.STRIPE_SECRET_KEY = "sk_test_configured"
    account = _client_member(tenant_a)
    client.force_login(account)
    client.post("/t/alpha/onboarding/about/", ABOUT)
    client.post("/t/alpha/consent/?onboarding", {"onboarding": "1"})
    assert b"(complimentary)" not in client.get("/t/alpha/join/").content
    # when: they try to start a tier anyway
    response = client.post("/t/alpha/join/", {"tier": on_sale.pk}, follow=True)
    # then: payment is required, nothing is enrolled, and the home keeps them on that step
    assert "can't take payments yet" in html_lib.unescape(response.content.decode())
    athlete = _athlete(tenant_a, account)
    with tenant_context(tenant_a):
        assert not Enrolment.objects.filter(athlete=athlete).exists()
        with pytest.raises(DomainError, match="Stripe Checkout"):
            billing_services.enrolment_comp(athlete=athlete, tier=on_sale)
    assert client.get("/t/alpha/")["Location"] == "/t/alpha/join/"
