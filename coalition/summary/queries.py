"""Airtable formulas the weekly summary reads with (pure strings, built with pyairtable.formulas).

Airtable compares dates in UTC whatever the org's zone, so a week's range is given
as UTC instants with a day of margin (weeks.Window.utc_bounds) and every record's
date is checked again locally. Donors are matched in one FIND over a joined list of
keys rather than one clause per donor: the formula stays one comparison per record.
"""

from __future__ import annotations

from datetime import UTC, datetime

from pyairtable import formulas as F

from coalition.summary.donations import Candidates

SEPARATOR = "|"


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


def _key_list(keys: frozenset[str]) -> str | None:
    usable = sorted(k for k in keys if k and SEPARATOR not in k)
    return SEPARATOR + SEPARATOR.join(usable) + SEPARATOR if usable else None


def _member_of(field: str, keys: frozenset[str]) -> F.FunctionCall | None:
    haystack = _key_list(keys)
    if haystack is None:
        return None
    key = F.CONCATENATE(SEPARATOR, F.LOWER(F.TRIM(F.Field(field))), SEPARATOR)
    return F.FIND(key, haystack)


def earlier_gifts(
    date_field: str,
    before: datetime,
    candidates: Candidates,
    email_field: str | None,
    name_field: str | None,
) -> str | None:
    """Gifts dated before `before` by any candidate donor (by e-mail, or by name for donors without one)."""
    tests = []
    if email_field:
        tests.append(_member_of(email_field, candidates.emails))
    if name_field:
        tests.append(_member_of(name_field, candidates.names))
    present = [t for t in tests if t is not None]
    if not present:
        return None
    return F.to_formula_str(
        F.AND(F.IS_BEFORE(F.Field(date_field), _instant(before)), F.OR(*present))
    )


__all__ = ["between", "earlier_gifts", "either", "undated"]
