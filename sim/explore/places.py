"""Territories for the explorer: the prepared scenarios, and a search over the open data's communes, cantons,
EPCIs and départements by name or code, built into a scenario folder by the territory builder.
"""

from __future__ import annotations

import functools
import unicodedata
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from sim.build import opendata
from sim.build.territory_builder import build_territory, is_scenario_folder
from sim.config import repo_root

KINDS = ("canton", "epci", "departement", "commune")
KIND_LABELS = {"canton": "canton", "epci": "EPCI", "departement": "département", "commune": "commune"}
MAX_MATCHES = 30


@dataclass(frozen=True)
class Place:
    """A territory of the open data: its kind, code and name, and the scenario name it is built under."""

    kind: str  # canton | epci | departement | commune
    code: str
    name: str

    @property
    def label(self) -> str:
        """How the place is listed: 'canton Bourganeuf (2305)'."""
        return f"{KIND_LABELS[self.kind]} {self.name} ({self.code})"

    @property
    def scenario_name(self) -> str:
        """The scenario folder's name: canton_2305."""
        return f"{self.kind}_{self.code}"


def prepared_scenarios() -> list[str]:
    """The named scenarios of configs/scenario/ that model a territory (the queueing-theory one and the national
    year, which takes minutes, are left out), the default first."""
    names = sorted(p.stem for p in (repo_root() / "configs" / "scenario").glob("*.yaml"))
    names = [n for n in names if n not in ("mmc", "national")]
    return sorted(names, key=lambda n: n != "saint_amand")


def _folded(text: pd.Series | str) -> pd.Series | str:
    """Lower case without accents, so 'saint amand' finds 'Saint-Amand-les-Eaux'."""
    def fold(value: str) -> str:
        plain = unicodedata.normalize("NFKD", value).encode("ascii", "ignore").decode("ascii")
        return plain.lower().replace("-", " ").replace("'", " ")
    return text.map(fold) if isinstance(text, pd.Series) else fold(text)


@functools.lru_cache(maxsize=1)
def places() -> pd.DataFrame:
    """Every canton, EPCI, département and commune: kind, code, name, folded name, population (for ranking)."""
    communes = opendata.communes()
    population = communes["population"].fillna(0)
    tables = [
        pd.DataFrame({"kind": "canton", "code": opendata.cantons()["code"], "name": opendata.cantons()["name"]}),
        pd.DataFrame({"kind": "epci", "code": opendata.epcis()["code"], "name": opendata.epcis()["name"]}),
        pd.DataFrame({"kind": "departement", "code": opendata.departements()["code"],
                      "name": opendata.departements()["name"]}),
        pd.DataFrame({"kind": "commune", "code": communes.index, "name": communes["name"],
                      "population": population.to_numpy()}),
    ]
    table = pd.concat(tables, ignore_index=True)
    table["population"] = table["population"].fillna(0)
    table["folded"] = _folded(table["name"].astype(str))
    return table


def search(text: str, limit: int = MAX_MATCHES) -> list[Place]:
    """Places whose code is `text`, then whose name starts with it, then whose name contains it (accents and
    case ignored); within each, cantons, EPCIs, départements, then communes by population."""
    query = _folded(text.strip())
    if not query:
        return []
    table = places()
    exact_code = table["code"].str.lower() == query
    starts = table["folded"].str.startswith(query)
    contains = table["folded"].str.contains(query, regex=False)
    rank = pd.Series(3, index=table.index)
    rank[contains], rank[starts], rank[exact_code] = 2, 1, 0
    found = table.assign(rank=rank, order=table["kind"].map(KINDS.index))[rank < 3]
    found = found.sort_values(["rank", "order", "population", "name"], ascending=[True, True, False, True])
    return [Place(r.kind, str(r.code), str(r.name)) for r in found.head(limit).itertuples(index=False)]


def build(place: Place, folder: Path) -> Path:
    """The scenario folder of `place` under `folder` (built by the territory builder with its defaults, or the one
    built before); raise InputError if the builder refuses it."""
    target = folder / place.scenario_name
    if is_scenario_folder(target):
        return target
    option, value = ("insee", [place.code]) if place.kind == "commune" else (place.kind, place.code)
    command = f"python -m sim.build_territory {place.scenario_name} --{option} {place.code} --out-dir {target}"
    return build_territory(place.scenario_name, out_dir=target, command=command, **{option: value})
