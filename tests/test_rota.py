"""The rota builder and rota files: cycles, spacing, capacity and feasibility."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from sim.core.errors import InputError
from sim.build.rota_builder import build_rota, cycle_weeks
from sim.core.rota import check_rota, load_rota_file
from sim.core.units import DAY_MIN
from sim.core.territory import TravelModel, agent_travel, load_territory

ROOT = Path(__file__).resolve().parents[1]
PATTERN = [(540.0, 690.0), (840.0, 990.0)]


@pytest.fixture(scope="module")
def territory():
    return load_territory(ROOT / "scenarios" / "saint_amand", "saint_amand")


@pytest.fixture(scope="module")
def travel(territory):
    return agent_travel(territory, TravelModel())


@pytest.mark.parametrize("f,k", [(1.0, 1), (2.0, 1), (0.5, 2), (1 / 3, 3), (0.25, 4), (1.5, 2), (0.3, 10)])
def test_cycle_weeks(f: float, k: int) -> None:
    assert cycle_weeks(f) == k


def test_cycle_weeks_refuses_irregular_frequency() -> None:
    with pytest.raises(InputError, match="frequency.visits_per_site_per_week"):
        cycle_weeks(0.123456)


@pytest.mark.parametrize("agents,f", [(1, 0.5), (2, 1.0), (3, 2.0), (2, 0.5)])
def test_every_site_gets_its_visits_evenly(territory, travel, agents: int, f: float) -> None:
    weeks = 12
    rota = build_rota(territory, travel, agents, f, PATTERN, [0, 1, 2, 3, 4], weeks)
    counts = np.bincount(rota.session_site, minlength=territory.n_sites)
    assert (counts == f * weeks).all()
    day = rota.session_start // DAY_MIN
    assert set((day % 7).astype(int)) <= {0, 1, 2, 3, 4}
    check_rota(rota, travel, 7 * 60, territory)
    for s in range(territory.n_sites):  # visits of a site are spread: gaps differ by at most a week
        gaps = np.diff(np.sort(rota.session_start[rota.session_site == s])) / DAY_MIN
        if len(gaps):
            assert gaps.max() - gaps.min() <= 7 + 1e-9


def test_capacity_error_says_by_how_much(territory, travel) -> None:
    with pytest.raises(InputError, match=r"need 30 sessions a week but 1 agent\(s\) x 5 days x 2 sessions give 10 \(short by 20 a week\)"):
        build_rota(territory, travel, 1, 2.0, PATTERN, [0, 1, 2, 3, 4], 4)


def test_rota_file_cycle_repeats(territory, tmp_path: Path) -> None:
    f = tmp_path / "rota.csv"
    f.write_text("agent,week,weekday,site_id,start,end\nana,1,mon,59526-mairie,09:00,11:30\nana,2,wednesday,59491-mairie,14:00,16:30\n")
    rota = load_rota_file(f, territory, weeks=6)
    days = (rota.session_start // DAY_MIN).astype(int).tolist()
    assert days == [0, 9, 14, 23, 28, 37]
    assert rota.session_start[0] % DAY_MIN == 540 and rota.session_end[1] % DAY_MIN == 990


def test_shared_session_counts_its_agents(territory, tmp_path: Path, travel) -> None:
    f = tmp_path / "rota.csv"
    f.write_text("agent,weekday,site_id,start,end\nana,mon,59526-mairie,09:00,12:00\nbob,mon,59526-mairie,09:00,12:00\n")
    rota = load_rota_file(f, territory, weeks=1)
    assert rota.n_sessions == 1 and rota.session_agents.tolist() == [2]
    check_rota(rota, travel, 7 * 60, territory)


def test_rota_check_leaves_the_drive_between_sessions_and_between_days(territory, travel) -> None:
    from sim.core.rota import from_rows

    a, b = 0, 1
    drive = travel.minutes[a, b]
    base = territory.n_sites
    ok = from_rows(("ana",), np.zeros(2, np.int32), np.array([a, b], np.int32), np.array([540.0, 690.0 + drive]),
                    np.array([690.0, 800.0 + drive]))
    check_rota(ok, travel, 7 * 60.0, territory)  # exactly the drive between them: accepted
    short = from_rows(("ana",), np.zeros(2, np.int32), np.array([a, b], np.int32),
                       np.array([540.0, 689.0 + drive]), np.array([690.0, 800.0]))
    with pytest.raises(InputError, match=f"has {drive - 1:.0f} min from .* but the drive takes {drive:.0f} min"):
        check_rota(short, travel, 7 * 60.0, territory)
    # overnight: back to base after a session ending at 23:50, out again to a session at 00:05
    night = travel.minutes[a, base] + travel.minutes[base, b]
    overnight = from_rows(("ana",), np.zeros(2, np.int32), np.array([a, b], np.int32),
                           np.array([1300.0, DAY_MIN + 5.0]), np.array([DAY_MIN - 10.0, DAY_MIN + 60.0]))
    with pytest.raises(InputError, match=f"the drive via the base takes {night:.0f} min"):
        check_rota(overnight, travel, 7 * 60.0, territory)
