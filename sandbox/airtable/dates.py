"""Date and time helpers of the Airtable emulator: ISO stamps, moment.js formats, calendar units.

Airtable formulas take moment.js format tokens (`DATETIME_PARSE('5/1/2024', 'M/D/YYYY')`)
and unit names (`'days'`, `'d'`, `'M'` for months, `'m'` for minutes); everything
here works in UTC, as the API does when no `timeZone` is given.
"""

from __future__ import annotations

import functools
import re
from datetime import UTC, date, datetime, timedelta

from dateutil import parser as dateutil_parser
from dateutil.relativedelta import relativedelta

MONTHS = [
    "january",
    "february",
    "march",
    "april",
    "may",
    "june",
    "july",
    "august",
    "september",
    "october",
    "november",
    "december",
]
WEEKDAYS = ["sunday", "monday", "tuesday", "wednesday", "thursday", "friday", "saturday"]

_UNIT_ALIASES = {
    "ms": "milliseconds",
    "millisecond": "milliseconds",
    "milliseconds": "milliseconds",
    "s": "seconds",
    "second": "seconds",
    "seconds": "seconds",
    "m": "minutes",
    "minute": "minutes",
    "minutes": "minutes",
    "h": "hours",
    "hour": "hours",
    "hours": "hours",
    "d": "days",
    "day": "days",
    "days": "days",
    "w": "weeks",
    "week": "weeks",
    "weeks": "weeks",
    "M": "months",
    "month": "months",
    "months": "months",
    "Q": "quarters",
    "quarter": "quarters",
    "quarters": "quarters",
    "y": "years",
    "year": "years",
    "years": "years",
}
_FIXED_UNITS = {
    "milliseconds": timedelta(milliseconds=1),
    "seconds": timedelta(seconds=1),
    "minutes": timedelta(minutes=1),
    "hours": timedelta(hours=1),
    "days": timedelta(days=1),
    "weeks": timedelta(weeks=1),
}
_MONTHS_PER_UNIT = {"months": 1, "quarters": 3, "years": 12}


_HAS_YEAR = re.compile(r"\d{4}|\d{1,2}[/.-]\d{1,2}[/.-]\d{2}")
# Missing day, month and time become the 1st, January and midnight rather than today's.
_DEFAULT_PARTS = datetime(2000, 1, 1)


def iso_ms(moment: datetime) -> str:
    """The API's timestamp form: UTC, milliseconds, `Z`."""
    moment = moment.astimezone(UTC)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


def as_utc(moment: datetime) -> datetime:
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


def from_date(day: date) -> datetime:
    return datetime(day.year, day.month, day.day, tzinfo=UTC)


def parse_iso(text: str) -> datetime | None:
    """A strict ISO 8601 date or date-time (naive means UTC), or None."""
    try:
        if len(text) == 10:
            return from_date(date.fromisoformat(text))
        return as_utc(datetime.fromisoformat(text))
    except ValueError:
        return None


@functools.lru_cache(maxsize=4096)
def parse_loose(text: str) -> datetime | None:
    """ISO first, then the many forms people type ('May 1, 2024', '5/1/2024 3pm'), or None."""
    text = text.strip()
    if not text:
        return None
    found = parse_iso(text)
    if found is not None:
        return found
    # dateutil reads "5" as the 5th of this month; insist on a year, as a person writing a date would.
    if not _HAS_YEAR.search(text):
        return None
    try:
        return as_utc(dateutil_parser.parse(text, default=_DEFAULT_PARTS))
    except (ValueError, OverflowError):
        return None


def normalize_unit(unit: str) -> str | None:
    """The canonical unit name for an Airtable/moment unit, or None if unknown."""
    if unit in _UNIT_ALIASES:  # single letters are case-sensitive: 'm' minutes, 'M' months
        return _UNIT_ALIASES[unit]
    return _UNIT_ALIASES.get(unit.strip().lower()) if len(unit.strip()) > 1 else None


def add(moment: datetime, count: float, unit: str) -> datetime:
    if unit in _MONTHS_PER_UNIT:
        return moment + relativedelta(months=int(count) * _MONTHS_PER_UNIT[unit])
    return moment + _FIXED_UNITS[unit] * count


def diff(later: datetime, earlier: datetime, unit: str) -> int:
    """`later - earlier` in whole units, truncated toward zero (moment's `diff`)."""
    if unit in _MONTHS_PER_UNIT:
        delta = relativedelta(later, earlier)
        months = delta.years * 12 + delta.months
        return int(months / _MONTHS_PER_UNIT[unit])
    span = later - earlier
    whole, _ = divmod(abs(span), _FIXED_UNITS[unit])
    return int(whole) if span >= timedelta(0) else -int(whole)


def start_of(moment: datetime, unit: str) -> datetime:
    """The start of the unit containing `moment` (weeks start on Sunday, as in moment)."""
    if unit == "milliseconds":
        return moment.replace(microsecond=moment.microsecond // 1000 * 1000)
    if unit == "seconds":
        return moment.replace(microsecond=0)
    if unit == "minutes":
        return moment.replace(second=0, microsecond=0)
    if unit == "hours":
        return moment.replace(minute=0, second=0, microsecond=0)
    day = moment.replace(hour=0, minute=0, second=0, microsecond=0)
    if unit == "days":
        return day
    if unit == "weeks":
        return day - timedelta(days=(day.weekday() + 1) % 7)
    if unit == "months":
        return day.replace(day=1)
    if unit == "quarters":
        return day.replace(month=(day.month - 1) // 3 * 3 + 1, day=1)
    return day.replace(month=1, day=1)


# ------------------------------------------------------------------ moment.js formats
_TOKEN = re.compile(
    r"\[[^\]]*\]|YYYY|YY|Q|MMMM|MMM|MM|M|Do|DD|D|dddd|ddd|dd|d|HH|H|hh|h|mm|m|ss|s"
    r"|SSS|SS|S|A|a|X|x|ZZ|Z|.",
    re.DOTALL,
)
_MONTH_NAMES = "|".join(sorted(MONTHS + [m[:3] for m in MONTHS], key=len, reverse=True))
_DAY_NAMES = "|".join(
    sorted(WEEKDAYS + [d[:3] for d in WEEKDAYS] + [d[:2] for d in WEEKDAYS], key=len, reverse=True)
)
_PARSE_PATTERNS = {
    "YYYY": ("year", r"\d{4}"),
    "YY": ("year2", r"\d{2}"),
    "Q": ("quarter", r"[1-4]"),
    "MMMM": ("month_name", _MONTH_NAMES),
    "MMM": ("month_name", _MONTH_NAMES),
    "MM": ("month", r"\d{1,2}"),
    "M": ("month", r"\d{1,2}"),
    "Do": ("day", r"\d{1,2}(?=st|nd|rd|th)"),
    "DD": ("day", r"\d{1,2}"),
    "D": ("day", r"\d{1,2}"),
    "dddd": (None, _DAY_NAMES),
    "ddd": (None, _DAY_NAMES),
    "dd": (None, _DAY_NAMES),
    "d": (None, r"[0-6]"),
    "HH": ("hour", r"\d{1,2}"),
    "H": ("hour", r"\d{1,2}"),
    "hh": ("hour12", r"\d{1,2}"),
    "h": ("hour12", r"\d{1,2}"),
    "mm": ("minute", r"\d{1,2}"),
    "m": ("minute", r"\d{1,2}"),
    "ss": ("second", r"\d{1,2}"),
    "s": ("second", r"\d{1,2}"),
    "SSS": ("fraction", r"\d{1,3}"),
    "SS": ("fraction", r"\d{1,2}"),
    "S": ("fraction", r"\d"),
    "A": ("meridiem", r"[AaPp]\.?[Mm]\.?"),
    "a": ("meridiem", r"[AaPp]\.?[Mm]\.?"),
    "X": ("unix", r"-?\d+(?:\.\d+)?"),
    "x": ("unix_ms", r"-?\d+"),
    "ZZ": ("offset", r"Z|[+-]\d{2}:?\d{2}"),
    "Z": ("offset", r"Z|[+-]\d{2}:?\d{2}"),
}
_format_cache: dict[str, tuple[re.Pattern[str], list[str | None]]] = {}


def _compile_format(fmt: str) -> tuple[re.Pattern[str], list[str | None]]:
    cached = _format_cache.get(fmt)
    if cached:
        return cached
    parts: list[str] = []
    names: list[str | None] = []
    for token in _TOKEN.findall(fmt):
        if token in _PARSE_PATTERNS:
            name, pattern = _PARSE_PATTERNS[token]
            parts.append(f"({pattern})" if name else f"(?:{pattern})")
            if name:
                names.append(name)
            if token == "Do":
                parts.append(r"(?:st|nd|rd|th)")
        elif token.startswith("["):
            parts.append(re.escape(token[1:-1]))
        elif token.isspace():
            parts.append(r"\s*")
        else:
            parts.append(re.escape(token))
    compiled = (re.compile(r"\s*" + "".join(parts), re.IGNORECASE), names)
    if len(_format_cache) < 256:
        _format_cache[fmt] = compiled
    return compiled


def parse_with_format(text: str, fmt: str) -> datetime | None:
    """Parse `text` by a moment.js format (non-strict: trailing text is ignored), or None."""
    pattern, names = _compile_format(fmt)
    found = pattern.match(text)
    if not found:
        return None
    values = dict(zip(names, found.groups(), strict=True))
    try:
        return _assemble(values)
    except (ValueError, OverflowError):
        return None


def _assemble(values: dict[str | None, str]) -> datetime:
    if "unix" in values:
        return datetime.fromtimestamp(float(values["unix"]), UTC)
    if "unix_ms" in values:
        return datetime.fromtimestamp(int(values["unix_ms"]) / 1000, UTC)
    year = int(values["year"]) if "year" in values else None
    if year is None and "year2" in values:
        short = int(values["year2"])
        year = 2000 + short if short <= 68 else 1900 + short
    month = int(values.get("month", 0)) or None
    if "month_name" in values:
        month = _month_from_name(values["month_name"])
    if month is None and "quarter" in values:
        month = (int(values["quarter"]) - 1) * 3 + 1
    hour = int(values.get("hour", 0))
    if "hour12" in values:
        hour = int(values["hour12"]) % 12
        if values.get("meridiem", "a").lower().startswith("p"):
            hour += 12
    elif values.get("meridiem", "").lower().startswith("p") and hour < 12:
        hour += 12
    fraction = values.get("fraction", "0")
    moment = datetime(
        year or 1970,
        month or 1,
        int(values.get("day", 1)),
        hour,
        int(values.get("minute", 0)),
        int(values.get("second", 0)),
        int(fraction.ljust(3, "0")[:3]) * 1000,
        tzinfo=UTC,
    )
    offset = values.get("offset")
    if offset and offset.upper() != "Z":
        sign = 1 if offset[0] == "+" else -1
        digits = offset[1:].replace(":", "")
        moment -= sign * timedelta(hours=int(digits[:2]), minutes=int(digits[2:]))
    return moment


def _month_from_name(name: str) -> int:
    name = name.lower()
    for index, month in enumerate(MONTHS, start=1):
        if month.startswith(name[:3]):
            return index
    raise ValueError(name)


def format_moment(moment: datetime, fmt: str) -> str:
    """Format a UTC datetime by moment.js tokens."""
    return "".join(_format_token(moment, token) for token in _TOKEN.findall(fmt))


def _format_token(moment: datetime, token: str) -> str:
    hour12 = moment.hour % 12 or 12
    simple = {
        "YYYY": f"{moment.year:04d}",
        "YY": f"{moment.year % 100:02d}",
        "Q": str((moment.month - 1) // 3 + 1),
        "MMMM": MONTHS[moment.month - 1].capitalize(),
        "MMM": MONTHS[moment.month - 1][:3].capitalize(),
        "MM": f"{moment.month:02d}",
        "M": str(moment.month),
        "Do": f"{moment.day}{_ordinal_suffix(moment.day)}",
        "DD": f"{moment.day:02d}",
        "D": str(moment.day),
        "dddd": WEEKDAYS[(moment.weekday() + 1) % 7].capitalize(),
        "ddd": WEEKDAYS[(moment.weekday() + 1) % 7][:3].capitalize(),
        "dd": WEEKDAYS[(moment.weekday() + 1) % 7][:2].capitalize(),
        "d": str((moment.weekday() + 1) % 7),
        "HH": f"{moment.hour:02d}",
        "H": str(moment.hour),
        "hh": f"{hour12:02d}",
        "h": str(hour12),
        "mm": f"{moment.minute:02d}",
        "m": str(moment.minute),
        "ss": f"{moment.second:02d}",
        "s": str(moment.second),
        "SSS": f"{moment.microsecond // 1000:03d}",
        "SS": f"{moment.microsecond // 10000:02d}",
        "S": str(moment.microsecond // 100000),
        "A": "PM" if moment.hour >= 12 else "AM",
        "a": "pm" if moment.hour >= 12 else "am",
        "X": str(int(moment.timestamp())),
        "x": str(int(moment.timestamp() * 1000)),
        "ZZ": "+0000",
        "Z": "+00:00",
    }
    if token in simple:
        return simple[token]
    if token.startswith("[") and token.endswith("]"):
        return token[1:-1]
    return token


def _ordinal_suffix(day: int) -> str:
    if 11 <= day % 100 <= 13:
        return "th"
    return {1: "st", 2: "nd", 3: "rd"}.get(day % 10, "th")
