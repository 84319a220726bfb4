"""Rate-limit floors: the least time the services' documented limits allow for a number of requests (pure).

A sliding window of `r` requests per `s` seconds lets the first `r` requests go at
once and each further batch of `r` only after another `s` seconds, so `n` requests
need at least (ceil(n / r) - 1) * s seconds. Slack's 1 message/s applies per
channel; channels run side by side, so the busiest channel sets the floor.
Different services are paced independently too, so a flow's floor is the largest
of its services' floors. All figures are in documented (unscaled) seconds.
"""

from __future__ import annotations

import math
from collections.abc import Mapping

from integrations.budget import (
    AIRTABLE_PER_BASE,
    DOCS_WRITES,
    DRIVE_PER_USER,
    SHEETS_PER_USER,
    SLACK_MESSAGES_PER_CHANNEL,
    Limit,
)

LIMITS: dict[str, Limit] = {
    "airtable": AIRTABLE_PER_BASE,
    "sheets": SHEETS_PER_USER,
    "docs": DOCS_WRITES,
    "drive": DRIVE_PER_USER,
    "slack": SLACK_MESSAGES_PER_CHANNEL,
}


def window_floor(requests: int, limit: Limit) -> float:
    """Documented seconds `requests` need under one sliding window."""
    if requests <= limit.requests:
        return 0.0
    return (math.ceil(requests / limit.requests) - 1) * limit.seconds


def flow_floor(
    requests: Mapping[str, int], slack_per_channel: Mapping[str, int] | None = None
) -> float:
    """The floor of a run: the slowest service (Slack by its busiest channel)."""
    floors = [
        window_floor(n, LIMITS[s]) for s, n in requests.items() if s in LIMITS and s != "slack"
    ]
    for posts in (slack_per_channel or {}).values():
        floors.append(window_floor(posts, SLACK_MESSAGES_PER_CHANNEL))
    return max(floors, default=0.0)


def ratio(measured: float, bound: float) -> float | None:
    """measured / bound, or None when the bound is zero (nothing to compare with)."""
    if bound <= 0:
        return None if measured else 1.0
    return measured / bound
