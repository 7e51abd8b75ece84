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


USAGE = """\
usage: python -m sim.planner [setting=value ...]

Plans the itinerant agents' rota for least driving and prints it, one line per agent-day with its sites by
name, then its km and driving hours a week against the naive order, the simple builder and a lower bound.
Takes the same settings as `python -m sim` (see python -m sim --help), e.g.
  python -m sim.planner scenario=vigny staffing.agents=2 frequency.visits_per_site_per_week=1
The rota the simulator runs is this plan (delivery.planner=optimal, the default).
exit codes: 0 done, 2 bad input (one line naming the setting)"""


def main(argv: list[str] | None = None) -> int:
    """`python -m sim.planner [overrides]`: the itinerant agents' planned rota against the naive order and the bound."""
    args = sys.argv[1:] if argv is None else argv
    if {"-h", "--help"} & set(args):
        print(USAGE)
        return 0
    flags = [a for a in args if a.startswith("-")]
    if flags:
        fail(InputError(flags[0], "is not an option of python -m sim.planner (settings are setting=value; see --help)"))
    try:
        cfg = load_config([*args, "delivery=itinerant"])
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
