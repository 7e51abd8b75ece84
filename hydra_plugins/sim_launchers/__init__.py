"""The simulator's Hydra plugins: hydra-submitit-launcher's SLURM and local launchers, surviving lost jobs, and
Hydra's basic sweeper composing each job's configuration from a kept composition.

Selected by configs/hydra/launcher/slurm.yaml and local.yaml, and configs/hydra/sweeper/once.yaml (the
default). Hydra takes plugins only from the `hydra_plugins` package, hence this module outside `sim`.
"""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path
from typing import Sequence

from hydra._internal.core_plugins.basic_sweeper import BasicSweeper
from hydra.types import HydraContext, TaskFunction
from hydra_plugins.hydra_submitit_launcher import submitit_launcher
from omegaconf import DictConfig, OmegaConf

from sim.cli import ComposedOnce
from sim.study.runs import record_lost


class Sweeper(BasicSweeper):
    """Hydra's basic sweeper (the same jobs, in the same order and batches), its launcher's jobs composed by
    `sim.cli.ComposedOnce`: a job costs a copy and a few assignments instead of two compositions."""

    def setup(self, *, hydra_context: HydraContext, task_function: TaskFunction, config: DictConfig) -> None:
        once = HydraContext(config_loader=ComposedOnce(hydra_context.config_loader), callbacks=hydra_context.callbacks)
        super().setup(hydra_context=once, task_function=task_function, config=config)

    def validate_batch_is_legal(self, batch: Sequence[Sequence[str]]) -> None:
        """Hydra's check that every job of the batch composes, done by `ComposedOnce.check_sweep_config`."""
        for overrides in batch:
            self.hydra_context.config_loader.check_sweep_config(self.config, list(overrides))


class SurvivingLostJobs:
    """The submitit launchers' `launch`, except that a lost job (cancelled, killed by a signal, out of memory, on a
    failed node) does not end the sweep: its run is recorded incomplete, and redone when the sweep is resumed."""

    VANISH_CHECK_S = 20.0

    def launch(self, job_overrides: Sequence[Sequence[str]], initial_job_idx: int) -> list:
        import submitit
        from hydra.core.singleton import Singleton
        from hydra.core.utils import JobReturn, JobStatus

        params = dict(self.params)
        executor = submitit.AutoExecutor(cluster=self._EXECUTOR, folder=params.pop("submitit_folder"), **{
            f"{self._EXECUTOR}_max_num_timeout": params.pop("max_num_timeout")} if "max_num_timeout" in params else {})
        base = set(OmegaConf.structured(submitit_launcher.BaseQueueConf).keys())
        executor.update_parameters(**{k if k in base else f"{self._EXECUTOR}_{k}": v for k, v in params.items()})
        Path(str(self.config.hydra.sweep.dir)).mkdir(parents=True, exist_ok=True)
        numbers = range(initial_job_idx, initial_job_idx + len(job_overrides))
        args = [(list(o), "hydra.sweep.dir", n, f"job_id_for_{n}", Singleton.get_state()) for o, n in zip(job_overrides, numbers)]
        jobs = executor.map_array(self, *zip(*args))
        vanished = self._wait(jobs)
        returns = []
        for job, overrides, number in zip(jobs, job_overrides, numbers):
            try:
                if job.job_id in vanished:
                    raise LookupError(job.job_id)
                returns.append(job.results()[0])
            except Exception:  # the job ended without a result: say so, record it, go on
                out = self._run_dir(list(overrides), number)
                how = "vanished from the queue (cancelled while pending?)" if job.job_id in vanished else f"ended {job.state}"
                error = f"{self._EXECUTOR} job {job.job_id} {how} before its run finished; log: {job.paths.stderr}"
                record_lost(out, error, list(overrides))
                print(f"error: run {out}: {error}", file=sys.stderr)
                returns.append(JobReturn(overrides=list(overrides), status=JobStatus.COMPLETED, _return_value=None))
        return returns

    def _wait(self, jobs: list) -> set[str]:
        """Wait until every job is done; return the ids of jobs that vanished from the cluster instead.

        submitit keeps a job's last known state when SLURM forgets it, as it does an array task cancelled while
        pending (in neither squeue nor sacct): a job missing from both at two checks VANISH_CHECK_S apart has
        vanished."""
        waiting = {job.job_id: job for job in jobs}
        vanished: set[str] = set()
        missed: set[str] = set()
        checked = time.monotonic()
        while waiting:
            for job_id in [j for j, job in waiting.items() if job.done()]:
                del waiting[job_id]
            if waiting and self._EXECUTOR == "slurm" and time.monotonic() - checked > self.VANISH_CHECK_S:
                checked = time.monotonic()
                missing = set(waiting) - _known_to_slurm(sorted(waiting))
                for job_id in missing & missed:
                    vanished.add(job_id)
                    del waiting[job_id]
                missed = missing - vanished
            time.sleep(1.0)
        return vanished

    def _run_dir(self, overrides: list[str], number: int) -> Path:
        """The folder of run `number` of the sweep, as the job would have made it."""
        from omegaconf import open_dict

        cfg = self.hydra_context.config_loader.load_sweep_config(self.config, overrides)
        with open_dict(cfg.hydra.job):
            cfg.hydra.job.num = number
        return Path(str(cfg.hydra.sweep.dir)) / str(cfg.hydra.sweep.subdir)


def _known_to_slurm(job_ids: list[str]) -> set[str]:
    """The ids among `job_ids` that squeue (pending, running) or sacct (ended) lists; all of them if either fails."""
    ids = ",".join(job_ids)
    known: set[str] = set()
    for cmd in (["squeue", "-h", "-r", "-o", "%i", "-j", ids], ["sacct", "-n", "-X", "-P", "-o", "JobID", "-j", ids]):
        try:
            out = subprocess.run(cmd, capture_output=True, text=True, timeout=60, check=True).stdout
        except (OSError, subprocess.SubprocessError):
            return set(job_ids)  # the cluster does not answer: nothing is taken for vanished
        known.update(line.strip() for line in out.splitlines() if line.strip())
    return known


class SlurmLauncher(SurvivingLostJobs, submitit_launcher.SlurmLauncher):
    """hydra-submitit-launcher's SLURM launcher, surviving lost jobs (configs/hydra/launcher/slurm.yaml)."""


class LocalLauncher(SurvivingLostJobs, submitit_launcher.LocalLauncher):
    """hydra-submitit-launcher's local launcher, surviving lost jobs (configs/hydra/launcher/local.yaml)."""
