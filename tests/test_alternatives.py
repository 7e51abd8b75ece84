"""Delivery models: a fixed France Services site, a bus, and the itinerant agent, on any territory."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from conftest import NO_CALENDAR
from sim.cli import load_config
from sim.build.delivery.vehicles import shared_vehicle
from sim.core.errors import InputError
from sim.study.experiment import run_experiment
from sim.core.units import DAY_MIN
from sim.build.scenario import build_scenario

SHORT = ["experiment.weeks=4", "experiment.replications=2"]


def test_fixed_site_is_one_town_hall_open_30_hours_a_week_with_two_advisors_and_no_driving() -> None:
    s = build_scenario(load_config(["delivery=fixed", *NO_CALENDAR]))
    assert list(s.territory.site_id) == ["59526-france-services"]  # Saint-Amand-les-Eaux, the most populous
    assert s.territory.site_lat[0] == s.territory.commune_lat[list(s.territory.commune_insee).index("59526")]
    assert s.rota.agent_names == ("advisor1", "advisor2")
    assert (s.rota.session_agents == 2).all()
    first_week = s.rota.session_start < 7 * DAY_MIN
    hours = (s.rota.session_end - s.rota.session_start)[first_week].sum() / 60
    days = np.unique(s.rota.session_start[first_week] // DAY_MIN)
    assert hours == 30 and list(days) == [0, 1, 2, 3, 4]
    assert (s.km_before + s.km_after).sum() == 0 and (s.drive_before_min + s.drive_after_min).sum() == 0


def test_fixed_site_at_a_chosen_commune_and_the_label_rules() -> None:
    s = build_scenario(load_config(["delivery=fixed", "delivery.fixed.commune=59491"]))
    assert list(s.territory.site_id) == ["59491-france-services"]
    with pytest.raises(InputError, match="delivery.fixed.commune: no commune '99999'"):
        build_scenario(load_config(["delivery=fixed", "delivery.fixed.commune=99999"]))
    with pytest.raises(InputError, match="delivery.fixed.advisors: a France Services site has at least 2 advisors"):
        load_config(["delivery=fixed", "delivery.fixed.advisors=1"])
    with pytest.raises(InputError, match=r"delivery.fixed.sessions: .* got 20 h \(short by 4 h\)"):
        load_config(["delivery=fixed", "delivery.fixed.sessions=[09:00-13:00]"])
    with pytest.raises(InputError, match="frequency.working_days: a France Services site opens on at least 5 days"):
        load_config(["delivery=fixed", "frequency.working_days=[0,1,2,3]"])


def test_communes_beyond_reach_of_a_fixed_site_get_no_session_and_the_others_all_reach_it() -> None:
    cfg = load_config(["scenario=vigny", "delivery=fixed", *SHORT])
    res = run_experiment(cfg)
    scenario = res.scenario
    unreachable = set(scenario.territory.commune_insee[(scenario.reach.sites < 0).all(axis=1)])
    assert unreachable == {"95592"}  # Seraincourt, more than 20 minutes from Marines
    outcome = res.requests.groupby(res.requests["commune"].astype(str).isin(unreachable))["outcome"]
    assert (outcome.get_group(True) == "no_session").all()
    assert (outcome.get_group(False) != "no_session").all()
    assert res.summary["no_session"] > 0


def test_bus_stops_at_every_town_hall_once_a_cycle_with_its_crew_and_counts_its_km_once() -> None:
    s = build_scenario(load_config(["delivery=bus", *SHORT, *NO_CALENDAR]))
    t = s.territory
    assert t.n_sites == t.n_communes == 19 and (t.site_venue == "bus_stop").all()
    assert np.array_equal(t.site_lat, t.commune_lat)
    assert s.rota.agent_names == ("bus1-staff1", "bus1-staff2")
    cycle = s.rota.session_start < 28 * DAY_MIN
    days = s.rota.session_start[cycle] // DAY_MIN
    stop_days = pd.Series(days).groupby(s.rota.session_site[cycle]).nunique()
    assert (stop_days == 1).all() and len(stop_days) == 19  # each stop one whole day every 4 weeks
    assert (pd.Series(s.rota.session_site[cycle]).groupby(days).nunique() == 1).all()  # one stop a day
    assert (s.rota.session_agents == 2).all()
    staff2 = s.rota.row_agent == 1
    assert (s.km_before[staff2] + s.km_after[staff2]).sum() == 0
    assert (s.km_before + s.km_after)[~staff2].sum() > 0
    assert s.drive_before_min[staff2].sum() == s.drive_before_min[~staff2].sum()  # both ride, both are paid


def test_a_bus_too_small_for_its_stops_is_refused_with_the_shortfall() -> None:
    with pytest.raises(InputError, match=r"delivery.bus.buses: 19 stops .* give 10 \(short by 9"):
        build_scenario(load_config(["delivery=bus", "delivery.bus.buses=1", "delivery.bus.cycle_weeks=2"]))
    s = build_scenario(load_config(["delivery=bus", "delivery.bus.cycle_weeks=2", *SHORT]))
    assert len(s.rota.agent_names) == 4  # two buses of two


def test_every_delivery_model_sees_the_same_needs() -> None:
    runs = [run_experiment(load_config([f"delivery={m}", *SHORT])) for m in ("itinerant", "fixed", "bus")]
    cols = ["replication", "commune", "operator", "need_min"]
    for other in runs[1:]:
        pd.testing.assert_frame_equal(runs[0].requests[cols], other.requests[cols])


def test_shared_vehicle_counts_km_once_for_agents_with_the_same_day_only() -> None:
    s = build_scenario(load_config(["staffing.agents=2", "frequency=weekly"]))
    before, after = shared_vehicle(s.rota, s.km_before, s.km_after)
    assert np.array_equal(before, s.km_before) and np.array_equal(after, s.km_after)  # two agents, two cars
    assert (s.km_before + s.km_after).sum() > 0


def test_unknown_delivery_model_is_refused() -> None:
    with pytest.raises(InputError, match="delivery.model: must be one of bus, fixed, itinerant"):
        load_config(["delivery.model=boat"])
    with pytest.raises(InputError, match="delivery.planner: must be one of optimal, simple"):
        load_config(["delivery.planner=best"])


def test_a_delivery_mode_registered_in_a_test_module_runs_end_to_end() -> None:
    import numpy as np

    from sim.build.delivery import MODES, register
    from sim.build.delivery.fixed import fixed_site
    from sim.config import parse_session_pattern
    from sim.core.rota import from_rows
    from sim.core.territory import agent_travel
    from sim.core.units import DAY_MIN

    def check(cfg) -> None:
        parse_session_pattern([cfg.delivery.params.get("session", "")], "delivery.params.session")

    @register("mornings", check=check)
    def deliver(cfg, territory, model, weeks):
        """One agent, every working morning at the town hall of the most populous commune."""
        territory = fixed_site(territory, None)
        (t0, t1), = parse_session_pattern([cfg.delivery.params["session"]], "delivery.params.session")
        days = [w * 7 + d for w in range(weeks) for d in cfg.frequency.working_days]
        rota = from_rows(("agent1",), np.zeros(len(days), np.int32), np.zeros(len(days), np.int32),
                         np.array(days) * DAY_MIN + t0, np.array(days) * DAY_MIN + t1)
        return territory, agent_travel(territory, model), rota

    try:
        res = run_experiment(load_config(["delivery.model=mornings", *NO_CALENDAR, "+delivery.params.session=09:00-12:00",
                                          "experiment.weeks=2", "experiment.replications=2"]), keep_requests=False)
        assert res.summary["sites"] == 1 and res.summary["sessions"] == 10 and res.summary["served"] > 0
        with pytest.raises(InputError, match="delivery.params.session"):
            load_config(["delivery.model=mornings", "+delivery.params.session=noon"])
    finally:
        del MODES["mornings"]
