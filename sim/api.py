"""The Python entry points for notebooks and scripts: run a configuration, load a run folder, run a grid.

`run` composes the same configuration as `python -m sim` (Hydra overrides onto configs/, the same
validation) and returns `Results`; `load` reads a folder written by the CLI back into `Results`. Runs with
the same seed draw the same random numbers, so results of two configurations are compared on common
random numbers.
"""

from __future__ import annotations

import itertools
import re
from dataclasses import dataclass, fields
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable, Mapping, Sequence

import numpy as np
import pandas as pd

from sim.build.scenario import build_scenario
from sim.cli import load_config, load_run_config
from sim.config import Config
from sim.core.errors import InputError
from sim.study import experiment
from sim.study.experiment import run_experiment
from sim.study.outputs import read_summary, summary_row

if TYPE_CHECKING:
    from matplotlib.figure import Figure

Overrides = Sequence[str] | Mapping[str, Any] | None
_BARE = re.compile(r"^[A-Za-z0-9_.:/\-]+$")


def override_value(value: Any) -> str:
    """A Python value in Hydra's override syntax (strings quoted unless plain, lists and dicts nested)."""
    if value is None:
        return "null"
    if isinstance(value, (bool, np.bool_)):
        return "true" if value else "false"
    if isinstance(value, (int, np.integer)):
        return str(int(value))
    if isinstance(value, (float, np.floating)):
        return repr(float(value))
    if isinstance(value, Mapping):
        return "{" + ",".join(f"{k}:{override_value(v)}" for k, v in value.items()) + "}"
    if isinstance(value, (list, tuple)):
        return "[" + ",".join(override_value(v) for v in value) + "]"
    text = str(value)
    if _BARE.match(text) and not _reads_as_other_type(text):
        return text
    return "'" + text.replace("\\", "\\\\").replace("'", "\\'") + "'"


def _reads_as_other_type(text: str) -> bool:
    """Whether Hydra would read this bare string as a number, bool or null."""
    if text.lower() in ("true", "false", "null"):
        return True
    try:
        float(text)
    except ValueError:
        return False
    return True


def overrides_list(overrides: Overrides = None, **params: Any) -> list[str]:
    """Hydra override strings from a list ('a.b=1'), a mapping ({'a.b': 1}) and keywords (a__b=1)."""
    if overrides is None:
        out: list[str] = []
    elif isinstance(overrides, Mapping):
        out = [f"{k}={override_value(v)}" for k, v in overrides.items()]
    else:
        out = list(overrides)
    return out + [f"{k.replace('__', '.')}={override_value(v)}" for k, v in params.items()]


@dataclass
class Results(experiment.Results):
    """A run's tables and summary (`sim.study.experiment.Results`), with its figures and report."""

    @classmethod
    def of(cls, results: experiment.Results) -> "Results":
        """The same results, with the plotting methods."""
        return cls(**{f.name: getattr(results, f.name) for f in fields(results)})

    def plot_waits(self, **kwargs: Any) -> "Figure":
        """ECDFs of queue wait and access delay with the targets (see `sim.report.figures.wait_ecdf`)."""
        from sim.report import waits_of

        return waits_of(self, **kwargs)

    def plot_sites(self) -> "Figure":
        """Requests and p90 queue wait per site with CIs."""
        from sim.report import sites_of

        return sites_of(self)

    def plot_agent_week(self, agent: str | None = None, week: int | None = None, replication: int = 0) -> "Figure":
        """One agent's week as a timeline: driving, serving, idle at the desk."""
        from sim.report import agent_week_of

        return agent_week_of(self, agent, week, replication)

    def plot_map(self, week: int | None = None, replication: int = 0, metric: str = "access_delay_days_mean",
                 vmax: float | None = None) -> "Figure":
        """Communes coloured by a KPI, sites, base and one week's tours."""
        from sim.report import map_of

        return map_of(self, week, replication, metric, vmax)

    def plot_weekly(self) -> "Figure":
        """Needs arising each week by outcome."""
        from sim.report import weekly_of

        return weekly_of(self)

    def report(self, path: str | Path) -> Path:
        """Write the self-contained HTML report of this run to `path`."""
        from sim.report import write_report

        return write_report(self, path)


def run(overrides: Overrides = None, *, keep_requests: bool = True,
        on_replication: Callable[[int, int | None], None] | None = None, **params: Any) -> Results:
    """Compose, validate and run a configuration; e.g. `run({"staffing.agents": 2}, experiment__weeks=4)`.

    `on_replication(done, total)` is called after each replication (a progress display).
    """
    return Results.of(run_experiment(load_config(overrides_list(overrides, **params)), keep_requests=keep_requests,
                                     progress=on_replication is None, on_replication=on_replication))


def sensitivity(bounds: Mapping[str, tuple[float, float]], method: str = "morris", trajectories: int = 10,
                n: int = 64, overrides: Overrides = None, kpis: Sequence[str] | None = None, levels: int = 4,
                integers: Sequence[str] = ()) -> pd.DataFrame:
    """Morris (mu_star, sigma) or Sobol (S1, ST, with CIs) indices of the KPIs for the settings in `bounds`, one
    row per (parameter, KPI); every point runs `overrides` on their seed: common random numbers
    (sim.study.sensitivity), so a setting without effect on a KPI gets exactly 0."""
    from sim.study import sensitivity as study

    base = overrides_list(overrides)
    seed = load_config(base).seed

    def summary_of(point: list[str]) -> Mapping[str, float]:
        return run(point, keep_requests=False).summary

    return study.sensitivity(summary_of, bounds, method, trajectories, n, base, kpis or study.DEFAULT_KPIS, levels,
                             seed, integers)


def run_config(run_dir: str | Path) -> Config:
    """The validated configuration a CLI run used, from its `.hydra/config.yaml`."""
    return load_run_config(Path(run_dir))


def load(run_dir: str | Path) -> Results:
    """Read a run folder (summary, KPIs, requests if written, sessions) back into `Results`, scenario rebuilt."""
    folder = Path(run_dir)
    summary = read_summary(folder)
    if summary is None:
        raise FileNotFoundError(f"{folder}: no readable summary.json; the run is missing or incomplete")
    config = run_config(folder)
    requests = folder / "requests.parquet"
    return Results(
        summary=summary,
        kpis=pd.read_csv(folder / "kpis.csv", dtype={"key": str}),
        requests=pd.read_parquet(requests) if requests.is_file() else None,
        sessions=pd.read_parquet(folder / "sessions.parquet"),
        scenario=build_scenario(config),
        config=config,
    )


def run_grid(grid: Mapping[str, Sequence[Any]], overrides: Overrides = None, **params: Any) -> pd.DataFrame:
    """Run every combination of the grid on common random numbers; one row per run, shaped like sweep.parquet.

    Columns: run, the grid's parameters, status (ok or failed), error, then the summary's KPIs with their
    CIs. A combination the configuration refuses (e.g. more visits than the agents' days hold) is failed,
    with its error and no KPIs.
    """
    rows = []
    base = overrides_list(overrides, **params)
    for number, values in enumerate(itertools.product(*grid.values())):
        point = {"run": str(number), **dict(zip(grid, values))}
        try:
            results = run(base + overrides_list(dict(zip(grid, values))), keep_requests=False)
        except InputError as exc:
            rows.append({**point, "status": "failed", "error": str(exc)})
            continue
        rows.append({**point, "status": "ok", "error": None, **summary_row(results.summary)})
    return pd.DataFrame(rows)
