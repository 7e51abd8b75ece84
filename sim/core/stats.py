"""Confidence intervals: the one t-interval every KPI, difference and stopping rule uses over replications, and
the Wilson interval of a proportion (how often a set-up meets its targets over sampled assumptions)."""

from __future__ import annotations

import numpy as np
from scipy.special import stdtrit  # the Student t quantile, as scipy.stats.t.ppf computes it

CONFIDENCE = 0.95
_UPPER = 0.975  # the t quantile of a two-sided 95% interval


def t_half_width(sd: np.ndarray | float, n: np.ndarray | int) -> np.ndarray:
    """Half-width of the 95% Student t-interval of a mean of n values with standard deviation sd (NaN if n < 2)."""
    n = np.asarray(n, dtype=float)
    half = stdtrit(np.maximum(n - 1, 1), _UPPER) * np.asarray(sd, dtype=float) / np.sqrt(np.maximum(n, 1))
    return np.where(n > 1, half, np.nan)


def wilson_interval(p: float, n: int, z: float = 1.96) -> tuple[float, float]:
    """The 95% Wilson score interval of a proportion p out of n (sound near 0 and 1, where the normal one is not)."""
    centre = (p + z * z / (2 * n)) / (1 + z * z / n)
    half = z * np.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / (1 + z * z / n)
    return max(0.0, centre - half), min(1.0, centre + half)
