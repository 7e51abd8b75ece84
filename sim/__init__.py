"""France Services en mobilité: a discrete-event simulator of itinerant public services.

Citizens' needs arise per commune and operator; they wait for a permanence they can reach, queue at the
desk and are served, referred, turned away or give up; agents drive between sites on a rota.
"""

from typing import Any

from sim.errors import InputError

__all__ = ["InputError", "load", "run"]
__version__ = "0.1.0"


def __getattr__(name: str) -> Any:
    """`sim.run` and `sim.load` (sim.api), imported on first use so that `import sim` stays light."""
    if name in ("run", "load"):
        from sim import api

        return getattr(api, name)
    raise AttributeError(f"module 'sim' has no attribute {name!r}")
