"""Which of the default scenario's assumptions move its waits: Morris screening (docs/sensitivity.md).

    python docs/figures/sensitivity.py [--trajectories 6] [--replications 5] [--out docs/figures]

Runs `sim.sensitivity` over the uncertain assumptions of BOUNDS (each with the reason of its range) on the
default scenario, on common random numbers, and writes sensitivity.csv (mu_star, sigma per parameter and KPI)
and sensitivity.png (mu_star against sigma, one panel per KPI).
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

from matplotlib.figure import Figure

import sim

BOUNDS: dict[str, tuple[float, float]] = {
    "demand.uptake": (0.12, 0.25),  # calibrated 0.182 on "more than 79" appointments in 4 weeks; +-35%
    "service.median_min": (12.0, 30.0),  # one anecdote: a licence renewal "under 20 minutes"
    "citizens.patience_mean_min": (30.0, 120.0),  # no source: from half an hour to two hours
    "citizens.appointment_share": (0.25, 0.75),  # "mostly by appointment": around the assumed half
    "citizens.front_loaded_shape": (1.0, 6.0),  # 1 is uniform arrivals; 6: a third in the first 5% of a session
    "citizens.choice.weight_min_per_day": (1.0, 10.0),  # docs/choice.md: the range of the sensitivity study
    "travel.speed_kmh": (40.0, 70.0),  # rural roads, from villages to departmental roads
    "staffing.cost_per_km": (0.30, 0.60),  # around the French mileage scale
}
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
    fig = Figure(figsize=(12, 7), layout="constrained")
    for ax, kpi in zip(fig.subplots(2, 3).ravel(), KPIS):
        rows = table[table["kpi"] == kpi]
        ax.scatter(rows["mu_star"], rows["sigma"], color="#1d3557")
        for r in rows.itertuples():
            if r.mu_star > 0.15 * rows["mu_star"].max():
                ax.annotate(r.parameter.split(".")[-1], (r.mu_star, r.sigma), fontsize=7, xytext=(3, 3),
                            textcoords="offset points")
        ax.set_title(kpi, fontsize=9)
        ax.set_xlabel("mu* (mean absolute effect)", fontsize=8)
        ax.set_ylabel("sigma (interaction, non-linearity)", fontsize=8)
    fig.suptitle(f"Morris screening of the default scenario: {table.attrs['points']} runs, common random numbers")
    fig.savefig(args.out / "sensitivity.png", dpi=100)
    for kpi in KPIS:
        top = table[table["kpi"] == kpi].nlargest(3, "mu_star")
        print(f"{kpi}: " + ", ".join(f"{r.parameter} {r.mu_star:.3g}" for r in top.itertuples()))
    print(f"{table.attrs['points']} runs in {time.perf_counter() - start:.0f} s")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
