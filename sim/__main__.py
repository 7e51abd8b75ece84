"""`python -m sim [overrides]`: compose the config, run the replications, write the outputs."""

from __future__ import annotations

import time

STARTED = time.perf_counter()  # before the imports below: `output.timings` reports them

import gc  # noqa: E402
import sys  # noqa: E402
from pathlib import Path  # noqa: E402

import hydra  # noqa: E402
from omegaconf import DictConfig  # noqa: E402

from sim.cli import (  # noqa: E402
    CONFIG_DIR,
    EXIT_FAULT,
    NoRoom,
    CONFIG_NAME,
    check,
    check_run,
    fail,
    in_multirun,
    launched_here,
    output_dir,
    register_schema,
    split_argv,
    to_config,
    variant_configs,
)
from sim.config import Config  # noqa: E402
from sim.core.errors import InputError  # noqa: E402
from sim.study.compare import compare, format_comparison, write_comparison  # noqa: E402
from sim.study.experiment import Results, run_experiment  # noqa: E402
from sim.study.outputs import format_table, write_outputs  # noqa: E402
from sim.study.runs import (  # noqa: E402
    ReplicationCheckpoints,
    complete_run,
    discard_run,
    fault_of,
    finish_run,
    record_failure,
    start_run,
)
from sim.sweep import config_hash  # noqa: E402

PHASES: dict[str, float] = {}
"""Seconds of each phase of this command, for `output.timings`."""
_CHECKED: list = []  # the (config, scenario) that main() checked and built, reused by the run


@hydra.main(config_path=str(CONFIG_DIR), config_name=CONFIG_NAME, version_base="1.3")
def app(cfg: DictConfig) -> float | None:
    """One Hydra job: a run of every replication of one configuration (in a sweep, skipped if already complete)."""
    out = output_dir()
    in_sweep = in_multirun()
    digest = config_hash(cfg)
    try:
        config = to_config(cfg)
        if config.experiment.variants:  # variants compared on common random numbers (sim/study/compare.py)
            return run_comparison(config, out)
        if in_sweep and (done := complete_run(out, digest)) is not None:
            print(f"{out}: complete, skipped")
            return done.get("cost_per_served")
        start_run(out)
        checkpoints = ReplicationCheckpoints(out, digest) if in_sweep else None
        results = _run(config, out, checkpoints, in_sweep)
        finish_run(out, digest, checkpoints.loaded if checkpoints is not None else 0)
    except Exception as exc:
        fault = fault_of(exc)
        if in_sweep:  # one failed point must not stop the sweep: sweep.parquet lists it with its error
            error = record_failure(out, exc, digest)
            if fault is not None and launched_here():  # the next runs would fail alike: stop, resume later
                print(f"error: hydra.sweep.dir: {error} in {out}; the sweep stops there: make room, then run the "
                      "same command again to resume it", file=sys.stderr)
                raise SystemExit(EXIT_FAULT) from None
            print(f"error: {error}  (run {out}, the sweep goes on)", file=sys.stderr)
            return None
        if not isinstance(exc, InputError) and fault is None:
            raise
        discard_run(out)
        if fault is not None:
            print(f"error: hydra.run.dir: {fault} in {out}; nothing of the run was kept: make room and run again",
                  file=sys.stderr)
            raise SystemExit(EXIT_FAULT) from None
        fail(exc)
    for note in results.scenario.notes:
        print(f"note: {note}", file=sys.stderr)
    if config.output.print_table:
        print(format_table(results))
        print(f"outputs: {out}  ({results.elapsed_s:.1f} s)")
    if config.output.timings:
        print(timings_line())
    return results.summary.get("cost_per_served")


def _run(config: Config, out: Path, checkpoints: ReplicationCheckpoints | None, in_sweep: bool) -> Results:
    """Simulate the replications (reusing the scenario main() built), then write figures, report and tables."""
    keep = config.output.requests or config.output.figures or config.output.report
    scenario = _CHECKED[1] if _CHECKED and _CHECKED[0] == config else None
    PHASES["hydra"] = time.perf_counter() - PHASES.pop("_hydra", time.perf_counter())
    results = run_experiment(config, scenario, progress=not in_sweep, keep_requests=keep, job_folder=out / ".submitit",
                             checkpoints=checkpoints)
    PHASES.update(results.timings)
    if config.output.figures or config.output.report:
        _figures_and_report(results, out, config)
    tick = time.perf_counter()
    write_outputs(results, out)
    PHASES["outputs"] = time.perf_counter() - tick
    return results


def _figures_and_report(results, out: Path, config: Config) -> None:
    """Figures (PNG, SVG if asked) and the HTML report, each rendered once; timed for `output.timings`."""
    from sim.report import FIGURES_DIR, REPORT, draw_figures, write_report  # matplotlib only when wanted

    tick = time.perf_counter()
    embedded = draw_figures(results, out / FIGURES_DIR if config.output.figures else None, config.output.svg)
    PHASES["figures"] = time.perf_counter() - tick
    if config.output.report:
        tick = time.perf_counter()
        write_report(results, out / REPORT, embedded)
        PHASES["report"] = time.perf_counter() - tick


def timings_line() -> str:
    """One line: seconds of each phase of the command so far, and in all."""
    order = ("imports", "check", "hydra", "build", "simulate", "kpis", "outputs", "figures", "report")
    parts = [f"{name} {PHASES[name]:.2f}" for name in order if name in PHASES]
    return f"timings (s): {', '.join(parts)}; total {time.perf_counter() - STARTED:.2f}"


def run_comparison(config: Config, out_dir: Path) -> None:
    """The comparison of a run whose experiment lists variants: run them on common random numbers, write, print."""
    from hydra.core.hydra_config import HydraConfig

    hydra_cfg = HydraConfig.get()
    title = hydra_cfg.runtime.choices.get("experiment") or "comparison"
    e = config.experiment
    configs = variant_configs(list(hydra_cfg.overrides.task), dict(e.variants))
    comparison = compare(configs, e.reference, title, config.output.requests)
    write_comparison(comparison, out_dir)
    if config.output.print_table:
        print(format_comparison(comparison))
        print(f"outputs: {out_dir}")


def main() -> None:
    """Check the command line first (one-line errors, exit 2, nothing written), then hand over to Hydra."""
    PHASES["imports"] = time.perf_counter() - STARTED
    tick = time.perf_counter()
    if {"-h", "--help"} & set(sys.argv[1:]):
        from sim.usage import help_text

        print(help_text(CONFIG_DIR))
        return
    overrides, multirun, passthrough = split_argv(sys.argv[1:])
    if not passthrough:
        try:
            if multirun:
                check(overrides, multirun)
            else:
                configs, scenario = check_run(overrides)
                if scenario is not None:
                    _CHECKED[:] = [configs[0], scenario]
        except InputError as exc:
            fail(exc)
        except NoRoom as exc:
            print(f"error: {exc}", file=sys.stderr)
            raise SystemExit(EXIT_FAULT) from None
    PHASES["check"] = time.perf_counter() - tick
    PHASES["_hydra"] = time.perf_counter()
    register_schema()
    gc.collect()
    gc.freeze()  # what the imports and the check made lives to the end: the collector need not walk it again
    app()


if __name__ == "__main__":
    main()
