"""Drive's `q` search language, pure: parse a query into a predicate over file records.

Supported terms: `name` (=, !=, contains), `fullText contains`, `mimeType`
(=, !=, contains), `trashed`, `starred` (=, !=), `'ID' in parents` (and the
`parents in "ID"` form gspread sends), `'EMAIL' in owners|writers|readers`,
`createdTime`/`modifiedTime`/`viewedByMeTime` compared with RFC 3339 dates,
`sharedWithMe`; combined with `and`, `or`, `not` and parentheses; strings in
single or double quotes with backslash escapes.

Matching follows Drive's documentation: `name contains` matches a prefix of
the name or of a word in it ("Hello" matches "HelloWorld" and "Say Hello",
"World" does not match "HelloWorld"); name and mimeType comparisons ignore
case. Not supported: `properties has`, `appProperties has`, `visibility`,
`shortcutDetails.targetId`, `memberCount`, `organizerCount` (an invalid query).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any


class QueryError(ValueError):
    """The query is not valid Drive search syntax (Drive answers 400 Invalid Value)."""


@dataclass
class FileView:
    """What a query can see of one file."""

    name: str
    mime_type: str
    parents: list[str]
    trashed: bool = False
    starred: bool = False
    created: str = ""
    modified: str = ""
    text: str = ""  # description and indexable content, for fullText
    owners: list[str] = field(default_factory=list)
    writers: list[str] = field(default_factory=list)
    readers: list[str] = field(default_factory=list)


Predicate = Callable[[FileView], bool]

_TOKEN = re.compile(
    r"""\s*(?:
        (?P<string>'(?:[^'\\]|\\.)*'|"(?:[^"\\]|\\.)*")
      | (?P<op>!=|<=|>=|=|<|>)
      | (?P<paren>[()])
      | (?P<word>[A-Za-z_][A-Za-z0-9_.]*)
    )""",
    re.VERBOSE,
)
_KEYWORDS = {"and", "or", "not", "contains", "in", "has", "true", "false"}
_TIME_FIELDS = {"createdTime": "created", "modifiedTime": "modified", "viewedByMeTime": "modified"}
_PEOPLE_FIELDS = {"owners", "writers", "readers"}


@dataclass
class _Token:
    kind: str  # string | op | paren | word | keyword
    value: Any


def tokenize(query: str) -> list[_Token]:
    tokens: list[_Token] = []
    pos = 0
    while pos < len(query):
        if query[pos:].strip() == "":
            break
        match = _TOKEN.match(query, pos)
        if not match or match.end() == pos:
            raise QueryError(f"unexpected text at {pos}")
        pos = match.end()
        kind = match.lastgroup or ""
        text = match.group(kind)
        if kind == "string":
            tokens.append(_Token("string", _unescape(text[1:-1])))
        elif kind == "word" and text.lower() in _KEYWORDS:
            tokens.append(_Token("keyword", text.lower()))
        else:
            tokens.append(_Token(kind, text))
    return tokens


def _unescape(text: str) -> str:
    return re.sub(r"\\(.)", r"\1", text)


def compile_query(query: str, aliases: dict[str, str] | None = None) -> Predicate:
    """Parse `query`; `aliases` maps names like 'root' to ids (for `'root' in parents`)."""
    parser = _Parser(tokenize(query), aliases or {})
    predicate = parser.expression()
    if parser.pos != len(parser.tokens):
        raise QueryError("unexpected trailing tokens")
    return predicate


class _Parser:
    """Recursive descent: or < and < not < term, as boolean operators usually bind."""

    def __init__(self, tokens: list[_Token], aliases: dict[str, str]) -> None:
        self.tokens = tokens
        self.pos = 0
        self.aliases = aliases

    def peek(self) -> _Token | None:
        return self.tokens[self.pos] if self.pos < len(self.tokens) else None

    def take(self) -> _Token:
        token = self.peek()
        if token is None:
            raise QueryError("query ends too early")
        self.pos += 1
        return token

    def accept(self, kind: str, value: str | None = None) -> bool:
        token = self.peek()
        if token and token.kind == kind and (value is None or token.value == value):
            self.pos += 1
            return True
        return False

    def expression(self) -> Predicate:
        left = self.conjunction()
        while self.accept("keyword", "or"):
            right = self.conjunction()
            left = _or(left, right)
        return left

    def conjunction(self) -> Predicate:
        left = self.negation()
        while self.accept("keyword", "and"):
            right = self.negation()
            left = _and(left, right)
        return left

    def negation(self) -> Predicate:
        if self.accept("keyword", "not"):
            inner = self.negation()
            return lambda f: not inner(f)
        if self.accept("paren", "("):
            inner = self.expression()
            if not self.accept("paren", ")"):
                raise QueryError("missing )")
            return inner
        return self.term()

    def term(self) -> Predicate:
        first = self.take()
        if first.kind == "string":
            if not self.accept("keyword", "in"):
                raise QueryError("a quoted value must be followed by 'in'")
            target = self.take()
            if target.kind != "word":
                raise QueryError("'in' needs a collection")
            return self._membership(first.value, target.value)
        if first.kind != "word":
            raise QueryError(f"unexpected {first.value!r}")
        name = first.value
        if name == "sharedWithMe" and not self._next_is_operator():
            return lambda f: False  # every sandbox file belongs to the bot itself
        op = self.take()
        if op.kind == "keyword" and op.value == "in" and name == "parents":
            value = self.take()
            if value.kind != "string":
                raise QueryError("parents in needs a quoted id")
            return self._membership(value.value, "parents")
        if not (op.kind == "op" or (op.kind == "keyword" and op.value == "contains")):
            raise QueryError(f"unexpected operator {op.value!r}")
        value_token = self.take()
        value = self._literal(value_token)
        return self._comparison(name, str(op.value), value)

    def _next_is_operator(self) -> bool:
        token = self.peek()
        return token is not None and (
            token.kind == "op" or (token.kind == "keyword" and token.value in {"contains", "in"})
        )

    @staticmethod
    def _literal(token: _Token) -> Any:
        if token.kind == "string":
            return token.value
        if token.kind == "keyword" and token.value in {"true", "false"}:
            return token.value == "true"
        raise QueryError(f"expected a value, got {token.value!r}")

    def _membership(self, value: str, collection: str) -> Predicate:
        if collection == "parents":
            wanted = self.aliases.get(value, value)
            return lambda f: wanted in f.parents
        if collection in _PEOPLE_FIELDS:
            wanted = self.aliases.get(value, value).casefold()
            attr = collection
            return lambda f: wanted in (p.casefold() for p in getattr(f, attr))
        raise QueryError(f"cannot search in {collection!r}")

    def _comparison(self, name: str, op: str, value: Any) -> Predicate:
        if name in {"name", "mimeType"}:
            return _text_comparison(name, op, value)
        if name == "fullText":
            if op != "contains" or not isinstance(value, str):
                raise QueryError("fullText supports only contains")
            needle = value.casefold()
            return lambda f: needle in f.name.casefold() or needle in f.text.casefold()
        if name in {"trashed", "starred"}:
            if op not in {"=", "!="} or not isinstance(value, bool):
                raise QueryError(f"{name} compares with true or false")
            attr = name
            if op == "=":
                return lambda f: getattr(f, attr) is value
            return lambda f: getattr(f, attr) is not value
        if name in _TIME_FIELDS:
            return _time_comparison(_TIME_FIELDS[name], op, value)
        raise QueryError(f"unknown field {name!r}")


def _text_comparison(name: str, op: str, value: Any) -> Predicate:
    if not isinstance(value, str):
        raise QueryError(f"{name} compares with a string")
    needle = value.casefold()

    def get(f: FileView) -> str:
        return (f.name if name == "name" else f.mime_type).casefold()

    if op == "=":
        return lambda f: get(f) == needle
    if op == "!=":
        return lambda f: get(f) != needle
    if op == "contains":
        if name == "name":
            return lambda f: name_contains(f.name, value)
        return lambda f: needle in get(f)
    raise QueryError(f"{name} does not support {op}")


def name_contains(name: str, fragment: str) -> bool:
    """Drive's prefix matching: the fragment starts the name or one of its words."""
    haystack, needle = name.casefold(), fragment.casefold()
    if not needle:
        return True
    start = haystack.find(needle)
    while start != -1:
        if start == 0 or not haystack[start - 1].isalnum():
            return True
        start = haystack.find(needle, start + 1)
    return False


def _time_comparison(attr: str, op: str, value: Any) -> Predicate:
    if op == "contains" or not isinstance(value, str):
        raise QueryError("times compare with an RFC 3339 string")
    wanted = _parse_time(value)
    ops: dict[str, Callable[[datetime, datetime], bool]] = {
        "=": lambda a, b: a == b,
        "!=": lambda a, b: a != b,
        "<": lambda a, b: a < b,
        "<=": lambda a, b: a <= b,
        ">": lambda a, b: a > b,
        ">=": lambda a, b: a >= b,
    }
    compare = ops[op]
    return lambda f: bool(getattr(f, attr)) and compare(_parse_time(getattr(f, attr)), wanted)


def _parse_time(text: str) -> datetime:
    try:
        parsed = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        raise QueryError(f"not an RFC 3339 time: {text!r}") from None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=UTC)
    return parsed


def _and(left: Predicate, right: Predicate) -> Predicate:
    return lambda f: left(f) and right(f)


def _or(left: Predicate, right: Predicate) -> Predicate:
    return lambda f: left(f) or right(f)
