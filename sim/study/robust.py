"""A robust recommendation: the cheapest set-up that meets the service targets with a chosen probability when the
uncertain assumptions range over their bounds.

Each candidate set-up (a list of overrides, e.g. the best runs of a sweep) is run at the same sample of the
assumptions (a Latin hypercube over their bounds, every run on the same seed: common random numbers); a
set-up's probability is the share of the sample where it meets every target.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence

import numpy as np
import pandas as pd
from scipy.stats import qmc

from sim.core.errors import InputError
from sim.core.stats import wilson_interval
from sim.study.optimise import Target
from sim.study.sensitivity import point_overrides, problem_of

ROBUST_CSV = "robust.csv"


def assumption_sample(bounds: Mapping[str, Sequence[float]], samples: int, seed: int = 0) -> tuple[dict, np.ndarray]:
    """SALib-style problem and a Latin hypercube sample of `samples` points over the bounds."""
    if samples < 1:
        raise InputError("--samples", f"must be >= 1, got {samples}")
    problem = problem_of({name: (float(p[0]), float(p[1])) for name, p in bounds.items()})
    unit = qmc.LatinHypercube(d=problem["num_vars"], seed=seed).random(samples)
    low, high = np.array(problem["bounds"]).T
    return problem, low + unit * (high - low)


def robust(run: Callable[[list[str]], Mapping[str, float]], setups: Mapping[str, Sequence[str]],
           bounds: Mapping[str, Sequence[float]], targets: Sequence[Target], cost: str = "cost_per_served",
           samples: int = 20, probability: float = 0.8, seed: int = 0, integers: Sequence[str] = ()) -> pd.DataFrame:
    """One row per set-up: the probability of meeting every target under the uncertain assumptions (with a 95%
    Wilson interval), the mean and 90th percentile of `cost`, and `recommended` for the cheapest (by mean cost)
    of those whose probability reaches `probability`."""
    if not 0 < probability <= 1:
        raise InputError("--probability", f"must be in (0, 1], got {probability}")
    problem, points = assumption_sample(bounds, samples, seed)
    rows = []
    for name, setup in setups.items():
        met, costs = [], []
        for point in points:
            summary = run([*setup, *point_overrides(problem, point, integers)])
            one = pd.DataFrame([{t.kpi: summary.get(t.kpi) for t in targets}])
            met.append(bool(all(t.met(one, use_ci=False).iloc[0] for t in targets)))
            costs.append(float("nan") if summary.get(cost) is None else float(summary[cost]))
        p, n = float(np.mean(met)), len(met)
        low, high = wilson_interval(p, n)
        rows.append({"setup": name, "p_meets_targets": p, "p_ci_low": low, "p_ci_high": high,
                     f"{cost}_mean": float(np.nanmean(costs)), f"{cost}_p90": float(np.nanpercentile(costs, 90)),
                     "samples": n})
    table = pd.DataFrame(rows)
    able = table[table["p_meets_targets"] >= probability - 1e-12]
    table["recommended"] = False
    if not able.empty:
        table.loc[able[f"{cost}_mean"].idxmin(), "recommended"] = True
    return table
