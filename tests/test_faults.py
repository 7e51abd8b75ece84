"""Faults survived on one machine: two sweeps on one folder, files changed after a run, a sweep killed in the
middle of a run, a full disk. Each ends with the sweep table of an uninterrupted sweep, byte for byte.

The full-disk tests mount a small tmpfs, which needs root (or password-less sudo); without it they skip, or
fail when CI=true (as .ci/run sets), so CI cannot skip them silently.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
from pathlib import Path

import pandas as pd
import pytest

from conftest import QUIET, checkpoints_of, one_error_line, run, run_cli, start, sweep_cmd, wait_for

SMALL = ["experiment.weeks=2", "experiment.replications=2"]
LONG = ["experiment.weeks=520", "experiment.replications=60"]  # about 5 s a run: long enough to be stopped


@pytest.fixture(scope="module")
def reference(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """An uninterrupted sweep of the runs the tests below interrupt."""
    out = tmp_path_factory.mktemp("reference")
    r = run(sweep_cmd(out / "long", "seed=0,1", *LONG))
    assert r.returncode == 0, r.stderr
    r = run(sweep_cmd(out / "disk", "experiment.weeks=13,520", "experiment.replications=10", "output.requests=true"))
    assert r.returncode == 0, r.stderr
    return out


# --- two sweeps, one folder -----------------------------------------------------------------------------------

def test_a_second_sweep_on_a_folder_in_use_is_refused_and_the_first_ends_as_if_alone(tmp_path: Path, reference: Path) -> None:
    out = tmp_path / "sweep"
    first = start(sweep_cmd(out, "seed=0,1", *LONG))
    wait_for(lambda: checkpoints_of(out / "0") >= 1, first)
    written = (out / "multirun.yaml").stat().st_mtime_ns
    folders = sorted(p.name for p in out.iterdir())
    second = run(sweep_cmd(out, "seed=0,1", *LONG))
    assert second.returncode == 2
    line = one_error_line(second.stderr)
    assert line.startswith(f"error: hydra.sweep.dir: {out} is in use by another sweep (pid {first.pid} on "), line
    assert (out / "multirun.yaml").stat().st_mtime_ns == written  # the second sweep wrote nothing
    assert set(folders) <= {p.name for p in out.iterdir()}
    stdout, stderr = first.communicate(timeout=300)
    assert first.returncode == 0, stderr
    assert (out / "sweep.csv").read_bytes() == (reference / "long" / "sweep.csv").read_bytes()
    again = run(sweep_cmd(out, "seed=0,1", *LONG))  # the lock went with the first sweep
    assert again.returncode == 0 and again.stdout.count("complete, skipped") == 2, again.stderr


# --- resume trusts only intact files --------------------------------------------------------------------------

def test_resume_redoes_exactly_the_runs_whose_files_changed(tmp_path: Path) -> None:
    out = tmp_path / "sweep"
    args = ("staffing.agents=2,3,4", *SMALL)
    assert run(sweep_cmd(out, *args)).returncode == 0
    table = (out / "sweep.csv").read_bytes()
    kpis = out / "0" / "kpis.csv"
    data = bytearray(kpis.read_bytes())
    data[len(data) // 2] ^= 1  # one bit flipped, same size
    kpis.write_bytes(bytes(data))
    sessions = out / "1" / "sessions.parquet"
    sessions.write_bytes(sessions.read_bytes()[:-100])  # cut short
    untouched = (out / "2" / "summary.json").stat().st_mtime_ns
    r = run(sweep_cmd(out, *args))
    assert r.returncode == 0, r.stderr
    assert r.stdout.count("complete, skipped") == 1 and f"{out / '2'}: complete, skipped" in r.stdout
    assert (out / "2" / "summary.json").stat().st_mtime_ns == untouched
    assert (out / "sweep.csv").read_bytes() == table


# --- a run stopped mid-way -----------------------------------------------------------------------------------

def test_a_run_killed_mid_way_redoes_only_the_replications_it_had_not_finished(tmp_path: Path, reference: Path) -> None:
    out = tmp_path / "sweep"
    proc = start(sweep_cmd(out, "seed=0,1", *LONG))
    wait_for(lambda: checkpoints_of(out / "0") >= 10, proc)
    os.killpg(proc.pid, signal.SIGKILL)
    proc.communicate()
    kept = checkpoints_of(out / "0")
    assert 10 <= kept < 60 and not (out / "0" / "run.json").exists()
    r = run(sweep_cmd(out, "seed=0,1", *LONG))
    assert r.returncode == 0, r.stderr
    record = json.loads((out / "0" / "run.json").read_text())
    assert record["replications_from_checkpoints"] >= kept  # what was finished was not done again
    assert not (out / "0" / ".replications").exists()  # kept only until the outputs are written
    for name in ("summary.json", "kpis.csv"):
        assert (out / "0" / name).read_bytes() == (reference / "long" / "0" / name).read_bytes()
    assert (out / "sweep.csv").read_bytes() == (reference / "long" / "sweep.csv").read_bytes()


def test_a_checkpoint_of_another_config_or_torn_is_not_used(tmp_path: Path) -> None:
    from sim.study.runs import ReplicationCheckpoints

    store = ReplicationCheckpoints(tmp_path, "abc")
    store.save(0, ("kpis", None, {}, 0.1, 0.2))
    store.save(1, ("other", None, {}, 0.1, 0.2))
    assert store.load(0) == ("kpis", None, {}, 0.1, 0.2)
    (tmp_path / ".replications" / "000001.pkl").write_bytes(b"\x80\x05torn")
    assert store.load(1) is None and store.load(2) is None
    assert ReplicationCheckpoints(tmp_path, "another config").load(0) is None
    assert store.loaded == 1


# --- a full disk ---------------------------------------------------------------------------------------------

def _as_root(*cmd: str) -> subprocess.CompletedProcess:
    prefix = [] if os.geteuid() == 0 else ["sudo", "-n"]
    return subprocess.run([*prefix, *cmd], capture_output=True, text=True)


@pytest.fixture
def small_disk(tmp_path: Path):
    """A 3 MiB tmpfs, unmounted afterwards."""
    mount = tmp_path / "disk"
    mount.mkdir()
    r = _as_root("mount", "-t", "tmpfs", "-o", "size=3m,mode=1777", "tmpfs", str(mount))
    if r.returncode != 0:
        reason = f"cannot mount a tmpfs: {r.stderr.strip() or 'not root'}"
        if os.environ.get("CI") == "true":
            pytest.fail(f"CI=true but {reason}")
        pytest.skip(reason)
    try:
        yield mount
    finally:
        _as_root("umount", "-l", str(mount))


def _fill(mount: Path, leave_bytes: int) -> Path:
    """A file that leaves about `leave_bytes` free on the tmpfs."""
    filler = mount / "filler"
    free = shutil.disk_usage(mount).free
    filler.write_bytes(b"\0" * max(free - leave_bytes, 0))
    return filler


def test_a_run_on_a_full_disk_says_so_in_one_line_and_leaves_nothing(small_disk: Path) -> None:
    out = small_disk / "run"
    r = run_cli("experiment.weeks=520", "experiment.replications=10", *QUIET, "output.requests=true", f"hydra.run.dir={out}")
    assert r.returncode == 1
    line = one_error_line(r.stderr)
    assert line.startswith("error: hydra.run.dir: no space left on device while writing the run's files in "), line
    assert list(small_disk.iterdir()) == []


def test_a_run_with_no_room_to_start_is_refused_before_writing(small_disk: Path) -> None:
    _fill(small_disk, 200_000)
    r = run_cli(f"hydra.run.dir={small_disk / 'run'}")
    assert r.returncode == 1
    assert one_error_line(r.stderr).startswith("error: hydra.run.dir: only ") and "a run needs at least 1 MiB" in r.stderr
    r = run(sweep_cmd(small_disk / "sweep", "seed=0,1"))
    assert r.returncode == 1 and one_error_line(r.stderr).startswith("error: hydra.sweep.dir: only ")
    assert sorted(p.name for p in small_disk.iterdir()) == ["filler"]


def test_a_sweep_that_fills_the_disk_stops_in_one_line_and_resumes_to_the_same_table(small_disk: Path, reference: Path) -> None:
    out = small_disk / "sweep"
    args = ("experiment.weeks=13,520", "experiment.replications=10", "output.requests=true")
    r = run(sweep_cmd(out, *args))
    assert r.returncode == 1
    line = one_error_line(r.stderr)
    assert line.startswith("error: hydra.sweep.dir: no space left on device while writing the run's files in "), line
    assert "the sweep stops there" in line and not (out / "sweep.csv").exists()
    from sim.study.runs import run_status

    assert run_status(out / "0")[0] == "ok" and run_status(out / "1")[0] == "incomplete"
    assert _as_root("mount", "-o", "remount,size=64m", str(small_disk)).returncode == 0  # room made
    r = run(sweep_cmd(out, *args))
    assert r.returncode == 0, r.stderr
    assert r.stdout.count("complete, skipped") == 1
    assert (out / "sweep.csv").read_bytes() == (reference / "disk" / "sweep.csv").read_bytes()
    pd.testing.assert_frame_equal(pd.read_parquet(out / "sweep.parquet"), pd.read_parquet(reference / "disk" / "sweep.parquet"))
