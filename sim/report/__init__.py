"""Figures and the one-file HTML report of a run, and the figures of a sweep.

`write_figures_and_report` is what `python -m sim` calls after writing the tables; notebooks reach the same
figures through `sim.api.Results.plot_*` (which call the `*_of` functions here) or directly from
`sim.report.figures` and `sim.report.sweep`.
"""

from __future__ import annotations

from pathlib import Path
from typing import Callable, NamedTuple

from matplotlib.figure import Figure

from sim.build.paths import scenario_dir
from sim.report.figures import (
    agent_week,
    coverage_curve,
    render,
    save,
    site_bars,
    territory_map,
    wait_ecdf,
    weekly_flow,
)
from sim.report.geo import commune_polygons
from sim.report.html import report_html
from sim.report.sweep import cost_service_pareto, pareto_front, sweep_heatmap
from sim.study.experiment import Results
from sim.study.outputs import FIGURES_DIR, REPORT, write_atomic


def waits_of(results: Results, **kwargs) -> Figure:
    """ECDFs of queue wait and access delay with the targets (see `sim.report.figures.wait_ecdf`)."""
    return wait_ecdf(results.requests, results.summary, warmup_min=results.scenario.warmup_min, **kwargs)


def sites_of(results: Results) -> Figure:
    """Requests and p90 queue wait per site with CIs."""
    return site_bars(results.kpis, results.scenario.territory)


def agent_week_of(results: Results, agent: str | None = None, week: int | None = None, replication: int = 0) -> Figure:
    """One agent's week as a timeline: driving, serving, idle at the desk."""
    return agent_week(results.sessions, results.requests, results.scenario.territory, agent, week, replication)


def map_of(results: Results, week: int | None = None, replication: int = 0, metric: str = "access_delay_days_mean",
           vmax: float | None = None) -> Figure:
    """Communes coloured by a KPI, sites, base and one week's tours (outlines from the scenario's polygons.csv)."""
    territory = results.scenario.territory
    polygons = commune_polygons(territory.commune_insee, scenario_dir(results.config))
    return territory_map(territory, results.kpis, results.sessions, week=week, replication=replication,
                         metric=metric, vmax=vmax, polygons=polygons)


CURVE_MAX_SITES = 60
"""A scenario with more sites draws its coverage curve only from the builder's coverage.csv."""


def coverage_of(results: Results) -> Figure:
    """The most population share K sites can put within reach: the builder's curve over every candidate
    (coverage.csv), or else the curve over the scenario's own sites; the scenario's number of sites marked."""
    import pandas as pd

    from sim.build.siting import coverage_curve as curve_of
    from sim.build.territory_builder import COVERAGE

    scenario, reach_min = results.scenario, results.config.citizens.max_travel_min
    saved = scenario_dir(results.config) / COVERAGE
    if saved.is_file():
        shares = pd.read_csv(saved)["population_share"].to_numpy(float)
    else:
        t = scenario.territory
        shares = curve_of(t.population, scenario.reach, t.n_sites, reach_min)
    return coverage_curve(shares, scenario.territory.n_sites, scenario.territory.name, reach_min)


def weekly_of(results: Results) -> Figure:
    """Needs arising each week by outcome."""
    return weekly_flow(results.kpis)


class RunFigure(NamedTuple):
    """A figure of a run: file name, title and caption in the report, and how to draw it."""

    name: str
    title: str
    caption: str
    draw: Callable[[Results], Figure]


RUN_FIGURES: tuple[RunFigure, ...] = (
    RunFigure("waits", "Queue wait and access delay",
              "Empirical cumulative distributions over every request of every replication, targets dashed.",
              waits_of),
    RunFigure("sites", "Requests and queue wait per site",
              "Mean over replications with 95% confidence intervals; the dashed line is the 20-minute target.",
              sites_of),
    RunFigure("agent_week", "An agent's week",
              "Replication 0, first agent, first week with the most session days: driving, serving, and the desk "
              "open with nobody to serve.",
              agent_week_of),
    RunFigure("map", "Territory",
              "Communes coloured by the mean access delay of their residents; lines are the agents' daily tours "
              "from the base in one week of replication 0.",
              map_of),
    RunFigure("coverage", "Sites and the population within reach",
              "The most population that K sites can put within the citizens' reach (exact maximal covering), "
              "against K; the circle is this scenario's number of sites, the dashed line the 95% promise.",
              coverage_of),
    RunFigure("weekly", "Weekly demand by outcome",
              "Needs by the week they arose, split by what became of them; error bars are the 95% CI of the total.",
              weekly_of),
)


def run_figures(results: Results) -> tuple[RunFigure, ...]:
    """The figures that make sense for this run (a queueing-theory run has no territory, rota or weeks)."""
    wanted = {"waits"} if results.config.scenario.kind == "mmc" else {f.name for f in RUN_FIGURES}
    from sim.build.territory_builder import COVERAGE

    if "coverage" in wanted and results.scenario.territory.n_sites > CURVE_MAX_SITES \
            and not (scenario_dir(results.config) / COVERAGE).is_file():
        wanted.discard("coverage")
    if results.requests is None:
        wanted.discard("waits")
    return tuple(f for f in RUN_FIGURES if f.name in wanted)


def draw_figures(results: Results, folder: Path | None = None, svg: bool = False) -> dict[str, tuple[str, str, bytes]]:
    """Draw and render each figure of the run once; write its PNG (and SVG if asked) into `folder` if given; return the PNGs."""
    embedded = {}
    for spec in run_figures(results):
        fig = spec.draw(results)
        png = save(fig, folder, spec.name, svg) if folder is not None else render(fig, "png")
        embedded[spec.name] = (spec.title, spec.caption, png)
    return embedded


def write_report(results: Results, path: str | Path, figures: dict[str, tuple[str, str, bytes]] | None = None) -> Path:
    """Write the self-contained HTML report atomically; figures are drawn in memory unless given."""
    text = report_html(results, draw_figures(results) if figures is None else figures)
    path = Path(path)
    write_atomic(path, lambda tmp: tmp.write_text(text, encoding="utf-8"))
    return path


def write_figures_and_report(results: Results, out_dir: Path, figures: bool = True, report: bool = True,
                             svg: bool = False) -> None:
    """Write figures/<name>.png (and .svg if asked) and report.html (figures embedded) into the run folder."""
    if not (figures or report):
        return
    embedded = draw_figures(results, out_dir / FIGURES_DIR if figures else None, svg)
    if report:
        write_report(results, out_dir / REPORT, embedded)


__all__ = [
    "REPORT", "RUN_FIGURES", "agent_week", "agent_week_of", "cost_service_pareto", "draw_figures", "map_of",
    "pareto_front", "run_figures", "site_bars", "sites_of", "sweep_heatmap", "territory_map", "wait_ecdf",
    "waits_of", "weekly_flow", "weekly_of", "write_figures_and_report", "write_report",
]
