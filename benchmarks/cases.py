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
- `territory`: one replication of a generated territory (`scenarios/national/regenerate.py`, a share of
  metropolitan France or all of it) at mature demand, request table built but not kept, as in a sweep.
"""

from __future__ import annotations

import argparse
import json
import resource
import time
from pathlib import Path

from benchmarks.baseline_mmc import simulate_mmc_waits
from sim.cli import load_config
from sim.study.experiment import run_experiment
from sim.core.model import simulate
from sim.core.plan import draw_plan
from sim.build.scenario import build_scenario
from sim.core.streams import streams

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


def territory(data_dir: Path, weeks: int) -> dict:
    """Seconds (building the scenario, then the replication) and peak memory of one replication."""
    cfg = load_config(territory_overrides(data_dir, weeks))
    started = time.perf_counter()
    scenario = build_scenario(cfg)
    built = time.perf_counter() - started
    started = time.perf_counter()
    results = run_experiment(cfg, scenario, keep_requests=False, progress=False)
    return {"case": "territory", "name": data_dir.name, "weeks": weeks, "communes": scenario.territory.n_communes,
            "sites": scenario.territory.n_sites, "agents": len(scenario.rota.agent_names),
            "requests": int(results.summary["requests"]), "build_seconds": built,
            "run_seconds": time.perf_counter() - started, "peak_mb": peak_mb()}


def main(argv: list[str] | None = None) -> None:
    """Run one case and print its JSON line."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("case", choices=["mmc", "default", "territory"])
    parser.add_argument("--customers", type=int, default=200_000, help="mmc: customers per run")
    parser.add_argument("--repeat", type=int, default=3, help="mmc, default: runs, the best is reported")
    parser.add_argument("--data-dir", type=Path, help="territory: a folder written by regenerate.py")
    parser.add_argument("--weeks", type=int, default=52, help="territory: simulated weeks")
    args = parser.parse_args(argv)
    startup = peak_mb()  # the interpreter and the imports, before any case work
    if args.case == "mmc":
        result = mmc(args.customers, args.repeat)
    elif args.case == "default":
        result = default(args.repeat)
    else:
        if args.data_dir is None:
            parser.error("territory needs --data-dir")
        result = territory(args.data_dir, args.weeks)
    print(json.dumps(result | {"startup_mb": startup}), flush=True)


if __name__ == "__main__":
    main()
