"""Acknowledgement latency of the running Slack app: N signed slash commands at once, p50 and p99.

The commands go through the sandbox's Slack side (/_sandbox/slack/command), which
signs each one like Slack, posts it to the app and times the app's reply: exactly
the wait Slack's 3-second limit is about. `make bench` and the tests use it.
"""

from __future__ import annotations

import asyncio
import math
from collections.abc import Sequence
from dataclasses import dataclass

import httpx


@dataclass(frozen=True)
class LatencyStats:
    """Acknowledgement times of one burst, in milliseconds."""

    count: int
    p50_ms: float
    p99_ms: float
    max_ms: float
    failures: int  # not acknowledged with HTTP 200 (refused, timed out, unreachable)

    def line(self) -> str:
        return (
            f"{self.count} concurrent commands: p50 {self.p50_ms:.1f} ms, "
            f"p99 {self.p99_ms:.1f} ms, max {self.max_ms:.1f} ms, failures {self.failures}"
        )


def percentile(values: Sequence[float], share: float) -> float:
    """Nearest-rank percentile (share 0.5 = median); 0.0 for no values."""
    if not values:
        return 0.0
    ordered = sorted(values)
    rank = max(math.ceil(share * len(ordered)), 1)
    return ordered[min(rank, len(ordered)) - 1]


async def _burst(
    sandbox_url: str, app_url: str, count: int, text: str, user: str, channel: str
) -> list[dict]:
    body = {"app_url": app_url, "text": text, "user": user, "channel": channel}
    async with httpx.AsyncClient(base_url=sandbox_url, timeout=30) as client:
        replies = await asyncio.gather(
            *(client.post("/_sandbox/slack/command", json=body) for _ in range(count))
        )
    return [r.json() for r in replies]


def measure_ack_latency(
    sandbox_url: str,
    app_url: str,
    count: int = 20,
    *,
    text: str = "help",
    user: str = "U0DEMOSTF01",
    channel: str = "intake-triage",
) -> LatencyStats:
    """Send `count` signed `/coalition text` at once and time each acknowledgement."""
    results = asyncio.run(_burst(sandbox_url.rstrip("/"), app_url, count, text, user, channel))
    times = [float(r.get("elapsed_ms") or 0.0) for r in results]
    failures = sum(1 for r in results if r.get("status") != 200 or r.get("error"))
    return LatencyStats(
        count=count,
        p50_ms=percentile(times, 0.50),
        p99_ms=percentile(times, 0.99),
        max_ms=max(times, default=0.0),
        failures=failures,
    )


__all__ = ["LatencyStats", "measure_ack_latency", "percentile"]
