"""The summary's Airtable formulas, evaluated by the Airtable emulator's formula engine on date and dateTime fields."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given
from hypothesis import strategies as st

from coalition.summary import queries
from coalition.summary.donations import read_gifts
from coalition.summary.history import HistoryRead
from coalition.summary.weeks import IsoWeek, Window, local_date
from sandbox.airtable.models import Backend, ListQuery
from sandbox.core import Clock, Journal, RateLimiter, SandboxServices

NY = ZoneInfo("America/New_York")
W48 = IsoWeek(2026, 48)


def _table(date_type: str, rows: list[dict]) -> tuple[Backend, str]:
    clock = Clock()
    backend = Backend(SandboxServices(clock=clock, limiter=RateLimiter(clock), journal=Journal()))
    base = backend.create_base("Coalition")
    options = {"dateFormat": {"name": "iso"}}
    if date_type == "dateTime":
        options |= {"timeFormat": {"name": "24hour"}, "timeZone": "utc"}
    backend.create_table(
        base,
        "Donations",
        [
            {"name": "Donor", "type": "singleLineText"},
            {"name": "Email", "type": "email"},
            {"name": "Amount", "type": "singleLineText"},
            {"name": "Date", "type": date_type, "options": options},
        ],
    )
    backend.create_records(base, "Donations", rows)
    return backend, base


def _ids(backend: Backend, base: str, formula: str) -> list[str]:
    page = backend.list_records(base, "Donations", ListQuery(formula=formula))
    return [r["fields"].get("Donor", "") for r in page["records"]]


@pytest.mark.parametrize("date_type", ["date", "dateTime"])
def test_the_window_filter_keeps_the_weeks_and_a_margin_that_local_dates_trim(
    date_type: str,
) -> None:
    stamps = {
        "before margin": "2026-10-20",
        "margin": "2026-10-25",  # the Sunday before: a dateTime there is read, then dropped locally
        "first day": "2026-10-26",
        "last day": "2026-11-29",
        "after": "2026-12-05",
    }
    rows = [{"Donor": k, "Amount": "5", "Date": v} for k, v in stamps.items()]
    rows.append({"Donor": "no date", "Amount": "5"})
    if date_type == "dateTime":
        rows = [dict(r, Date=r["Date"] + "T12:00:00.000Z") if "Date" in r else r for r in rows]
        rows.append({"Donor": "sunday night", "Amount": "5", "Date": "2026-11-30T04:59:00.000Z"})
        rows.append({"Donor": "monday morning", "Amount": "5", "Date": "2026-11-30T05:00:00.000Z"})
    backend, base = _table(date_type, rows)
    window = Window.ending(W48)
    unknown_type = queries.bounds(window.first.monday, date(2026, 11, 30), NY, None)
    kept = _ids(backend, base, queries.between("Date", *unknown_type))
    assert {"first day", "last day"} <= set(kept)
    assert ("margin" in kept) == (date_type == "dateTime")
    assert "before margin" not in kept and "after" not in kept and "no date" not in kept
    if date_type == "dateTime":
        assert "sunday night" in kept  # Sunday 23:59 in New York
    records = backend.list_records(
        base, "Donations", ListQuery(formula=queries.between("Date", *unknown_type))
    )["records"]
    gifts, _ = read_gifts(records, NY)
    inside = {g.donor.name for g in gifts if g.donor and window.week_of(g.day)}
    assert inside == {"first day", "last day"} | (
        {"sunday night"} if date_type == "dateTime" else set()
    )
    assert _ids(backend, base, queries.undated("Date")) == ["no date"]


@pytest.mark.parametrize("date_type", ["date", "dateTime"])
def test_with_the_fields_type_the_range_is_exactly_the_org_calendar_days(date_type: str) -> None:
    stamps = {
        "sunday before": "2026-10-25",
        "first day": "2026-10-26",
        "last day": "2026-11-29",
        "monday after": "2026-11-30",
    }
    rows = [{"Donor": k, "Amount": "5", "Date": v} for k, v in stamps.items()]
    if date_type == "dateTime":  # noon in New York, and the instants around both midnights
        rows = [dict(r, Date=r["Date"] + "T17:00:00.000Z") for r in rows]
        rows.append({"Donor": "first minute", "Amount": "5", "Date": "2026-10-26T04:00:00.000Z"})
        rows.append({"Donor": "sunday night", "Amount": "5", "Date": "2026-11-30T04:59:00.000Z"})
        rows.append({"Donor": "monday 00:00", "Amount": "5", "Date": "2026-11-30T05:00:00.000Z"})
    backend, base = _table(date_type, rows)
    window = Window.ending(W48)
    kept = _ids(
        backend,
        base,
        queries.in_days("Date", window.first.monday, date(2026, 11, 30), NY, date_type),
    )
    expected = {"first day", "last day"}
    if date_type == "dateTime":
        expected |= {"first minute", "sunday night"}
    assert set(kept) == expected


HISTORY_ROWS = [
    {"Donor": "long ago", "Amount": "5", "Date": "2024-02-01"},
    {"Donor": "gap", "Amount": "5", "Date": "2026-09-10"},
    {"Donor": "in window", "Amount": "5", "Date": "2026-11-24"},
    {"Donor": "next month", "Amount": "5", "Date": "2026-12-20"},
    {"Donor": "no date", "Amount": "5"},
]


def test_a_rebuild_lists_every_gift_before_the_windows_end_and_the_undated() -> None:
    backend, base = _table("date", HISTORY_ROWS)
    formula = queries.donations_to_read("Date", Window.ending(W48), HistoryRead(True), NY, "date")
    assert sorted(_ids(backend, base, formula)) == ["gap", "in window", "long ago", "no date"]


def test_a_kept_history_lists_the_window_the_gap_and_what_changed() -> None:
    backend, base = _table("date", HISTORY_ROWS)
    window = Window.ending(W48)
    made = datetime.now(UTC)
    up_to_date = HistoryRead(
        False, window.first.monday, made + timedelta(hours=1), date(2026, 10, 26)
    )
    assert sorted(
        _ids(backend, base, queries.donations_to_read("Date", window, up_to_date, NY, "date"))
    ) == [
        "in window",
        "no date",
    ]
    with_gap = HistoryRead(False, date(2026, 9, 1), made + timedelta(hours=1), date(2026, 9, 1))
    assert sorted(
        _ids(backend, base, queries.donations_to_read("Date", window, with_gap, NY, "date"))
    ) == [
        "gap",
        "in window",
        "no date",
    ]
    # Gifts made since the last run and dated before what the history holds are read again.
    changed = HistoryRead(False, window.first.monday, made - timedelta(hours=1), date(2026, 10, 26))
    assert sorted(
        _ids(backend, base, queries.donations_to_read("Date", window, changed, NY, "date"))
    ) == [
        "gap",
        "in window",
        "long ago",
        "no date",
    ]


zones = st.sampled_from(
    ["America/New_York", "America/Los_Angeles", "Pacific/Honolulu", "Pacific/Kiritimati",
     "Asia/Kolkata", "UTC"]
)  # fmt: skip


@given(
    zone=zones,
    year=st.integers(2015, 2035),
    week=st.integers(1, 52),
    offset=st.integers(-3 * 24 * 60, 38 * 24 * 60 - 1),
)
def test_bounds_hold_exactly_the_windows_days_for_each_field_type(
    zone: str, year: int, week: int, offset: int
) -> None:
    """An instant (dateTime) or a day's UTC midnight (date) is inside the bounds iff its local day is in the window; any type is at least covered."""
    tz = ZoneInfo(zone)
    window = Window.ending(IsoWeek(year, week))
    end_day = window.target.sunday + timedelta(days=1)
    local = datetime.combine(window.first.monday, datetime.min.time()) + timedelta(minutes=offset)
    moment = local.replace(tzinfo=tz).astimezone(UTC)
    in_window = window.week_of(moment.astimezone(tz).date()) is not None
    start, end = queries.bounds(window.first.monday, end_day, tz, "dateTime")
    assert (start <= moment < end) is in_window
    day = local.date()
    midnight = datetime.combine(day, datetime.min.time(), tzinfo=UTC)
    start, end = queries.bounds(window.first.monday, end_day, tz, "date")
    assert (start <= midnight < end) is (window.week_of(day) is not None)
    start, end = queries.bounds(window.first.monday, end_day, tz, None)
    if in_window:
        assert start <= moment < end
    if window.week_of(day) is not None:
        assert start <= midnight < end
    assert local_date(moment.strftime("%Y-%m-%dT%H:%M:%S.000Z"), tz) == moment.astimezone(tz).date()
