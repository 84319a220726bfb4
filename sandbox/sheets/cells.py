"""Cell values, pure: how RAW and USER_ENTERED input is stored and how each render option shows it.

A stored cell is one of: `None` (empty), `str` (text), `int`/`float` (number),
`bool`, `Number` (a number typed with a format, e.g. "$100" or "12%"), or
`Formula` (text that began with "=" under USER_ENTERED). Plain Python values
keep a 10,000-row sheet cheap to store and read.

Not implemented: a spreadsheet formula engine. A formula made only of numbers,
arithmetic and parentheses is computed; any other formula shows "#NAME?" as its
value (its text is kept, so `valueRenderOption=FORMULA` gives it back).
Arithmetic follows Sheets' grammar: whitespace around every token, `%`, unary
minus before `^`. Dates, times and date-times typed under USER_ENTERED are
serial numbers shown with the text as typed (no number formats are applied);
locales other than en_US are not modelled.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from datetime import date
from typing import Any

MAX_CELL_CHARS = 50_000
PLACEHOLDER_ERROR = "#NAME?"


@dataclass(frozen=True, slots=True)
class Formula:
    """A formula as typed (with its leading "="); `value` is what the sandbox computed for it."""

    text: str
    value: Any


@dataclass(frozen=True, slots=True)
class Number:
    """A number typed with a display format ("$100" shows "$100.00", "12%" shows "12%")."""

    value: int | float
    text: str
    date: bool = False  # a date, time or date-time: its value is a serial number of days


_NUMBER = re.compile(
    r"^(?P<sign>[-+]?)(?P<cur>\$?)(?P<sign2>[-+]?)"
    r"(?P<int>\d{1,3}(?:,\d{3})+|\d*)(?P<frac>\.\d*)?(?P<exp>[eE][-+]?\d+)?(?P<pct>%?)$"
)
_ISO_DATE = re.compile(r"^(\d{4})-(\d{1,2})-(\d{1,2})$")
_US_DATE = re.compile(r"^(\d{1,2})/(\d{1,2})/(\d{4})$")
_TIME = re.compile(r"^(\d{1,2}):(\d{2})(?::(\d{2}))?(?:\s*([AaPp][Mm]))?$")
_EPOCH = date(1899, 12, 30)


def store_raw(value: Any) -> Any:
    """RAW input: strings are kept exactly as sent; JSON numbers and booleans stay typed."""
    if value is None or value == "":
        return None
    if isinstance(value, bool | int | float):
        return value
    return str(value)


def store_user_entered(value: Any) -> Any:
    """USER_ENTERED input: parse the text as if a person typed it into the cell."""
    if not isinstance(value, str):
        return store_raw(value)
    if value == "":
        return None
    if value.startswith("'"):
        return value[1:] or None  # a leading apostrophe forces text and is not shown
    if value.startswith("=") and len(value) > 1:
        return Formula(value, evaluate(value[1:]))
    upper = value.strip().upper()
    if upper in {"TRUE", "FALSE"}:
        return upper == "TRUE"
    parsed = parse_number(value.strip())
    if parsed is not None:
        return parsed
    return parse_date(value.strip()) or value


def parse_number(text: str) -> int | float | Number | None:
    """ "1,200" -> 1200, "$100" -> Number(100, "$100.00"), "12%" -> Number(0.12, "12%")."""
    match = _NUMBER.match(text)
    if not match or not (match["int"] or (match["frac"] and len(match["frac"]) > 1)):
        return None
    if match["sign"] and match["sign2"]:
        return None
    negative = "-" in (match["sign"], match["sign2"])
    digits = match["int"].replace(",", "")
    literal = (digits or "0") + (match["frac"] or "") + (match["exp"] or "")
    number: int | float = float(literal) if match["frac"] or match["exp"] else int(literal)
    if negative:
        number = -number
    if match["pct"]:
        return Number(_tidy(number / 100), text)
    if match["cur"]:
        return Number(number, _currency_text(number))
    if "," in match["int"]:
        return Number(number, text.lstrip("+"))
    return number


def parse_date(text: str) -> Number | None:
    """Dates (2024-01-31, 1/31/2024), times (9:30, 9:30:15 PM) and both, as serial numbers shown as typed."""
    moment = _parse_time(text)
    if moment is not None:
        return Number(_tidy(moment), text, date=True)
    day = _parse_day(text)
    if day is not None:
        return Number(day, text, date=True)
    day_part, _, time_part = text.partition(" ")
    day, moment = _parse_day(day_part), _parse_time(time_part.strip())
    if day is None or moment is None:
        return None
    return Number(_tidy(day + moment), text, date=True)


def _parse_time(text: str) -> float | None:
    """A time of day as a fraction of a day, or None."""
    match = _TIME.match(text)
    if not match:
        return None
    hours, minutes, seconds = int(match[1]), int(match[2]), int(match[3] or 0)
    if match[4]:
        if not 1 <= hours <= 12:
            return None
        hours = hours % 12 + (12 if match[4].upper() == "PM" else 0)
    if hours > 23 or minutes > 59 or seconds > 59:
        return None
    return (hours * 3600 + minutes * 60 + seconds) / 86400


def _parse_day(text: str) -> int | None:
    """A date as its serial number (days since 1899-12-30), or None."""
    iso = _ISO_DATE.match(text)
    us = _US_DATE.match(text)
    try:
        if iso:
            day = date(int(iso[1]), int(iso[2]), int(iso[3]))
        elif us:
            day = date(int(us[3]), int(us[1]), int(us[2]))
        else:
            return None
    except ValueError:
        return None
    return (day - _EPOCH).days


def _currency_text(number: int | float) -> str:
    sign = "-" if number < 0 else ""
    return f"{sign}${abs(number):,.2f}"


def _tidy(number: float) -> int | float:
    """Round away binary noise at Sheets' 15 significant digits (0.1+0.2 is 0.3)."""
    rounded = float(f"{number:.15g}")
    return int(rounded) if float(rounded).is_integer() else rounded


# ------------------------------------------------------------------ rendering
def formatted(cell: Any) -> str:
    """FORMATTED_VALUE: what a person sees in the cell."""
    if cell is None:
        return ""
    if isinstance(cell, str):
        return cell
    if isinstance(cell, bool):
        return "TRUE" if cell else "FALSE"
    if isinstance(cell, int | float):
        return format_number(cell)
    if isinstance(cell, Number):
        return cell.text
    return formatted(cell.value)


def unformatted(cell: Any) -> Any:
    """UNFORMATTED_VALUE: numbers as numbers, booleans as booleans, formulas as their result."""
    if cell is None:
        return ""
    if isinstance(cell, Number):
        return cell.value
    if isinstance(cell, Formula):
        return unformatted(cell.value)
    if isinstance(cell, float) and cell.is_integer():
        return int(cell)
    return cell


def formula(cell: Any) -> Any:
    """FORMULA: formulas as typed, everything else unformatted."""
    if isinstance(cell, Formula):
        return cell.text
    return unformatted(cell)


RENDERERS = {
    "FORMATTED_VALUE": formatted,
    "UNFORMATTED_VALUE": unformatted,
    "FORMULA": formula,
}
DATE_TIME_RENDER_OPTIONS = {"SERIAL_NUMBER", "FORMATTED_STRING"}


def is_date(cell: Any) -> bool:
    return isinstance(cell, Number) and cell.date


def dates_as_strings(renderer: Any) -> Any:
    """dateTimeRenderOption=FORMATTED_STRING: dates and times as shown, everything else as `renderer`."""

    def render(cell: Any) -> Any:
        return cell.text if is_date(cell) else renderer(cell)

    return render


def format_number(value: int | float) -> str:
    """A number in the sheet's automatic format: no trailing ".0", at most 15 significant digits."""
    if isinstance(value, int):
        return str(value)
    if math.isnan(value) or math.isinf(value):
        return "#NUM!"
    if value.is_integer() and abs(value) < 1e15:
        return str(int(value))
    text = f"{value:.15g}"
    if "e" in text:
        mantissa, exponent = text.split("e")
        return f"{mantissa}E{'+' if int(exponent) >= 0 else '-'}{abs(int(exponent)):02d}"
    return text


def is_formula(cell: Any) -> bool:
    return isinstance(cell, Formula)


# ------------------------------------------------------------------ API cell data
def extended_value(cell: Any) -> dict[str, Any] | None:
    """The API's ExtendedValue for a stored cell (for includeGridData)."""
    if cell is None:
        return None
    if isinstance(cell, Formula):
        return {"formulaValue": cell.text}
    value = unformatted(cell)
    if isinstance(value, bool):
        return {"boolValue": value}
    if isinstance(value, int | float):
        return {"numberValue": value}
    return {"stringValue": value}


def effective_value(cell: Any) -> dict[str, Any] | None:
    if cell is None:
        return None
    if isinstance(cell, Formula):
        if isinstance(cell.value, str) and cell.value.startswith("#"):
            return {"errorValue": {"type": "NAME", "message": "Unknown function or reference."}}
        return extended_value(cell.value)
    return extended_value(cell)


def from_extended_value(value: dict[str, Any]) -> Any:
    """An ExtendedValue from updateCells/repeatCell back to a stored cell."""
    if "formulaValue" in value:
        return store_user_entered(str(value["formulaValue"]))
    if "numberValue" in value:
        return value["numberValue"]
    if "boolValue" in value:
        return bool(value["boolValue"])
    if "stringValue" in value:
        return store_raw(value["stringValue"])
    return None


# ------------------------------------------------------------------ formulas
# Sheets allows whitespace (spaces, tabs, the newlines Ctrl+Enter types) before and after
# every token, and after the "=": "= 1 / 1024" is a formula worth 0.0009765625.
_TOKEN = re.compile(r"\s*(?:(\d+\.?\d*(?:[eE][-+]?\d+)?|\.\d+(?:[eE][-+]?\d+)?)|([-+*/^()%]))")
_ARITHMETIC_ONLY = re.compile(r"[0-9.eE+\-*/^()%\s]+")


class _FormulaError(ValueError):
    """The formula does not parse (Sheets shows #ERROR!)."""


Node = int | float | tuple[Any, ...]


def evaluate(expression: str) -> Any:
    """Compute a formula of numbers, + - * / ^ %, parentheses and whitespace; else "#NAME?".

    Precedence as in Sheets: unary minus binds tighter than ^ (=-2^2 is 4), ^ is
    left-associative (=2^3^2 is 64), then * and /, then + and -. The whole formula is
    parsed before anything is computed, so a parse error wins over a division by zero.
    """
    if len(expression) > 200 or not _ARITHMETIC_ONLY.fullmatch(expression):
        return PLACEHOLDER_ERROR
    try:
        tree = _Parser(_tokenize(expression)).parse()
    except _FormulaError:
        return "#ERROR!"
    try:
        result = _compute(tree)
    except ZeroDivisionError:
        return "#DIV/0!"
    except (OverflowError, ValueError):
        return "#NUM!"
    return _tidy(result) if isinstance(result, float) else result


def _compute(node: Node) -> int | float:
    if not isinstance(node, tuple):
        return node
    op, *args = node
    values = [_compute(a) for a in args]
    if op == "neg":
        return -values[0]
    if op == "%":
        return values[0] / 100
    left, right = values
    if op == "+":
        return left + right
    if op == "-":
        return left - right
    if op == "*":
        return left * right
    if op == "/":
        return left / right
    if abs(right) > 1000:
        raise OverflowError
    result = left**right
    if isinstance(result, complex):
        raise ValueError("a fractional power of a negative number")
    return result


class _Parser:
    """A recursive-descent parser over the formula's tokens, building a small tree."""

    def __init__(self, tokens: list[str]) -> None:
        self.tokens = tokens
        self.pos = 0

    def parse(self) -> Node:
        tree = self._sum()
        if self.pos != len(self.tokens):
            raise _FormulaError("unexpected token")
        return tree

    def _peek(self) -> str | None:
        return self.tokens[self.pos] if self.pos < len(self.tokens) else None

    def _take(self) -> str:
        token = self._peek()
        if token is None:
            raise _FormulaError("unexpected end")
        self.pos += 1
        return token

    def _binary(self, ops: set[str], operand: Any) -> Node:
        tree = operand()
        while self._peek() in ops:
            tree = (self._take(), tree, operand())
        return tree

    def _sum(self) -> Node:
        return self._binary({"+", "-"}, self._product)

    def _product(self) -> Node:
        return self._binary({"*", "/"}, self._power)

    def _power(self) -> Node:
        return self._binary({"^"}, self._unary)

    def _unary(self) -> Node:
        if self._peek() in {"+", "-"}:
            negative = self._take() == "-"
            operand = self._unary()
            return ("neg", operand) if negative else operand
        return self._percent()

    def _percent(self) -> Node:
        tree = self._atom()
        while self._peek() == "%":
            self._take()
            tree = ("%", tree)
        return tree

    def _atom(self) -> Node:
        token = self._take()
        if token == "(":
            tree = self._sum()
            if self._take() != ")":
                raise _FormulaError("unbalanced parenthesis")
            return tree
        if token[0].isdigit() or token[0] == ".":
            return float(token) if any(c in token for c in ".eE") else int(token)
        raise _FormulaError(f"unexpected {token!r}")


def _tokenize(text: str) -> list[str]:
    tokens: list[str] = []
    pos = 0
    while pos < len(text):
        if text[pos:].isspace():
            break
        match = _TOKEN.match(text, pos)
        if match is None:
            raise _FormulaError("unexpected character")
        tokens.append(match[1] or match[2])
        pos = match.end()
    return tokens


# ------------------------------------------------------------------ persistence
def to_json(cell: Any) -> Any:
    """A stored cell as plain JSON (formulas and formatted numbers become small objects)."""
    if isinstance(cell, Formula):
        return {"f": cell.text}
    if isinstance(cell, Number):
        return {"n": cell.value, "t": cell.text, **({"d": True} if cell.date else {})}
    return cell


def from_json(data: Any) -> Any:
    if isinstance(data, dict):
        if "f" in data:
            return Formula(data["f"], evaluate(data["f"][1:]))
        return Number(data["n"], data["t"], bool(data.get("d")))
    return data
