"""Registries of what each app does with a person's data (DESIGN.md, Privacy).

Every model holding personal data registers an exporter (right of access/portability)
and an eraser (right to be forgotten), from its app's `AppConfig.ready()` (usually in the
app's own `privacy.py`). Models that relate to a person but hold nothing personal are
registered with a reason instead. Coverage tests walk `apps.get_models()` and fail on any
model with a relation to a user or an athlete that is in none of these.

INTERFACE written by the lead; the export/erasure helper implements the bodies and may
add optional arguments, but keeps these names and signatures.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Mapping
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from typing import Any

from django.db import models

from athletes.models import AthleteProfile

Rows = Callable[[AthleteProfile], Iterable[Mapping[str, Any]]]
Erase = Callable[[AthleteProfile], int]


@dataclass(frozen=True)
class Exporter:
    model: type[models.Model]
    name: str  # file stem in the ZIP, e.g. "checkins"
    rows: Rows  # the athlete's rows as JSON-able dicts (within the current tenant)
    tabular: bool = False  # also written as CSV


@dataclass(frozen=True)
class Eraser:
    model: type[models.Model]
    erase: Erase  # deletes (or pseudonymises) the athlete's rows; returns how many
    order: int = 100  # lower runs first (children before parents where FKs restrict)
    # Platform rows of the person's login (user, e-mail addresses, authenticators): one
    # tenant's erasure keeps them (the person may be a client elsewhere); `erase` is then a
    # no-op and `privacy.services.account_erase` removes them with the user.
    account_level: bool = False


EXPORTERS: dict[str, Exporter] = {}
ERASERS: dict[str, Eraser] = {}
NOT_PERSONAL: dict[str, str] = {}  # model label -> why it needs neither


def _label(model: type[models.Model]) -> str:
    return model._meta.label


def register_exporter(
    model: type[models.Model], *, name: str, rows: Rows, tabular: bool = False
) -> None:
    EXPORTERS[_label(model)] = Exporter(model=model, name=name, rows=rows, tabular=tabular)


def register_eraser(
    model: type[models.Model], *, erase: Erase, order: int = 100, account_level: bool = False
) -> None:
    ERASERS[_label(model)] = Eraser(
        model=model, erase=erase, order=order, account_level=account_level
    )


def register_not_personal(model: type[models.Model], reason: str) -> None:
    NOT_PERSONAL[_label(model)] = reason


# --- Helpers for the common shapes ---------------------------------------------------
# Most personal models hang off the athlete through one FK path ("athlete",
# "session__athlete"); these build their exporter and eraser from that path, with bulk
# `.values()` reads so a ZIP of years of data stays a handful of queries.


def _fields(model: type[models.Model], exclude: Iterable[str] = ()) -> list[str]:
    skip = set(exclude)
    return [f.attname for f in model._meta.concrete_fields if f.name not in skip]


def _lookup(path: str, athlete: AthleteProfile) -> dict[str, Any]:
    """`path` ends at the athlete ("athlete", "session__athlete") or, for rows that hang
    off the person's membership, at their user id ("client__user_id")."""
    return {path: athlete.user_id if path.endswith("user_id") else athlete}


def rows_by(
    model: type[models.Model], path: str = "athlete", *, exclude: Iterable[str] = ()
) -> Rows:
    """An exporter's rows: every concrete field (FKs as ids) of the athlete's rows, in id
    order, within the current tenant (the scoped manager and RLS see to that). `exclude`
    drops secrets that are not the person's data (keys, tokens)."""
    names = _fields(model, exclude)

    def rows(athlete: AthleteProfile) -> list[dict[str, Any]]:
        return list(model.objects.filter(**_lookup(path, athlete)).order_by("pk").values(*names))

    return rows


def delete_by(model: type[models.Model], path: str = "athlete") -> Erase:
    """An eraser deleting the athlete's rows (and what cascades from them)."""

    def erase(athlete: AthleteProfile) -> int:
        _, per_model = model.objects.filter(**_lookup(path, athlete)).delete()
        return per_model.get(model._meta.label, 0)

    return erase


def register_athlete_model(
    model: type[models.Model],
    *,
    name: str,
    path: str = "athlete",
    tabular: bool = False,
    order: int = 100,
    exclude: Iterable[str] = (),
) -> None:
    """The usual pair: export every field of the athlete's rows, erase by deleting them."""
    register_exporter(model, name=name, rows=rows_by(model, path, exclude=exclude), tabular=tabular)
    register_eraser(model, erase=delete_by(model, path), order=order)


def erasers_in_order() -> list[Eraser]:
    return sorted(ERASERS.values(), key=lambda e: (e.order, e.model._meta.label))


# --- Notes an eraser leaves for the request (e.g. "Stripe not configured") -------------
# Erasers return a count (the interface); what they skipped on purpose goes here, and
# `privacy.services.erasure_run` stores it on the request. Never personal data.
_NOTES: ContextVar[list[str] | None] = ContextVar("privacy_notes", default=None)


def note(text: str) -> None:
    notes = _NOTES.get()
    if notes is not None:
        notes.append(text)


@contextmanager
def collecting_notes() -> Iterator[list[str]]:
    notes: list[str] = []
    token = _NOTES.set(notes)
    try:
        yield notes
    finally:
        _NOTES.reset(token)
