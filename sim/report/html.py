"""One self-contained HTML file per run: headline KPIs with CIs, figures, per-site table, assumptions, config.

Figures are embedded as base64 PNG, so the file can be mailed or opened offline. Every text that comes from
data or configuration (scenario, site and commune names, config values) goes through `html.escape`; the page
has no script.
"""

from __future__ import annotations

import base64
import math
from html import escape
from typing import Iterable, Mapping

import pandas as pd

from sim.cli import config_yaml
from sim.core.results import NO_SITE
from sim.report.assumptions import ASSUMPTIONS, config_value, show
from sim.study.experiment import Results
from sim.study.outputs import ROWS
from sim.version import __version__

SITE_COLUMNS: tuple[tuple[str, str, str], ...] = (
    ("requests", "requests", "{:.1f}"),
    ("served", "served", "{:.1f}"),
    ("referred", "referred", "{:.1f}"),
    ("reneged", "left the queue", "{:.1f}"),
    ("gave_up", "turned away for good", "{:.1f}"),
    ("no_slot", "no free slot", "{:.1f}"),
    ("share_needs_met_within_7d", "needs met within 7 days", "{:.0%}"),
    ("queue_wait_min_mean", "queue wait, mean (min)", "{:.1f}"),
    ("queue_wait_min_p90", "queue wait, p90 (min)", "{:.1f}"),
    ("share_wait_le_20min", "seen within 20 min", "{:.0%}"),
    ("access_delay_days_mean", "access delay, mean (days)", "{:.2f}"),
    ("agent_utilisation", "agent busy serving", "{:.0%}"),
    ("cost_per_served", "cost per request seen (EUR)", "{:.0f}"),
)
"""Per-site columns: KPI, header, format."""

AGENT_COLUMNS: tuple[tuple[str, str, str], ...] = (
    ("agent_hours", "hours at work", "{:.0f}"),
    ("driving_hours", "hours driving", "{:.0f}"),
    ("agent_driving_share", "time driving", "{:.0%}"),
    ("agent_utilisation", "busy serving (share of session time)", "{:.0%}"),
    ("km_driven", "km driven", "{:.0f}"),
    ("late_openings", "late openings", "{:.1f}"),
    ("cost", "cost (EUR)", "{:.0f}"),
)

TABLE_CSS = """
p.facts { color: #555; margin-top: 0; }
table { border-collapse: collapse; font-size: 0.88em; margin: 0.8em 0; }
th, td { padding: 0.3em 0.6em; border-bottom: 1px solid #e3e3e3; text-align: right; vertical-align: top; }
th { background: #eef3f7; } td.name, th.name { text-align: left; min-width: 11em; }
td small { color: #777; white-space: nowrap; }
figure { margin: 1.2em 0; } figure img { max-width: 100%; height: auto; border: 1px solid #eee; }
figcaption { color: #555; font-size: 0.9em; margin-top: 0.3em; }
pre { background: #f3f3f3; padding: 1em; font-size: 0.8em; overflow-x: auto; }
.note { color: #555; font-size: 0.9em; }
"""
"""The styles of the KPI tables (also those of the explorer's page)."""
CSS = """
body { font-family: "DejaVu Sans", Arial, sans-serif; color: #222; margin: 0; background: #f6f7f9; }
main { max-width: 1100px; margin: 0 auto; padding: 1.5em 2em 3em; background: white; }
h1 { font-size: 1.6em; margin-bottom: 0.2em; } h2 { border-bottom: 2px solid #2a6f97; padding-bottom: 0.2em; margin-top: 2em; }
""" + TABLE_CSS


def _number(fmt: str, value: float) -> str:
    return "n/a" if value is None or (isinstance(value, float) and math.isnan(value)) else fmt.format(value)


def kpi_cell(fmt: str, mean: float, low: float, high: float, signed: bool = False) -> str:
    """A table cell: the mean, and below it the 95% CI clipped to the KPI's range (>= 0; shares <= 100%); a
    difference (`signed`) is shown with its sign and not clipped."""
    if signed:
        fmt = fmt.replace("{:", "{:+")
    if any(v is None or math.isnan(v) for v in (low, high)):
        return f"<td>{escape(_number(fmt, mean))}</td>"
    if not signed:
        low, high = max(low, 0.0), min(high, 1.0) if "%" in fmt else high
    ci = f"<br><small>{escape(_number(fmt, low))} to {escape(_number(fmt, high))}</small>"
    return f"<td>{escape(_number(fmt, mean))}{ci}</td>"


def headline_table(summary: Mapping) -> str:
    """Headline KPIs with their 95% CIs (the same rows and labels as the terminal table)."""
    rows = []
    for key, label, fmt in ROWS:
        if summary.get(key) is None:
            continue
        low, high = summary.get("ci95", {}).get(key, (None, None))
        low, high = (math.nan if v is None else v for v in (low, high))
        rows.append(f"<tr><td class=\"name\">{escape(label)}</td>{kpi_cell(fmt, summary[key], low, high)}</tr>")
    return ("<table><thead><tr><th class=\"name\">KPI</th><th>mean<br><small>95% CI</small></th></tr></thead>"
            f"<tbody>{''.join(rows)}</tbody></table>")


def scope_table(kpis: pd.DataFrame, scope: str, columns: Iterable[tuple[str, str, str]],
                names: Mapping[str, str], first: str) -> str:
    """One row per key of a KPI scope (site, agent): mean with the 95% CI below, names escaped."""
    columns = list(columns)
    rows = kpis[kpis["scope"] == scope]
    parts = {part: rows.pivot(index="key", columns="metric", values=part) for part in ("mean", "ci_low", "ci_high")}

    def value(part: str, key: str, metric: str) -> float:
        table = parts[part]
        return float(table.at[key, metric]) if metric in table.columns else math.nan

    order = sorted(parts["mean"].index, key=lambda k: names.get(k, k))
    head = "".join(f"<th>{escape(h)}</th>" for _, h, _ in columns)
    body = []
    for key in order:
        cells = [kpi_cell(fmt, value("mean", key, m), value("ci_low", key, m), value("ci_high", key, m))
                 for m, _, fmt in columns]
        label = escape(names.get(key, key))
        sub = f"<br><small>{escape(key)}</small>" if names.get(key, key) != key else ""
        body.append(f"<tr><td class=\"name\">{label}{sub}</td>{''.join(cells)}</tr>")
    return (f"<table><thead><tr><th class=\"name\">{escape(first)}</th>{head}</tr></thead>"
            f"<tbody>{''.join(body)}</tbody></table>")


def assumptions_table(results: Results) -> str:
    """The main assumptions with this run's values and their sources."""
    rows = "".join(
        f"<tr><td class=\"name\"><code>{escape(path)}</code></td><td class=\"name\">{escape(what)}</td>"
        f"<td class=\"name\">{escape(show(config_value(results.config, path)))}</td>"
        f"<td class=\"name\">{escape(source)}</td></tr>"
        for path, what, source in ASSUMPTIONS
    )
    return ("<table><thead><tr><th class=\"name\">parameter</th><th class=\"name\">meaning</th>"
            "<th class=\"name\">value in this run</th><th class=\"name\">source</th></tr></thead>"
            f"<tbody>{rows}</tbody></table>")


def figure_html(png: bytes, title: str, caption: str) -> str:
    """A figure embedded as a base64 PNG with its caption."""
    data = base64.b64encode(png).decode("ascii")
    return (f"<figure><img src=\"data:image/png;base64,{data}\" alt=\"{escape(title)}\">"
            f"<figcaption><b>{escape(title)}.</b> {escape(caption)}</figcaption></figure>")


def facts(summary: Mapping) -> str:
    """One line of run facts: replications, seed, weeks, agents, sites, sessions."""
    parts = [f"{summary.get('replications')} replication(s), seed {summary.get('seed')}"]
    if summary.get("weeks"):
        parts.append(f"{summary['weeks']} weeks, {summary['agents']} agent(s), {summary['sites']} sites, "
                     f"{summary['sessions']} sessions")
    return escape(", ".join(parts))


def report_html(results: Results, figures: Mapping[str, tuple[str, str, bytes]]) -> str:
    """The whole report as one HTML string; `figures` maps a name to (title, caption, PNG bytes)."""
    s = results.summary
    territory = results.scenario.territory
    site_names = dict(zip(territory.site_id.astype(str), territory.site_name.astype(str)))
    site_names[NO_SITE] = "no site within reach"
    scenario = str(s.get("scenario", results.config.scenario.name))

    def fig(name: str) -> str:
        return figure_html(figures[name][2], figures[name][0], figures[name][1]) if name in figures else ""

    sections = [
        f"<h1>France Services en mobilité: {escape(scenario)}</h1>",
        f"<p class=\"facts\">{facts(s)}. Simulator version {escape(__version__)}.</p>",
        "<h2>Headline KPIs</h2>",
        "<p class=\"note\">Means over replications with 95% confidence intervals (t-interval, clipped at zero and, "
        "for shares, at 100%). Counts are per run (the needs arising over the simulated weeks); waits cover "
        "citizens who reached a desk, while needs met within 7 days counts every need, met or not.</p>",
        headline_table(s),
        "<h2>Waiting</h2>", fig("waits"),
    ]
    if results.config.scenario.kind == "territory":
        sections += [
            "<h2>Sites</h2>", fig("sites"), scope_table(results.kpis, "site", SITE_COLUMNS, site_names, "site"),
            "<h2>Agents</h2>", fig("agent_week"), scope_table(results.kpis, "agent", AGENT_COLUMNS, {}, "agent"),
            "<h2>Territory</h2>", fig("map"),
            "<h2>Weekly demand</h2>", fig("weekly"),
            "<h2>Sites and the population within reach</h2>", fig("coverage"),
            "<h2>Assumptions and sources</h2>", assumptions_table(results),
        ]
    sections += ["<h2>Configuration</h2>", f"<pre>{escape(config_yaml(results.config))}</pre>"]
    return (
        "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
        "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">"
        f"<title>{escape(scenario)}: France Services en mobilité</title><style>{CSS}</style></head>"
        f"<body><main>{''.join(sections)}</main></body></html>\n"
    )
