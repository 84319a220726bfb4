"""Airtable formulas the weekly summary reads with (pure strings, built with pyairtable.formulas).

Airtable compares dates in UTC whatever the org's zone. A `date` field holds midnight
UTC of its day and a `dateTime` an instant, so with the field's type from the schema
a range of org-calendar days is exact: UTC midnights for one, the org's local
midnights for the other. A field of another type (text typed as a date, a formula)
gets a day of margin each side. Every record's date is checked again locally.
Everything a summary needs from Donations is one OR of these, so it costs the pages
of the records it returns and no more.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta, tzinfo

from pyairtable import formulas as F

from coalition.summary.history import HistoryRead
from coalition.summary.weeks import IsoWeek, Window, local_midnight

MARGIN = timedelta(days=1)  # for fields of unknown type: no zone is more than 14 hours from UTC


def _instant(moment: datetime) -> F.FunctionCall:
    return F.DATETIME_PARSE(moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.000Z"))


def bounds(first: date, end: date, tz: tzinfo, field_type: str | None) -> tuple[datetime, datetime]:
    """UTC instants holding the org-calendar days [first, end) of a field of this type, and no more."""
    if field_type == "date":
        return _utc_midnight(first), _utc_midnight(end)
    if field_type == "dateTime":
        return local_midnight(first, tz), local_midnight(end, tz)
    return local_midnight(first, tz) - MARGIN, local_midnight(end, tz) + MARGIN


def _utc_midnight(day: date) -> datetime:
    return datetime.combine(day, time(0), UTC)


def in_days(field: str, first: date, end: date, tz: tzinfo, field_type: str | None) -> str:
    """Records whose `field` falls on the org-calendar days [first, end)."""
    return between(field, *bounds(first, end, tz, field_type))


def in_week(field: str, week: IsoWeek, tz: tzinfo, field_type: str | None) -> str:
    return in_days(field, week.monday, week.monday + timedelta(days=7), tz, field_type)


def between(field: str, start: datetime, end: datetime) -> str:
    """Records whose `field` is in [start, end); blank or unreadable dates are left out."""
    value = F.Field(field)
    return F.to_formula_str(
        F.AND(F.NOT(F.IS_BEFORE(value, _instant(start))), F.IS_BEFORE(value, _instant(end)))
    )


def either(*formulas: str) -> str:
    return f"OR({', '.join(formulas)})"


def undated(field: str) -> str:
    """Records whose date is blank or cannot be read as a date (no week can count them)."""
    value = F.Field(field)
    return F.to_formula_str(F.OR(F.EQ(value, F.BLANK()), F.ISERROR(F.DATETIME_PARSE(value))))


def dated_before(field: str, end: datetime) -> str:
    """Records whose `field` is before `end` (every gift up to a point)."""
    return F.to_formula_str(F.IS_BEFORE(F.Field(field), _instant(end)))


def changed_since(field: str, since: datetime, dated_before: datetime) -> str:
    """Records created or edited after `since` whose `field` is before `dated_before`.

    CREATED_TIME() as well as LAST_MODIFIED_TIME(), so a record nobody edited since it
    was made counts whatever Airtable says its last modification was.
    """
    when = _instant(since)
    return F.to_formula_str(
        F.AND(
            F.OR(F.IS_AFTER(F.CREATED_TIME(), when), F.IS_AFTER(F.LAST_MODIFIED_TIME(), when)),
            F.IS_BEFORE(F.Field(field), _instant(dated_before)),
        )
    )


def donations_to_read(
    field: str, window: Window, plan: HistoryRead, tz: tzinfo, field_type: str | None
) -> str:
    """One formula for all a summary lists: the window, undated records, and what the donor history lacks."""
    end = window.target.sunday + timedelta(days=1)
    if plan.rebuild:
        parts = [dated_before(field, bounds(end, end, tz, field_type)[1])]
    else:
        first = min(window.first.monday, plan.read_from or window.first.monday)
        parts = [in_days(field, first, end, tz, field_type)]
    parts.append(undated(field))
    if plan.changed_since is not None and plan.changed_before is not None:
        before = bounds(end, plan.changed_before, tz, field_type)[1]
        parts.append(changed_since(field, plan.changed_since, before))
    return either(*parts)


__all__ = [
    "between",
    "bounds",
    "changed_since",
    "dated_before",
    "donations_to_read",
    "either",
    "in_days",
    "in_week",
    "undated",
]
