"""Which of the default scenario's assumptions move its waits: Morris screening (docs/sensitivity.md).

    python docs/figures/sensitivity.py [--trajectories 6] [--replications 5] [--out docs/figures]

Runs `sim.sensitivity` over the uncertain assumptions of experiment=sensitivity (sim.config.SENSITIVITY_BOUNDS,
each with the reason of its range) on the
default scenario, on common random numbers, and writes sensitivity.csv (mu_star, sigma per parameter and KPI)
and sensitivity.png (mu_star against sigma, one panel per KPI).
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import sim
from sim.config import SENSITIVITY_BOUNDS
from sim.report.figures import save, sensitivity_figure

BOUNDS: dict[str, tuple[float, float]] = {name: (low, high) for name, (low, high) in SENSITIVITY_BOUNDS.items()}
KPIS = ("queue_wait_min_mean", "share_wait_le_20min", "access_delay_days_mean", "share_needs_met_within_7d",
        "reneged", "cost_per_served")


def main(argv: list[str] | None = None) -> int:
    """Run the screening, write the table and the figure, print the ranking."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--trajectories", type=int, default=6)
    parser.add_argument("--replications", type=int, default=5)
    parser.add_argument("--weeks", type=int, default=13)
    parser.add_argument("--out", type=Path, default=Path(__file__).resolve().parent)
    args = parser.parse_args(argv)
    start = time.perf_counter()
    table = sim.sensitivity(BOUNDS, trajectories=args.trajectories, kpis=KPIS, overrides=[
        f"experiment.replications={args.replications}", f"experiment.weeks={args.weeks}"])
    args.out.mkdir(parents=True, exist_ok=True)
    table.to_csv(args.out / "sensitivity.csv", index=False, float_format="%.6g")
    save(sensitivity_figure(table), args.out, "sensitivity")
    for kpi in KPIS:
        top = table[table["kpi"] == kpi].nlargest(3, "mu_star")
        print(f"{kpi}: " + ", ".join(f"{r.parameter} {r.mu_star:.3g}" for r in top.itertuples()))
    print(f"{table.attrs['points']} runs in {time.perf_counter() - start:.0f} s")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
