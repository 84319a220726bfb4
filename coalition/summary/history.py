"""Donor history (pure): which donations a summary must list to know every donor's first gift, and what it knows after.

A donor is new in the week of their first gift ever, so telling new donors from
returning ones needs each donor's first gift date, not only the five weeks the
document shows. The ledger keeps one date per donor (a keyed hash, store.py) and a
`HistoryState` saying how far that is complete:

- `complete_before`: every gift dated before this org-calendar day has been read;
- `read_at`: as of this instant. Gifts created or edited since then and dated before
  `complete_before` (typed in late, or a date corrected) are read by the next run;
- `built_at`: when the history was last read from scratch. A deleted gift or a date
  moved later leaves no trace a read of changes could find, so the history is read
  again from scratch every `rebuild_after`.

The first run lists every gift dated before the window's end once (a page per 100
gifts). A weekly run after it lists only its five weeks plus the gifts changed since
the previous run that are dated before them, usually none, in the same listing.
Refunds are never a first gift.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta

from coalition.summary.weeks import Window

# Airtable stamps created and modified times with its own clock: read a little before ours.
CLOCK_SKEW = timedelta(minutes=5)


@dataclass(frozen=True)
class HistoryState:
    """How far the ledger's first-gift dates are complete (all None: there is no history yet)."""

    complete_before: date | None = None
    read_at: datetime | None = None
    built_at: datetime | None = None

    @property
    def started(self) -> bool:
        return None not in (self.complete_before, self.read_at, self.built_at)


@dataclass(frozen=True)
class HistoryRead:
    """What a run lists besides its window: dates from `read_from` on, and gifts changed since `changed_since`."""

    rebuild: bool  # forget the ledger's dates: the listing reads every gift before the window's end
    read_from: date | None = None  # None: from the first gift ever
    changed_since: datetime | None = None
    changed_before: date | None = None  # the changed gifts that matter are dated before this day

    @property
    def reason(self) -> str:
        if self.rebuild:
            return "read from scratch"
        return "brought up to date"


def plan_history_read(
    state: HistoryState, window: Window, now: datetime, rebuild_after: timedelta
) -> HistoryRead:
    """Rebuild when there is no history or it is older than `rebuild_after`; else read the gap and the changes."""
    if not state.started or now - state.built_at >= rebuild_after:  # type: ignore[operator]
        return HistoryRead(rebuild=True)
    assert state.complete_before is not None
    return HistoryRead(
        rebuild=False,
        # A gap when the ledger stops before the window (a first run for an old week, or skipped weeks).
        read_from=min(window.first.monday, state.complete_before),
        changed_since=state.read_at,
        changed_before=state.complete_before,
    )


def after_read(
    state: HistoryState, plan: HistoryRead, window: Window, started: datetime
) -> HistoryState:
    """The history once a listing begun at `started` has been read: complete up to the window's end."""
    window_end = window.target.sunday + timedelta(days=1)
    if plan.rebuild or state.complete_before is None:
        return HistoryState(window_end, started - CLOCK_SKEW, started)
    return HistoryState(
        max(state.complete_before, window_end), started - CLOCK_SKEW, state.built_at
    )


__all__ = [
    "CLOCK_SKEW",
    "HistoryRead",
    "HistoryState",
    "after_read",
    "plan_history_read",
]
