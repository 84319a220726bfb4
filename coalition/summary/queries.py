"""Airtable formulas the weekly summary reads with (pure strings, built with pyairtable.formulas).

Airtable compares dates in UTC whatever the org's zone, so a range of days is given
as UTC instants with a day of margin (weeks.Window.utc_bounds) and every record's
date is checked again locally. Everything a summary needs from Donations is one
OR of these, so it costs the pages of the records it returns and no more.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta, tzinfo

from pyairtable import formulas as F

from coalition.summary.history import HistoryRead
from coalition.summary.weeks import Window, local_midnight

MARGIN = timedelta(days=1)  # as Window.utc_bounds: no zone is more than 14 hours from UTC


def _instant(moment: datetime) -> F.FunctionCall:
    return F.DATETIME_PARSE(moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.000Z"))


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


def donations_to_read(field: str, window: Window, plan: HistoryRead, tz: tzinfo) -> str:
    """One formula for all a summary lists: the window, undated records, and what the donor history lacks."""
    start, end = window.utc_bounds(tz)
    if plan.rebuild:
        parts = [dated_before(field, end)]
    else:
        lower = start if plan.read_from is None else min(start, _day_start(plan.read_from, tz))
        parts = [between(field, lower, end)]
    parts.append(undated(field))
    if plan.changed_since is not None and plan.changed_before is not None:
        before = local_midnight(plan.changed_before, tz) + MARGIN
        parts.append(changed_since(field, plan.changed_since, before))
    return either(*parts)


def _day_start(day: date, tz: tzinfo) -> datetime:
    return local_midnight(day, tz) - MARGIN


__all__ = ["between", "changed_since", "dated_before", "donations_to_read", "either", "undated"]
