"""Rate budgets: a sliding window that paces requests to the documented limit and honours lockouts."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from integrations.budget import AIRTABLE_PER_BASE, BudgetRegistry, Limit, RateBudget


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.now += seconds


def budget(limit: Limit, scale: float = 1.0) -> tuple[RateBudget, FakeClock]:
    clock = FakeClock()
    return RateBudget("t", limit, time_scale=scale, sleep=clock.sleep, clock=clock), clock


def test_first_requests_of_a_window_do_not_wait() -> None:
    b, _ = budget(AIRTABLE_PER_BASE)
    assert [b.acquire() for _ in range(5)] == [0.0] * 5


def test_sixth_request_waits_for_the_window() -> None:
    b, clock = budget(AIRTABLE_PER_BASE)
    for _ in range(5):
        b.acquire()
    waited = b.acquire()
    assert 1.0 <= waited <= 1.1
    assert clock.now - 1000.0 == pytest.approx(waited)


@settings(max_examples=50, deadline=None)
@given(st.integers(min_value=1, max_value=400), st.sampled_from([1.0, 10.0, 100.0]))
def test_never_more_than_the_limit_in_any_window(n: int, scale: float) -> None:
    b, clock = budget(Limit(5, 1.0), scale)
    times = []
    for _ in range(n):
        b.acquire()
        times.append(clock.now)
    window = 1.0 / scale
    for i, t in enumerate(times):
        in_window = [u for u in times[i:] if u < t + window]
        assert len(in_window) <= 5


def test_pacing_is_close_to_the_floor() -> None:
    b, clock = budget(AIRTABLE_PER_BASE)
    for _ in range(100):
        b.acquire()
    floor = (100 / 5 - 1) * 1.0  # the first 5 go at once
    assert floor <= clock.now - 1000.0 <= floor * 1.06


def test_a_429_locks_everyone_out_for_the_documented_wait() -> None:
    b, _clock = budget(AIRTABLE_PER_BASE, scale=10)
    assert b.penalize() == pytest.approx(3.0)  # 30 s at time scale 10
    waited = b.acquire()
    assert waited == pytest.approx(3.0, abs=0.01)


def test_retry_after_overrides_the_lockout() -> None:
    b, _ = budget(Limit(1, 1.0))
    assert b.penalize(7) == 7


def test_registry_shares_one_budget_per_key_and_resets_on_new_scale() -> None:
    registry = BudgetRegistry()
    first = registry.get("airtable:app1", AIRTABLE_PER_BASE)
    assert registry.get("airtable:app1", AIRTABLE_PER_BASE) is first
    assert registry.get("airtable:app2", AIRTABLE_PER_BASE) is not first
    registry.configure(20)
    assert registry.get("airtable:app1", AIRTABLE_PER_BASE) is not first


@settings(max_examples=50, deadline=None)
@given(st.lists(st.tuples(st.floats(0.0, 0.6), st.floats(0.0, 1.0)), min_size=1, max_size=60))
def test_counting_from_the_reply_keeps_every_server_window_under_the_limit(
    requests: list[tuple[float, float]],
) -> None:
    """However the network delays each request, the server never sees more than the limit."""
    b, clock = budget(Limit(5, 1.0))
    arrivals = []
    for latency, where in requests:
        b.acquire()
        sent = clock.now
        arrivals.append(sent + latency * where)  # the server sees it somewhere on the way
        clock.now = sent + latency
        b.replied()
    arrivals.sort()
    for i, t in enumerate(arrivals):
        assert len([u for u in arrivals[i:] if u < t + 1.0]) <= 5


def test_counting_from_the_reply_costs_only_the_latency() -> None:
    b, clock = budget(AIRTABLE_PER_BASE)
    for _ in range(100):
        b.acquire()
        clock.now += 0.05
        b.replied()
    floor = (100 / 5 - 1) * 1.0
    assert floor <= clock.now - 1000.0 <= floor * 1.1
