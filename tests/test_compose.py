"""Composing configurations: value overrides on a cached composition give exactly Hydra's full composition."""

from __future__ import annotations

import pytest

from sim.cli import compose, load_config, to_config
from sim.core.errors import InputError

CASES = [
    [], ["seed=3"], ["staffing.agents=2", "frequency=weekly"], ["demand=mature", "demand.uptake=0.5"],
    ["demand.uptake=0.5", "demand=mature"], ["frequency.sessions=[09:00-12:00,13:30-17:00]"],
    ["citizens.choice.booker=logit", "experiment.replications=3"], ["scenario=vigny", "experiment.weeks=4"],
    ["delivery=bus", "delivery.bus.cycle_weeks=2"], ["scenario.rota_file=null"], ["experiment.replications=auto"],
    ["citizens.appointment_share=1"], ['optimise.targets.share_wait_le_20min=">= 0.95"'], ["travel.speed_kmh=40"],
    ["+delivery.params.session=09:00-12:00"], ["choice=earliest", "citizens.choice.weight_min_per_day=10"],
]


@pytest.mark.parametrize("overrides", CASES, ids=[" ".join(c) or "defaults" for c in CASES])
def test_fast_composition_equals_hydras(overrides: list[str]) -> None:
    assert load_config(overrides) == to_config(compose(overrides))


@pytest.mark.parametrize("overrides,message", [
    (["demand.uptake=abc"], "demand.uptake: wrong type"),
    (["demand.nothing=1"], "demand.nothing: unknown config key"),
    (["staffing.agents=0"], "staffing.agents: must be >= 1"),
])
def test_bad_values_get_hydras_message(overrides: list[str], message: str) -> None:
    with pytest.raises(InputError, match=message):
        load_config(overrides)
