"""Communes, sites, the agents' base and the travel times between them.

A scenario folder (`scenarios/<name>/`) holds `communes.csv` (insee,name,population,lat,lon: the town hall),
`sites.csv` (site_id,name,insee,venue,lat,lon) and `scenario.yaml` (name, description, base). Travel
time is great-circle distance x detour factor / speed, unless a travel-time matrix (CSV from,to,minutes
[,km]) names the pair. Citizens' reach is kept sparse (commune, site) pairs, so a whole country fits.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import yaml
from scipy.spatial import cKDTree

from sim.core.errors import InputError

MAX_COMMUNE_POPULATION = 3_000_000
"""Paris, the largest French commune, has 2.1 million people: more in one row is a data error."""
VENUES: tuple[str, ...] = ("mairie", "post_office", "apc", "relais", "digital_centre", "bus_stop")
EARTH_RADIUS_KM = 6371.0088
BASE = "base"


@dataclass(frozen=True)
class Territory:
    """Communes (town-hall points) and session sites of a scenario, plus the agents' base."""

    name: str
    commune_insee: np.ndarray  # str
    commune_name: np.ndarray  # str
    population: np.ndarray  # float64, population municipale
    commune_lat: np.ndarray
    commune_lon: np.ndarray
    site_id: np.ndarray  # str
    site_name: np.ndarray  # str
    site_commune: np.ndarray  # int index into communes
    site_venue: np.ndarray  # str
    site_lat: np.ndarray
    site_lon: np.ndarray
    base_name: str
    base_lat: float
    base_lon: float

    @property
    def n_communes(self) -> int:
        """Number of communes."""
        return len(self.commune_insee)

    @property
    def n_sites(self) -> int:
        """Number of sites."""
        return len(self.site_id)

    def site_index(self, site_id: str, field: str) -> int:
        """Index of a site by id; `field` names the input that referred to it, for the error."""
        hits = np.flatnonzero(self.site_id == site_id)
        if len(hits) == 0:
            raise InputError(field, f"unknown site {site_id!r}")
        return int(hits[0])


@dataclass(frozen=True)
class TravelTimes:
    """Agents' travel between base and sites: minutes and km, index n_sites is the base."""

    minutes: np.ndarray  # (S+1, S+1)
    km: np.ndarray  # (S+1, S+1)


@dataclass(frozen=True)
class Reach:
    """For each commune, the sites its citizens can reach, nearest first (padded with -1)."""

    sites: np.ndarray  # (C, R) int32, -1 = none
    travel_min: np.ndarray  # (C, R) float64, inf where none


def _read_csv(path: Path, columns: dict[str, str], field: str | None = None) -> pd.DataFrame:
    """Read a scenario CSV, checking that it exists, parses and has the expected typed columns (numbers finite).

    `field` names the setting that pointed at the file, for the message when it is missing.
    """
    if not path.is_file():
        raise InputError(field or str(path), f"file not found: {path}")
    try:
        df = pd.read_csv(path, dtype=str, keep_default_na=False, skipinitialspace=True)
    except (pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError) as exc:
        raise InputError(str(path), f"malformed CSV ({str(exc).splitlines()[0]})") from None
    missing = [c for c in columns if c not in df.columns]
    if missing:
        raise InputError(str(path), f"missing column(s) {', '.join(missing)}")
    for col, kind in columns.items():
        if kind == "str":
            if (df[col].str.strip() == "").any():
                row = int(np.flatnonzero(df[col].str.strip() == "")[0]) + 2
                raise InputError(f"{path.name}:{row}:{col}", "empty value")
            df[col] = df[col].str.strip()
            continue
        df[col] = _finite_column(df[col], f"{path.name}", col)
    return df


def _finite_column(text: pd.Series, name: str, col: str) -> pd.Series:
    """A column of text as floats; the first value that is not a number, or not finite, is refused by row."""
    values = pd.to_numeric(text, errors="coerce").astype(float)
    bad = ~np.isfinite(values.to_numpy())
    if bad.any():
        row = int(np.flatnonzero(bad)[0])
        kind = "not a number" if values.isna().iloc[row] else "not a finite number"
        raise InputError(f"{name}:{row + 2}:{col}", f"{kind}: {text.iloc[row]!r}")
    return values


def _check_coordinates(df: pd.DataFrame, path: Path) -> None:
    for col, lim in (("lat", 90.0), ("lon", 180.0)):
        bad = np.flatnonzero(np.abs(df[col].to_numpy()) > lim)
        if len(bad):
            raise InputError(f"{path.name}:{bad[0] + 2}:{col}", f"outside [-{lim:g}, {lim:g}]: {df[col].iloc[bad[0]]}")


def _read_meta(data_dir: Path, name: str, field: str) -> tuple[dict, dict]:
    """scenario.yaml of a scenario folder and its base (checked: lat and lon finite numbers in range)."""
    if not data_dir.is_dir():
        raise InputError(field, f"unknown scenario {name!r} (no folder {data_dir})")
    if not (data_dir / "communes.csv").is_file() and (data_dir / "regenerate.py").is_file():
        raise InputError(field, f"the data of {name!r} is not built yet: run python {data_dir / 'regenerate.py'}")
    meta_path = data_dir / "scenario.yaml"
    try:
        meta = yaml.safe_load(meta_path.read_text(encoding="utf-8")) if meta_path.is_file() else {}
    except yaml.YAMLError as exc:
        raise InputError(str(meta_path), f"malformed YAML ({str(exc).splitlines()[0]})") from None
    base = (meta or {}).get("base")
    if not isinstance(base, dict) or not {"lat", "lon"} <= set(base):
        raise InputError(f"{meta_path}:base", "needs the agents' base with lat and lon")
    try:
        base["lat"], base["lon"] = float(base["lat"]), float(base["lon"])
    except (TypeError, ValueError):
        raise InputError(f"{meta_path}:base", "lat and lon must be numbers") from None
    for key, limit in (("lat", 90.0), ("lon", 180.0)):
        if not abs(base[key]) <= limit:  # NaN fails too
            raise InputError(f"{meta_path}:base.{key}", f"must be a finite number in [-{limit:g}, {limit:g}], got {base[key]}")
    return meta or {}, base


def _check_tables(communes: pd.DataFrame, sites: pd.DataFrame, cpath: Path, spath: Path) -> pd.Series:
    """Refuse empty, negative, duplicated or dangling rows; return each site's commune index."""
    if communes.empty:
        raise InputError(str(cpath), "no communes")
    if sites.empty:
        raise InputError(str(spath), "no sites")
    _check_coordinates(communes, cpath)
    _check_coordinates(sites, spath)
    if (communes["population"] < 0).any():
        row = int(np.flatnonzero(communes["population"] < 0)[0])
        raise InputError(f"{cpath.name}:{row + 2}:population", "must be >= 0")
    if (communes["population"] > MAX_COMMUNE_POPULATION).any():
        row = int(np.flatnonzero(communes["population"] > MAX_COMMUNE_POPULATION)[0])
        raise InputError(f"{cpath.name}:{row + 2}:population", f"{communes['population'].iloc[row]:,.0f} is implausible: "
                         f"at most {MAX_COMMUNE_POPULATION:,} (Paris, the largest French commune, has 2.1 million)")
    for df, col, path in ((communes, "insee", cpath), (sites, "site_id", spath)):
        dup = df[col].duplicated().to_numpy()
        if dup.any():
            raise InputError(f"{path.name}:{int(np.flatnonzero(dup)[0]) + 2}:{col}", f"duplicate {df[col].iloc[int(np.flatnonzero(dup)[0])]!r}")
    site_commune = sites["insee"].map(pd.Series(np.arange(len(communes)), index=communes["insee"]))
    if site_commune.isna().any():
        row = int(np.flatnonzero(site_commune.isna().to_numpy())[0])
        raise InputError(f"{spath.name}:{row + 2}:insee", f"site {sites['site_id'].iloc[row]!r} is in unknown commune {sites['insee'].iloc[row]!r}")
    bad_venue = ~sites["venue"].isin(VENUES)
    if bad_venue.any():
        row = int(np.flatnonzero(bad_venue.to_numpy())[0])
        raise InputError(f"{spath.name}:{row + 2}:venue", f"unknown venue {sites['venue'].iloc[row]!r}; known: {', '.join(VENUES)}")
    if BASE in set(sites["site_id"]):
        raise InputError(f"{spath.name}:site_id", f"{BASE!r} is reserved for the agents' base")
    return site_commune


def load_territory(data_dir: Path, name: str, field: str = "scenario") -> Territory:
    """Read and check a scenario folder; every problem names the file, row and column (`field`: the setting
    that pointed at the folder)."""
    meta, base = _read_meta(data_dir, name, field)
    cpath, spath = data_dir / "communes.csv", data_dir / "sites.csv"
    communes = _read_csv(cpath, {"insee": "str", "name": "str", "population": "num", "lat": "num", "lon": "num"}, field)
    sites = _read_csv(spath, {"site_id": "str", "name": "str", "insee": "str", "venue": "str", "lat": "num", "lon": "num"},
                      field)
    site_commune = _check_tables(communes, sites, cpath, spath)
    return Territory(
        name=str(meta.get("name", name)),
        commune_insee=communes["insee"].to_numpy(dtype=str),
        commune_name=communes["name"].to_numpy(dtype=str),
        population=communes["population"].to_numpy(dtype=float),
        commune_lat=communes["lat"].to_numpy(dtype=float),
        commune_lon=communes["lon"].to_numpy(dtype=float),
        site_id=sites["site_id"].to_numpy(dtype=str),
        site_name=sites["name"].to_numpy(dtype=str),
        site_commune=site_commune.to_numpy(dtype=np.int32),
        site_venue=sites["venue"].to_numpy(dtype=str),
        site_lat=sites["lat"].to_numpy(dtype=float),
        site_lon=sites["lon"].to_numpy(dtype=float),
        base_name=str(base.get("name", "base")),
        base_lat=base["lat"],
        base_lon=base["lon"],
    )


def great_circle_km(lat1: np.ndarray, lon1: np.ndarray, lat2: np.ndarray, lon2: np.ndarray) -> np.ndarray:
    """Haversine distance in km, broadcasting over its arguments."""
    p1, p2 = np.radians(lat1), np.radians(lat2)
    dphi, dlmb = p2 - p1, np.radians(np.asarray(lon2) - np.asarray(lon1))
    h = np.sin(dphi / 2) ** 2 + np.cos(p1) * np.cos(p2) * np.sin(dlmb / 2) ** 2
    return 2 * EARTH_RADIUS_KM * np.arcsin(np.sqrt(np.clip(h, 0.0, 1.0)))


@dataclass(frozen=True)
class TravelModel:
    """Travel-time rule: road km = detour x great-circle km, minutes = km / speed; matrix pairs override."""

    detour_factor: float = 1.3
    speed_kmh: float = 50.0
    overrides: dict[tuple[str, str], tuple[float, float]] | None = None  # (from, to) -> (minutes, km)

    def road(self, lat1, lon1, lat2, lon2) -> tuple[np.ndarray, np.ndarray]:
        """(minutes, km) by the formula."""
        km = great_circle_km(lat1, lon1, lat2, lon2) * self.detour_factor
        return km / self.speed_kmh * 60.0, km


def load_travel_matrix(path: Path, territory: Territory, field: str = "scenario.travel_matrix") -> dict[tuple[str, str], tuple[float, float]]:
    """Read a travel-time matrix (from,to,minutes[,km]); ids are INSEE codes, site ids or 'base'.

    Minutes and km must be finite and >= 0; a pair given twice must agree. A pair given in one direction
    serves both unless the reverse is given too.
    """
    df = _read_csv(path, {"from": "str", "to": "str", "minutes": "num"}, field)
    if "km" in df.columns:
        km = _finite_column(df["km"], path.name, "km")
    else:
        km = pd.Series(np.nan, index=df.index)
    known = set(territory.commune_insee) | set(territory.site_id) | {BASE}
    for col in ("from", "to"):
        unknown = ~df[col].isin(known)
        if unknown.any():
            row = int(np.flatnonzero(unknown.to_numpy())[0])
            raise InputError(f"{path.name}:{row + 2}:{col}", f"unknown commune or site {df[col].iloc[row]!r}")
    for col, values in (("minutes", df["minutes"]), ("km", km)):
        negative = (values < 0).to_numpy()
        if negative.any():
            row = int(np.flatnonzero(negative)[0])
            raise InputError(f"{path.name}:{row + 2}:{col}", f"must be >= 0, got {values.iloc[row]:g}")
    out: dict[tuple[str, str], tuple[float, float]] = {}
    given: dict[tuple[str, str], tuple[int, float, float]] = {}
    for row, (a, b, m, k) in enumerate(zip(df["from"], df["to"], df["minutes"], km)):
        first, m0, k0 = given.setdefault((a, b), (row, float(m), float(k)))
        if m0 != m or not (k0 == k or (k0 != k0 and k != k)):  # km both missing is agreement
            seen = (first, m0, k0)
            raise InputError(f"{path.name}:{row + 2}", f"{a} -> {b} is given twice and disagrees with row {seen[0] + 2} "
                             f"({seen[1]:g} min against {float(m):g})")
    for a, b, m, k in zip(df["from"], df["to"], df["minutes"], km):
        out.setdefault((b, a), (float(m), float(k)))
    for a, b, m, k in zip(df["from"], df["to"], df["minutes"], km):
        out[(a, b)] = (float(m), float(k))
    return out


def agent_travel(territory: Territory, travel: TravelModel) -> TravelTimes:
    """Minutes and km between every pair of sites and the base (index n_sites)."""
    lat = np.append(territory.site_lat, territory.base_lat)
    lon = np.append(territory.site_lon, territory.base_lon)
    minutes, km = travel.road(lat[:, None], lon[:, None], lat[None, :], lon[None, :])
    if travel.overrides:
        ids = {sid: i for i, sid in enumerate(territory.site_id)} | {BASE: territory.n_sites}
        for (a, b), (m, k) in travel.overrides.items():
            if a in ids and b in ids:
                minutes[ids[a], ids[b]] = m
                if k == k:  # not NaN
                    km[ids[a], ids[b]] = k
    return TravelTimes(minutes=minutes, km=km)


def _unit_vectors(lat: np.ndarray, lon: np.ndarray) -> np.ndarray:
    p, l = np.radians(lat), np.radians(lon)
    return np.column_stack((np.cos(p) * np.cos(l), np.cos(p) * np.sin(l), np.sin(p)))


def reach(territory: Territory, travel: TravelModel, max_travel_min: float) -> Reach:
    """Sites within `max_travel_min` of each commune's town hall, nearest first.

    Candidate pairs come from a k-d tree on the sphere, so the cost grows with the number of reachable
    pairs, not communes x sites.
    """
    max_km = max_travel_min / 60.0 * travel.speed_kmh / travel.detour_factor
    chord = 2.0 * np.sin(min(max_km / EARTH_RADIUS_KM, np.pi) / 2.0) * (1 + 1e-9)
    tree = cKDTree(_unit_vectors(territory.site_lat, territory.site_lon))
    pairs = tree.query_ball_point(_unit_vectors(territory.commune_lat, territory.commune_lon), r=chord)
    counts = np.fromiter((len(p) for p in pairs), dtype=np.int64, count=len(pairs))
    com = np.repeat(np.arange(territory.n_communes), counts)
    site = np.fromiter((s for p in pairs for s in p), dtype=np.int64, count=int(counts.sum()))
    minutes, _ = travel.road(territory.commune_lat[com], territory.commune_lon[com], territory.site_lat[site], territory.site_lon[site])
    if travel.overrides:
        cidx = {c: i for i, c in enumerate(territory.commune_insee)}
        sidx = {s: i for i, s in enumerate(territory.site_id)}
        extra = {(cidx[a], sidx[b]): m for (a, b), (m, _) in travel.overrides.items() if a in cidx and b in sidx}
        if extra:
            known = {(int(c), int(s)): i for i, (c, s) in enumerate(zip(com, site))}
            new = [(c, s, m) for (c, s), m in extra.items() if (c, s) not in known]
            for (c, s), m in extra.items():
                if (c, s) in known:
                    minutes[known[(c, s)]] = m
            if new:
                com = np.append(com, [n[0] for n in new])
                site = np.append(site, [n[1] for n in new])
                minutes = np.append(minutes, [n[2] for n in new])
    keep = minutes <= max_travel_min
    com, site, minutes = com[keep], site[keep], minutes[keep]
    order = np.lexsort((site, minutes, com))
    com, site, minutes = com[order], site[order], minutes[order]
    counts = np.bincount(com, minlength=territory.n_communes)
    width = max(int(counts.max(initial=0)), 1)
    rank = np.arange(len(com)) - np.repeat(np.cumsum(counts) - counts, counts)
    sites = np.full((territory.n_communes, width), -1, dtype=np.int32)
    tmin = np.full((territory.n_communes, width), np.inf)
    sites[com, rank] = site
    tmin[com, rank] = minutes
    return Reach(sites=sites, travel_min=tmin)
