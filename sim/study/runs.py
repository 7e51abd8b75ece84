"""A run folder's life: started, complete (every output verified) or failed, and what a resumed run may trust.

A run ends in one of three states, each recorded atomically:
- complete: `run.json`, written last, holds the hash of the run's config and the size and SHA-256 of every
  output file; a resumed sweep skips the run only if its config hash is the same and every file still matches;
- failed: `failed.json` holds the error (a point the model refuses, such as a rota that cannot be staffed);
- incomplete: anything else (still running, killed, lost with its job, or stopped by a full disk, in which
  case `failed.json` says so with `"fault": true`).
A resumed sweep redoes every run that is not complete. While a run of a sweep is under way, each finished
replication is kept in `.replications/` (`ReplicationCheckpoints`), so a run stopped mid-way (a job's time
limit, preemption, a kill) and started again redoes only the replications it had not finished.
"""

from __future__ import annotations

import errno
import fcntl
import hashlib
import json
import os
import pickle
import shutil
import socket
import sys
import time
import traceback
from pathlib import Path
from typing import Any

from sim.core.errors import InputError
from sim.study.outputs import FIGURES_DIR, OUTPUTS, read_summary, write_atomic, write_json
from sim.version import __version__

RUN = "run.json"
FAILED = "failed.json"
CHECKPOINTS = ".replications"
LOCK = ".sweep.lock"
STATUSES: tuple[str, ...] = ("ok", "failed", "incomplete")
FAULTS = {errno.ENOSPC: "no space left on device", errno.EDQUOT: "disk quota exceeded",
          errno.EROFS: "read-only file system"}
"""Errors of the machine, not of the input: the run is incomplete (not failed) and redone on resume."""


def sha256_of(path: Path) -> str:
    """SHA-256 of a file's bytes, read in 1 MiB blocks."""
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        while block := f.read(1 << 20):
            digest.update(block)
    return digest.hexdigest()


def output_files(out: Path) -> list[Path]:
    """The outputs present in a run folder: the tables, summary and report, then the figures."""
    files = [out / name for name in OUTPUTS if (out / name).is_file()]
    figures = out / FIGURES_DIR
    if figures.is_dir():
        files += sorted(p for p in figures.iterdir() if p.is_file() and p.suffix in (".png", ".svg"))
    return files


def _matches(out: Path, files: Any) -> bool:
    """Whether every file of a manifest is there with its recorded size and SHA-256."""
    if not isinstance(files, dict) or "summary.json" not in files:
        return False
    for name, record in files.items():
        path = out / name
        try:
            if path.stat().st_size != record["bytes"] or sha256_of(path) != record["sha256"]:
                return False
        except (OSError, KeyError, TypeError):
            return False
    return True


def _complete(out: Path) -> tuple[dict, str] | None:
    """(summary, config hash) of a run folder whose every output is as recorded when it was written, else None."""
    try:
        record = json.loads((out / RUN).read_text(encoding="utf-8"))
        digest = record["config_sha256"]
    except (OSError, ValueError, KeyError, TypeError):
        return None
    summary = read_summary(out)
    if summary is None or not _matches(out, record.get("files")):
        return None
    return summary, digest


def complete_run(out: Path, digest: str) -> dict | None:
    """The summary of a run folder whose outputs are complete, intact and made from the config hashed `digest`."""
    done = _complete(out)
    return done[0] if done is not None and done[1] == digest else None


def start_run(out: Path) -> None:
    """Forget any earlier outcome of this folder and its outputs (not its replication checkpoints)."""
    for path in [out / RUN, out / FAILED, *output_files(out)]:
        path.unlink(missing_ok=True)
    for stale in out.glob(".*.tmp"):  # left by a process killed while writing
        stale.unlink(missing_ok=True)


def finish_run(out: Path, digest: str, from_checkpoints: int = 0) -> None:
    """Mark the run complete: run.json (last) with the config hash and every output's size and SHA-256."""
    files = {p.relative_to(out).as_posix(): {"bytes": p.stat().st_size, "sha256": sha256_of(p)} for p in output_files(out)}
    write_json(out / RUN, {"config_sha256": digest, "files": files, "replications_from_checkpoints": from_checkpoints})
    shutil.rmtree(out / CHECKPOINTS, ignore_errors=True)


def discard_run(out: Path) -> None:
    """Remove what a refused single run left in its folder (Hydra's .hydra/ and any output), then the folder if empty."""
    start_run(out)
    shutil.rmtree(out / ".hydra", ignore_errors=True)
    shutil.rmtree(out / CHECKPOINTS, ignore_errors=True)
    for folder in (out / FIGURES_DIR, out):
        try:
            folder.rmdir()
        except OSError:
            pass


def fault_of(exc: BaseException) -> str | None:
    """What went wrong, for an error of the machine (disk full, quota, read-only file system), else None."""
    if isinstance(exc, OSError) and exc.errno in FAULTS:
        return f"{FAULTS[exc.errno]} while writing the run's files"
    return None


def record_failure(out: Path, exc: BaseException, digest: str | None) -> str:
    """Write failed.json (atomically, if the disk allows) so the sweep table lists the run with its error; return it.

    An error of the machine (`fault_of`) is recorded with `"fault": true`: the run counts as incomplete.
    """
    fault = fault_of(exc)
    error = fault or (str(exc) if isinstance(exc, InputError) else f"{type(exc).__name__}: {exc}")
    record: dict[str, Any] = {"error": error, "config_sha256": digest, "fault": fault is not None}
    if fault is None and not isinstance(exc, InputError):
        record["traceback"] = "".join(traceback.format_exception(exc))
    try:
        (out / RUN).unlink(missing_ok=True)
        write_json(out / FAILED, record)
    except OSError:  # a full disk may refuse even this: the run stays incomplete
        pass
    return error


def record_lost(out: Path, error: str, overrides: list[str]) -> None:
    """failed.json for a run whose job was lost (killed, cancelled, out of memory): incomplete, redone on resume.

    A job cancelled before it started made no folder: its overrides are written as Hydra would have
    (`.hydra/overrides.yaml`), so that the sweep table lists the run."""
    if complete_run(out, _digest_of(out)) is not None or run_status(out)[0] == "incomplete" and (out / FAILED).is_file():
        return  # it finished after all, or it said itself why it stopped (a full disk)
    listed = out / ".hydra" / "overrides.yaml"
    try:
        if not listed.is_file():
            text = "".join(f"- {json.dumps(o)}\n" for o in overrides)  # JSON strings are YAML scalars
            write_atomic(listed, lambda tmp: tmp.write_text(text, encoding="utf-8"))
        write_json(out / FAILED, {"error": error, "config_sha256": None, "fault": True})
    except OSError:
        pass


def _digest_of(out: Path) -> str:
    """The config hash a run folder's run.json records ('' if none)."""
    try:
        return str(json.loads((out / RUN).read_text(encoding="utf-8"))["config_sha256"])
    except (OSError, ValueError, KeyError, TypeError):
        return ""


def run_dirs(sweep_dir: Path) -> list[Path]:
    """The run folders of a multirun (those holding .hydra/overrides.yaml), in job order."""
    found = [p.parent.parent for p in sweep_dir.rglob(".hydra/overrides.yaml") if ".submitit" not in p.parts]
    found = [p for p in found if p != sweep_dir]
    return sorted(found, key=lambda p: (int(p.name) if p.name.isdigit() else sys.maxsize, str(p)))


def run_status(out: Path) -> tuple[str, str | None, dict[str, Any]]:
    """(status, error, summary) of a run folder: ok with its summary, failed with its error, or incomplete."""
    done = _complete(out)
    if done is not None:
        return "ok", None, done[0]
    try:
        record = json.loads((out / FAILED).read_text(encoding="utf-8"))
        return ("incomplete" if record.get("fault") else "failed"), record["error"], {}
    except (OSError, ValueError, KeyError, TypeError, AttributeError):
        return "incomplete", "no complete outputs (still running, killed, or lost)", {}


class ReplicationCheckpoints:
    """The finished replications of one run of a sweep, one file each in `<run>/.replications/`, kept until the
    run's outputs are written, so that a run started again (requeued after its time limit or preemption, or
    resumed after a kill) redoes only the others. A file counts only for the same config hash and version."""

    def __init__(self, out: Path, digest: str) -> None:
        self.folder = out / CHECKPOINTS
        self.key = (digest, __version__)
        self.loaded = 0

    def _path(self, rep: int) -> Path:
        return self.folder / f"{rep:06d}.pkl"

    def load(self, rep: int) -> Any | None:
        """Replication `rep` as kept, or None if there is no usable file for it."""
        try:
            with open(self._path(rep), "rb") as f:
                key, value = pickle.load(f)
        except FileNotFoundError:
            return None
        except Exception:  # a torn or foreign file: compute the replication again
            return None
        if key != self.key:
            return None
        self.loaded += 1
        return value

    def save(self, rep: int, value: Any) -> None:
        """Keep replication `rep` (atomically)."""
        data = pickle.dumps((self.key, value), protocol=pickle.HIGHEST_PROTOCOL)
        write_atomic(self._path(rep), lambda tmp: tmp.write_bytes(data))


class SweepLock:
    """An exclusive lock on a sweep folder, held by the process that launches the sweep until it ends, so that
    a second sweep started on the same folder is refused instead of overwriting the runs of the first."""

    def __init__(self, sweep_dir: Path) -> None:
        self.path = sweep_dir / LOCK
        self.fd: int | None = None

    def acquire(self) -> None:
        """Take the lock, or raise InputError naming the process that holds it."""
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o666)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = os.pread(fd, 512, 0).decode("utf-8", "replace").strip() or "another process"
            os.close(fd)
            raise InputError("hydra.sweep.dir", f"{self.path.parent} is in use by another sweep ({holder}); "
                                                "wait for it to end or choose another hydra.sweep.dir") from None
        os.ftruncate(fd, 0)
        os.pwrite(fd, f"pid {os.getpid()} on {socket.gethostname()}, since {time.strftime('%Y-%m-%d %H:%M:%S')}\n".encode(), 0)
        self.fd = fd

    def release(self) -> None:
        """Let the lock go (the kernel also does when the process ends, however it ends)."""
        if self.fd is not None:
            os.ftruncate(self.fd, 0)
            fcntl.flock(self.fd, fcntl.LOCK_UN)
            os.close(self.fd)
            self.fd = None
