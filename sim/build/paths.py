"""Where a user's files are: a path as given, else relative to the working directory, else to the repository."""

from __future__ import annotations

from pathlib import Path

from sim.config import Config, repo_root


def resolve_path(text: str) -> Path:
    """A user path: absolute, else relative to the working directory, else to the repository."""
    path = Path(text).expanduser()
    if path.is_absolute() or path.exists():
        return path
    return repo_root() / path


def scenario_dir(cfg: Config) -> Path:
    """Folder of the named scenario's data."""
    if cfg.scenario.data_dir:
        return resolve_path(cfg.scenario.data_dir)
    return repo_root() / "scenarios" / cfg.scenario.name
