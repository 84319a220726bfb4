"""Referral outcomes from the ledger's rows (pure): per week and per partner, what partners answered and how fast.

Only ids, states, reason codes and times go in; partners are organizations (their
figures are the coalition's own business, not a person's). A partner with fewer than
5 referrals in the period is counted under "Other partners", so a small partner's
figures cannot point at a handful of cases.
"""

from __future__ import annotations

import math
import statistics
from bisect import bisect_right
from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta, tzinfo
from typing import Protocol

from coalition.summary.weeks import IsoWeek

ACCEPTED, DECLINED, EXPIRED, FAILED = "accepted", "declined", "expired", "failed"
ANSWERED = frozenset({ACCEPTED, DECLINED})
NOT_SENT = frozenset({"claimed"})  # claimed but never written to the partner's sheet
OTHER_PARTNERS = "Other partners"
MIN_PARTNER_REFERRALS = 5
PLACED_WITHIN = timedelta(days=7)
DECLINE_WORDS = {
    "no_capacity": "no capacity right now",
    "conflict": "conflict of interest",
    "not_our_service": "outside the services offered",
    "not_our_area": "outside the area served",
    "language": "cannot serve the language",
    "eligibility": "does not meet eligibility rules",
    "other": "another reason",
    "": "no reason given",
}


@dataclass(frozen=True)
class OutcomeFact:
    """A referral as the outcome figures see it: ids, state and times, never a person's details."""

    referral_id: str
    intake_id: str
    partner_id: str
    attempt: int
    state: str
    sent_at: datetime | None
    decided_at: datetime | None
    decline_reason: str | None


@dataclass(frozen=True)
class Arrivals:
    """What placement needs, aggregated by the ledger: intakes received per week of the span
    (duplicates aside), and (received, first accepted) of each intake a partner accepted."""

    received: tuple[int, ...]  # one count per week of the span, oldest first
    accepted: tuple[tuple[datetime, datetime], ...]


class IntakeRow(Protocol):
    intake_id: str
    received_at: datetime | None
    status: str


def _utc(moment: datetime) -> datetime:
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def hours_between(start: datetime | None, end: datetime | None) -> float | None:
    if start is None or end is None:
        return None
    return max((_utc(end) - _utc(start)).total_seconds() / 3600, 0.0)


def percentile(values: Sequence[float], share: float) -> float | None:
    """Nearest-rank percentile: the smallest value with at least `share` of the values at or below it."""
    if not values:
        return None
    ordered = sorted(values)
    rank = max(1, math.ceil(share * len(ordered)))
    return ordered[rank - 1]


@dataclass
class Tally:
    """Referrals sent in a period and what became of them."""

    sent: int = 0
    accepted: int = 0
    declined: int = 0
    expired: int = 0
    unreachable: int = 0  # the partner's sheet refused the referral
    rerouted: int = 0  # sent to this partner after an earlier one declined, stayed silent or failed
    awaiting: int = 0
    hours: list[float] = field(default_factory=list)  # referral to answer, for answered ones
    decline_reasons: Counter[str] = field(default_factory=Counter)

    def add(self, row: OutcomeFact) -> None:
        self.sent += 1
        self.rerouted += row.attempt > 1
        if row.state == ACCEPTED:
            self.accepted += 1
        elif row.state == DECLINED:
            self.declined += 1
            self.decline_reasons[DECLINE_WORDS.get(row.decline_reason or "", "another reason")] += 1
        elif row.state == EXPIRED:
            self.expired += 1
        elif row.state == FAILED:
            self.unreachable += 1
        else:
            self.awaiting += 1
        if row.state in ANSWERED:
            taken = hours_between(row.sent_at, row.decided_at)
            if taken is not None:
                self.hours.append(taken)

    @property
    def median_hours(self) -> float | None:
        return statistics.median(self.hours) if self.hours else None

    @property
    def p90_hours(self) -> float | None:
        return percentile(self.hours, 0.9)


@dataclass(frozen=True)
class Placement:
    """Of the requests received in a week (repeat requests left out), how many a partner accepted within 7 days."""

    received: int
    placed: int
    final: bool  # False while the last request's 7 days are not over

    @property
    def share(self) -> float | None:
        return self.placed / self.received if self.received else None


@dataclass(frozen=True)
class WeekOutcome:
    week: IsoWeek
    tally: Tally
    placement: Placement


@dataclass(frozen=True)
class PartnerOutcome:
    name: str
    tally: Tally
    partners: int = 1  # how many partners the row stands for ("Other partners")


@dataclass
class ReferralOutcomes:
    """The Referrals section and the dashboard's outcome tabs."""

    week: IsoWeek
    weeks: list[WeekOutcome]  # oldest first, ending with `week`
    partners: list[PartnerOutcome]  # over `partner_weeks` weeks ending with `week`
    partner_weeks: int

    @property
    def this(self) -> WeekOutcome:
        return self.weeks[-1]

    @property
    def empty(self) -> bool:
        return self.this.tally.sent == 0


class WeekIndex:
    """The week of `span` an instant falls in, by bisecting the weeks' UTC starts (100,000 lookups a run)."""

    def __init__(self, span: Sequence[IsoWeek], tz: tzinfo) -> None:
        self.span = list(span)
        self.starts = [w.start(tz).timestamp() for w in self.span]
        self.end = self.span[-1].end(tz).timestamp() if self.span else 0.0

    def find(self, moment: datetime | None) -> IsoWeek | None:
        if moment is None:
            return None
        stamp = _utc(moment).timestamp()
        if not self.span or stamp < self.starts[0] or stamp >= self.end:
            return None
        return self.span[bisect_right(self.starts, stamp) - 1]


def referral_outcomes(
    referrals: Iterable[OutcomeFact],
    intakes: Iterable[IntakeRow] | Arrivals,
    week: IsoWeek,
    tz: tzinfo,
    now: datetime,
    names: Mapping[str, str],
    weeks: int = 52,
    partner_weeks: int = 12,
) -> ReferralOutcomes:
    """Outcomes of the referrals sent in each of `weeks` weeks ending with `week`, and per partner."""
    span = [week.shift(k - weeks + 1) for k in range(weeks)]
    index = WeekIndex(span, tz)
    recent = set(span[-partner_weeks:])
    by_week: dict[IsoWeek, Tally] = {w: Tally() for w in span}
    by_partner: dict[str, Tally] = defaultdict(Tally)
    accepted_at: dict[str, datetime] = {}
    counted = isinstance(intakes, Arrivals)  # placement already aggregated by the ledger
    for row in referrals:
        if row.state in NOT_SENT:
            continue
        sent_week = index.find(row.sent_at)
        if sent_week is not None:
            by_week[sent_week].add(row)
            if sent_week in recent:
                by_partner[row.partner_id].add(row)
        if not counted and row.state == ACCEPTED and row.decided_at is not None:
            earlier = accepted_at.get(row.intake_id)
            if earlier is None or _utc(row.decided_at) < earlier:
                accepted_at[row.intake_id] = _utc(row.decided_at)
    if isinstance(intakes, Arrivals):
        placements = _placed_arrivals(intakes, index, tz, now)
    else:
        placements = _placements(intakes, accepted_at, index, tz, now)
    return ReferralOutcomes(
        week,
        [WeekOutcome(w, by_week[w], placements[w]) for w in span],
        partner_rows(by_partner, names),
        partner_weeks,
    )


def _placements(
    intakes: Iterable[IntakeRow],
    accepted_at: Mapping[str, datetime],
    index: WeekIndex,
    tz: tzinfo,
    now: datetime,
) -> dict[IsoWeek, Placement]:
    span = index.span
    received: Counter[IsoWeek] = Counter()
    placed: Counter[IsoWeek] = Counter()
    for row in intakes:
        if row.status == "duplicate" or row.received_at is None:
            continue
        week = index.find(row.received_at)
        if week is None:
            continue
        received[week] += 1
        accepted = accepted_at.get(row.intake_id)
        if accepted is not None and accepted - _utc(row.received_at) <= PLACED_WITHIN:
            placed[week] += 1
    return {
        w: Placement(received[w], placed[w], _utc(now) >= w.end(tz) + PLACED_WITHIN) for w in span
    }


def _placed_arrivals(
    arrivals: Arrivals, index: WeekIndex, tz: tzinfo, now: datetime
) -> dict[IsoWeek, Placement]:
    placed: Counter[IsoWeek] = Counter()
    for received, accepted in arrivals.accepted:
        week = index.find(received)
        if week is not None and _utc(accepted) - _utc(received) <= PLACED_WITHIN:
            placed[week] += 1
    counts = dict(zip(index.span, arrivals.received, strict=True))
    return {
        w: Placement(counts[w], placed[w], _utc(now) >= w.end(tz) + PLACED_WITHIN)
        for w in index.span
    }


def span_bounds(week: IsoWeek, tz: tzinfo, weeks: int = 52) -> list[datetime]:
    """The UTC starts of the `weeks` weeks ending with `week`, then that week's end."""
    span = [week.shift(k - weeks + 1) for k in range(weeks)]
    return [*(w.start(tz) for w in span), week.end(tz)]


def partner_rows(by_partner: Mapping[str, Tally], names: Mapping[str, str]) -> list[PartnerOutcome]:
    """One row per partner with at least 5 referrals, the rest pooled as "Other partners" (last)."""
    rows: list[PartnerOutcome] = []
    pooled, pooled_count = Tally(), 0
    for partner_id, tally in by_partner.items():
        if tally.sent >= MIN_PARTNER_REFERRALS:
            rows.append(PartnerOutcome(names.get(partner_id) or partner_id, tally))
        else:
            pooled_count += 1
            _merge(pooled, tally)
    rows.sort(key=lambda r: (-r.tally.sent, r.name))
    if pooled_count:
        rows.append(PartnerOutcome(OTHER_PARTNERS, pooled, pooled_count))
    return rows


def _merge(into: Tally, other: Tally) -> None:
    for name in ("sent", "accepted", "declined", "expired", "unreachable", "rerouted", "awaiting"):
        setattr(into, name, getattr(into, name) + getattr(other, name))
    into.hours.extend(other.hours)
    into.decline_reasons.update(other.decline_reasons)


def partner_outcome(
    referrals: Iterable[OutcomeFact], partner_id: str, start: datetime, end: datetime
) -> Tally:
    """One partner's own figures for [start, end) (what `/coalition outcomes` shows that partner)."""
    tally = Tally()
    for row in referrals:
        if row.partner_id != partner_id or row.state in NOT_SENT or row.sent_at is None:
            continue
        if _utc(start) <= _utc(row.sent_at) < _utc(end):
            tally.add(row)
    return tally


__all__ = [
    "OTHER_PARTNERS",
    "Arrivals",
    "PartnerOutcome",
    "Placement",
    "ReferralOutcomes",
    "Tally",
    "WeekOutcome",
    "partner_outcome",
    "percentile",
    "referral_outcomes",
    "span_bounds",
]
