"""Replications of one configuration: independent random streams, optional parallelism, KPIs with CIs.

Replication r of seed s always draws from the same streams (see `sim.streams`), so the results do not
depend on how many replications run, in which order, or in how many processes.
"""

from __future__ import annotations

import os
import sys
import time
from concurrent.futures import ProcessPoolExecutor
from contextlib import closing
from dataclasses import dataclass, field
from typing import Iterator

import numpy as np
import pandas as pd
from tqdm import tqdm

from sim.build.scenario import build_scenario
from sim.config import Config
from sim.core.errors import InputError
from sim.core.model import run_replication
from sim.core.results import (
    Kpis,
    aggregate,
    overall_values,
    per_replication_frame,
    replication_kpis,
    request_columns,
    requests_frame,
    session_columns,
    sessions_frame,
    summary,
)
from sim.core.scenario import Scenario
from sim.core.units import DAY_MIN
from sim.study.replications import PrecisionRule


@dataclass
class Results:
    """A run's outputs as DataFrames: per-request log, agents' sessions, tidy KPIs with CIs, summary.

    `sim.run` and `sim.load` return `sim.api.Results`, the same with figures and the report.
    """

    summary: dict
    kpis: pd.DataFrame
    requests: pd.DataFrame | None
    sessions: pd.DataFrame
    scenario: Scenario = field(repr=False)
    config: Config = field(repr=False)
    elapsed_s: float = 0.0  # wall time of the replications (not in summary.json, which must be reproducible)
    per_replication: pd.DataFrame | None = field(default=None, repr=False)  # overall KPIs (replication, metric, value)

    def kpi(self, metric: str, scope: str = "overall") -> pd.DataFrame:
        """Rows of one metric at one scope, indexed by key."""
        k = self.kpis
        return k[(k["metric"] == metric) & (k["scope"] == scope)].set_index("key")


Replication = tuple[Kpis, dict[str, np.ndarray] | None, dict[str, np.ndarray]]


def _one(args: tuple[Scenario, int, int, bool]) -> Replication:
    """Simulate one replication; return its KPIs, (if kept) its request columns, and its agents' session columns."""
    scenario, seed, rep, keep_requests = args
    log = run_replication(scenario, seed, rep)
    cols = request_columns(scenario, log)
    return replication_kpis(scenario, log, cols), (cols if keep_requests else None), session_columns(log)


def _replications(scenario: Scenario, cfg: Config, keep_requests: bool, count: int, chunk: int | None = None) -> Iterator[Replication]:
    """Replications 0..count-1 in order; with n_jobs > 1 in processes, `chunk` at a time so an early stop wastes little."""
    tasks = [(scenario, cfg.seed, r, keep_requests) for r in range(count)]
    jobs = cfg.experiment.n_jobs
    if jobs == 1 or len(tasks) == 1:
        yield from map(_one, tasks)
        return
    step = chunk or len(tasks)
    with ProcessPoolExecutor(max_workers=None if jobs == -1 else jobs) as pool:
        for first in range(0, len(tasks), step):
            yield from pool.map(_one, tasks[first:first + step])


def _precision_rule(cfg: Config) -> PrecisionRule | None:
    """The stopping rule of `experiment.replications=auto`, or None for a fixed number."""
    e = cfg.experiment
    if e.replications != "auto":
        return None
    return PrecisionRule(list(e.auto_kpis), e.auto_precision, e.min_replications, e.max_replications, e.auto_look_ahead)


def _overall(kpis: Kpis, names: list[str], kind: str) -> dict[str, float]:
    """One replication's overall value of each KPI in `names`."""
    overall = overall_values(kpis)
    for name in names:
        if name not in overall:
            raise InputError("experiment.auto_kpis", f"{name} is not computed for scenario kind {kind!r}")
    return {name: float(overall[name]) for name in names}


def run_experiment(cfg: Config, scenario: Scenario | None = None, keep_requests: bool = True,
                   progress: bool = True) -> Results:
    """Run the replications of a validated config (a number, or `auto` to a precision) and aggregate KPIs (95% CIs).

    Each replication returns arrays; the tables are built once, at the end. `progress` shows a bar of
    replications on a terminal (a sweep shows its own bar of runs instead).
    """
    scenario = scenario or build_scenario(cfg)
    started = time.perf_counter()
    per_rep: list[Kpis] = []
    requests: list[dict[str, np.ndarray]] = []
    sessions: list[dict[str, np.ndarray]] = []
    rule = _precision_rule(cfg)
    count = cfg.experiment.max_replications if rule else cfg.experiment.replications
    workers = (os.cpu_count() or 1) if cfg.experiment.n_jobs == -1 else cfg.experiment.n_jobs
    bar = tqdm(total=None if rule else count, desc="replications", unit="rep",
               disable=not (progress and sys.stderr.isatty()), leave=False)
    with closing(_replications(scenario, cfg, keep_requests, count, workers if rule else None)) as reps:
        for kpis, req, ses in reps:
            per_rep.append(kpis)
            sessions.append(ses)
            if req is not None:
                requests.append(req)
            bar.update()
            if rule is not None:
                rule.add(_overall(kpis, rule.kpis, cfg.scenario.kind))
                if rule.done():
                    break
    bar.close()
    return _results(cfg, scenario, per_rep, requests, sessions, started, rule)


def _results(cfg: Config, scenario: Scenario, per_rep: list[Kpis], requests: list[dict[str, np.ndarray]],
             sessions: list[dict[str, np.ndarray]], started: float, rule: PrecisionRule | None) -> Results:
    """The replications' arrays as tables, the KPIs aggregated, the summary with the run's facts."""
    kpis = aggregate(per_rep)
    facts = {
        "scenario": cfg.scenario.name,
        "kind": cfg.scenario.kind,
        "replications": len(per_rep),
        "seed": cfg.seed,
        "weeks": cfg.experiment.weeks if cfg.scenario.kind == "territory" else None,
        "agents": len(scenario.rota.agent_names),
        "sites": scenario.territory.n_sites,
        "sessions": int((scenario.rota.session_start < max(scenario.days, 1) * DAY_MIN).sum()),
    }
    if rule is not None:
        facts["replications_auto"] = rule.report()
    reps = range(len(per_rep))
    table = requests_frame(scenario, requests, reps) if requests else None
    return Results(summary=summary(kpis, facts), kpis=kpis, requests=table,
                   sessions=sessions_frame(scenario, sessions, reps), scenario=scenario, config=cfg,
                   elapsed_s=time.perf_counter() - started, per_replication=per_replication_frame(per_rep))
