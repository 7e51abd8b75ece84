"""Where to hold the sessions, on three territories built from the open data (docs/siting.md).

    python docs/figures/site_choice.py [--replications 10] [--weeks 13] [--out docs/figures]

Builds canton 5802 (Château-Chinon), canton 2305 and the EPCI Pévèle-Carembault (200041960) with the
builder's defaults (best:K, K the sites one agent visits every other week), runs each with the default
staffing, and compares, for K = 3 and the default K, the town halls of the K most populous communes (`top:K`,
the rule of the pilots' scenarios) with `best:K`. Writes site_choice.csv (coverage curve and KPIs) and site_choice.png.
"""

from __future__ import annotations

import argparse
import tempfile
from pathlib import Path

import pandas as pd
from matplotlib.figure import Figure

import sim
from sim.build.territory_builder import COVERAGE, build_territory

TERRITORIES = {"canton 5802": {"canton": "5802"}, "canton 2305": {"canton": "2305"},
               "EPCI 200041960": {"epci": "200041960"}}
FEW = 3  # a small number of sites, where the choice matters most
KPIS = ("population_within_reach_share", "seen_per_week", "share_needs_met_within_7d", "access_delay_days_mean",
        "km_driven", "cost_per_served")


def measure(folder: Path, name: str, replications: int, weeks: int) -> dict[str, float]:
    """The run's headline KPIs with the default staffing."""
    res = sim.run([f"scenario.data_dir={folder}", f"scenario.name={name}", f"experiment.replications={replications}",
                   f"experiment.weeks={weeks}"], keep_requests=False)
    return {"sites": res.summary["sites"], **{k: res.summary[k] for k in KPIS}}


def main(argv: list[str] | None = None) -> int:
    """Build, run, write the table and the figure."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--replications", type=int, default=10)
    parser.add_argument("--weeks", type=int, default=13)
    parser.add_argument("--out", type=Path, default=Path(__file__).resolve().parent)
    args = parser.parse_args(argv)
    rows, curves = [], {}
    with tempfile.TemporaryDirectory() as scratch:
        for label, where in TERRITORIES.items():
            best = build_territory("best", **where, build_date="2026-12-01", out_dir=Path(scratch) / label / "best")
            curve = pd.read_csv(best / COVERAGE)
            curves[label] = curve
            k = int(curve.loc[curve["chosen"] == 1, "sites"].iloc[0])
            for count in (FEW, k):
                built = {rule: build_territory(rule.replace(":", ""), **where, sites=rule, build_date="2026-12-01",
                                               out_dir=Path(scratch) / label / rule.replace(":", ""))
                         for rule in (f"best:{count}", f"top:{count}")}
                for rule, folder in built.items():
                    rows.append({"territory": label, "rule": rule, "default_k": k,
                                 **measure(folder, folder.name, args.replications, args.weeks)})
    table = pd.DataFrame(rows)
    args.out.mkdir(parents=True, exist_ok=True)
    table.to_csv(args.out / "site_choice.csv", index=False, float_format="%.4f")
    fig = Figure(figsize=(8, 4), layout="constrained")
    ax = fig.subplots()
    for label, curve in curves.items():
        ax.plot(curve["sites"], curve["population_share"], marker="o", ms=3, label=label)
    ax.axhline(0.95, ls="--", color="grey", lw=1)
    ax.set_xlim(0.5, 12.5)
    ax.set_xlabel("sites (best choice of K)")
    ax.set_ylabel("population within 20 min")
    ax.set_title("The most people K sites put within reach")
    ax.legend(loc="lower right")
    fig.savefig(args.out / "site_choice.png", dpi=110)
    print(table.to_string(index=False))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
