"""The Python entry points for notebooks and scripts: run a configuration, load a run folder, run a grid.

`run` composes the same configuration as `python -m sim` (Hydra overrides onto configs/, the same
validation) and returns `Results`; `load` reads a folder written by the CLI back into `Results`. Runs with
the same seed draw the same random numbers, so results of two configurations are compared on common
random numbers.
"""

from __future__ import annotations

import itertools
import re
from pathlib import Path
from typing import Any, Mapping, Sequence

import numpy as np
import pandas as pd

from sim.cli import load_config
from sim.config import Config, to_config
from sim.errors import InputError
from sim.experiment import Results, run_experiment
from sim.outputs import read_summary, summary_row
from sim.scenario import build_scenario

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


def run(overrides: Overrides = None, *, keep_requests: bool = True, **params: Any) -> Results:
    """Compose, validate and run a configuration; e.g. `run({"staffing.agents": 2}, experiment__weeks=4)`."""
    return run_experiment(load_config(overrides_list(overrides, **params)), keep_requests=keep_requests)


def run_config(run_dir: str | Path) -> Config:
    """The validated configuration a CLI run used, from its `.hydra/config.yaml`."""
    from omegaconf import OmegaConf

    path = Path(run_dir) / ".hydra" / "config.yaml"
    if not path.is_file():
        raise FileNotFoundError(f"{path}: not found; is {run_dir} a run folder of `python -m sim`?")
    return to_config(OmegaConf.merge(OmegaConf.structured(Config), OmegaConf.load(path)))


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
