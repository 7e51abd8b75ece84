"""Which assumptions matter: global sensitivity of the KPIs to uncertain settings (Morris screening, Sobol indices).

SALib draws the design (Morris trajectories, or Saltelli's sequence for Sobol) over the settings' bounds and
computes the indices; every point is a full run of the model on the same seed, so the points share common
random numbers and a setting with no effect on a KPI gets an index of exactly 0.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence

import numpy as np
import pandas as pd

from sim.core.errors import InputError

METHODS = ("morris", "sobol")
DEFAULT_KPIS: tuple[str, ...] = (
    "share_wait_le_20min", "queue_wait_min_mean", "access_delay_days_mean", "share_needs_met_within_7d",
    "reneged", "cost_per_served",
)


def problem_of(bounds: Mapping[str, tuple[float, float]]) -> dict:
    """SALib's problem definition; InputError naming a setting whose bounds are not low < high, finite."""
    for name, (low, high) in bounds.items():
        if not (np.isfinite(low) and np.isfinite(high) and low < high):
            raise InputError(f"sensitivity.bounds.{name}", f"needs finite low < high, got [{low}, {high}]")
    return {"num_vars": len(bounds), "names": list(bounds), "bounds": [list(map(float, b)) for b in bounds.values()]}


def design(problem: dict, method: str, trajectories: int = 10, n: int = 64, levels: int = 4, seed: int = 0) -> np.ndarray:
    """The points to run: Morris trajectories (trajectories x (k + 1) points) or Saltelli's n x (k + 2)."""
    from SALib.sample import morris, sobol

    if method == "morris":
        return morris.sample(problem, trajectories, num_levels=levels, seed=seed)
    if method == "sobol":
        return sobol.sample(problem, n, calc_second_order=False, seed=seed)
    raise InputError("sensitivity.method", f"must be one of {', '.join(METHODS)}, got {method!r}")


def indices(problem: dict, points: np.ndarray, values: Mapping[str, np.ndarray], method: str, levels: int = 4,
            seed: int = 0) -> pd.DataFrame:
    """One row per (parameter, KPI): Morris mu_star, its 95% CI half-width, sigma, mu; or Sobol S1, ST and theirs."""
    from SALib.analyze import morris, sobol

    rows = []
    for kpi, y in values.items():
        y = np.asarray(y, dtype=float)
        if method == "morris":
            r = morris.analyze(problem, points, y, num_levels=levels, seed=seed)
            cols = {"mu_star": r["mu_star"], "mu_star_conf": r["mu_star_conf"], "sigma": r["sigma"], "mu": r["mu"]}
        else:
            r = sobol.analyze(problem, y, calc_second_order=False, seed=seed)
            cols = {"S1": r["S1"], "S1_conf": r["S1_conf"], "ST": r["ST"], "ST_conf": r["ST_conf"]}
        for i, name in enumerate(problem["names"]):
            rows.append({"parameter": name, "kpi": kpi, **{c: float(np.asarray(v)[i]) for c, v in cols.items()}})
    return pd.DataFrame(rows)


def design_point(method: str, bounds: Mapping[str, Sequence[float]], trajectories: int, n: int, levels: int,
                 seed: int, point: int) -> dict[str, float]:
    """The settings of point `point` of a design (the same design for every point: it depends on the seed only)."""
    problem = problem_of({name: (float(pair[0]), float(pair[1])) for name, pair in bounds.items()})
    return dict(zip(problem["names"], design(problem, method, trajectories, n, levels, seed)[point].tolist()))


SENSITIVITY_CSV = "sensitivity.csv"
SENSITIVITY_FIGURE = "sensitivity"


def sweep_indices(sweep: pd.DataFrame, method: str, bounds: Mapping[str, Sequence[float]], trajectories: int, n: int,
                  levels: int, seed: int, kpis: Sequence[str] = DEFAULT_KPIS) -> pd.DataFrame:
    """The indices of a finished experiment=sensitivity sweep, from its table (one row per design point)."""
    problem = problem_of({name: (float(pair[0]), float(pair[1])) for name, pair in bounds.items()})
    points = design(problem, method, trajectories, n, levels, seed)
    rows = sweep.sort_values("sensitivity.point")
    if list(rows["sensitivity.point"]) != list(range(len(points))):
        raise InputError("sensitivity.point", f"the sweep must hold every point 0..{len(points) - 1} of the design")
    table = indices(problem, points, {k: rows[k].to_numpy(float) for k in kpis if k in rows}, method, levels, seed)
    table.attrs["points"] = len(points)
    return table


def point_overrides(problem: dict, point: np.ndarray, integers: Sequence[str] = ()) -> list[str]:
    """The overrides of one design point (settings in `integers` rounded)."""
    return [f"{name}={int(round(v)) if name in integers else repr(float(v))}" for name, v in zip(problem["names"], point)]


def sensitivity(run: Callable[[list[str]], Mapping[str, float]], bounds: Mapping[str, tuple[float, float]],
                method: str = "morris", trajectories: int = 10, n: int = 64, overrides: Sequence[str] = (),
                kpis: Sequence[str] = DEFAULT_KPIS, levels: int = 4, seed: int = 0,
                integers: Sequence[str] = ()) -> pd.DataFrame:
    """Global sensitivity of `kpis` to the settings in `bounds` (dotted config paths: [low, high]).

    Every point of the design runs `overrides` plus its values on the same seed; `run` maps a list of
    overrides to a summary (`sim.sensitivity` passes the model's)."""
    problem = problem_of(bounds)
    points = design(problem, method, trajectories, n, levels, seed)
    values: dict[str, list[float]] = {k: [] for k in kpis}
    for point in points:
        summary = run([*overrides, *point_overrides(problem, point, integers)])
        for k in kpis:
            values[k].append(float("nan") if summary.get(k) is None else float(summary[k]))
    table = indices(problem, points, {k: np.array(v) for k, v in values.items()}, method, levels, seed)
    table.attrs["points"] = len(points)
    return table
