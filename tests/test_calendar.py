"""The run's calendar: the default run starts on the pilot's first day, holds no session and raises no need on a
public holiday, and carries dates; Alsace-Moselle keeps its two extra days."""

from __future__ import annotations

import datetime as dt

import pandas as pd

from conftest import QUIET, run_cli
from sim.core.calendar import closed_dates, open_days

HOLIDAYS_2021 = pd.to_datetime(["2021-04-05", "2021-05-01", "2021-05-08", "2021-05-13", "2021-05-24", "2021-07-14"])


def test_the_default_run_skips_ascension_and_whit_monday_and_carries_dates(tmp_path) -> None:
    out = tmp_path / "run"
    r = run_cli("experiment.replications=2", *[q for q in QUIET if "requests" not in q], f"hydra.run.dir={out}")
    assert r.returncode == 0, r.stderr
    sessions, requests = pd.read_parquet(out / "sessions.parquet"), pd.read_parquet(out / "requests.parquet")
    assert sessions["date"].min() == pd.Timestamp("2021-04-08") and requests["date"].min() >= pd.Timestamp("2021-04-08")
    assert not sessions["date"].isin(HOLIDAYS_2021).any() and not requests["date"].isin(HOLIDAYS_2021).any()
    assert (sessions["date"].dt.day_of_week < 5).all() and (requests["date"].dt.day_of_week < 5).all()
    assert (sessions["date"] == pd.Timestamp("2021-04-05") + pd.to_timedelta(sessions["day"], unit="D")).all()
    weeks = pd.read_csv(out / "kpis.csv").query("scope == 'week'")["key"].unique()
    assert weeks[0] == "2021-04-05" and len(weeks) == 13 and weeks[-1] == "2021-06-28"


def test_the_pilot_calendar_and_alsace_moselle() -> None:
    start = dt.date(2021, 4, 8)
    assert closed_dates(start, 91) == [dt.date(2021, 5, 1), dt.date(2021, 5, 8), dt.date(2021, 5, 13), dt.date(2021, 5, 24)]
    year = open_days(dt.date(2021, 1, 4), 364)
    good_friday, st_stephen = (dt.date(2021, 4, 2) - dt.date(2021, 1, 4)).days, (dt.date(2021, 12, 26) - dt.date(2021, 1, 4)).days
    assert year[0, good_friday] and not year[1, good_friday] and not year[1, st_stephen]
    assert open_days(start, 91, public_holidays=False)[0].sum() == 91 - 3
