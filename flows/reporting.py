"""Run reports every flow leaves behind: a markdown and a table artifact with stable keys, never personal data.

A flow builds a `RunReport` (counts, requests per service, duration, per-item
errors, plan lines for dry runs), and `publish` checks it with the privacy guard
and writes both artifacts. Outside a Prefect run (plain unit tests) publishing is
skipped quietly.
"""

from __future__ import annotations

import time
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from datetime import datetime
from typing import Any

from pydantic import BaseModel, Field

from integrations.http import counting


class ItemError(BaseModel):
    """One item that failed, named by an id the bot owns (record id, Intake ID), with a reason."""

    item: str
    error: str


class Held(BaseModel):
    """Work the run found in another run's hands (alive, or dead and waiting for its lease to lapse)."""

    kind: str  # intake, referral, notice, run
    count: int
    since: datetime
    takeover: datetime  # when the next run may take it over, unless its holder renews
    overdue: bool = False  # held past twice the lease: #ops-alerts is told

    def line(self) -> str:
        what = f"{self.count} {self.kind}{'' if self.count == 1 else 's'}"
        since = self.since.strftime("%Y-%m-%d %H:%M:%S UTC")
        takeover = self.takeover.strftime("%Y-%m-%d %H:%M:%S UTC")
        tail = "; held past twice the lease, #ops-alerts told" if self.overdue else ""
        return f"{what} held by another run since {since}, taken over from {takeover}{tail}"


def held_lines(held: Iterable[Any]) -> list[Held]:
    """Report lines from the ledger's `HeldWork` (or anything with the same fields)."""
    return [
        Held(kind=h.kind, count=h.count, since=h.since, takeover=h.takeover, overdue=h.overdue)
        for h in held
    ]


class RunReport(BaseModel):
    flow: str
    dry_run: bool = False
    counts: dict[str, int] = Field(default_factory=dict)
    requests: dict[str, int] = Field(default_factory=dict)
    duration_seconds: float = 0.0
    errors: list[ItemError] = Field(default_factory=list)
    plan: list[str] = Field(default_factory=list)
    # What an operator must know first: the run waited, held work back, or failed and what to try.
    notes: list[str] = Field(default_factory=list)
    # Nothing waits silently: work another (live or dead) run holds, and when it is taken over.
    held: list[Held] = Field(default_factory=list)
    # Set when the run stood aside (another run of the flow held its lease): it proves nothing
    # about the flow's health, so it must not end a failure streak.
    stood_aside: bool = False

    def summary_lines(self) -> list[str]:
        head = f"{self.flow}{' (dry run: nothing written)' if self.dry_run else ''}"
        counts = ", ".join(f"{k} {v}" for k, v in self.counts.items()) or "nothing to do"
        requests = ", ".join(f"{k} {v}" for k, v in sorted(self.requests.items())) or "none"
        lines = [f"{head}: {counts}", f"requests: {requests}; {self.duration_seconds:.1f} s"]
        lines += [f"note: {note}" for note in self.notes]
        lines += [f"plan: {line}" for line in self.plan]
        lines += [f"waiting: {h.line()}" for h in self.held]
        lines += [f"error: {e.item}: {e.error}" for e in self.errors]
        return lines

    def markdown(self) -> str:
        rows = "\n".join(f"| {k} | {v} |" for k, v in self.counts.items())
        reqs = "\n".join(f"| {k} | {v} |" for k, v in sorted(self.requests.items()))
        parts = [
            f"# {self.flow}{' — dry run, nothing written' if self.dry_run else ''}",
            f"Duration: {self.duration_seconds:.1f} s",
            "## Notes\n" + "\n".join(f"- {n}" for n in self.notes) if self.notes else "",
            "## Counts\n| what | count |\n|---|---|\n" + rows
            if rows
            else "## Counts\nNothing to do.",
            "## Requests per service\n| service | requests |\n|---|---|\n" + reqs if reqs else "",
        ]
        if self.plan:
            parts.append("## Plan\n" + "\n".join(f"- {line}" for line in self.plan))
        if self.notes:
            parts.append("## Notes\n" + "\n".join(f"- {line}" for line in self.notes))
        if self.held:
            parts.append(
                "## Waiting on another run\n" + "\n".join(f"- {h.line()}" for h in self.held)
            )
        if self.errors:
            parts.append("## Errors\n" + "\n".join(f"- `{e.item}`: {e.error}" for e in self.errors))
        return "\n\n".join(p for p in parts if p)

    def table(self) -> list[dict[str, Any]]:
        rows: list[dict[str, Any]] = [
            {"kind": "count", "name": k, "value": v} for k, v in self.counts.items()
        ]
        rows += [
            {"kind": "requests", "name": k, "value": v} for k, v in sorted(self.requests.items())
        ]
        rows += [{"kind": "error", "name": e.item, "value": e.error} for e in self.errors]
        rows += [{"kind": "note", "name": "note", "value": n} for n in self.notes]
        rows += [{"kind": "held", "name": h.kind, "value": h.line()} for h in self.held]
        rows.append(
            {"kind": "duration", "name": "seconds", "value": round(self.duration_seconds, 2)}
        )
        return rows


@contextmanager
def measured(report: RunReport) -> Iterator[RunReport]:
    """Fill `report.requests` and `report.duration_seconds` from what happens inside the block."""
    started = time.perf_counter()
    sent: dict[str, int] = {}
    try:
        with counting() as sent:
            yield report
    finally:
        # After the `with`: counting() fills `sent` only when its block exits.
        report.duration_seconds = round(time.perf_counter() - started, 3)
        report.requests = dict(sent)


def publish(report: RunReport) -> None:
    """Write the run's markdown and table artifacts (keys derived from the flow name), after the privacy check."""
    from prefect.artifacts import create_markdown_artifact, create_table_artifact
    from prefect.context import FlowRunContext

    from coalition.privacy import guard

    markdown = report.markdown()
    guard.check_text(markdown)
    if FlowRunContext.get() is None:
        return
    key = report.flow.replace("_", "-").lower()
    create_markdown_artifact(
        key=f"{key}-report", markdown=markdown, description=f"{report.flow} run report"
    )
    create_table_artifact(
        key=f"{key}-counts", table=report.table(), description=f"{report.flow} counts"
    )
