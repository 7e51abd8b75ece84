"""Variants of one configuration on common random numbers: headline KPIs side by side, paired differences.

A variant is a list of overrides applied on top of the run's own (`experiment.variants`, e.g.
`fixed: [delivery=fixed]`). Every variant runs the same replications with the same seed, so replication r
of each variant draws the same needs, service times and patience (`sim.streams`): what differs
between variants comes from the variants. Each KPI has its 95% t-interval over replications; each
variant's difference from the reference has the t-interval of the per-replication differences, a paired
comparison that common random numbers make far tighter than the two intervals side by side.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path
from typing import Mapping

import pandas as pd

from sim.build.scenario import build_scenario
from sim.config import Config
from sim.core.errors import InputError
from sim.core.stats import t_half_width
from sim.study.experiment import Results, run_experiment
from sim.study.outputs import ROWS, write_atomic, write_outputs

COMPARED: tuple[str, ...] = (
    "seen_per_week", "no_session", "no_slot", "share_needs_met_within_7d", "access_delay_days_mean",
    "access_delay_days_p90", "queue_wait_min_mean", "queue_wait_min_p90", "share_wait_le_20min", "own_site_share",
    "population_within_reach_share", "agent_hours", "km_driven", "cost", "cost_per_served",
)
"""The KPIs of the comparison table (overall scope)."""
LABELS: dict[str, tuple[str, str]] = {key: (label, fmt) for key, label, fmt in ROWS} | {
    "agent_hours": ("agent hours (sessions and driving)", "{:.0f}"),
    "cost": ("cost (EUR)", "{:.0f}"),
}
COMPARISON = "comparison.csv"


@dataclass
class Comparison:
    """The results of every variant and the comparison table, one row per (variant, KPI)."""

    title: str
    reference: str
    results: dict[str, Results]
    table: pd.DataFrame  # variant, metric, mean, ci_low, ci_high, diff, diff_ci_low, diff_ci_high, pairs


def paired_differences(reference: pd.DataFrame, other: pd.DataFrame) -> pd.DataFrame:
    """Mean and 95% t-interval of other - reference over the replications both have, per metric."""
    ref = reference.pivot(index="replication", columns="metric", values="value")
    diff = other.pivot(index="replication", columns="metric", values="value").sub(ref).dropna(how="all")
    n = diff.count()
    mean, sd = diff.mean(), diff.std()
    half = pd.Series(t_half_width(sd.to_numpy(), n.to_numpy()), index=n.index)
    return pd.DataFrame({"diff": mean, "diff_ci_low": mean - half, "diff_ci_high": mean + half, "pairs": n})


def compare(configs: dict[str, Config], reference: str | None = None, title: str = "comparison",
            keep_requests: bool = False) -> Comparison:
    """Run every variant (all scenarios built and checked before the first run) and tabulate the KPIs."""
    reference = reference or next(iter(configs))
    scenarios = {}
    for name, cfg in configs.items():
        try:
            scenarios[name] = build_scenario(cfg)
        except InputError as exc:
            raise InputError(f"experiment.variants.{name}", str(exc)) from None
    results = {name: run_experiment(cfg, scenarios[name], keep_requests=keep_requests) for name, cfg in configs.items()}
    return Comparison(title, reference, results, comparison_table(results, reference))


def comparison_table(results: Mapping[str, Results], reference: str) -> pd.DataFrame:
    """One row per (variant, KPI of COMPARED): mean and 95% CI, and the paired difference from `reference`."""
    rows = []
    for name, res in results.items():
        overall = res.kpis[res.kpis["scope"] == "overall"].set_index("metric")
        diff = paired_differences(results[reference].per_replication, res.per_replication)
        for metric in COMPARED:
            if metric not in overall.index:
                continue
            row = {"variant": name, "metric": metric, **overall.loc[metric, ["mean", "ci_low", "ci_high"]].to_dict()}
            row.update(diff.loc[metric].to_dict() if metric in diff.index and name != reference else {})
            rows.append(row)
    return pd.DataFrame(rows, columns=["variant", "metric", "mean", "ci_low", "ci_high", "diff", "diff_ci_low",
                                       "diff_ci_high", "pairs"])


def _cell(fmt: str, mean: float, lo: float, hi: float, signed: bool = False) -> str:
    """'mean [lo, hi]' in the KPI's format; signed for differences."""
    if mean is None or (isinstance(mean, float) and math.isnan(mean)):
        return ""
    f = fmt.replace("{:", "{:+") if signed else fmt
    ci = "" if lo is None or (isinstance(lo, float) and math.isnan(lo)) else f" [{f.format(lo)}, {f.format(hi)}]"
    return f.format(mean) + ci


def format_comparison(comparison: Comparison) -> str:
    """The side-by-side table: per KPI a row of means with 95% CIs and a row of paired differences."""
    names = list(comparison.results)
    first = comparison.results[comparison.reference].summary
    head = (f"{comparison.title} on {first['scenario']}: {first['replications']} replication(s), seed {first['seed']}, "
            f"{first.get('weeks')} weeks; 95% CIs; differences paired by replication, against {comparison.reference!r}")
    width = 26
    lines = [head, f"{'KPI':38s}" + "".join(f"{n[:width - 1]:>{width}s}" for n in names)]
    table = comparison.table.set_index(["metric", "variant"])
    for metric in COMPARED:
        if (metric, comparison.reference) not in table.index:
            continue
        label, fmt = LABELS[metric]
        cells = [table.loc[(metric, n)] if (metric, n) in table.index else None for n in names]
        lines.append(f"{label[:37]:38s}" + "".join(
            f"{_cell(fmt, c['mean'], c['ci_low'], c['ci_high']) if c is not None else '':>{width}s}" for c in cells))
        lines.append(f"{'  difference':38s}" + "".join(
            f"{_cell(fmt, c['diff'], c['diff_ci_low'], c['diff_ci_high'], signed=True) if c is not None else '':>{width}s}"
            for c in cells))
    return "\n".join(lines)


def write_comparison(comparison: Comparison, out_dir: Path) -> Path:
    """Each variant's outputs in out_dir/<variant>/, then comparison.csv (written last: the run is complete)."""
    for name, res in comparison.results.items():
        write_outputs(res, out_dir / name)
    path = out_dir / COMPARISON
    write_atomic(path, lambda tmp: comparison.table.to_csv(tmp, index=False, float_format="%.10g"))
    return path
