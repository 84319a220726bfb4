"""The summary's Airtable formulas, evaluated by the Airtable emulator's formula engine on date and dateTime fields."""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest

from coalition.summary import queries
from coalition.summary.donations import Candidates, history_candidates, read_gifts
from coalition.summary.weeks import IsoWeek, Window
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
    kept = _ids(backend, base, queries.between("Date", *window.utc_bounds(NY)))
    assert {"first day", "last day"} <= set(kept)
    assert ("margin" in kept) == (date_type == "dateTime")
    assert "before margin" not in kept and "after" not in kept and "no date" not in kept
    if date_type == "dateTime":
        assert "sunday night" in kept  # Sunday 23:59 in New York
    records = backend.list_records(
        base, "Donations", ListQuery(formula=queries.between("Date", *window.utc_bounds(NY)))
    )["records"]
    gifts, _ = read_gifts(records, NY)
    inside = {g.donor.name for g in gifts if g.donor and window.week_of(g.day)}
    assert inside == {"first day", "last day"} | (
        {"sunday night"} if date_type == "dateTime" else set()
    )
    assert _ids(backend, base, queries.undated("Date")) == ["no date"]


def test_earlier_gifts_finds_candidates_by_email_or_by_name() -> None:
    rows = [
        {"Donor": "Ana", "Email": "ANA@x.org ", "Amount": "5", "Date": "2025-01-01"},
        {"Donor": "cy", "Amount": "5", "Date": "2025-02-01"},
        {"Donor": "Dee", "Email": "dee@x.org", "Amount": "5", "Date": "2025-03-01"},  # not asked
        {"Donor": "Ana", "Email": "ana@x.org", "Amount": "5", "Date": "2026-11-24"},  # too late
        {"Donor": "O'Brien | x", "Amount": "5", "Date": "2025-03-01"},
    ]
    backend, base = _table("date", rows)
    candidates = Candidates(
        frozenset({"ana@x.org", "nobody@x.org"}), frozenset({"cy", "o'brien | x"})
    )
    formula = queries.earlier_gifts(
        "Date", datetime(2026, 10, 25, tzinfo=UTC), candidates, "Email", "Donor"
    )
    assert formula is not None
    assert sorted(_ids(backend, base, formula)) == [
        "Ana",
        "cy",
    ]  # a key holding the separator is never asked


def test_no_lookup_without_candidates() -> None:
    assert (
        queries.earlier_gifts(
            "Date", datetime(2026, 1, 1, tzinfo=UTC), Candidates(), "Email", "Donor"
        )
        is None
    )


def test_candidates_round_trip_through_the_formula() -> None:
    window = Window.ending(W48)
    gifts, _ = read_gifts(
        [
            {
                "id": "r1",
                "fields": {
                    "Donor": "Zed Q",
                    "Email": "Zed@X.org",
                    "Amount": "5",
                    "Date": "2026-11-24",
                },
            }
        ],
        NY,
    )
    candidates = history_candidates(gifts, window)
    backend, base = _table(
        "date", [{"Donor": "Zed Q", "Email": "zed@x.org", "Amount": "9", "Date": "2024-05-01"}]
    )
    formula = queries.earlier_gifts("Date", window.utc_bounds(NY)[0], candidates, "Email", "Donor")
    assert _ids(backend, base, formula or "") == ["Zed Q"]
