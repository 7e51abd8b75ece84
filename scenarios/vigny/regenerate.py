"""Regenerate the vigny scenario from the open data: python scenarios/vigny/regenerate.py

In 2021 a customer advisor of the labelled Vigny post office (Val-d'Oise) held permanences outside it, in
town halls, agences postales communales and La Poste Relais shops; which communes, and the office's
service area, were not published. The territory used here is the EPCI holding Vigny, the Communauté de
communes Vexin Centre, and the sites are the town halls of its 8 most populous communes (Vigny itself,
the 9th, keeps its post office). The build date is fixed so that a rerun rewrites the files byte for byte.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent.parent))

from sim.build.territory_builder import build_territory  # noqa: E402  (needs the repository on the path)

BUILD_DATE = "2026-11-29"
COMMAND = "python scenarios/vigny/regenerate.py"
VEXIN_CENTRE = "200035970"  # SIREN of the Communauté de communes Vexin Centre
VIGNY = "95658"

NOTES = """\
## The 2021 pilot

From April 2021, for 3 months, La Poste tested a second "France Services en mobilité" model at Vigny
(Val-d'Oise), co-funded by the Banque des Territoires: a customer advisor of the Vigny post office, itself
labelled France Services, held permanences outside the office, in town halls (mairies), agences postales
communales (APC) or La Poste Relais partner shops. Nothing else was published: not the communes, the
number of sessions or the use made of them. Source: La Poste announcement of 12 April 2021.

## Territory (an assumption)

The office's service area was not published. The territory is the EPCI holding Vigny, the Communauté de
communes Vexin Centre (SIREN 200035970): 33 rural communes, 24,941 inhabitants, all within 17 km of
Vigny. Its population is close to the national average catchment of a France Services site (66.5 M people
/ 2,840 sites, about 23,400). A disc around Vigny was not used: at 7 to 8 km it takes in the
Cergy-Pontoise suburbs (Courdimanche, Menucourt, then Vauréal and Cergy), which have their own services.

## Sites (an assumption)

Which mairies, APC and Relais shops hosted the permanences was not published, nor are APC and Relais
shops in the open data. Sites here are the town halls of the 8 most populous communes of the territory
(Marines, Chars, Boissy-l'Aillerie, Cormeilles-en-Vexin, Us, Seraincourt, Ableiges, Sagy); an APC is
usually housed in the town hall. Vigny, the 9th, keeps its labelled post office and gets no permanence.

## Base and rota (assumptions)

The advisor starts and ends each day at the Vigny post office, whose location is not in the open data:
Vigny town hall stands in for it. `configs/scenario/vigny.yaml` has one advisor visit each site every
other week, two sessions of 2 h 30 a day as in the Saint-Amand-les-Eaux pilot: 4 sessions, 2 days a week
out of the office, the rota planned for least driving (`sim.planner`).

## Running it

    python -m sim scenario=vigny                                    # the pilot as assumed here
    python -m sim scenario=vigny frequency=weekly staffing=two_agents
    python -m sim experiment=pilots_vs_alternatives scenario=vigny  # against a fixed site and a bus
    python -m sim.planner scenario=vigny                            # the rota against the naive order"""


def main(argv: list[str] | None = None) -> Path:
    """Rebuild the scenario into its folder (or --out-dir) and return the folder."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out-dir", type=Path, default=HERE, help="output folder (default: this one)")
    args = parser.parse_args(argv)
    return build_territory(
        "vigny", epci=VEXIN_CENTRE, sites="top:8", base_insee=VIGNY, base_name="Bureau de poste de Vigny",
        description="Communauté de communes Vexin Centre (Val-d'Oise), around the Vigny post office where La Poste "
                    "piloted France Services en mobilité in 2021: permanences at 8 town halls.",
        notes=NOTES, build_date=BUILD_DATE, command=COMMAND, out_dir=args.out_dir, force=True)


if __name__ == "__main__":
    print(main())
