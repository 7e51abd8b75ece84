"""What the explorer shows of a run: an interactive Bokeh map, the wait ECDFs, and HTML tables of the KPIs,
the sites and a comparison, with the labels and formats of the CLI and the report.
"""

from __future__ import annotations

import math
from html import escape
from pathlib import Path
from typing import Any, Mapping

import numpy as np
import pandas as pd
import shapely
from bokeh.models import ColorBar, ColumnDataSource, HoverTool, LinearColorMapper
from bokeh.palettes import Category10_10, YlOrRd9
from bokeh.plotting import figure

from sim.build.paths import scenario_dir
from sim.core.results import NO_SITE
from sim.core.territory import Territory
from sim.report.figures import first_full_week
from sim.report.geo import commune_polygons
from sim.report.html import CSS, SITE_COLUMNS, headline_table, scope_table
from sim.study.compare import COMPARED, LABELS, comparison_table
from sim.study.experiment import Results

PAGE_CSS = CSS.replace("body {", "body_unused {")
"""The report's table styles, for the tables of the page."""
ECDF_POINTS = 500


def _commune_metric(kpis: pd.DataFrame, metric: str, insee: np.ndarray) -> np.ndarray:
    rows = kpis[(kpis["scope"] == "commune") & (kpis["metric"] == metric)].set_index("key")["mean"]
    return rows.reindex(insee).to_numpy(float)


def _site_metric(kpis: pd.DataFrame, metric: str, sites: np.ndarray) -> np.ndarray:
    rows = kpis[(kpis["scope"] == "site") & (kpis["metric"] == metric)].set_index("key")["mean"]
    return rows.reindex(sites).to_numpy(float)


def _rings(geometry: shapely.Geometry, x_scale: float) -> tuple[list, list]:
    """A (multi)polygon as Bokeh multi_polygons lists: polygons of [exterior, holes...] rings."""
    xs, ys = [], []
    for polygon in getattr(geometry, "geoms", [geometry]):
        rings = [np.asarray(r.coords)[:, :2] for r in (polygon.exterior, *polygon.interiors)]
        xs.append([r[:, 0] * x_scale for r in rings])
        ys.append([r[:, 1] for r in rings])
    return xs, ys


def commune_shapes(t: Territory, folder: Path, detail: int) -> tuple[list, list, float]:
    """The communes' outlines as Bokeh multi_polygons lists (xs, ys), simplified to 1/`detail` of the territory's
    extent, longitudes scaled by the cosine of the mean latitude (returned) so that distances look right; a
    commune without an outline is a small square at its centre."""
    insee = t.commune_insee.astype(str)
    x_scale = math.cos(math.radians(float(np.mean(t.commune_lat))))
    polygons = commune_polygons(insee, folder)
    extent = shapely.total_bounds(list(polygons.values())) if polygons else (0, 0, 1, 1)
    tolerance = max(extent[2] - extent[0], extent[3] - extent[1]) / detail
    xs, ys = [], []
    for i, code in enumerate(insee):
        if code in polygons:
            x, y = _rings(shapely.simplify(polygons[code], tolerance), x_scale)
        else:
            d, lon, lat = tolerance * 40, t.commune_lon[i], t.commune_lat[i]
            x = [[np.array([lon - d, lon + d, lon + d, lon - d]) * x_scale]]
            y = [[np.array([lat - d, lat - d, lat + d, lat + d])]]
        xs.append([[np.round(r, 5).tolist() for r in p] for p in x])
        ys.append([[np.round(r, 5).tolist() for r in p] for p in y])
    return xs, ys, x_scale


def _text(value: float, fmt: str) -> str:
    return "n/a" if value is None or not np.isfinite(value) else fmt.format(value)


def territory_map(results: Results, height: int = 560) -> Any:
    """Communes coloured by mean access delay (hover: a commune's figures), sites sized by requests, and the
    agents' tours of the first full week of replication 0; longitudes scaled so that distances look right."""
    t, kpis = results.scenario.territory, results.kpis
    insee = t.commune_insee.astype(str)
    xs, ys, x_scale = commune_shapes(t, scenario_dir(results.config), 1500)
    delay = _commune_metric(kpis, "access_delay_days_mean", insee)
    vmax = max(float(np.nanmax(delay, initial=0.0)), 1e-9)
    mapper = LinearColorMapper(palette=list(reversed(YlOrRd9)), low=0.0, high=vmax, nan_color="#eeeeee")
    fig = figure(height=height, sizing_mode="stretch_width", match_aspect=True, tools="pan,wheel_zoom,reset,save",
                 active_scroll="wheel_zoom", toolbar_location="above", title=f"{t.name}: access delay by commune")
    fig.axis.visible = False
    fig.grid.visible = False
    reach = _commune_metric(kpis, "population_within_reach_share", insee)
    communes = ColumnDataSource({
        "xs": xs, "ys": ys, "delay": delay, "name": t.commune_name.astype(str), "insee": insee,
        "population": [f"{p:,.0f}" for p in t.population],
        "requests": [_text(v, "{:.1f}") for v in _commune_metric(kpis, "requests", insee)],
        "delay_text": [_text(v, "{:.2f}") for v in delay],
        "met": [_text(v, "{:.0%}") for v in _commune_metric(kpis, "share_needs_met_within_7d", insee)],
        "reach": ["yes" if v > 0 else "no" for v in np.nan_to_num(reach, nan=1.0)],
    })
    patches = fig.multi_polygons("xs", "ys", source=communes, fill_color={"field": "delay", "transform": mapper},
                                 line_color="#555555", line_width=0.6, fill_alpha=0.85)
    fig.add_tools(HoverTool(renderers=[patches], tooltips=[
        ("commune", "@name (@insee)"), ("population", "@population"), ("needs per run", "@requests"),
        ("access delay, mean", "@delay_text days"), ("needs met within 7 days", "@met"),
        ("a site within reach", "@reach")]))
    _tours(fig, results, x_scale)
    sites = np.asarray(t.site_id).astype(str)
    requests = np.nan_to_num(_site_metric(kpis, "requests", sites))
    size = 8 + 22 * np.sqrt(requests / max(float(requests.max(initial=0.0)), 1e-9))
    site_source = ColumnDataSource({
        "x": t.site_lon * x_scale, "y": t.site_lat, "size": size, "name": t.site_name.astype(str),
        "venue": t.site_venue.astype(str), "requests": [f"{v:.1f}" for v in requests],
        "wait": [_text(v, "{:.0%}") for v in _site_metric(kpis, "share_wait_le_20min", sites)],
        "p90": [_text(v, "{:.1f}") for v in _site_metric(kpis, "queue_wait_min_p90", sites)],
    })
    dots = fig.scatter("x", "y", size="size", source=site_source, marker="circle", fill_color="white",
                       line_color="black", line_width=1.5, fill_alpha=0.9, legend_label="site (size: requests)")
    fig.add_tools(HoverTool(renderers=[dots], tooltips=[
        ("site", "@name (@venue)"), ("requests per run", "@requests"), ("seen within 20 min", "@wait"),
        ("queue wait, p90", "@p90 min")]))
    fig.scatter([t.base_lon * x_scale], [t.base_lat], marker="star", size=18, color="#1d3557",
                legend_label=f"base: {t.base_name}")
    fig.add_layout(ColorBar(color_mapper=mapper, title="access delay, mean (days)", width=10), "right")
    fig.legend.location = "top_left"
    fig.legend.click_policy = "hide"
    fig.legend.label_text_font_size = "8pt"
    return fig


def _tours(fig: Any, results: Results, x_scale: float) -> None:
    """Each agent's daily tour (base, sites, base) of one representative week of replication 0."""
    t, sessions = results.scenario.territory, results.sessions
    rows = sessions[sessions["replication"] == 0]
    if rows.empty:
        return
    week = first_full_week(rows["day"])
    rows = rows[(rows["day"] // 7) == week].sort_values("start_min")
    index = {s: i for i, s in enumerate(np.asarray(t.site_id).astype(str))}
    days = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
    for k, ((agent, day), tour) in enumerate(rows.groupby([rows["agent"].astype(str), "day"], sort=True)):
        idx = [index[s] for s in tour["site"].astype(str)]
        lon = np.array([t.base_lon, *t.site_lon[idx], t.base_lon]) * x_scale
        lat = [t.base_lat, *t.site_lat[idx], t.base_lat]
        fig.line(lon, lat, line_width=2, alpha=0.8, color=Category10_10[k % 10],
                 legend_label=f"{agent}, {days[int(day) % 7]} (week {week + 1})")


def ecdf(values: np.ndarray, total: int) -> tuple[np.ndarray, np.ndarray]:
    """The ECDF of `values` over `total` requests (those without a value never reach the curve's top), through at
    most ECDF_POINTS quantiles."""
    values = np.sort(values[np.isfinite(values)])
    if not len(values):
        return np.zeros(1), np.zeros(1)
    q = np.linspace(0.0, 1.0, min(ECDF_POINTS, len(values)))
    return np.quantile(values, q), q * len(values) / max(total, 1)


def wait_figures(results: Results, height: int = 320) -> list[Any]:
    """ECDFs of queue wait (minutes, over citizens seen at a desk) and of access delay (days, over all needs:
    a need never seen keeps the curve below 1), with the targets of 20 minutes and 7 days."""
    requests = results.requests
    out = []
    seen = requests["service_start_min"].notna().to_numpy() if requests is not None else np.zeros(0, bool)
    specs = (("queue_wait_min", "queue wait (minutes)", 20.0, int(seen.sum()), "share of citizens seen at a desk"),
             ("access_delay_days", "access delay (days from the need to the desk)", 7.0,
              len(requests) if requests is not None else 0, "share of all needs"))
    for column, label, target, total, y_label in specs:
        fig = figure(height=height, sizing_mode="stretch_width", title=label, tools="pan,box_zoom,reset,save",
                     x_axis_label=label, y_axis_label=y_label, y_range=(0, 1.02))
        if requests is not None and len(requests):
            x, y = ecdf(requests[column].to_numpy(float)[seen], total)
            fig.step(x, y, mode="after", line_width=2, color="#2a6f97")
        fig.ray([target], [0], length=0, angle=math.pi / 2, line_dash="dashed", color="#c1121f", legend_label=f"target {target:g}")
        fig.legend.location = "bottom_right"
        out.append(fig)
    return out


def kpi_table(summary: Mapping) -> str:
    """The headline KPIs with their 95% CIs: the report's table, labels as the CLI prints them."""
    return f"<style>{PAGE_CSS}</style><div id=\"kpis\">{headline_table(summary)}</div>"


def site_table(results: Results) -> str:
    """Per-site KPIs with CIs, as in the report."""
    t = results.scenario.territory
    names = dict(zip(np.asarray(t.site_id).astype(str), t.site_name.astype(str)))
    names[NO_SITE] = "no site within reach"
    return f"<style>{PAGE_CSS}</style><div id=\"sites\">{scope_table(results.kpis, 'site', SITE_COLUMNS, names, 'site')}</div>"


def _cell(fmt: str, mean: float, low: float, high: float, signed: bool = False) -> str:
    if mean is None or (isinstance(mean, float) and math.isnan(mean)):
        return "<td></td>"
    f = fmt.replace("{:", "{:+") if signed else fmt
    ci = "" if low is None or math.isnan(low) else f"<br><small>{f.format(low)} to {f.format(high)}</small>"
    return f"<td>{escape(f.format(mean))}{ci}</td>"


def comparison_html(baseline: Results, current: Results, names: tuple[str, str] = ("baseline", "this run")) -> str:
    """Baseline and this run side by side, each KPI with its 95% CI, and the paired difference (this run minus
    baseline, t-interval over the replications both have: common random numbers when the seeds agree)."""
    table = comparison_table({names[0]: baseline, names[1]: current}, names[0]).set_index(["metric", "variant"])
    rows = []
    for metric in COMPARED:
        if (metric, names[0]) not in table.index or (metric, names[1]) not in table.index:
            continue
        label, fmt = LABELS[metric]
        a, b = table.loc[(metric, names[0])], table.loc[(metric, names[1])]
        rows.append(f"<tr data-kpi=\"{metric}\"><td class=\"name\">{escape(label)}</td>"
                    f"{_cell(fmt, a['mean'], a['ci_low'], a['ci_high'])}{_cell(fmt, b['mean'], b['ci_low'], b['ci_high'])}"
                    f"{_cell(fmt, b['diff'], b['diff_ci_low'], b['diff_ci_high'], signed=True)}</tr>")
    pairs = int(table["pairs"].max()) if table["pairs"].notna().any() else 0
    same = baseline.config.seed == current.config.seed
    note = (f"Paired over {pairs} replications on seed {current.config.seed}: common random numbers, so the "
            "difference's interval is tighter than the two side by side." if same else
            f"The seeds differ ({baseline.config.seed} and {current.config.seed}): the replications are paired by "
            "number but do not share random numbers; set the same seed for a paired comparison.")
    return (f"<style>{PAGE_CSS}</style><div id=\"comparison\"><table><thead><tr><th class=\"name\">KPI</th>"
            f"<th>{escape(names[0])}</th><th>{escape(names[1])}</th><th>difference<br><small>95% CI</small></th>"
            f"</tr></thead><tbody>{''.join(rows)}</tbody></table><p class=\"note\">{escape(note)}</p></div>")
