"""Who holds which session where and when: the rota, its checks, and rota files.

A rota is a list of rows (agent, site, start, end). A session is one opening of one site's desk: the rows
at one site whose hours overlap or touch make one session, from the first start to the last end, so that
agents at the same site at the same time pull from one queue. Times are minutes from Monday 00:00 of the
first simulated week.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import yaml

from sim.core.errors import InputError
from sim.core.territory import Territory, TravelTimes
from sim.core.units import DAY_MIN, WEEKDAYS, hhmm, parse_hhmm


@dataclass(frozen=True)
class Rota:
    """Sessions (one desk opening each) and the agents staffing them."""

    agent_names: tuple[str, ...]
    session_site: np.ndarray  # int32
    session_start: np.ndarray  # float64 minutes
    session_end: np.ndarray  # float64 minutes
    row_agent: np.ndarray  # int32, one row per (agent, session), sorted by agent then start
    row_session: np.ndarray  # int32
    row_start: np.ndarray  # float64 minutes: when this agent's part of the session starts
    row_end: np.ndarray  # float64 minutes: when this agent leaves (after the citizen in service)

    @property
    def n_sessions(self) -> int:
        """Number of sessions."""
        return len(self.session_site)

    @property
    def session_agents(self) -> np.ndarray:
        """Number of agents staffing each session."""
        return np.bincount(self.row_session, minlength=self.n_sessions).astype(np.int32)

    def row_day(self) -> np.ndarray:
        """Day index of each row."""
        return (self.row_start // DAY_MIN).astype(np.int64)

    def day_bounds(self) -> np.ndarray:
        """Where each agent's working day begins in the rows, plus the number of rows: day g is rows b[g]:b[g+1]."""
        key = self.row_agent.astype(np.int64) * 1_000_000 + self.row_day()
        return np.concatenate(([0], np.flatnonzero(np.diff(key)) + 1, [len(key)])) if len(key) else np.zeros(1, np.int64)

    def agent_days(self) -> list[tuple[int, int, np.ndarray]]:
        """(agent, day, row indices in time order) for every working day of every agent."""
        day, bounds = self.row_day(), self.day_bounds().tolist()
        return [(int(self.row_agent[lo]), int(day[lo]), np.arange(lo, hi)) for lo, hi in zip(bounds[:-1], bounds[1:])]


def from_rows(names: tuple[str, ...], agent: np.ndarray, site: np.ndarray, start: np.ndarray, end: np.ndarray) -> Rota:
    """Group (agent, site, start, end) rows into sessions: rows at one site whose hours overlap or touch share
    one desk, open from the first start to the last end. Sessions sorted by start then site."""
    agent = np.asarray(agent, dtype=np.int32)
    site = np.asarray(site, dtype=np.int32)
    start = np.asarray(start, dtype=float)
    end = np.asarray(end, dtype=float)
    by_site = np.lexsort((end, start, site))
    s, t0, t1 = site[by_site], start[by_site], end[by_site]
    # running latest end within each site: a row starting after it opens a new desk
    reach = pd.Series(t1).groupby(s).cummax().to_numpy()
    new = np.ones(len(s), dtype=bool)
    new[1:] = (s[1:] != s[:-1]) | (t0[1:] > reach[:-1])
    desk = np.cumsum(new) - 1
    first = np.flatnonzero(new)
    desk_site, desk_start = s[first], t0[first]
    desk_end = np.maximum.reduceat(t1, first) if len(first) else np.zeros(0)
    order = np.lexsort((desk_end, desk_site, desk_start))  # sessions by start, then site
    renumber = np.empty(len(order), dtype=np.int32)
    renumber[order] = np.arange(len(order), dtype=np.int32)
    row_session = np.empty(len(s), dtype=np.int32)
    row_session[by_site] = renumber[desk]
    rows = np.lexsort((row_session, start, agent))
    return Rota(
        agent_names=names,
        session_site=desk_site[order].astype(np.int32),
        session_start=desk_start[order].astype(float),
        session_end=desk_end[order].astype(float),
        row_agent=agent[rows],
        row_session=row_session[rows],
        row_start=start[rows],
        row_end=end[rows],
    )


def on_open_days(rota: Rota, is_open: np.ndarray, site_group: np.ndarray) -> Rota:
    """The rota without the rows that fall on a day its site is closed (`is_open`: calendar group x day)."""
    row_site = rota.session_site[rota.row_session]
    day = np.minimum(rota.row_day(), is_open.shape[1] - 1)
    keep = is_open[site_group[row_site], day]
    if keep.all():
        return rota
    return from_rows(rota.agent_names, rota.row_agent[keep], row_site[keep], rota.row_start[keep], rota.row_end[keep])


def day_plan(rota: Rota, travel: TravelTimes) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Per rota row: driving minutes and km before it (from base or previous site) and after the day's last.

    Returns (drive_before_min, km_before, drive_after_min, km_after); `after` is non-zero only on the last
    row of an agent's day (the drive back to base).
    """
    base = travel.minutes.shape[0] - 1
    sites = rota.session_site[rota.row_session]
    bounds = rota.day_bounds()
    first = np.zeros(len(sites), dtype=bool)
    first[bounds[:-1]] = True
    last = np.zeros(len(sites), dtype=bool)
    last[bounds[1:] - 1] = True
    prev = np.where(first, base, np.roll(sites, 1))
    return (travel.minutes[prev, sites], travel.km[prev, sites],
            np.where(last, travel.minutes[sites, base], 0.0), np.where(last, travel.km[sites, base], 0.0))


def check_rota(rota: Rota, travel: TravelTimes, workday_max_min: float, territory: Territory) -> None:
    """Refuse a rota that needs an agent in two places at once, leaves no time for a drive, or exceeds the day.

    Between two consecutive sessions of an agent there must be the drive from one site to the other (from
    the last site back to base and out to the first site when they fall on different days).
    """
    start, end = rota.row_start, rota.row_end
    if not len(start):
        return
    sites = rota.session_site[rota.row_session]
    before_min, _, after_min, _ = day_plan(rota, travel)
    bounds = rota.day_bounds()
    lo, hi = bounds[:-1], bounds[1:]
    same_agent = np.zeros(len(start), dtype=bool)  # row b follows row b - 1 of the same agent
    same_agent[1:] = rota.row_agent[1:] == rota.row_agent[:-1]
    first_of_day = np.zeros(len(start), dtype=bool)
    first_of_day[lo] = True
    gap = np.full(len(start), np.inf)
    gap[1:] = start[1:] - end[:-1]
    need = before_min + np.concatenate(([0.0], after_min[:-1]))  # drive from the previous site (via base)
    clash = same_agent & ~first_of_day & (gap < 0)
    short = same_agent & (gap < need - 1e-9)
    work = np.add.reduceat(end - start, lo) + np.add.reduceat(before_min, lo) + after_min[hi - 1]
    bad = np.flatnonzero(work > workday_max_min + 1e-9)
    faults = np.flatnonzero(clash | short)
    if not len(bad) and not len(faults):
        return
    # Report the first agent-day at fault in rota order, a row's fault before a long day, as a scan would.
    fault_day = int(np.searchsorted(lo, faults[0], side="right") - 1) if len(faults) else len(lo)
    g = min(fault_day, int(bad[0]) if len(bad) else len(lo))
    name = rota.agent_names[rota.row_agent[lo[g]]]
    day = int(rota.row_day()[lo[g]])
    when = f"on day {day} ({WEEKDAYS[day % 7]})"
    if g == fault_day:
        b = int(faults[0])
        a = b - 1
        here, there = territory.site_id[sites[a]], territory.site_id[sites[b]]
        if clash[b]:
            raise InputError("rota", f"agent {name} is needed at {here} and {there} at once {when} at {hhmm(start[b])}")
        via = " via the base" if first_of_day[b] else ""
        raise InputError(
            "rota",
            f"agent {name} {when} has {gap[b]:.0f} min from {here} (ends {hhmm(end[a])}) to {there} (starts "
            f"{hhmm(start[b])}) but the drive{via} takes {need[b]:.0f} min: {need[b] - gap[b]:.0f} min missing",
        )
    rows = np.arange(lo[g], hi[g])
    work_g = float((end[rows] - start[rows]).sum() + before_min[rows].sum() + after_min[rows[-1]])
    raise InputError(
        "staffing.workday_max_h",
        f"agent {name} {when} needs {work_g / 60:.2f} h of sessions and driving, "
        f"more than the {workday_max_min / 60:g} h working day by {(work_g - workday_max_min) / 60:.2f} h",
    )


def _weekday(value: object, field: str) -> int:
    text = str(value).strip().lower()
    if text.isdigit() and 0 <= int(text) <= 6:
        return int(text)
    if text[:3] in WEEKDAYS:
        return WEEKDAYS.index(text[:3])
    raise InputError(field, f"expected a weekday 0-6 (Monday = 0) or mon..sun, got {value!r}")


def _read_rota_table(path: Path) -> pd.DataFrame:
    """A rota file's rows as text (CSV, or YAML: a list of sessions or a mapping with `sessions`)."""
    if not path.is_file():
        raise InputError("scenario.rota_file", f"file not found: {path}")
    if path.suffix.lower() in (".yaml", ".yml"):
        try:
            data = yaml.safe_load(path.read_text(encoding="utf-8"))
        except yaml.YAMLError as exc:
            raise InputError(str(path), f"malformed YAML ({str(exc).splitlines()[0]})") from None
        if isinstance(data, dict):
            data = data.get("sessions")
        if not isinstance(data, list) or not all(isinstance(r, dict) for r in data):
            raise InputError(str(path), "expected a list of sessions (agent, weekday, site_id, start, end)")
        df = pd.DataFrame(data).astype(str)
    else:
        try:
            df = pd.read_csv(path, dtype=str, keep_default_na=False, skipinitialspace=True)
        except (pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError) as exc:
            raise InputError(str(path), f"malformed CSV ({str(exc).splitlines()[0]})") from None
    missing = [c for c in ("agent", "weekday", "site_id", "start", "end") if c not in df.columns]
    if missing:
        raise InputError(str(path), f"missing column(s) {', '.join(missing)}")
    if df.empty:
        raise InputError(str(path), "no sessions")
    return df


def _parse_rota_rows(df: pd.DataFrame, name: str, territory: Territory) -> list[tuple[str, int, int, int, float, float]]:
    """(agent, week of the cycle from 0, weekday, site, start, end) of each row; errors name file, row, column."""
    week = df["week"].tolist() if "week" in df.columns else ["1"] * len(df)
    site_of = {sid: i for i, sid in reversed(list(enumerate(territory.site_id.tolist())))}
    parsed: dict[tuple[str, str], float] = {}  # (column, text) -> value: each distinct text is parsed once
    rows = []
    for i, (agent_text, weekday, site_id, t0_text, t1_text) in enumerate(
            zip(df["agent"], df["weekday"], df["site_id"], df["start"], df["end"])):
        where = f"{name}:{i + 2}"
        try:
            w = int(str(week[i]).strip() or "1")
        except ValueError:
            raise InputError(f"{where}:week", f"expected a week number >= 1, got {week[i]!r}") from None
        if w < 1:
            raise InputError(f"{where}:week", f"expected a week number >= 1, got {w}")
        d = parsed.get(("weekday", weekday))
        if d is None:
            d = parsed[("weekday", weekday)] = _weekday(weekday, f"{where}:weekday")
        site = site_of.get(str(site_id).strip())
        if site is None:
            site = territory.site_index(str(site_id).strip(), f"{where}:site_id")
        t0, t1 = parsed.get(("start", t0_text)), parsed.get(("end", t1_text))
        if t0 is None:
            t0 = parsed[("start", t0_text)] = parse_hhmm(f"{where}:start", str(t0_text))
        if t1 is None:
            t1 = parsed[("end", t1_text)] = parse_hhmm(f"{where}:end", str(t1_text))
        if t1 <= t0:
            raise InputError(f"{where}:end", f"session ends before it starts ({t0_text}-{t1_text})")
        rows.append((str(agent_text).strip(), w - 1, d, site, t0, t1))
    return rows


def load_rota_file(path: Path, territory: Territory, weeks: int) -> Rota:
    """Read an explicit rota (CSV or YAML rows: agent, week, weekday, site_id, start, end).

    `week` (1-based, optional) places a row in a cycle of max(week) weeks that repeats over the run.
    """
    rows = _parse_rota_rows(_read_rota_table(path), path.name, territory)
    k = max(r[1] for r in rows) + 1
    names = tuple(dict.fromkeys(r[0] for r in rows))
    idx = {n: i for i, n in enumerate(names)}
    name, w, d, site, t0, t1 = zip(*rows)
    reps = int(np.ceil(weeks / k))
    # The cycle repeated `reps` times, repetition after repetition, cut at the end of the run.
    day = ((np.arange(reps)[:, None] * k + np.array(w)[None, :]) * 7 + np.array(d)[None, :]).ravel()
    keep = day < weeks * 7
    if not keep.any():
        raise InputError(str(path), "no session falls within the simulated weeks")
    day = day[keep]
    agent = np.tile(np.array([idx[x] for x in name], dtype=np.int32), reps)[keep]
    site = np.tile(np.array(site, dtype=np.int32), reps)[keep]
    start = day * DAY_MIN + np.tile(np.array(t0), reps)[keep]
    end = day * DAY_MIN + np.tile(np.array(t1), reps)[keep]
    return from_rows(names, agent, site, start, end)
