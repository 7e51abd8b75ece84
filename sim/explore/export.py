"""A sweep as one standalone HTML page: a slider per swept setting, and for the chosen point its headline KPIs,
its map of access delay by commune, and where it stands against the Pareto front of cost and needs met.

Everything (Bokeh's JavaScript, every point's numbers and the communes' outlines) is inlined, so the page opens
from a file with no server and no network, to be sent by e-mail. The sliders run in the browser: a small
script swaps the precomputed numbers of the chosen point in.
"""

from __future__ import annotations

import json
import math
from html import escape
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from bokeh.embed import file_html
from bokeh.layouts import column, row
from bokeh.models import (ColorBar, ColumnDataSource, CustomJS, Div, HoverTool, LinearColorMapper, NumeralTickFormatter,
                          Slider)
from bokeh.palettes import YlOrRd9
from bokeh.plotting import figure
from bokeh.resources import INLINE

from sim.build.paths import scenario_dir
from sim.cli import load_run_config
from sim.config import Config
from sim.core.errors import InputError
from sim.core.territory import load_territory
from sim.explore.views import commune_shapes, scope_means
from sim.report.html import TABLE_CSS, headline_table
from sim.report.sweep import pareto_front
from sim.study.outputs import KPIS, read_summary
from sim.sweep import read_table, swept_keys

PAGE = "explorer.html"
COST, SERVICE = "cost_per_served", "share_needs_met_within_7d"
"""The Pareto front's axes: cost per request seen against the share of all needs met within 7 days."""


def _show(value: Any) -> str:
    """A swept value as the page shows it and keys it by: 1 and 1.0 alike, lists as written."""
    if isinstance(value, float) and value.is_integer():
        return f"{value:g}"
    return str(value.tolist() if isinstance(value, np.ndarray) else value)


def _order(text: str) -> tuple:
    """Numbers in numeric order, then the other values in text order."""
    try:
        return (0, float(text), "")
    except ValueError:
        return (1, 0.0, text)


def _geometry(config: Config) -> dict[str, Any]:
    """The communes of a run's territory as Bokeh patches (longitudes scaled at the mean latitude)."""
    folder = scenario_dir(config)
    t = load_territory(folder, config.scenario.name)
    xs, ys, _ = commune_shapes(t, folder, 800)
    return {"name": t.name, "insee": t.commune_insee.astype(str).tolist(), "commune": t.commune_name.astype(str).tolist(),
            "population": [f"{p:,.0f}" for p in t.population], "xs": xs, "ys": ys}


def _commune_values(run_dir: Path, insee: list[str]) -> tuple[list[float], list[str], list[str]]:
    """A run's mean access delay by commune (NaN where nobody asked), with the hover texts."""
    kpis = pd.read_csv(run_dir / KPIS, dtype={"key": str})
    delay = scope_means(kpis, "commune", "access_delay_days_mean", insee)
    met = scope_means(kpis, "commune", "share_needs_met_within_7d", insee)
    return ([None if not np.isfinite(v) else round(float(v), 4) for v in delay],
            ["n/a" if not np.isfinite(v) else f"{v:.2f}" for v in delay],
            ["n/a" if not np.isfinite(v) else f"{v:.0%}" for v in met])


def sweep_page(sweep_dir: str | Path) -> str:
    """The standalone HTML page of a sweep folder (see the module's docstring); InputError if it holds no run."""
    sweep_dir = Path(sweep_dir)
    try:
        table = read_table(sweep_dir).reset_index(drop=True)
    except (OSError, ValueError) as exc:
        raise InputError("SWEEP_DIR", f"{sweep_dir}: cannot read its runs: {exc}") from None
    keys = [k for k in swept_keys(sweep_dir, []) if k in table.columns] or ["run"]
    if table.empty:
        raise InputError("SWEEP_DIR", f"{sweep_dir}: no run")
    shown = {k: [_show(v) for v in table[k]] for k in keys}
    values = {k: sorted(set(shown[k]), key=_order) for k in keys}
    geometries: dict[str, dict[str, Any]] = {}
    points = []
    for i, r in table.iterrows():
        run_dir = sweep_dir / str(r["run"])
        label = ", ".join(f"{k}={shown[k][i]}" for k in keys)
        point: dict[str, Any] = {"key": "|".join(shown[k][i] for k in keys), "ok": r.get("status") == "ok",
                                 "label": escape(label)}
        summary = read_summary(run_dir) if point["ok"] else None
        if summary is None:
            point.update(ok=False, html=f"<p class=\"note\">This set-up failed: {escape(str(r.get('error') or 'no summary'))}</p>")
            points.append(point)
            continue
        config = load_run_config(run_dir)
        scn = str(scenario_dir(config))
        if scn not in geometries:
            geometries[scn] = _geometry(config)
        delay, delay_text, met = _commune_values(run_dir, geometries[scn]["insee"])
        point.update(scn=scn, delay=delay, delay_text=delay_text, met=met, cost=summary.get(COST),
                     service=summary.get(SERVICE), html=headline_table(summary))
        points.append(point)
    if not geometries:
        raise InputError("SWEEP_DIR", f"{sweep_dir}: no run finished, nothing to show")
    return _page(sweep_dir, keys, values, points, geometries)


def _page(sweep_dir: Path, keys: list[str], values: dict[str, list], points: list[dict],
          geometries: dict[str, dict]) -> str:
    ok = [p for p in points if p["ok"]]
    first = ok[0]
    geo = geometries[first["scn"]]
    vmax = max([v for p in ok for v in p["delay"] if v is not None] + [1e-9])
    mapper = LinearColorMapper(palette=list(reversed(YlOrRd9)), low=0.0, high=vmax, nan_color="#eeeeee")
    communes = ColumnDataSource({"xs": geo["xs"], "ys": geo["ys"], "name": geo["commune"],
                                 "population": geo["population"],
                                 "delay": [math.nan if v is None else v for v in first["delay"]],
                                 "delay_text": first["delay_text"], "met": first["met"]}, name="communes")
    fig = figure(height=500, width=540, match_aspect=True, tools="pan,wheel_zoom,reset,save", title=geo["name"])
    fig.axis.visible = fig.grid.visible = False
    patches = fig.multi_polygons("xs", "ys", source=communes, fill_color={"field": "delay", "transform": mapper},
                                 line_color="#555555", line_width=0.6)
    fig.add_tools(HoverTool(renderers=[patches], tooltips=[("commune", "@name"), ("population", "@population"),
                                                           ("access delay, mean", "@delay_text days"),
                                                           ("needs met within 7 days", "@met")]))
    fig.add_layout(ColorBar(color_mapper=mapper, title="access delay, mean (days)", width=10), "right")

    cost = [p["cost"] if p["ok"] else math.nan for p in points]
    service = [p["service"] if p["ok"] else math.nan for p in points]
    front = pareto_front(cost, service)
    pareto = figure(height=420, width=460, title="Cost per request seen against needs met within 7 days",
                    x_axis_label="needs met within 7 days (of all needs)", y_axis_label="cost per request seen (EUR)",
                    tools="pan,box_zoom,reset,save")
    everyone = ColumnDataSource({"x": service, "y": cost, "label": [p["label"] for p in points]})
    dots = pareto.scatter("x", "y", source=everyone, size=8, color="#adb5bd", legend_label="set-up")
    order = np.argsort(np.where(front, service, np.inf))[: int(front.sum())]
    pareto.line([service[i] for i in order], [cost[i] for i in order], color="#2a6f97", line_width=2,
                legend_label="Pareto front")
    pareto.scatter([service[i] for i in order], [cost[i] for i in order], size=9, color="#2a6f97")
    chosen = ColumnDataSource({"x": [first["service"]], "y": [first["cost"]]}, name="chosen")
    pareto.scatter("x", "y", source=chosen, size=16, marker="circle", fill_color=None, line_color="#c1121f",
                   line_width=3, legend_label="this set-up")
    pareto.add_tools(HoverTool(renderers=[dots], tooltips=[("set-up", "@label"), ("needs met", "@x{0.0%}"),
                                                           ("cost", "@y{0.00} EUR")]))
    pareto.legend.location = "top_left"
    pareto.xaxis.formatter = NumeralTickFormatter(format="0%")

    title = Div(text=f"<h3 id=\"point\">{first['label']}</h3>", width=1100)
    kpis = Div(text=f"<style>{TABLE_CSS}</style><div id=\"kpis\">{first['html']}</div>", width=400)
    start = dict(zip(keys, first["key"].split("|")))
    sliders = [Slider(start=0, end=max(len(values[k]) - 1, 1), value=values[k].index(start[k]), step=1,
                      title=f"{k} = {start[k]}", width=360, disabled=len(values[k]) < 2,
                      css_classes=[f"slider-{n}"], show_value=False) for n, k in enumerate(keys)]
    data = {"keys": keys, "values": values,
            "points": {p["key"]: {k: p.get(k) for k in ("label", "ok", "html", "scn", "delay", "delay_text", "met",
                                                          "cost", "service")} for p in points},
            "geometries": {scn: {"xs": g["xs"], "ys": g["ys"], "name": g["commune"], "population": g["population"],
                                 "title": g["name"]} for scn, g in geometries.items()} if len(geometries) > 1 else {}}
    callback = CustomJS(args={"sliders": sliders, "communes": communes, "chosen": chosen, "title": title, "map": fig,
                              "kpis": kpis, "style": TABLE_CSS}, code=_SCRIPT.replace("DATA", json.dumps(data)))
    for s in sliders:
        s.js_on_change("value", callback)
    intro = Div(text=f"<h2>Sweep {escape(sweep_dir.name)}: {len(points)} set-ups, {len(ok)} finished</h2>"
                     "<p>Move a slider to choose a set-up: its KPIs (means with 95% confidence intervals), its map of "
                     "access delay by commune, and where it stands against the Pareto front (no set-up is cheaper "
                     "and meets more needs).</p>", width=1100)
    layout = column(intro, row(*sliders) if len(sliders) < 4 else column(*sliders), title,
                    row(kpis, fig, pareto))
    return file_html(layout, resources=INLINE, title=f"Sweep {sweep_dir.name}: France Services en mobilité")


_SCRIPT = """
const data = DATA;
const parts = data.keys.map((k, i) => data.values[k][sliders[i].value]);
data.keys.forEach((k, i) => { sliders[i].title = k + ' = ' + parts[i]; });
const p = data.points[parts.join('|')];
const d = Object.assign({}, communes.data);
if (!p || !p.ok) {  // not run, or failed: no map colours and no point on the chart
  title.text = '<h3 id="point">' + (p ? p.label : 'not in this sweep') + '</h3>';
  kpis.text = '<div id="kpis">' + (p ? p.html : '<p>This combination was not run.</p>') + '</div>';
  d.delay = d.delay.map(() => NaN);
  d.delay_text = d.delay_text.map(() => 'n/a');
  d.met = d.met.map(() => 'n/a');
  communes.data = d;
  chosen.data = {x: [], y: []};
  return;
}
title.text = '<h3 id="point">' + p.label + '</h3>';
kpis.text = '<style>' + style + '</style><div id="kpis">' + p.html + '</div>';
const g = data.geometries[p.scn];
if (g) { d.xs = g.xs; d.ys = g.ys; d.name = g.name; d.population = g.population; map.title.text = g.title; }
d.delay = p.delay.map(v => v === null ? NaN : v);
d.delay_text = p.delay_text;
d.met = p.met;
communes.data = d;
chosen.data = {x: [p.service], y: [p.cost]};
"""


def export_sweep(sweep_dir: str | Path, output: str | Path | None = None) -> Path:
    """Write the page of a sweep (default SWEEP_DIR/explorer.html) atomically and return its path."""
    from sim.study.outputs import write_atomic

    sweep_dir = Path(sweep_dir)
    if not sweep_dir.is_dir():
        raise InputError("SWEEP_DIR", f"{sweep_dir}: no such folder")
    text = sweep_page(sweep_dir)
    path = Path(output) if output is not None else sweep_dir / PAGE
    write_atomic(path, lambda tmp: tmp.write_text(text, encoding="utf-8"))
    return path
