"""Citizens' needs per commune x operator x time, and the time each takes at the desk.

Needs are a Poisson process per commune x operator whose rate is population / 1000 x rate per working day
x uptake x operator share x a weight per day: the weekday profile, 0 on closed days (before the start, public
holidays of the commune's calendar), the operator's monthly profile and the adoption ramp (`day_weights`).
The whole run's needs are drawn at once, vectorised: a Poisson count per commune x operator, then a day for
each need (weighted by its calendar group's and operator's weights) and a uniform time within that day,
which is the same process as drawing day by day.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, timedelta

import numpy as np

from sim.core.units import DAY_MIN

OPERATORS: tuple[str, ...] = (
    "la_poste", "caf", "pole_emploi", "cnam", "cnav", "msa", "interieur", "justice", "dgfip",
)
"""The nine national operators whose paperwork France Services handles."""


@dataclass(frozen=True)
class Needs:
    """Needs sorted by the time they arise (minutes from the start of the run)."""

    time_min: np.ndarray  # float64
    commune: np.ndarray  # int32
    operator: np.ndarray  # int8

    def __len__(self) -> int:
        return len(self.time_min)


def daily_rate(population: np.ndarray, rate_per_1000_per_day: float, uptake: float, operator_share: np.ndarray) -> np.ndarray:
    """Expected needs per working day, commune x operator."""
    return (population / 1000.0 * rate_per_1000_per_day * uptake)[:, None] * operator_share[None, :]


def day_weights(open_days: np.ndarray, start: date, weekday_profile: Sequence[float],
                monthly_profile: np.ndarray, ramp: np.ndarray) -> np.ndarray:
    """(calendar groups, operators, days) weights of the daily rate: weekday profile x open day x the operator's
    month weight (`monthly_profile`, operators x 12, mean 1) x the adoption ramp (per day, 1 without one)."""
    days = open_days.shape[1]
    day0 = start - timedelta(days=start.weekday())
    months = np.array([(day0 + timedelta(days=d)).month - 1 for d in range(days)])
    weekday = np.resize(np.asarray(weekday_profile, dtype=float), days)
    per_day = weekday * np.asarray(ramp, dtype=float)  # days
    return open_days[:, None, :] * monthly_profile[None, :, months] * per_day[None, None, :]


def adoption_ramp(days: int, uptake: float, mature: float | None, months: float) -> np.ndarray:
    """Per day, the uptake relative to the launch `uptake`: 1 without a ramp; else a logistic from `uptake` at
    day 0 to `mature`, halfway at `months` / 2 and 99% of the way at `months` (30.44 days a month)."""
    if months <= 0 or mature is None:
        return np.ones(days)
    length = months * 30.44
    s = 1.0 / (1.0 + np.exp(-(np.arange(days) + 0.5 - length / 2) / (length / (2 * np.log(99.0)))))
    return 1.0 + (mature / uptake - 1.0) * s


def generate_needs(rate_per_day: np.ndarray, weights: np.ndarray, commune_group: np.ndarray,
                   rng: np.random.Generator) -> Needs:
    """Draw every need of a run from the commune x operator daily rates and the (group, operator, day) weights."""
    groups, n_ops, days = weights.shape
    totals = weights.sum(axis=2)  # group x operator
    counts = rng.poisson(rate_per_day * totals[commune_group])
    flat = counts.ravel()
    n = int(flat.sum())
    cell = np.repeat(np.arange(flat.size, dtype=np.int64), flat)
    commune, operator = cell // n_ops, cell % n_ops
    key = commune_group[commune].astype(np.int64) * n_ops + operator
    day = np.empty(n, dtype=np.int64)
    for k in np.unique(key):  # one draw of days per calendar group x operator
        g, o = divmod(int(k), n_ops)
        where = np.flatnonzero(key == k)
        day[where] = rng.choice(days, size=len(where), p=weights[g, o] / totals[g, o])
    time = day * DAY_MIN + rng.random(n) * DAY_MIN
    order = np.argsort(time, kind="stable")
    return Needs(time_min=time[order], commune=commune[order].astype(np.int32), operator=operator[order].astype(np.int8))


def service_times(operator: np.ndarray, median_min: np.ndarray, sigma: float, distribution: str, rng: np.random.Generator) -> np.ndarray:
    """Time at the desk per request: lognormal with the operator's median, or exponential with that median."""
    med = median_min[operator]
    if distribution == "exponential":
        return rng.exponential(med / np.log(2.0))
    return med * np.exp(sigma * rng.standard_normal(len(operator)))
