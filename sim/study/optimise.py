"""The optimiser: from a sweep table, the least-cost run meeting service targets, and the Pareto front.

A sweep table has one row per run: `run`, the swept parameters, `status`, `error`, then every headline KPI
with `<kpi>_ci_low`/`<kpi>_ci_high` (`sweep.parquet`, `sim.api.run_grid`). Targets come from the config
node `optimise` (e.g. `share_wait_le_20min: ">= 0.9"`); `pareto.csv` holds the runs that no other run
beats on cost and every target KPI at once.
"""

from __future__ import annotations

import operator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Sequence

import numpy as np
import pandas as pd

from sim.config import OptimiseConfig, parse_target
from sim.core.errors import InputError
from sim.study.outputs import write_atomic

PARETO = "pareto.csv"


def nondominated(values: np.ndarray) -> np.ndarray:
    """Rows that no other row beats (lower is better in every column): no row is <= on all and < on one.

    Rows with a missing value are never on the front. The one Pareto rule of the package.
    """
    values = np.asarray(values, dtype=float)
    valid = ~np.isnan(values).any(axis=1)
    front = valid.copy()
    others = values[valid]
    for i in np.flatnonzero(valid):
        front[i] = not ((others <= values[i]).all(axis=1) & (others < values[i]).any(axis=1)).any()
    return front


def swept_columns(table: pd.DataFrame) -> list[str]:
    """The swept-parameter columns of a sweep table: between `run` and `status`, else the dotted config paths."""
    cols = list(table.columns)
    if "run" in cols and "status" in cols:
        return cols[cols.index("run") + 1:cols.index("status")]
    return [c for c in cols if "." in c]


OPERATORS: dict[str, Callable[[Any, Any], Any]] = {">=": operator.ge, "<=": operator.le, ">": operator.gt, "<": operator.lt}


@dataclass(frozen=True)
class Target:
    """A service target on one KPI, e.g. share_wait_le_20min >= 0.9."""

    kpi: str
    op: str
    value: float

    @property
    def higher_is_better(self) -> bool:
        """Whether the KPI is to be maximised (a lower bound) or minimised (an upper bound)."""
        return self.op in (">=", ">")

    def met(self, table: pd.DataFrame, use_ci: bool) -> pd.Series:
        """Rows meeting the target: by the mean, or with use_ci by the CI bound on the wrong side."""
        column = self.kpi
        if use_ci:
            column = f"{self.kpi}_ci_low" if self.higher_is_better else f"{self.kpi}_ci_high"
        values = pd.to_numeric(table[column], errors="coerce")
        return OPERATORS[self.op](values, self.value) & values.notna()

    def __str__(self) -> str:
        return f"{self.kpi} {self.op} {self.value:g}"


def targets_of(options: OptimiseConfig) -> list[Target]:
    """The targets of the `optimise` node as `Target`s."""
    return [Target(kpi, *parse_target(f"optimise.targets.{kpi}", text)) for kpi, text in options.targets.items()]


def pareto_mask(table: pd.DataFrame, cost: str, targets: Sequence[Target]) -> pd.Series:
    """Runs that no other run beats: as cheap or cheaper and as good or better on every target KPI, and better on one."""
    columns = [cost] + [t.kpi for t in targets]
    signs = [1.0] + [-1.0 if t.higher_is_better else 1.0 for t in targets]  # lower is better after the sign
    values = table[columns].apply(pd.to_numeric, errors="coerce").to_numpy(float) * signs
    return pd.Series(nondominated(values), index=table.index)


@dataclass
class Optimum:
    """The optimiser's answer: the least-cost run meeting every target (None if none does) and the Pareto front."""

    best: pd.Series | None
    pareto: pd.DataFrame
    targets: list[Target]
    cost: str

    def describe(self, params: Sequence[str]) -> str:
        """One line: the set-up chosen, its cost and service levels."""
        if self.best is None:
            return "no run meets the targets"
        setup = " ".join(f"{p}={_shown(self.best[p])}" for p in params)
        kpis = ", ".join(f"{k} {_shown(self.best[k])}" for k in [self.cost] + [t.kpi for t in self.targets])
        return f"least {self.cost} meeting {' and '.join(map(str, self.targets))}: {setup} (run {self.best['run']}): {kpis}"


def _shown(value: Any) -> str:
    return f"{value:.4g}" if isinstance(value, float) else str(value)


def optimise(table: pd.DataFrame, options: OptimiseConfig) -> Optimum:
    """The least-cost run of a sweep table meeting the targets, and the Pareto front of cost against the target KPIs."""
    targets = targets_of(options)
    for field, kpi in [("optimise.cost", options.cost)] + [(f"optimise.targets.{t.kpi}", t.kpi) for t in targets]:
        if kpi not in table.columns:
            known = [c for c in table.columns if f"{c}_ci_low" in table.columns]
            raise InputError(field, f"no KPI {kpi!r} in the sweep table; known: {', '.join(known) or 'none (no run completed)'}")
    ok = table[table["status"] == "ok"]
    feasible = pd.Series(True, index=ok.index)
    for t in targets:
        feasible &= t.met(ok, options.use_ci)
    front = pareto_mask(ok, options.cost, targets)
    params = swept_columns(table)
    pareto = ok[front].assign(meets_targets=feasible[front])
    pareto = pareto[["run", *params, options.cost, *[t.kpi for t in targets], "meets_targets"]]
    pareto = pareto.sort_values(options.cost, kind="stable").reset_index(drop=True)  # ties: in run order
    candidates = ok[feasible]
    candidates = candidates.assign(_cost=pd.to_numeric(candidates[options.cost], errors="coerce")).dropna(subset=["_cost"])
    best = candidates.sort_values("_cost", kind="stable").iloc[0].drop("_cost") if len(candidates) else None
    pareto["optimal"] = pareto["run"] == (best["run"] if best is not None else None)
    return Optimum(best=best, pareto=pareto, targets=targets, cost=options.cost)


def unreachable(table: pd.DataFrame, optimum: Optimum) -> InputError:
    """The one-line error when no run meets the targets, with the best level reached for each target."""
    ok = table[table["status"] == "ok"]
    best = []
    for t in optimum.targets:
        values = pd.to_numeric(ok[t.kpi], errors="coerce")
        if values.notna().any():
            best.append(f"best {t.kpi} {(values.max() if t.higher_is_better else values.min()):.4g}")
    reached = f"; {', '.join(best)}" if best else ""
    return InputError("optimise.targets", f"no run of {len(table)} ({len(ok)} complete) meets "
                      f"{' and '.join(map(str, optimum.targets))}{reached}")


def run_optimiser(sweep_dir: Path, table: pd.DataFrame, options: OptimiseConfig) -> Optimum:
    """Optimise a sweep table, write pareto.csv beside it, print the answer; InputError if no run meets the targets."""
    optimum = optimise(table, options)
    write_atomic(sweep_dir / PARETO, lambda tmp: optimum.pareto.to_csv(tmp, index=False, float_format="%.10g"))
    if optimum.best is None:
        raise unreachable(table, optimum)
    print(optimum.describe(swept_columns(table)))
    print(f"Pareto front ({len(optimum.pareto)} runs): {sweep_dir / PARETO}")
    return optimum
