"""Training load, fitness and fatigue (SCIENCE.md §2).

Units: minutes for sRPE and TRIMP, seconds for TSS (`duration_s`), watts, m/s, bpm.
Population standard deviations (ddof = 0). Out-of-range arguments raise `ValueError`.
"""

from __future__ import annotations

import math
import statistics
from collections.abc import Sequence

SEXES = ("male", "female")


def _non_negative(name: str, value: float) -> None:
    if value < 0 or math.isnan(value):
        raise ValueError(f"{name} must be ≥ 0, got {value}")


def _positive(name: str, value: float) -> None:
    if not value > 0:
        raise ValueError(f"{name} must be > 0, got {value}")


def session_rpe_load(rpe: float, minutes: float) -> float:
    """Foster's session-RPE load: CR-10 RPE × minutes (arbitrary units)."""
    if not 0 <= rpe <= 10:
        raise ValueError(f"session RPE must be 0–10, got {rpe}")
    _non_negative("minutes", minutes)
    return rpe * minutes


def _week(daily_loads_7: Sequence[float]) -> list[float]:
    loads = [float(x) for x in daily_loads_7]
    if len(loads) != 7:
        raise ValueError(f"monotony and strain need exactly 7 daily loads, got {len(loads)}")
    for load in loads:
        _non_negative("daily load", load)
    return loads


def monotony(daily_loads_7: Sequence[float]) -> float | None:
    """Mean / SD of a week's daily loads; None when every day is the same (SD = 0)."""
    loads = _week(daily_loads_7)
    sd = statistics.pstdev(loads)
    return None if sd == 0 else statistics.fmean(loads) / sd


def strain(daily_loads_7: Sequence[float]) -> float | None:
    """Weekly load × monotony (Foster 1998); None when monotony is undefined."""
    loads = _week(daily_loads_7)
    value = monotony(loads)
    return None if value is None else sum(loads) * value


def tss(duration_s: float, normalized_power: float, ftp: float) -> float:
    """Training Stress Score: one hour at FTP scores 100."""
    _non_negative("duration_s", duration_s)
    _non_negative("normalized_power", normalized_power)
    _positive("ftp", ftp)
    intensity_factor = normalized_power / ftp
    return duration_s * normalized_power * intensity_factor / (ftp * 3600) * 100


def run_tss(duration_s: float, ngp_speed: float, threshold_speed: float) -> float:
    """Running TSS: TSS's form with normalised graded pace (m/s) for power."""
    return tss(duration_s, ngp_speed, threshold_speed)


def trimp(minutes: float, hr_avg: float, hr_rest: float, hr_max: float, sex: str) -> float:
    """Banister's TRIMP with the sex-specific weighting of heart-rate reserve."""
    if sex not in SEXES:
        raise ValueError(f"sex must be 'male' or 'female', got {sex!r}")
    _non_negative("minutes", minutes)
    if not 0 < hr_rest < hr_max:
        raise ValueError(f"need 0 < hr_rest < hr_max, got rest {hr_rest}, max {hr_max}")
    if not hr_rest <= hr_avg <= hr_max:
        raise ValueError(f"hr_avg must lie between rest and max, got {hr_avg}")
    hrr = (hr_avg - hr_rest) / (hr_max - hr_rest)
    a, b = (0.64, 1.92) if sex == "male" else (0.86, 1.67)
    return minutes * hrr * a * math.exp(b * hrr)


def pmc(
    daily_loads: Sequence[float],
    ctl0: float = 0.0,
    atl0: float = 0.0,
    ctl_days: float = 42.0,
    atl_days: float = 7.0,
) -> list[tuple[float, float, float]]:
    """Performance Manager: (CTL, ATL, TSB) per day.

    TrainingPeaks convention: CTL_t = CTL_{t−1} + (L_t − CTL_{t−1})/42, likewise ATL with 7,
    and form is *yesterday's* fitness minus yesterday's fatigue: TSB_t = CTL_{t−1} − ATL_{t−1}.
    """
    _positive("ctl_days", ctl_days)
    _positive("atl_days", atl_days)
    ctl, atl = float(ctl0), float(atl0)
    out = []
    for load in daily_loads:
        _non_negative("daily load", load)
        tsb = ctl - atl
        ctl += (load - ctl) / ctl_days
        atl += (load - atl) / atl_days
        out.append((ctl, atl, tsb))
    return out


ACWR_ACUTE_DAYS = 7
ACWR_CHRONIC_DAYS = 28


def acwr(daily_loads: Sequence[float]) -> list[float | None]:
    """EWMA acute:chronic workload ratio per day (Williams et al. 2017).

    λa = 2/(7+1), λc = 2/(28+1), both averages seeded with the first day's load. None for
    the first 27 days (too little history for a chronic load) and where chronic is 0.
    """
    lam_a = 2 / (ACWR_ACUTE_DAYS + 1)
    lam_c = 2 / (ACWR_CHRONIC_DAYS + 1)
    out: list[float | None] = []
    acute = chronic = 0.0
    for day, load in enumerate(daily_loads):
        _non_negative("daily load", load)
        if day == 0:
            acute = chronic = float(load)
        else:
            acute = lam_a * load + (1 - lam_a) * acute
            chronic = lam_c * load + (1 - lam_c) * chronic
        if day < ACWR_CHRONIC_DAYS - 1 or chronic == 0:
            out.append(None)
        else:
            out.append(acute / chronic)
    return out


def riegel(
    time_s: float, distance_m: float, target_distance_m: float, exponent: float = 1.06
) -> float:
    """Predicted time over another distance: T2 = T1 · (D2/D1)^1.06 (Riegel 1981)."""
    _positive("time_s", time_s)
    _positive("distance_m", distance_m)
    _positive("target_distance_m", target_distance_m)
    _positive("exponent", exponent)
    return time_s * (target_distance_m / distance_m) ** exponent
