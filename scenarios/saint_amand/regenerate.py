"""Regenerate the saint_amand scenario from the open data: python scenarios/saint_amand/regenerate.py

The 2021 pilot held permanences at 15 sites in 14 communes, but which ones was not published. The rule
used here: the town halls of the canton's 14 most populous communes, plus the post office of the
chef-lieu. The build date is fixed so that a rerun rewrites the committed files byte for byte.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import pandas as pd

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent.parent))

from sim.build.territory_builder import build_territory  # noqa: E402  (needs the repository on the path)

BUILD_DATE = "2026-11-29"
COMMAND = "python scenarios/saint_amand/regenerate.py"

# The chef-lieu's post office; blank lat and lon: its location is not in the open data.
POST_OFFICE = pd.DataFrame([{"name": "Bureau de poste de Saint-Amand-les-Eaux", "insee": "59526",
                             "venue": "post_office", "lat": "", "lon": ""}])

NOTES = """\
## The 2021 pilot

From 8 April 2021, for 3 months, La Poste ran a "France Services en mobilité" pilot in the canton of
Saint-Amand-les-Eaux (Nord), co-funded by the Banque des Territoires: a *facteur services-expert* (a senior
postman trained on the France Services tools) from the Plateforme de distribution courrier de Valenciennes
held itinerant permanences for the nine operators at **15 sites in 14 communes** (town halls, post
offices, La Poste agences communales). Sessions were reported as "two of 2h30, generally". By 7 May 2021
more than 79 appointments had been held and 40 more were booked for the first half of May: about
**20 requests a week** for the whole canton, mostly by appointment (tax returns, benefit claims, creating
online accounts). Sources: La Poste announcement of 12 April 2021; préfecture du Nord, May 2021.

## Site rule (an assumption)

Which communes hosted the 15 sites was not published. Rule used here: the 14 most populous communes of
the canton each get a site at their town hall (venue `mairie`), and the chef-lieu Saint-Amand-les-Eaux
gets a second site, its post office (venue `post_office`). The post office's location is not in the open
data: it stands at a point inside the commune's polygon, about 1.6 km from the town hall.

## Base (a stand-in)

The agent starts and ends each day at the Plateforme de distribution courrier de Valenciennes, whose
location is not in the open data: Valenciennes town hall (INSEE 59606, outside the canton, 12 km
from Saint-Amand-les-Eaux town hall) stands in for it.

## Calibration and running it

The default configuration is this pilot: one agent, each site every other week, two sessions of 2 h 30 a
day, the rota planned for least driving. `demand.uptake` (the share of the mature national rate reaching
a new itinerant service) is calibrated so that the run sees about 20 requests a week at the desk, as the
pilot did (`tests/test_calibration.py`; `docs/delivery.md` gives the figure).

    python -m sim                                        # the pilot
    python -m sim experiment=pilots_vs_alternatives      # against a fixed site and a bus
    python -m sim.planner                                # the rota against the naive order"""


def main(argv: list[str] | None = None) -> Path:
    """Rebuild the scenario into its folder (or --out-dir) and return the folder."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out-dir", type=Path, default=HERE, help="output folder (default: this one)")
    args = parser.parse_args(argv)
    return build_territory(
        "saint_amand", canton="5934", sites="top:14", extra_sites=POST_OFFICE, base_insee="59606",
        base_name="Plateforme de distribution courrier de Valenciennes",
        description="Canton of Saint-Amand-les-Eaux (Nord, 5934), where La Poste piloted France Services "
                    "en mobilité from April 2021: 15 permanence sites in 14 communes.",
        notes=NOTES, build_date=BUILD_DATE, command=COMMAND, out_dir=args.out_dir, force=True)


if __name__ == "__main__":
    print(main())
