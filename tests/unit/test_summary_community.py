"""Membership from the roster index, advocacy from Bills and alert keys, activities by type."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

import pytest

from coalition.summary.community import activities, advocacy, attendees, membership
from coalition.summary.donations import RecordProblem
from coalition.summary.weeks import IsoWeek

NY = ZoneInfo("America/New_York")
W48 = IsoWeek(2026, 48)
FIRST_SYNC = datetime(2026, 1, 5, 15, tzinfo=UTC)


@dataclass
class Member:
    member_id: str
    membership_status: str | None
    dues_paid_through: date | None
    first_seen: datetime
    removed_at: datetime | None = None


@dataclass
class Posted:
    key: str
    posted_at: datetime


def test_membership() -> None:
    rows = [
        Member("m1", "Active", date(2027, 1, 1), FIRST_SYNC),
        Member("m2", "Active", date(2026, 11, 26), FIRST_SYNC),  # dues run out this week
        Member("m3", "Lapsed", date(2026, 1, 1), FIRST_SYNC),
        Member("m4", "Active", None, datetime(2026, 11, 24, 15, tzinfo=UTC)),  # joined this week
        Member(
            "m5", "Pending", None, datetime(2026, 11, 30, 6, tzinfo=UTC)
        ),  # joined the week after
        Member("m6", "Active", None, FIRST_SYNC, removed_at=datetime(2026, 11, 25, tzinfo=UTC)),
    ]
    m = membership(rows, W48, NY)
    assert m.synced
    assert (m.active, m.joined, m.lapsed_in_week, m.lapsed_now, m.removed) == (3, 1, 1, 1, 1)


def test_the_first_sync_is_not_joining() -> None:
    week = IsoWeek.of(FIRST_SYNC.date())
    rows = [Member(f"m{n}", "Active", None, FIRST_SYNC) for n in range(4)]
    assert membership(rows, week, NY).joined == 0
    assert not membership([], week, NY).synced


def test_advocacy() -> None:
    bills = [
        {
            "fields": {
                "Bill": "HB 1",
                "Jurisdiction": "Texas",
                "Last action": "Passed",
                "Last action date": "2026-11-24",
                "Source URL": "https://capitol.example/hb1",
            }
        },
        {
            "fields": {
                "Bill": "SB 2",
                "Title": "Due process",
                "Next hearing": "2026-12-01",
                "Last action date": "2026-11-01",
                "Source URL": "javascript:alert(1)",
            }
        },
        {"fields": {"Bill": "SB 3", "Next hearing": "2026-11-25"}},  # this week, not next
        {"fields": {"Last action date": "2026-11-24"}},  # no bill name: skipped
    ]
    posted = [
        Posted("campaign:rec1:C1", datetime(2026, 11, 24, 15, tzinfo=UTC)),
        Posted("bill:rec2", datetime(2026, 11, 25, 15, tzinfo=UTC)),
        Posted("roster-sync:digest:x", datetime(2026, 11, 25, 15, tzinfo=UTC)),
        Posted("campaign:rec3:C1", datetime(2026, 11, 30, 6, tzinfo=UTC)),  # next week
    ]
    a = advocacy(bills, posted, W48, NY)
    assert a.alerts_sent == 2
    assert [(b.bill, b.jurisdiction, b.text) for b in a.moved] == [("HB 1", "Texas", "Passed")]
    assert [(b.bill, b.day) for b in a.hearings] == [("SB 2", date(2026, 12, 1))]
    assert a.moved[0].url == "https://capitol.example/hb1"
    assert a.hearings[0].url is None  # only web addresses become links
    assert a.next_week == IsoWeek(2026, 49)


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (35, 35),
        ("35", 35),
        ("1,200", 1200),
        (None, 0),
        ("", 0),
        (-3, None),
        (2.5, None),
        ("many", None),
        (True, None),
    ],
)
def test_attendees(value: object, expected: int | None) -> None:
    assert attendees(value) == expected


def test_activities_by_type() -> None:
    records = [
        {"id": "a1", "fields": {"Date": "2026-11-24", "Type": "Rally", "Attendees": 100}},
        {"id": "a2", "fields": {"Date": "2026-11-25", "Type": "Rally", "Attendees": 20}},
        {"id": "a3", "fields": {"Date": "2026-11-26", "Type": "Legal clinic", "Attendees": "lots"}},
        {"id": "a4", "fields": {"Date": "2026-11-26", "Attendees": 5}},
        {
            "id": "a5",
            "fields": {"Date": "2026-11-30", "Type": "Rally", "Attendees": 9},
        },  # next week
        {"id": "a6", "fields": {"Type": "Rally"}},
    ]
    result, problems = activities(records, W48, NY)
    assert [(t.name, t.events, t.attendees) for t in result.types] == [
        ("Rally", 2, 120),
        ("Legal clinic", 1, 0),
        ("(no type)", 1, 5),
    ]
    assert (result.events, result.attendees, result.unknown_attendance) == (4, 125, 1)
    assert problems == [
        RecordProblem("Activities", "a3", "attendees_unreadable"),
        RecordProblem("Activities", "a6", "date_missing"),
    ]
