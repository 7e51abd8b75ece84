"""Build a scenario folder for a territory chosen in the open data: its communes, candidate sites and base.

    python -m sim.build_territory NAME --canton 5934
    python -m sim.build_territory NAME --epci 200041960 | --departement 59 | --insee 59526,59009
    python -m sim.build_territory NAME --radius-km 15 --around 59526

writes communes.csv, sites.csv, scenario.yaml and README.md into scenarios/NAME (format in
scenarios/README.md). Sites are the K town halls or extra sites that put the most people within reach
(--sites best:K; the default, with K = the sites the default staffing visits), the fewest that put P% of
them within reach (--sites cover:P), the town halls of every commune (--sites all), of the N most populous
(--sites top:N) or of none (--sites none), plus the rows of --extra-sites. The files are built in
a temporary folder beside the target and moved into place only when all of them are ready, so bad input
writes nothing; it is reported as one line on stderr with exit code 2. The building itself is
`sim.build.territory_builder`; this module is its command line.
"""

from __future__ import annotations

import argparse
import shlex
import sys
from collections.abc import Sequence
from pathlib import Path

from sim.build.territory_builder import build_territory
from sim.core.errors import InputError


class _UsageError(Exception):
    """A command-line usage error, printed as one line like every other bad input."""


class _Parser(argparse.ArgumentParser):
    """An argument parser whose errors are exceptions, so main() reports them in one line."""

    def error(self, message: str):
        """Raise instead of printing usage and exiting."""
        raise _UsageError(message)


def _parser() -> argparse.ArgumentParser:
    """The command line of `python -m sim.build_territory`."""
    parser = _Parser(prog="python -m sim.build_territory", description=__doc__.split("\n\n")[0])
    parser.add_argument("name", metavar="NAME", help="scenario name; output goes to scenarios/NAME")
    where = parser.add_mutually_exclusive_group(required=True)
    where.add_argument("--canton", help="INSEE canton code, e.g. 5934")
    where.add_argument("--epci", help="SIREN code of an EPCI, e.g. 200041960")
    where.add_argument("--departement", help="département code, e.g. 59 or 2A")
    where.add_argument("--insee", help="comma-separated INSEE commune codes, e.g. 59526,59009")
    where.add_argument("--around", metavar="INSEE", help="centre commune of a disc (with --radius-km)")
    parser.add_argument("--radius-km", type=float, help="disc radius in km around --around's town hall")
    parser.add_argument("--sites", help="best:K (the K sites that put the most people within reach) | cover:P "
                                        "(the fewest that put P%% of them within reach) | all | none | top:N (the "
                                        "town halls of the N most populous communes); default best:K with K the "
                                        "sites the default staffing visits (20)")
    parser.add_argument("--keep-sites", metavar="FILE.csv",
                        help="sites that must stay (an existing France Services site, a post office), columns as "
                             "--extra-sites")
    parser.add_argument("--no-town-halls", action="store_true",
                        help="best and cover choose among the --extra-sites and --keep-sites only (e.g. post offices)")
    parser.add_argument("--max-travel-min", type=float,
                        help="reach of a site for best and cover, minutes by road (default 20, as the simulator)")
    parser.add_argument("--time-limit-s", type=float, default=60.0,
                        help="time limit of each integer programme of best and cover (default 60); the best "
                             "choice found by then is kept and its optimality gap written in the README")
    parser.add_argument("--extra-sites", metavar="FILE.csv",
                        help="more candidate sites, columns name,insee,venue,lat,lon; blank lat and lon "
                             "place a site at a point inside its commune")
    parser.add_argument("--base-insee", metavar="INSEE", help="base at this commune's town hall")
    parser.add_argument("--base-lat", type=float, help="base latitude (with --base-lon and --base-name)")
    parser.add_argument("--base-lon", type=float, help="base longitude")
    parser.add_argument("--base-name", help="name of the base")
    parser.add_argument("--description", help="one-line description (default: generated)")
    parser.add_argument("--notes", metavar="FILE.md", help="Markdown put at the top of the README")
    parser.add_argument("--build-date", help="build date YYYY-MM-DD written in the provenance (default "
                                             "today); fix it to regenerate identical files")
    parser.add_argument("--out-dir", help="output folder (default scenarios/NAME in the repository)")
    parser.add_argument("--force", action="store_true", help="overwrite the scenario files of --out-dir")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; return 0, or 2 after one line on stderr for bad input."""
    argv = list(sys.argv[1:] if argv is None else argv)
    try:
        args = _parser().parse_args(argv)
        notes = None
        if args.notes:
            try:
                notes = Path(args.notes).read_text(encoding="utf-8")
            except (OSError, UnicodeDecodeError) as error:
                raise InputError("--notes", f"cannot read {args.notes}: {error}") from None
        codes = [code.strip() for code in args.insee.split(",")] if args.insee is not None else None
        if codes is not None and not all(codes):
            raise InputError("--insee", f"empty code in '{args.insee}'")
        target = build_territory(
            args.name, canton=args.canton, epci=args.epci, departement=args.departement, insee=codes,
            radius_km=args.radius_km, around=args.around, sites=args.sites, extra_sites=args.extra_sites,
            keep_sites=args.keep_sites, max_travel_min=args.max_travel_min, time_limit_s=args.time_limit_s,
            town_halls=not args.no_town_halls,
            base_insee=args.base_insee, base_lat=args.base_lat, base_lon=args.base_lon,
            base_name=args.base_name, description=args.description, notes=notes,
            build_date=args.build_date, command=shlex.join(["python", "-m", "sim.build_territory", *argv]),
            out_dir=args.out_dir, force=args.force)
    except (InputError, _UsageError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    print(target)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
