"""Row-by-row baselines: the same work done one request per record, as general automation tools do it.

A baseline is a list of operations ("one Airtable get per contact", "one Sheets
values.update per row", "one Slack post per item"). Each is run for real, with the
same clients, budgets and sandbox limits as the flow, on a small sample of records;
the full job is then extrapolated linearly and never below its own rate-limit
floor: wall = max(sample pace x n, floor(n)), operations one after another, as a
tool that handles record after record does. Every figure says it is extrapolated
and from how big a sample.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from bench.limits import LIMITS, window_floor


@dataclass
class Operation:
    """n requests of one kind, spread over `channels` Slack channels (1 for other services)."""

    service: str
    what: str
    n: int
    sample: Callable[[int], None]  # does the first k of them for real
    k: int = 10
    channels: int = 1


@dataclass
class Estimate:
    service: str
    what: str
    n: int
    k: int
    sample_seconds: float
    floor_seconds: float  # documented seconds
    wall_seconds: float  # real seconds at the run's time scale

    def as_dict(self) -> dict[str, Any]:
        return {
            "service": self.service,
            "what": self.what,
            "requests": self.n,
            "sample": self.k,
            "sample_seconds": round(self.sample_seconds, 3),
            "floor_seconds": round(self.floor_seconds, 1),
            "wall_seconds": round(self.wall_seconds, 1),
            "extrapolated": self.k < self.n,
        }


@dataclass
class Baseline:
    estimates: list[Estimate] = field(default_factory=list)
    error: str | None = None

    @property
    def requests(self) -> dict[str, int]:
        out: dict[str, int] = {}
        for e in self.estimates:
            out[e.service] = out.get(e.service, 0) + e.n
        return out

    @property
    def wall_seconds(self) -> float:
        return sum(e.wall_seconds for e in self.estimates)

    @property
    def floor_seconds(self) -> float:
        return sum(e.floor_seconds for e in self.estimates)

    @property
    def extrapolated(self) -> bool:
        return any(e.k < e.n for e in self.estimates)

    def label(self) -> str:
        samples = ", ".join(f"{e.what} {e.k} of {e.n}" for e in self.estimates if e.k < e.n)
        return f"extrapolated from samples ({samples})" if samples else "measured in full"


def floor_of(operation: Operation) -> float:
    """Documented seconds the operation's limit forces (Slack: per channel, channels side by side)."""
    limit = LIMITS[operation.service]
    per_channel = math.ceil(operation.n / max(operation.channels, 1))
    return window_floor(per_channel if operation.service == "slack" else operation.n, limit)


def estimate(operation: Operation, time_scale: float) -> Estimate:
    k = min(operation.k, operation.n)
    started = time.perf_counter()
    if k:
        operation.sample(k)
    seconds = time.perf_counter() - started
    floor = floor_of(operation)
    pace = seconds / k * operation.n if k else 0.0
    return Estimate(
        operation.service, operation.what, operation.n, k, seconds, floor,
        max(pace, floor / time_scale),
    )  # fmt: skip


def run_baseline(operations: list[Operation], time_scale: float) -> Baseline:
    baseline = Baseline()
    try:
        for operation in operations:
            baseline.estimates.append(estimate(operation, time_scale))
    except Exception as exc:  # a broken baseline is reported, the flow's figures still stand
        baseline.error = f"{type(exc).__name__}: {exc}"
    return baseline


# ---------------------------------------------------------------- the samples, with the real clients
def airtable_gets(table_name: str, record_ids: list[str]) -> Callable[[int], None]:
    """One GET per record (what a per-record "find record" step does)."""

    def run(k: int) -> None:
        table = _airtable_table(table_name)
        for record_id in record_ids[:k]:
            table.get(record_id)

    return run


def airtable_updates(
    table_name: str, record_ids: list[str], fields: dict[str, Any]
) -> Callable[[int], None]:
    """One PATCH per record."""

    def run(k: int) -> None:
        table = _airtable_table(table_name)
        for record_id in record_ids[:k]:
            table.update(record_id, fields)

    return run


def _airtable_table(name: str) -> Any:
    from coalition.settings import settings
    from integrations.clients import airtable_api

    cfg = settings().services.airtable
    api = airtable_api()
    base = next(b for b in api.bases(force=True) if b.name == cfg.base)
    return api.table(base.id, name)


def sheet_row_updates(
    title: str, tab: str, width: int, first_row: int = 2
) -> Callable[[int], None]:
    """One values.update (RAW) per row."""

    def run(k: int) -> None:
        from integrations.clients import sheets_client

        worksheet = sheets_client().open(title).worksheet(tab)
        for i in range(k):
            row = first_row + i
            worksheet.update([[f"baseline {i}"] * width], f"A{row}", raw=True)

    return run


def sheet_appends(spreadsheet_ids: list[str], tab: str) -> Callable[[int], None]:
    """One values.append (RAW) per record, cycling over the sheets."""

    def run(k: int) -> None:
        from integrations.clients import sheets_client

        client = sheets_client()
        sheets = [
            client.open_by_key(s).worksheet(tab)
            for s in spreadsheet_ids[: min(k, len(spreadsheet_ids))]
        ]
        for i in range(k):
            sheets[i % len(sheets)].append_row([f"baseline {i}"], value_input_option="RAW")

    return run


def slack_posts(channel_names: list[str]) -> Callable[[int], None]:
    """One chat.postMessage per item, cycling over the channels."""

    def run(k: int) -> None:
        from integrations.clients import slack_client

        client = slack_client()
        ids = {
            c["name"]: c["id"]
            for c in client.conversations_list(types="public_channel,private_channel", limit=1000)[
                "channels"
            ]
        }
        for i in range(k):
            client.chat_postMessage(
                channel=ids[channel_names[i % len(channel_names)]], text=f"baseline item {i}"
            )

    return run


def doc_paragraph_writes(title: str) -> Callable[[int], None]:
    """One Docs batchUpdate per paragraph, into a scratch document."""

    def run(k: int) -> None:
        from integrations.clients import docs_service

        docs = docs_service()
        doc_id = docs.documents().create(body={"title": title}).execute()["documentId"]
        for i in range(k):
            body = {"requests": [{"insertText": {"location": {"index": 1}, "text": f"line {i}\n"}}]}
            docs.documents().batchUpdate(documentId=doc_id, body=body).execute()

    return run
