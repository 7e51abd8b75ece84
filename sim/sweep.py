"""Sweeps on Hydra: the table of a multirun folder, the config hash that lets a sweep resume, the callback.

A multirun (`python -m sim -m ...`) writes one folder per run under `hydra.sweep.dir`, each ending complete
or failed (`sim.study.runs`). `collect` turns the folders into one table, `sweep.parquet` and its twin
`sweep.csv`, one row per run: the swept parameters (dotted config paths), a `status` (ok, failed,
incomplete) and `error`, and every headline KPI with `<kpi>_ci_low`/`<kpi>_ci_high`. `SweepCallback` writes
that table when a multirun ends and shows progress meanwhile. Re-running a sweep into the same
`hydra.sweep.dir` skips the runs that are complete for the same config hash (`config_hash`).

The optimiser (`sim.study.optimise`) picks from the table the least-cost run meeting service targets and
writes the Pareto front of cost against the target KPIs to `pareto.csv`:

    python -m sim.sweep collect multirun/grid
    python -m sim.sweep optimise multirun/grid --target 'share_wait_le_20min>=0.95'
"""

from __future__ import annotations

import argparse
import hashlib
import json
import re
import sys
from pathlib import Path
from typing import Any, Iterable, Sequence

import pandas as pd
from hydra.experimental.callback import Callback
from omegaconf import DictConfig, OmegaConf

from sim.config import OptimiseConfig
from sim.core.errors import InputError
from sim.study.optimise import run_optimiser, swept_columns, targets_of
from sim.study.outputs import summary_row, write_atomic
from sim.study.progress import SweepProgress
from sim.study.runs import STATUSES, SweepLock, run_dirs, run_status

TABLE = "sweep.parquet"
TABLE_CSV = "sweep.csv"
UNHASHED: tuple[tuple[str, ...], ...] = (("optimise",), ("output", "print_table"), ("experiment", "n_jobs"))
"""Settings that change neither a run's numbers nor its files, so changing them does not redo a run."""


def config_hash(cfg: DictConfig) -> str:
    """SHA-256 of a run's resolved config (less UNHASHED): a resumed sweep redoes a run only if this changed."""
    data = OmegaConf.to_container(cfg, resolve=True)
    for path in UNHASHED:
        node = data
        for key in path[:-1]:
            node = node.get(key, {})
        node.pop(path[-1], None)
    return hashlib.sha256(json.dumps(data, sort_keys=True, default=str).encode()).hexdigest()


def _parse(overrides: Sequence[str]) -> list:
    from hydra.core.override_parser.overrides_parser import OverridesParser

    return OverridesParser.create().parse_overrides(list(overrides))


def _values(overrides: Sequence[str]) -> dict[str, Any]:
    """{config path: value} of a run's overrides, values typed as Hydra reads them."""
    return {o.key_or_group: o.value() for o in _parse(overrides) if not o.is_delete()}


def sweep_overrides(config: DictConfig) -> list[str]:
    """A multirun's overrides as its sweeper reads them: `hydra.sweeper.params`, then the command line's."""
    params = config.hydra.sweeper.get("params") or {}
    return [f"{k}={v}" for k, v in params.items()] + list(config.hydra.overrides.task)


def sweep_points(overrides: Sequence[str]) -> list[list[str]]:
    """The runs of a basic sweep, as Hydra's basic sweeper makes them from `sweep_overrides`."""
    from hydra._internal.core_plugins.basic_sweeper import BasicSweeper

    return BasicSweeper.split_arguments(_parse(overrides), None)[0]


def swept_keys(sweep_dir: Path, runs: Sequence[dict[str, Any]]) -> list[str]:
    """Parameters swept, from the multirun's saved config; without it, every parameter the runs override."""
    saved = sweep_dir / "multirun.yaml"
    if saved.is_file():
        cfg = OmegaConf.load(saved)
        keys = {o.key_or_group: None for o in _parse(sweep_overrides(cfg)) if o.is_sweep_override()}
        return list(keys)
    return list({k: None for run in runs for k in run})


def collect(sweep_dir: str | Path) -> pd.DataFrame:
    """One row per run of a multirun folder: run, swept parameters, status, error, then KPIs with CIs."""
    sweep_dir = Path(sweep_dir)
    dirs = run_dirs(sweep_dir)
    if not dirs:
        raise InputError(str(sweep_dir), "no run folders (*/.hydra/overrides.yaml) found; is it a multirun folder?")
    values = [_values(OmegaConf.to_container(OmegaConf.load(d / ".hydra" / "overrides.yaml"))) for d in dirs]
    keys = swept_keys(sweep_dir, values)
    rows = []
    for d, run in zip(dirs, values):
        status, error, summary = run_status(d)
        rows.append({"run": d.relative_to(sweep_dir).as_posix(), **{k: run.get(k) for k in keys},
                     "status": status, "error": error, **summary_row(summary)})
    return pd.DataFrame(rows)


def write_table(sweep_dir: str | Path) -> pd.DataFrame:
    """Collect a multirun folder and write sweep.parquet and sweep.csv into it (atomically)."""
    sweep_dir = Path(sweep_dir)
    table = collect(sweep_dir)
    write_atomic(sweep_dir / TABLE, lambda tmp: table.to_parquet(tmp, index=False))
    write_atomic(sweep_dir / TABLE_CSV, lambda tmp: table.to_csv(tmp, index=False, float_format="%.10g"))
    return table


def read_table(sweep_dir: str | Path) -> pd.DataFrame:
    """sweep.parquet of a multirun folder, collected first if missing."""
    path = Path(sweep_dir) / TABLE
    return pd.read_parquet(path) if path.is_file() else write_table(sweep_dir)


def saved_options(sweep_dir: Path) -> OptimiseConfig:
    """The `optimise` node of a multirun's saved config (multirun.yaml), or the defaults."""
    options = OmegaConf.structured(OptimiseConfig)
    saved = sweep_dir / "multirun.yaml"
    if saved.is_file():
        node = OmegaConf.load(saved).get("optimise")
        if node is not None:
            options = OmegaConf.merge(options, node)
    return OmegaConf.to_object(options)


def sweep_size(config: DictConfig) -> int | None:
    """How many runs a multirun will launch (None if its sweeper is not Hydra's basic one)."""
    if not str(config.hydra.sweeper.get("_target_", "")).endswith(("BasicSweeper", "sim_launchers.Sweeper")):
        return None
    return len(sweep_points(sweep_overrides(config)))


class SweepCallback(Callback):
    """Hydra callback: the sweep folder locked while a multirun runs, with progress; at its end sweep.parquet and
    sweep.csv and, if asked, the optimum."""

    def __init__(self) -> None:
        self.progress: SweepProgress | None = None
        self.lock: SweepLock | None = None

    def __getstate__(self) -> dict[str, Any]:
        """Launchers pickle the callbacks into each job; the lock and the progress bar stay in the submitting process."""
        return {**self.__dict__, "progress": None, "lock": None}

    def on_multirun_start(self, config: DictConfig, **kwargs: Any) -> None:
        """Lock the sweep folder (a second sweep on it is refused: one line, exit 2); show progress on a terminal."""
        self.lock = SweepLock(Path(config.hydra.sweep.dir))
        try:
            self.lock.acquire()
        except InputError as exc:
            print(f"error: {exc}", file=sys.stderr)
            raise SystemExit(2) from None
        if sys.stderr.isatty():
            self.progress = SweepProgress(Path(config.hydra.sweep.dir), sweep_size(config))

    def on_multirun_end(self, config: DictConfig, **kwargs: Any) -> None:
        """Write the sweep table, say how many runs failed, run the optimiser if `optimise.enabled`, unlock.

        Runs left incomplete by a fault (a lost job, a full disk) make the command exit with code 1."""
        if self.progress is not None:
            self.progress.close()
        sweep_dir = Path(config.hydra.sweep.dir)
        try:
            table = write_table(sweep_dir)
        except OSError as exc:
            print(f"error: {sweep_dir}: the sweep table could not be written ({exc.strerror or exc}); make room, "
                  f"then run `python -m sim.sweep collect {sweep_dir}`", file=sys.stderr)
            raise SystemExit(1) from None
        counts = table["status"].value_counts()
        print(f"sweep: {len(table)} runs, " + ", ".join(f"{counts[s]} {s}" for s in STATUSES if s in counts)
              + f"; table: {sweep_dir / TABLE}")
        incomplete = int(counts.get("incomplete", 0))
        if incomplete:
            print(f"error: {incomplete} run(s) incomplete (see the error column of {sweep_dir / TABLE_CSV}); run the "
                  "same command again to redo them", file=sys.stderr)
            raise SystemExit(1)
        if "sensitivity.point" in table.columns:
            write_sensitivity(sweep_dir, table, config)
        options = OmegaConf.to_object(config.optimise) if "optimise" in config else OptimiseConfig()
        if options.enabled:
            try:
                run_optimiser(sweep_dir, table, options)
            except InputError as exc:
                print(f"error: {exc}", file=sys.stderr)
                raise SystemExit(2) from None
        if self.lock is not None:
            self.lock.release()


def write_sensitivity(sweep_dir: Path, table: pd.DataFrame, config: DictConfig) -> None:
    """sensitivity.csv and sensitivity.png of a finished experiment=sensitivity sweep."""
    from sim.report.figures import save, sensitivity_figure
    from sim.study.sensitivity import SENSITIVITY_CSV, SENSITIVITY_FIGURE, sweep_indices

    s = OmegaConf.to_object(config.sensitivity)
    result = sweep_indices(table, s.method, s.bounds, s.trajectories, s.n, s.levels, int(config.seed))
    write_atomic(sweep_dir / SENSITIVITY_CSV, lambda tmp: result.to_csv(tmp, index=False, float_format="%.6g"))
    save(sensitivity_figure(result), sweep_dir, SENSITIVITY_FIGURE)
    print(f"sensitivity: {sweep_dir / SENSITIVITY_CSV}")
    for kpi in result["kpi"].unique():
        top = result[result["kpi"] == kpi].nlargest(3, result.columns[2])
        print(f"  {kpi}: " + ", ".join(f"{r.parameter} {getattr(r, result.columns[2]):.3g}" for r in top.itertuples()))


# --- command line -----------------------------------------------------------------------------------------


def main(argv: Iterable[str] | None = None) -> int:
    """`python -m sim.sweep collect DIR` or `optimise DIR [--cost KPI] [--target 'KPI>=X' ...] [--use-ci]`."""
    parser = argparse.ArgumentParser(prog="python -m sim.sweep", description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True)
    p = sub.add_parser("collect", help="(re)build sweep.parquet and sweep.csv of a multirun folder")
    p.add_argument("sweep_dir", type=Path)
    optimise = sub.add_parser("optimise", help="least-cost run meeting the targets; writes pareto.csv")
    p = sub.add_parser("robust", help="the cheapest of the best runs meeting the targets with a probability, under "
                                      "the uncertain assumptions; writes robust.csv")
    for q in (optimise, p):
        q.add_argument("sweep_dir", type=Path)
        q.add_argument("--cost", help="KPI to minimise (default: the sweep's optimise.cost)")
        q.add_argument("--target", action="append", metavar="KPI>=X",
                       help="replaces the sweep's optimise.targets; repeat for several (operators >=, <=, >, <)")
        q.add_argument("--use-ci", action="store_true", default=None,
                       help="require the 95%% CI bound to meet each target")
    p.add_argument("--top", type=int, default=4, help="how many of the cheapest runs meeting the targets (default 4)")
    p.add_argument("--samples", type=int, default=20, help="samples of the assumptions (default 20)")
    p.add_argument("--probability", type=float, default=0.8, help="probability to meet the targets (default 0.8)")
    args = parser.parse_args(list(argv) if argv is not None else None)
    try:
        if not args.sweep_dir.is_dir():
            raise InputError(str(args.sweep_dir), "not a folder")
        if args.command == "collect":
            table = write_table(args.sweep_dir)
            print(f"{len(table)} runs ({(table['status'] == 'ok').sum()} ok): {args.sweep_dir / TABLE}")
            return 0
        options = saved_options(args.sweep_dir)
        options.cost = args.cost or options.cost
        options.use_ci = options.use_ci if args.use_ci is None else args.use_ci
        if args.target:
            options.targets = dict(_target_arg(t) for t in args.target)
        targets_of(options)  # a malformed target is bad input, before reading any table
        if args.command == "robust":
            return robust_choice(args.sweep_dir, options, args.top, args.samples, args.probability)
        run_optimiser(args.sweep_dir, read_table(args.sweep_dir), options)
    except InputError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    return 0


def robust_choice(sweep_dir: Path, options: OptimiseConfig, top: int, samples: int, probability: float) -> int:
    """Evaluate the `top` cheapest runs meeting the targets (by the mean) under the uncertain assumptions of
    sim.config.SENSITIVITY_BOUNDS not set by the run itself; write robust.csv and print the recommendation."""
    from sim.api import run
    from sim.config import SENSITIVITY_BOUNDS
    from sim.study.robust import ROBUST_CSV, robust

    if top < 1:
        raise InputError("--top", f"must be >= 1, got {top}")
    targets = targets_of(options)
    table = read_table(sweep_dir)
    ok = table[table["status"] == "ok"]
    meets = pd.Series(True, index=ok.index)
    for target in targets:
        meets &= target.met(ok, options.use_ci)
    best = ok[meets].sort_values(options.cost).head(top)
    if best.empty:
        raise InputError("optimise.targets", f"no run of {sweep_dir} meets them: nothing to make robust")
    setups = {str(r): _run_overrides(sweep_dir / str(r)) for r in best["run"]}
    fixed = {o.split("=", 1)[0].lstrip("+~") for s in setups.values() for o in s}
    bounds = {k: v for k, v in SENSITIVITY_BOUNDS.items() if k not in fixed}
    result = robust(lambda o: run(o, keep_requests=False).summary, setups, bounds, targets, options.cost, samples,
                    probability, integers=("staffing.agents",))
    params = [c for c in swept_columns(table) if c in best.columns]
    result = best.set_index(best["run"].astype(str))[params].join(result.set_index("setup")).reset_index(names="run")
    write_atomic(sweep_dir / ROBUST_CSV, lambda tmp: result.to_csv(tmp, index=False, float_format="%.6g"))
    print(result.to_string(index=False, float_format=lambda x: f"{x:.3g}"))
    chosen = result[result["recommended"]]
    if chosen.empty:
        print(f"no run meets the targets with probability {probability:g} under the assumptions' bounds; "
              f"table: {sweep_dir / ROBUST_CSV}")
    else:
        row = chosen.iloc[0]
        print(f"recommended (cheapest meeting every target with probability >= {probability:g}): run {row['run']}, "
              + ", ".join(f"{p}={row[p]}" for p in params) + f"; table: {sweep_dir / ROBUST_CSV}")
    return 0


def _run_overrides(run_dir: Path) -> list[str]:
    """The overrides a run of the sweep was made with (its .hydra/overrides.yaml), less Hydra's own."""
    listed = OmegaConf.load(run_dir / ".hydra" / "overrides.yaml")
    return [str(o) for o in listed if not str(o).lstrip("+~").startswith("hydra")]


def _target_arg(text: str) -> tuple[str, str]:
    """('share_wait_le_20min', '>= 0.9') from 'share_wait_le_20min>=0.9'."""
    found = re.fullmatch(r"\s*([A-Za-z_][A-Za-z0-9_]*)\s*(>=|<=|>|<)\s*(\S+)\s*", text)
    if not found:
        raise InputError("--target", f"expected KPI>=value or KPI<=value, got {text!r}")
    return found.group(1), f"{found.group(2)} {found.group(3)}"


if __name__ == "__main__":
    raise SystemExit(main())
