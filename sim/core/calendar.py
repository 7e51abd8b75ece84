"""The run's calendar: day 0 is the Monday of the week of the start date; the days before the start and French
public holidays are closed (no session, no need arising).

Holidays come from the `holidays` package (France); départements 57, 67 and 68 (Alsace-Moselle) have two
more (Good Friday and 26 December). Communes and sites are put in one of two calendar groups by their
département: 0 the rest of France, 1 Alsace-Moselle.
"""

from __future__ import annotations

import datetime as dt

import holidays
import numpy as np

ALSACE_MOSELLE = ("57", "67", "68")
GROUPS = ("France", "Alsace-Moselle")


def monday_of(start: dt.date) -> dt.date:
    """The Monday of the week holding `start`: the run's day 0."""
    return start - dt.timedelta(days=start.weekday())


def calendar_group(insee: np.ndarray) -> np.ndarray:
    """0 for a commune of the general calendar, 1 for one of Alsace-Moselle, from INSEE codes."""
    return np.isin(np.asarray(insee).astype("<U2"), ALSACE_MOSELLE).astype(np.int8)  # "<U2": the département


def open_days(start: dt.date, days: int, public_holidays: bool = True) -> np.ndarray:
    """(2, days) bool: day d (from the Monday of the start week) is open in each calendar group (every day from
    the start when `public_holidays` is false)."""
    day0 = monday_of(start)
    dates = [day0 + dt.timedelta(days=d) for d in range(days)]
    years = sorted({d.year for d in dates})
    general = holidays.France(years=years)
    alsace = holidays.France(years=years, subdiv="57")  # Moselle; Bas-Rhin and Haut-Rhin keep the same days
    started = np.array([d >= start for d in dates], dtype=bool)
    if not public_holidays:
        return np.vstack([started, started])
    return np.vstack([started & np.array([d not in general for d in dates], dtype=bool),
                      started & np.array([d not in alsace for d in dates], dtype=bool)])


def closed_dates(start: dt.date, days: int, group: int = 0) -> list[dt.date]:
    """The public holidays among the run's days on or after the start (for notes and tests)."""
    day0 = monday_of(start)
    is_open = open_days(start, days)[group]
    return [day0 + dt.timedelta(days=d) for d in range(days) if not is_open[d] and day0 + dt.timedelta(days=d) >= start]


def dates_of(day0: dt.date, day: np.ndarray) -> np.ndarray:
    """Dates (datetime64[ms], as Parquet gives them back) of day indices counted from `day0`."""
    return (np.datetime64(day0, "D") + np.asarray(day, dtype="timedelta64[D]")).astype("datetime64[ms]")
