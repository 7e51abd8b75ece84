"""Progress of a sweep on a terminal: runs done out of the total and time left, polled from the run folders.

Polling the folders works with every launcher (local, joblib, SLURM), whose jobs may run in other processes
or on other machines.
"""

from __future__ import annotations

import threading
import time
from pathlib import Path

from sim.study.runs import FAILED, RUN, run_dirs


class SweepProgress:
    """Runs done / total and time left, polled from the run folders (so it works with every launcher)."""

    def __init__(self, sweep_dir: Path, total: int | None, poll_s: float = 0.5) -> None:
        from tqdm import tqdm

        self.sweep_dir, self.poll_s = sweep_dir, poll_s
        self.started = time.time()
        self.done_before = {d for d in run_dirs(sweep_dir) if (d / RUN).is_file()}
        self.bar = tqdm(total=total, initial=min(len(self.done_before), total or len(self.done_before)),
                        desc="sweep", unit="run", dynamic_ncols=True)
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self._poll, daemon=True)
        self.thread.start()

    def _done(self) -> int:
        """Runs complete before the sweep started, or ended (complete or failed) since."""
        done = set(self.done_before)
        for d in run_dirs(self.sweep_dir):
            for name in (RUN, FAILED):
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
