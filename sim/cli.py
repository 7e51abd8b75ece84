"""Hydra and the command line: the schema registered, configs composed and checked before any folder exists.

The only module (with the faces built on it: `sim.__main__`, `sim.sweep`) that touches Hydra and OmegaConf.
Hydra reports bad overrides with several lines and exit code 1, after creating the run folder. The CLI
instead composes the configuration first (for a sweep, every value of every swept parameter), builds the
scenario, and on any problem prints one line `error: <field>: <problem>` and exits with code 2, leaving
nothing on disk.
"""

from __future__ import annotations

import copy
import functools
import re
import sys
from pathlib import Path
from typing import Any, Iterable, NamedTuple

from sim.build.delivery import mode
from sim.config import Config, repo_root, validate
from sim.core.errors import InputError

CONFIG_DIR = repo_root() / "configs"
CONFIG_NAME = "config"
EXIT_BAD_INPUT = 2
EXIT_FAULT = 1
"""Exit codes: 2 for bad input (nothing run, nothing written); 1 for a fault of the machine (disk full, job lost)."""
MIN_FREE_BYTES = 1 << 20
"""Free space a run or sweep needs on its output folder's file system to start (Hydra's files, the first outputs)."""


class NoRoom(Exception):
    """The output folder's file system is (nearly) full: one line, exit code 1, nothing written."""


def register_schema() -> None:
    """Register the schema as `base_config` so configs/config.yaml composes onto it."""
    from hydra.core.config_store import ConfigStore

    ConfigStore.instance().store(name="base_config", node=Config)


def to_config(cfg: Any) -> Config:
    """Turn a composed DictConfig into a validated `Config` (its delivery mode's settings checked too)."""
    from omegaconf import OmegaConf

    cfg = _with_design_point(cfg)
    obj = OmegaConf.to_object(cfg)
    assert isinstance(obj, Config)
    validate(obj)
    mode(obj)
    return obj


def _with_design_point(cfg: Any) -> Any:
    """A run of experiment=sensitivity (`sensitivity.point` set): its design point's settings applied."""
    from omegaconf import OmegaConf

    from sim.study.sensitivity import design_point

    point = OmegaConf.select(cfg, "sensitivity.point")
    s = OmegaConf.to_object(cfg.sensitivity) if point is not None else None
    if s is None or not 0 <= point < s.points() or any(OmegaConf.select(cfg, k) is None for k in s.bounds):
        return cfg  # nothing to apply, or a bad point or setting: validate() says which
    cfg = cfg.copy()
    for name, value in design_point(s.method, s.bounds, s.trajectories, s.n, s.levels, int(cfg.seed), point).items():
        OmegaConf.update(cfg, name, int(round(value)) if isinstance(OmegaConf.select(cfg, name), int) else value)
    return cfg


def load_run_config(run_dir: Path) -> Config:
    """The validated configuration a CLI run used, from its `.hydra/config.yaml`."""
    from omegaconf import OmegaConf

    path = run_dir / ".hydra" / "config.yaml"
    if not path.is_file():
        raise FileNotFoundError(f"{path}: not found; is {run_dir} a run folder of `python -m sim`?")
    return to_config(OmegaConf.merge(OmegaConf.structured(Config), OmegaConf.load(path)))


def config_yaml(config: Config) -> str:
    """A configuration as YAML text, as in `.hydra/config.yaml`."""
    from omegaconf import OmegaConf

    return OmegaConf.to_yaml(OmegaConf.structured(config))


def _explain(exc: BaseException) -> InputError:
    """Turn a Hydra/OmegaConf composition error into a one-line InputError."""
    from hydra.errors import HydraException, MissingConfigException
    from omegaconf.errors import ConfigKeyError, OmegaConfBaseException, ValidationError

    cause: BaseException = exc
    while cause.__cause__ is not None and isinstance(cause, HydraException) and not isinstance(cause, MissingConfigException):
        cause = cause.__cause__
    if isinstance(cause, MissingConfigException):
        group = getattr(cause, "config_name", None) or ""
        options = getattr(cause, "options", None)
        text = str(cause).splitlines()[0]
        known = f"; known: {', '.join(options)}" if options else ""
        found = re.search(r"Could not find '([^']+)/([^'/]+)'", text)
        if found:
            folder = repo_root() / "scenarios" / found.group(2)
            hint = f"; scenarios/{found.group(2)} exists: run it with scenario.name={found.group(2)}" if found.group(1) == "scenario" and folder.is_dir() else ""
            return InputError(found.group(1), f"unknown choice {found.group(2)!r}{known}{hint}")
        return InputError(group or "config", f"{text.rstrip('.')}{known}")
    if isinstance(cause, OmegaConfBaseException):
        key = getattr(cause, "full_key", None) or "config"
        first = str(cause).splitlines()[0] if str(cause) else type(cause).__name__
        if isinstance(cause, ConfigKeyError) or "not in struct" in first or "not in '" in first:
            return InputError(key, "unknown config key")
        if isinstance(cause, ValidationError):
            return InputError(key, f"wrong type: {first}")
        return InputError(key, first)
    lines = [l for l in str(exc).splitlines() if l.strip()]
    return InputError("config", lines[0] if lines else type(exc).__name__)


def compose(overrides: Iterable[str] = (), with_hydra: bool = False) -> Any:
    """Compose configs/config.yaml with Hydra overrides, outside any Hydra run (no folder is created)."""
    from hydra import compose as hydra_compose
    from hydra import initialize_config_dir
    from hydra.core.global_hydra import GlobalHydra

    register_schema()
    GlobalHydra.instance().clear()
    try:
        with initialize_config_dir(config_dir=str(CONFIG_DIR), version_base="1.3"):
            return hydra_compose(config_name=CONFIG_NAME, overrides=list(overrides), return_hydra_config=with_hydra)
    except InputError:
        raise
    except Exception as exc:  # Hydra raises many types; each becomes one line
        raise _explain(exc) from None
    finally:
        GlobalHydra.instance().clear()


GROUPS = frozenset(p.name for p in CONFIG_DIR.iterdir() if p.is_dir())
"""The config groups (scenario, demand, ...): an override naming one selects a file, others set a value."""


@functools.lru_cache(maxsize=32)
def _composed(groups: tuple[str, ...]) -> Any:
    """The composition of configs/ with these group selections only (kept: a grid composes it once)."""
    return compose(groups)


class Split(NamedTuple):
    """Overrides split as Hydra uses them: group selections (input lines), plain `key=value` overrides, and all of
    them parsed, in their order."""

    groups: list[str]
    plain: list[Any]
    parsed: list[Any]


def _split_plain(overrides: list[str]) -> Split | None:
    """The overrides split into group selections and plain `key=value` overrides, if that is all there is, else None
    (compose fully)."""
    from hydra.core.override_parser.overrides_parser import OverridesParser

    try:
        parsed = OverridesParser.create().parse_overrides(overrides)
    except Exception:
        return None
    groups, plain = [], []
    for o in parsed:
        special = o.is_sweep_override() or o.is_add() or o.is_delete() or o.is_force_add() or o.package is not None
        key = o.key_or_group
        if special or "/" in key or key.split(".")[0] == "hydra":
            return None
        (groups if key in GROUPS else plain).append(o.input_line if key in GROUPS else o)
    return Split(groups, plain, parsed)


def load_configs(combos: list[list[str]]) -> list[Config]:
    """`load_config` of each override list, the plain values of lists alike in their groups and keys applied in
    turn to one copy (each list sets every key it shares with the others, so none is left over from another)."""
    scratch: dict[tuple, Any] = {}
    configs = []
    for overrides in combos:
        split = _split_plain(overrides)
        key = split and (tuple(split.groups), tuple(o.key_or_group for o in split.plain))
        config = None
        if key:
            if key not in scratch:
                scratch[key] = copy.deepcopy(_composed(key[0]))
            if _updated(scratch[key], split.plain):
                try:
                    config = to_config(scratch[key])
                except Exception:  # the full composition below says what is wrong
                    pass
        configs.append(config or to_config(compose(overrides)))  # Hydra's words for what is wrong
    return configs


def load_config(overrides: Iterable[str] = ()) -> Config:
    """Compose, type-check and validate a configuration from overrides.

    Value overrides are applied as Hydra applies them (`OmegaConf.update(cfg, key, value, merge=True)` after
    the composition), onto a composition of the group selections made once per process: a grid of
    configurations costs one Hydra composition, not one each. Anything else, or any error, goes through
    a full composition, which gives the canonical message.
    """
    return load_configs([list(overrides)])[0]


class ComposedOnce:
    """Hydra's config loader for a sweep's jobs, composing each set of group selections once.

    Hydra composes every job from the files, twice (its sweeper checks the batch, its launcher composes
    again), about 75 ms each on this configuration. A sweep's jobs differ mostly in plain values (`seed=3`,
    `staffing.agents=2`): this composes their group selections once, applies the values as Hydra applies
    them after composing, and rewrites the two fields Hydra derives from a job's overrides
    (`hydra.overrides.task`, `hydra.job.override_dirname`). Anything else goes to Hydra's own loader.
    tests/test_compose.py checks that both give the same configuration, node for node.
    """

    def __init__(self, loader: Any) -> None:
        self.loader = loader
        self.bases: dict[tuple[str, ...], Any] = {}
        self.scratch: dict[tuple[str, ...], Any] = {}

    def __getattr__(self, name: str) -> Any:
        if name in ("loader", "bases", "scratch") or name.startswith("__"):  # unpickling: not set yet
            raise AttributeError(name)
        return getattr(self.loader, name)

    def load_sweep_config(self, master_config: Any, sweep_overrides: list[str]) -> Any:
        """The configuration of one job: Hydra's `load_sweep_config`, from a kept composition of its groups."""
        from hydra._internal.config_loader_impl import get_overrides_dirname
        from omegaconf import OmegaConf

        overrides = list(sweep_overrides)
        split = _split_plain(overrides)
        if split is None or not split.plain:
            return self.loader.load_sweep_config(master_config, overrides)
        cfg = copy.deepcopy(self._base(master_config, split.groups))
        if not _updated(cfg, split.plain):  # let Hydra's composition say what is wrong, in its words
            return self.loader.load_sweep_config(master_config, overrides)
        job = cfg.hydra.job.config.override_dirname
        cfg.hydra.overrides.task = overrides
        cfg.hydra.job.override_dirname = get_overrides_dirname(
            overrides=split.parsed, kv_sep=job.kv_sep, item_sep=job.item_sep, exclude_keys=job.exclude_keys)
        OmegaConf.copy_cache(from_config=master_config, to_config=cfg)
        return cfg

    def check_sweep_config(self, master_config: Any, sweep_overrides: list[str]) -> None:
        """Raise Hydra's error if this job cannot be composed: its values are tried on one scratch copy per set of
        group selections (a value's type check does not depend on the others), not on a copy each."""
        overrides = list(sweep_overrides)
        split = _split_plain(overrides)
        if split is None or not split.plain:
            self.load_sweep_config(master_config, overrides)
            return
        groups = tuple(split.groups)
        if groups not in self.scratch:
            self.scratch[groups] = copy.deepcopy(self._base(master_config, split.groups))
        if not _updated(self.scratch[groups], split.plain):
            self.scratch.pop(groups)
            self.loader.load_sweep_config(master_config, overrides)

    def _base(self, master_config: Any, groups: list[str]) -> Any:
        """Hydra's composition of the sweep's configuration with these group selections only, made once."""
        if tuple(groups) not in self.bases:
            self.bases[tuple(groups)] = self.loader.load_sweep_config(master_config, groups)
        return self.bases[tuple(groups)]


def _updated(cfg: Any, plain: list[Any]) -> bool:
    """Apply plain `key=value` overrides as Hydra does after composing; False if one does not fit the schema."""
    from omegaconf import OmegaConf

    try:
        for o in plain:
            OmegaConf.update(cfg, o.key_or_group, o.value(), merge=True)
    except Exception:
        return False
    return True


def _expand(overrides: list[str]) -> list[list[str]]:
    """Override lists to check: every value of every swept parameter at least once."""
    from hydra.core.override_parser.overrides_parser import OverridesParser

    try:
        parsed = OverridesParser.create().parse_overrides(overrides)
    except Exception as exc:
        raise InputError("overrides", str(exc).splitlines()[0]) from None
    choices: list[list[str]] = []
    for o in parsed:
        if o.is_sweep_override():
            values = [str(v) for v in o.sweep_string_iterator()]
            if not values:
                raise InputError(o.get_key_element(), "empty sweep range")
            choices.append([f"{o.get_key_element()}={v}" for v in values])
        else:
            choices.append([o.input_line])
    width = max((len(c) for c in choices), default=1)
    return [[c[min(i, len(c) - 1)] for c in choices] for i in range(width)] or [[]]


def check(overrides: list[str], multirun: bool = False) -> list[Config]:
    """Validate the overrides of a run or sweep; raise InputError if bad.

    Every value of every swept parameter, on the command line or in `hydra.sweeper.params` (configs/sweep/),
    is composed and validated, and the data files of each distinct scenario are read and checked
    (`check_data`). A single run also builds its scenario (`check_run`), so rota problems stop it here too;
    in a sweep, a point the rota cannot staff is not bad input but a run that fails and is listed with its
    error in sweep.parquet.
    """
    configs, _ = _check(overrides, multirun)
    return configs


def check_run(overrides: list[str]) -> tuple[list[Config], Any]:
    """As `check`; for a single run, also the scenario it built (a `Scenario`, or None for a sweep)."""
    return _check(overrides, False)


def _check(overrides: list[str], multirun: bool) -> tuple[list[Config], Any]:
    from hydra.types import RunMode
    from omegaconf import open_dict

    from sim.build.scenario import build_scenario, check_data

    user = [o for o in overrides if not o.lstrip("+~").startswith("hydra")]
    hydra_overrides = [o for o in overrides if o.lstrip("+~").startswith("hydra")]  # launcher, sweeper, folders
    combos = _expand(user)
    full = compose(combos[0] + hydra_overrides, with_hydra=True)
    hydra_cfg = full.hydra
    multirun = multirun or hydra_cfg.mode == RunMode.MULTIRUN
    check_room("hydra.sweep.dir" if multirun else "hydra.run.dir", Path(str(hydra_cfg.sweep.dir if multirun else hydra_cfg.run.dir)))
    if multirun:
        params = hydra_cfg.sweeper.get("params") or {}
        combos = _expand([f"{k}={v}" for k, v in params.items() if not str(k).startswith("hydra")] + user)
        configs = load_configs(combos)
        check_data(configs)
        return configs, None
    with open_dict(full):  # the run's own configuration: the composition less Hydra's node
        del full["hydra"]
    try:
        config = to_config(full)
    except InputError:
        raise
    except Exception as exc:
        raise _explain(exc) from None
    configs = [config] + load_configs(combos[1:])
    return configs, build_scenario(config)


def check_room(field: str, folder: Path) -> None:
    """Raise NoRoom if the file system that will hold `folder` has less than MIN_FREE_BYTES free."""
    import shutil

    existing = folder.absolute()
    while not existing.exists() and existing != existing.parent:
        existing = existing.parent
    try:
        free = shutil.disk_usage(existing).free
    except OSError:
        return  # cannot tell: the writes will say
    if free < MIN_FREE_BYTES:
        raise NoRoom(f"{field}: only {free / 1024:.0f} kB free on the file system of {existing}; a run needs at "
                     f"least {MIN_FREE_BYTES >> 20} MiB to start: make room or choose another folder")


def variant_configs(overrides: list[str], variants: dict[str, list[str]]) -> dict[str, Config]:
    """Each variant's configuration: the run's overrides, then the variant's own."""
    configs = {}
    for name, extra in variants.items():
        try:
            configs[name] = load_config([*overrides, *extra])
        except InputError as exc:
            raise InputError(f"experiment.variants.{name}", str(exc)) from None
    return configs


def fail(exc: InputError) -> None:
    """Print the one-line error and exit with code 2."""
    print(f"error: {exc}", file=sys.stderr)
    raise SystemExit(EXIT_BAD_INPUT)


def split_argv(argv: list[str]) -> tuple[list[str], bool, bool]:
    """(overrides, multirun?, passthrough?) from the command line; passthrough for Hydra's own flags."""
    flags = {"-m", "--multirun"}
    passthrough = any(a.startswith("-") and a not in flags for a in argv)
    return [a for a in argv if not a.startswith("-")], any(a in flags for a in argv), passthrough


def output_dir() -> Path:
    """The Hydra run folder of the current job."""
    from hydra.core.hydra_config import HydraConfig

    return Path(HydraConfig.get().runtime.output_dir)


def in_multirun() -> bool:
    """Whether the current Hydra job is one run of a sweep."""
    from hydra.core.hydra_config import HydraConfig
    from hydra.types import RunMode

    return HydraConfig.get().mode == RunMode.MULTIRUN


def launched_here() -> bool:
    """Whether the current job runs in the process that launched the sweep (Hydra's basic launcher)."""
    from hydra.core.hydra_config import HydraConfig

    return str(HydraConfig.get().launcher.get("_target_", "")).endswith("BasicLauncher")
