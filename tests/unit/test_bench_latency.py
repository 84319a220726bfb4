"""Percentiles of acknowledgement times, as the benchmark reports them."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bench.latency import command_body, percentile, stats


@pytest.mark.parametrize(
    ("values", "share", "expected"),
    [
        ([], 0.5, 0.0),
        ([5.0], 0.99, 5.0),
        ([1, 2, 3, 4], 0.5, 2),
        ([*range(1, 101)], 0.99, 99),
        ([*range(1, 21)], 0.99, 20),
    ],
)
def test_percentile(values: list[float], share: float, expected: float) -> None:
    assert percentile(values, share) == expected


@given(st.lists(st.floats(min_value=0, max_value=1e5), min_size=1, max_size=50))
def test_stats_are_ordered(values: list[float]) -> None:
    result = stats(values, 0)
    assert min(values) <= result.p50_ms <= result.p99_ms <= result.max_ms == max(values)


def test_a_command_body_is_slacks_form() -> None:
    body = command_body("help", "U1", "C1", "general", "http://x/hooks/commands/t", 3).decode()
    assert "command=%2Fcoalition" in body and "text=help" in body and "channel_id=C1" in body
