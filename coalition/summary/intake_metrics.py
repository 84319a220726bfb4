"""Intake and referral figures from the ledger's rows (pure): counts, medians, and a category table safe to share.

The ledger holds ids, statuses, broad categories and times, never a person, and
these figures add a second layer: a category with fewer than 5 cases reads "fewer
than 5"; the survivor categories (VAWA, U visa, T visa) exist only inside
"Protected categories", a row that is always shown so its presence tells nothing;
and when a column hides exactly one small cell, the smallest other cell is withheld
too, so the hidden one cannot be worked out from the total.

The figures follow the intakes received during the week (the week's cohort): how
many of them have been routed, accepted, declined, waitlisted, or still need staff.
"""

from __future__ import annotations

import statistics
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, tzinfo
from typing import Protocol

from coalition.summary.weeks import IsoWeek, local_datetime

PROTECTED_LABEL = "Protected categories"
UNCLASSIFIED_LABEL = "Unclassified"
FEWER = "fewer than {n}"
WITHHELD = "withheld"
# A median over too few cases is not shown; "fewer than 5" alone would read as "under 5 hours".
WITHHELD_MEDIAN = "withheld: fewer than {n} cases"
# Ledger categories are broad already ("protected"); raw survivor types are caught too,
# so a change elsewhere can never put one in the document.
PROTECTED_VALUES = frozenset(
    {"protected", "vawa", "u visa", "t visa", "u-visa", "t-visa", "u", "t", "protected category"}
)
NEEDS_STAFF = frozenset({"review", "triage", "suggested"})
ACCEPTED, DECLINED = "accepted", "declined"


class IntakeRow(Protocol):
    intake_id: str
    received_at: datetime | None
    status: str
    category: str | None
    routed_at: datetime | None


class ReferralRow(Protocol):
    intake_id: str
    state: str
    decided_at: datetime | None


@dataclass(frozen=True)
class Case:
    """What the figures need of one intake received in the week."""

    category: str  # a display label: never a survivor type
    status: str
    hours_to_routing: float | None
    hours_to_acceptance: float | None
    accepted: bool
    declined: bool


def category_label(category: str | None) -> str:
    value = (category or "").strip()
    if not value:
        return UNCLASSIFIED_LABEL
    if value.lower() in PROTECTED_VALUES:
        return PROTECTED_LABEL
    return value[0].upper() + value[1:]


def _hours(start: datetime | None, end: datetime | None) -> float | None:
    if start is None or end is None:
        return None
    return max((_utc(end) - _utc(start)).total_seconds() / 3600, 0.0)


def _utc(moment: datetime) -> datetime:
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def week_cases(
    intakes: Iterable[IntakeRow], referrals: Iterable[ReferralRow], week: IsoWeek, tz: tzinfo
) -> tuple[list[Case], int, int]:
    """(cases received in the week, duplicates among them, intakes without a received time)."""
    by_intake: dict[str, list[ReferralRow]] = defaultdict(list)
    for referral in referrals:
        by_intake[referral.intake_id].append(referral)
    cases: list[Case] = []
    duplicates = undated = 0
    for row in intakes:
        received = local_datetime(row.received_at, tz)
        if received is None:
            undated += 1
            continue
        if not week.contains(received.date()):
            continue
        if row.status == "duplicate":
            duplicates += 1
            continue
        mine = by_intake.get(row.intake_id, [])
        accepted = [r.decided_at for r in mine if r.state == ACCEPTED and r.decided_at]
        cases.append(
            Case(
                category=category_label(row.category),
                status=row.status,
                hours_to_routing=_hours(row.received_at, row.routed_at),
                hours_to_acceptance=_hours(row.received_at, min(accepted, key=_utc))
                if accepted
                else None,
                accepted=any(r.state == ACCEPTED for r in mine) or row.status == ACCEPTED,
                declined=any(r.state == DECLINED for r in mine),
            )
        )
    return cases, duplicates, undated


# ---------------------------------------------------------------- small counts
@dataclass(frozen=True)
class Shown:
    """A count as the document shows it: the number, "fewer than 5", or "withheld"."""

    value: int
    text: str

    @property
    def hidden(self) -> bool:
        return not self.text[:1].isdigit()


def _shown(values: list[int], threshold: int) -> list[Shown]:
    """One column: small cells hidden, and one more withheld if a single hidden cell could be derived."""
    fewer = FEWER.format(n=threshold)
    shown = [Shown(v, fewer if v < threshold else f"{v:,}") for v in values]
    hidden = [i for i, s in enumerate(shown) if s.hidden]
    if len(hidden) == 1:
        visible = [i for i, s in enumerate(shown) if not s.hidden]
        if visible:
            smallest = min(visible, key=lambda i: (shown[i].value, i))
            shown[smallest] = Shown(shown[smallest].value, WITHHELD)
    return shown


def median_hours(values: Iterable[float | None]) -> float | None:
    present = [v for v in values if v is not None]
    return statistics.median(present) if present else None


@dataclass(frozen=True)
class CategoryRow:
    label: str
    received: Shown
    routed: Shown
    accepted: Shown
    median_hours_to_routing: str  # "18.5", or "withheld: fewer than 5 cases"


@dataclass
class IntakeMetrics:
    """The Intake and referrals section."""

    week: IsoWeek
    received: int = 0
    duplicates: int = 0
    routed: int = 0
    accepted: int = 0
    declined: int = 0
    waitlisted: int = 0
    needs_staff: int = 0
    median_hours_to_routing: float | None = None
    median_hours_to_acceptance: float | None = None
    categories: list[CategoryRow] = field(default_factory=list)
    threshold: int = 5
    undated: int = 0

    @property
    def empty(self) -> bool:
        return self.received == 0 and self.duplicates == 0


def _category_order(label: str, size: int) -> tuple[int, int, str]:
    rank = {PROTECTED_LABEL: 1, UNCLASSIFIED_LABEL: 2}.get(label, 0)
    return rank, -size, label


def intake_metrics(
    intakes: Iterable[IntakeRow],
    referrals: Iterable[ReferralRow],
    week: IsoWeek,
    tz: tzinfo,
    threshold: int = 5,
) -> IntakeMetrics:
    cases, duplicates, undated = week_cases(intakes, referrals, week, tz)
    metrics = IntakeMetrics(week, threshold=threshold, duplicates=duplicates, undated=undated)
    metrics.received = len(cases)
    metrics.routed = sum(c.hours_to_routing is not None for c in cases)
    metrics.accepted = sum(c.accepted for c in cases)
    metrics.declined = sum(c.declined for c in cases)
    metrics.waitlisted = sum(c.status == "waitlist" for c in cases)
    metrics.needs_staff = sum(c.status in NEEDS_STAFF for c in cases)
    metrics.median_hours_to_routing = median_hours(c.hours_to_routing for c in cases)
    metrics.median_hours_to_acceptance = median_hours(c.hours_to_acceptance for c in cases)
    metrics.categories = category_rows(cases, threshold)
    return metrics


def category_rows(cases: Sequence[Case], threshold: int) -> list[CategoryRow]:
    """Rows by broad category; Protected and Unclassified are always there, whatever their counts."""
    groups: dict[str, list[Case]] = {PROTECTED_LABEL: [], UNCLASSIFIED_LABEL: []}
    for case in cases:
        groups.setdefault(case.category, []).append(case)
    labels = sorted(groups, key=lambda name: _category_order(name, len(groups[name])))
    received = _shown([len(groups[n]) for n in labels], threshold)
    routed = _shown(
        [sum(c.hours_to_routing is not None for c in groups[n]) for n in labels], threshold
    )
    accepted = _shown([sum(c.accepted for c in groups[n]) for n in labels], threshold)
    rows = []
    for i, name in enumerate(labels):
        timed = [c.hours_to_routing for c in groups[name] if c.hours_to_routing is not None]
        median = median_hours(timed)
        text = (
            WITHHELD_MEDIAN.format(n=threshold)
            if len(timed) < threshold or median is None
            else f"{median:,.1f}"
        )
        rows.append(CategoryRow(name, received[i], routed[i], accepted[i], text))
    return rows


__all__ = [
    "PROTECTED_LABEL",
    "Case",
    "CategoryRow",
    "IntakeMetrics",
    "Shown",
    "category_label",
    "intake_metrics",
    "week_cases",
]
