"""Measuring one run: requests per service from the sandbox's journal, wall time, peak memory, task runs, Slack posts per channel.

The journal is the API's own view (what reached the sandbox, 429s included), so a
client that hides retries cannot flatter itself. Memory is the peak of Python's heap
during the run above its level at the start (tracemalloc): the datasets are built
before, so what is counted is the flow's working memory (plus the in-process
sandbox's per-request work).
"""

from __future__ import annotations

import logging
import time
import tracemalloc
from collections import Counter
from collections.abc import Callable
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

READ_SUFFIXES = ("listRecords", ":batchGet")


class PeakMemory:
    """The peak of Python's heap during the block above its level at the start (tracemalloc).

    RSS growth said 0.0 MB for a flow that ran after a bigger one: the process kept the
    freed memory and the run reused it. tracemalloc counts every allocation made during
    the run itself, whatever was freed before. It counts the whole process (the flow,
    Prefect's engine and the in-process sandbox answering the flow), so it bounds the
    flow's own working memory from above.
    """

    def __init__(self) -> None:
        self.start = 0
        self.peak = 0
        self._started = False

    def __enter__(self) -> PeakMemory:
        self._started = not tracemalloc.is_tracing()
        if self._started:
            tracemalloc.start()
        tracemalloc.reset_peak()
        self.start = self.peak = tracemalloc.get_traced_memory()[0]
        return self

    def __exit__(self, *exc: object) -> None:
        self.peak = tracemalloc.get_traced_memory()[1]
        if self._started:
            tracemalloc.stop()

    @property
    def growth_mb(self) -> float:
        return round((self.peak - self.start) / 2**20, 1)


def is_write(entry: dict[str, Any]) -> bool:
    return entry["method"] not in {"GET", "HEAD"} and not entry["path"].endswith(READ_SUFFIXES)


def is_airtable_list(entry: dict[str, Any]) -> bool:
    if entry["service"] != "airtable" or "/meta/" in entry["path"]:
        return False
    path = entry["path"].rstrip("/")
    return (entry["method"] == "GET" and path.count("/") == 3) or path.endswith("/listRecords")


@dataclass
class Measurement:
    """What one run cost."""

    wall_seconds: float = 0.0
    peak_memory_mb: float | None = None  # None until the run has been measured
    entries: list[dict[str, Any]] = field(default_factory=list, repr=False)
    slack_posts_per_channel: dict[str, int] = field(default_factory=dict)
    task_runs: int | None = None
    result: Any = field(default=None, repr=False)
    error: str | None = None

    def _count(self, keep: Callable[[dict[str, Any]], bool]) -> dict[str, int]:
        return dict(Counter(e["service"] for e in self.entries if keep(e)))

    @property
    def requests(self) -> dict[str, int]:
        return self._count(lambda e: e["service"] not in {"control", "viewer"})

    @property
    def writes(self) -> dict[str, int]:
        return self._count(lambda e: e["service"] not in {"control", "viewer"} and is_write(e))

    @property
    def rate_limited(self) -> dict[str, int]:
        return self._count(lambda e: e["status"] == 429)

    @property
    def airtable_lists(self) -> int:
        return sum(1 for e in self.entries if is_airtable_list(e))

    def count(self, service: str, path_end: str = "", method: str | None = None) -> int:
        return sum(
            1
            for e in self.entries
            if e["service"] == service
            and e["path"].endswith(path_end)
            and (method is None or e["method"] == method)
        )

    @property
    def breakdown(self) -> dict[str, int]:
        """Requests by service, method and endpoint kind (for reading where each request went)."""
        return dict(
            sorted(
                Counter(
                    endpoint(e) for e in self.entries if e["service"] not in {"control", "viewer"}
                ).items()
            )
        )

    @property
    def slack_posts(self) -> int:
        return sum(self.slack_posts_per_channel.values())


def endpoint(entry: dict[str, Any]) -> str:
    """ "slack chat.postMessage", "airtable GET list", "sheets POST values:batchUpdate" ..."""
    service, method, path = entry["service"], entry["method"], entry["path"]
    if service == "airtable":
        kind = "list" if is_airtable_list(entry) else "meta" if "/meta/" in path else "record"
        return f"airtable {method} {kind}"
    last = path.rstrip("/").rsplit("/", 1)[-1]
    if service == "sheets":
        last = (
            last.split(":", 1)[1]
            if ":" in last
            else ("values" if "/values/" in path else "spreadsheet")
        )
    elif service in {"docs", "drive"}:
        last = (
            last.split(":", 1)[1]
            if ":" in last
            else path.strip("/").split("/")[-2 if len(last) > 20 else -1]
        )
    return f"{service} {method} {last}"


@contextmanager
def measuring(sandbox: Any):
    """Measure the block: yields a Measurement filled on exit."""
    measurement = Measurement()
    slack = sandbox.services["slack"]
    seq = sandbox.journal.last_seq
    shown = len(slack.all_messages())
    started = time.perf_counter()
    with PeakMemory() as memory:
        try:
            yield measurement
        finally:
            measurement.wall_seconds = round(time.perf_counter() - started, 3)
    measurement.peak_memory_mb = memory.growth_mb
    measurement.entries = sandbox.journal.as_dicts(since=seq)
    posts = [m for m in slack.all_messages()[shown:] if m["kind"] == "message"]
    measurement.slack_posts_per_channel = dict(Counter(m["channel"] for m in posts))


def run_flow(flow: Any, **parameters: Any) -> tuple[Any, int | None, str | None]:
    """Call a Prefect flow; (its result, how many task runs it made, error text or None)."""
    state = flow(return_state=True, **parameters)
    run_id = state.state_details.flow_run_id
    error = None if state.is_completed() else f"{state.type.value}: {state.message}"
    result = state.result(raise_on_failure=False) if error is None else None
    return result, task_runs_of(run_id), error


def task_runs_of(flow_run_id: Any) -> int | None:
    """Task runs the Prefect API recorded for a flow run (None without an API)."""
    try:
        from prefect.client.orchestration import get_client
        from prefect.client.schemas.filters import FlowRunFilter, FlowRunFilterId

        only = FlowRunFilter(id=FlowRunFilterId(any_=[flow_run_id]))
        total = 0
        with get_client(sync_client=True) as client:
            while True:  # the API answers 200 at most per call
                page = client.read_task_runs(flow_run_filter=only, limit=200, offset=total)
                total += len(page)
                if len(page) < 200:
                    return total
    except Exception:  # the figure is a report, not a reason to fail the bench
        logging.getLogger("bench").warning("task runs not counted", exc_info=True)
        return None


def median(values: list[float]) -> float:
    ordered = sorted(values)
    if not ordered:
        return 0.0
    mid = len(ordered) // 2
    return ordered[mid] if len(ordered) % 2 else (ordered[mid - 1] + ordered[mid]) / 2
