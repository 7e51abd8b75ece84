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
from bokeh.models import ColorBar, ColumnDataSource, HoverTool, LinearColorMapper, NumeralTickFormatter
from bokeh.palettes import Category10_10, YlOrRd9
from bokeh.plotting import figure

from sim.build.paths import scenario_dir
from sim.core.results import NO_SITE
from sim.core.territory import Territory
from sim.report.figures import ACCESS_TARGET_DAYS, WAIT_TARGET_MIN, ecdf_points, first_full_week, wait_samples
from sim.report.geo import commune_polygons
from sim.report.html import SITE_COLUMNS, TABLE_CSS, headline_table, kpi_cell, scope_table
from sim.study.compare import COMPARED, LABELS, comparison_table
from sim.study.experiment import Results



def scope_means(kpis: pd.DataFrame, scope: str, metric: str, keys: np.ndarray | list[str]) -> np.ndarray:
    """The mean of a KPI for each of `keys` at one scope (commune, site), NaN where it has none."""
    rows = kpis[(kpis["scope"] == scope) & (kpis["metric"] == metric)].set_index("key")["mean"]
    return rows.reindex(keys).to_numpy(float)


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
    delay = scope_means(kpis, "commune", "access_delay_days_mean", insee)
    vmax = max(float(np.nanmax(delay, initial=0.0)), 1e-9)
    mapper = LinearColorMapper(palette=list(reversed(YlOrRd9)), low=0.0, high=vmax, nan_color="#eeeeee")
    fig = figure(height=height, sizing_mode="stretch_width", match_aspect=True, tools="pan,wheel_zoom,reset,save",
                 active_scroll="wheel_zoom", toolbar_location="above", title=f"{t.name}: access delay by commune")
    fig.axis.visible = False
    fig.grid.visible = False
    reach = scope_means(kpis, "commune", "population_within_reach_share", insee)
    communes = ColumnDataSource({
        "xs": xs, "ys": ys, "delay": delay, "name": t.commune_name.astype(str), "insee": insee,
        "population": [f"{p:,.0f}" for p in t.population],
        "requests": [_text(v, "{:.1f}") for v in scope_means(kpis, "commune", "requests", insee)],
        "delay_text": [_text(v, "{:.2f}") for v in delay],
        "met": [_text(v, "{:.0%}") for v in scope_means(kpis, "commune", "share_needs_met_within_7d", insee)],
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
    requests = np.nan_to_num(scope_means(kpis, "site", "requests", sites))
    size = 8 + 22 * np.sqrt(requests / max(float(requests.max(initial=0.0)), 1e-9))
    site_source = ColumnDataSource({
        "x": t.site_lon * x_scale, "y": t.site_lat, "size": size, "name": t.site_name.astype(str),
        "venue": t.site_venue.astype(str), "requests": [f"{v:.1f}" for v in requests],
        "wait": [_text(v, "{:.0%}") for v in scope_means(kpis, "site", "share_wait_le_20min", sites)],
        "p90": [_text(v, "{:.1f}") for v in scope_means(kpis, "site", "queue_wait_min_p90", sites)],
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


def wait_figures(results: Results, height: int = 320) -> list[Any]:
    """The report's ECDFs (`sim.report.figures.wait_samples`): queue wait and access delay over the citizens who
    reached a desk, so that the queue-wait curve meets the 20-minute line at `seen within 20 min`; targets dashed."""
    requests = results.requests
    if requests is None:
        return []
    wait, access = wait_samples(requests, results.scenario.warmup_min)
    s = results.summary
    seen = s.get("share_wait_le_20min")
    specs = (("queue wait at the desk (minutes)", wait, WAIT_TARGET_MIN,
              f"Queue wait: seen within 20 min {seen:.1%}" if seen is not None else "Queue wait"),
             ("access delay: days from the need to the desk visit", access, ACCESS_TARGET_DAYS, "Access delay"))
    out = []
    for label, values, target, title in specs:
        fig = figure(height=height, sizing_mode="stretch_width", title=title, tools="pan,box_zoom,reset,save",
                     x_axis_label=label, y_axis_label="share of citizens reaching a desk", y_range=(0, 1.02))
        points = ecdf_points(values, len(values))
        if points is not None:
            fig.step(*points, mode="after", line_width=2, color="#2a6f97")
        fig.ray([target], [0], length=0, angle=math.pi / 2, line_dash="dashed", color="#c1121f",
                legend_label=f"target {target:g}")
        fig.yaxis.formatter = NumeralTickFormatter(format="0%")
        fig.legend.location = "bottom_right"
        out.append(fig)
    return out


def kpi_table(summary: Mapping) -> str:
    """The headline KPIs with their 95% CIs: the report's table, labels as the CLI prints them."""
    return f"<style>{TABLE_CSS}</style><div id=\"kpis\">{headline_table(summary)}</div>"


def site_table(results: Results) -> str:
    """Per-site KPIs with CIs, as in the report."""
    t = results.scenario.territory
    names = dict(zip(np.asarray(t.site_id).astype(str), t.site_name.astype(str)))
    names[NO_SITE] = "no site within reach"
    return f"<style>{TABLE_CSS}</style><div id=\"sites\">{scope_table(results.kpis, 'site', SITE_COLUMNS, names, 'site')}</div>"


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
                    f"{kpi_cell(fmt, a['mean'], a['ci_low'], a['ci_high'])}{kpi_cell(fmt, b['mean'], b['ci_low'], b['ci_high'])}"
                    f"{kpi_cell(fmt, b['diff'], b['diff_ci_low'], b['diff_ci_high'], signed=True)}</tr>")
    pairs = int(table["pairs"].max()) if table["pairs"].notna().any() else 0
    counts = (baseline.summary["replications"], current.summary["replications"])
    note = (f"The difference is the mean of the {pairs} paired differences (replication by replication) with its "
            "95% t-interval.")
    if counts[0] != counts[1]:
        note += (f" The baseline has {counts[0]} replications and this run {counts[1]}: each column is over its own, "
                 f"the difference over the {pairs} both have.")
    note += (f" Both ran on seed {current.config.seed}, so they share their random numbers (common random numbers): "
             "what differs comes from the set-ups, and the difference's interval is usually much tighter than the "
             "two intervals side by side." if baseline.config.seed == current.config.seed else
             f" The seeds differ ({baseline.config.seed} and {current.config.seed}): the replications are paired by "
             "number but share no random numbers; set the same seed for a paired comparison.")
    return (f"<style>{TABLE_CSS}</style><div id=\"comparison\"><table><thead><tr><th class=\"name\">KPI</th>"
            f"<th>{escape(names[0])}</th><th>{escape(names[1])}</th><th>difference<br><small>95% CI</small></th>"
            f"</tr></thead><tbody>{''.join(rows)}</tbody></table><p class=\"note\">{escape(note)}</p></div>")
