"""Airtable formulas for `filterByFormula`: a tokenizer, a Pratt parser and a compiler to closures.

Nothing is passed to `eval`. A formula is compiled once per request (field names
resolved, functions and arities checked) into nested Python closures, then run
once per record. Compile-time problems raise `FormulaSyntaxError` (the API's 422
INVALID_FILTER_BY_FORMULA); run-time problems (`DATETIME_PARSE('garbage')`, a
division by zero) raise `FormulaEvalError`, which drops the record, as Airtable's
#ERROR! does.

Values: None (blank), bool, int/float, str, datetime (UTC) and list.

Not implemented: the array functions (ARRAYJOIN, ARRAYUNIQUE, ...), lookups and
rollups, SET_TIMEZONE/SET_LOCALE, WORKDAY, locales in DATETIME_PARSE, RE2-only regex
syntax (Python's `re` runs REGEX_*), and `timeZone`: every date is UTC.
"""

from __future__ import annotations

import functools
import math
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from decimal import ROUND_HALF_UP, Decimal
from typing import Any, Protocol

from sandbox.airtable import dates


class FormulaSyntaxError(ValueError):
    """The formula cannot be compiled: bad syntax, unknown function or field, wrong arity."""


class FormulaEvalError(ValueError):
    """The formula failed for one record (Airtable shows #ERROR!); the record is left out."""


class RecordContext(Protocol):
    """What a compiled formula may ask about the record it runs on."""

    def field(self, key: Any) -> Any: ...

    def record_id(self) -> str: ...

    def created_time(self) -> datetime: ...

    def last_modified(self, keys: tuple[Any, ...]) -> datetime | None: ...

    def now(self) -> datetime: ...


Evaluator = Callable[[RecordContext], Any]


# ------------------------------------------------------------------ tokens
@dataclass(frozen=True, slots=True)
class Token:
    kind: str  # NUMBER STRING FIELD IDENT OP LPAREN RPAREN COMMA EOF
    value: Any
    pos: int


_OPERATORS = ("!=", ">=", "<=", "=", ">", "<", "+", "-", "*", "/", "&")
_NUMBER = re.compile(r"(?:[0-9]+\.?[0-9]*|\.[0-9]+)(?:[eE][+-]?[0-9]+)?")
_DIGITS = frozenset("0123456789")
_IDENT = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_STRING_ESCAPES = {"n": "\n", "t": "\t", "r": "\r"}


def tokenize(text: str) -> list[Token]:
    """Split a formula into tokens; raise FormulaSyntaxError at the first character that fits none."""
    tokens: list[Token] = []
    pos, end = 0, len(text)
    while pos < end:
        char = text[pos]
        if char.isspace():
            pos += 1
        elif char == "{":
            name, after = _read_field(text, pos)
            tokens.append(Token("FIELD", name, pos))
            pos = after
        elif char in "'\"":
            value, after = _read_string(text, pos)
            tokens.append(Token("STRING", value, pos))
            pos = after
        elif char in _DIGITS or (char == "." and text[pos + 1 : pos + 2] in _DIGITS):
            found = _NUMBER.match(text, pos)
            assert found is not None  # the branch condition guarantees a digit
            literal = found.group()
            number = float(literal) if any(c in literal for c in ".eE") else int(literal)
            tokens.append(Token("NUMBER", number, pos))
            pos = found.end()
        elif char == "_" or char.isalpha():
            found = _IDENT.match(text, pos)
            if not found:
                raise FormulaSyntaxError(f"Invalid formula: unexpected character {char!r}")
            tokens.append(Token("IDENT", found.group(), pos))
            pos = found.end()
        elif char in "(),":
            kind = {"(": "LPAREN", ")": "RPAREN", ",": "COMMA"}[char]
            tokens.append(Token(kind, char, pos))
            pos += 1
        else:
            operator = next((op for op in _OPERATORS if text.startswith(op, pos)), None)
            if operator is None:
                raise FormulaSyntaxError(
                    f"Invalid formula: unexpected character {char!r} at position {pos}"
                )
            tokens.append(Token("OP", operator, pos))
            pos += len(operator)
    tokens.append(Token("EOF", None, end))
    return tokens


def _read_field(text: str, pos: int) -> tuple[str, int]:
    """`{Name}` with `\\}` for a literal brace (pyairtable escapes every `}` so)."""
    chars: list[str] = []
    index = pos + 1
    while index < len(text):
        char = text[index]
        if char == "\\" and text[index + 1 : index + 2] == "}":
            chars.append("}")
            index += 2
        elif char == "}":
            return "".join(chars), index + 1
        else:
            chars.append(char)
            index += 1
    raise FormulaSyntaxError("Invalid formula: a field reference is missing its closing brace")


def _read_string(text: str, pos: int) -> tuple[str, int]:
    quote = text[pos]
    chars: list[str] = []
    index = pos + 1
    while index < len(text):
        char = text[index]
        if char == "\\" and index + 1 < len(text):
            escaped = text[index + 1]
            chars.append(_STRING_ESCAPES.get(escaped, escaped))
            index += 2
        elif char == quote:
            return "".join(chars), index + 1
        else:
            chars.append(char)
            index += 1
    raise FormulaSyntaxError("Invalid formula: a text value is missing its closing quote")


# ------------------------------------------------------------------ syntax tree
@dataclass(frozen=True, slots=True)
class Literal:
    value: Any


@dataclass(frozen=True, slots=True)
class FieldRef:
    name: str


@dataclass(frozen=True, slots=True)
class Call:
    name: str
    args: tuple[Any, ...]


@dataclass(frozen=True, slots=True)
class Unary:
    op: str
    operand: Any


@dataclass(frozen=True, slots=True)
class Binary:
    op: str
    left: Any
    right: Any


Node = Literal | FieldRef | Call | Unary | Binary

# Excel's order, which Airtable follows: comparisons bind loosest, then &, then + -, then * /.
_BINDING = {
    "=": 1,
    "!=": 1,
    "<": 1,
    ">": 1,
    "<=": 1,
    ">=": 1,
    "&": 2,
    "+": 3,
    "-": 3,
    "*": 4,
    "/": 4,
}
_UNARY_BINDING = 5
# Each level costs a few Python frames when parsing, compiling and evaluating; stay far from
# the interpreter's recursion limit (Airtable's own limit on formula size is far lower anyway).
MAX_DEPTH = 200


class _Parser:
    def __init__(self, tokens: list[Token]) -> None:
        self.tokens = tokens
        self.index = 0
        self.depth = 0

    @property
    def current(self) -> Token:
        return self.tokens[self.index]

    def advance(self) -> Token:
        token = self.tokens[self.index]
        self.index += 1
        return token

    def expect(self, kind: str) -> Token:
        if self.current.kind != kind:
            raise FormulaSyntaxError(
                f"Invalid formula: expected {kind.lower()} at position {self.current.pos}"
            )
        return self.advance()

    def expression(self, min_binding: int = 0) -> Node:
        self.depth += 1
        if self.depth > MAX_DEPTH:
            raise FormulaSyntaxError("Invalid formula: nested too deeply")
        left = self.prefix()
        while self.current.kind == "OP" and _BINDING[self.current.value] > min_binding:
            op = self.advance().value
            left = Binary(op, left, self.expression(_BINDING[op]))
        self.depth -= 1
        return left

    def prefix(self) -> Node:
        token = self.advance()
        if token.kind in ("NUMBER", "STRING"):
            return Literal(token.value)
        if token.kind == "FIELD":
            return FieldRef(token.value)
        if token.kind == "OP" and token.value in ("-", "+"):
            return Unary(token.value, self.expression(_UNARY_BINDING))
        if token.kind == "LPAREN":
            inner = self.expression()
            self.expect("RPAREN")
            return inner
        if token.kind == "IDENT":
            if self.current.kind == "LPAREN":
                return self.call(token.value)
            if token.value.upper() in ("TRUE", "FALSE"):
                return Literal(token.value.upper() == "TRUE")
            return FieldRef(token.value)  # Airtable lets one-word field names go without braces
        where = "the end" if token.kind == "EOF" else f"position {token.pos}"
        raise FormulaSyntaxError(f"Invalid formula: unexpected {token.kind.lower()} at {where}")

    def call(self, name: str) -> Node:
        self.expect("LPAREN")
        args: list[Node] = []
        if self.current.kind != "RPAREN":
            args.append(self.expression())
            while self.current.kind == "COMMA":
                self.advance()
                args.append(self.expression())
        self.expect("RPAREN")
        return Call(name.upper(), tuple(args))


def parse(text: str) -> Node:
    """The syntax tree of a formula, or FormulaSyntaxError."""
    parser = _Parser(tokenize(text))
    if parser.current.kind == "EOF":
        raise FormulaSyntaxError("Invalid formula: the formula is empty")
    tree = parser.expression()
    if parser.current.kind != "EOF":
        raise FormulaSyntaxError(
            f"Invalid formula: unexpected {parser.current.kind.lower()} at position {parser.current.pos}"
        )
    if _depth(tree) > MAX_DEPTH:  # long operator chains nest without deep parser recursion
        raise FormulaSyntaxError("Invalid formula: nested too deeply")
    return tree


def _depth(tree: Node) -> int:
    """How deeply the tree nests, counted without recursion."""
    deepest, stack = 0, [(tree, 1)]
    while stack:
        node, level = stack.pop()
        deepest = max(deepest, level)
        if isinstance(node, Binary):
            stack += [(node.left, level + 1), (node.right, level + 1)]
        elif isinstance(node, Unary):
            stack.append((node.operand, level + 1))
        elif isinstance(node, Call):
            stack += [(arg, level + 1) for arg in node.args]
    return deepest


# ------------------------------------------------------------------ coercions
_NUMERIC_TEXT = re.compile(r"[+-]?(?:[0-9]+\.?[0-9]*|\.[0-9]+)(?:[eE][+-]?[0-9]+)?")


def is_number(value: Any) -> bool:
    return isinstance(value, (int, float))  # bool is an int: TRUE() is 1 in Airtable


def number_text(value: float) -> str:
    if isinstance(value, bool):
        return "1" if value else "0"
    if isinstance(value, int):
        return str(value)
    if math.isnan(value):
        return "NaN"
    if value.is_integer() and abs(value) < 1e21:
        return str(int(value))
    return repr(value)


def to_text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, str):
        return value
    if is_number(value):
        return number_text(value)
    if isinstance(value, datetime):
        return dates.iso_ms(value)
    if isinstance(value, list):
        return ", ".join(to_text(item) for item in value)
    return str(value)


def _maybe_number(value: Any) -> float | None:
    if value is None:
        return 0
    if is_number(value):
        return value
    if isinstance(value, str):
        stripped = value.strip()
        if not stripped:
            return 0
        if _NUMERIC_TEXT.fullmatch(stripped):
            return float(stripped)
    if isinstance(value, list) and len(value) == 1:
        return _maybe_number(value[0])
    return None


def to_number(value: Any) -> float:
    number = _maybe_number(value)
    if number is None:
        raise FormulaEvalError(f"{to_text(value)!r} is not a number")
    return number


def _maybe_datetime(value: Any) -> datetime | None:
    if isinstance(value, datetime):
        return value
    if isinstance(value, str):
        return dates.parse_loose(value)
    return None


def to_datetime(value: Any) -> datetime | None:
    """A date for the date functions; None stays blank, anything unreadable is an error."""
    if value is None or value == "":
        return None
    found = _maybe_datetime(value)
    if found is None:
        raise FormulaEvalError(f"{to_text(value)!r} is not a date")
    return found


def truthy(value: Any) -> bool:
    """Airtable keeps a record unless the formula gives 0, false, "", NaN, [], blank or an error."""
    if value is None:
        return False
    if isinstance(value, float):
        return value != 0 and not math.isnan(value)
    if isinstance(value, (str, list, int)):
        return bool(value)
    return True


def equal(left: Any, right: Any) -> bool:
    """Airtable's `=`: blank equals "", 0 and false; numbers and dates compare by value."""
    if isinstance(left, list):
        left = to_text(left)
    if isinstance(right, list):
        right = to_text(right)
    if left is None or right is None:
        other = right if left is None else left
        return other is None or (not isinstance(other, datetime) and not truthy(other))
    if isinstance(left, datetime) or isinstance(right, datetime):
        left_date, right_date = _maybe_datetime(left), _maybe_datetime(right)
        if left_date is None or right_date is None:
            return to_text(left) == to_text(right)
        return left_date == right_date
    if is_number(left) or is_number(right):
        left_number, right_number = _maybe_number(left), _maybe_number(right)
        if left_number is None or right_number is None:
            return to_text(left) == to_text(right)
        return left_number == right_number
    return left == right


def _ordered(left: Any, right: Any) -> tuple[Any, Any] | None:
    """Both sides in one comparable kind, or None when they cannot be ordered (comparison is false)."""
    if isinstance(left, list):
        left = to_text(left)
    if isinstance(right, list):
        right = to_text(right)
    if isinstance(left, datetime) or isinstance(right, datetime):
        left_date, right_date = _maybe_datetime(left), _maybe_datetime(right)
        return None if left_date is None or right_date is None else (left_date, right_date)
    if isinstance(left, str) and isinstance(right, str):
        return left, right
    if left is None and isinstance(right, str):
        return "", right
    if right is None and isinstance(left, str):
        return left, ""
    left_number, right_number = _maybe_number(left), _maybe_number(right)
    if left_number is None or right_number is None:
        return None
    return left_number, right_number


def _less(left: Any, right: Any) -> bool:
    pair = _ordered(left, right)
    return pair is not None and pair[0] < pair[1]


def _less_equal(left: Any, right: Any) -> bool:
    pair = _ordered(left, right)
    return pair is not None and pair[0] <= pair[1]


def _divide(left: Any, right: Any) -> float:
    divisor = to_number(right)
    if divisor == 0:
        raise FormulaEvalError("division by zero")
    return to_number(left) / divisor


_BINARY_OPS: dict[str, Callable[[Any, Any], Any]] = {
    "=": equal,
    "!=": lambda a, b: not equal(a, b),
    "<": _less,
    "<=": _less_equal,
    ">": lambda a, b: _less(b, a),
    ">=": lambda a, b: _less_equal(b, a),
    "&": lambda a, b: to_text(a) + to_text(b),
    "+": lambda a, b: to_number(a) + to_number(b),
    "-": lambda a, b: to_number(a) - to_number(b),
    "*": lambda a, b: to_number(a) * to_number(b),
    "/": _divide,
}


# ------------------------------------------------------------------ functions
def _int_arg(value: Any) -> int:
    return int(to_number(value))


def _find(needle: Any, haystack: Any, start: Any = None) -> int:
    offset = max(_int_arg(start) - 1, 0) if start is not None else 0
    return to_text(haystack).find(to_text(needle), offset) + 1


def _search(needle: Any, haystack: Any, start: Any = None) -> int | None:
    return _find(needle, haystack, start) or None


def _left(text: Any, count: Any) -> str:
    return to_text(text)[: max(_int_arg(count), 0)]


def _right(text: Any, count: Any) -> str:
    count = max(_int_arg(count), 0)
    return to_text(text)[-count:] if count else ""


def _mid(text: Any, start: Any, count: Any) -> str:
    begin = max(_int_arg(start) - 1, 0)
    return to_text(text)[begin : begin + max(_int_arg(count), 0)]


def _substitute(text: Any, old: Any, new: Any, index: Any = None) -> str:
    source, old, new = to_text(text), to_text(old), to_text(new)
    if not old:
        return source
    if index is None:
        return source.replace(old, new)
    wanted = _int_arg(index)
    position = -1
    for _ in range(wanted):
        position = source.find(old, position + 1)
        if position < 0:
            return source
    return source[:position] + new + source[position + len(old) :]


def _replace(text: Any, start: Any, count: Any, new: Any) -> str:
    source = to_text(text)
    begin = max(_int_arg(start) - 1, 0)
    return source[:begin] + to_text(new) + source[begin + max(_int_arg(count), 0) :]


@functools.lru_cache(maxsize=256)
def _regex(pattern: str) -> re.Pattern[str]:
    try:
        return re.compile(pattern)
    except re.error as exc:
        raise FormulaEvalError(f"invalid regular expression: {exc}") from None


def _regex_extract(text: Any, pattern: Any) -> str | None:
    found = _regex(to_text(pattern)).search(to_text(text))
    return found.group(0) if found else None


def _round(value: Any, precision: Any = 0) -> float:
    quantum = Decimal(1).scaleb(-_int_arg(precision))
    rounded = Decimal(repr(float(to_number(value)))).quantize(quantum, rounding=ROUND_HALF_UP)
    return float(rounded)


def _mod(value: Any, divisor: Any) -> float:
    by = to_number(divisor)
    if by == 0:
        raise FormulaEvalError("division by zero")
    return math.fmod(to_number(value), by)


def _value(text: Any) -> float | None:
    cleaned = re.sub(r"[,$€£\s]", "", to_text(text))
    if not cleaned:
        return None
    return to_number(cleaned)


def _datetime_parse(value: Any, fmt: Any = None, locale: Any = None) -> datetime | None:
    if isinstance(value, datetime):
        return value
    text = to_text(value)
    if not text.strip():
        return None
    parsed = dates.parse_with_format(text, to_text(fmt)) if fmt else dates.parse_loose(text)
    if parsed is None:
        raise FormulaEvalError(f"cannot read {text!r} as a date")
    return parsed


def _unit(value: Any, default: str | None = None) -> str:
    if value is None and default:
        return default
    unit = dates.normalize_unit(to_text(value))
    if unit is None:
        raise FormulaEvalError(f"unknown date unit {to_text(value)!r}")
    return unit


def _dates(first: Any, second: Any) -> tuple[datetime, datetime] | None:
    left, right = to_datetime(first), to_datetime(second)
    return None if left is None or right is None else (left, right)


def _is_after(first: Any, second: Any) -> bool:
    pair = _dates(first, second)
    return pair is not None and pair[0] > pair[1]


def _is_before(first: Any, second: Any) -> bool:
    pair = _dates(first, second)
    return pair is not None and pair[0] < pair[1]


def _is_same(first: Any, second: Any, unit: Any = None) -> bool:
    pair = _dates(first, second)
    if pair is None:
        return False
    if unit is None:
        return pair[0] == pair[1]
    name = _unit(unit)
    return dates.start_of(pair[0], name) == dates.start_of(pair[1], name)


def _dateadd(value: Any, count: Any, unit: Any) -> datetime | None:
    moment = to_datetime(value)
    if moment is None:
        return None
    return dates.add(moment, to_number(count), _unit(unit))


def _datetime_diff(first: Any, second: Any, unit: Any = None) -> int | None:
    pair = _dates(first, second)
    if pair is None:
        return None
    return dates.diff(pair[0], pair[1], _unit(unit, "seconds"))


def _datetime_format(value: Any, fmt: Any = None) -> str | None:
    moment = to_datetime(value)
    if moment is None:
        return None
    return dates.format_moment(
        moment, to_text(fmt) if fmt is not None else "YYYY-MM-DDTHH:mm:ss.SSSZ"
    )


def _date_part(part: Callable[[datetime], int]) -> Callable[[Any], int | None]:
    def extract(value: Any) -> int | None:
        moment = to_datetime(value)
        return None if moment is None else part(moment)

    return extract


def _fail() -> None:
    raise FormulaEvalError("ERROR()")


def _numbers(values: Sequence[Any]) -> list[float]:
    return [to_number(v) for v in values if v is not None and v != ""]


@dataclass(frozen=True)
class FunctionSpec:
    impl: Callable[..., Any]
    min_args: int
    max_args: int | None  # None: any number
    mode: str = "eager"  # eager: values; lazy: (ctx, *evaluators); context: (ctx, *values)


def _lazy_if(
    ctx: RecordContext, cond: Evaluator, then: Evaluator, other: Evaluator | None = None
) -> Any:
    if truthy(cond(ctx)):
        return then(ctx)
    return other(ctx) if other is not None else None


def _lazy_switch(ctx: RecordContext, subject: Evaluator, *rest: Evaluator) -> Any:
    value = subject(ctx)
    pairs, default = (rest, None) if len(rest) % 2 == 0 else (rest[:-1], rest[-1])
    for index in range(0, len(pairs), 2):
        if equal(value, pairs[index](ctx)):
            return pairs[index + 1](ctx)
    return default(ctx) if default is not None else None


def _lazy_iserror(ctx: RecordContext, inner: Evaluator) -> bool:
    try:
        inner(ctx)
    except (FormulaEvalError, ArithmeticError, ValueError):
        return True
    return False


def _today(ctx: RecordContext) -> datetime:
    return dates.start_of(ctx.now(), "days")


FUNCTIONS: dict[str, FunctionSpec] = {
    # logic
    "TRUE": FunctionSpec(lambda: True, 0, 0),
    "FALSE": FunctionSpec(lambda: False, 0, 0),
    "BLANK": FunctionSpec(lambda: None, 0, 0),
    "AND": FunctionSpec(lambda *v: all(truthy(x) for x in v), 1, None),
    "OR": FunctionSpec(lambda *v: any(truthy(x) for x in v), 1, None),
    "XOR": FunctionSpec(lambda *v: sum(truthy(x) for x in v) % 2 == 1, 1, None),
    "NOT": FunctionSpec(lambda v: not truthy(v), 1, 1),
    "IF": FunctionSpec(_lazy_if, 2, 3, "lazy"),
    "SWITCH": FunctionSpec(_lazy_switch, 2, None, "lazy"),
    "ISERROR": FunctionSpec(_lazy_iserror, 1, 1, "lazy"),
    "ERROR": FunctionSpec(_fail, 0, 0),
    # text
    "FIND": FunctionSpec(_find, 2, 3),
    "SEARCH": FunctionSpec(_search, 2, 3),
    "LOWER": FunctionSpec(lambda v: to_text(v).lower(), 1, 1),
    "UPPER": FunctionSpec(lambda v: to_text(v).upper(), 1, 1),
    "LEN": FunctionSpec(lambda v: len(to_text(v)), 1, 1),
    "TRIM": FunctionSpec(lambda v: to_text(v).strip(), 1, 1),
    "LEFT": FunctionSpec(_left, 2, 2),
    "RIGHT": FunctionSpec(_right, 2, 2),
    "MID": FunctionSpec(_mid, 3, 3),
    "SUBSTITUTE": FunctionSpec(_substitute, 3, 4),
    "REPLACE": FunctionSpec(_replace, 4, 4),
    "REPT": FunctionSpec(lambda v, n: to_text(v) * max(_int_arg(n), 0), 2, 2),
    "CONCATENATE": FunctionSpec(lambda *v: "".join(to_text(x) for x in v), 1, None),
    "T": FunctionSpec(lambda v: v if isinstance(v, str) else "", 1, 1),
    "REGEX_MATCH": FunctionSpec(
        lambda v, p: _regex(to_text(p)).search(to_text(v)) is not None, 2, 2
    ),
    "REGEX_EXTRACT": FunctionSpec(_regex_extract, 2, 2),
    "REGEX_REPLACE": FunctionSpec(
        lambda v, p, r: _regex(to_text(p)).sub(to_text(r).replace("\\", "\\\\"), to_text(v)), 3, 3
    ),
    # numbers
    "VALUE": FunctionSpec(_value, 1, 1),
    "ABS": FunctionSpec(lambda v: abs(to_number(v)), 1, 1),
    "ROUND": FunctionSpec(_round, 1, 2),
    "INT": FunctionSpec(lambda v: math.floor(to_number(v)), 1, 1),
    "MOD": FunctionSpec(_mod, 2, 2),
    "MIN": FunctionSpec(lambda *v: min(_numbers(v), default=0), 1, None),
    "MAX": FunctionSpec(lambda *v: max(_numbers(v), default=0), 1, None),
    "SUM": FunctionSpec(lambda *v: sum(_numbers(v)), 1, None),
    # dates
    "DATETIME_PARSE": FunctionSpec(_datetime_parse, 1, 3),
    "DATETIME_FORMAT": FunctionSpec(_datetime_format, 1, 2),
    "DATESTR": FunctionSpec(lambda v: _datetime_format(v, "YYYY-MM-DD"), 1, 1),
    "IS_AFTER": FunctionSpec(_is_after, 2, 2),
    "IS_BEFORE": FunctionSpec(_is_before, 2, 2),
    "IS_SAME": FunctionSpec(_is_same, 2, 3),
    "DATEADD": FunctionSpec(_dateadd, 3, 3),
    "DATETIME_DIFF": FunctionSpec(_datetime_diff, 2, 3),
    "YEAR": FunctionSpec(_date_part(lambda d: d.year), 1, 1),
    "MONTH": FunctionSpec(_date_part(lambda d: d.month), 1, 1),
    "DAY": FunctionSpec(_date_part(lambda d: d.day), 1, 1),
    "HOUR": FunctionSpec(_date_part(lambda d: d.hour), 1, 1),
    "MINUTE": FunctionSpec(_date_part(lambda d: d.minute), 1, 1),
    "SECOND": FunctionSpec(_date_part(lambda d: d.second), 1, 1),
    "WEEKDAY": FunctionSpec(_date_part(lambda d: (d.weekday() + 1) % 7), 1, 1),
    "NOW": FunctionSpec(lambda ctx: ctx.now(), 0, 0, "context"),
    "TODAY": FunctionSpec(_today, 0, 0, "context"),
    "RECORD_ID": FunctionSpec(lambda ctx: ctx.record_id(), 0, 0, "context"),
    "CREATED_TIME": FunctionSpec(lambda ctx: ctx.created_time(), 0, 0, "context"),
    # LAST_MODIFIED_TIME takes field references, not values: compiled specially below.
    "LAST_MODIFIED_TIME": FunctionSpec(lambda ctx: None, 0, None, "fields"),
}


# ------------------------------------------------------------------ compiler
@dataclass
class CompiledFormula:
    """A formula ready to run on many records; `fields` are the resolved keys it reads."""

    source: str
    evaluate: Evaluator
    fields: list[Any] = field(default_factory=list)

    def keep(self, ctx: RecordContext) -> bool:
        """Whether listRecords keeps this record: a truthy result and no error."""
        try:
            return truthy(self.evaluate(ctx))
        except (FormulaEvalError, ArithmeticError, ValueError):
            return False


class _Compiler:
    def __init__(self, resolve_field: Callable[[str], Any]) -> None:
        self.resolve_field = resolve_field
        self.unknown: list[str] = []
        self.fields: list[Any] = []

    def field_key(self, name: str) -> Any:
        try:
            key = self.resolve_field(name)
        except KeyError:
            if name not in self.unknown:
                self.unknown.append(name)
            return None
        self.fields.append(key)
        return key

    def compile(self, node: Node) -> Evaluator:
        if isinstance(node, Literal):
            value = node.value
            return lambda ctx: value
        if isinstance(node, FieldRef):
            key = self.field_key(node.name)
            return lambda ctx: ctx.field(key)
        if isinstance(node, Unary):
            operand = self.compile(node.operand)
            if node.op == "-":
                return lambda ctx: -to_number(operand(ctx))
            return lambda ctx: to_number(operand(ctx))
        if isinstance(node, Binary):
            op = _BINARY_OPS[node.op]
            left, right = self.compile(node.left), self.compile(node.right)
            return lambda ctx: op(left(ctx), right(ctx))
        return self.call(node)

    def call(self, node: Call) -> Evaluator:
        spec = FUNCTIONS.get(node.name)
        if spec is None:
            raise FormulaSyntaxError(f"Unknown function: {node.name}")
        count = len(node.args)
        if count < spec.min_args or (spec.max_args is not None and count > spec.max_args):
            raise FormulaSyntaxError(f"Wrong number of arguments to {node.name}()")
        if spec.mode == "fields":
            return self.last_modified(node)
        args = [self.compile(arg) for arg in node.args]
        impl = spec.impl
        if (
            spec.mode == "eager"
            and node.name != "ERROR"
            and all(isinstance(arg, Literal) for arg in node.args)
        ):
            folded = self.fold(impl, [arg.value for arg in node.args])
            if folded is not None:
                return folded
        if spec.mode == "lazy":
            return lambda ctx: impl(ctx, *args)
        if spec.mode == "context":
            return lambda ctx: impl(ctx, *(a(ctx) for a in args))
        if count == 0:
            return lambda ctx: impl()
        if count == 1:
            (only,) = args
            return lambda ctx: impl(only(ctx))
        if count == 2:
            first, second = args
            return lambda ctx: impl(first(ctx), second(ctx))
        return lambda ctx: impl(*(a(ctx) for a in args))

    @staticmethod
    def fold(impl: Callable[..., Any], values: list[Any]) -> Evaluator | None:
        """Run a call of constants once (DATETIME_PARSE('2024-01-01') is the usual one)."""
        try:
            value = impl(*values)
        except (FormulaEvalError, ArithmeticError, ValueError):
            return None  # fails for every record; leave it to run (and fail) per record
        return lambda ctx: value

    def last_modified(self, node: Call) -> Evaluator:
        if not all(isinstance(arg, FieldRef) for arg in node.args):
            raise FormulaSyntaxError("LAST_MODIFIED_TIME() takes field references only")
        keys = tuple(self.field_key(arg.name) for arg in node.args)
        return lambda ctx: ctx.last_modified(keys)


def compile_formula(text: str, resolve_field: Callable[[str], Any]) -> CompiledFormula:
    """Compile `text`; `resolve_field(name)` gives the key `ctx.field` receives, or raises KeyError."""
    compiler = _Compiler(resolve_field)
    evaluate = compiler.compile(parse(text))
    if compiler.unknown:
        raise FormulaSyntaxError("Unknown field names: " + ", ".join(compiler.unknown))
    return CompiledFormula(text, evaluate, compiler.fields)


# ------------------------------------------------------------------ a plain context
@dataclass
class DictContext:
    """A record as plain values, keyed by field name: for tests and for callers without a table."""

    values: dict[str, Any]
    id: str = "rec00000000000000"
    created: datetime = field(default_factory=lambda: datetime(2024, 1, 1, tzinfo=dates.UTC))
    modified: dict[str, datetime] = field(default_factory=dict)
    clock: datetime = field(default_factory=lambda: datetime(2024, 6, 1, 12, tzinfo=dates.UTC))

    def field(self, key: Any) -> Any:
        return self.values.get(key)

    def record_id(self) -> str:
        return self.id

    def created_time(self) -> datetime:
        return self.created

    def last_modified(self, keys: tuple[Any, ...]) -> datetime | None:
        times = [self.modified[k] for k in (keys or self.modified) if k in self.modified]
        if times:
            return max(times)
        return None if keys else self.created

    def now(self) -> datetime:
        return self.clock


def evaluate(text: str, values: dict[str, Any] | None = None, **context: Any) -> Any:
    """Compile and run `text` on one record of plain values (every name in `values` is a field)."""
    values = values or {}

    def resolve(name: str) -> str:
        if name not in values:
            raise KeyError(name)
        return name

    return compile_formula(text, resolve).evaluate(DictContext(values, **context))
