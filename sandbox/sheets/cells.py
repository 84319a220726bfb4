"""Cell values, pure: how RAW and USER_ENTERED input is stored and how each render option shows it.

A stored cell is one of: `None` (empty), `str` (text), `int`/`float` (number),
`bool`, `Number` (a number typed with a format, e.g. "$100" or "12%"), or
`Formula` (text that began with "=" under USER_ENTERED). Plain Python values
keep a 10,000-row sheet cheap to store and read.

Not implemented: a spreadsheet formula engine. A formula made only of numbers,
arithmetic and parentheses is computed; any other formula shows "#NAME?" as its
value (its text is kept, so `valueRenderOption=FORMULA` gives it back). Dates
typed under USER_ENTERED are kept with the text as typed; locales other than
en_US are not modelled.
"""

from __future__ import annotations

import ast
import math
import operator
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


_NUMBER = re.compile(
    r"^(?P<sign>[-+]?)(?P<cur>\$?)(?P<sign2>[-+]?)"
    r"(?P<int>\d{1,3}(?:,\d{3})+|\d*)(?P<frac>\.\d*)?(?P<exp>[eE][-+]?\d+)?(?P<pct>%?)$"
)
_ISO_DATE = re.compile(r"^(\d{4})-(\d{1,2})-(\d{1,2})$")
_US_DATE = re.compile(r"^(\d{1,2})/(\d{1,2})/(\d{4})$")
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
    """ISO (2024-01-31) and US (1/31/2024) dates become serial numbers shown as typed."""
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
    return Number((day - _EPOCH).days, text)


def _currency_text(number: int | float) -> str:
    sign = "-" if number < 0 else ""
    return f"{sign}${abs(number):,.2f}"


def _tidy(number: float) -> int | float:
    rounded = round(number, 12)
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
_BINOPS = {
    ast.Add: operator.add,
    ast.Sub: operator.sub,
    ast.Mult: operator.mul,
    ast.Div: operator.truediv,
    ast.Pow: operator.pow,
}


def evaluate(expression: str) -> Any:
    """Compute a formula made only of numbers, + - * / ^ and parentheses; else "#NAME?"."""
    if len(expression) > 200 or not re.fullmatch(r"[0-9.+\-*/^()\s]+", expression):
        return PLACEHOLDER_ERROR
    try:
        tree = ast.parse(expression.replace("^", "**"), mode="eval")
        result = _eval_node(tree.body)
    except ZeroDivisionError:
        return "#DIV/0!"
    except (SyntaxError, ValueError, OverflowError, TypeError):
        return "#ERROR!"
    return _tidy(result) if isinstance(result, float) else result


def _eval_node(node: ast.AST) -> int | float:
    if isinstance(node, ast.Constant) and isinstance(node.value, int | float):
        return node.value
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub | ast.UAdd):
        value = _eval_node(node.operand)
        return -value if isinstance(node.op, ast.USub) else value
    if isinstance(node, ast.BinOp) and type(node.op) in _BINOPS:
        left, right = _eval_node(node.left), _eval_node(node.right)
        if isinstance(node.op, ast.Pow) and abs(right) > 1000:
            raise OverflowError
        return _BINOPS[type(node.op)](left, right)
    raise ValueError("unsupported formula")


# ------------------------------------------------------------------ persistence
def to_json(cell: Any) -> Any:
    """A stored cell as plain JSON (formulas and formatted numbers become small objects)."""
    if isinstance(cell, Formula):
        return {"f": cell.text}
    if isinstance(cell, Number):
        return {"n": cell.value, "t": cell.text}
    return cell


def from_json(data: Any) -> Any:
    if isinstance(data, dict):
        if "f" in data:
            return Formula(data["f"], evaluate(data["f"][1:]))
        return Number(data["n"], data["t"])
    return data
