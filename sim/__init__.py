"""France Services en mobilité: a discrete-event simulator of itinerant public services.

Citizens' needs arise per commune and operator; they wait for a permanence they can reach, queue at the
desk and are served, referred, turned away or give up; agents drive between sites on a rota.
The package is in layers that import only downwards (docs/architecture.md): `sim.core` (the model),
`sim.config` (the schema), `sim.build` (config to scenario), `sim.study` (replications, comparisons,
sweeps, the optimiser), and the faces: `sim.api` (`sim.run`, `sim.load`), the CLI, `sim.report`.
"""

from typing import Any

from sim.core.errors import InputError
from sim.version import __version__

__all__ = ["InputError", "__version__", "load", "run", "sensitivity"]


def __getattr__(name: str) -> Any:
    """`sim.run`, `sim.load` and `sim.sensitivity` (sim.api), imported on first use so that `import sim` stays light."""
    if name in ("run", "load", "sensitivity"):
        from sim import api

        return getattr(api, name)
    raise AttributeError(f"module 'sim' has no attribute {name!r}")
