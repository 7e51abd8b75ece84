"""Figures of one run, drawn from its tables: each function takes DataFrames and returns a Figure.

The same functions serve the CLI (PNG and SVG in the run folder), the HTML report and notebooks (through
`Results.plot_*`). Figures are built on `matplotlib.figure.Figure` without pyplot, so they hold no global
state and render with the Agg backend whatever the session's backend. KPIs are read from the KPI table or
summary computed by `sim.results`; distributions (ECDFs) and the agent's timeline come from the raw tables.
"""

from __future__ import annotations

import functools
import io
import math
from pathlib import Path
from typing import Callable, Mapping, ParamSpec

import matplotlib
import numpy as np
import pandas as pd
import shapely
from matplotlib import patheffects
from matplotlib.axes import Axes
from matplotlib.cm import ScalarMappable
from matplotlib.collections import PatchCollection
from matplotlib.colors import Normalize
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.patches import Patch, PathPatch
from matplotlib.path import Path as MplPath
from matplotlib.ticker import PercentFormatter

from sim.core.results import NO_SITE, WAIT_TARGET_MIN
from sim.core.territory import Territory
from sim.core.units import DAY_MIN, WEEKDAYS
from sim.study.outputs import ROWS, write_atomic

ACCESS_TARGET_DAYS = 7.0
"""Target for the 90th percentile of access delay (days): no published figure, a week is assumed."""

DPI = 120  # figures as PNG: sharp on a screen and in the report, a third of the pixels of 150 dpi to render
ECDF_POINTS = 2000  # an ECDF is drawn through at most this many quantiles, whatever the number of requests
OUTCOME_COLOURS = {
    "served": "#2a9d8f", "referred": "#8ab17d", "reneged": "#e9c46a",
    "turned_away": "#f4a261", "gave_up": "#e76f51", "no_session": "#6d6875", "no_slot": "#b5838d",
}
OUTCOME_LABELS = {key: label for key, label, _ in ROWS if key in OUTCOME_COLOURS}
TARGET_COLOUR = "#c1121f"
STYLE = {
    "font.family": "DejaVu Sans",
    "font.size": 9,
    "axes.titlesize": 10,
    "axes.titleweight": "bold",
    "axes.spines.top": False,
    "axes.spines.right": False,
    "axes.grid": True,
    "grid.color": "#dddddd",
    "grid.linewidth": 0.6,
    "legend.frameon": False,
}
KPI_LABELS = {key: label for key, label, _ in ROWS} | {
    "share_wait_le_20min": "share seen within 20 min",
    "cost_per_served": "cost per request seen (EUR)",
    "queue_wait_min_p95": "queue wait, p95 (min)",
    "access_delay_days_p95": "access delay, p95 (days)",
    "agent_idle_share": "agent idle in session (share)",
    "cost": "total cost (EUR)",
    "staffing.agents": "agents",
    "frequency.visits_per_site_per_week": "visits per site per week",
}

P = ParamSpec("P")


def styled(draw: Callable[P, Figure]) -> Callable[P, Figure]:
    """Draw a figure under the package's style, leaving the caller's matplotlib settings untouched."""

    @functools.wraps(draw)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> Figure:
        with matplotlib.rc_context(STYLE):
            return draw(*args, **kwargs)

    return wrapper


def text(label: object) -> str:
    """A name from data as literal figure text: a '$' would otherwise start matplotlib's math mode."""
    return str(label).replace("$", r"\$")


def kpi_label(metric: str) -> str:
    """A KPI or parameter name as an axis label with its unit."""
    return KPI_LABELS.get(metric, metric.replace("_", " "))


def _metric(kpis: pd.DataFrame, scope: str, metric: str) -> pd.DataFrame:
    """mean, ci_low, ci_high of one metric at one scope, indexed by key."""
    rows = kpis[(kpis["scope"] == scope) & (kpis["metric"] == metric)]
    return rows.set_index("key")[["mean", "ci_low", "ci_high"]].astype(float)


def _error(rows: pd.DataFrame) -> np.ndarray:
    """Error-bar lengths (2 x n) from CI columns, clipped at zero; zero where the CI is unknown (one replication)."""
    low = (rows["mean"] - rows["ci_low"].clip(lower=0.0)).fillna(0.0)
    high = (rows["ci_high"] - rows["mean"]).fillna(0.0)
    return np.vstack([low, high]).clip(min=0.0)


def _ci_text(summary: Mapping, key: str, fmt: str) -> str:
    """'value (95% CI low-high)' of a summary KPI, without the CI when there is none."""
    value = summary.get(key)
    if value is None:
        return "n/a"
    low, high = summary.get("ci95", {}).get(key, (None, None))
    if low is None or high is None:
        return fmt.format(value)
    return f"{fmt.format(value)} (95% CI {fmt.format(low)} to {fmt.format(high)})"


def ecdf_points(values: np.ndarray, total: int) -> tuple[np.ndarray, np.ndarray] | None:
    """The steps (x, y) of the ECDF of the finite values over `total` observations (the others never reach the
    curve's top), through at most ECDF_POINTS of them; None if there is nothing to draw."""
    finite = np.sort(values[np.isfinite(values)])
    if total == 0 or len(finite) == 0:
        return None
    idx = np.unique(np.linspace(0, len(finite) - 1, min(len(finite), ECDF_POINTS)).round().astype(int))
    return np.concatenate(([0.0], finite[idx])), np.concatenate(([0.0], (idx + 1) / total))


def wait_samples(requests: pd.DataFrame, warmup_min: float = 0.0) -> tuple[np.ndarray, np.ndarray]:
    """Queue waits (inf for those never seen) and access delays of the citizens who reached a desk, needs arising
    before `warmup_min` left out: the populations of `share_wait_le_20min` and of the access-delay KPIs."""
    requests = requests[requests["need_min"].to_numpy() >= warmup_min]
    outcome = requests["outcome"].astype(str).to_numpy()
    reached = (outcome != "no_session") & (outcome != "no_slot")
    seen = (outcome == "served") | (outcome == "referred")
    wait = np.where(seen, requests["queue_wait_min"].to_numpy(float), np.inf)[reached]
    return wait, requests["access_delay_days"].to_numpy(float)[reached]


def _ecdf(ax: Axes, values: np.ndarray, total: int, colour: str) -> None:
    """Step ECDF of the finite values over `total` observations (the others never reach the axis)."""
    points = ecdf_points(values, total)
    if points is None:
        return
    ax.step(*points, where="post", color=colour, lw=1.6, label="all requests, all replications")
    ax.set_ylim(0, 1.02)
    ax.yaxis.set_major_formatter(PercentFormatter(1.0))


@styled
def wait_ecdf(requests: pd.DataFrame, summary: Mapping | None = None, wait_target_min: float = WAIT_TARGET_MIN,
              access_target_days: float = ACCESS_TARGET_DAYS, warmup_min: float = 0.0) -> Figure:
    """ECDFs of queue wait and access delay with the targets marked, to read the share within each target.

    Over citizens who reached a desk: those who left the queue or were turned away are never seen, so the
    queue-wait curve levels off below 100% and meets the target line at `share_wait_le_20min`. Needs arising
    before `warmup_min` are left out, as in the KPIs. The access panel is left out when nobody waited for a
    session (the queueing-theory scenario).
    """
    summary = summary or {}
    wait, access = wait_samples(requests, warmup_min)
    with_access = bool(np.nanmax(access, initial=0.0) > 0)
    fig = Figure(figsize=(10, 4) if with_access else (5.5, 4), layout="constrained")
    axes = fig.subplots(1, 2 if with_access else 1, squeeze=False)[0]

    ax = axes[0]
    _ecdf(ax, wait, len(wait), "#264653")
    finite = wait[np.isfinite(wait)]
    ax.set_xlim(0, max(float(np.quantile(finite, 0.995)) if len(finite) else 0.0, 2 * wait_target_min))
    ax.axvline(wait_target_min, color=TARGET_COLOUR, ls="--", lw=1.2, label=f"target: {wait_target_min:g} min")
    ax.set_xlabel("queue wait at the desk (min)")
    ax.set_ylabel("share of citizens reaching a desk seen within x")
    ax.set_title("Queue wait")
    ax.text(0.97, 0.05, f"seen within {wait_target_min:g} min:\n{_ci_text(summary, 'share_wait_le_20min', '{:.1%}')}",
            transform=ax.transAxes, ha="right", va="bottom", fontsize=8,
            bbox={"boxstyle": "round", "fc": "white", "ec": "#cccccc"})
    ax.legend(loc="center right")

    if with_access:
        ax = axes[1]
        _ecdf(ax, access, len(access), "#2a6f97")
        ax.set_xlim(0, max(float(np.nanquantile(access, 0.995)), 1.5 * access_target_days))
        ax.axvline(access_target_days, color=TARGET_COLOUR, ls="--", lw=1.2,
                   label=f"target for p90: {access_target_days:g} days")
        ax.set_xlabel("access delay: days from the need to the desk visit")
        ax.set_ylabel("share of citizens reaching a desk within x")
        ax.set_title("Access delay")
        ax.text(0.97, 0.05, f"mean: {_ci_text(summary, 'access_delay_days_mean', '{:.2f}')} days\n"
                            f"p90: {_ci_text(summary, 'access_delay_days_p90', '{:.2f}')} days",
                transform=ax.transAxes, ha="right", va="bottom", fontsize=8,
                bbox={"boxstyle": "round", "fc": "white", "ec": "#cccccc"})
        ax.legend(loc="center right")
    return fig


def _site_names(territory: Territory | None) -> dict[str, str]:
    if territory is None:
        return {}
    return dict(zip(territory.site_id.astype(str), territory.site_name.astype(str)))


@styled
def site_bars(kpis: pd.DataFrame, territory: Territory | None = None) -> Figure:
    """Requests and 90th-percentile queue wait per site with 95% CIs, to see which desks are under strain."""
    requests = _metric(kpis, "site", "requests").drop(index=NO_SITE, errors="ignore").sort_values("mean")
    p90 = _metric(kpis, "site", "queue_wait_min_p90").reindex(requests.index)
    names = _site_names(territory)
    labels = [text(names.get(k, k)) for k in requests.index]
    y = np.arange(len(requests))
    fig = Figure(figsize=(10, 1.6 + 0.3 * len(requests)), layout="constrained")
    left, right = fig.subplots(1, 2, sharey=True)
    left.barh(y, requests["mean"], xerr=_error(requests), color="#2a6f97", ecolor="#333333", capsize=2)
    left.set_yticks(y, labels)
    left.set_xlabel("requests reaching the site per run (mean, 95% CI)")
    left.set_title("Requests per site")
    right.barh(y, p90["mean"].fillna(0.0), xerr=_error(p90), color="#e76f51", ecolor="#333333", capsize=2)
    right.axvline(WAIT_TARGET_MIN, color=TARGET_COLOUR, ls="--", lw=1.2, label=f"{WAIT_TARGET_MIN:g} min")
    right.set_xlabel("queue wait, 90th percentile (min; mean, 95% CI)")
    right.set_title("Queue wait p90 per site")
    right.legend(loc="lower right")
    for ax in (left, right):
        ax.grid(axis="y", visible=False)
    return fig


def first_full_week(days: pd.Series) -> int:
    """The first week (0-based) with as many session days as the busiest week: a representative week."""
    weeks = (days.to_numpy() // 7).astype(int)
    counts = np.bincount(weeks)
    return int(np.flatnonzero(counts == counts.max())[0])


def _agent_sessions(sessions: pd.DataFrame, agent: str | None, replication: int) -> tuple[str, pd.DataFrame]:
    """One agent's sessions of one replication (default: the first agent)."""
    rows = sessions[sessions["replication"] == replication]
    if rows.empty:
        raise ValueError(f"no sessions in replication {replication}")
    name = agent if agent is not None else str(rows["agent"].iloc[0])
    mine = rows[rows["agent"].astype(str) == name]
    if mine.empty:
        raise ValueError(f"no agent {name!r}; agents: {', '.join(map(str, rows['agent'].unique()))}")
    return name, mine


@styled
def agent_week(sessions: pd.DataFrame, requests: pd.DataFrame | None = None, territory: Territory | None = None,
               agent: str | None = None, week: int | None = None, replication: int = 0) -> Figure:
    """One agent's week as a timeline, day by day: driving, serving and idle at the desk.

    `week` is 1-based (default: the first week with the most session days). Serving periods are the
    service intervals of the session's requests when the request table is at hand (for a session staffed
    by several agents, those of the whole desk); without it, the session's serving time is drawn as one block.
    """
    name, mine = _agent_sessions(sessions, agent, replication)
    w = first_full_week(mine["day"]) if week is None else week - 1
    days = sorted({int(d) % 7 for d in mine["day"]})
    week_rows = mine[(mine["day"] // 7) == w].sort_values("start_min")
    names = _site_names(territory)
    served = None
    if requests is not None:
        rep = requests[(requests["replication"] == replication) & requests["service_start_min"].notna()]
        served = rep[rep["session"].isin(week_rows["session"])].groupby("session")
    fig = Figure(figsize=(10, 1.3 + 0.62 * len(days)), layout="constrained")
    ax = fig.subplots()
    row_of = {d: i for i, d in enumerate(days)}
    height = 0.42

    def bar(y: int, t0: float, t1: float, colour: str, day0: float) -> None:
        if t1 > t0:
            ax.broken_barh([((t0 - day0) / 60.0, (t1 - t0) / 60.0)], (y - height / 2, height), color=colour, lw=0)

    hours = []
    for r in week_rows.itertuples(index=False):
        y, day0 = row_of[int(r.day) % 7], int(r.day) * DAY_MIN
        drive0 = r.opened_min - r.drive_before_min
        bar(y, drive0, r.opened_min, "#8d99ae", day0)
        bar(y, r.opened_min, r.left_min, "#e9ecef", day0)
        if served is not None and r.session in served.groups:
            s = served.get_group(r.session)
            for a, b in zip(s["service_start_min"], s["service_end_min"]):
                bar(y, a, b, "#2a9d8f", day0)
        elif served is None:
            bar(y, r.opened_min, r.opened_min + r.serving_min, "#2a9d8f", day0)
        bar(y, r.left_min, r.left_min + r.drive_after_min, "#8d99ae", day0)
        ax.text((r.opened_min + r.left_min) / 2 / 60.0 - day0 / 60.0, y - height / 2 - 0.06,
                text(names.get(str(r.site), str(r.site))), ha="center", va="bottom", fontsize=7, color="#333333")
        hours += [(drive0 - day0) / 60.0, (r.left_min + r.drive_after_min - day0) / 60.0]
    ax.set_yticks(range(len(days)), [WEEKDAYS[d].capitalize() for d in days])
    ax.set_ylim(len(days) - 0.4, -0.75)
    lo, hi = (math.floor(min(hours)), math.ceil(max(hours))) if hours else (8, 18)
    ax.set_xlim(lo, hi)
    ax.set_xticks(range(lo, hi + 1), [f"{h:02d}:00" for h in range(lo, hi + 1)])
    ax.set_xlabel("time of day")
    ax.grid(axis="y", visible=False)
    ax.set_title(f"{text(name)}, week {w + 1} (replication {replication})")
    handles = [Patch(color="#8d99ae", label="driving"), Patch(color="#2a9d8f", label="serving"),
               Patch(color="#e9ecef", label="desk open, idle")]
    ax.legend(handles=handles, loc="upper center", bbox_to_anchor=(0.5, -0.16), ncol=3)
    return fig


def _path(geometry: shapely.Geometry) -> MplPath:
    """A (multi)polygon as one matplotlib path; rings oriented so that holes stay empty."""
    parts = []
    for polygon in getattr(shapely.orient_polygons(geometry), "geoms", [geometry]):
        polygon = shapely.orient_polygons(polygon)
        for ring in (polygon.exterior, *polygon.interiors):
            parts.append(MplPath(np.asarray(ring.coords)[:, :2], closed=True))
    return MplPath.make_compound_path(*parts)


def _scale_bar(ax: Axes, lat: float) -> None:
    """A round-length scale bar in the lower left corner (x is longitude)."""
    x0, x1 = ax.get_xlim()
    y0, y1 = ax.get_ylim()
    km_per_deg = 111.32 * math.cos(math.radians(lat))
    target = (x1 - x0) * km_per_deg / 5
    km = max(k for k in (1, 2, 5, 10, 20, 50, 100, 200, 500) if k <= max(target, 1))
    x, y = x0 + 0.03 * (x1 - x0), y0 + 0.04 * (y1 - y0)
    ax.plot([x, x + km / km_per_deg], [y, y], color="black", lw=2.5, solid_capstyle="butt")
    ax.text(x + km / km_per_deg / 2, y + 0.012 * (y1 - y0), f"{km} km", ha="center", va="bottom", fontsize=8)


@styled
def territory_map(territory: Territory, kpis: pd.DataFrame, sessions: pd.DataFrame | None = None,
                  polygons: Mapping[str, shapely.Geometry] | None = None, week: int | None = None,
                  replication: int = 0, metric: str = "access_delay_days_mean", vmax: float | None = None) -> Figure:
    """Communes coloured by a KPI (mean access delay), sites, base and the agents' tours of one week.

    Polygons default to the open data's (`geo.commune_polygons`); a commune without one is drawn as a
    point. Tours are drawn from the base through each day's sites and back (replication `replication`,
    `week` 1-based, default the first full week). The colour scale runs from 0 to `vmax` (default: the
    largest value); give the same `vmax` to maps that are compared.
    """
    from sim.report.geo import commune_polygons

    insee = territory.commune_insee.astype(str)
    polygons = commune_polygons(insee) if polygons is None else polygons
    values = _metric(kpis, "commune", metric)["mean"].reindex(insee).to_numpy()
    cmap = matplotlib.colormaps["YlOrRd"]
    norm = Normalize(0.0, vmax if vmax is not None else max(float(np.nanmax(values, initial=0.0)), 1e-9))
    fig = Figure(figsize=(9, 7.5), layout="constrained")
    ax = fig.subplots()
    have = [i for i, c in enumerate(insee) if c in polygons]
    if have:
        lon0, lat0, lon1, lat1 = shapely.total_bounds([polygons[insee[i]] for i in have])
        tolerance = max(lon1 - lon0, lat1 - lat0) / 1500
        patches = [PathPatch(_path(shapely.simplify(polygons[insee[i]], tolerance))) for i in have]
        faces = [cmap(norm(values[i])) if np.isfinite(values[i]) else "#eeeeee" for i in have]
        ax.add_collection(PatchCollection(patches, facecolors=faces, edgecolors="#555555", linewidths=0.5))
    within = _metric(kpis, "commune", "population_within_reach_share")["mean"].reindex(insee).to_numpy() \
        if "population_within_reach_share" in set(kpis["metric"]) else np.ones(len(insee))
    outside = [k for k, i in enumerate(have) if within[i] == 0]
    if outside:
        ax.add_collection(PatchCollection([patches[k] for k in outside], facecolor="none", edgecolor="#1d3557",
                                          hatch="////", linewidths=0.0, zorder=2))
    points = [i for i in range(len(insee)) if insee[i] not in polygons]
    if points:
        ax.scatter(territory.commune_lon[points], territory.commune_lat[points], s=40,
                   c=[cmap(norm(values[i])) if np.isfinite(values[i]) else "#eeeeee" for i in points],
                   edgecolors="#555555", linewidths=0.5, zorder=2)
    if territory.n_communes <= 80:
        halo = [patheffects.withStroke(linewidth=2.2, foreground="white")]
        for i, c in enumerate(insee):
            where = polygons[c].representative_point() if c in polygons else None
            x, y = (where.x, where.y) if where is not None else (territory.commune_lon[i], territory.commune_lat[i])
            ax.text(x, y, text(territory.commune_name[i]), fontsize=6.5, ha="center", va="center",
                    color="#222222", path_effects=halo, zorder=5)

    handles: list = []
    if sessions is not None and not sessions.empty:
        rows = sessions[sessions["replication"] == replication]
        w = first_full_week(rows["day"]) if week is None else week - 1
        rows = rows[(rows["day"] // 7) == w].sort_values("start_min")
        site_index = {s: i for i, s in enumerate(territory.site_id.astype(str))}
        colours = matplotlib.colormaps["tab10"]
        for k, ((agent, day), tour) in enumerate(rows.groupby([rows["agent"].astype(str), "day"], sort=True)):
            idx = [site_index[s] for s in tour["site"].astype(str)]
            lon = [territory.base_lon, *territory.site_lon[idx], territory.base_lon]
            lat = [territory.base_lat, *territory.site_lat[idx], territory.base_lat]
            label = f"{text(agent)}, {WEEKDAYS[int(day) % 7].capitalize()}"
            ax.plot(lon, lat, color=colours(k % 10), lw=1.6, alpha=0.85, zorder=3)
            handles.append(Line2D([], [], color=colours(k % 10), lw=1.6, label=label))
        title_week = f", tours of week {w + 1}"
    else:
        title_week = ""
    ax.scatter(territory.site_lon, territory.site_lat, marker="s", s=28, facecolor="white", edgecolor="black",
               linewidths=1.0, zorder=4)
    ax.scatter([territory.base_lon], [territory.base_lat], marker="*", s=160, color="#1d3557", zorder=4)
    handles = [Line2D([], [], marker="s", ls="", mfc="white", mec="black", label="session site"),
               Line2D([], [], marker="*", ls="", ms=11, color="#1d3557", label=f"base: {text(territory.base_name)}"),
               *handles]
    if outside:
        share = 1.0 - float(territory.population @ (within == 1)) / max(float(territory.population.sum()), 1.0)
        handles.append(Patch(facecolor="none", edgecolor="#1d3557", hatch="////",
                             label=f"no site within reach ({share:.1%} of people)"))
    fig.legend(handles=handles, loc="outside right upper", fontsize=8)
    ax.autoscale_view()
    ax.margins(0.03)
    lat_mid = float(np.mean(ax.get_ylim()))
    ax.set_aspect(1.0 / math.cos(math.radians(lat_mid)))
    _scale_bar(ax, lat_mid)
    ax.set_axis_off()
    bar = fig.colorbar(ScalarMappable(norm=norm, cmap=cmap), ax=ax, shrink=0.6, location="bottom",
                       pad=0.02, aspect=40)
    bar.set_label(f"{kpi_label(metric)} by commune of residence (grey: no request)")
    ax.set_title(f"{text(territory.name)}: {kpi_label(metric)}{title_week}")
    return fig


@styled
def coverage_curve(shares: np.ndarray, chosen: int, name: str, reach_min: float, label: str = "this scenario") -> Figure:
    """The most population share K sites can put within reach, against K, the scenario's own K marked."""
    k = np.arange(1, len(shares) + 1)
    fig = Figure(figsize=(7, 4), layout="constrained")
    ax = fig.subplots()
    ax.plot(k, shares, marker="o" if len(shares) <= 100 else None, ms=3, color="#1d3557")
    if 1 <= chosen <= len(shares):
        ax.scatter([chosen], [shares[chosen - 1]], s=90, facecolor="none", edgecolor="#e63946", lw=2, zorder=3,
                   label=f"{label}: {chosen:,} sites, {shares[chosen - 1]:.1%}")
        ax.legend(loc="lower right", fontsize=9)
    ax.axhline(0.95, ls="--", color="grey", lw=1)
    ax.set_xlabel("sites")
    ax.set_ylabel(f"population within {reach_min:g} min")
    ax.yaxis.set_major_formatter(PercentFormatter(1.0))
    ax.set_ylim(0, 1.02)
    ax.set_title(f"{text(name)}: people within reach of K sites")
    return fig


@styled
def sensitivity_figure(table: pd.DataFrame) -> Figure:
    """Morris mu* against sigma (or Sobol ST against S1), one panel per KPI, the leading parameters named."""
    morris = "mu_star" in table.columns
    x, y = ("mu_star", "sigma") if morris else ("ST", "S1")
    kpis = list(dict.fromkeys(table["kpi"]))
    cols = min(3, len(kpis))
    rows_n = -(-len(kpis) // cols)
    fig = Figure(figsize=(4 * cols, 3.4 * rows_n), layout="constrained")
    axes = np.atleast_1d(fig.subplots(rows_n, cols)).ravel()
    for ax, kpi in zip(axes, kpis):
        rows = table[table["kpi"] == kpi]
        ax.scatter(rows[x], rows[y], color="#1d3557")
        top = rows[x].max()
        for r in rows.itertuples():
            if top > 0 and getattr(r, x) > 0.15 * top:
                ax.annotate(r.parameter.split(".")[-1], (getattr(r, x), getattr(r, y)), fontsize=7,
                            xytext=(3, 3), textcoords="offset points")
        ax.set_title(kpi_label(kpi), fontsize=9)
        ax.set_xlabel("mu* (mean absolute effect)" if morris else "ST (total index)", fontsize=8)
        ax.set_ylabel("sigma (interactions, non-linearity)" if morris else "S1 (first-order index)", fontsize=8)
    for ax in axes[len(kpis):]:
        ax.set_axis_off()
    points = table.attrs.get("points")
    fig.suptitle(("Morris screening" if morris else "Sobol indices") + (f": {points} runs" if points else "")
                 + ", common random numbers")
    return fig


@styled
def weekly_flow(kpis: pd.DataFrame) -> Figure:
    """Needs arising each week split by outcome, with the 95% CI of the total: is demand being absorbed?"""
    total = _metric(kpis, "week", "requests")
    order = sorted(total.index, key=lambda k: (len(k), k))  # week numbers, or ISO dates of the weeks' Mondays
    total = total.reindex(order)
    x = np.arange(1, len(order) + 1)
    fig = Figure(figsize=(10, 4.2), layout="constrained")
    ax = fig.subplots()
    bottom = np.zeros(len(x))
    for outcome, colour in OUTCOME_COLOURS.items():
        part = _metric(kpis, "week", outcome)["mean"].reindex(order).fillna(0.0).to_numpy()
        if part.sum() <= 0:
            continue
        ax.bar(x, part, bottom=bottom, color=colour, width=0.75, label=OUTCOME_LABELS[outcome])
        bottom += part
    ax.errorbar(x, total["mean"], yerr=_error(total), fmt="o", ms=3, color="black", capsize=2, lw=1, label="needs arising (95% CI)")
    dated = bool(order) and "-" in order[0]
    ax.set_xticks(x, [k[5:] if dated else k for k in order], rotation=90 if dated and len(x) > 8 else 0)
    ax.set_xlabel("week in which the need arose" + (f" (Monday, {order[0][:4]})" if dated else ""))
    ax.set_ylabel("requests per week (mean over replications)")
    ax.set_title("Weekly demand by outcome")
    ax.grid(axis="x", visible=False)
    ax.legend(loc="upper left", bbox_to_anchor=(1.0, 1.0))
    return fig


def render(fig: Figure, fmt: str) -> bytes:
    """The figure as PNG or SVG bytes (fixed metadata, so reruns give identical files)."""
    buffer = io.BytesIO()
    metadata = {"Software": None} if fmt == "png" else {"Date": None, "Creator": None}
    with matplotlib.rc_context({"svg.hashsalt": "france-services-sim"}):  # stable SVG ids
        fig.savefig(buffer, format=fmt, dpi=DPI, metadata=metadata)
    return buffer.getvalue()


def save(fig: Figure, folder: Path, name: str, svg: bool = False) -> bytes:
    """Write `name`.png (and, if asked, `name`.svg) atomically into `folder`; return the PNG bytes (for the report)."""
    png = render(fig, "png")
    files = [("png", png)]
    if svg:
        fig.set_layout_engine("none")  # the layout is settled: the SVG reuses it instead of solving it again
        files.append(("svg", render(fig, "svg")))
    for fmt, data in files:
        write_atomic(folder / f"{name}.{fmt}", lambda tmp, d=data: tmp.write_bytes(d))
    return png
