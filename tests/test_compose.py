"""Composing configurations: value overrides on a cached composition give exactly Hydra's full composition."""

from __future__ import annotations

import pytest
from omegaconf import open_dict

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


# --- a sweep's jobs: sim.cli.ComposedOnce against Hydra's own loader -----------------------------------------

JOBS = [
    ["seed=3"], ["staffing.agents=2", "frequency.visits_per_site_per_week=1", "seed=0"],
    ["frequency.visits_per_site_per_week=1", "staffing.agents=2", "seed=0"], ["delivery=bus", "seed=2"],
    ["seed=2", "delivery=bus", "delivery.bus.cycle_weeks=2"], ["scenario=agen", "experiment.weeks=4"],
    ["citizens.choice.booker=cost", "citizens.choice.weight_min_per_day=10"],
    ["demand=mature", "citizens.appointment_share=1", "staffing.agents=1"], ["experiment.replications=auto"],
    ["frequency.sessions=[09:00-12:00,13:30-17:00]"], ['optimise.targets.share_wait_le_20min=">= 0.95"'],
    ["+delivery.params.session=09:00-12:00", "seed=1"], ["hydra.job.chdir=false", "seed=4"], ["frequency=weekly"],
]


@pytest.fixture(scope="module")
def loaders():
    """Hydra's config loader of a multirun, the same wrapped in ComposedOnce, and the multirun's own configuration."""
    from hydra import initialize_config_dir
    from hydra.core.global_hydra import GlobalHydra
    from hydra.types import RunMode

    from sim.cli import CONFIG_DIR, CONFIG_NAME, ComposedOnce, register_schema

    register_schema()
    GlobalHydra.instance().clear()
    with initialize_config_dir(config_dir=str(CONFIG_DIR), version_base="1.3"):
        loader = GlobalHydra.instance().config_loader()
        master = loader.load_configuration(CONFIG_NAME, ["hydra.sweep.dir=/tmp/x", "hydra/launcher=basic"],
                                           RunMode.MULTIRUN)
        yield loader, ComposedOnce(loader), master
    GlobalHydra.instance().clear()


def _same_configuration(a, b) -> None:
    """Two composed configurations alike node for node: values, types (as YAML writes them), flags, Hydra's node."""
    from omegaconf import OmegaConf

    assert OmegaConf.to_yaml(a) == OmegaConf.to_yaml(b)
    assert OmegaConf.to_container(a) == OmegaConf.to_container(b)
    for node in (lambda c: c, lambda c: c.hydra, lambda c: c.citizens, lambda c: c.hydra.overrides):
        assert OmegaConf.is_struct(node(a)) == OmegaConf.is_struct(node(b))
        assert OmegaConf.is_readonly(node(a)) == OmegaConf.is_readonly(node(b))
    assert OmegaConf.get_type(a) is OmegaConf.get_type(b)
    assert OmegaConf.get_type(a, "seed") is OmegaConf.get_type(b, "seed")


@pytest.mark.parametrize("job", JOBS, ids=[" ".join(j) for j in JOBS])
def test_a_sweep_job_composed_once_is_hydras_composition(loaders, job: list[str]) -> None:
    loader, once, master = loaders
    hydra = loader.load_sweep_config(master, job)
    for _ in range(2):  # the first composes the groups, the second reuses them
        fast = once.load_sweep_config(master, job)
        _same_configuration(fast, hydra)
        once.check_sweep_config(master, job)
    with open_dict(fast.hydra.job):
        fast.hydra.job.num = 7  # what the launcher does to its job's copy leaves the kept composition alone
    _same_configuration(once.load_sweep_config(master, job), hydra)


@pytest.mark.parametrize("job", [["staffing.agents=two"], ["demand.nothing=1"], ["seed=1", "delivery=nowhere"]])
def test_a_job_that_does_not_compose_raises_hydras_error(loaders, job: list[str]) -> None:
    loader, once, master = loaders
    with pytest.raises(Exception) as hydras:
        loader.load_sweep_config(master, job)
    for call in (once.load_sweep_config, once.check_sweep_config):
        with pytest.raises(type(hydras.value)) as ours:
            call(master, job)
        assert str(ours.value) == str(hydras.value)


def test_composed_once_survives_pickling_as_joblib_and_submitit_send_it(loaders) -> None:
    import pickle

    _, once, master = loaders
    job = ["seed=5", "staffing.agents=3"]
    expected = once.load_sweep_config(master, job)
    _same_configuration(pickle.loads(pickle.dumps(once)).load_sweep_config(master, job), expected)


def test_a_grid_loaded_on_one_copy_is_each_configuration_loaded_alone() -> None:
    from sim.cli import load_configs

    grid = [[f"seed={s}", f"frequency.sessions=[{h}]", f'optimise.targets.share_wait_le_20min=">= 0.{s}"',
             f"staffing.agents={s + 1}"] for s, h in ((1, "09:00-12:00"), (2, "09:00-12:00,13:30-17:00"), (3, "13:30-17:00"))]
    grid += [["delivery=bus", "seed=4"], ["seed=5"], ["delivery=bus", "seed=6"]]
    assert load_configs(grid) == [load_config(c) for c in grid]
    assert [c.seed for c in load_configs(grid)] == [1, 2, 3, 4, 5, 6]
