"""Unusual days: an IsolationForest over one athlete's own check-ins and wearable data.

SCIENCE.md §6. The forest is fitted on the athlete's last `WINDOW_DAYS` days once at
least `MIN_DAYS` days with data exist, and answers "is today unlike this athlete's
normal?" — never "unlike other athletes". A forest can say *that* a day is unusual but
not *why*, so the drivers are the features furthest from the athlete's own mean in SDs
(|z|), and the sentence names the top ones ("resting HR 12 bpm above your usual, HRV
low").

Two rules make a day unusual, and the result says which fired:
- the forest: `decision_function < 0` with `contamination=CONTAMINATION` (1 %), i.e. the
  day isolates faster than all but the strangest 1 % of the athlete's own training days.
  Not the paper's fixed 0.5 cut (`contamination="auto"`): on ~60 days with 1–5 ratings
  it called 30–70 % of ordinary training days unusual in our synthetic checks.
- extreme values: any feature ≥ `Z_EXTREME` (3.5) SDs from the athlete's mean. A forest
  only sees where a value falls within the training range, so "15 bpm above anything
  seen" scores like "the highest resting HR of the last two months"; this rule is what
  lets magnitude count. Measured on synthetic normal athletes (fit on 60 days, score the
  next 30): about 3 % of ordinary days flagged by the forest, about 4 % by either rule.

Cost: fitting is the expensive part (100 trees on ~60×8: 0.1–0.2 s, see
`programs.ml.bench`), scoring a stored model is ~20× cheaper. The nightly job scores
with the stored model and refits when `needs_refit` says so, on the athlete's
`refit_weekday` so the fits spread across the week.
"""

from __future__ import annotations

import math
import pickle
import statistics
import zlib
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, timedelta
from importlib.metadata import version as _package_version
from typing import Any, SupportsFloat

from programs.ml.common import Insufficient, finite, fmt

# Bump when the features, preprocessing or estimator settings change: stored models of
# another version are refused by `loads` and refitted.
MODEL_VERSION = "anomaly-1"
FEATURES: tuple[str, ...] = (
    "sleep_hours",
    "sleep_quality",  # 1 poor … 5 great
    "soreness",  # 1 none … 5 very sore
    "stress",  # 1 calm … 5 very stressed
    "mood",  # 1 low … 5 great
    "ln_rmssd",  # natural log of rMSSD in ms (see `checkin_row`)
    "resting_hr_bpm",
    "body_weight_kg",
)
MIN_DAYS = 28  # days with any feature before a model is fitted
WINDOW_DAYS = 90  # the athlete's recent normal, not the one of last year
MIN_FEATURE_DAYS = 7  # a feature seen on fewer training days is left out of the model
N_ESTIMATORS = 100
CONTAMINATION = 0.01  # share of the athlete's own training days the forest calls unusual
THRESHOLD = 0.0  # decision_function below this → unusual (see module docstring)
Z_EXTREME = 3.5  # |z| at which one feature alone makes the day unusual
DRIVER_Z = 2.0  # |z| from which a feature is named as a driver
MAX_NAMED = 3
REFIT_DAYS = 7  # refit weekly, or once this many new days have arrived
# Floors for the SD in z: a change smaller than what the input can resolve (half a point
# on a 1–5 scale, 1 bpm, …) is never "unusual", even for an athlete who always types 3.
MIN_SD: Mapping[str, float] = {
    "sleep_hours": 0.25,
    "sleep_quality": 0.5,
    "soreness": 0.5,
    "stress": 0.5,
    "mood": 0.5,
    "ln_rmssd": 0.05,
    "resting_hr_bpm": 1.0,
    "body_weight_kg": 0.3,
}
_MAGNITUDE_UNITS = {
    "resting_hr_bpm": ("resting HR", "bpm", 0),
    "body_weight_kg": ("body weight", "kg", 1),
}
# feature → (word when high, word when low)
_WORDS = {
    "sleep_quality": ("sleep quality better than usual", "sleep quality poor"),
    "soreness": ("soreness high", "soreness low"),
    "stress": ("stress high", "stress low"),
    "mood": ("mood high", "mood low"),
    "ln_rmssd": ("HRV high", "HRV low"),
}


def _sklearn_version() -> str:
    return _package_version("scikit-learn")


@dataclass(frozen=True, kw_only=True)
class AnomalyModel:
    version: str
    sklearn_version: str
    fitted_on: date
    n_days: int  # training days (days with at least one feature)
    window_start: date
    features: tuple[str, ...]  # the features the forest uses, in column order
    medians: Mapping[str, float]  # imputation for missing values
    means: Mapping[str, float]
    sds: Mapping[str, float]  # population SD, before the MIN_SD floor
    random_state: int
    estimator: Any = field(compare=False, repr=False)  # fitted sklearn IsolationForest
    reason: str


@dataclass(frozen=True, kw_only=True)
class Driver:
    feature: str
    value: float  # today's value (the median when imputed)
    usual: float  # the athlete's mean
    sd: float  # the SD used for z (floored at MIN_SD)
    z: float
    imputed: bool  # missing today: filled with the median, never named as a driver


@dataclass(frozen=True, kw_only=True)
class AnomalyScore:
    score: float  # forest decision_function: lower is stranger
    threshold: float  # the forest calls the day unusual below this
    forest_unusual: bool  # score < threshold
    extreme: tuple[str, ...]  # features with |z| ≥ Z_EXTREME
    is_anomaly: bool  # forest_unusual or any extreme feature
    drivers: tuple[Driver, ...]  # every model feature, by |z| descending
    named: tuple[str, ...]  # the features the sentence names
    model_version: str
    fitted_on: date
    reason: str


def checkin_row(
    *,
    sleep_hours: SupportsFloat | None = None,
    sleep_quality: SupportsFloat | None = None,
    soreness: SupportsFloat | None = None,
    stress: SupportsFloat | None = None,
    mood: SupportsFloat | None = None,
    hrv_rmssd_ms: SupportsFloat | None = None,
    resting_hr_bpm: SupportsFloat | None = None,
    body_weight_kg: SupportsFloat | None = None,
) -> dict[str, float | None]:
    """A feature row from check-in fields as stored (rMSSD in ms → ln rMSSD).

    HRV is modelled on the log scale because rMSSD is right-skewed (SCIENCE.md §3).
    """
    raw = {
        "sleep_hours": sleep_hours,
        "sleep_quality": sleep_quality,
        "soreness": soreness,
        "stress": stress,
        "mood": mood,
        "ln_rmssd": None,
        "resting_hr_bpm": resting_hr_bpm,
        "body_weight_kg": body_weight_kg,
    }
    if hrv_rmssd_ms is not None:
        rmssd = finite(hrv_rmssd_ms, "hrv_rmssd_ms")
        if rmssd <= 0:
            raise ValueError(f"hrv_rmssd_ms must be > 0, got {hrv_rmssd_ms}")
        raw["ln_rmssd"] = math.log(rmssd)
    return {k: None if v is None else finite(v, k) for k, v in raw.items()}


def _clean(row: Mapping[str, SupportsFloat | None]) -> dict[str, float]:
    return {f: finite(row[f], f) for f in FEATURES if row.get(f) is not None}


def fit_anomaly(
    rows: Mapping[date, Mapping[str, SupportsFloat | None]],
    *,
    today: date,
    random_state: int = 0,
) -> AnomalyModel | Insufficient:
    """Fit the athlete's forest on the `WINDOW_DAYS` days up to `today`.

    Missing values are filled with the athlete's own median for that feature, so a
    skipped field looks ordinary rather than extreme. `Insufficient` below `MIN_DAYS`.
    """
    window_start = today - timedelta(days=WINDOW_DAYS - 1)
    days = {
        day: clean
        for day, row in rows.items()
        if window_start <= day <= today and (clean := _clean(row))
    }
    if len(days) < MIN_DAYS:
        return Insufficient(
            reason=(
                f"{len(days)} of {MIN_DAYS} days of check-in or wearable data in the last "
                f"{WINDOW_DAYS} days: not enough to learn this athlete's normal yet"
            ),
            have=len(days),
            need=MIN_DAYS,
        )
    observed = {f: [r[f] for r in days.values() if f in r] for f in FEATURES}
    features = tuple(f for f in FEATURES if len(observed[f]) >= MIN_FEATURE_DAYS)
    if not features:
        return Insufficient(
            reason=f"No feature was recorded on {MIN_FEATURE_DAYS} or more days",
            have=max(len(v) for v in observed.values()),
            need=MIN_FEATURE_DAYS,
        )
    medians = {f: float(statistics.median(observed[f])) for f in features}
    means = {f: statistics.fmean(observed[f]) for f in features}
    sds = {f: statistics.pstdev(observed[f]) for f in features}
    matrix = [[row.get(f, medians[f]) for f in features] for _, row in sorted(days.items())]

    from sklearn.ensemble import IsolationForest

    estimator = IsolationForest(
        n_estimators=N_ESTIMATORS, contamination=CONTAMINATION, random_state=random_state
    )
    estimator.fit(matrix)
    left_out = [f for f in FEATURES if f not in features]
    return AnomalyModel(
        version=MODEL_VERSION,
        sklearn_version=_sklearn_version(),
        fitted_on=today,
        n_days=len(days),
        window_start=window_start,
        features=features,
        medians=medians,
        means=means,
        sds=sds,
        random_state=random_state,
        estimator=estimator,
        reason=(
            f"Fitted on {len(days)} days from {window_start.isoformat()} to "
            f"{today.isoformat()} over {len(features)} features"
            + (
                f"; left out (recorded on < {MIN_FEATURE_DAYS} days): {', '.join(left_out)}"
                if left_out
                else ""
            )
        ),
    )


def _phrase(driver: Driver) -> str:
    high = driver.z > 0
    delta = driver.value - driver.usual
    if driver.feature in _MAGNITUDE_UNITS:
        name, unit, digits = _MAGNITUDE_UNITS[driver.feature]
        side = "above" if high else "below"
        return f"{name} {fmt(abs(delta), digits)} {unit} {side} your usual"
    if driver.feature == "sleep_hours":
        return f"sleep {fmt(abs(delta), 1)} h {'more' if high else 'less'} than usual"
    return _WORDS[driver.feature][0 if high else 1]


def score_anomaly(model: AnomalyModel, row: Mapping[str, SupportsFloat | None]) -> AnomalyScore:
    """Score one day with the stored model; drivers are |z| against the athlete's own mean.

    A row without any of the model's features can't be scored: ValueError.
    """
    clean = _clean(row)
    if not any(f in clean for f in model.features):
        raise ValueError(f"nothing to score: the row has none of {', '.join(model.features)}")
    vector = [clean.get(f, model.medians[f]) for f in model.features]
    score = float(model.estimator.decision_function([vector])[0])
    forest_unusual = score < THRESHOLD
    drivers = []
    for feature, value in zip(model.features, vector, strict=True):
        sd = max(model.sds[feature], MIN_SD[feature])
        imputed = feature not in clean
        z = 0.0 if imputed else (value - model.means[feature]) / sd
        drivers.append(
            Driver(
                feature=feature,
                value=value,
                usual=model.means[feature],
                sd=sd,
                z=z,
                imputed=imputed,
            )
        )
    drivers.sort(key=lambda d: (-abs(d.z), model.features.index(d.feature)))
    extreme = tuple(d.feature for d in drivers if abs(d.z) >= Z_EXTREME)
    is_anomaly = forest_unusual or bool(extreme)
    strong = [d for d in drivers if abs(d.z) >= DRIVER_Z][:MAX_NAMED]
    score_text = f"forest score {fmt(score, 3)}"
    if is_anomaly and strong:
        named = strong
        reason = "Unusual: " + ", ".join(_phrase(d) for d in named) + "."
    elif is_anomaly:
        # The forest found a combination no single feature explains: name the nearest two.
        named = [d for d in drivers if not d.imputed and d.z != 0][:2]
        listed = ": " + ", ".join(_phrase(d) for d in named) if named else ""
        reason = f"Unusual combination for you{listed} ({score_text} < {fmt(THRESHOLD)})."
    else:
        named = strong
        furthest = "; furthest from usual: " + ", ".join(_phrase(d) for d in named) if named else ""
        reason = f"Within your usual range ({score_text} ≥ {fmt(THRESHOLD)}){furthest}."
    return AnomalyScore(
        score=score,
        threshold=THRESHOLD,
        forest_unusual=forest_unusual,
        extreme=extreme,
        is_anomaly=is_anomaly,
        drivers=tuple(drivers),
        named=tuple(d.feature for d in named),
        model_version=model.version,
        fitted_on=model.fitted_on,
        reason=reason,
    )


_MAGIC = b"programs.ml.anomaly"


def dumps(model: AnomalyModel) -> bytes:
    """Bytes to store the model: a plain-text header (versions) then the pickle.

    The header is read before unpickling so a stale model is refused without running
    any of its pickle.
    """
    header = b"\n".join([_MAGIC, model.version.encode(), model.sklearn_version.encode()])
    return header + b"\n" + pickle.dumps(model, protocol=pickle.HIGHEST_PROTOCOL)


def loads(data: bytes) -> AnomalyModel:
    """The model from `dumps`; ValueError if it was made by another model or sklearn version.

    Only ever call this on bytes this module wrote into our own database: unpickling
    runs code.
    """
    parts = data.split(b"\n", 3)
    if len(parts) != 4 or parts[0] != _MAGIC:
        raise ValueError("not a stored anomaly model")
    stored_version, stored_sklearn = parts[1].decode(), parts[2].decode()
    if stored_version != MODEL_VERSION:
        raise ValueError(
            f"stored anomaly model is version {stored_version!r}, this code is "
            f"{MODEL_VERSION!r}: refit it"
        )
    if stored_sklearn != _sklearn_version():
        raise ValueError(
            f"stored anomaly model was fitted with scikit-learn {stored_sklearn}, "
            f"{_sklearn_version()} is installed: refit it"
        )
    model = pickle.loads(parts[3])  # noqa: S301 - our own bytes, version-checked above
    if not isinstance(model, AnomalyModel):
        raise ValueError("stored bytes do not hold an anomaly model")
    return model


def needs_refit(
    model: AnomalyModel, today: date, new_days: int, *, weekday: int | None = None
) -> bool:
    """Whether the nightly job should refit rather than only score with `model`.

    Refit when `new_days` (days with data after `model.fitted_on`) reach `REFIT_DAYS` —
    e.g. a wearable sync that brought a month at once — or weekly while new data comes
    in: without `weekday`, once the model is ≥ 7 days old; with it (from
    `refit_weekday`), on that weekday, or on any day once the model is more than 7 days
    old so a missed night catches up. No new data → no refit: there is nothing to learn.
    A model of another version always needs a refit.
    """
    if model.version != MODEL_VERSION or model.sklearn_version != _sklearn_version():
        return True
    if new_days >= REFIT_DAYS:
        return True
    if new_days <= 0:
        return False
    age = (today - model.fitted_on).days
    if weekday is None:
        return age >= REFIT_DAYS
    if not 0 <= weekday <= 6:
        raise ValueError(f"weekday must be 0 (Monday) … 6 (Sunday), got {weekday}")
    return (today.weekday() == weekday and age >= 1) or age > REFIT_DAYS


def refit_weekday(athlete_id: int | str) -> int:
    """A stable weekday (0 = Monday) for the athlete's weekly refit.

    Sequential integer ids spread evenly by modulo; other ids (UUIDs) by CRC-32, which,
    unlike `hash()`, is the same in every process.
    """
    if isinstance(athlete_id, int) and not isinstance(athlete_id, bool):
        return athlete_id % 7
    return zlib.crc32(str(athlete_id).encode()) % 7
