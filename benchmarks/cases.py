"""One benchmark case per process: `python -m benchmarks.cases CASE [options]` prints one JSON line.

Each case runs in a fresh interpreter (started by `python -m benchmarks`), so its peak memory
(`resource.getrusage(RUSAGE_SELF).ru_maxrss`) is its own. Times are wall-clock seconds, the best of
`--repeat` runs where a case repeats.

- `mmc`: the model on the mmc scenario against the minimal SimPy M/M/c of `benchmarks.baseline_mmc`,
  with the same parameters and number of customers, repeats interleaved. Reported per request: the
  SimPy part alone (`sim.core.model.simulate`) and end to end (`run_experiment`: building the scenario,
  drawing the plan, simulating, the request table, KPIs and their aggregation).
- `default`: `run_experiment` on the default configuration (what `python -m sim` runs, without writing
  files).
- `marginal`: the cost of one more replication of the default scenario, KPIs included, per request:
  `run_experiment` with 10 and with 30 replications, the difference over the requests of the 20 more.
- `sweep`: a sweep of `--points` runs of the default scenario (`python -m sim -m seed=range(N)`) with the
  basic launcher and quiet outputs, its wall time per point against the time `run_experiment` takes for
  one point; and the same points through `sim.api.run_grid` in one process.
- `command`: the whole default command (`python -m sim`, figures and report), wall time and its phases
  (`output.timings=true`).
- `territory`: one replication of a generated territory (`scenarios/national/regenerate.py`, a share of
  metropolitan France or all of it) at mature demand, request table built but not kept, as in a sweep; with
  `--outputs`, the tables kept and written as `python -m sim` writes them, each phase timed.
"""

from __future__ import annotations

import argparse
import json
import re
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from benchmarks.baseline_mmc import simulate_mmc_waits
from sim.api import run_grid
from sim.build.scenario import build_scenario
from sim.cli import load_config
from sim.core.model import simulate
from sim.core.plan import draw_plan
from sim.core.streams import streams
from sim.study.experiment import run_experiment
from sim.study.outputs import write_outputs

MMC_ARRIVAL_RATE, MMC_SERVICE_RATE, MMC_SERVERS = 4.5, 1.0, 5  # M/M/5 at load 0.9, the baseline's default


def peak_mb() -> float:
    """Peak resident memory of this process so far, in MB (Linux reports ru_maxrss in KiB)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


def mmc(customers: int, repeat: int, seed: int = 12345) -> dict:
    """Seconds per request of the baseline and of the model (SimPy part, end to end) on the same M/M/c."""
    overrides = ["scenario=mmc", f"mmc.arrival_rate_per_hour={MMC_ARRIVAL_RATE}",
                 f"mmc.service_rate_per_hour={MMC_SERVICE_RATE}", f"mmc.servers={MMC_SERVERS}",
                 f"mmc.hours={customers / MMC_ARRIVAL_RATE}", "mmc.warmup_hours=0", "experiment.replications=1",
                 f"seed={seed}"]
    cfg = load_config(overrides)
    scenario = build_scenario(cfg)
    baseline, simpy_part, end_to_end, requests = [], [], [], 0
    for r in range(repeat):
        started = time.perf_counter()
        simulate_mmc_waits(MMC_ARRIVAL_RATE, MMC_SERVICE_RATE, MMC_SERVERS, customers, seed + r)
        baseline.append((time.perf_counter() - started) / customers)

        plan = draw_plan(scenario, streams(seed, r))
        started = time.perf_counter()
        simulate(scenario, plan)
        simpy_part.append((time.perf_counter() - started) / len(plan.need_min))
        requests = len(plan.need_min)

        started = time.perf_counter()
        results = run_experiment(cfg, keep_requests=False, progress=False)
        end_to_end.append((time.perf_counter() - started) / results.summary["requests"])
    return {"case": "mmc", "customers": customers, "requests": requests,
            "baseline_s_per_request": min(baseline), "simpy_s_per_request": min(simpy_part),
            "end_to_end_s_per_request": min(end_to_end), "peak_mb": peak_mb()}


def default(repeat: int) -> dict:
    """Seconds of `run_experiment` on the default configuration (scenario built inside, as the CLI does)."""
    cfg = load_config([])
    seconds, requests = [], 0
    for _ in range(repeat):
        started = time.perf_counter()
        results = run_experiment(cfg, progress=False)
        seconds.append(time.perf_counter() - started)
        requests = len(results.requests)
    return {"case": "default", "requests": requests, "replications": cfg.experiment.replications,
            "weeks": cfg.experiment.weeks, "seconds": min(seconds), "peak_mb": peak_mb()}


def territory_overrides(data_dir: Path, weeks: int) -> list[str]:
    """Overrides running a generated territory folder at mature demand for `weeks` weeks, one replication."""
    return [f"scenario.name={data_dir.name}", f"scenario.data_dir={data_dir}", f"scenario.rota_file={data_dir / 'rota.csv'}",
            f"scenario.travel_matrix={data_dir / 'travel_matrix.csv'}", "demand=mature",
            f"experiment.weeks={weeks}", "experiment.replications=1"]


def territory(data_dir: Path, weeks: int, outputs: bool = False, requests: bool = False) -> dict:
    """Seconds (building the scenario, then the replication) and peak memory of one replication.

    With `outputs`, every file of a run is written as `experiment=national` writes them (with `requests`, the
    request table too), and the replication's simulation, KPIs (with the tables) and outputs timed apart.
    """
    cfg = load_config(territory_overrides(data_dir, weeks) + [f"output.requests={str(requests).lower()}"])
    started = time.perf_counter()
    scenario = build_scenario(cfg)
    built = time.perf_counter() - started
    started = time.perf_counter()
    results = run_experiment(cfg, scenario, keep_requests=outputs and requests, progress=False)
    run_seconds = time.perf_counter() - started
    row = {"case": "territory", "name": data_dir.name, "weeks": weeks, "communes": scenario.territory.n_communes,
           "sites": scenario.territory.n_sites, "agents": len(scenario.rota.agent_names),
           "requests": int(results.summary["requests"]), "build_seconds": built, "run_seconds": run_seconds,
           "simulate_seconds": results.timings["simulate"], "kpis_seconds": results.timings["kpis"],
           "request_table": results.requests is not None}
    if outputs:
        with tempfile.TemporaryDirectory() as folder:
            started = time.perf_counter()
            write_outputs(results, Path(folder))
            row["outputs_seconds"] = time.perf_counter() - started
    return row | {"peak_mb": peak_mb()}


def _default_point(replications: int) -> tuple[float, int]:
    """Seconds of `run_experiment` on the default scenario (built beforehand) and the requests it drew."""
    cfg = load_config([f"experiment.replications={replications}"])
    scenario = build_scenario(cfg)
    started = time.perf_counter()
    results = run_experiment(cfg, scenario, keep_requests=False, progress=False)
    return time.perf_counter() - started, int(round(results.summary["requests"] * replications))


def marginal(repeat: int, customers: int = 100_000) -> dict:
    """Seconds per request of 20 more replications of the default scenario, and of the minimal SimPy M/M/c."""
    base, extra = [], []
    for r in range(repeat):
        started = time.perf_counter()
        simulate_mmc_waits(MMC_ARRIVAL_RATE, MMC_SERVICE_RATE, MMC_SERVERS, customers, 777 + r)
        base.append((time.perf_counter() - started) / customers)
        t10, n10 = _default_point(10)
        t30, n30 = _default_point(30)
        extra.append((t30 - t10) / (n30 - n10))
    return {"case": "marginal", "baseline_s_per_request": min(base), "marginal_s_per_request": min(extra),
            "peak_mb": peak_mb()}


QUIET = ["output.figures=false", "output.report=false", "output.print_table=false", "output.requests=false"]


def _sweep_seconds(points: int, *extra: str) -> float:
    """Wall time of `python -m sim -m seed=range(points)` with quiet outputs, interpreter start included."""
    with tempfile.TemporaryDirectory() as folder:
        started = time.perf_counter()
        subprocess.run([sys.executable, "-m", "sim", "-m", f"seed=range({points})", *QUIET, *extra,
                        f"hydra.sweep.dir={folder}"], check=True, capture_output=True, text=True)
        return time.perf_counter() - started


def sweep(points: int) -> dict:
    """Wall time per point of a basic-launcher sweep of the default scenario (with this project's sweeper, and
    with Hydra's own), its start-up (a sweep of one point), and per point in one process."""
    wall = _sweep_seconds(points)
    one = _sweep_seconds(1)
    hydras = _sweep_seconds(points, "hydra/sweeper=basic")
    point = min(_default_point(10)[0] for _ in range(3))
    started = time.perf_counter()
    table = run_grid({"seed": list(range(points))})
    grid = time.perf_counter() - started
    assert (table["status"] == "ok").all()
    return {"case": "sweep", "points": points, "wall_seconds": wall, "one_point_seconds": one,
            "hydra_sweeper_seconds": hydras, "point_seconds": point, "grid_seconds": grid, "peak_mb": peak_mb()}


def command(repeat: int) -> dict:
    """Wall time of `python -m sim` (figures and report) and the phases it reports, best of `repeat`."""
    best: dict | None = None
    for _ in range(repeat):
        with tempfile.TemporaryDirectory() as folder:
            started = time.perf_counter()
            done = subprocess.run([sys.executable, "-m", "sim", "output.timings=true", "output.print_table=false",
                                   f"hydra.run.dir={folder}"], check=True, capture_output=True, text=True)
            wall = time.perf_counter() - started
        line = next(ln for ln in done.stdout.splitlines() if ln.startswith("timings (s):"))
        phases = {name: float(value) for name, value in re.findall(r"([a-z]+) ([0-9.]+)", line.split(";")[0])}
        if best is None or wall < best["wall_seconds"]:
            best = {"case": "command", "wall_seconds": wall, "phases": phases}
    return best | {"peak_mb": peak_mb()}


def main(argv: list[str] | None = None) -> None:
    """Run one case and print its JSON line."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("case", choices=["mmc", "default", "marginal", "sweep", "command", "territory"])
    parser.add_argument("--customers", type=int, default=200_000, help="mmc: customers per run")
    parser.add_argument("--repeat", type=int, default=3, help="mmc, default: runs, the best is reported")
    parser.add_argument("--data-dir", type=Path, help="territory: a folder written by regenerate.py")
    parser.add_argument("--weeks", type=int, default=52, help="territory: simulated weeks")
    parser.add_argument("--outputs", action="store_true", help="territory: write the run's files, timed")
    parser.add_argument("--requests", action="store_true", help="territory with --outputs: the request table too")
    parser.add_argument("--points", type=int, default=64, help="sweep: runs in the sweep")
    args = parser.parse_args(argv)
    startup = peak_mb()  # the interpreter and the imports, before any case work
    if args.case == "mmc":
        result = mmc(args.customers, args.repeat)
    elif args.case == "default":
        result = default(args.repeat)
    elif args.case == "marginal":
        result = marginal(args.repeat)
    elif args.case == "sweep":
        result = sweep(args.points)
    elif args.case == "command":
        result = command(args.repeat)
    else:
        if args.data_dir is None:
            parser.error("territory needs --data-dir")
        result = territory(args.data_dir, args.weeks, args.outputs, args.requests)
    print(json.dumps(result | {"startup_mb": startup}), flush=True)


if __name__ == "__main__":
    main()
