"""`python -m sim.planner [overrides]`: the itinerant agents' planned rota against the naive order and the bound.

The planning itself is `sim.build.planner`; this command composes the configuration as `python -m sim` does.
"""

from __future__ import annotations

import sys

from sim.build.planner import compare_plans, describe
from sim.build.scenario import build_scenario
from sim.cli import fail, load_config
from sim.config import parse_session_pattern
from sim.core.errors import InputError


def main(argv: list[str] | None = None) -> int:
    """`python -m sim.planner [overrides]`: the itinerant agents' planned rota against the naive order and the bound."""
    try:
        cfg = load_config([*(sys.argv[1:] if argv is None else argv), "delivery=itinerant"])
        scenario = build_scenario(cfg)
        comparison = compare_plans(
            scenario.territory, scenario.travel, cfg.staffing.agents, cfg.frequency.visits_per_site_per_week,
            parse_session_pattern(list(cfg.frequency.sessions)), list(cfg.frequency.working_days),
            cfg.staffing.workday_max_h * 60.0)
    except InputError as exc:
        fail(exc)
    print(f"{cfg.scenario.name}: {scenario.territory.n_sites} sites, {cfg.staffing.agents} agent(s), "
          f"{cfg.frequency.visits_per_site_per_week:g} visits per site a week, cycle of {comparison.weeks} week(s)")
    print(describe(comparison.planned, scenario.territory))
    print(comparison.table().to_string(float_format=lambda x: f"{x:.3f}"))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
