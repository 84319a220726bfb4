"""Acknowledgement latency of the running Slack app: N signed slash commands at once, p50 and p99.

Two ways to send them:
- `direct` (default): this process signs each command like Slack (sandbox/slack/app_side)
  and posts all N over one shared HTTP client, timing from just before each request is
  written to its reply. This is the app's own acknowledgement time.
- `sandbox`: through the sandbox's Slack side (/_sandbox/slack/command), which signs,
  delivers and times each one itself. Closer to a person's view, but the sandbox opens
  a new HTTP client per delivery, which adds its own milliseconds under a burst.
Answers after the ack go to the channel as ephemerals either way (a direct command's
response_url is the sandbox's, unknown to it, so the app falls back to chat.postEphemeral).
"""

from __future__ import annotations

import asyncio
import math
import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

import httpx

from bot.runtime import SANDBOX_SIGNING_SECRET
from sandbox.slack import app_side
from sandbox.slack.models import APP_ID, TEAM_DOMAIN, TEAM_ID


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


def stats(times: Sequence[float], failures: int) -> LatencyStats:
    return LatencyStats(
        count=len(times),
        p50_ms=percentile(times, 0.50),
        p99_ms=percentile(times, 0.99),
        max_ms=max(times, default=0.0),
        failures=failures,
    )


async def _via_sandbox(
    sandbox_url: str, app_url: str, count: int, text: str, user: str, channel: str
) -> tuple[list[float], int]:
    body = {"app_url": app_url, "text": text, "user": user, "channel": channel}
    async with httpx.AsyncClient(base_url=sandbox_url, timeout=30) as client:
        replies = await asyncio.gather(
            *(client.post("/_sandbox/slack/command", json=body) for _ in range(count))
        )
    results = [r.json() for r in replies]
    times = [float(r.get("elapsed_ms") or 0.0) for r in results]
    return times, sum(1 for r in results if r.get("status") != 200 or r.get("error"))


def command_body(
    text: str, user: str, channel_id: str, channel_name: str, response_url: str, n: int
) -> bytes:
    """A slash command's form body as Slack sends it."""
    fields = app_side.slash_command_fields(
        team={"id": TEAM_ID, "domain": TEAM_DOMAIN},
        channel={"id": channel_id, "name": channel_name},
        user={"id": user, "name": user.lower()},
        command="/coalition",
        text=text,
        response_url=response_url,
        trigger_id=f"{int(time.time())}.{n}.bench",
        api_app_id=APP_ID,
        token="bench",
    )
    return app_side.encode_form(fields)


async def _direct(
    sandbox_url: str,
    app_url: str,
    count: int,
    text: str,
    user: str,
    channel: str,
    secret: str,
) -> tuple[list[float], int]:
    async with httpx.AsyncClient(timeout=30) as client:
        found = await client.get(f"{sandbox_url}/_sandbox/slack/channels/{channel}/messages")
        channel_id = found.json().get("channel") or channel
        hook = f"{sandbox_url}/hooks/commands/bench-latency"

        async def one(n: int) -> tuple[float, int]:
            body = command_body(text, user, channel_id, channel, hook, n)
            headers = app_side.signed_headers(secret, body)
            started = time.perf_counter()
            try:
                reply = await client.post(app_url, content=body, headers=headers)
            except httpx.HTTPError:
                return (time.perf_counter() - started) * 1000, 0
            return (time.perf_counter() - started) * 1000, reply.status_code

        results = await asyncio.gather(*(one(n) for n in range(count)))
    return [t for t, _ in results], sum(1 for _, status in results if status != 200)


def measure_ack_latency(
    sandbox_url: str,
    app_url: str,
    count: int = 20,
    *,
    text: str = "help",
    user: str = "U0DEMOSTF01",
    channel: str = "intake-triage",
    via: Literal["direct", "sandbox"] = "direct",
    signing_secret: str = SANDBOX_SIGNING_SECRET,
) -> LatencyStats:
    """Send `count` signed `/coalition text` at once and time each acknowledgement."""
    base = sandbox_url.rstrip("/")
    if via == "sandbox":
        times, failures = asyncio.run(_via_sandbox(base, app_url, count, text, user, channel))
    else:
        times, failures = asyncio.run(
            _direct(base, app_url, count, text, user, channel, signing_secret)
        )
    return stats(times, failures)


__all__ = ["LatencyStats", "command_body", "measure_ack_latency", "percentile", "stats"]
