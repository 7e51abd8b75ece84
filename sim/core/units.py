"""Time in the model: minutes from Monday 00:00 of the first simulated week, days, weeks and clock times."""

from __future__ import annotations

from sim.core.errors import InputError

DAY_MIN = 1440.0
"""Minutes in a day: every time in the model is in minutes from Monday 00:00 of week 1."""
WEEK_MIN = 7 * DAY_MIN
WEEKDAYS: tuple[str, ...] = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


def parse_hhmm(name: str, text: str) -> float:
    """Minutes after midnight of an 'HH:MM' string; `name` is the field it came from, for the error."""
    try:
        hours, minutes = text.strip().split(":")
        value = int(hours) * 60 + int(minutes)
    except ValueError:
        raise InputError(name, f"expected a time HH:MM, got {text!r}") from None
    if not 0 <= value <= 24 * 60 or not 0 <= int(minutes) < 60:
        raise InputError(name, f"expected a time HH:MM within the day, got {text!r}")
    return float(value)


def hhmm(minutes: float) -> str:
    """'HH:MM' of a time in minutes (modulo the day)."""
    m = int(round(minutes % DAY_MIN))
    return f"{m // 60:02d}:{m % 60:02d}"
