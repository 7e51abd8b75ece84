"""Tiny Hydra app for the launcher smoke test (tests/slurm_smoke/test_launchers.py).

Each run writes result.json into its Hydra output directory, recording where and
how it ran, and returns x * x.  Run by hand, e.g. from this directory:

    python -m app -m hydra/launcher=slurm x=1,2
    python app.py -m hydra/launcher=joblib x=1,2 hydra.sweep.dir=/tmp/sweep
"""
import json
import os
import socket
import sys
import time
from pathlib import Path

import hydra
from hydra.core.hydra_config import HydraConfig
from omegaconf import DictConfig


@hydra.main(version_base="1.3", config_path="conf", config_name="config")
def main(cfg: DictConfig) -> int:
    hc = HydraConfig.get()
    time.sleep(float(cfg.sleep_s))
    record = {
        "x": cfg.x,
        "result": cfg.x * cfg.x,
        "host": socket.gethostname(),
        "pid": os.getpid(),
        "python": sys.executable,
        "cwd": os.getcwd(),
        "launcher": hc.launcher._target_,
        "job_num": hc.job.num,
        "slurm_job_id": os.environ.get("SLURM_JOB_ID"),
        "slurm_array_task_id": os.environ.get("SLURM_ARRAY_TASK_ID"),
        "finished_at": time.time(),
    }
    (Path(hc.runtime.output_dir) / "result.json").write_text(json.dumps(record, indent=1))
    return cfg.x * cfg.x


if __name__ == "__main__":
    main()
