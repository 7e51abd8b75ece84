"""Confidence intervals over replications: the one t-interval every KPI, difference and stopping rule uses."""

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
