from django.http import HttpRequest

from athletes import consent
from athletes.selectors import athlete_profile_of


def consent_prompt(request: HttpRequest) -> dict:
    """A client who has not yet answered every consent purpose is asked, on every page,
    to make their choices (GDPR: explicit, per purpose, nothing assumed). Staff and
    non-members are never asked here."""
    membership = getattr(request, "membership", None)
    if membership is None or membership.role != "client":
        return {}
    athlete = athlete_profile_of(membership)
    if athlete is None:
        return {}
    missing = set(consent.PURPOSES) - consent.consent_answered(athlete)
    return {"consent_needed": bool(missing)}
