"""Exact steady-state results for M/M/c (Erlang C) and M/M/c+M (Erlang A) queues.

They are the yardstick the simulator is validated against: with Poisson arrivals, exponential
service and (optionally) exponential patience, a simulation of one desk must reproduce them.

Notation: arrival rate ``lam``, service rate per server ``mu``, ``c`` servers, patience
(abandonment) rate ``theta``, offered load ``a = lam / mu``, occupancy ``rho = a / c``.
All times come out in the unit of ``1 / rate`` (rates per hour give hours).

Erlang B (loss probability), by the stable recursion (Jagerman 1974)::

    B(0, a) = 1,   B(k, a) = a B(k-1, a) / (k + a B(k-1, a))

Erlang C (M/M/c, FCFS; e.g. Kleinrock 1975, Queueing Systems vol. 1, section 3.5)::

    C = P(W > 0) = c B / (c - a (1 - B)),     E[W] = C / (c mu - lam),
    P(W <= t) = 1 - C exp(-(c mu - lam) t).

Erlang A (M/M/c+M, Palm 1943; Garnett, Mandelbaum & Reiman 2002, "Designing a call center with
impatient customers", MSOM 4(3); Zeltyn & Mandelbaum 2005, Queueing Systems 51). The number in
system is a birth-death chain with birth rate ``lam`` and death rate
``min(n, c) mu + max(n - c, 0) theta``. Relative to the state ``n = c``::

    sum_{n<c} pi_n / pi_c = 1/B - 1,     q_k = pi_{c+k} / pi_c = prod_{j=1..k} lam / (c mu + j theta).

With ``Z = 1/B - 1 + sum_k q_k``: ``P(W > 0) = sum_k q_k / Z`` (PASTA),
``E[Q] = sum_k k q_k / Z``, ``P(Ab) = theta E[Q] / lam`` (abandonment flow balance) and
``E[W] = E[Q] / lam`` (Little), hence ``P(Ab) = theta E[W]``.

Waiting time of the served: an arrival that finds ``k - 1`` waiting takes queue position ``k``.
While at position ``j`` it leaves that position at rate ``c mu + j theta`` (service completions,
abandonments of the ``j - 1`` ahead, its own abandonment), and moves up with probability
``(c mu + (j-1) theta) / (c mu + j theta)``; the sojourn is independent of which event ends it.
The product telescopes: ``P(served | k) = c mu / (c mu + k theta)`` and
``E[W 1{served} | k] = P(served | k) * sum_{j=1..k} 1 / (c mu + j theta)``, so::

    E[W | served] = sum_{k>=1} q_{k-1} (c mu / (c mu + k theta)) H_k / (Z (1 - P(Ab))),
    H_k = sum_{j=1..k} 1 / (c mu + j theta).

The chain is summed in log space and truncated where the neglected tail is below 1e-17 of the
total, so the results are exact to floating-point accuracy. An independent closed form for
``P(W > 0)`` and ``P(Ab)`` (Garnett et al. 2002, with ``x = c mu / theta``, ``y = lam / theta``,
``A = x e^y y^-x gamma(x, y)`` computed through ``scipy.special.gammainc`` in logs)::

    P(W > 0) = B A / (1 + (A - 1) B),     P(Ab | W > 0) = 1 / (rho A) + 1 - 1 / rho

is provided by :func:`erlang_a_closed_form` as a cross-check.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import NamedTuple, overload

import numpy as np
from scipy import special

__all__ = [
    "ErlangA",
    "ErlangAClosedForm",
    "ErlangC",
    "erlang_a",
    "erlang_a_closed_form",
    "erlang_b",
    "erlang_c",
]

# Relative mass below which the tail of the birth-death chain is dropped.
_TAIL_TOLERANCE = 1e-17
# Upper bound on the number of queue states summed (memory guard for theta -> 0 with overload).
_MAX_QUEUE_STATES = 50_000_000


def _check_rates(arrival_rate: float, service_rate: float, servers: int) -> None:
    """Reject rates and server counts for which the formulas are meaningless."""
    if not (math.isfinite(arrival_rate) and arrival_rate >= 0.0):
        raise ValueError(f"arrival_rate: must be finite and >= 0, got {arrival_rate!r}")
    if not (math.isfinite(service_rate) and service_rate > 0.0):
        raise ValueError(f"service_rate: must be finite and > 0, got {service_rate!r}")
    if isinstance(servers, bool) or int(servers) != servers or servers < 1:
        raise ValueError(f"servers: must be an integer >= 1, got {servers!r}")


def erlang_b(load: float, servers: int) -> float:
    """Erlang B loss probability B(c, a), by the stable recursion, used by Erlang C and A."""
    if not (math.isfinite(load) and load >= 0.0):
        raise ValueError(f"load: must be finite and >= 0, got {load!r}")
    if isinstance(servers, bool) or int(servers) != servers or servers < 0:
        raise ValueError(f"servers: must be an integer >= 0, got {servers!r}")
    b = 1.0
    for k in range(1, int(servers) + 1):
        b = load * b / (k + load * b)
    return b


def _log_inverse_erlang_b(load: float, servers: int) -> float:
    """log(1 / B(c, a)) by the recursion 1/B_k = 1 + (k / a) / B_{k-1}, safe when B underflows."""
    log_inv = 0.0
    for k in range(1, servers + 1):
        t = math.log(k / load) + log_inv
        # log(1 + e^t) without overflow
        log_inv = t + math.log1p(math.exp(-t)) if t > 0.0 else math.log1p(math.exp(t))
    return log_inv


@dataclass(frozen=True)
class ErlangC:
    """Steady state of an M/M/c FCFS queue: the reference for waits at an uncongested desk."""

    arrival_rate: float
    service_rate: float
    servers: int
    p_wait: float
    """P(W > 0): probability an arrival has to queue (Erlang C formula)."""
    mean_wait: float
    """E[W]: mean time in queue over all customers, in units of 1 / rate."""
    utilisation: float
    """lam / (c mu): long-run fraction of busy servers."""
    mean_queue_length: float
    """E[Q] = lam E[W] (Little)."""

    @property
    def _decay(self) -> float:
        """Rate c mu - lam of the exponential tail of the wait."""
        return self.servers * self.service_rate - self.arrival_rate

    @overload
    def wait_cdf(self, t: float) -> float: ...
    @overload
    def wait_cdf(self, t: np.ndarray) -> np.ndarray: ...
    def wait_cdf(self, t: float | np.ndarray) -> float | np.ndarray:
        """P(W <= t) = 1 - C exp(-(c mu - lam) t) for t >= 0 (0 for t < 0), to check wait percentiles."""
        t_arr = np.asarray(t, dtype=float)
        cdf = np.where(
            t_arr < 0.0, 0.0, 1.0 - self.p_wait * np.exp(-self._decay * np.maximum(t_arr, 0.0))
        )
        return float(cdf) if cdf.ndim == 0 else cdf

    def wait_quantile(self, p: float) -> float:
        """Smallest t with P(W <= t) >= p, i.e. the p-quantile of the queue wait (inf for p = 1)."""
        if not 0.0 <= p <= 1.0:
            raise ValueError(f"p: must be in [0, 1], got {p!r}")
        if p <= 1.0 - self.p_wait:
            return 0.0
        if p == 1.0:
            return math.inf
        return math.log(self.p_wait / (1.0 - p)) / self._decay


def erlang_c(arrival_rate: float, service_rate: float, servers: int) -> ErlangC:
    """Exact M/M/c waiting metrics (Erlang C via the Erlang B recursion); ValueError if load >= c."""
    _check_rates(arrival_rate, service_rate, servers)
    c = int(servers)
    load = arrival_rate / service_rate
    if load >= c:
        raise ValueError(
            f"unstable M/M/c queue: offered load {load:.6g} >= servers {c} (no steady state)"
        )
    b = erlang_b(load, c)
    p_wait = c * b / (c - load * (1.0 - b))
    mean_wait = p_wait / (c * service_rate - arrival_rate)
    return ErlangC(
        arrival_rate=float(arrival_rate),
        service_rate=float(service_rate),
        servers=c,
        p_wait=p_wait,
        mean_wait=mean_wait,
        utilisation=load / c,
        mean_queue_length=arrival_rate * mean_wait,
    )


@dataclass(frozen=True)
class ErlangA:
    """Steady state of an M/M/c+M queue (exponential patience): the reference with abandonment."""

    arrival_rate: float
    service_rate: float
    servers: int
    patience_rate: float
    p_wait: float
    """P(W > 0): probability an arrival finds all servers busy (PASTA)."""
    p_abandon: float
    """Share of all arrivals that abandon before service."""
    mean_wait_all: float
    """Mean time in queue over all arrivals, abandoners counted up to their abandonment."""
    mean_wait_served: float
    """Mean time in queue among the arrivals that are eventually served (zero waits included)."""
    mean_queue_length: float
    """E[Q]: mean number waiting (not in service)."""
    utilisation: float
    """lam (1 - P(Ab)) / (c mu): long-run fraction of busy servers."""


def _queue_weights(lam: float, cmu: float, theta: float, log_below: float) -> tuple[np.ndarray, float, np.ndarray]:
    """(q_k / e^scale for k = 0..K, scale, exit rates of positions 1..K) of the M/M/c+M chain's queue states.

    q_k rises while lam > c mu + k theta, then decays faster than geometrically: K doubles until the
    neglected tail of sum k^2 q_k is below the tolerance.
    """
    peak = max(0, math.ceil((lam - cmu) / theta))
    n_states = max(256, 2 * peak + 256)
    while True:
        if n_states > _MAX_QUEUE_STATES:
            raise ValueError(
                f"Erlang A chain needs more than {_MAX_QUEUE_STATES} queue states "
                f"(patience_rate {theta:.3g} too small for the overload); use a larger patience_rate"
            )
        j = np.arange(1, n_states + 1, dtype=float)
        exit_rate = cmu + j * theta  # leaving rate of queue position j
        log_q = np.empty(n_states + 1)
        log_q[0] = 0.0
        np.cumsum(math.log(lam) - np.log(exit_rate), out=log_q[1:])
        scale = max(float(log_q.max()), log_below)
        # Bound on the neglected tail of sum k^2 q_k beyond the last state (ratio r < 1 there).
        r_last = lam / (cmu + (n_states + 1) * theta)
        if r_last < 1.0:
            log_tail = log_q[-1] - scale + 2.0 * math.log(n_states + 2.0) - math.log1p(-r_last)
            if log_tail < math.log(_TAIL_TOLERANCE):
                return np.exp(log_q - scale), scale, exit_rate
        n_states *= 2


def erlang_a(
    arrival_rate: float, service_rate: float, servers: int, patience_rate: float
) -> ErlangA:
    """Exact M/M/c+M (Erlang A) metrics from the birth-death chain; equals Erlang C when theta = 0."""
    _check_rates(arrival_rate, service_rate, servers)
    if not (math.isfinite(patience_rate) and patience_rate >= 0.0):
        raise ValueError(f"patience_rate: must be finite and >= 0, got {patience_rate!r}")
    c = int(servers)
    lam, mu, theta = float(arrival_rate), float(service_rate), float(patience_rate)
    if theta == 0.0:
        ec = erlang_c(lam, mu, c)
        return ErlangA(lam, mu, c, 0.0, p_wait=ec.p_wait, p_abandon=0.0, mean_wait_all=ec.mean_wait,
                       mean_wait_served=ec.mean_wait, mean_queue_length=ec.mean_queue_length,
                       utilisation=ec.utilisation)
    if lam == 0.0:
        return ErlangA(lam, mu, c, theta, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0)

    cmu = c * mu
    # log(1/B - 1) = log(sum_{n<c} pi_n / pi_c)
    log_inv_b = _log_inverse_erlang_b(lam / mu, c)
    log_below = log_inv_b + math.log(-math.expm1(-log_inv_b))
    w, scale, exit_rate = _queue_weights(lam, cmu, theta, log_below)  # w = q_k / e^scale, k = 0..K
    k = np.arange(len(w), dtype=float)
    z = math.exp(log_below - scale) + math.fsum(w)
    mean_queue = math.fsum(k * w) / z
    p_abandon = theta * mean_queue / lam
    # Arrival finding k-1 waiting (weight w[k-1]) takes position k = 1..K.
    harmonic = np.cumsum(1.0 / exit_rate)  # H_k
    served_wait = math.fsum(w[:-1] * (cmu / exit_rate) * harmonic) / z
    p_served = 1.0 - p_abandon
    return ErlangA(lam, mu, c, theta, p_wait=math.fsum(w) / z, p_abandon=p_abandon, mean_wait_all=mean_queue / lam,
                   mean_wait_served=served_wait / p_served if p_served > 0.0 else math.nan,
                   mean_queue_length=mean_queue, utilisation=lam * p_served / cmu)


class ErlangAClosedForm(NamedTuple):
    """P(W > 0), P(Ab) and E[W] of M/M/c+M from the incomplete-gamma closed form."""

    p_wait: float
    p_abandon: float
    mean_wait_all: float


def _log_palm_a(x: float, y: float) -> float:
    """log A(x, y) with A = x e^y y^-x gamma(x, y) = 1F1(1; x + 1; y), stable for large x and y."""
    p = float(special.gammainc(x, y))  # regularised lower incomplete gamma P(x, y)
    if p > 1e-280:
        return math.log(x) + y - x * math.log(y) + float(special.gammaln(x)) + math.log(p)
    # y far below x: P underflows but A = 1 + y/(x+1) + ... is close to 1.
    return math.log(float(special.hyp1f1(1.0, x + 1.0, y)))


def erlang_a_closed_form(
    arrival_rate: float, service_rate: float, servers: int, patience_rate: float
) -> ErlangAClosedForm:
    """Erlang A P(W > 0), P(Ab), E[W] by the Garnett-Mandelbaum-Reiman formula, to cross-check erlang_a."""
    _check_rates(arrival_rate, service_rate, servers)
    if not (math.isfinite(patience_rate) and patience_rate > 0.0):
        raise ValueError(f"patience_rate: must be finite and > 0, got {patience_rate!r}")
    if arrival_rate == 0.0:
        return ErlangAClosedForm(0.0, 0.0, 0.0)
    c = int(servers)
    lam, mu, theta = float(arrival_rate), float(service_rate), float(patience_rate)
    rho = lam / (c * mu)
    b = erlang_b(lam / mu, c)
    log_a = _log_palm_a(c * mu / theta, lam / theta)
    inv_a = math.exp(-log_a)
    # B A / (1 + (A - 1) B), rewritten to stay finite when A overflows
    p_wait = 1.0 / (1.0 + (1.0 / b - 1.0) * inv_a) if b > 0.0 else 0.0
    p_ab_given_wait = inv_a / rho + 1.0 - 1.0 / rho
    p_abandon = p_wait * p_ab_given_wait
    return ErlangAClosedForm(p_wait, p_abandon, p_abandon / theta)
