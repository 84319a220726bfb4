"""ISO weeks in the org's time zone: parsing, 53-week years, DST weeks, midnight edges, record dates."""

from __future__ import annotations

from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

import pytest

from coalition.settings import ConfigError
from coalition.summary.weeks import (
    DateProblem,
    IsoWeek,
    WeekError,
    Window,
    is_complete,
    last_complete_week,
    local_date,
    resolve_week,
    weeks_in_year,
)

NY = ZoneInfo("America/New_York")


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2026-W48", IsoWeek(2026, 48)),
        ("2026W48", IsoWeek(2026, 48)),
        (" 2026-w05 ", IsoWeek(2026, 5)),
        ("2026-W53", IsoWeek(2026, 53)),
        ("2020-W53", IsoWeek(2020, 53)),
    ],
)
def test_parse_weeks(text: str, expected: IsoWeek) -> None:
    assert IsoWeek.parse(text) == expected


@pytest.mark.parametrize(
    "text", ["2025-W53", "2026-W00", "2026-W54", "2026-48", "W48", "", "2026-W4a"]
)
def test_parse_refuses_what_is_not_an_iso_week(text: str) -> None:
    with pytest.raises(WeekError) as caught:
        IsoWeek.parse(text)
    assert isinstance(caught.value, ConfigError)  # the CLI prints it as one line, exit code 2
    assert "week" in str(caught.value)


def test_2025_has_52_weeks_and_says_so() -> None:
    with pytest.raises(WeekError, match="2025 has 52 ISO weeks"):
        IsoWeek.parse("2025-W53")


@pytest.mark.parametrize(
    ("year", "weeks"), [(2026, 53), (2025, 52), (2020, 53), (2015, 53), (2027, 52)]
)
def test_weeks_in_year(year: int, weeks: int) -> None:
    assert weeks_in_year(year) == weeks


def test_week_53_of_2026_spans_the_new_year() -> None:
    week = IsoWeek(2026, 53)
    assert week.monday == date(2026, 12, 28)
    assert week.sunday == date(2027, 1, 3)
    assert week.shift(1) == IsoWeek(2027, 1)
    assert IsoWeek(2027, 1).shift(-1) == week
    assert IsoWeek(2026, 52).shift(1) == week
    assert week.range_label() == "Dec 28 - Jan 3"
    assert week.contains(date(2027, 1, 3)) and not week.contains(date(2027, 1, 4))


def test_labels() -> None:
    week = IsoWeek(2026, 48)
    assert week.label == "2026-W48" and str(IsoWeek(2026, 5)) == "2026-W05"
    assert week.range_label() == "Nov 23 - Nov 29"
    assert week.long_label() == "Monday, Nov 23, 2026 to Sunday, Nov 29, 2026"


def test_an_ordinary_week_is_168_hours_in_new_york() -> None:
    week = IsoWeek(2026, 48)
    assert week.start(NY) == datetime(2026, 11, 23, 5, tzinfo=UTC)
    assert week.end(NY) == datetime(2026, 11, 30, 5, tzinfo=UTC)
    assert week.hours(NY) == 168


def test_the_week_clocks_spring_forward_has_167_hours() -> None:
    week = IsoWeek.of(date(2026, 3, 8))  # DST starts Sunday March 8, 2026 in the US
    assert week == IsoWeek(2026, 10)
    assert week.start(NY) == datetime(2026, 3, 2, 5, tzinfo=UTC)  # EST, UTC-5
    assert week.end(NY) == datetime(2026, 3, 9, 4, tzinfo=UTC)  # EDT, UTC-4
    assert week.hours(NY) == 167


def test_the_week_clocks_fall_back_has_169_hours() -> None:
    week = IsoWeek.of(date(2026, 11, 1))  # DST ends Sunday November 1, 2026
    assert week.hours(NY) == 169
    assert week.end(NY) == datetime(2026, 11, 2, 5, tzinfo=UTC)


def test_last_complete_week_turns_at_local_midnight_not_utc() -> None:
    sunday_late = datetime(2026, 11, 30, 4, 59, 59, tzinfo=UTC)  # Sun Nov 29 23:59:59 in New York
    monday_start = datetime(2026, 11, 30, 5, 0, 0, tzinfo=UTC)  # Mon Nov 30 00:00 in New York
    assert last_complete_week(sunday_late, NY) == IsoWeek(2026, 47)
    assert last_complete_week(monday_start, NY) == IsoWeek(2026, 48)
    # Already Monday in UTC, still Sunday in New York: W48 is not over there.
    assert last_complete_week(datetime(2026, 11, 30, 1, tzinfo=UTC), NY) == IsoWeek(2026, 47)


def test_last_complete_week_across_a_53_week_year() -> None:
    assert last_complete_week(datetime(2027, 1, 5, 12, tzinfo=UTC), NY) == IsoWeek(2026, 53)


def test_resolve_week() -> None:
    now = datetime(2026, 11, 25, 15, tzinfo=UTC)  # Wednesday of W48
    assert resolve_week(None, now, NY) == IsoWeek(2026, 47)
    assert resolve_week("2026-W48", now, NY) == IsoWeek(2026, 48)  # the current week: partial
    assert not is_complete(IsoWeek(2026, 48), now, NY)
    assert is_complete(IsoWeek(2026, 47), now, NY)
    with pytest.raises(WeekError, match="has not begun"):
        resolve_week("2026-W49", now, NY)


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("2026-11-29", date(2026, 11, 29)),  # an Airtable date field: already the org's date
        ("2026-11-30T04:59:59.000Z", date(2026, 11, 29)),  # Sunday 23:59:59 in New York
        ("2026-11-30T05:00:00.000Z", date(2026, 11, 30)),  # Monday 00:00 in New York
        ("2026-11-30T00:30:00-05:00", date(2026, 11, 30)),
        ("2026-11-30T00:30", date(2026, 11, 30)),  # no offset: the org's local time
        ("11/24/2026", date(2026, 11, 24)),
        (date(2026, 1, 2), date(2026, 1, 2)),
        (datetime(2026, 3, 9, 3, 30, tzinfo=UTC), date(2026, 3, 8)),  # EDT has begun: UTC-4
    ],
)
def test_local_dates(value: object, expected: date) -> None:
    assert local_date(value, NY) == expected


@pytest.mark.parametrize(
    ("value", "reason"),
    [
        (None, "missing"),
        ("", "missing"),
        ("  ", "missing"),
        ("2026-02-30", "impossible"),
        ("2026-13-01", "impossible"),
        ("2026-11-31T10:00:00Z", "impossible"),
        ("13/40/2026", "impossible"),
        ("next tuesday", "impossible"),
        (20261124, "impossible"),
    ],
)
def test_dates_that_cannot_be_placed(value: object, reason: str) -> None:
    with pytest.raises(DateProblem) as caught:
        local_date(value, NY)
    assert caught.value.reason == reason


def test_midnight_gifts_fall_in_the_right_week() -> None:
    w48 = IsoWeek(2026, 48)
    last_second = local_date("2026-11-30T04:59:59.999Z", NY)
    first_second = local_date("2026-11-30T05:00:00.000Z", NY)
    assert w48.contains(last_second) and not w48.contains(first_second)
    assert IsoWeek.of(first_second) == IsoWeek(2026, 49)
    before = local_date("2026-11-23T04:59:59Z", NY)
    assert IsoWeek.of(before) == IsoWeek(2026, 47)


def test_window_is_the_target_and_the_four_weeks_before() -> None:
    window = Window.ending(IsoWeek(2027, 2))
    assert [w.label for w in window.weeks] == [
        "2026-W51",
        "2026-W52",
        "2026-W53",
        "2027-W01",
        "2027-W02",
    ]
    assert window.first == IsoWeek(2026, 51)
    assert window.week_of(date(2026, 12, 30)) == IsoWeek(2026, 53)
    assert window.week_of(date(2026, 12, 13)) is None
    assert window.week_of(date(2027, 1, 18)) is None
