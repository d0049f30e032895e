"""The exercise and endurance-session library the block engine plans from.

`programs/data/exercises.json` is the default library; `load_library(path)` reads another
file of the same shape, and `Library.from_rows(...)` builds one from rows (e.g. a tenant's
own exercises) with the same validation. Every error names the bad row.

Conventions a row relies on:
- `equipment` lists everything the exercise needs; an athlete can do it only with ALL of
  it (bodyweight is always available).
- `e1rm_ratio` is the exercise's typical e1RM relative to its substitution group's
  reference lift (`reference: true`, ratio 1.0). For `per_hand` exercises (dumbbells,
  kettlebells held one per hand) the ratio and every planned load are per hand.
- `loadable: false` marks bodyweight and band exercises: they get reps and an RPE target,
  never a load in kg.
- `dose_unit` is `"reps"` (default), `"s"` (holds) or `"m"` (carries, sleds); for the last
  two `default_dose` is the prescribed seconds or metres per set.
"""

from __future__ import annotations

import json
import numbers
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from types import MappingProxyType

PATTERNS = ("squat", "hinge", "press", "pull", "single_leg", "carry", "core", "accessory")
EQUIPMENT = (
    "barbell",
    "dumbbell",
    "kettlebell",
    "machine",
    "cable",
    "bodyweight",
    "bands",
    "pullup_bar",
    "bench",
    "rack",
    "trap_bar",
    "sled",
)
ALWAYS_AVAILABLE = frozenset({"bodyweight"})
DOSE_UNITS = ("reps", "s", "m")
SPORTS = ("run", "ride")
STRUCTURES = ("continuous", "intervals", "long")
FATIGUE_LEVELS = (1, 2, 3)
# Shipped slugs are kebab-case (a test holds them to it); a tenant's own rows may use any
# Django slug, so validation accepts that.
_SLUG = re.compile(r"^[A-Za-z0-9_-]+$")


@dataclass(frozen=True, kw_only=True)
class ExerciseInfo:
    slug: str
    name: str
    pattern: str
    equipment: frozenset[str]
    primary_muscles: tuple[str, ...]
    substitution_group: str
    unilateral: bool
    fatigue: int
    e1rm_ratio: float | None = None
    reference: bool = False
    loadable: bool = True
    per_hand: bool = False
    dose_unit: str = "reps"
    default_dose: int | None = None

    def possible_with(self, equipment: Iterable[str]) -> bool:
        """True when the athlete has every piece of equipment this exercise needs."""
        return self.equipment <= (frozenset(equipment) | ALWAYS_AVAILABLE)

    def missing_equipment(self, equipment: Iterable[str]) -> tuple[str, ...]:
        return tuple(sorted(self.equipment - frozenset(equipment) - ALWAYS_AVAILABLE))


@dataclass(frozen=True, kw_only=True)
class EnduranceSessionType:
    slug: str
    name: str
    sport: str
    zone: int
    structure: str
    min_minutes: int
    max_minutes: int
    description: str = ""


@dataclass(frozen=True, kw_only=True)
class Library:
    exercises: tuple[ExerciseInfo, ...]
    endurance_sessions: tuple[EnduranceSessionType, ...]
    _by_slug: Mapping[str, ExerciseInfo] = field(init=False, repr=False, compare=False)
    _by_group: Mapping[str, tuple[ExerciseInfo, ...]] = field(init=False, repr=False, compare=False)
    _endurance_by_slug: Mapping[str, EnduranceSessionType] = field(
        init=False, repr=False, compare=False
    )

    def __post_init__(self) -> None:
        by_slug = {e.slug: e for e in self.exercises}
        groups: dict[str, list[ExerciseInfo]] = {}
        for e in self.exercises:
            if e.substitution_group:  # "" means no substitutes
                groups.setdefault(e.substitution_group, []).append(e)
        object.__setattr__(self, "_by_slug", MappingProxyType(by_slug))
        object.__setattr__(
            self, "_by_group", MappingProxyType({g: tuple(v) for g, v in groups.items()})
        )
        object.__setattr__(
            self,
            "_endurance_by_slug",
            MappingProxyType({t.slug: t for t in self.endurance_sessions}),
        )

    @classmethod
    def from_rows(
        cls,
        *,
        exercises: Iterable[Mapping[str, object]],
        endurance_sessions: Iterable[Mapping[str, object]] = (),
    ) -> Library:
        """Validate plain rows (as in exercises.json) and build a library."""
        parsed = tuple(_parse_exercise(i, row) for i, row in enumerate(exercises))
        _check_exercises(parsed)
        types = tuple(_parse_endurance(i, row) for i, row in enumerate(endurance_sessions))
        seen: set[str] = set()
        for i, t in enumerate(types):
            if t.slug in seen:
                raise ValueError(f"endurance_sessions[{i}] ({t.slug!r}): duplicate slug")
            seen.add(t.slug)
        return cls(exercises=parsed, endurance_sessions=types)

    # Lookups -------------------------------------------------------------------------
    def __contains__(self, slug: object) -> bool:
        return slug in self._by_slug

    def __len__(self) -> int:
        return len(self.exercises)

    def exercise(self, slug: str) -> ExerciseInfo:
        try:
            return self._by_slug[slug]
        except KeyError:
            raise KeyError(f"no exercise {slug!r} in the library") from None

    def get(self, slug: str) -> ExerciseInfo | None:
        return self._by_slug.get(slug)

    def group(self, substitution_group: str) -> tuple[ExerciseInfo, ...]:
        return self._by_group.get(substitution_group, ())

    def groups(self) -> tuple[str, ...]:
        return tuple(self._by_group)

    def reference_for(self, substitution_group: str) -> ExerciseInfo | None:
        return next((e for e in self.group(substitution_group) if e.reference), None)

    def by_pattern(self, pattern: str) -> tuple[ExerciseInfo, ...]:
        return tuple(e for e in self.exercises if e.pattern == pattern)

    def available(self, equipment: Iterable[str]) -> tuple[ExerciseInfo, ...]:
        have = frozenset(equipment)
        return tuple(e for e in self.exercises if e.possible_with(have))

    def endurance_type(self, slug: str) -> EnduranceSessionType:
        try:
            return self._endurance_by_slug[slug]
        except KeyError:
            raise KeyError(f"no endurance session type {slug!r} in the library") from None

    def endurance_types(
        self, *, sport: str, zone: int | None = None, structure: str | None = None
    ) -> tuple[EnduranceSessionType, ...]:
        return tuple(
            t
            for t in self.endurance_sessions
            if t.sport == sport
            and (zone is None or t.zone == zone)
            and (structure is None or t.structure == structure)
        )


def load_library(path: str | Path | None = None) -> Library:
    """Read and validate a library file; the packaged `programs/data/exercises.json` by
    default."""
    if path is None:
        text = resources.files("programs.data").joinpath("exercises.json").read_text("utf-8")
    else:
        text = Path(path).read_text("utf-8")
    data = json.loads(text)
    if not isinstance(data, Mapping) or not isinstance(data.get("exercises"), list):
        raise ValueError("a library file is an object with an 'exercises' list")
    sessions = data.get("endurance_sessions", [])
    if not isinstance(sessions, list):
        raise ValueError("'endurance_sessions' must be a list")
    return Library.from_rows(exercises=data["exercises"], endurance_sessions=sessions)


# Validation ------------------------------------------------------------------------------
def _where(kind: str, index: int, row: Mapping[str, object]) -> str:
    slug = row.get("slug") if isinstance(row, Mapping) else None
    return f"{kind}[{index}]" + (f" ({slug!r})" if slug else "")


def _str_list(where: str, name: str, value: object) -> list[str]:
    if not isinstance(value, list | tuple) or not all(isinstance(v, str) for v in value):
        raise ValueError(f"{where}: {name} must be a list of strings")
    return list(value)


def _parse_exercise(index: int, row: Mapping[str, object]) -> ExerciseInfo:
    if not isinstance(row, Mapping):
        raise ValueError(f"exercises[{index}]: each row must be an object")
    where = _where("exercises", index, row)
    slug = row.get("slug")
    if not isinstance(slug, str) or not _SLUG.match(slug):
        raise ValueError(f"{where}: slug must be letters, digits, hyphens or underscores")
    name = row.get("name")
    if not isinstance(name, str) or not name.strip():
        raise ValueError(f"{where}: name is required")
    pattern = row.get("pattern")
    if pattern not in PATTERNS:
        raise ValueError(f"{where}: unknown pattern {pattern!r}; use one of {', '.join(PATTERNS)}")
    equipment = _str_list(where, "equipment", row.get("equipment"))
    unknown = sorted(set(equipment) - set(EQUIPMENT))
    if unknown:
        raise ValueError(f"{where}: unknown equipment {', '.join(map(repr, unknown))}")
    muscles = _str_list(where, "primary_muscles", row.get("primary_muscles"))
    group = row.get("substitution_group") or ""
    if not isinstance(group, str) or (group and not _SLUG.match(group)):
        raise ValueError(f"{where}: substitution_group must be a slug (or empty: no substitutes)")
    unilateral = row.get("unilateral")
    if not isinstance(unilateral, bool):
        raise ValueError(f"{where}: unilateral must be true or false")
    fatigue = row.get("fatigue")
    if isinstance(fatigue, bool) or fatigue not in FATIGUE_LEVELS:
        raise ValueError(f"{where}: fatigue must be 1, 2 or 3")
    flags = {}
    for flag, default in (("reference", False), ("loadable", True), ("per_hand", False)):
        value = row.get(flag, default)
        if not isinstance(value, bool):
            raise ValueError(f"{where}: {flag} must be true or false")
        flags[flag] = value
    ratio = row.get("e1rm_ratio")
    if ratio is not None:
        if isinstance(ratio, bool) or not isinstance(ratio, numbers.Real) or not 0 < ratio <= 3:
            raise ValueError(f"{where}: e1rm_ratio must be a number in (0, 3]")
        ratio = float(ratio)
    if flags["reference"] and ratio not in (None, 1.0):
        raise ValueError(f"{where}: a reference lift has e1rm_ratio 1.0")
    if (flags["reference"] or ratio is not None) and not group:
        raise ValueError(f"{where}: e1rm_ratio and reference need a substitution_group")
    if flags["reference"]:
        ratio = 1.0
    if not flags["loadable"] and (ratio is not None or flags["reference"]):
        raise ValueError(f"{where}: an exercise that takes no load has no e1rm_ratio")
    dose_unit = row.get("dose_unit", "reps")
    if dose_unit not in DOSE_UNITS:
        raise ValueError(f"{where}: dose_unit must be one of {', '.join(DOSE_UNITS)}")
    default_dose = row.get("default_dose")
    if dose_unit == "reps":
        if default_dose is not None:
            raise ValueError(f"{where}: default_dose is only for seconds or metres")
    elif isinstance(default_dose, bool) or not isinstance(default_dose, int) or default_dose < 1:
        raise ValueError(f"{where}: a {dose_unit!r} exercise needs a whole default_dose ≥ 1")
    if dose_unit != "reps" and ratio is not None:
        raise ValueError(f"{where}: e1rm_ratio needs a reps-based exercise")
    return ExerciseInfo(
        slug=slug,
        name=name.strip(),
        pattern=pattern,
        equipment=frozenset(equipment),
        primary_muscles=tuple(muscles),
        substitution_group=group,
        unilateral=unilateral,
        fatigue=fatigue,
        e1rm_ratio=ratio,
        dose_unit=dose_unit,
        default_dose=default_dose,
        **flags,
    )


def _check_exercises(exercises: tuple[ExerciseInfo, ...]) -> None:
    seen: dict[str, int] = {}
    references: dict[str, str] = {}
    for i, e in enumerate(exercises):
        if e.slug in seen:
            raise ValueError(
                f"exercises[{i}] ({e.slug!r}): duplicate slug (first at exercises[{seen[e.slug]}])"
            )
        seen[e.slug] = i
        if e.reference:
            if e.substitution_group in references:
                raise ValueError(
                    f"exercises[{i}] ({e.slug!r}): group {e.substitution_group!r} already has "
                    f"a reference lift ({references[e.substitution_group]!r})"
                )
            references[e.substitution_group] = e.slug
    for i, e in enumerate(exercises):
        if e.e1rm_ratio is not None and e.substitution_group not in references:
            raise ValueError(
                f"exercises[{i}] ({e.slug!r}): has an e1rm_ratio but group "
                f"{e.substitution_group!r} has no reference lift"
            )


def _parse_endurance(index: int, row: Mapping[str, object]) -> EnduranceSessionType:
    if not isinstance(row, Mapping):
        raise ValueError(f"endurance_sessions[{index}]: each row must be an object")
    where = _where("endurance_sessions", index, row)
    slug = row.get("slug")
    if not isinstance(slug, str) or not _SLUG.match(slug):
        raise ValueError(f"{where}: slug must be kebab-case")
    name = row.get("name")
    if not isinstance(name, str) or not name.strip():
        raise ValueError(f"{where}: name is required")
    sport = row.get("sport")
    if sport not in SPORTS:
        raise ValueError(f"{where}: sport must be one of {', '.join(SPORTS)}")
    zone = row.get("zone")
    if isinstance(zone, bool) or zone not in (1, 2, 3, 4, 5):
        raise ValueError(f"{where}: zone must be 1–5")
    structure = row.get("structure")
    if structure not in STRUCTURES:
        raise ValueError(f"{where}: structure must be one of {', '.join(STRUCTURES)}")
    low, high = row.get("min_minutes"), row.get("max_minutes")
    if not all(isinstance(v, int) and not isinstance(v, bool) for v in (low, high)) or not (
        0 < low <= high
    ):
        raise ValueError(f"{where}: need whole minutes with 0 < min_minutes ≤ max_minutes")
    description = row.get("description", "")
    if not isinstance(description, str):
        raise ValueError(f"{where}: description must be text")
    return EnduranceSessionType(
        slug=slug,
        name=name.strip(),
        sport=sport,
        zone=zone,
        structure=structure,
        min_minutes=low,
        max_minutes=high,
        description=description,
    )
