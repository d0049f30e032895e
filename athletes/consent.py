"""Consent per purpose (DESIGN.md, Privacy; issue 8): the policies a client reads, the
append-only ledger of what they agreed to, and the gates other code asks.

- Policies: a plain-language text per tenant, purpose and version. `policies_current()`
  creates version 1 of each purpose from `DEFAULT_TEXTS` the first time a tenant needs
  it, so a new tenant asks for consent without anyone writing texts first.
- Ledger: `consent_grant` / `consent_withdraw` append a `ConsentEvent` naming the policy
  version agreed to, with IP and user agent, and write an audit event. The current state
  is derived (the latest event per purpose); nothing is ever updated in place.
- Gates: `has_consent` / `consent_require` for code that writes health data or runs a
  nightly step. Higher apps react to a withdrawal through `on_withdraw(purpose, fn)`,
  filled from their `AppConfig.ready()` (athletes may not import programs or nutrition).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable

from django.db import IntegrityError, connection, transaction
from django.db.models import OuterRef, QuerySet, Subquery

from athletes.models import AthleteProfile, ConsentEvent, ConsentPolicy, ConsentPurpose
from coaching import audit
from coaching.errors import DomainError

HEALTH_DATA = ConsentPurpose.HEALTH_DATA.value
NUTRITION_PLANNING = ConsentPurpose.NUTRITION_PLANNING.value
ML_PERSONALISATION = ConsentPurpose.ML_PERSONALISATION.value
COACH_ACCESS = ConsentPurpose.COACH_ACCESS.value
MARKETING_EMAIL = ConsentPurpose.MARKETING_EMAIL.value
PURPOSES: tuple[str, ...] = tuple(ConsentPurpose.values)
USER_AGENT_MAX = 300

# What the client reads, per purpose: what we do with which data, and what saying no
# (or withdrawing later) means. A tenant's own wording is a newer policy version.
DEFAULT_TEXTS: dict[str, str] = {
    HEALTH_DATA: (
        "Use my health data (sleep, heart-rate variability, resting heart rate, soreness, "
        "stress, mood, body weight and body fat) to judge how ready I am and adjust my "
        "training. Without it I can't log check-ins or body measurements, and my plan is "
        "not adjusted to how I feel."
    ),
    NUTRITION_PLANNING: (
        "Use my food log, body weight and training to set my daily energy and macro "
        "targets and plan my meals and shopping. Without it no nutrition plan is made."
    ),
    ML_PERSONALISATION: (
        "Fit models on my own data only (spotting unusual days, predicting my next lifts). "
        "If I withdraw, those models and their predictions are deleted."
    ),
    COACH_ACCESS: (
        "Let my coach see my raw check-ins (sleep, heart-rate variability, body weight, "
        "notes). Without it my coach sees my plan and training but not those values."
    ),
    MARKETING_EMAIL: (
        "Send me news and offers from my coach by e-mail. I can unsubscribe at any time."
    ),
}
# How a refusal names the purpose in a sentence ("... no consent to <phrase>.").
PHRASES: dict[str, str] = {
    HEALTH_DATA: "the use of health data",
    NUTRITION_PLANNING: "nutrition planning",
    ML_PERSONALISATION: "personal models fitted on their data",
    COACH_ACCESS: "coach access to raw data",
    MARKETING_EMAIL: "marketing e-mail",
}
# The sentence a skipped step records (nightly runs), e.g. "Skipped: no consent to
# nutrition planning."
SKIPPED = "Skipped: no consent to {phrase}."


class ConsentRequired(DomainError):
    code = "consent_required"
    status = 403

    def __init__(self, purpose: str):
        self.purpose = purpose
        super().__init__(
            f"This needs the client's consent to {PHRASES[purpose]}, which they have not "
            "given (or have withdrawn). They can give it on their consent page.",
            fields={"purpose": [purpose]},
        )


class UnknownPurpose(DomainError):
    code = "unknown_purpose"

    def __init__(self, purpose: object):
        super().__init__(
            f"Unknown consent purpose {purpose!r}: use one of {', '.join(PURPOSES)}.",
            fields={"purpose": [f"Use one of: {', '.join(PURPOSES)}."]},
        )


def skipped_reason(purpose: str) -> str:
    return SKIPPED.format(phrase=PHRASES[purpose])


def _check_purpose(purpose: object) -> str:
    if purpose not in PURPOSES:
        raise UnknownPurpose(purpose)
    return str(purpose)


# --- withdraw hooks ------------------------------------------------------------------------

WithdrawHook = Callable[[AthleteProfile], object]
_WITHDRAW_HOOKS: dict[str, list[WithdrawHook]] = {}


def on_withdraw(purpose: str, fn: WithdrawHook) -> None:
    """Run `fn(athlete)` inside the transaction that records a withdrawal of `purpose`
    (e.g. programs deletes fitted models). Registered from `AppConfig.ready()`."""
    hooks = _WITHDRAW_HOOKS.setdefault(_check_purpose(purpose), [])
    if fn not in hooks:
        hooks.append(fn)


# --- policies ----------------------------------------------------------------------------


def policies_current() -> dict[str, ConsentPolicy]:
    """The newest policy of each purpose in the current tenant; version 1 from
    `DEFAULT_TEXTS` is created for a purpose that has none yet."""
    current: dict[str, ConsentPolicy] = {}
    for policy in ConsentPolicy.objects.order_by("purpose", "-version"):
        current.setdefault(policy.purpose, policy)
    for purpose in PURPOSES:
        if purpose in current:
            continue
        try:
            with transaction.atomic():
                current[purpose] = ConsentPolicy.objects.create(
                    purpose=purpose, version=1, text=DEFAULT_TEXTS[purpose]
                )
        except IntegrityError:  # a concurrent request created it first
            current[purpose] = ConsentPolicy.objects.get(purpose=purpose, version=1)
    return {purpose: current[purpose] for purpose in PURPOSES}


# --- the ledger ----------------------------------------------------------------------------


def _record(
    athlete: AthleteProfile,
    purpose: str,
    action: str,
    *,
    ip: str | None,
    user_agent: str,
    actor_user_id: int | None,
) -> ConsentEvent:
    purpose = _check_purpose(purpose)
    event = ConsentEvent(
        athlete=athlete,
        purpose=purpose,
        action=action,
        policy=policies_current()[purpose],
        ip=ip or None,
        user_agent=(user_agent or "")[:USER_AGENT_MAX],
    )
    event.save()
    audit.record(
        action=f"consent.{action}",
        actor_user_id=athlete.user_id if actor_user_id is None else actor_user_id,
        subject_user_id=athlete.user_id,
        detail={"purpose": purpose, "policy_version": event.policy.version},
    )
    return event


@transaction.atomic
def consent_grant(
    athlete: AthleteProfile,
    purpose: str,
    *,
    ip: str | None = None,
    user_agent: str = "",
    actor_user_id: int | None = None,
) -> ConsentEvent:
    """Record that the athlete agrees to `purpose` under its current policy text.
    `actor_user_id` defaults to the athlete (consent is the person's own act)."""
    return _record(
        athlete,
        purpose,
        ConsentEvent.Action.GRANT,
        ip=ip,
        user_agent=user_agent,
        actor_user_id=actor_user_id,
    )


@transaction.atomic
def consent_withdraw(
    athlete: AthleteProfile,
    purpose: str,
    *,
    ip: str | None = None,
    user_agent: str = "",
    actor_user_id: int | None = None,
) -> ConsentEvent:
    """Record the withdrawal, then let registered apps undo what the purpose allowed
    (same transaction: a failing hook leaves no withdrawal behind half-done)."""
    event = _record(
        athlete,
        purpose,
        ConsentEvent.Action.WITHDRAW,
        ip=ip,
        user_agent=user_agent,
        actor_user_id=actor_user_id,
    )
    for hook in _WITHDRAW_HOOKS.get(event.purpose, ()):
        hook(athlete)
    return event


def consents_seed_granted(athletes: Iterable[AthleteProfile]) -> int:
    """Grant every purpose to `athletes` in one insert, without audit events: for the
    demo seed and test factories only (no person decided anything there). Returns rows."""
    policies = policies_current()
    rows = [
        ConsentEvent(
            athlete=athlete,
            purpose=purpose,
            action=ConsentEvent.Action.GRANT,
            policy=policies[purpose],
            user_agent="seed",
        )
        for athlete in athletes
        for purpose in PURPOSES
    ]
    return len(ConsentEvent.objects.bulk_create(rows))


def ledger_erasure_allow() -> None:
    """Allow deleting ledger rows until the end of the current transaction (erasure of a
    person, deletion of a tenant). Must run inside `transaction.atomic()`."""
    if connection.vendor == "postgresql":
        if not connection.in_atomic_block:
            raise RuntimeError("ledger_erasure_allow() must run inside a transaction")
        with connection.cursor() as cursor:
            cursor.execute("SET LOCAL app.erasure = 'on'")


# --- reading the state ---------------------------------------------------------------------


def consent_state(athlete: AthleteProfile) -> dict[str, bool]:
    """Every purpose → whether its latest event is a grant (never answered is False)."""
    state = dict.fromkeys(PURPOSES, False)
    seen: set[str] = set()
    rows = (
        ConsentEvent.objects.filter(athlete=athlete)
        .order_by("-at", "-id")
        .values_list("purpose", "action")
    )
    for purpose, action in rows:
        if purpose not in seen:
            seen.add(purpose)
            state[purpose] = action == ConsentEvent.Action.GRANT
        if len(seen) == len(PURPOSES):
            break
    return state


def consent_states(athlete_ids: Iterable[int]) -> dict[int, dict[str, bool]]:
    """`consent_state` of many athletes in one query (the nightly chunk): the latest event
    per (athlete, purpose) decides, as in `has_consent`; never answered is False."""
    ids = list(athlete_ids)
    states = {i: dict.fromkeys(PURPOSES, False) for i in ids}
    seen: set[tuple[int, str]] = set()
    rows = (
        ConsentEvent.objects.filter(athlete_id__in=ids)
        .order_by("athlete_id", "purpose", "-at", "-id")
        .values_list("athlete_id", "purpose", "action")
    )
    for athlete_id, purpose, action in rows:
        if (athlete_id, purpose) not in seen:
            seen.add((athlete_id, purpose))
            states[athlete_id][purpose] = action == ConsentEvent.Action.GRANT
    return states


def consent_answered(athlete: AthleteProfile) -> set[str]:
    """The purposes the athlete has ever answered (granted or withdrawn)."""
    return set(
        ConsentEvent.objects.filter(athlete=athlete).values_list("purpose", flat=True).distinct()
    )


def has_consent(athlete: AthleteProfile, purpose: str) -> bool:
    action = (
        ConsentEvent.objects.filter(athlete=athlete, purpose=_check_purpose(purpose))
        .order_by("-at", "-id")
        .values_list("action", flat=True)
        .first()
    )
    return action == ConsentEvent.Action.GRANT


def consent_require(athlete: AthleteProfile, purpose: str) -> None:
    """Raise `ConsentRequired` unless the athlete currently consents to `purpose`."""
    if not has_consent(athlete, purpose):
        raise ConsentRequired(purpose)


def athletes_consenting(purpose: str) -> QuerySet[AthleteProfile]:
    """The tenant's athletes whose latest event for `purpose` is a grant (one query,
    usable as a subquery: `athlete__in=athletes_consenting(...)`)."""
    latest = (
        ConsentEvent.objects.filter(athlete=OuterRef("pk"), purpose=_check_purpose(purpose))
        .order_by("-at", "-id")
        .values("action")[:1]
    )
    return AthleteProfile.objects.annotate(_consent=Subquery(latest)).filter(
        _consent=ConsentEvent.Action.GRANT
    )


def ledger_of(athlete: AthleteProfile) -> QuerySet[ConsentEvent]:
    """The athlete's events, oldest first, with the policy version each agreed to."""
    return ConsentEvent.objects.filter(athlete=athlete).select_related("policy")


# --- publishing a new policy text (issue 10, the owner's consent texts page) ---------------

CONSENT_TEXT_MIN = 40  # shorter than this cannot say what is done with which data
CONSENT_TEXT_MAX = 4000


class ConsentTextInvalid(DomainError):
    code = "consent_text_invalid"


def normalise_text(text: str) -> str:
    # Browsers post CRLF; the text is compared with the current one, so store it one way.
    return "\n".join(line.rstrip() for line in (text or "").replace("\r\n", "\n").split("\n"))


@transaction.atomic
def consent_policy_publish(*, purpose: str, text: str, by_user_id: int | None) -> ConsentPolicy:
    """Publish `text` as the next version of `purpose`'s policy in the current tenant.

    A new row, never an edit: every ledger event keeps pointing at the words that person
    read. Clients' answers are not reset (`consent_state` reads the latest event whatever
    its version): a client who agreed under version N stays agreed and sees version N+1
    on their consent page, and every grant or withdrawal from now on names N+1.
    Numbering is serialised by locking the purpose's newest row; the UNIQUE (tenant,
    purpose, version) constraint is the backstop."""
    purpose = _check_purpose(purpose)
    text = normalise_text(text).strip()
    if len(text) < CONSENT_TEXT_MIN:
        raise ConsentTextInvalid(
            "The text is too short to say what is done with which data.",
            fields={"text": [f"Write at least {CONSENT_TEXT_MIN} characters."]},
        )
    if len(text) > CONSENT_TEXT_MAX:
        raise ConsentTextInvalid(
            "The text is too long for clients to read on a phone.",
            fields={"text": [f"Keep it under {CONSENT_TEXT_MAX} characters."]},
        )
    policies_current()  # version 1 exists before anything is numbered after it
    latest = (
        ConsentPolicy.objects.select_for_update()
        .filter(purpose=purpose)
        .order_by("-version")
        .first()
    )
    if latest.text.strip() == text:
        raise ConsentTextInvalid(
            "This is the text clients already read: nothing to publish.",
            fields={"text": ["Change the text before publishing a new version."]},
        )
    policy = ConsentPolicy(purpose=purpose, version=latest.version + 1, text=text)
    policy.full_clean()
    try:
        with transaction.atomic():
            policy.save()
    except IntegrityError:
        raise ConsentTextInvalid(
            "Someone published this purpose's text at the same moment: reload and check it.",
            code="consent_text_conflict",
        ) from None
    audit.record(
        action="consent.policy_publish",
        actor_user_id=by_user_id,
        detail={"purpose": purpose, "version": policy.version, "previous": latest.version},
    )
    return policy


def policy_versions() -> dict[str, list[ConsentPolicy]]:
    """Every purpose → its policies in the current tenant, newest first (the page's
    history; call `policies_current()` first so version 1 exists)."""
    history: dict[str, list[ConsentPolicy]] = {purpose: [] for purpose in PURPOSES}
    for policy in ConsentPolicy.objects.order_by("purpose", "-version"):
        history.setdefault(policy.purpose, []).append(policy)
    return history


def grants_on_older_versions() -> dict[str, int]:
    """Every purpose → how many clients currently agree under an older version than the
    newest (what a new text does not change: they stay agreed). One query over the
    tenant's ledger, latest event per (athlete, purpose) deciding as in `consent_state`."""
    newest: dict[str, int] = {}
    for purpose, version in ConsentPolicy.objects.values_list("purpose", "version"):
        newest[purpose] = max(version, newest.get(purpose, 0))
    counts = dict.fromkeys(PURPOSES, 0)
    seen: set[tuple[int, str]] = set()
    rows = ConsentEvent.objects.order_by("athlete_id", "purpose", "-at", "-id").values_list(
        "athlete_id", "purpose", "action", "policy__version"
    )
    for athlete_id, purpose, action, version in rows:
        if (athlete_id, purpose) in seen:
            continue
        seen.add((athlete_id, purpose))
        if action == ConsentEvent.Action.GRANT and version < newest.get(purpose, 0):
            counts[purpose] = counts.get(purpose, 0) + 1
    return counts
