"""Membership, advocacy and activity figures for the weekly summary (pure).

Membership comes from the roster index roster sync keeps in the ledger (organization
data and dates only); advocacy from Airtable `Bills` (public legislative data) and the
alert messages the bot recorded; activities from Airtable `Activities`.
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, tzinfo
from decimal import Decimal, InvalidOperation
from typing import Any, Protocol

from coalition.summary.donations import RecordProblem, each_record_once
from coalition.summary.weeks import DateProblem, IsoWeek, local_date, local_datetime

# Keys under which the alert flows record their Slack messages (PostedMessage.key):
# campaign:<record>:<channel>, bill:<record>:change:<n>, bill:<record>:hearing:<tag>.
ALERT_KEY_PREFIXES = ("campaign:", "bill:")
ACTIVE, LAPSED = "active", "lapsed"
NO_TYPE = "(no type)"


# The design's field names, as this module reads records; the flow renames the
# workspace's fields (config/fields.yaml) to these before handing records over.
class ActivityFields:
    date = "Date"
    type = "Type"
    attendees = "Attendees"

    required = (date,)
    optional = (type, attendees)


class BillFields:
    bill = "Bill"
    jurisdiction = "Jurisdiction"
    title = "Title"
    last_action = "Last action"
    last_action_date = "Last action date"
    next_hearing = "Next hearing"
    source_url = "Source URL"

    required = (bill,)
    optional = (jurisdiction, title, last_action, last_action_date, next_hearing, source_url)


# ---------------------------------------------------------------- membership
class MemberRow(Protocol):
    member_id: str
    membership_status: str | None
    dues_paid_through: date | None
    first_seen: datetime
    removed_at: datetime | None


@dataclass
class Membership:
    synced: bool = False  # False: roster sync has not run, nothing to count
    active: int = 0
    joined: int = 0
    lapsed_in_week: int = 0
    lapsed_now: int = 0
    removed: int = 0


def membership(rows: Iterable[MemberRow], week: IsoWeek, tz: tzinfo) -> Membership:
    """Active and lapsed as the last roster sync saw them; joined, lapsed and removed during the week."""
    members = list(rows)
    result = Membership(synced=bool(members))
    if not members:
        return result
    # The roster found on the first sync was not "joining": its rows share that sync's time.
    baseline = min(m.first_seen for m in members)
    for m in members:
        status = (m.membership_status or "").strip().lower()
        removed_at = local_datetime(m.removed_at, tz)
        if removed_at is not None:
            result.removed += week.contains(removed_at.date())
            continue
        result.active += status == ACTIVE
        result.lapsed_now += status == LAPSED
        first_seen = local_datetime(m.first_seen, tz)
        if m.first_seen != baseline and first_seen and week.contains(first_seen.date()):
            result.joined += 1
        if m.dues_paid_through and week.contains(m.dues_paid_through):
            result.lapsed_in_week += 1
    return result


# ---------------------------------------------------------------- advocacy
class PostedRow(Protocol):
    key: str
    posted_at: datetime


@dataclass(frozen=True)
class BillLine:
    bill: str
    jurisdiction: str
    text: str  # the last action, or the bill's title for a hearing
    day: date
    url: str | None = None  # the bill's public page, when it is a web address


@dataclass
class Advocacy:
    alerts_sent: int = 0
    moved: list[BillLine] = field(default_factory=list)
    hearings: list[BillLine] = field(default_factory=list)
    next_week: IsoWeek | None = None


def _text(value: Any) -> str:
    if isinstance(value, list):
        value = ", ".join(str(v) for v in value)
    return " ".join(str(value or "").split())


def _web_address(value: Any) -> str | None:
    """A link the document may carry: http(s) only, no spaces (anything else stays unlinked)."""
    text = _text(value)
    if re.fullmatch(r"https?://[^\s]+", text):
        return text
    return None


def _day(value: Any, tz: tzinfo) -> date | None:
    try:
        return local_date(value, tz)
    except DateProblem:
        return None


def advocacy(
    bills: Iterable[Mapping[str, Any]], posted: Iterable[PostedRow], week: IsoWeek, tz: tzinfo
) -> Advocacy:
    """Alert messages posted in the week, bills whose last action fell in it, hearings the week after."""
    after = week.shift(1)
    result = Advocacy(next_week=after)
    for row in posted:
        when = local_datetime(row.posted_at, tz)
        if row.key.startswith(ALERT_KEY_PREFIXES) and when and week.contains(when.date()):
            result.alerts_sent += 1
    for record in bills:
        fields = record.get("fields") or {}
        name = _text(fields.get(BillFields.bill))
        if not name:
            continue
        where = _text(fields.get(BillFields.jurisdiction))
        url = _web_address(fields.get(BillFields.source_url))
        moved = _day(fields.get(BillFields.last_action_date), tz)
        if moved and week.contains(moved):
            action = _text(fields.get(BillFields.last_action)) or "action recorded"
            result.moved.append(BillLine(name, where, action, moved, url))
        hearing = _day(fields.get(BillFields.next_hearing), tz)
        if hearing and after.contains(hearing):
            title = _text(fields.get(BillFields.title))
            result.hearings.append(BillLine(name, where, title, hearing, url))
    result.moved.sort(key=lambda b: (b.day, b.bill))
    result.hearings.sort(key=lambda b: (b.day, b.bill))
    return result


# ---------------------------------------------------------------- activities
@dataclass
class ActivityType:
    name: str
    events: int = 0
    attendees: int = 0
    unknown_attendance: int = 0


@dataclass
class Activities:
    types: list[ActivityType] = field(default_factory=list)

    @property
    def events(self) -> int:
        return sum(t.events for t in self.types)

    @property
    def attendees(self) -> int:
        return sum(t.attendees for t in self.types)

    @property
    def unknown_attendance(self) -> int:
        return sum(t.unknown_attendance for t in self.types)


def attendees(value: Any) -> int | None:
    """A whole, non-negative number of people ("35" too), or None."""
    if value is None or value == "":
        return 0
    if isinstance(value, bool):
        return None
    try:
        number = Decimal(str(value).strip().replace(",", ""))
    except InvalidOperation:
        return None
    if not number.is_finite() or number < 0 or number != number.to_integral_value():
        return None
    return int(number)


def activities(
    records: Iterable[Mapping[str, Any]], week: IsoWeek, tz: tzinfo, table: str = "Activities"
) -> tuple[Activities, list[RecordProblem]]:
    """Events in the week by type, with their attendance; unreadable records become problems."""
    by_type: dict[str, ActivityType] = {}
    problems: list[RecordProblem] = []
    for rid, record in each_record_once(records):
        fields = record.get("fields") or {}
        try:
            day = local_date(fields.get(ActivityFields.date), tz)
        except DateProblem as exc:
            problems.append(RecordProblem(table, rid, f"date_{exc.reason}"))
            continue
        if not week.contains(day):
            continue
        name = _text(fields.get(ActivityFields.type)) or NO_TYPE
        kind = by_type.setdefault(name, ActivityType(name))
        kind.events += 1
        count = attendees(fields.get(ActivityFields.attendees))
        if count is None:
            kind.unknown_attendance += 1
            problems.append(RecordProblem(table, rid, "attendees_unreadable"))
        else:
            kind.attendees += count
    ordered = sorted(by_type.values(), key=lambda t: (t.name == NO_TYPE, -t.events, t.name))
    return Activities(ordered), problems


def group_counts(problems: Iterable[RecordProblem]) -> dict[tuple[str, str], int]:
    counts: dict[tuple[str, str], int] = defaultdict(int)
    for problem in problems:
        counts[(problem.table, problem.problem)] += 1
    return dict(counts)


__all__ = [
    "ALERT_KEY_PREFIXES",
    "Activities",
    "ActivityFields",
    "Advocacy",
    "BillFields",
    "Membership",
    "activities",
    "advocacy",
    "membership",
]
