"""The nightly pipeline frame (DESIGN.md, Nightly pipeline): when a tenant's night is due,
who it serves, and how each subscriber's registered steps run exactly once.

Coaching may not import the apps whose steps it runs, so they plug in from their
`AppConfig.ready()`:

- `register_step(name, fn, order, prepare=None)`: `fn(athlete, date) -> StepOutcome`, per
  subscriber, for the tenant-local `date` that just finished. A step must be safe to run
  again after a crash (its writes roll back with its claim, see below). Raise to fail;
  return `StepOutcome.skip(reason)` for consent and the like. With `prepare`, the frame
  calls `prepare(athletes, date) -> context` once per chunk (tenant in context, before any
  claim, for the chunk's subscribers that still have this step to run) and then
  `fn(athlete, date, context)`: what is the same for the whole chunk (a library, the
  chunk's consents and enrolments) is loaded in a few queries instead of per subscriber.
  A context is read-only input; the claims still decide who runs (a subscriber another
  delivery finished is skipped whatever the context holds). If `prepare` raises, every
  subscriber's claim of that step is recorded as failed with the error.
- `register_subscribers(SubscriberSource(...))` (athletes): who the tenant's subscribers
  are, how to load a chunk of them, and which of them have no access (billing decides).

Exactly once: a subscriber's step runs in one transaction that first inserts its
`NightlyStep` row (UNIQUE tenant, athlete, date, step). If the worker dies, the row and the
step's writes roll back together and the redelivered chunk runs it again; a duplicated
chunk blocks on the unique index, then finds the row and skips. The run's counts move (by
F()) in the transaction of the subscriber's last step, so they are exact too.
"""

from __future__ import annotations

import datetime
import logging
import time
import zoneinfo
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.db import IntegrityError, InterfaceError, OperationalError, connection, transaction
from django.db.models import Case, F, Q, QuerySet, Value, When
from django.utils import timezone

from coaching.models import Membership, NightlyRun, NightlyStep, Tenant
from coaching.tenancy import current_tenant, tenant_context

logger = logging.getLogger(__name__)

#: Local wall-clock time after which the previous day counts as finished.
DUE_AFTER = datetime.time(2, 0)
FINAL = (NightlyRun.Status.DONE, NightlyRun.Status.FAILED, NightlyRun.Status.SKIPPED)
BACKFILL_ONLY = "Only single subscribers were run by hand; the tenant's night has not started."
# Transient database errors are not a subscriber's failure: they abort the chunk, whose
# task retries with backoff (the claims make the retry safe).
TRANSIENT = (OperationalError, InterfaceError)


# --- registries -------------------------------------------------------------------------


@dataclass(frozen=True)
class StepOutcome:
    status: str  # NightlyStep.Status.DONE or SKIPPED
    reason: str = ""  # why skipped, or a short note; never personal data

    @classmethod
    def done(cls, reason: str = "") -> StepOutcome:
        return cls(NightlyStep.Status.DONE, reason)

    @classmethod
    def skip(cls, reason: str) -> StepOutcome:
        return cls(NightlyStep.Status.SKIPPED, reason)


StepFn = Callable[..., StepOutcome]  # (athlete, date) or, with prepare, (athlete, date, context)
PrepareFn = Callable[[Sequence[Any], datetime.date], Any]


@dataclass(frozen=True)
class Step:
    name: str
    fn: StepFn
    order: int
    prepare: PrepareFn | None = None


class _PrepareFailed:
    """The context of a step whose `prepare` raised: each claim records the error."""

    def __init__(self, error: str):
        self.error = error


@dataclass(frozen=True)
class SubscriberSource:
    ids: Callable[[], list[int]]  # the tenant's subscribers, in id order
    load: Callable[[Sequence[int]], list[Any]]  # one query for a chunk
    denied: Callable[[Sequence[Any]], dict[int, str]]  # no access: id -> reason


_steps: dict[str, Step] = {}
_source: SubscriberSource | None = None


def register_step(name: str, fn: StepFn, order: int, prepare: PrepareFn | None = None) -> None:
    """Add (or replace, by name) a per-subscriber step; lower `order` runs first."""
    _steps[name] = Step(name=name, fn=fn, order=order, prepare=prepare)


def unregister_step(name: str) -> None:
    _steps.pop(name, None)


def steps() -> list[Step]:
    return sorted(_steps.values(), key=lambda s: (s.order, s.name))


def register_subscribers(source: SubscriberSource) -> None:
    global _source
    _source = source


def subscriber_source() -> SubscriberSource:
    if _source is None:
        raise RuntimeError("no subscriber source registered (athletes' AppConfig.ready)")
    return _source


# --- when a night is due ----------------------------------------------------------------


def due_date(tenant: Tenant, now: datetime.datetime) -> datetime.date | None:
    """The finished day whose night is due at `now`, or None before 02:00 local.

    Wall-clock comparison in the tenant's zone: on a spring-forward day 02:00 never
    happens but 03:00 is past it; on a fall-back day 02:00 happens twice and both map to
    the same date, which UNIQUE (tenant, date) turns into one run.
    """
    local = now.astimezone(zoneinfo.ZoneInfo(tenant.timezone))
    if local.time() < DUE_AFTER:
        return None
    return local.date() - datetime.timedelta(days=1)


def tenant_local_today(tenant: Tenant, now: datetime.datetime | None = None) -> datetime.date:
    return (now or timezone.now()).astimezone(zoneinfo.ZoneInfo(tenant.timezone)).date()


def active_tenants_across_tenants() -> list[Tenant]:
    """Platform read: every tenant whose nights run (suspended/offboarded ones don't)."""
    return list(Tenant.objects.filter(status=Tenant.Status.ACTIVE).order_by("pk"))


def run_get_or_create(
    *, date: datetime.date, trigger: str = NightlyRun.Trigger.BEAT
) -> tuple[NightlyRun, bool]:
    """The tenant's run for `date`: UNIQUE (tenant, date) settles a race between two
    dispatchers (the loser's INSERT waits for the winner's commit, then finds its row)."""
    return NightlyRun.objects.get_or_create(date=date, defaults={"trigger": trigger})


def nightly_dispatch(*, now: datetime.datetime | None = None) -> list[NightlyRun]:
    """The hourly tick: create the due run of every active tenant and start it; resume
    runs left unfinished (a start task lost with its worker) after NIGHTLY_RESUME_MINUTES."""
    from coaching.tasks import nightly_start

    now = now or timezone.now()
    created: list[NightlyRun] = []
    stale = now - datetime.timedelta(minutes=settings.NIGHTLY_RESUME_MINUTES)
    for tenant in active_tenants_across_tenants():
        day = due_date(tenant, now)
        with tenant_context(tenant), transaction.atomic():
            to_start: list[int] = []
            if day is not None:
                run, was_created = run_get_or_create(date=day)
                if was_created:
                    created.append(run)
                # A due run that a subscriber backfill created before the night was due
                # (manual, still queued: `run_start` leaves it so) starts now too.
                backfilled = (
                    run.status == NightlyRun.Status.QUEUED
                    and run.trigger == NightlyRun.Trigger.MANUAL
                )
                if was_created or backfilled:
                    to_start.append(run.pk)
            to_start += [
                pk
                for pk in NightlyRun.objects.filter(
                    status__in=[NightlyRun.Status.QUEUED, NightlyRun.Status.RUNNING],
                    created__lt=stale,
                    date__gte=(day or now.date()) - datetime.timedelta(days=3),
                ).values_list("pk", flat=True)
                if pk not in to_start
            ]
            for run_id in to_start:
                transaction.on_commit(
                    lambda tid=tenant.pk, rid=run_id: nightly_start.apply_async(
                        args=[tid, rid], queue=settings.NIGHTLY_QUEUE
                    )
                )
    return created


# --- starting a run: fan-out ------------------------------------------------------------


def chunks(ids: Sequence[int], size: int) -> list[list[int]]:
    return [list(ids[i : i + size]) for i in range(0, len(ids), size)]


def finished_subscriber_ids(run: NightlyRun) -> set[int]:
    """Subscribers whose last step is recorded (so they are counted)."""
    names = [s.name for s in steps()]
    if not names:
        return set()
    return set(
        NightlyStep.objects.filter(date=run.date, step=names[-1]).values_list(
            "athlete_id", flat=True
        )
    )


def run_start(
    *, run: NightlyRun, only: Sequence[int] | None = None, send: bool = True
) -> list[list[int]]:
    """Count the run's subscribers and fan them out in chunks (after commit). Safe to call
    again (a redelivered start, a resume, a manual re-run): it resends only subscribers not
    yet finished, and the claims make a resent one a no-op anyway. Returns the chunks."""
    from coaching.tasks import nightly_chunk

    tenant = current_tenant()
    with transaction.atomic():
        run = NightlyRun.objects.select_for_update().get(pk=run.pk)
        if run.status in FINAL:
            return []
        if not tenant.is_writable:
            run_mark_skipped(run=run, reason=f"Tenant is {tenant.status}.")
            return []
        ids = subscriber_source().ids()
        finished = finished_subscriber_ids(run)
        if run.status == NightlyRun.Status.QUEUED and only is None:
            run.total = len(ids)
            run.status = NightlyRun.Status.RUNNING
            run.started = timezone.now()
            run.reason = ""
            run.save(update_fields=["total", "status", "started", "reason"])
        elif run.status == NightlyRun.Status.QUEUED:
            # A backfill of some subscribers (`run_nightly --subscriber`) is not the
            # tenant's night: flipping the run to running with every subscriber as its
            # total would leave it "running" for good. It stays queued (the dispatcher, or
            # a full manual run, starts it); their steps are recorded and counted as usual.
            run.reason = BACKFILL_ONLY
            run.save(update_fields=["reason"])
        todo = [i for i in (only if only is not None else ids) if i not in finished]
        batches = chunks(todo, settings.NIGHTLY_CHUNK_SIZE)
        _flip_if_complete(run.pk)
        if send:
            for batch in batches:
                transaction.on_commit(
                    lambda b=batch: nightly_chunk.apply_async(
                        args=[tenant.pk, run.pk, b], queue=settings.NIGHTLY_QUEUE
                    )
                )
    return batches


def run_retry_failed(*, run: NightlyRun) -> list[int]:
    """Give the run's failed subscribers another go (after a fix or an outage): their
    steps that didn't finish are forgotten, the run counts them as not yet done, and the
    usual start sends them again. Steps they finished stay done. Returns their ids."""
    with transaction.atomic():
        run = NightlyRun.objects.select_for_update().get(pk=run.pk)
        failed_ids = sorted(
            set(
                NightlyStep.objects.filter(
                    date=run.date, status=NightlyStep.Status.FAILED
                ).values_list("athlete_id", flat=True)
            )
        )
        if not failed_ids:
            return []
        NightlyStep.objects.filter(date=run.date, athlete_id__in=failed_ids).exclude(
            status=NightlyStep.Status.DONE
        ).delete()
        run.failed = max(0, run.failed - len(failed_ids))
        if run.status != NightlyRun.Status.QUEUED:  # a backfill-only run stays queued
            run.status = NightlyRun.Status.RUNNING
        run.finished = None
        run.save(update_fields=["failed", "status", "finished"])
    logger.info("nightly run %s: retrying %s failed subscriber(s)", run.pk, len(failed_ids))
    return failed_ids


def run_mark_skipped(*, run: NightlyRun, reason: str) -> None:
    NightlyRun.objects.filter(pk=run.pk).exclude(status__in=FINAL).update(
        status=NightlyRun.Status.SKIPPED, reason=reason[:200], finished=timezone.now()
    )


def _flip_if_complete(run_id: int) -> None:
    NightlyRun.objects.filter(
        pk=run_id,
        status=NightlyRun.Status.RUNNING,
        total__lte=F("done") + F("failed") + F("skipped"),
    ).update(status=NightlyRun.Status.DONE, finished=timezone.now())


def _count_and_flip(run_id: int, field: str) -> None:
    """Count one finished subscriber and, if that was the last one, finish the run: one
    UPDATE (PostgreSQL evaluates every SET against the row as it was, so the count
    compared is the one after this subscriber), where a count then a flip took two."""
    complete = Q(
        status=NightlyRun.Status.RUNNING,
        total__lte=F("done") + F("failed") + F("skipped") + 1,
    )
    NightlyRun.objects.filter(pk=run_id).update(
        **{field: F(field) + 1},
        status=Case(When(complete, then=Value(NightlyRun.Status.DONE)), default=F("status")),
        finished=Case(When(complete, then=Value(timezone.now())), default=F("finished")),
    )


# --- one chunk --------------------------------------------------------------------------


@dataclass
class ChunkResult:
    processed: int = 0  # subscribers whose night this delivery finished
    already: int = 0  # subscribers a previous delivery had finished
    steps_run: int = 0
    queries: int = 0  # SQL statements the chunk sent (the frame's and the steps')


def _error_text(exc: BaseException) -> str:
    """Class and message: exceptions of our services name ids and rules, not people."""
    return f"{type(exc).__name__}: {exc}"[:500]


def nightly_chunk_run(*, run_id: int, athlete_ids: Sequence[int]) -> ChunkResult:
    """Run every registered step for each subscriber of the chunk that isn't finished.

    Constant queries around the steps: the run, the subscribers, their access and the
    steps already recorded are read once per chunk; the steps themselves are the apps'.
    """
    result = ChunkResult()

    def count(execute, sql, params, many, context):  # noqa: ANN001 - Django's wrapper API
        result.queries += 1
        return execute(sql, params, many, context)

    with connection.execute_wrapper(count):
        _chunk(result, run_id, athlete_ids)
    return result


def _chunk(result: ChunkResult, run_id: int, athlete_ids: Sequence[int]) -> None:
    run = NightlyRun.objects.filter(pk=run_id).first()
    tenant = current_tenant()
    if run is None or run.status in FINAL:
        return
    if not tenant.is_writable:
        run_mark_skipped(run=run, reason=f"Tenant is {tenant.status}.")
        return
    ordered = steps()
    source = subscriber_source()
    athletes = source.load(athlete_ids)
    denied = source.denied(athletes)
    recorded: dict[tuple[int, str], str] = {
        (a, s): status
        for a, s, status in NightlyStep.objects.filter(
            date=run.date, athlete_id__in=list(athlete_ids)
        ).values_list("athlete_id", "step", "status")
    }
    contexts = _prepare(ordered, athletes, run.date, recorded, denied)
    for athlete in athletes:
        done_before = all((athlete.pk, s.name) in recorded for s in ordered)
        if done_before:
            result.already += 1
            continue
        ran = _subscriber_night(run, athlete, ordered, recorded, denied.get(athlete.pk), contexts)
        result.steps_run += ran
        result.processed += 1
    # Normally the last subscriber's transaction flips the run; this covers a run whose
    # status was left behind (a resumed or manually reset run), at one query a chunk.
    _flip_if_complete(run.pk)


def _prepare(
    ordered: list[Step],
    athletes: Sequence[Any],
    date: datetime.date,
    recorded: dict[tuple[int, str], str],
    denied: dict[int, str],
) -> dict[str, Any]:
    """Each step's chunk context, for the subscribers that will actually run it (not
    denied, not recorded yet). A transient error aborts the chunk (its task retries)."""
    contexts: dict[str, Any] = {}
    for step in ordered:
        if step.prepare is None:
            continue
        todo = [a for a in athletes if a.pk not in denied and (a.pk, step.name) not in recorded]
        if not todo:
            continue
        try:
            with transaction.atomic():  # one snapshot, and one set_config for its reads
                contexts[step.name] = step.prepare(todo, date)
        except TRANSIENT:
            raise
        except Exception as exc:  # noqa: BLE001 - recorded on each claim instead
            logger.warning("nightly prepare of %s failed: %s", step.name, type(exc).__name__)
            contexts[step.name] = _PrepareFailed(_error_text(exc))
    return contexts


def _subscriber_night(
    run: NightlyRun,
    athlete: Any,
    ordered: list[Step],
    recorded: dict[tuple[int, str], str],
    denied_reason: str | None,
    contexts: dict[str, Any] | None = None,
) -> int:
    statuses = [recorded[(athlete.pk, s.name)] for s in ordered if (athlete.pk, s.name) in recorded]
    ran = 0
    for index, step in enumerate(ordered):
        if (athlete.pk, step.name) in recorded:
            continue
        status = _claim_and_run(
            run, athlete, step, statuses, denied_reason, last=index == len(ordered) - 1,
            context=(contexts or {}).get(step.name),
        )  # fmt: skip
        if status is None:  # another delivery got there first
            status = (
                NightlyStep.objects.filter(athlete=athlete, date=run.date, step=step.name)
                .values_list("status", flat=True)
                .first()
            ) or NightlyStep.Status.DONE
        else:
            ran += 1
        statuses.append(status)
    return ran


def _subscriber_status(statuses: list[str]) -> str:
    if NightlyStep.Status.FAILED in statuses:
        return "failed"
    if statuses and all(s == NightlyStep.Status.SKIPPED for s in statuses):
        return "skipped"
    return "done"


def _claim_and_run(
    run: NightlyRun,
    athlete: Any,
    step: Step,
    earlier: list[str],
    denied_reason: str | None,
    *,
    last: bool,
    context: Any = None,
) -> str | None:
    """One step in one transaction: claim (INSERT), run, record. None if already claimed."""
    with transaction.atomic():
        claim = NightlyStep(
            run=run, athlete_id=athlete.pk, date=run.date, step=step.name,
            status=NightlyStep.Status.SKIPPED,
        )  # fmt: skip
        try:
            with transaction.atomic():
                claim.save()
        except IntegrityError:
            return None
        started = time.perf_counter()
        if denied_reason is not None:
            claim.reason = denied_reason
        elif NightlyStep.Status.FAILED in earlier:
            claim.reason = "Not run: an earlier step failed."
        else:
            try:
                if isinstance(context, _PrepareFailed):
                    raise RuntimeError(f"chunk preparation failed: {context.error}")
                with transaction.atomic():
                    if step.prepare is None:
                        outcome = step.fn(athlete, run.date)
                    else:
                        outcome = step.fn(athlete, run.date, context)
                claim.status, claim.reason = outcome.status, outcome.reason
            except TRANSIENT:
                raise
            except Exception as exc:  # noqa: BLE001 - one subscriber must not fail the chunk
                claim.status, claim.reason = NightlyStep.Status.FAILED, _error_text(exc)
                logger.warning(
                    "nightly step %s failed for athlete %s (run %s): %s",
                    step.name, athlete.pk, run.pk, type(exc).__name__,
                )  # fmt: skip
        claim.ms = round((time.perf_counter() - started) * 1000)
        claim.reason = claim.reason[:500]
        claim.save(update_fields=["status", "reason", "ms"])
        if last:
            _count_and_flip(run.pk, _subscriber_status([*earlier, claim.status]))
    return claim.status


# --- reads for the pages, the API and the command ---------------------------------------


def runs() -> QuerySet[NightlyRun]:
    return NightlyRun.objects.order_by("-date", "-pk")


def run_by_id(run_id: int) -> NightlyRun | None:
    return NightlyRun.objects.filter(pk=run_id).first()


def run_on(date: datetime.date) -> NightlyRun | None:
    return NightlyRun.objects.filter(date=date).first()


def failures_of(run: NightlyRun) -> QuerySet[NightlyStep]:
    return NightlyStep.objects.filter(run=run, status=NightlyStep.Status.FAILED).order_by(
        "athlete_id", "pk"
    )


def steps_of(run: NightlyRun) -> QuerySet[NightlyStep]:
    return NightlyStep.objects.filter(run=run).order_by("athlete_id", "pk")


def progress_bar(run: NightlyRun, width: int = 30) -> str:
    filled = width * run.percent // 100
    return (
        f"[{'#' * filled}{'.' * (width - filled)}] {run.accounted}/{run.total} "
        f"done {run.done} failed {run.failed} skipped {run.skipped} ({run.status})"
    )


def memberships_by_user_ids(user_ids: Sequence[int]) -> dict[int, Membership]:
    """For naming failed subscribers on the run page (`selectors.client_label`)."""
    rows = Membership.objects.select_related("user").filter(user_id__in=list(user_ids))
    return {m.user_id: m for m in rows}
