"""Sweeps: one table per multirun, resume of complete runs, progress on a terminal, and the optimiser.

A multirun (`python -m sim -m ...`) writes one folder per run under `hydra.sweep.dir`. Each run ends in
exactly one of two states, both written atomically: complete (`run.json` with the hash of its config, then
`summary.json` last) or failed (`failed.json` with the error). `collect` turns the folders into one table,
`sweep.parquet` and its twin `sweep.csv`, one row per run: the swept parameters (dotted config paths), a
`status` (ok, failed, incomplete) and `error`, and every headline KPI with `<kpi>_ci_low`/`<kpi>_ci_high`.
`SweepCallback` writes that table when a multirun ends and shows progress meanwhile. Re-running a sweep into
the same `hydra.sweep.dir` skips the runs that are complete for the same config (`complete_run`).

`optimise` picks from the table the least-cost run meeting service targets (config node `optimise`) and
writes the Pareto front of cost against the target KPIs to `pareto.csv`:

    python -m sim.sweep collect multirun/grid
    python -m sim.sweep optimise multirun/grid --target 'share_wait_le_20min>=0.95'
"""

from __future__ import annotations

import argparse
import hashlib
import json
import operator
import re
import sys
import threading
import time
import traceback
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Iterable, Sequence

import pandas as pd
from hydra.experimental.callback import Callback
from omegaconf import DictConfig, OmegaConf

from sim.config import OptimiseConfig, parse_target
from sim.errors import InputError
from sim.outputs import SUMMARY, read_summary, summary_row, write_atomic, write_json

RUN = "run.json"
FAILED = "failed.json"
KPIS = "kpis.csv"
TABLE = "sweep.parquet"
TABLE_CSV = "sweep.csv"
PARETO = "pareto.csv"
STATUSES: tuple[str, ...] = ("ok", "failed", "incomplete")
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


def _complete(out: Path) -> tuple[dict, str] | None:
    """(summary, config hash) of a run folder whose outputs are all written, else None."""
    summary = read_summary(out)
    try:
        digest = json.loads((out / RUN).read_text(encoding="utf-8"))["config_sha256"]
    except (OSError, ValueError, KeyError, TypeError):
        return None
    if summary is None or not (out / KPIS).is_file():
        return None
    return summary, digest


def complete_run(out: Path, digest: str) -> dict | None:
    """The summary of a run folder whose outputs are complete and made from the config hashed `digest`."""
    done = _complete(out)
    return done[0] if done is not None and done[1] == digest else None


def start_run(out: Path, digest: str) -> None:
    """Forget any earlier outcome of this folder, then record the config hash before the outputs are written."""
    for name in (SUMMARY, FAILED):
        (out / name).unlink(missing_ok=True)
    write_json(out / RUN, {"config_sha256": digest})


def record_failure(out: Path, exc: BaseException, digest: str) -> None:
    """Write failed.json (atomically) so the sweep table lists this run with its error, and report it on stderr."""
    (out / SUMMARY).unlink(missing_ok=True)
    error = str(exc) if isinstance(exc, InputError) else f"{type(exc).__name__}: {exc}"
    record = {"error": error, "config_sha256": digest}
    if not isinstance(exc, InputError):
        record["traceback"] = "".join(traceback.format_exception(exc))
    write_json(out / FAILED, record)
    print(f"error: {error}  (run {out}, the sweep goes on)", file=sys.stderr)


# --- the table ------------------------------------------------------------------------------------------


def run_dirs(sweep_dir: Path) -> list[Path]:
    """The run folders of a multirun (those holding .hydra/overrides.yaml), in job order."""
    found = [p.parent.parent for p in sweep_dir.rglob(".hydra/overrides.yaml") if ".submitit" not in p.parts]
    found = [p for p in found if p != sweep_dir]
    return sorted(found, key=lambda p: (int(p.name) if p.name.isdigit() else sys.maxsize, str(p)))


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


def run_status(out: Path) -> tuple[str, str | None, dict[str, Any]]:
    """(status, error, summary) of a run folder: ok with its summary, failed with its error, or incomplete."""
    done = _complete(out)
    if done is not None:
        return "ok", None, done[0]
    try:
        return "failed", json.loads((out / FAILED).read_text(encoding="utf-8"))["error"], {}
    except (OSError, ValueError, KeyError, TypeError):
        return "incomplete", "no complete outputs (still running, killed, or lost)", {}


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


def swept_columns(table: pd.DataFrame) -> list[str]:
    """The swept-parameter columns of a sweep table (between `run` and `status`)."""
    cols = list(table.columns)
    return cols[cols.index("run") + 1:cols.index("status")]


# --- the optimiser ----------------------------------------------------------------------------------------

OPERATORS: dict[str, Callable[[Any, Any], Any]] = {">=": operator.ge, "<=": operator.le, ">": operator.gt, "<": operator.lt}


@dataclass(frozen=True)
class Target:
    """A service target on one KPI, e.g. share_wait_le_20min >= 0.9."""

    kpi: str
    op: str
    value: float

    @property
    def higher_is_better(self) -> bool:
        """Whether the KPI is to be maximised (a lower bound) or minimised (an upper bound)."""
        return self.op in (">=", ">")

    def met(self, table: pd.DataFrame, use_ci: bool) -> pd.Series:
        """Rows meeting the target: by the mean, or with use_ci by the CI bound on the wrong side."""
        column = self.kpi
        if use_ci:
            column = f"{self.kpi}_ci_low" if self.higher_is_better else f"{self.kpi}_ci_high"
        values = pd.to_numeric(table[column], errors="coerce")
        return OPERATORS[self.op](values, self.value) & values.notna()

    def __str__(self) -> str:
        return f"{self.kpi} {self.op} {self.value:g}"


def targets_of(options: OptimiseConfig) -> list[Target]:
    """The targets of the `optimise` node as `Target`s."""
    return [Target(kpi, *parse_target(f"optimise.targets.{kpi}", text)) for kpi, text in options.targets.items()]


def pareto_mask(table: pd.DataFrame, cost: str, targets: Sequence[Target]) -> pd.Series:
    """Runs that no other run beats: as cheap or cheaper and as good or better on every target KPI, and better on one."""
    columns = [cost] + [t.kpi for t in targets]
    signs = [1.0] + [-1.0 if t.higher_is_better else 1.0 for t in targets]  # lower is better after the sign
    values = table[columns].apply(pd.to_numeric, errors="coerce").to_numpy(float) * signs
    valid = ~pd.isna(values).any(axis=1)
    front = valid.copy()
    for i in range(len(values)):
        if valid[i]:
            others = values[valid]
            front[i] = not ((others <= values[i]).all(axis=1) & (others < values[i]).any(axis=1)).any()
    return pd.Series(front, index=table.index)


@dataclass
class Optimum:
    """The optimiser's answer: the least-cost run meeting every target (None if none does) and the Pareto front."""

    best: pd.Series | None
    pareto: pd.DataFrame
    targets: list[Target]
    cost: str

    def describe(self, params: Sequence[str]) -> str:
        """One line: the set-up chosen, its cost and service levels."""
        if self.best is None:
            return "no run meets the targets"
        setup = " ".join(f"{p}={_shown(self.best[p])}" for p in params)
        kpis = ", ".join(f"{k} {_shown(self.best[k])}" for k in [self.cost] + [t.kpi for t in self.targets])
        return f"least {self.cost} meeting {' and '.join(map(str, self.targets))}: {setup} (run {self.best['run']}): {kpis}"


def _shown(value: Any) -> str:
    return f"{value:.4g}" if isinstance(value, float) else str(value)


def optimise(table: pd.DataFrame, options: OptimiseConfig) -> Optimum:
    """The least-cost run of a sweep table meeting the targets, and the Pareto front of cost against the target KPIs."""
    targets = targets_of(options)
    for field, kpi in [("optimise.cost", options.cost)] + [(f"optimise.targets.{t.kpi}", t.kpi) for t in targets]:
        if kpi not in table.columns:
            known = [c for c in table.columns if f"{c}_ci_low" in table.columns]
            raise InputError(field, f"no KPI {kpi!r} in the sweep table; known: {', '.join(known) or 'none (no run completed)'}")
    ok = table[table["status"] == "ok"]
    feasible = pd.Series(True, index=ok.index)
    for t in targets:
        feasible &= t.met(ok, options.use_ci)
    front = pareto_mask(ok, options.cost, targets)
    params = swept_columns(table)
    pareto = ok[front].assign(meets_targets=feasible[front])
    pareto = pareto[["run", *params, options.cost, *[t.kpi for t in targets], "meets_targets"]]
    pareto = pareto.sort_values(options.cost, kind="stable").reset_index(drop=True)  # ties: in run order
    candidates = ok[feasible]
    candidates = candidates.assign(_cost=pd.to_numeric(candidates[options.cost], errors="coerce")).dropna(subset=["_cost"])
    best = candidates.sort_values("_cost", kind="stable").iloc[0].drop("_cost") if len(candidates) else None
    pareto["optimal"] = pareto["run"] == (best["run"] if best is not None else None)
    return Optimum(best=best, pareto=pareto, targets=targets, cost=options.cost)


def unreachable(table: pd.DataFrame, optimum: Optimum) -> InputError:
    """The one-line error when no run meets the targets, with the best level reached for each target."""
    ok = table[table["status"] == "ok"]
    best = []
    for t in optimum.targets:
        values = pd.to_numeric(ok[t.kpi], errors="coerce")
        if values.notna().any():
            best.append(f"best {t.kpi} {(values.max() if t.higher_is_better else values.min()):.4g}")
    reached = f"; {', '.join(best)}" if best else ""
    return InputError("optimise.targets", f"no run of {len(table)} ({len(ok)} complete) meets "
                      f"{' and '.join(map(str, optimum.targets))}{reached}")


def run_optimiser(sweep_dir: Path, table: pd.DataFrame, options: OptimiseConfig) -> Optimum:
    """Optimise a sweep table, write pareto.csv beside it, print the answer; InputError if no run meets the targets."""
    optimum = optimise(table, options)
    write_atomic(sweep_dir / PARETO, lambda tmp: optimum.pareto.to_csv(tmp, index=False, float_format="%.10g"))
    if optimum.best is None:
        raise unreachable(table, optimum)
    print(optimum.describe(swept_columns(table)))
    print(f"Pareto front ({len(optimum.pareto)} runs): {sweep_dir / PARETO}")
    return optimum


def saved_options(sweep_dir: Path) -> OptimiseConfig:
    """The `optimise` node of a multirun's saved config (multirun.yaml), or the defaults."""
    options = OmegaConf.structured(OptimiseConfig)
    saved = sweep_dir / "multirun.yaml"
    if saved.is_file():
        node = OmegaConf.load(saved).get("optimise")
        if node is not None:
            options = OmegaConf.merge(options, node)
    return OmegaConf.to_object(options)


# --- progress and the Hydra callback ----------------------------------------------------------------------


class SweepProgress:
    """Runs done / total and time left, polled from the run folders (so it works with every launcher)."""

    def __init__(self, sweep_dir: Path, total: int | None, poll_s: float = 0.5) -> None:
        from tqdm import tqdm

        self.sweep_dir, self.poll_s = sweep_dir, poll_s
        self.started = time.time()
        self.done_before = {d for d in run_dirs(sweep_dir) if (d / SUMMARY).is_file()}
        self.bar = tqdm(total=total, initial=min(len(self.done_before), total or len(self.done_before)),
                        desc="sweep", unit="run", dynamic_ncols=True)
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self._poll, daemon=True)
        self.thread.start()

    def _done(self) -> int:
        """Runs complete before the sweep started, or ended (complete or failed) since."""
        done = set(self.done_before)
        for d in run_dirs(self.sweep_dir):
            for name in (SUMMARY, FAILED):
                try:
                    if (d / name).stat().st_mtime >= self.started:
                        done.add(d)
                except OSError:
                    pass
        return len(done)

    def _poll(self) -> None:
        while not self.stop.wait(self.poll_s):
            self._update()

    def _update(self) -> None:
        n = self._done()
        if self.bar.total is not None:
            n = min(n, self.bar.total)
        if n > self.bar.n:
            self.bar.update(n - self.bar.n)

    def close(self) -> None:
        """Stop polling and close the bar."""
        self.stop.set()
        self.thread.join()
        self._update()
        self.bar.close()


def sweep_size(config: DictConfig) -> int | None:
    """How many runs a multirun will launch (None if its sweeper is not Hydra's basic one)."""
    if not str(config.hydra.sweeper.get("_target_", "")).endswith("BasicSweeper"):
        return None
    return len(sweep_points(sweep_overrides(config)))


class SweepCallback(Callback):
    """Hydra callback: progress while a multirun runs; at its end sweep.parquet/sweep.csv and, if asked, the optimum."""

    def __init__(self) -> None:
        self.progress: SweepProgress | None = None

    def __getstate__(self) -> dict[str, Any]:
        """Launchers pickle the callbacks into each job; the progress bar stays in the submitting process."""
        return {**self.__dict__, "progress": None}

    def on_multirun_start(self, config: DictConfig, **kwargs: Any) -> None:
        """Show a progress bar of runs on a terminal; stay quiet otherwise."""
        if sys.stderr.isatty():
            self.progress = SweepProgress(Path(config.hydra.sweep.dir), sweep_size(config))

    def on_multirun_end(self, config: DictConfig, **kwargs: Any) -> None:
        """Write the sweep table, say how many runs failed, and run the optimiser if `optimise.enabled`."""
        if self.progress is not None:
            self.progress.close()
        sweep_dir = Path(config.hydra.sweep.dir)
        table = write_table(sweep_dir)
        counts = table["status"].value_counts()
        print(f"sweep: {len(table)} runs, " + ", ".join(f"{counts[s]} {s}" for s in STATUSES if s in counts)
              + f"; table: {sweep_dir / TABLE}")
        options = OmegaConf.to_object(config.optimise) if "optimise" in config else OptimiseConfig()
        if options.enabled:
            try:
                run_optimiser(sweep_dir, table, options)
            except InputError as exc:
                print(f"error: {exc}", file=sys.stderr)
                raise SystemExit(2) from None


# --- command line -----------------------------------------------------------------------------------------


def main(argv: Iterable[str] | None = None) -> int:
    """`python -m sim.sweep collect DIR` or `optimise DIR [--cost KPI] [--target 'KPI>=X' ...] [--use-ci]`."""
    parser = argparse.ArgumentParser(prog="python -m sim.sweep", description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True)
    p = sub.add_parser("collect", help="(re)build sweep.parquet and sweep.csv of a multirun folder")
    p.add_argument("sweep_dir", type=Path)
    p = sub.add_parser("optimise", help="least-cost run meeting the targets; writes pareto.csv")
    p.add_argument("sweep_dir", type=Path)
    p.add_argument("--cost", help="KPI to minimise (default: the sweep's optimise.cost)")
    p.add_argument("--target", action="append", metavar="KPI>=X",
                   help="replaces the sweep's optimise.targets; repeat for several (operators >=, <=, >, <)")
    p.add_argument("--use-ci", action="store_true", default=None, help="require the 95%% CI bound to meet each target")
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
        run_optimiser(args.sweep_dir, read_table(args.sweep_dir), options)
    except InputError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    return 0


def _target_arg(text: str) -> tuple[str, str]:
    """('share_wait_le_20min', '>= 0.9') from 'share_wait_le_20min>=0.9'."""
    found = re.fullmatch(r"\s*([A-Za-z_][A-Za-z0-9_]*)\s*(>=|<=|>|<)\s*(\S+)\s*", text)
    if not found:
        raise InputError("--target", f"expected KPI>=value or KPI<=value, got {text!r}")
    return found.group(1), f"{found.group(2)} {found.group(3)}"


if __name__ == "__main__":
    raise SystemExit(main())
