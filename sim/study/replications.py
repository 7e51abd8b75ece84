"""How many replications: add them until the 95% CIs of chosen KPIs are precise enough.

The replications algorithm of Hoad, Robinson & Davies (2010), as in the sim-tools package: after each
replication n >= `min_replications`, the relative precision of every chosen KPI, the CI half-width
t(0.975, n-1) s / sqrt(n) over |mean|, is compared with the target. The smallest n at which every KPI is
within target, and stays so for the next `look_ahead` replications (5% of n beyond 100), is the number
needed; the run stops there, or at `max_replications`. Replication r always draws from its own streams,
so an automatic run that stops after N replications gives the numbers of a run of N fixed replications.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

from sim.core.stats import t_half_width


def relative_precision(values: list[float]) -> float:
    """CI half-width over |mean| of replication values (inf if undefined: fewer than 2, NaN, or mean 0 with spread)."""
    x = np.asarray(values, dtype=float)
    if len(x) < 2 or not np.isfinite(x).all():
        return math.inf
    half = float(t_half_width(x.std(ddof=1), len(x)))
    mean = abs(float(x.mean()))
    if half == 0:
        return 0.0
    return half / mean if mean > 0 else math.inf


def look_ahead_for(n: int, look_ahead: int) -> int:
    """Replications that must confirm a solution at n: `look_ahead`, or look_ahead% of n beyond 100 (Hoad et al.)."""
    return look_ahead if n <= 100 else math.floor(look_ahead * n / 100)


@dataclass
class PrecisionRule:
    """Follows the KPIs replication by replication and says when the precision target is reached for good."""

    kpis: list[str]
    target: float
    min_replications: int
    max_replications: int
    look_ahead: int
    values: dict[str, list[float]] = field(default_factory=dict)
    needed: int | None = None  # smallest n within target, confirmed by the look-ahead
    candidate: int | None = None  # within target since this n, not yet confirmed

    def add(self, kpis: dict[str, float]) -> None:
        """Record one replication's overall KPIs."""
        for kpi in self.kpis:
            self.values.setdefault(kpi, []).append(kpis[kpi])
        n = self.count
        if n < self.min_replications or self.needed is not None:
            return
        if max(self.precision().values()) <= self.target:
            self.candidate = self.candidate or n
            if n >= self.candidate + look_ahead_for(self.candidate, self.look_ahead):
                self.needed = self.candidate
        else:
            self.candidate = None

    @property
    def count(self) -> int:
        """Replications recorded."""
        return len(self.values[self.kpis[0]]) if self.values else 0

    def done(self) -> bool:
        """Whether to stop: precision reached and confirmed, or the cap reached."""
        return self.needed is not None or self.count >= self.max_replications

    def precision(self) -> dict[str, float]:
        """Current relative precision of each KPI."""
        return {kpi: relative_precision(self.values[kpi]) for kpi in self.kpis}

    def report(self) -> dict:
        """What summary.json says about it: target, replications needed (None if the cap came first), precision."""
        return {
            "target": self.target,
            "needed": self.needed,
            "precision": {k: (v if math.isfinite(v) else None) for k, v in self.precision().items()},
        }
