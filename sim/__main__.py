"""`python -m sim [overrides]`: compose the config, run the replications, write the outputs."""

from __future__ import annotations

import shutil
import sys

import hydra
from omegaconf import DictConfig

from sim.cli import CONFIG_DIR, CONFIG_NAME, check, fail, in_multirun, output_dir, split_argv
from sim.config import register_schema, to_config
from sim.errors import InputError
from sim.experiment import run_experiment
from sim.outputs import format_table, write_outputs
from sim.sweep import complete_run, config_hash, record_failure, start_run


@hydra.main(config_path=str(CONFIG_DIR), config_name=CONFIG_NAME, version_base="1.3")
def app(cfg: DictConfig) -> float | None:
    """One Hydra job: a run of every replication of one configuration (in a sweep, skipped if already complete)."""
    out = output_dir()
    in_sweep = in_multirun()
    digest = config_hash(cfg)
    try:
        config = to_config(cfg)
        if config.experiment.variants:  # variants compared on common random numbers (sim/compare.py)
            from sim.compare import run_from_hydra

            return run_from_hydra(config, out)
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
