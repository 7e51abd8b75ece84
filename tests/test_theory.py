"""Checks of the exact Erlang C / Erlang A results and of the SimPy M/M/c baseline against them.

Erlang C is checked against closed forms (M/M/1, M/M/2), published table values, an exact rational
computation and the Halfin-Whitt limit; Erlang A against Erlang C (theta -> 0), its incomplete-gamma
closed form and an independent linear-algebra solution of the truncated Markov chain (including the
tagged-customer absorbing chain for the wait of the served). The SimPy baseline must agree with both
within four batch-means standard errors.
"""

from __future__ import annotations

import math
import sys
from fractions import Fraction
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

try:
    import sim.core.theory  # noqa: F401
except ModuleNotFoundError:  # repository not installed: run from the source tree
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks.baseline_mmc import (
    run_baseline_mmc,
    run_baseline_mmc_reneging,
    simulate_mmc_reneging_waits,
    simulate_mmc_waits,
)
from sim.core.theory import erlang_a, erlang_a_closed_form, erlang_b, erlang_c

# ---------------------------------------------------------------------------------------------
# Independent reference computations
# ---------------------------------------------------------------------------------------------


def exact_erlang_c(load: Fraction, servers: int) -> Fraction:
    """Erlang C by the textbook factorial formula in exact rational arithmetic."""
    a, c = load, servers
    top = a**c / math.factorial(c) * c / (c - a)
    return top / (sum(a**k / math.factorial(k) for k in range(c)) + top)


def generator_solution(lam: float, mu: float, c: int, theta: float, n_max: int) -> np.ndarray:
    """Stationary law of the M/M/c+M chain truncated at n_max, by solving pi Q = 0 directly."""
    n = n_max + 1
    q = np.zeros((n, n))
    for i in range(n):
        if i + 1 < n:
            q[i, i + 1] = lam
        if i > 0:
            q[i, i - 1] = min(i, c) * mu + max(i - c, 0) * theta
        q[i, i] = -q[i].sum()
    a = np.vstack([q.T, np.ones(n)])
    b = np.zeros(n + 1)
    b[-1] = 1.0
    pi, *_ = np.linalg.lstsq(a, b, rcond=None)
    return pi


def tagged_customer(mu: float, c: int, theta: float, k_max: int) -> tuple[np.ndarray, np.ndarray]:
    """P(served | start at queue position k) and E[W 1{served} | k], k = 1..k_max, by linear algebra.

    Transient states are queue positions 1..k_max; from position j the customer moves to j - 1 at
    rate c mu + (j - 1) theta (to service when j = 1) and abandons at rate theta.
    """
    g = np.zeros((k_max, k_max))
    to_service = np.zeros(k_max)
    for j in range(1, k_max + 1):
        up = c * mu + (j - 1) * theta
        g[j - 1, j - 1] = -(up + theta)
        if j == 1:
            to_service[0] = up
        else:
            g[j - 1, j - 2] = up
    occupation = np.linalg.inv(-g)  # expected time in state i starting from k
    p_served = occupation @ to_service
    served_time = occupation @ p_served  # time in i, weighted by P(served | at i)
    return p_served, served_time


def batch_means(x: np.ndarray, batches: int = 25) -> tuple[float, float]:
    """Mean and batch-means standard error of a correlated output sequence."""
    usable = len(x) - len(x) % batches
    means = x[:usable].reshape(batches, -1).mean(axis=1)
    return float(means.mean()), float(means.std(ddof=1) / math.sqrt(batches))


# ---------------------------------------------------------------------------------------------
# Erlang B / C
# ---------------------------------------------------------------------------------------------


def test_erlang_b_table_values():
    # Standard Erlang B tables: 10 circuits, 5 E -> 1.84 %; 10 circuits at 1 % GoS carry 4.46 E.
    assert erlang_b(5.0, 10) == pytest.approx(0.018385, abs=5e-7)
    assert erlang_b(4.461, 10) == pytest.approx(0.0100, abs=5e-5)
    assert erlang_b(2.0, 0) == 1.0


@pytest.mark.parametrize("lam, mu", [(0.5, 1.0), (3.0, 4.0), (9.0, 10.0), (0.01, 2.0)])
def test_mm1_closed_form(lam, mu):
    rho = lam / mu
    r = erlang_c(lam, mu, 1)
    assert r.p_wait == pytest.approx(rho, rel=1e-13)
    assert r.mean_wait == pytest.approx(rho / (mu - lam), rel=1e-13)
    assert r.utilisation == pytest.approx(rho, rel=1e-15)
    # W | W > 0 is exponential with rate mu - lam
    assert r.wait_cdf(1.7) == pytest.approx(1.0 - rho * math.exp(-(mu - lam) * 1.7), rel=1e-13)


@pytest.mark.parametrize("lam, mu", [(1.0, 1.0), (0.3, 2.0), (3.9, 2.0)])
def test_mm2_closed_form(lam, mu):
    rho = lam / (2 * mu)
    r = erlang_c(lam, mu, 2)
    assert r.p_wait == pytest.approx(2 * rho**2 / (1 + rho), rel=1e-13)
    assert r.mean_wait == pytest.approx(rho**2 / (mu * (1 - rho**2)), rel=1e-13)


def test_erlang_c_textbook_and_call_centre_examples():
    # a = 3 E offered to 5 servers: C(5, 3) = 0.2362 (usual textbook value).
    assert erlang_c(1.0, 1.0 / 3.0, 5).p_wait == pytest.approx(0.2362, abs=5e-5)
    # Widely reproduced call-centre example: 360 calls per 30 min, 240 s handling, 55 agents
    # (48 E): P(wait) = 23.87 %, ASA = 8.2 s, 84.6 % answered within 15 s. Unit: seconds.
    r = erlang_c(360 / 1800, 1 / 240, 55)
    assert r.p_wait == pytest.approx(0.2387, abs=5e-5)
    assert r.mean_wait == pytest.approx(8.2, abs=0.05)
    assert r.wait_cdf(15.0) == pytest.approx(0.846, abs=5e-4)


@settings(max_examples=60, deadline=None)
@given(
    servers=st.integers(1, 30),
    occupancy=st.fractions(min_value=Fraction(1, 100), max_value=Fraction(99, 100), max_denominator=200),
)
def test_erlang_c_matches_exact_rational(servers, occupancy):
    load = occupancy * servers
    r = erlang_c(float(load), 1.0, servers)
    exact = exact_erlang_c(load, servers)
    assert r.p_wait == pytest.approx(float(exact), rel=1e-12)
    assert r.mean_wait == pytest.approx(float(exact / (servers - load)), rel=1e-12)


def test_erlang_c_large_c_is_stable_and_matches_halfin_whitt():
    # Square-root staffing c = a + beta sqrt(a): P(W > 0) -> [1 + beta Phi(beta) / phi(beta)]^-1.
    beta = 1.0
    normal_cdf = 0.5 * (1.0 + math.erf(beta / math.sqrt(2.0)))
    normal_pdf = math.exp(-0.5 * beta**2) / math.sqrt(2.0 * math.pi)
    limit = 1.0 / (1.0 + beta * normal_cdf / normal_pdf)
    for c in (2_500, 10_000):
        a = c - beta * math.sqrt(c)
        r = erlang_c(a, 1.0, c)
        assert 0.0 < r.p_wait < 1.0
        # the gap closes like O(1/sqrt(c)); observed about 0.06/sqrt(c) here
        assert r.p_wait == pytest.approx(limit, abs=0.1 / math.sqrt(c))
    # very light load on many servers: the wait probability underflows cleanly to ~0
    assert erlang_c(1.0, 1.0, 2000).p_wait == pytest.approx(0.0, abs=1e-300)


def test_erlang_c_quantile_inverts_cdf():
    r = erlang_c(4.5, 1.0, 5)
    assert r.wait_quantile(0.0) == 0.0
    assert r.wait_quantile(1.0 - r.p_wait) == 0.0
    assert r.wait_quantile(1.0) == math.inf
    for p in (0.3, 0.5, 0.9, 0.99):
        t = r.wait_quantile(p)
        assert r.wait_cdf(t) == pytest.approx(max(p, 1.0 - r.p_wait), rel=1e-12)
    assert r.wait_cdf(-1.0) == 0.0
    assert r.wait_cdf(0.0) == pytest.approx(1.0 - r.p_wait)
    ts = np.array([0.0, 1.0, 2.0])
    assert np.allclose(r.wait_cdf(ts), [r.wait_cdf(float(t)) for t in ts])
    # mean from the CDF: E[W] = int_0^inf (1 - F(t)) dt
    from scipy.integrate import quad

    integral, _ = quad(lambda t: 1.0 - r.wait_cdf(t), 0.0, np.inf)
    assert integral == pytest.approx(r.mean_wait, rel=1e-8)


def test_erlang_c_rejects_unstable_and_bad_input():
    with pytest.raises(ValueError, match="unstable"):
        erlang_c(5.0, 1.0, 5)
    with pytest.raises(ValueError, match="unstable"):
        erlang_c(6.0, 1.0, 5)
    with pytest.raises(ValueError):
        erlang_c(1.0, 0.0, 5)
    with pytest.raises(ValueError):
        erlang_c(1.0, 1.0, 0)
    with pytest.raises(ValueError):
        erlang_c(-1.0, 1.0, 2)


def test_erlang_c_sample_values():
    # lambda = 4.5/h, mu = 1/h, c = 5 (load 0.9): reference numbers quoted in the docs.
    r = erlang_c(4.5, 1.0, 5)
    assert r.p_wait == pytest.approx(0.762493, abs=1e-6)
    assert r.mean_wait == pytest.approx(1.524986, abs=1e-6)  # hours
    assert r.utilisation == pytest.approx(0.9)


# ---------------------------------------------------------------------------------------------
# Erlang A
# ---------------------------------------------------------------------------------------------


def test_erlang_a_theta_zero_is_erlang_c():
    c_res = erlang_c(4.5, 1.0, 5)
    a0 = erlang_a(4.5, 1.0, 5, 0.0)
    assert a0.p_wait == c_res.p_wait
    assert a0.mean_wait_all == a0.mean_wait_served == c_res.mean_wait
    assert a0.p_abandon == 0.0
    with pytest.raises(ValueError, match="unstable"):
        erlang_a(6.0, 1.0, 5, 0.0)


@pytest.mark.parametrize("lam, mu, c", [(4.5, 1.0, 5), (0.7, 1.0, 1), (90.0, 1.0, 100)])
def test_erlang_a_tends_to_erlang_c(lam, mu, c):
    ref = erlang_c(lam, mu, c)
    for theta in (1e-6, 1e-8):
        r = erlang_a(lam, mu, c, theta)
        assert r.p_wait == pytest.approx(ref.p_wait, rel=1e-4)
        assert r.mean_wait_all == pytest.approx(ref.mean_wait, rel=1e-4)
        assert r.mean_wait_served == pytest.approx(ref.mean_wait, rel=1e-4)
        assert r.p_abandon == pytest.approx(theta * ref.mean_wait, rel=1e-3)


def test_erlang_a_light_load_many_servers_no_abandonment():
    r = erlang_a(5.0, 1.0, 50, 2.0)
    assert r.p_abandon < 1e-15
    assert r.p_wait < 1e-15
    assert r.utilisation == pytest.approx(0.1, rel=1e-12)


@pytest.mark.parametrize(
    "lam, mu, c, theta",
    [
        (10.0, 2.0, 5, 1.0),
        (4.5, 1.0, 5, 1.0),
        (0.8, 1.0, 1, 0.5),
        (3.0, 1.0, 1, 2.0),  # M/M/1+M in overload
        (120.0, 1.0, 100, 0.05),
        (1000.0, 1.0, 900, 0.01),
        (20.0, 1.0, 10, 50.0),  # very impatient
        (2.0, 1.0, 3, 1e-3),
    ],
)
def test_erlang_a_chain_matches_closed_form(lam, mu, c, theta):
    r = erlang_a(lam, mu, c, theta)
    cf = erlang_a_closed_form(lam, mu, c, theta)
    assert r.p_wait == pytest.approx(cf.p_wait, rel=1e-9)
    assert r.p_abandon == pytest.approx(cf.p_abandon, rel=1e-8)
    assert r.mean_wait_all == pytest.approx(cf.mean_wait_all, rel=1e-8)


@pytest.mark.parametrize(
    "lam, mu, c, theta",
    [(0.8, 1.0, 1, 0.5), (3.0, 1.0, 1, 2.0), (10.0, 2.0, 5, 1.0), (6.0, 1.0, 4, 0.3)],
)
def test_erlang_a_against_linear_algebra(lam, mu, c, theta):
    """Direct generator solve and tagged-customer absorbing chain (covers M/M/1+M)."""
    n_max = 250
    pi = generator_solution(lam, mu, c, theta, n_max)
    n = np.arange(n_max + 1)
    queue = np.maximum(n - c, 0)
    r = erlang_a(lam, mu, c, theta)

    assert r.p_wait == pytest.approx(pi[c:].sum(), rel=1e-9)
    assert r.mean_queue_length == pytest.approx(pi @ queue, rel=1e-9)
    # busy servers: Little's law on the servers, E[min(N, c)] = lam (1 - P(Ab)) / mu
    assert r.utilisation == pytest.approx((pi @ np.minimum(n, c)) / c, rel=1e-9)

    # arrival's view (PASTA): an arrival finding n >= c takes queue position k = n - c + 1
    k_max = n_max - c + 1
    p_served_k, served_time_k = tagged_customer(mu, c, theta, k_max)
    pi_queue = pi[c : c + k_max]
    p_abandon = pi_queue @ (1.0 - p_served_k)
    assert r.p_abandon == pytest.approx(p_abandon, rel=1e-9)
    mean_wait_served = (pi_queue @ served_time_k) / (1.0 - p_abandon)
    assert r.mean_wait_served == pytest.approx(mean_wait_served, rel=1e-9)
    # the telescoped form used by sim.theory
    k = np.arange(1, k_max + 1)
    assert np.allclose(p_served_k, c * mu / (c * mu + k * theta), rtol=1e-12)


@pytest.mark.parametrize(
    "lam, mu, c, theta",
    [(10.0, 2.0, 5, 1.0), (0.8, 1.0, 1, 0.5), (50.0, 1.0, 40, 0.2), (3.0, 1.0, 2, 10.0)],
)
def test_erlang_a_little_and_flow_balance(lam, mu, c, theta):
    r = erlang_a(lam, mu, c, theta)
    assert r.mean_queue_length == pytest.approx(lam * r.mean_wait_all, rel=1e-12)  # Little
    assert r.p_abandon == pytest.approx(theta * r.mean_wait_all, rel=1e-12)  # abandonment rate
    # served throughput cannot exceed capacity; utilisation consistent with it
    assert lam * (1.0 - r.p_abandon) <= c * mu * (1.0 + 1e-12)
    assert r.utilisation == pytest.approx(lam * (1.0 - r.p_abandon) / (c * mu), rel=1e-12)
    # abandoners all waited > 0, so the served part alone is at most the total
    assert (1.0 - r.p_abandon) * r.mean_wait_served <= r.mean_wait_all
    assert 0.0 <= r.p_abandon <= r.p_wait <= 1.0


@settings(max_examples=40, deadline=None)
@given(
    servers=st.integers(1, 60),
    occupancy=st.floats(0.05, 3.0),
    service_rate=st.floats(0.1, 10.0),
    patience_ratio=st.floats(0.01, 20.0),
)
def test_erlang_a_properties(servers, occupancy, service_rate, patience_ratio):
    lam = occupancy * servers * service_rate
    theta = patience_ratio * service_rate
    r = erlang_a(lam, service_rate, servers, theta)
    cf = erlang_a_closed_form(lam, service_rate, servers, theta)
    assert 0.0 <= r.p_abandon <= r.p_wait <= 1.0
    assert r.p_wait == pytest.approx(cf.p_wait, rel=1e-8, abs=1e-300)
    assert r.p_abandon == pytest.approx(cf.p_abandon, rel=1e-6, abs=1e-14)
    assert r.mean_queue_length == pytest.approx(lam * r.mean_wait_all, rel=1e-12)
    assert r.utilisation <= 1.0 + 1e-12
    # an arrival that has to wait abandons with probability at least theta / (c mu + theta)
    cmu = servers * service_rate
    assert r.p_abandon >= r.p_wait * theta / (cmu + theta) * (1.0 - 1e-9)


def test_erlang_a_sample_values():
    # lambda = 10/h, mu = 2/h, c = 5, theta = 1/h (offered load = servers: stable only via abandonment)
    r = erlang_a(10.0, 2.0, 5, 1.0)
    assert r.p_wait == pytest.approx(0.633151, abs=1e-6)
    assert r.p_abandon == pytest.approx(0.146132, abs=1e-6)
    assert r.mean_wait_all == pytest.approx(0.146132, abs=1e-6)  # hours
    assert r.mean_wait_served == pytest.approx(0.137562, abs=1e-6)  # hours
    assert r.mean_queue_length == pytest.approx(1.461316, abs=1e-6)


def test_erlang_a_rejects_bad_input():
    with pytest.raises(ValueError):
        erlang_a(1.0, 1.0, 2, -0.1)
    with pytest.raises(ValueError):
        erlang_a(1.0, 1.0, 2, math.nan)
    with pytest.raises(ValueError):
        erlang_a_closed_form(1.0, 1.0, 2, 0.0)


# ---------------------------------------------------------------------------------------------
# SimPy baseline against the exact values
# ---------------------------------------------------------------------------------------------

WARMUP = 1_000  # customers dropped from the start (the run starts empty)


def test_baseline_mmc_matches_erlang_c():
    lam, mu, c, n = 4.0, 1.0, 5, 50_000  # load 0.8
    ref = erlang_c(lam, mu, c)
    waits = simulate_mmc_waits(lam, mu, c, n, seed=20240601)[WARMUP:]
    mean, se = batch_means(waits)
    p, se_p = batch_means((waits > 0.0).astype(float))
    assert se < 0.1 * 60 * ref.mean_wait  # the check is sharp enough to mean something
    assert abs(mean - 60 * ref.mean_wait) < 4 * se
    assert abs(p - ref.p_wait) < 4 * se_p
    # wait distribution: P(W > 30 min) vs Erlang C
    tail, se_tail = batch_means((waits > 30.0).astype(float))
    assert abs(tail - (1.0 - ref.wait_cdf(0.5))) < 4 * se_tail

    summary = run_baseline_mmc(lam, mu, c, 2_000, seed=1)
    assert summary.seconds_elapsed > 0.0 and 0.0 <= summary.p_wait <= 1.0
    assert len(summary) == 3


def test_baseline_reneging_matches_erlang_a():
    lam, mu, c, theta, n = 10.0, 2.0, 5, 1.0, 50_000
    ref = erlang_a(lam, mu, c, theta)
    waits, served = simulate_mmc_reneging_waits(lam, mu, c, theta, n, seed=20240602)
    waits, served = waits[WARMUP:], served[WARMUP:]
    ab, se_ab = batch_means((~served).astype(float))
    wait_all, se_all = batch_means(waits)
    p, se_p = batch_means((waits > 0.0).astype(float))
    # E[W | served] as a ratio estimator: sum of served waits / number served, per batch
    served_wait, se_sw = batch_means(np.where(served, waits, 0.0))
    assert abs(ab - ref.p_abandon) < 4 * se_ab
    assert abs(wait_all - 60 * ref.mean_wait_all) < 4 * se_all
    assert abs(p - ref.p_wait) < 4 * se_p
    assert abs(served_wait - 60 * ref.mean_wait_served * (1 - ref.p_abandon)) < 4 * se_sw

    summary = run_baseline_mmc_reneging(lam, mu, c, theta, 2_000, seed=1)
    assert 0.0 <= summary.p_abandon <= summary.p_wait <= 1.0
