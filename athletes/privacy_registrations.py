"""What athletes (and, on their behalf, coaching and the login apps) export and erase.

Imported from `AthletesConfig.ready()`. Coaching's models (Membership, Alert) are
registered here because coaching may not import athletes (tests/test_architecture.py);
so are the platform models of the person's login (auth, allauth, mfa, authtoken, admin
log), whose rows outlive one tenant's erasure and go with `account_erase`.

Adding a model that relates to a user or an athlete: register it here or in its app's
`privacy.py` (exporter + eraser, or a reason in NOT_PERSONAL);
tests/test_privacy_export.py fails until you do.
"""

from __future__ import annotations

from typing import Any

from allauth.account.models import EmailAddress, EmailConfirmation
from allauth.mfa.models import Authenticator
from django.contrib.admin.models import LogEntry
from django.contrib.auth import get_user_model
from django.contrib.sessions.models import Session
from rest_framework.authtoken.models import Token, TokenProxy

from athletes.models import (
    Assessment,
    AthleteProfile,
    CheckIn,
    ConsentEvent,
    ConsentPolicy,
    DeviceSample,
    Enrolment,
    ImportJob,
)
from athletes.privacy import (
    register_athlete_model,
    register_eraser,
    register_exporter,
    register_not_personal,
    rows_by,
)
from coaching.models import Alert, Invitation, Membership, MethodologyVersion, NightlyStep

# Erasure order: rows hanging off the athlete run at 10–90, the profile at 200, the
# membership (and its alerts) after it; account-level rows last (no-ops per tenant).
PROFILE_ORDER = 200
MEMBERSHIP_ORDER = 210


def _profile_rows(athlete: AthleteProfile) -> list[dict[str, Any]]:
    fields = [f.attname for f in AthleteProfile._meta.concrete_fields]
    return list(AthleteProfile.objects.filter(pk=athlete.pk).values(*fields))


def _profile_erase(athlete: AthleteProfile) -> int:
    _, per_model = AthleteProfile.objects.filter(pk=athlete.pk).delete()
    return per_model.get(AthleteProfile._meta.label, 0)


def _imports_erase(athlete: AthleteProfile) -> int:
    """The rows, and any upload still waiting to be imported."""
    from athletes.imports import import_files_erase

    jobs = list(ImportJob.objects.filter(athlete=athlete))
    import_files_erase(jobs)
    _, per_model = ImportJob.objects.filter(athlete=athlete).delete()
    return per_model.get(ImportJob._meta.label, 0)


def _invitations(athlete: AthleteProfile):
    """Invitations sent to the person: accepted by their account, or still addressed to
    their e-mail (an open or lapsed invitation names them too)."""
    from django.db.models import Q

    email = athlete.user.email if athlete.user_id else ""
    match = Q(accepted_by_id=athlete.user_id)
    if email:
        match |= Q(email__iexact=email)
    return Invitation.objects.filter(match)


def _invitation_rows(athlete: AthleteProfile) -> list[dict[str, Any]]:
    fields = [f.attname for f in Invitation._meta.concrete_fields if f.name != "token_hash"]
    return list(_invitations(athlete).order_by("pk").values(*fields))


def _invitation_erase(athlete: AthleteProfile) -> int:
    _, per_model = _invitations(athlete).delete()
    return per_model.get(Invitation._meta.label, 0)


def _kept_with_account(athlete: AthleteProfile) -> int:
    return 0


def _register_user_level() -> None:
    user_model = get_user_model()
    account_rows = {
        # model: (its lookup of the user's id, fields that are secrets, not the person's data)
        user_model: ("pk", ("password",)),
        EmailAddress: ("user_id", ()),
        EmailConfirmation: ("email_address__user_id", ("key",)),
        Authenticator: ("user_id", ("data",)),
        Token: ("user_id", ("key",)),
        LogEntry: ("user_id", ()),
    }
    names = {
        user_model: "account",
        EmailAddress: "email_addresses",
        EmailConfirmation: "email_confirmations",
        Authenticator: "authenticators",
        Token: "api_tokens",
        LogEntry: "admin_actions",
    }
    for model, (lookup, secret) in account_rows.items():
        fields = [f.attname for f in model._meta.concrete_fields if f.name not in secret]

        def rows(athlete: AthleteProfile, model=model, lookup=lookup, fields=fields) -> list:
            found = model._default_manager.filter(**{lookup: athlete.user_id})
            return list(found.order_by("pk").values(*fields))

        register_exporter(model, name=names[model], rows=rows)
        register_eraser(model, erase=_kept_with_account, order=900, account_level=True)

    register_not_personal(
        TokenProxy, "Proxy of authtoken.Token for the admin; the Token rows are registered."
    )
    register_not_personal(
        Session,
        "Login sessions are security state, not the person's data (not exported); "
        "account_erase deletes the person's sessions.",
    )


def register() -> None:
    register_exporter(AthleteProfile, name="profile", rows=_profile_rows)
    register_eraser(AthleteProfile, erase=_profile_erase, order=PROFILE_ORDER)
    register_athlete_model(CheckIn, name="checkins", tabular=True, order=50)
    register_athlete_model(DeviceSample, name="device_samples", tabular=True, order=40)
    register_exporter(ImportJob, name="imports", rows=rows_by(ImportJob, "athlete"), tabular=True)
    register_eraser(ImportJob, erase=_imports_erase, order=40)
    # Assessments are the body metrics (weight, body fat, FTP, heart rates).
    register_athlete_model(Assessment, name="body_metrics", tabular=True, order=50)
    register_athlete_model(Enrolment, name="enrolments", tabular=True, order=50)
    # What coaches wrote about the client is data about them too (right of access).
    from athletes.models import CoachNote

    register_athlete_model(CoachNote, name="coach_notes", tabular=True, order=50)
    from athletes.models import Message

    register_athlete_model(Message, name="messages", tabular=True, order=50)

    # Coaching: the client's membership of this tenant and the alerts about them.
    register_athlete_model(
        Alert, name="alerts", path="client__user_id", order=MEMBERSHIP_ORDER - 1, tabular=True
    )
    register_athlete_model(Membership, name="membership", path="user_id", order=MEMBERSHIP_ORDER)
    register_exporter(Invitation, name="invitations", rows=_invitation_rows, tabular=True)
    register_eraser(Invitation, erase=_invitation_erase, order=50)
    # The nightly pipeline's record of each step of the client's nights (coaching.nightly).
    register_athlete_model(NightlyStep, name="nightly_steps", tabular=True, order=50)
    register_not_personal(
        MethodologyVersion,
        "created_by is the coach who wrote the rules: the rules are the tenant's work, "
        "and the link is SET_NULL when that account is deleted.",
    )
    _register_user_level()
    _register_consent()


def _consent_erase(athlete: AthleteProfile) -> int:
    """The ledger refuses ORM deletes (append-only); erasure is its one delete, in SQL,
    allowed by the trigger because `erasure_run` set `app.erasure` for its transaction."""
    return ConsentEvent.objects.filter(athlete=athlete)._raw_delete(ConsentEvent.objects.db)


def _register_consent() -> None:
    register_not_personal(
        ConsentPolicy, "The tenant's versioned policy texts, the same for every client."
    )
    register_exporter(ConsentEvent, name="consent_ledger", rows=rows_by(ConsentEvent), tabular=True)
    register_eraser(ConsentEvent, erase=_consent_erase, order=60)


register()
