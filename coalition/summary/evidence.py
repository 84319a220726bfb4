"""Referral outcomes and unmet need as the weekly Doc, the export and Slack show them (pure): rows of text.

The figures come from coalition/summary/outcomes.py and need.py; this module only
words them: "fewer than 5" never appears here, a withheld cell reads "withheld"
whatever the reason, hours have one decimal, shares are "12 of 20 (60%)".
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import ClassVar

from coalition.summary.need import UnmetNeed
from coalition.summary.outcomes import Placement, ReferralOutcomes, Tally, WeekOutcome
from coalition.summary.suppression import Table

DASH = "—"
DOC_WEEKS = 4  # weeks side by side in the Doc's outcomes table


def hours_text(value: float | None) -> str:
    return DASH if value is None else f"{value:,.1f}"


def cross_rows(table: Table, total_label: str = "All") -> list[list[str]]:
    """Each row label with its cells and total as shown, then the totals row."""
    width = len(table.columns) + 1
    rows = [[name, *(table.text(i, j) for j in range(width))] for i, name in enumerate(table.rows)]
    rows.append([total_label, *(table.text(len(table.rows), j) for j in range(width))])
    return rows


def series_rows(table: Table, total_label: str) -> list[list[str]]:
    """A one-row table turned on its side: one line per column, then the total."""
    rows = [[label, table.text(0, j)] for j, label in enumerate(table.columns)]
    rows.append([total_label, table.text(0, len(table.columns))])
    return rows


@dataclass
class Evidence:
    """What the Referrals and Unmet need sections show."""

    referrals: ReferralOutcomes
    need: UnmetNeed
    dashboard_name: str
    dashboard_url: str | None = None
    PARTNER_HEADER: ClassVar[tuple[str, ...]] = (
        "Partner", "Sent", "Accepted", "Declined", "Expired", "Median hours", "90th percentile hours",
    )  # fmt: skip

    # ------------------------------------------------------------ referrals
    def outcome_header(self) -> list[str]:
        weeks = self.referrals.weeks[-DOC_WEEKS:]
        return ["Figure", *(w.week.label for w in weeks)]

    def outcome_rows(self) -> list[list[str]]:
        weeks = self.referrals.weeks[-DOC_WEEKS:]

        def line(label: str, get: Callable[[WeekOutcome], str]) -> list[str]:
            return [label, *(get(w) for w in weeks)]

        return [
            line("Referrals sent", lambda w: f"{w.tally.sent:,}"),
            line("Accepted", lambda w: f"{w.tally.accepted:,}"),
            line("Declined", lambda w: f"{w.tally.declined:,}"),
            line("Expired (no answer in time)", lambda w: f"{w.tally.expired:,}"),
            line("Partner sheet unreachable", lambda w: f"{w.tally.unreachable:,}"),
            line("Still awaiting an answer", lambda w: f"{w.tally.awaiting:,}"),
            line("Re-routed to another partner", lambda w: f"{w.tally.rerouted:,}"),
            line("Median hours to answer", lambda w: hours_text(w.tally.median_hours)),
            line("90th percentile hours to answer", lambda w: hours_text(w.tally.p90_hours)),
            line("Placed within 7 days", lambda w: placed_text(w.placement)),
        ]

    def decline_rows(self) -> list[list[str]]:
        reasons = self.referrals.this.tally.decline_reasons
        return [[r, f"{n:,}"] for r, n in sorted(reasons.items(), key=lambda kv: (-kv[1], kv[0]))]

    def partner_rows(self) -> list[list[str]]:
        return [
            [
                p.name if p.partners == 1 else f"{p.name} ({p.partners:,})",
                *tally_cells(p.tally),
            ]
            for p in self.referrals.partners
        ]

    # ------------------------------------------------------------ unmet need
    def gap_sentences(self) -> list[str]:
        return [g.sentence("this month") for g in self.need.gaps]

    def reason_rows(self) -> list[list[str]]:
        return series_rows(self.need.reasons, "All reasons")

    def trend_rows(self) -> list[list[str]]:
        return series_rows(self.need.trend, "12 months")

    def cross(self, which: str) -> tuple[list[str], list[list[str]]]:
        table: Table = getattr(self.need, which)
        corner = "County"
        return [corner, *table.columns, "All"], cross_rows(table)


def tally_cells(t: Tally) -> list[str]:
    return [
        f"{t.sent:,}",
        f"{t.accepted:,}",
        f"{t.declined:,}",
        f"{t.expired:,}",
        hours_text(t.median_hours),
        hours_text(t.p90_hours),
    ]


def placed_text(placement: Placement) -> str:
    received = placement.received
    if not received:
        return DASH
    placed = placement.placed
    share = round(100 * placed / received)
    final = "" if placement.final else " so far"
    return f"{placed:,} of {received:,} ({share}%){final}"


__all__ = ["Evidence", "cross_rows", "hours_text", "series_rows", "tally_cells"]
