"""API budgets shared by every worker on every host, through Prefect global concurrency limits.

Each process already paces itself with a sliding window (integrations/budget.py),
but two workers each keeping to 5 requests/s send 10 to the same Airtable base,
which earns a 429 and a 30 s lockout for both. When a Prefect API is configured
(PREFECT_API_URL), every Airtable request also takes one slot of the global limit
`airtable-<base id>` with `rate_limit`: one slot that frees itself
`slot_decay_per_second` times a second, so requests from all workers together are
spaced out instead of arriving in bursts. The local window stays as well: it keeps
one process from hammering the Prefect API and covers runs without a server.

The limits are created (or corrected) idempotently by `coalition deploy` and
`coalition serve`, and on first use by each process, so a base renamed or added
later still gets its limit.
"""

from __future__ import annotations

import logging
import os
import re
import threading
from dataclasses import dataclass
from typing import Any

from integrations.budget import AIRTABLE_PER_BASE, BudgetRegistry, Limit, RateBudget, budgets
from integrations.http import ServiceUnavailable

# Set (to the same URL as PREFECT_API_URL) when that API is the private warm server a hand
# run started (ops/prefect_server.py): one process's runs, nothing to share budgets with.
LOCAL_PREFECT_API = "COALITION_PREFECT_LOCAL_API"

log = logging.getLogger("integrations.shared_budget")

# Airtable counts arrivals: requests spaced exactly 0.2 s apart when they leave can arrive
# 6 within one second after network jitter, so the shared limit refills 10% slower.
JITTER_MARGIN = 1.1
# A slot frees itself after 1/decay s; a bigger bucket would let bursts through (limit +
# decay requests in the first second), which is exactly what Airtable refuses.
SLOTS = 1
WAIT_LIMIT_SECONDS = 120.0
# Per base, plus the base listing (`/v0/meta/bases`), which is paced like a base of its own.
_BASE_KEY = re.compile(r"^airtable:(app[A-Za-z0-9]+|meta)$")


def shared_limit_name(budget_key: str) -> str | None:
    """The Prefect limit a budget key shares (`airtable:appX` -> `airtable-appX`); None if local only."""
    match = _BASE_KEY.match(budget_key)
    return f"airtable-{match.group(1)}" if match else None


def decay_per_second(limit: Limit, time_scale: float = 1.0) -> float:
    """How many slots a second the shared limit frees: the documented rate, less the jitter margin."""
    return round(limit.requests / limit.seconds * time_scale / JITTER_MARGIN, 4)


@dataclass(frozen=True)
class SharedLimit:
    """A Prefect global concurrency limit as this module wants it."""

    name: str
    slots: int
    decay: float


def airtable_limit(base_id: str, time_scale: float = 1.0) -> SharedLimit:
    return SharedLimit(
        f"airtable-{base_id}", SLOTS, decay_per_second(AIRTABLE_PER_BASE, time_scale)
    )


# ---------------------------------------------------------------- limits on the server
_ensured: set[SharedLimit] = set()
_ensured_lock = threading.Lock()


def ensure_limit(limit: SharedLimit, client: Any | None = None) -> bool:
    """Create or correct the limit on the Prefect server; True if it had to change. Cached per process."""
    with _ensured_lock:
        if limit in _ensured:
            return False
    changed = _upsert(limit, client) if client else _with_client(lambda c: _upsert(limit, c))
    with _ensured_lock:
        _ensured.add(limit)
    return changed


def forget_ensured() -> None:
    """Forget which limits this process has checked (tests switch servers)."""
    with _ensured_lock:
        _ensured.clear()


def _with_client(action: Any) -> Any:
    from prefect.client.orchestration import get_client

    with get_client(sync_client=True) as client:
        return action(client)


def _upsert(limit: SharedLimit, client: Any) -> bool:
    from prefect.client.schemas.actions import (
        GlobalConcurrencyLimitCreate,
        GlobalConcurrencyLimitUpdate,
    )
    from prefect.exceptions import ObjectAlreadyExists, ObjectNotFound

    try:
        current = client.read_global_concurrency_limit_by_name(limit.name)
    except ObjectNotFound:
        current = None
    if current is None:
        try:
            client.create_global_concurrency_limit(
                GlobalConcurrencyLimitCreate(
                    name=limit.name, limit=limit.slots, slot_decay_per_second=limit.decay
                )
            )
        except ObjectAlreadyExists:
            return False  # another worker created it a moment ago
        log.info("created shared budget %s (%s/s)", limit.name, limit.decay)
        return True
    if (current.limit, current.slot_decay_per_second, current.active) == (
        limit.slots,
        limit.decay,
        True,
    ):
        return False
    client.update_global_concurrency_limit(
        limit.name,
        GlobalConcurrencyLimitUpdate(
            limit=limit.slots, slot_decay_per_second=limit.decay, active=True
        ),
    )
    log.info("corrected shared budget %s (%s/s)", limit.name, limit.decay)
    return True


# ---------------------------------------------------------------- the budget
@dataclass
class PrefectSharedBudget(RateBudget):
    """A local sliding window, then one slot of a Prefect rate limit shared by every worker."""

    shared: SharedLimit | None = None

    def acquire(self) -> float:
        waited = super().acquire()
        if self.shared is None:
            return waited
        started = self.clock()
        self._take_shared_slot(self.shared)
        waited += self.clock() - started
        return waited

    def _take_shared_slot(self, shared: SharedLimit) -> None:
        from prefect.concurrency.sync import rate_limit

        try:
            ensure_limit(shared)
            # strict: a missing limit must stop the run, not silently let every worker through.
            rate_limit(shared.name, occupy=1, timeout_seconds=WAIT_LIMIT_SECONDS, strict=True)
        except TimeoutError:
            raise ServiceUnavailable(
                "airtable",
                f"waited {WAIT_LIMIT_SECONDS:.0f} s for the shared budget {shared.name} "
                "(other workers are using it, or the Prefect server is overloaded)",
            ) from None
        except Exception as exc:
            raise ServiceUnavailable(
                "prefect",
                f"could not take a slot of the shared budget {shared.name} "
                f"({type(exc).__name__}); is PREFECT_API_URL reachable?",
            ) from None


def shared_budget(key: str, limit: Limit, time_scale: float = 1.0) -> RateBudget:
    """The budget factory installed when a Prefect server is configured."""
    name = shared_limit_name(key)
    if name is None:
        return RateBudget(key, limit, time_scale=time_scale)
    shared = SharedLimit(name, SLOTS, decay_per_second(limit, time_scale))
    return PrefectSharedBudget(key, limit, time_scale=time_scale, shared=shared)


def operator_prefect_api() -> str | None:
    """PREFECT_API_URL when it names the operator's Prefect server, not this checkout's own local one."""
    url = os.environ.get("PREFECT_API_URL")
    if not url or os.environ.get(LOCAL_PREFECT_API) == url:
        return None
    return url


def share_when_configured(registry: BudgetRegistry = budgets) -> bool:
    """Share budgets through the operator's Prefect server when one is set, else keep them local; True if shared."""
    shared = operator_prefect_api() is not None
    registry.use(shared_budget if shared else RateBudget)
    return shared


__all__ = [
    "JITTER_MARGIN",
    "LOCAL_PREFECT_API",
    "PrefectSharedBudget",
    "SharedLimit",
    "airtable_limit",
    "decay_per_second",
    "ensure_limit",
    "operator_prefect_api",
    "share_when_configured",
    "shared_budget",
    "shared_limit_name",
]
