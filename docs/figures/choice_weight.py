"""What the bookers' choice weight does in the default scenario: own-commune share, least-used site, access delay.

    python docs/figures/choice_weight.py [--replications 10] [--weeks 13] [--out docs/figures]

Runs the default scenario at each weight w of `citizens.choice.weight_min_per_day` (minutes of travel a
booker gives to be seen a day sooner), on common random numbers, plus the first versions' rule (everyone
`earliest`) and bookers by `logit`; writes choice_weight.csv and choice_weight.png (docs/choice.md).
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np
import pandas as pd
from matplotlib.figure import Figure

import sim
from sim.core.results import NO_SITE

WEIGHTS = (0.0, 0.5, 1.0, 2.0, 3.0, 5.0, 10.0, 20.0, 60.0)
REFERENCES = {"everyone earliest": ["choice=earliest"], "bookers by logit (w = 3)": ["choice=logit"]}
DEFAULT_W = 3.0


def measure(overrides: list[str]) -> dict[str, float]:
    """Own-commune share, least-used site (requests a week), access delay and needs met, with 95% CIs."""
    res = sim.run(overrides, keep_requests=False)
    s, ci = res.summary, res.summary["ci95"]
    weeks = s["weeks"]
    sites = res.kpi("requests", scope="site").drop(index=NO_SITE, errors="ignore")
    least = sites["mean"].idxmin()
    row = {"least_used_site": least, "least_used_requests_per_week": sites.loc[least, "mean"] / weeks,
           "least_used_ci_low": sites.loc[least, "ci_low"] / weeks,
           "least_used_ci_high": sites.loc[least, "ci_high"] / weeks}
    for kpi in ("own_site_share", "access_delay_days_mean", "access_delay_days_p90", "share_needs_met_within_7d",
                "seen_per_week", "reneged", "requests"):
        row[kpi] = s[kpi]
        row[f"{kpi}_ci_low"], row[f"{kpi}_ci_high"] = ci[kpi]
    return row


def table(replications: int, weeks: int, weights: tuple[float, ...] = WEIGHTS) -> pd.DataFrame:
    """One row per weight, then one per reference rule."""
    base = [f"experiment.replications={replications}", f"experiment.weeks={weeks}"]
    rows = [{"rule": "bookers by cost", "weight_min_per_day": w,
             **measure(base + [f"citizens.choice.weight_min_per_day={w}"])} for w in weights]
    rows += [{"rule": name, "weight_min_per_day": np.nan, **measure(base + extra)} for name, extra in REFERENCES.items()]
    return pd.DataFrame(rows)


def figure(data: pd.DataFrame) -> Figure:
    """Three panels against w, with 95% CIs, the default marked and the reference rules as lines."""
    curve = data[data["rule"] == "bookers by cost"]
    refs = data[data["rule"] != "bookers by cost"]
    w = curve["weight_min_per_day"].to_numpy()
    fig = Figure(figsize=(12, 3.8), layout="constrained")
    axes = fig.subplots(1, 3)
    panels = (
        ("own_site_share", "own_site_share_ci_low", "own_site_share_ci_high",
         "visits at a site of one's own commune\n(residents of communes with a site)", True),
        ("least_used_requests_per_week", "least_used_ci_low", "least_used_ci_high",
         "requests a week at the least-used site", False),
        ("access_delay_days_mean", "access_delay_days_mean_ci_low", "access_delay_days_mean_ci_high",
         "access delay (days)", False),
    )
    styles = ("--", ":")
    for ax, (col, lo, hi, label, share) in zip(axes, panels):
        ax.fill_between(w, curve[lo], curve[hi], color="#2a6f97", alpha=0.2, lw=0)
        mean = col == "access_delay_days_mean"
        ax.plot(w, curve[col], "o-", color="#2a6f97", label="mean" if mean else "walk-ins nearest, bookers by cost")
        if mean:
            ax.plot(w, curve["access_delay_days_p90"], "s-", color="#264653", ms=4, label="p90")
        for (_, ref), ls in zip(refs.iterrows(), styles):
            ax.axhline(ref[col], color="#6d6875", ls=ls, lw=1.2, label=f"{ref['rule']}{' (mean)' if mean else ''}")
        ax.axvline(DEFAULT_W, color="#c1121f", lw=1, alpha=0.6, label=f"default w = {DEFAULT_W:g}")
        ax.set_xscale("symlog", linthresh=1.0)
        ax.set_xlim(0, w.max() * 1.3)
        ax.set_xlabel("bookers' weight w (travel minutes per day sooner)")
        ax.set_ylabel(label)
        if share:
            ax.set_ylim(0, 1.02)
        ax.grid(True, color="#dddddd", lw=0.6)
    axes[0].legend(fontsize=7, loc="lower left")
    axes[2].legend(fontsize=7, loc="upper right")
    fig.suptitle("Saint-Amand-les-Eaux: how citizens choose a session (95% CIs over replications)", fontweight="bold")
    return fig


def main(argv: list[str] | None = None) -> int:
    """Run the study and write the table and the figure."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--replications", type=int, default=10)
    parser.add_argument("--weeks", type=int, default=13)
    parser.add_argument("--out", type=Path, default=Path(__file__).resolve().parent)
    args = parser.parse_args(argv)
    data = table(args.replications, args.weeks)
    args.out.mkdir(parents=True, exist_ok=True)
    data.to_csv(args.out / "choice_weight.csv", index=False, float_format="%.4g")
    figure(data).savefig(args.out / "choice_weight.png", dpi=110)
    print(data[["rule", "weight_min_per_day", "own_site_share", "least_used_requests_per_week",
                "access_delay_days_mean", "access_delay_days_p90", "share_needs_met_within_7d",
                "seen_per_week"]].to_string(index=False, float_format=lambda x: f"{x:.3g}"))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
