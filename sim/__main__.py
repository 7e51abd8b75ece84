"""`python -m sim [overrides]`: compose the config, run the replications, write the outputs."""

from __future__ import annotations

import shutil
import sys
from pathlib import Path

import hydra
from omegaconf import DictConfig

from sim.cli import (
    CONFIG_DIR,
    CONFIG_NAME,
    check,
    fail,
    in_multirun,
    output_dir,
    register_schema,
    split_argv,
    to_config,
    variant_configs,
)
from sim.config import Config
from sim.core.errors import InputError
from sim.study.compare import compare, format_comparison, write_comparison
from sim.study.experiment import run_experiment
from sim.study.outputs import format_table, write_outputs
from sim.study.runs import complete_run, record_failure, start_run
from sim.sweep import config_hash


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
        start_run(out, digest)
        keep = config.output.requests or config.output.figures or config.output.report
        results = run_experiment(config, progress=not in_sweep, keep_requests=keep)
        if config.output.figures or config.output.report:  # before write_outputs: summary.json marks a complete run
            from sim.report import write_figures_and_report  # matplotlib only when figures are wanted

            write_figures_and_report(results, out, figures=config.output.figures, report=config.output.report)
        write_outputs(results, out)
    except Exception as exc:
        if in_sweep:  # one failed point must not stop the sweep: sweep.parquet lists it with its error
            record_failure(out, exc, digest)
            return None
        if not isinstance(exc, InputError):
            raise
        shutil.rmtree(out, ignore_errors=True)
        fail(exc)
    if config.output.print_table:
        print(format_table(results))
        print(f"outputs: {out}  ({results.elapsed_s:.1f} s)")
    return results.summary.get("cost_per_served")


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
    overrides, multirun, passthrough = split_argv(sys.argv[1:])
    if not passthrough:
        try:
            check(overrides, multirun)
        except InputError as exc:
            fail(exc)
    register_schema()
    app()


if __name__ == "__main__":
    main()
