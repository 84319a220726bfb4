"""Shared machinery of the sandbox: scaled clock, request journal, fault injection and rate windows.

None of this speaks HTTP; `sandbox/app.py` wires it into the ASGI app and each
service's routes ask the `RateLimiter` for their own documented limits. `Workspace`
is what the app's plug-ins (control API, seeds, viewer) may use of it, so they type
against this module instead of importing the app that imports them.
"""

from __future__ import annotations

import random
import re
import threading
import time
from collections import defaultdict, deque
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any, Protocol

SERVICES = ("airtable", "sheets", "drive", "docs", "slack", "openstates", "control", "viewer")


def service_for_path(path: str) -> str:
    """Which emulated service a request path belongs to."""
    if path.startswith("/v0/"):
        return "airtable"
    if path.startswith("/v4/spreadsheets"):
        return "sheets"
    if path.startswith(("/drive/v3", "/upload/drive/v3")):
        return "drive"
    if path.startswith("/v1/documents"):
        return "docs"
    if path.startswith(("/api/", "/hooks/")):
        return "slack"
    if path.startswith("/openstates/"):
        return "openstates"
    if path.startswith("/_sandbox"):
        return "control"
    return "viewer"


def bearer_token(headers: Mapping[str, str]) -> str:
    """The token of an `Authorization: Bearer <token>` header, or "" when none is sent."""
    scheme, _, token = headers.get("authorization", "").partition(" ")
    return token.strip() if scheme.lower() == "bearer" else ""


def google_authorized(headers: Mapping[str, str], query: str) -> bool:
    """Google's APIs take an OAuth bearer token or the `access_token` parameter; the sandbox checks only that one is sent."""
    return bool(bearer_token(headers)) or "access_token=" in query


class Clock:
    """Real time, with rate windows and lockouts shortened by `scale` so tests need not wait 30 s."""

    def __init__(self, scale: float = 1.0) -> None:
        self.scale = scale
        self.offset = timedelta(0)  # the services' wall clock against ours (clock skew)

    def now(self) -> float:
        return time.monotonic()

    def utcnow(self) -> datetime:
        return datetime.now(UTC) + self.offset

    def seconds(self, documented: float) -> float:
        """A documented duration, as it passes on this clock."""
        return documented / self.scale


@dataclass
class JournalEntry:
    seq: int
    at: str
    service: str
    method: str
    path: str
    query: str
    status: int
    duration_ms: float
    fault: str | None = None


class Journal:
    """Every request the sandbox answered, in order, for tests and benchmarks to count."""

    def __init__(self, maxlen: int = 500_000) -> None:
        self._entries: deque[JournalEntry] = deque(maxlen=maxlen)
        self._seq = 0
        self._lock = threading.Lock()

    def record(self, **fields: Any) -> JournalEntry:
        with self._lock:
            self._seq += 1
            entry = JournalEntry(seq=self._seq, at=datetime.now(UTC).isoformat(), **fields)
            self._entries.append(entry)
            return entry

    def entries(self, since: int = 0, service: str | None = None) -> list[JournalEntry]:
        with self._lock:
            return [
                e
                for e in self._entries
                if e.seq > since and (service is None or e.service == service)
            ]

    @property
    def last_seq(self) -> int:
        return self._seq

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()

    def as_dicts(self, since: int = 0, service: str | None = None) -> list[dict[str, Any]]:
        return [asdict(e) for e in self.entries(since, service)]


@dataclass
class FaultRule:
    """Answer matching requests with a fault: for the next `count` of them, or each with probability `p`."""

    kind: str  # "429" | "5xx" | "timeout" | "latency" | "drop"
    service: str | None = None
    path: str | None = None  # a regular expression searched in the path
    method: str | None = None
    count: int | None = None
    p: float | None = None
    status: int = 503
    seconds: float = 0.0
    id: int = 0
    fired: int = 0

    def matches(self, service: str, method: str, path: str) -> bool:
        if self.service and self.service != service:
            return False
        if self.method and self.method.upper() != method.upper():
            return False
        return not (self.path and not re.search(self.path, path))


class FaultInjector:
    """Seeded fault rules; the control API adds and clears them."""

    KINDS = {"429", "5xx", "timeout", "latency", "drop"}

    def __init__(self, seed: int = 0) -> None:
        self.rules: list[FaultRule] = []
        self.rng = random.Random(seed)
        self._next_id = 1
        self._lock = threading.Lock()

    def add(self, **spec: Any) -> FaultRule:
        if spec.get("kind") not in self.KINDS:
            raise ValueError(f"fault kind must be one of {sorted(self.KINDS)}")
        allowed = {f for f in FaultRule.__dataclass_fields__ if f not in {"id", "fired"}}
        unknown = set(spec) - allowed
        if unknown:
            raise ValueError(f"unknown fault fields: {sorted(unknown)}")
        with self._lock:
            rule = FaultRule(**spec, id=self._next_id)
            self._next_id += 1
            self.rules.append(rule)
            return rule

    def reseed(self, seed: int) -> None:
        self.rng = random.Random(seed)

    def clear(self) -> None:
        with self._lock:
            self.rules.clear()

    def pick(self, service: str, method: str, path: str) -> list[FaultRule]:
        """The rules that fire for this request (latency may combine with one failing fault)."""
        if service in {"control", "viewer"}:
            return []
        fired: list[FaultRule] = []
        with self._lock:
            for rule in list(self.rules):
                if not rule.matches(service, method, path):
                    continue
                if rule.count is not None:
                    if rule.fired >= rule.count:
                        continue
                elif rule.p is not None and self.rng.random() >= rule.p:
                    continue
                rule.fired += 1
                fired.append(rule)
            self.rules = [r for r in self.rules if r.count is None or r.fired < r.count]
        return fired


class RateLimiter:
    """Sliding-window limits and lockouts keyed by (service, scope); off until enabled."""

    def __init__(self, clock: Clock) -> None:
        self.clock = clock
        self.enabled = False
        self._hits: dict[str, deque[float]] = defaultdict(deque)
        self._locked_until: dict[str, float] = {}
        self.rejections: dict[str, int] = defaultdict(int)
        self._lock = threading.Lock()

    def check(self, key: str, limit: int, per_seconds: float, lockout: float = 0.0) -> float | None:
        """Count one request against `key`; None if allowed, else the documented seconds to wait."""
        if not self.enabled:
            return None
        now = self.clock.now()
        window = self.clock.seconds(per_seconds)
        with self._lock:
            until = self._locked_until.get(key, 0.0)
            if now < until:
                self.rejections[key] += 1
                return (until - now) * self.clock.scale
            hits = self._hits[key]
            while hits and hits[0] <= now - window:
                hits.popleft()
            if len(hits) >= limit:
                self.rejections[key] += 1
                if lockout:
                    self._locked_until[key] = now + self.clock.seconds(lockout)
                    return lockout
                return max((hits[0] + window - now) * self.clock.scale, 0.001)
            hits.append(now)
            return None

    def reset(self) -> None:
        with self._lock:
            self._hits.clear()
            self._locked_until.clear()
            self.rejections.clear()


@dataclass
class SandboxServices:
    """Handles the routes of every service share: clock, limits, journal, and one another's models."""

    clock: Clock
    limiter: RateLimiter
    journal: Journal
    models: dict[str, Any] = field(default_factory=dict)

    def model(self, name: str) -> Any:
        return self.models[name]


class Workspace(Protocol):
    """The running sandbox as its plug-ins see it: the backends and the machinery around them."""

    clock: Clock
    journal: Journal
    faults: FaultInjector
    limiter: RateLimiter
    services: dict[str, Any]

    def apply_seed(self, seed: str) -> None:
        """Reset every backend and load the named seed."""
        ...

    def snapshot(self) -> dict[str, Any]:
        """Every backend's state, as saved to the state file."""
        ...
