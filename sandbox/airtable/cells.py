"""Field types of the Airtable emulator: default options, write validation and typecast, read forms.

Pure functions of values; select options and record links, which change state
(typecast creates options and linked records), are finished in `models.py`.
Supported types: singleLineText, multilineText, email, phoneNumber, url, number,
currency, checkbox, singleSelect, multipleSelects, date, dateTime, multipleRecordLinks.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from sandbox.airtable import dates
from sandbox.airtable.formula import number_text

TEXT_TYPES = frozenset({"singleLineText", "multilineText", "email", "phoneNumber", "url"})
NUMBER_TYPES = frozenset({"number", "currency"})
SELECT_TYPES = frozenset({"singleSelect", "multipleSelects"})
SUPPORTED_TYPES = (
    TEXT_TYPES
    | NUMBER_TYPES
    | SELECT_TYPES
    | {
        "checkbox",
        "date",
        "dateTime",
        "multipleRecordLinks",
    }
)
# Airtable refuses these as a table's first (primary) field.
NOT_PRIMARY = frozenset({"checkbox", "multipleRecordLinks", "multipleSelects", "singleSelect"})
CHOICE_COLORS = ["blueLight2", "cyanLight2", "tealLight2", "greenLight2", "yellowLight2",
                 "orangeLight2", "redLight2", "pinkLight2", "purpleLight2", "grayLight2"]  # fmt: skip
TRUE_WORDS = frozenset({"true", "1", "yes", "y", "checked", "on", "x", "✓", "✔"})
_NUMBER_NOISE = re.compile(r"[,\s$€£%]")


class CellError(ValueError):
    """A value the field's type cannot hold; the model names the field in the 422."""


def default_options(type_: str, options: dict[str, Any] | None) -> dict[str, Any] | None:
    """The field's options with Airtable's defaults filled in (choices get ids in the model)."""
    given = dict(options or {})
    if type_ == "number":
        return {"precision": int(given.get("precision", 0))}
    if type_ == "currency":
        return {
            "precision": int(given.get("precision", 2)),
            "symbol": str(given.get("symbol", "$")),
        }
    if type_ == "checkbox":
        return {"color": given.get("color", "greenBright"), "icon": given.get("icon", "check")}
    if type_ in SELECT_TYPES:
        return {"choices": list(given.get("choices", []))}
    if type_ == "date":
        return {"dateFormat": given.get("dateFormat", {"name": "iso", "format": "YYYY-MM-DD"})}
    if type_ == "dateTime":
        return {
            "timeZone": given.get("timeZone", "utc"),
            "dateFormat": given.get("dateFormat", {"name": "iso", "format": "YYYY-MM-DD"}),
            "timeFormat": given.get("timeFormat", {"name": "24hour", "format": "HH:mm"}),
        }
    if type_ == "multipleRecordLinks":
        return {
            "linkedTableId": given.get("linkedTableId"),
            "isReversed": bool(given.get("isReversed", False)),
            "prefersSingleRecordLink": bool(given.get("prefersSingleRecordLink", False)),
            "inverseLinkFieldId": given.get("inverseLinkFieldId"),
        }
    return None


def is_empty(value: Any) -> bool:
    """Airtable leaves "", [], false and null out of a record's fields."""
    return value is None or value is False or value == "" or value == []


# ------------------------------------------------------------------ writes
def text_value(value: Any, typecast: bool) -> str | None:
    if value is None or isinstance(value, str):
        return value
    if typecast and isinstance(value, (int, float)):
        return number_text(value)
    if typecast and isinstance(value, list) and all(isinstance(v, str) for v in value):
        return ", ".join(value)
    raise CellError("expected text")


def number_value(value: Any, typecast: bool) -> float | int | None:
    if value is None:
        return None
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        number = value
    elif typecast and isinstance(value, bool):
        number = int(value)
    elif typecast and isinstance(value, str):
        cleaned = _NUMBER_NOISE.sub("", value)
        if not cleaned:
            return None
        try:
            number = float(cleaned)
        except ValueError:
            raise CellError(f"cannot read {value!r} as a number") from None
    else:
        raise CellError("expected a number")
    if isinstance(number, float):
        if not math.isfinite(number):
            raise CellError("expected a finite number")
        if number.is_integer() and abs(number) < 2**53:
            return int(number)
    return number


def checkbox_value(value: Any, typecast: bool) -> bool | None:
    if value is None or isinstance(value, bool):
        return value
    if typecast and isinstance(value, str):
        return value.strip().lower() in TRUE_WORDS
    if typecast and isinstance(value, (int, float)):
        return value != 0
    raise CellError("expected true or false")


def date_value(value: Any, typecast: bool) -> str | None:
    """A date field stores `YYYY-MM-DD`; a full ISO time is cut to its UTC date."""
    if value is None or value == "":
        return None
    if not isinstance(value, str):
        raise CellError("expected an ISO 8601 date")
    parsed = dates.parse_loose(value) if typecast else dates.parse_iso(value)
    if parsed is None:
        raise CellError(f"cannot read {value!r} as a date")
    return parsed.date().isoformat()


def datetime_value(value: Any, typecast: bool) -> str | None:
    """A dateTime field stores UTC with milliseconds: `2024-05-01T13:00:00.000Z`."""
    if value is None or value == "":
        return None
    if not isinstance(value, str):
        raise CellError("expected an ISO 8601 date-time")
    parsed = dates.parse_loose(value) if typecast else dates.parse_iso(value)
    if parsed is None:
        raise CellError(f"cannot read {value!r} as a date-time")
    return dates.iso_ms(parsed)


def select_names(value: Any, typecast: bool, multiple: bool) -> list[str]:
    """The option names a write asks for (typecast splits "a, b" for multiple selects)."""
    if value is None:
        return []
    if multiple:
        if typecast and isinstance(value, str):
            return [part.strip() for part in value.split(",") if part.strip()]
        if not isinstance(value, list):
            raise CellError("expected an array of option names")
        items = value
    else:
        items = [value]
    names: list[str] = []
    for item in items:
        if not isinstance(item, str):
            if not typecast or not isinstance(item, (int, float)):
                raise CellError("expected option names")
            item = number_text(item)
        if item and item not in names:
            names.append(item)
    return names


def link_refs(value: Any, typecast: bool) -> list[str]:
    """The record ids (or, with typecast, primary-field values) a link write asks for."""
    if value is None:
        return []
    if typecast and isinstance(value, str):
        value = [value]
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise CellError("expected an array of record IDs")
    refs: list[str] = []
    for item in value:
        if item not in refs:
            refs.append(item)
    return refs


def scalar_value(type_: str, value: Any, typecast: bool) -> Any:
    """Validate and normalise a write to a non-select, non-link field."""
    if type_ in TEXT_TYPES:
        return text_value(value, typecast)
    if type_ in NUMBER_TYPES:
        return number_value(value, typecast)
    if type_ == "checkbox":
        return checkbox_value(value, typecast)
    if type_ == "date":
        return date_value(value, typecast)
    if type_ == "dateTime":
        return datetime_value(value, typecast)
    raise CellError(f"the sandbox cannot write fields of type {type_}")


# ------------------------------------------------------------------ reads
def formula_value(type_: str, raw: Any) -> Any:
    """A stored value as formulas see it (links are resolved to names in the model)."""
    if type_ == "checkbox":
        return raw is True
    if raw is None:
        return None
    if type_ == "multipleSelects":
        return ", ".join(raw)
    if type_ == "date":
        return dates.from_date(date.fromisoformat(raw))
    if type_ == "dateTime":
        return datetime.fromisoformat(raw)
    return raw


def sort_key(type_: str, raw: Any, choice_order: dict[str, int] | None = None) -> tuple:
    """Blanks first, then values in Airtable's order (selects by option order, text case-blind)."""
    if raw is None:
        return (0,)
    if type_ in NUMBER_TYPES or type_ in ("checkbox", "date", "dateTime"):
        return (1, raw)
    if type_ == "singleSelect":
        return (1, (choice_order or {}).get(raw, len(choice_order or {})), raw)
    if type_ == "multipleSelects":
        order = choice_order or {}
        return (1, tuple(order.get(name, len(order)) for name in raw))
    if isinstance(raw, list):
        return (1, ", ".join(raw).casefold())
    return (1, str(raw).casefold(), str(raw))


# What dateFormat "local" means in a few locales (moment.js's `l`); others read as ISO.
_LOCAL_DATE_FORMATS = {
    "en-us": "M/D/YYYY",
    "en-gb": "DD/MM/YYYY",
    "en-ca": "YYYY-MM-DD",
    "es": "D/M/YYYY",
    "fr": "DD/MM/YYYY",
    "de": "D.M.YYYY",
}


# moment.js's localized formats as English writes them ("friendly" dates are LL).
_LOCALIZED_TOKENS = {"LL": "MMMM D, YYYY", "L": "MM/DD/YYYY", "l": "M/D/YYYY", "ll": "MMM D, YYYY"}


@dataclass(frozen=True)
class Display:
    """How `cellFormat=string` shows dates: the caller's time zone and locale (both required)."""

    time_zone: str = "UTC"
    locale: str = "en-us"

    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.time_zone)


def display(time_zone: str, locale: str) -> Display:
    """A Display for these request parameters; ValueError for a time zone Airtable does not know."""
    if time_zone.lower() == "utc":
        time_zone = "UTC"
    try:
        ZoneInfo(time_zone)
    except (ZoneInfoNotFoundError, ValueError):
        raise ValueError(f"Invalid timeZone: {time_zone}") from None
    return Display(time_zone, locale.lower())


def _date_format(options: dict[str, Any] | None, shown: Display) -> str:
    spec = (options or {}).get("dateFormat") or {}
    if spec.get("name") == "local":
        language = shown.locale.split("-")[0]
        fallback = _LOCAL_DATE_FORMATS.get(language, "YYYY-MM-DD")
        return _LOCAL_DATE_FORMATS.get(shown.locale, fallback)
    fmt = str(spec.get("format") or "YYYY-MM-DD")
    return _LOCALIZED_TOKENS.get(fmt, fmt)


def _date_time_text(raw: str, options: dict[str, Any] | None, shown: Display) -> str:
    """A stored UTC instant as the grid shows it: in the field's time zone, or the caller's."""
    moment = datetime.fromisoformat(raw.replace("Z", "+00:00"))
    field_zone = str((options or {}).get("timeZone") or "utc")
    if field_zone == "client":
        zone: Any = shown.zone()
    elif field_zone == "utc":
        zone = UTC
    else:
        try:
            zone = ZoneInfo(field_zone)
        except (ZoneInfoNotFoundError, ValueError):
            zone = UTC
    local = moment.astimezone(zone).replace(tzinfo=None)
    time_format = str(((options or {}).get("timeFormat") or {}).get("format") or "HH:mm")
    day = dates.format_moment(local, _date_format(options, shown))
    return f"{day} {dates.format_moment(local, time_format)}"


def string_value(
    type_: str, raw: Any, options: dict[str, Any] | None, shown: Display | None = None
) -> str:
    """The value as `cellFormat=string` gives it: as the grid shows it (links resolved in the model)."""
    shown = shown or Display()
    if type_ == "checkbox":
        return "checked" if raw else ""
    if raw is None:
        return ""
    if type_ == "date":
        return dates.format_moment(datetime.fromisoformat(raw), _date_format(options, shown))
    if type_ == "dateTime":
        return _date_time_text(raw, options, shown)
    if type_ in NUMBER_TYPES:
        precision = int((options or {}).get("precision", 0))
        text = f"{raw:,.{precision}f}"
        return (options or {}).get("symbol", "") + text if type_ == "currency" else text
    if isinstance(raw, list):
        return ", ".join(raw)
    return str(raw)
