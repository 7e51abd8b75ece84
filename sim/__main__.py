"""`python -m sim [overrides]`: compose the config, run the replications, write the outputs."""

from __future__ import annotations

import shutil
import sys

import hydra
from omegaconf import DictConfig

from sim.cli import CONFIG_DIR, CONFIG_NAME, check, fail, output_dir, split_argv
from sim.config import register_schema, to_config
from sim.errors import InputError
from sim.experiment import run_experiment
from sim.outputs import format_table, write_outputs


@hydra.main(config_path=str(CONFIG_DIR), config_name=CONFIG_NAME, version_base="1.3")
def app(cfg: DictConfig) -> float | None:
    """One Hydra job: a run of every replication of one configuration."""
    out = output_dir()
    try:
        config = to_config(cfg)
        results = run_experiment(config)
        write_outputs(results, out)
        if config.output.figures or config.output.report:
            from sim.report import write_figures_and_report  # matplotlib only when figures are wanted

            write_figures_and_report(results, out, figures=config.output.figures, report=config.output.report)
    except InputError as exc:
        shutil.rmtree(out, ignore_errors=True)
        fail(exc)
    if config.output.print_table:
        print(format_table(results))
        print(f"outputs: {out}  ({results.elapsed_s:.1f} s)")
    return results.summary.get("cost_per_served")


def main() -> None:
    """Check the command line first (one-line errors, exit 2, nothing written), then hand over to Hydra."""
    overrides, _, passthrough = split_argv(sys.argv[1:])
    if not passthrough:
        try:
            check(overrides)
        except InputError as exc:
            fail(exc)
    register_schema()
    app()


if __name__ == "__main__":
    main()
