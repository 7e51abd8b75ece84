"""Citizens' needs per commune x operator x time, and the time each takes at the desk.

Needs are a Poisson process per commune x operator whose rate is population / 1000 x rate per working day
x uptake x operator share x weekday profile. The whole run's needs are drawn at once, vectorised: a
Poisson count per commune x operator, then a day for each need (weighted by the weekday profile) and a
uniform time within that day, which is the same process as drawing day by day.
"""

from __future__ import annotations

from dataclasses import dataclass

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


def generate_needs(rate_per_day: np.ndarray, weekday_profile: np.ndarray, days: int, rng: np.random.Generator) -> Needs:
    """Draw every need of a run of `days` days from the commune x operator daily rates."""
    weights = np.resize(np.asarray(weekday_profile, dtype=float), days)
    counts = rng.poisson(rate_per_day * weights.sum())
    flat = counts.ravel()
    n = int(flat.sum())
    cell = np.repeat(np.arange(flat.size, dtype=np.int64), flat)
    day = rng.choice(days, size=n, p=weights / weights.sum())
    time = day * DAY_MIN + rng.random(n) * DAY_MIN
    order = np.argsort(time, kind="stable")
    n_ops = rate_per_day.shape[1]
    return Needs(
        time_min=time[order],
        commune=(cell[order] // n_ops).astype(np.int32),
        operator=(cell[order] % n_ops).astype(np.int8),
    )


def service_times(operator: np.ndarray, median_min: np.ndarray, sigma: float, distribution: str, rng: np.random.Generator) -> np.ndarray:
    """Time at the desk per request: lognormal with the operator's median, or exponential with that median."""
    med = median_min[operator]
    if distribution == "exponential":
        return rng.exponential(med / np.log(2.0))
    return med * np.exp(sigma * rng.standard_normal(len(operator)))
