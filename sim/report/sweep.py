"""Figures of a sweep table: one row per run, the swept parameters, and KPIs with `_ci_low`/`_ci_high`.

That is the shape of `sweep.parquet` and of `sim.api.run_grid` (columns run, `staffing.agents`,
`frequency.visits_per_site_per_week`, status, error, `cost_per_served`, `share_wait_le_20min`,
`share_wait_le_20min_ci_low`, ...). Failed runs (KPIs missing) are left out of the figures.
"""

from __future__ import annotations

from typing import Sequence

import numpy as np
import pandas as pd
from matplotlib.figure import Figure
from matplotlib.ticker import PercentFormatter

from sim.report.figures import TARGET_COLOUR, kpi_label, styled, text
from sim.study.optimise import nondominated, swept_columns


def is_share(kpi: str) -> bool:
    """Whether a KPI is a share in [0, 1] (shown as a percentage)."""
    return kpi.startswith("share") or kpi.endswith(("_share", "utilisation"))


def pareto_front(cost: Sequence[float], service: Sequence[float]) -> np.ndarray:
    """Mask of the runs no other run beats on both lower cost and higher service (NaN rows never are)."""
    return nondominated(np.column_stack([np.asarray(cost, dtype=float), -np.asarray(service, dtype=float)]))


def _assignment(parameter: str, value: object) -> str:
    """'agents=2' from a swept parameter's last name and its value."""
    shown = f"{value:g}" if isinstance(value, (int, float, np.number)) else text(value)
    return f"{parameter.rsplit('.', 1)[-1]}={shown}"


def _format(kpi: str, value: float) -> str:
    return f"{value:.0%}" if is_share(kpi) else f"{value:.3g}"


def _ci(sweep: pd.DataFrame, kpi: str) -> np.ndarray | None:
    """Error-bar lengths of a KPI from its CI columns, if the table has them."""
    low, high = f"{kpi}_ci_low", f"{kpi}_ci_high"
    if low not in sweep or high not in sweep:
        return None
    return np.vstack([(sweep[kpi] - sweep[low]).fillna(0.0), (sweep[high] - sweep[kpi]).fillna(0.0)]).clip(min=0.0)


@styled
def sweep_heatmap(sweep: pd.DataFrame, x: str, y: str, kpi: str) -> Figure:
    """A KPI over two swept parameters, one annotated cell per run, to see where a target is met.

    Needs one run per (x, y): filter the other swept parameters first. Cells of failed or missing runs
    read n/a.
    """
    if sweep.duplicated([x, y]).any():
        others = [p for p in swept_columns(sweep) if p not in (x, y)]
        raise ValueError(f"several runs per ({x}, {y}); select one value of {', '.join(others) or 'the other columns'}")
    grid = sweep.pivot(index=y, columns=x, values=kpi).sort_index().sort_index(axis=1)
    fig = Figure(figsize=(1.6 + 1.1 * grid.shape[1], 1.4 + 0.75 * grid.shape[0]), layout="constrained")
    ax = fig.subplots()
    values = grid.to_numpy(float)
    image = ax.imshow(values, origin="lower", aspect="auto", cmap="viridis")
    ax.set_xticks(range(grid.shape[1]), [f"{v:g}" for v in grid.columns])
    ax.set_yticks(range(grid.shape[0]), [f"{v:g}" for v in grid.index])
    ax.set_xlabel(kpi_label(x))
    ax.set_ylabel(kpi_label(y))
    ax.grid(False)
    mid = np.nanmean(values)
    for (i, j), value in np.ndenumerate(values):
        shown, colour = (_format(kpi, value), "black" if value > mid else "white") if np.isfinite(value) else ("n/a", "grey")
        ax.text(j, i, shown, ha="center", va="center", fontsize=8, color=colour)
    bar = fig.colorbar(image, ax=ax)
    bar.set_label(kpi_label(kpi))
    if is_share(kpi):
        bar.formatter = PercentFormatter(1.0, decimals=0)
        bar.update_ticks()
    ax.set_title(kpi_label(kpi))
    return fig


@styled
def cost_service_pareto(sweep: pd.DataFrame, cost: str = "cost_per_served", service: str = "share_wait_le_20min",
                        target: float | None = 0.9, labels: str | None = None) -> Figure:
    """Cost against service level for every run, the Pareto front highlighted and labelled.

    Front points are labelled by the column `labels` if given, else by their swept parameters.
    """
    rows = sweep.dropna(subset=[cost, service]).reset_index(drop=True)
    front = pareto_front(rows[cost], rows[service])
    params = swept_columns(rows)
    fig = Figure(figsize=(8, 5.5), layout="constrained")
    ax = fig.subplots()
    xerr, yerr = _ci(rows, service), _ci(rows, cost)
    ax.errorbar(rows[service], rows[cost], xerr=xerr, yerr=yerr, fmt="o", ms=5, color="#adb5bd", ecolor="#dee2e6",
                lw=1, label="run (95% CI)")
    on = rows[front].sort_values(service)
    ax.plot(on[service], on[cost], "o-", ms=7, color="#2a6f97", lw=1.5, zorder=3,
            label="Pareto front: no run is cheaper and better")
    for _, r in on.iterrows():
        label = text(r[labels]) if labels else ", ".join(_assignment(p, r[p]) for p in params)
        ax.annotate(label, (r[service], r[cost]), xytext=(6, 6), textcoords="offset points", fontsize=7.5,
                    color="#1d3557")
    if target is not None:
        ax.axvline(target, color=TARGET_COLOUR, ls="--", lw=1.2, label=f"target: {_format(service, target)}")
    if is_share(service):
        ax.xaxis.set_major_formatter(PercentFormatter(1.0, decimals=0))
    ax.set_xlabel(kpi_label(service))
    ax.set_ylabel(kpi_label(cost))
    ax.set_title(f"{kpi_label(cost)} against {kpi_label(service)}")
    ax.legend(loc="upper left")
    return fig
