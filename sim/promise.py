"""`python -m sim.promise`: how many sites put 95% of the people of metropolitan France within 20 minutes?

Every commune's town hall is a candidate site; a commune is within reach of a site when the road trip from its
town hall (great-circle distance x 1.3 at 50 km/h, the simulator's travel model) takes at most
`--max-travel-min`. The count comes from the greedy order (each time the site that puts the most people not
yet within reach), then the exact integer programme (`sim.build.siting.fewest`) is given `--time-limit-s` on
the whole country, and each département is solved exactly alone (its town halls for its people): together
those keep the promise too, so the answer is the smaller count, exact when the national programme closes.
One core, about three minutes.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

from sim.build import opendata
from sim.build.siting import _Pairs, fewest, greedy, reach_of_points, sites_to_reach
from sim.core.errors import InputError
from sim.core.territory import TravelModel

DEPARTEMENT_LIMIT_S = 20.0
"""Time limit of each département's programme (most close in a second)."""
SITES_2024 = 2840
"""France Services sites in September 2024, antennas included (Cour des comptes 2024; docs/siting.md)."""


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m sim.promise", description=__doc__.split("\n\n")[0])
    parser.add_argument("--share", type=float, default=95.0, help="percentage of the people within reach (default 95)")
    parser.add_argument("--max-travel-min", type=float, default=20.0, help="reach, minutes by road (default 20)")
    parser.add_argument("--time-limit-s", type=float, default=60.0,
                        help="time given to the exact programme on the whole country (default 60)")
    parser.add_argument("--figure", metavar="FILE.png", help="also draw the coverage curve into this file")
    return parser


def _check(args: argparse.Namespace) -> None:
    if not 0 < args.share <= 100:
        raise InputError("--share", f"must be a percentage in (0, 100], got {args.share:g}")
    if not 0 < args.max_travel_min <= 600:
        raise InputError("--max-travel-min", f"must be in (0, 600] minutes, got {args.max_travel_min:g}")
    if not 0 <= args.time_limit_s <= 86_400:
        raise InputError("--time-limit-s", f"must be in [0, 86400] seconds, got {args.time_limit_s:g}")


def by_departement(communes, share: float, reach_min: float, time_limit_s: float) -> tuple[int, int, int, int]:
    """Each département alone, its own town halls putting `share` of its own people within reach: (the sum of
    the fewest sites, départements, how many solved to proven optimality, in how many greedy finds the fewest).
    Together they keep the promise for the country: a national count no greater than the sum."""
    total = exact = hits = 0
    groups = list(communes.groupby(communes["departement"]))
    for _, table in groups:
        population = table["population"].to_numpy(float)
        lat, lon = table["lat"].to_numpy(float), table["lon"].to_numpy(float)
        reach = reach_of_points(lat, lon, lat, lon, TravelModel(), reach_min)
        _, within = greedy(_Pairs.of(population, reach, len(table), reach_min))
        greedy_count = sites_to_reach(within, share * population.sum())
        found = fewest(population, reach, len(table), share, reach_min, time_limit_s=time_limit_s)
        total += found.sites
        exact += found.method == "exact"
        hits += greedy_count == found.sites
    return total, len(groups), exact, hits


def main(argv: list[str] | None = None) -> int:
    """Print the fewest sites found for the promise, how sure, and the greedy check; 2 on bad input."""
    try:
        args = _parser().parse_args(sys.argv[1:] if argv is None else argv)
        _check(args)
    except InputError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    start = time.perf_counter()
    share, reach_min = args.share / 100.0, args.max_travel_min
    communes = opendata.metropolitan_communes()
    population = communes["population"].to_numpy(float)
    lat, lon = communes["lat"].to_numpy(float), communes["lon"].to_numpy(float)
    reach = reach_of_points(lat, lon, lat, lon, TravelModel(), reach_min)
    pairs = _Pairs.of(population, reach, len(communes), reach_min)
    order, within = greedy(pairs)
    greedy_count = sites_to_reach(within, share * population.sum())
    print(f"metropolitan France: {len(communes):,} communes, {population.sum():,.0f} people, "
          f"{len(pairs.site):,} commune-town hall pairs within {reach_min:g} min")
    print(f"greedy: {greedy_count:,} sites put {within[greedy_count - 1] / population.sum():.2%} of the people within "
          f"{reach_min:g} min ({time.perf_counter() - start:.0f} s so far)")
    found = fewest(population, reach, len(communes), share, reach_min, time_limit_s=args.time_limit_s)
    how = {"exact": "proven fewest", "solver": "the solver's best", "greedy": "no better choice found"}[found.method]
    print(f"integer programme on the whole country ({args.time_limit_s:g} s): {found.sites:,} sites ({how}); "
          f"proven lower bound {found.lower:,}")
    summed, departements, exact, hits = by_departement(communes, share, reach_min, DEPARTEMENT_LIMIT_S)
    print(f"each département alone ({args.share:g}% of its people by its own town halls): {summed:,} sites in all, "
          f"{exact} of {departements} solved exactly; greedy finds the fewest in {hits} of them")
    answer = min(found.sites, summed)
    exactly = found.method == "exact" and found.sites <= summed
    print(f"answer: {'exactly' if exactly else 'at most'} {answer:,} sites put {args.share:g}% of the people within "
          f"{reach_min:g} min ({answer / SITES_2024:.0%} of the {SITES_2024:,} France Services sites of 2024, placed "
          f"for this promise alone); {time.perf_counter() - start:.0f} s in all")
    if args.figure:
        from sim.report.figures import coverage_curve, save

        figure = coverage_curve(within / population.sum(), greedy_count, "Metropolitan France", reach_min,
                                label="greedy order")
        axes = figure.axes[0]
        axes.set_xscale("log")
        axes.set_xlim(0.8, SITES_2024 * 1.6)
        axes.axvline(SITES_2024, color="grey", lw=1, ls=":")
        axes.text(SITES_2024 * 0.9, 0.3, f"{SITES_2024:,} France Services sites (2024)", fontsize=8, color="grey",
                  rotation=90, ha="right")
        path = Path(args.figure)
        save(figure, path.parent, path.stem)
        print(f"figure: {path}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
