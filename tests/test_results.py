"""KPIs that tell the truth at every load: every key in every replication, sums that add up, unmet needs
counted, cost and citizens seen over one window, residents using the site of their own commune."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from conftest import NO_CALENDAR
from sim.cli import load_config
from sim.study.experiment import run_experiment
from sim.core.ledger import OUTCOMES
from sim.study.outputs import write_outputs
from sim.core.results import NO_SITE

COUNTS = ("requests", *OUTCOMES, "turned_away_visits")
REPS = 10


@pytest.fixture(scope="module")
def earliest_run():
    """The default scenario under the first versions' rule, which leaves some sites nearly unused."""
    return run_experiment(load_config(["choice=earliest"]), keep_requests=True, progress=False)


def test_a_key_without_requests_counts_as_zero_and_sums_add_up(earliest_run, tmp_path: Path) -> None:
    write_outputs(earliest_run, tmp_path)
    kpis = pd.read_csv(tmp_path / "kpis.csv", dtype={"key": str})  # what a user reads
    overall = kpis[kpis["scope"] == "overall"].set_index("metric")["mean"]
    for scope in ("site", "commune", "operator", "week"):
        rows = kpis[(kpis["scope"] == scope) & kpis["metric"].isin(COUNTS)]
        assert (rows["n"] == REPS).all(), scope  # every key in every replication
        sums = rows.groupby("metric")["mean"].sum()
        for metric in COUNTS:
            assert sums[metric] == pytest.approx(overall[metric], rel=1e-9, abs=1e-9), (scope, metric)
    # the least-used site's mean is its requests over all replications divided by the replications
    site = kpis[(kpis["scope"] == "site") & (kpis["metric"] == "requests")].set_index("key")["mean"].drop(NO_SITE)
    counts = earliest_run.requests["site"].astype(str).value_counts().reindex(site.index, fill_value=0) / REPS
    assert np.allclose(site.to_numpy(), counts.to_numpy())
    reps_with_requests = earliest_run.requests.groupby("site", observed=True)["replication"].nunique()
    assert reps_with_requests.min() < REPS  # some site has none in some replication: those zeros must count


def test_a_ratio_is_averaged_over_the_replications_where_it_is_defined(earliest_run) -> None:
    req = earliest_run.requests
    seen = req[req["outcome"].isin(["served", "referred"])]
    per_rep = seen.groupby(["site", "replication"], observed=True)["queue_wait_min"].mean()
    k = earliest_run.kpi("queue_wait_min_mean", scope="site")
    rare = k.index[k["n"] < REPS]
    assert len(rare), "expected a site seen in only some replications"
    for site in rare:
        values = per_rep.loc[site]
        assert k.loc[site, "n"] == len(values) and k.loc[site, "mean"] == pytest.approx(values.mean())


def test_cost_and_citizens_seen_are_counted_over_the_same_weeks(earliest_run) -> None:
    weeks_end = 13 * 7 * 1440.0
    req = earliest_run.requests
    seen = req["outcome"].isin(["served", "referred"])
    in_window = (seen & (req["service_start_min"] < weeks_end)).groupby(req["replication"]).sum()
    per_rep = earliest_run.per_replication.pivot(index="replication", columns="metric", values="value")
    assert np.allclose(per_rep["seen_per_week"], in_window / 13)
    assert earliest_run.summary["cost_per_served"] == pytest.approx((per_rep["cost"] / in_window).mean())
    late = (seen & (req["service_start_min"] >= weeks_end)).sum()
    assert late > 0  # needs of the last week seen after it: they are not paid for by the analysed weeks


def test_bookers_who_find_no_free_slot_are_no_slot_and_count_against_the_needs_met() -> None:
    res = run_experiment(load_config(["demand=mature", "citizens.appointment_share=1", "staffing.agents=1",
                                      "experiment.replications=3"]), keep_requests=False, progress=False)
    s = res.summary
    assert s["no_session"] == 0.0  # every commune reaches a site: the sessions exist, their slots are taken
    assert s["no_slot"] > 0.5 * s["requests"]
    assert sum(s[o] for o in OUTCOMES) == pytest.approx(s["requests"])
    assert s["share_wait_le_20min"] > 0.9  # the few who reach a desk are seen quickly ...
    assert s["share_needs_met_within_7d"] < 0.5  # ... while most needs are not met


def test_residents_of_communes_with_a_site_use_their_own_for_most_visits() -> None:
    res = run_experiment(load_config([]), keep_requests=True, progress=False)
    assert res.summary["own_site_share"] >= 0.5
    req, t = res.requests, res.scenario.territory
    hosts = set(t.commune_insee[t.site_commune])
    visits = req[req["session"].ge(0) & req["commune"].astype(str).isin(hosts)]
    own = t.commune_insee[t.site_commune[visits["site"].cat.codes.to_numpy()]] == visits["commune"].astype(str)
    per_rep = own.groupby(visits["replication"].to_numpy()).mean()
    assert res.summary["own_site_share"] == pytest.approx(per_rep.mean())


def test_a_bus_stop_gathers_the_demand_of_its_own_commune() -> None:
    res = run_experiment(load_config(["delivery=bus", *NO_CALENDAR]), keep_requests=True, progress=False)
    req, t = res.requests, res.scenario.territory
    walk_ins = req[~req["booker"] & req["session"].ge(0)]
    stop_commune = t.site_commune[walk_ins["site"].cat.codes.to_numpy()]
    assert (stop_commune == walk_ins["commune"].cat.codes.to_numpy()).all()  # each walk-in at its own stop
    k = res.kpi("requests", scope="site").drop(index=NO_SITE)
    population = t.population[t.site_commune[[list(t.site_id).index(s) for s in k.index]]]
    assert np.corrcoef(k["mean"], population)[0, 1] > 0.9  # a stop's demand follows its commune's size
