"""France Services en mobilité: a discrete-event simulator of itinerant public services.

Citizens' needs arise per commune and operator; they wait for a permanence they can reach, queue at the
desk and are served, referred, turned away or give up; agents drive between sites on a rota.
"""

from sim.errors import InputError

__all__ = ["InputError"]
__version__ = "0.1.0"
