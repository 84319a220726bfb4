"""ISO weeks in the org's time zone (pure): parse "2026-W48", find the last complete week, bound weeks in UTC.

An ISO week runs Monday 00:00 to the next Monday 00:00 in the org's time zone, so it
lasts 167 or 169 hours when a DST change falls inside it; its UTC bounds come from
zoneinfo, never from adding 7 x 24 hours. ISO years have 52 or 53 weeks (2026 has
53: its week 53 runs Dec 28, 2026 to Jan 3, 2027).

Record dates are read here too: a plain `YYYY-MM-DD` (an Airtable date field) is
already the org's calendar date; a timestamp with an offset (a dateTime field, in
UTC) is converted to the org's time zone before its date is taken, so a gift made
at 00:30 on Monday in New York (05:30 UTC) belongs to that Monday's week.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta, tzinfo

from coalition.settings import ConfigError

WEEK_PATTERN = re.compile(r"^\s*(\d{4})-?[Ww](\d{1,2})\s*$")
# Airtable date and dateTime values, and what staff type into text fields.
_ISO_DATE = re.compile(r"^(\d{4})-(\d{2})-(\d{2})$")
_US_DATE = re.compile(r"^(\d{1,2})/(\d{1,2})/(\d{4})$")
_ISO_STAMP = re.compile(r"^\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}")


class WeekError(ConfigError):
    """A week that is not an ISO week (or lies in the future), explained for a person."""


class DateProblem(ValueError):
    """A record's date that cannot be placed in a week: `reason` is "missing" or "impossible"."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def weeks_in_year(year: int) -> int:
    """52 or 53: an ISO year has 53 weeks when Dec 28 falls in week 53."""
    return date(year, 12, 28).isocalendar().week


@dataclass(frozen=True, order=True)
class IsoWeek:
    """One ISO week, e.g. IsoWeek(2026, 48) is 2026-W48: Monday Nov 23 to Sunday Nov 29, 2026."""

    year: int
    week: int

    def __post_init__(self) -> None:
        if not 1 <= self.week <= weeks_in_year(self.year):
            raise WeekError(
                f"week: '{self.year}-W{self.week:02d}' does not exist "
                f"({self.year} has {weeks_in_year(self.year)} ISO weeks)"
            )

    @classmethod
    def parse(cls, text: str) -> IsoWeek:
        """'2026-W48' (also '2026W48', '2026-w48'); WeekError says what is expected."""
        match = WEEK_PATTERN.match(text or "")
        if not match:
            raise WeekError(
                f"week: {text!r} is not an ISO week; expected YYYY-Www such as 2026-W48"
            )
        return cls(int(match.group(1)), int(match.group(2)))

    @classmethod
    def of(cls, day: date) -> IsoWeek:
        iso = day.isocalendar()
        return cls(iso.year, iso.week)

    @property
    def label(self) -> str:
        return f"{self.year}-W{self.week:02d}"

    def __str__(self) -> str:
        return self.label

    @property
    def monday(self) -> date:
        return date.fromisocalendar(self.year, self.week, 1)

    @property
    def sunday(self) -> date:
        return self.monday + timedelta(days=6)

    def shift(self, weeks: int) -> IsoWeek:
        """The week `weeks` later (negative: earlier), across year ends and 53-week years."""
        return IsoWeek.of(self.monday + timedelta(weeks=weeks))

    def contains(self, day: date) -> bool:
        return self.monday <= day <= self.sunday

    def days(self) -> list[date]:
        return [self.monday + timedelta(days=i) for i in range(7)]

    def start(self, tz: tzinfo) -> datetime:
        """Monday 00:00 in `tz`, as an aware datetime in UTC."""
        return local_midnight(self.monday, tz)

    def end(self, tz: tzinfo) -> datetime:
        """The next Monday 00:00 in `tz`, in UTC (exclusive)."""
        return local_midnight(self.monday + timedelta(days=7), tz)

    def hours(self, tz: tzinfo) -> float:
        """168, or 167/169 in a week with a DST change."""
        return (self.end(tz) - self.start(tz)).total_seconds() / 3600

    def range_label(self) -> str:
        """'Nov 23 - Nov 29' (the title's form; the year is in the week's label)."""
        return f"{_short(self.monday)} - {_short(self.sunday)}"

    def long_label(self) -> str:
        """'Monday, Nov 23, 2026 to Sunday, Nov 29, 2026'."""
        return f"Monday, {_long(self.monday)} to Sunday, {_long(self.sunday)}"


def _short(day: date) -> str:
    return f"{day:%b} {day.day}"


def _long(day: date) -> str:
    return f"{day:%b} {day.day}, {day.year}"


def local_midnight(day: date, tz: tzinfo) -> datetime:
    """The instant (UTC) a calendar day starts in `tz`.

    zoneinfo resolves a midnight that a DST change skips or repeats by `fold`; no zone
    in use today moves its clocks at midnight on a Monday, but fold=0 keeps it defined.
    """
    return datetime.combine(day, time(0), tzinfo=tz).astimezone(UTC)


def last_complete_week(now: datetime, tz: tzinfo) -> IsoWeek:
    """The latest ISO week that has fully ended at `now` in `tz`."""
    today = now.astimezone(tz).date()
    return IsoWeek.of(today).shift(-1)


def resolve_week(text: str | None, now: datetime, tz: tzinfo) -> IsoWeek:
    """The week asked for (default: the last complete one); a week that has not begun is refused."""
    if not text:
        return last_complete_week(now, tz)
    week = IsoWeek.parse(text)
    if week.start(tz) > now:
        raise WeekError(
            f"week: {week.label} has not begun yet (it starts {week.monday.isoformat()}); "
            "the summary reports on past weeks"
        )
    return week


def is_complete(week: IsoWeek, now: datetime, tz: tzinfo) -> bool:
    return week.end(tz) <= now


@dataclass(frozen=True)
class Window:
    """The weeks a summary reads: the target week and the weeks it is compared with."""

    target: IsoWeek
    weeks: tuple[IsoWeek, ...]  # oldest first; the target is last

    @classmethod
    def ending(cls, target: IsoWeek, weeks_before: int = 4) -> Window:
        return cls(target, tuple(target.shift(-n) for n in range(weeks_before, -1, -1)))

    @property
    def first(self) -> IsoWeek:
        return self.weeks[0]

    def week_of(self, day: date) -> IsoWeek | None:
        """The window's week holding `day`, or None outside the window."""
        if not self.first.monday <= day <= self.target.sunday:
            return None
        return IsoWeek.of(day)


def local_date(value: object, tz: tzinfo) -> date:
    """The org-calendar date of an Airtable date value; DateProblem says why there is none.

    Accepts `YYYY-MM-DD` (a calendar date), ISO timestamps with an offset or `Z`
    (converted to `tz`), timestamps without one (read as the org's local time) and
    US `M/D/YYYY` as typed into a text field.
    """
    if value is None or (isinstance(value, str) and not value.strip()):
        raise DateProblem("missing")
    if isinstance(value, datetime):
        return _aware(value, tz).astimezone(tz).date()
    if isinstance(value, date):
        return value
    if not isinstance(value, str):
        raise DateProblem("impossible")
    text = value.strip()
    try:
        if match := _ISO_DATE.match(text):
            return date(int(match.group(1)), int(match.group(2)), int(match.group(3)))
        if match := _US_DATE.match(text):
            return date(int(match.group(3)), int(match.group(1)), int(match.group(2)))
        if _ISO_STAMP.match(text):
            stamp = datetime.fromisoformat(text.replace("Z", "+00:00").replace("z", "+00:00"))
            return _aware(stamp, tz).astimezone(tz).date()
    except ValueError:
        raise DateProblem("impossible") from None
    raise DateProblem("impossible")


def _aware(moment: datetime, tz: tzinfo) -> datetime:
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=tz)


def local_datetime(value: datetime | None, tz: tzinfo) -> datetime | None:
    """A ledger time (UTC; naive ones are UTC too) in the org's zone."""
    if value is None:
        return None
    aware = value if value.tzinfo is not None else value.replace(tzinfo=UTC)
    return aware.astimezone(tz)


__all__ = [
    "DateProblem",
    "IsoWeek",
    "WeekError",
    "Window",
    "is_complete",
    "last_complete_week",
    "local_date",
    "local_datetime",
    "local_midnight",
    "resolve_week",
    "weeks_in_year",
]
