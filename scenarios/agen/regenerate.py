"""Regenerate the agen scenario from the open data: python scenarios/agen/regenerate.py

In 2021, while a labelled France Services post office in Agen was under works, a customer advisor held 4
sessions a week at the Agen Léon Blum post office, the Pont-du-Casse and Foulayronnes town halls and the
Montanou and Bartelé public digital spaces of Agen. The territory is the office's catchment, taken here as
the communes within 6.5 km of Agen town hall: the smallest round radius holding both town halls. The
rota is `rota.csv` (written by hand, see README). The build date is fixed so that a rerun rewrites the
files byte for byte.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import pandas as pd

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent.parent))

from sim.build import opendata  # noqa: E402  (needs the repository on the path)
from sim.build.territory_builder import build_territory  # noqa: E402

BUILD_DATE = "2026-11-29"
COMMAND = "python scenarios/agen/regenerate.py"
AGEN, PONT_DU_CASSE, FOULAYRONNES = "47001", "47209", "47100"
RADIUS_KM = 6.5


def sites() -> pd.DataFrame:
    """The five places of the pilot; blank lat and lon where the open data does not have the location."""
    town_halls = opendata.location(opendata.communes().loc[[PONT_DU_CASSE, FOULAYRONNES]])
    rows = [
        ("Bureau de poste Agen Léon Blum", AGEN, "post_office", "", ""),
        ("Espace public numérique de Montanou", AGEN, "digital_centre", "", ""),
        ("Espace public numérique du Bartelé", AGEN, "digital_centre", "", ""),
        ("Mairie de Pont-du-Casse", PONT_DU_CASSE, "mairie", *town_halls.loc[PONT_DU_CASSE, ["lat", "lon"]]),
        ("Mairie de Foulayronnes", FOULAYRONNES, "mairie", *town_halls.loc[FOULAYRONNES, ["lat", "lon"]]),
    ]
    return pd.DataFrame(rows, columns=["name", "insee", "venue", "lat", "lon"]).astype(str)


NOTES = """\
## The 2021 pilot

From April 2021, for 3 months, La Poste tested a third "France Services en mobilité" model at Agen
(Lot-et-Garonne), co-funded by the Banque des Territoires: while a post office of Agen labelled France
Services was under works, a customer advisor travelled within the area it serves. The La Poste group
reported (June 2021) **4 sessions a week** at the Agen Léon Blum post office, the Pont-du-Casse and
Foulayronnes town halls and two public digital spaces of Agen, Montanou and Bartelé. Users booked
appointments; requests named: civil-status records, vehicle registration (ANTS), tax returns, pension
claims, residence permits, finding one's way on operators' websites. Sources: La Poste announcement of
12 April 2021; La Poste group, June 2021.

## Territory (an assumption)

The office's catchment was not published. The territory is Agen and the communes whose town hall lies
within 6.5 km of Agen town hall, the smallest round radius that holds both town halls where sessions were
held (Foulayronnes at 4.5 km, Pont-du-Casse at 6.2 km): the core of the Agen conurbation.

## Sites (stand-ins)

The two town halls are where the open data puts them. The post office and the two digital spaces are in
Agen but their locations are not in the open data: all three stand at the same point inside Agen's
polygon, so driving between them counts as nil (they are within 3 km of each other in reality).

## Base, rota and appointments (assumptions)

The advisor's base is the labelled post office under works, whose location is not in the open data: Agen
town hall stands in for it. `rota.csv` holds the 4 sessions a week on a 2-week cycle, each 09:00-12:00:
Monday the Léon Blum post office, Tuesday Pont-du-Casse, Thursday Foulayronnes, Friday one of the two
digital spaces in turn (Montanou in week 1, Bartelé in week 2); days, hours and the alternation are
assumptions. Appointments were possible: the share of citizens booking is the model's default
(`citizens.appointment_share`).

## Running it

    python -m sim scenario=agen                                    # the pilot, rota.csv
    python -m sim scenario=agen scenario.rota_file=null            # a planned rota: 4 sessions a week
    python -m sim experiment=pilots_vs_alternatives scenario=agen  # against a fixed site and a bus"""


def main(argv: list[str] | None = None) -> Path:
    """Rebuild the scenario into its folder (or --out-dir) and return the folder."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out-dir", type=Path, default=HERE, help="output folder (default: this one)")
    args = parser.parse_args(argv)
    return build_territory(
        "agen", radius_km=RADIUS_KM, around=AGEN, sites="none", extra_sites=sites(), base_insee=AGEN,
        base_name="Bureau de poste d'Agen labellisé France Services (en travaux)",
        description="Agen (Lot-et-Garonne) and the communes within 6.5 km, where La Poste piloted France Services "
                    "en mobilité in 2021: 4 sessions a week at 5 places during works at a labelled post office.",
        notes=NOTES, build_date=BUILD_DATE, command=COMMAND, out_dir=args.out_dir, force=True)


if __name__ == "__main__":
    print(main())
