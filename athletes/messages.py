"""The client-coach thread. Hybrid and premium tiers include coach time; DIY is "the
engine plans and adapts, no coach time", so a DIY client has no thread (the page says
so and points to billing). Writes here, reads in `thread_of`."""

from __future__ import annotations

from django.db import transaction
from django.db.models import QuerySet
from django.utils import timezone

from athletes import selectors
from athletes.models import AthleteProfile, Message
from coaching.errors import DomainError
from coaching.models import Membership, Tier

MAX_CHARS = 4000


class MessageRefused(DomainError):
    code = "message_refused"


def coach_time_included(athlete: AthleteProfile) -> bool:
    """Whether the client's current tier includes a coach (hybrid or premium)."""
    enrolment = selectors.current_enrolment(athlete)
    return enrolment is not None and enrolment.tier.autonomy != Tier.Autonomy.AUTO


def thread_of(athlete: AthleteProfile) -> QuerySet[Message]:
    return Message.objects.filter(athlete=athlete).select_related("author__user")


@transaction.atomic
def message_send(*, athlete: AthleteProfile, author: Membership, body: str) -> Message:
    """The client writes to their coaches, or a coach to the client."""
    from_client = not selectors.is_staff(author)
    if from_client and author.user_id != athlete.user_id:
        raise MessageRefused("You can only write in your own thread.")
    if not coach_time_included(athlete):
        raise MessageRefused(
            "Messages with a coach come with the hybrid and premium tiers; this client is "
            "on a tier without coach time.",
            fields={"body": ["This tier has no coach messages."]},
        )
    body = (body or "").strip()
    if not body:
        raise MessageRefused("Write something first.", fields={"body": ["Write something first."]})
    if len(body) > MAX_CHARS:
        message = f"Keep a message under {MAX_CHARS} characters."
        raise MessageRefused(message, fields={"body": [message]})
    row = Message(athlete=athlete, author=author, from_client=from_client, body=body)
    row.assign_current_tenant()
    row.full_clean()
    row.save()
    return row


def messages_mark_read(*, athlete: AthleteProfile, reader: Membership) -> int:
    """The reader has seen the other side's messages (a client reads the coaches', a coach
    the client's)."""
    return Message.objects.filter(
        athlete=athlete, read_at__isnull=True, from_client=selectors.is_staff(reader)
    ).update(read_at=timezone.now())
