"""Rate budgets shared by everything in the process: wait before a request instead of earning a 429.

Each API's documented limit is a sliding window (Airtable 5 requests/s per base,
Sheets 60/min per user, Docs 60 writes/min, Slack about 1 message/s per channel).
A budget admits a request only when the window has room, so a run paces itself at
the floor the API allows. When a Prefect API is configured, `PrefectSharedBudget`
also takes a slot from a Prefect global concurrency limit so several workers on
several hosts together stay under the same limit.
"""

from __future__ import annotations

import bisect
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field


@dataclass(frozen=True)
class Limit:
    """A documented limit: `requests` per `seconds`, and how long a 429 locks the caller out."""

    requests: int
    seconds: float
    lockout: float = 0.0


AIRTABLE_PER_BASE = Limit(5, 1.0, lockout=30.0)
SHEETS_PER_USER = Limit(60, 60.0)
DOCS_WRITES = Limit(60, 60.0)
DRIVE_PER_USER = Limit(600, 60.0)
SLACK_MESSAGES_PER_CHANNEL = Limit(1, 1.0)
OPENSTATES = Limit(10, 60.0)


@dataclass
class RateBudget:
    """A thread-safe sliding window; `acquire` blocks until a request may go.

    Each request holds a slot until its window has passed. The window is counted
    from when the request left, with a margin, because the server counts arrivals;
    once the caller reports the reply (`replied`), it is counted from the reply
    instead, which needs no margin: the server saw the request before we saw its reply.
    """

    name: str
    limit: Limit
    time_scale: float = 1.0
    sleep: Callable[[float], None] = time.sleep
    clock: Callable[[], float] = time.monotonic
    _slots: list[float] = field(default_factory=list)  # when each slot in use frees, sorted
    _blocked_until: float = 0.0
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _mine: threading.local = field(default_factory=threading.local)
    waited_seconds: float = 0.0
    acquired: int = 0

    @property
    def window(self) -> float:
        # A small margin: the server counts arrival times, which trail our send times.
        return self.limit.seconds / self.time_scale * 1.03 + 0.002

    @property
    def reply_window(self) -> float:
        return self.limit.seconds / self.time_scale + 0.002

    def acquire(self) -> float:
        """Take one slot, waiting as long as needed; returns the seconds waited."""
        waited = 0.0
        while True:
            with self._lock:
                now = self.clock()
                while self._slots and self._slots[0] <= now:
                    self._slots.pop(0)
                wait = max(self._blocked_until - now, 0.0)
                if not wait and len(self._slots) < self.limit.requests:
                    bisect.insort(self._slots, now + self.window)
                    self._mine.slot = now + self.window
                    self.acquired += 1
                    self.waited_seconds += waited
                    return waited
                if not wait:
                    wait = self._slots[0] - now
            self.sleep(max(wait, 0.001))
            waited += max(wait, 0.001)

    def replied(self) -> None:
        """This thread's last request got its reply: its slot frees one window after now.

        Counting from the reply means no window of the server's holds more than
        `limit.requests` of ours, however late one request arrived and however early
        the next; a 429 costs Airtable's 30 s lockout, a reply's latency far less.
        """
        slot = getattr(self._mine, "slot", None)
        if slot is None:
            return
        self._mine.slot = None
        with self._lock:
            if slot in self._slots:
                self._slots.remove(slot)
            bisect.insort(self._slots, self.clock() + self.reply_window)

    def penalize(self, documented_seconds: float | None = None) -> float:
        """After a 429: hold every caller back for the lockout (or Retry-After), in real seconds."""
        seconds = documented_seconds if documented_seconds is not None else self.limit.lockout
        real = max(seconds, 0.0) / self.time_scale
        with self._lock:
            self._blocked_until = max(self._blocked_until, self.clock() + real)
        return real


class BudgetRegistry:
    """One budget per (api, scope) for the whole process."""

    def __init__(self) -> None:
        self._budgets: dict[str, RateBudget] = {}
        self._lock = threading.Lock()
        self.time_scale = 1.0
        self.factory: Callable[..., RateBudget] = RateBudget

    def get(self, key: str, limit: Limit) -> RateBudget:
        with self._lock:
            budget = self._budgets.get(key)
            if budget is None or budget.time_scale != self.time_scale:
                budget = self.factory(key, limit, time_scale=self.time_scale)
                self._budgets[key] = budget
            return budget

    def use(self, factory: Callable[..., RateBudget]) -> None:
        """Build budgets with `factory(key, limit, time_scale=...)` from now on (shared_budget's hook)."""
        with self._lock:
            if factory is not self.factory:
                self.factory = factory
                self._budgets.clear()

    def configure(self, time_scale: float) -> None:
        with self._lock:
            if time_scale != self.time_scale:
                self.time_scale = time_scale
                self._budgets.clear()

    def stats(self) -> dict[str, dict[str, float]]:
        with self._lock:
            return {
                k: {"acquired": b.acquired, "waited_seconds": round(b.waited_seconds, 3)}
                for k, b in self._budgets.items()
            }


budgets = BudgetRegistry()
