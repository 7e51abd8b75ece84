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
from pathlib import Path
from typing import Callable, Iterator, Protocol

import numpy as np
import pandas as pd
from tqdm import tqdm

from sim.build.scenario import build_scenario
from sim.config import ClusterConfig, Config
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
    timings: dict[str, float] = field(default_factory=dict, repr=False)  # seconds: build, simulate, kpis
    per_replication: pd.DataFrame | None = field(default=None, repr=False)  # overall KPIs (replication, metric, value)

    def kpi(self, metric: str, scope: str = "overall") -> pd.DataFrame:
        """Rows of one metric at one scope, indexed by key."""
        k = self.kpis
        return k[(k["metric"] == metric) & (k["scope"] == scope)].set_index("key")


Replication = tuple[Kpis, dict[str, np.ndarray] | None, dict[str, np.ndarray], float, float]


def _one(args: tuple[Scenario, int, int, bool]) -> Replication:
    """Simulate one replication; return its KPIs, (if kept) its request columns, its agents' session columns,
    and the seconds spent simulating and computing KPIs."""
    scenario, seed, rep, keep_requests = args
    started = time.perf_counter()
    log = run_replication(scenario, seed, rep)
    simulated = time.perf_counter()
    cols = request_columns(scenario, log, table=keep_requests)
    kpis = replication_kpis(scenario, log, cols)
    return kpis, (cols if keep_requests else None), session_columns(log), simulated - started, time.perf_counter() - simulated


def _chunk(tasks: list[tuple[Scenario, int, int, bool]]) -> list[Replication]:
    """Several replications in one job (the function a SLURM job runs)."""
    return [_one(task) for task in tasks]


class Checkpoints(Protocol):
    """Where finished replications are kept while a run is under way (`sim.study.runs.ReplicationCheckpoints`)."""

    def load(self, rep: int) -> Replication | None: ...

    def save(self, rep: int, value: Replication) -> None: ...


def _replications(scenario: Scenario, cfg: Config, keep_requests: bool, count: int, chunk: int | None = None,
                  job_folder: Path | None = None, checkpoints: Checkpoints | None = None) -> Iterator[Replication]:
    """Replications 0..count-1 in order; with `checkpoints`, those already kept are read back, the others
    computed and kept as each finishes (a run started again after a stop redoes only those)."""
    tasks = [(scenario, cfg.seed, r, keep_requests) for r in range(count)]
    if checkpoints is None:
        yield from _computed(tasks, cfg, chunk, job_folder)
        return
    held = {rep: value for rep in range(count) if (value := checkpoints.load(rep)) is not None}
    computed = _computed([t for t in tasks if t[2] not in held], cfg, chunk, job_folder)
    try:
        for rep in range(count):
            if rep in held:
                yield held.pop(rep)
                continue
            value = next(computed)
            checkpoints.save(rep, value)
            yield value
    finally:
        computed.close()


def _computed(tasks: list[tuple[Scenario, int, int, bool]], cfg: Config, chunk: int | None,
              job_folder: Path | None) -> Iterator[Replication]:
    """The replications of `tasks` in order: here, in `n_jobs` processes, or as SLURM jobs (`experiment.cluster`).

    With processes or jobs, `chunk` replications go at a time, so that an early stop wastes little.
    """
    if not tasks:
        return
    cluster = cfg.experiment.cluster
    if cluster.backend != "local":
        yield from _on_cluster(tasks, cluster, chunk or len(tasks), job_folder)
        return
    jobs = cfg.experiment.n_jobs
    if jobs == 1 or len(tasks) == 1:
        yield from map(_one, tasks)
        return
    step = chunk or len(tasks)
    with ProcessPoolExecutor(max_workers=None if jobs == -1 else jobs) as pool:
        for first in range(0, len(tasks), step):
            yield from pool.map(_one, tasks[first:first + step])


def _on_cluster(tasks: list, cluster: ClusterConfig, step: int, job_folder: Path | None) -> Iterator[Replication]:
    """Replications as submitit jobs of `replications_per_job` each, `step` replications at a time, in order."""
    import submitit

    folder = Path(cluster.folder) if cluster.folder else (job_folder or Path(".submitit"))
    executor = submitit.AutoExecutor(folder=folder / "%j", cluster="slurm" if cluster.backend == "slurm" else "local")
    params = {"timeout_min": cluster.timeout_min, "cpus_per_task": cluster.cpus_per_task, "mem_gb": cluster.mem_gb,
              "name": "sim-replications"}
    if cluster.backend == "slurm" and cluster.partition:
        params["slurm_partition"] = cluster.partition
    executor.update_parameters(**params)
    per_job = cluster.replications_per_job
    for first in range(0, len(tasks), step):
        batch = tasks[first:first + step]
        jobs = executor.map_array(_chunk, [batch[i:i + per_job] for i in range(0, len(batch), per_job)])
        for job in jobs:
            try:
                yield from job.result()
            except Exception as exc:  # the job's own error, with where its log is
                raise InputError("experiment.cluster", f"replication job {job.job_id} failed: "
                                 f"{str(exc).strip().splitlines()[-1]} (log: {job.paths.stderr})") from None


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
                   progress: bool = True, job_folder: Path | None = None,
                   checkpoints: Checkpoints | None = None,
                   on_replication: Callable[[int, int | None], None] | None = None) -> Results:
    """Run the replications of a validated config (a number, or `auto` to a precision) and aggregate KPIs (95% CIs).

    Each replication returns arrays; the tables are built once, at the end. `progress` shows a bar of
    replications on a terminal (a sweep shows its own bar of runs instead). `job_folder` holds the files of
    replication jobs (`experiment.cluster`), by default `experiment.cluster.folder` or ./.submitit.
    `checkpoints` keeps each finished replication, and gives back those kept by an earlier attempt.
    `on_replication(done, total)` is called after each replication (total None with `replications=auto`),
    for a progress display other than the terminal's (the explorer's).
    """
    started = time.perf_counter()
    timings = {"build": 0.0, "simulate": 0.0, "kpis": 0.0}
    if scenario is None:
        scenario = build_scenario(cfg)
        timings["build"] = time.perf_counter() - started
    per_rep: list[Kpis] = []
    requests: list[dict[str, np.ndarray]] = []
    sessions: list[dict[str, np.ndarray]] = []
    rule = _precision_rule(cfg)
    count = cfg.experiment.max_replications if rule else cfg.experiment.replications
    workers = (os.cpu_count() or 1) if cfg.experiment.n_jobs == -1 else cfg.experiment.n_jobs
    bar = tqdm(total=None if rule else count, desc="replications", unit="rep",
               disable=not (progress and sys.stderr.isatty()), leave=False)
    if cfg.experiment.cluster.backend != "local":
        workers = max(workers, cfg.experiment.cluster.replications_per_job)
    with closing(_replications(scenario, cfg, keep_requests, count, workers if rule else None, job_folder,
                               checkpoints)) as reps:
        for kpis, req, ses, simulating, computing in reps:
            timings["simulate"] += simulating
            timings["kpis"] += computing
            per_rep.append(kpis)
            sessions.append(ses)
            if req is not None:
                requests.append(req)
            bar.update()
            if on_replication is not None:
                on_replication(len(per_rep), None if rule else count)
            if rule is not None:
                rule.add(_overall(kpis, rule.kpis, cfg.scenario.kind))
                if rule.done():
                    break
    bar.close()
    tabulating = time.perf_counter()
    results = _results(cfg, scenario, per_rep, requests, sessions, started, rule)
    timings["kpis"] += time.perf_counter() - tabulating
    results.timings.update(timings)
    return results


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
