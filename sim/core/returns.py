"""Citizens turned away at closing: whether each comes back, to which session, and when.

A citizen turned away comes back with probability `p_return`, as a walk-in, to the session the walk-in rule
picks after closing time, within the horizon counted from the need; else they gave up (or, with no session
left in the horizon, were turned away for good). Each decision is drawn from the request's own key hashed
with the visit number (`sim.core.streams.keyed_uniform`), so no order of closings, hence no change of
rota, reshuffles them: common random numbers hold across scenarios.
"""

from __future__ import annotations

import numpy as np
import simpy

from sim.core.choice import arrival_offsets, choose
from sim.core.desk import Desks
from sim.core.ledger import GAVE_UP, TURNED_AWAY, Ledger
from sim.core.scenario import Scenario
from sim.core.streams import keyed_uniform
from sim.core.units import DAY_MIN

COME_BACK, ARRIVE = 0, 1  # purposes of a request's keyed draws on the `return` stream, per visit


class Returns:
    """Sends citizens turned away at a closing back to a later session, or settles their outcome."""

    __slots__ = ("env", "scenario", "plan", "ledger", "desks", "until")

    def __init__(self, env: simpy.Environment, scenario: Scenario, plan, ledger: Ledger, desks: Desks) -> None:
        self.env, self.scenario, self.plan, self.ledger, self.desks = env, scenario, plan, ledger, desks
        self.until = plan.need_min + scenario.citizens.horizon_days * DAY_MIN  # from the need, over every visit

    def turned_away(self, away: list[int], now: float) -> None:
        """Citizens `away` were turned away at `now`: each comes back to a later session or has an outcome."""
        if not away:
            return
        ledger, plan, c = self.ledger, self.plan, self.scenario.citizens
        visit = np.array([ledger.visits[i] for i in away], dtype=np.int64)
        for i in away:
            ledger.turned[i] += 1
        who = np.array(away, dtype=np.int64)
        back = keyed_uniform(plan.return_key[who], visit, COME_BACK) < c.p_return
        for i in who[~back].tolist():
            ledger.outcome[i] = GAVE_UP
        who, visit = who[back], visit[back]
        if not len(who):
            return
        nxt = choose(self.scenario.index, c.walk_in, plan.commune[who], np.full(len(who), now), self.until[who],
                     plan.choice_key[who])
        ok = nxt >= 0
        for i in who[~ok].tolist():
            ledger.outcome[i] = TURNED_AWAY
        self._schedule(who[ok], nxt[ok], visit[ok], now)

    def _schedule(self, who: np.ndarray, session: np.ndarray, visit: np.ndarray, now: float) -> None:
        """Book the next visit of each citizen `who`: their new session, arrival time and patience."""
        ledger, c, rota, env = self.ledger, self.scenario.citizens, self.scenario.rota, self.env
        s0 = rota.session_start[session]
        t = s0 + arrival_offsets(keyed_uniform(self.plan.return_key[who], visit, ARRIVE), rota.session_end[session] - s0,
                                 c.arrival_profile, c.front_loaded_shape)
        patience = self.plan.patience_min
        arrive = self.desks.arrive
        for i, s, ti in zip(who.tolist(), session.tolist(), t.tolist()):
            ledger.earlier_wait[i] += now - ledger.arrival[i]
            ledger.session[i] = s
            ledger.arrival[i] = ti
            ledger.deadline[i] = ti + float(patience[i])
            ledger.booked[i] = False  # comes back as a walk-in
            ledger.visits[i] += 1
            env.timeout(ti - now).callbacks.append(lambda _e, i=i: arrive(i))
