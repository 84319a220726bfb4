"""Peak memory comes from the run itself, and a run without the figure fails the bench."""

from __future__ import annotations

import pytest

from bench.measure import PeakMemory
from bench.run import FlowResult, _errors


def test_memory_freed_before_the_run_does_not_hide_the_runs_own() -> None:
    big = bytearray(64 * 2**20)  # the process grows first, as after a bigger flow ...
    del big  # ... and keeps the pages: RSS growth would say about 0 for the next run
    with PeakMemory() as memory:
        held = [bytes(2**20) for _ in range(20)]
        del held
    assert 19.5 <= memory.growth_mb < 40


def test_nothing_allocated_is_measured_as_nearly_nothing() -> None:
    with PeakMemory() as memory:
        pass
    assert memory.growth_mb < 1


@pytest.mark.parametrize(
    ("peak", "status", "under"),
    [
        (25.0, "ok", True),
        (None, "failed: peak memory not measured", False),
        (0.0, "failed: peak memory not measured", False),
        (310.0, "failed: peak memory 310.0 MB, over 300 MB", False),
    ],
)
def test_a_flow_without_its_memory_figure_fails(
    peak: float | None, status: str, under: bool
) -> None:
    result = FlowResult("alerts", "200 bills", peak_memory_mb=peak)
    _errors(result)
    assert result.status == status
    assert result.checks["peak memory under 300 MB"] is under
