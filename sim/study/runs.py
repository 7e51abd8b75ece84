"""A sweep's run folders: each ends complete or failed, both recorded atomically, so a sweep can resume.

A run folder ends in exactly one of two states: complete (`run.json` with the hash of its config, then
`summary.json` last) or failed (`failed.json` with the error). A resumed sweep skips the runs complete for
the same config hash; every other folder is redone.
"""

from __future__ import annotations

import json
import sys
import traceback
from pathlib import Path
from typing import Any

from sim.core.errors import InputError
from sim.study.outputs import SUMMARY, read_summary, write_json

RUN = "run.json"
FAILED = "failed.json"
KPIS = "kpis.csv"
STATUSES: tuple[str, ...] = ("ok", "failed", "incomplete")


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
        return "failed", json.loads((out / FAILED).read_text(encoding="utf-8"))["error"], {}
    except (OSError, ValueError, KeyError, TypeError):
        return "incomplete", "no complete outputs (still running, killed, or lost)", {}
