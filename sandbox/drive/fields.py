"""Google's partial-response `fields` syntax, pure: `kind,files(id,name),nextPageToken`, `a/b`, `*`.

Used by Drive (every method) and Sheets (spreadsheets.get). A selected field
returns its whole value; a field the resource lacks is simply absent, as with
Google's servers. Malformed masks raise `FieldsError` (Google answers 400).
"""

from __future__ import annotations

from typing import Any

Mask = dict[str, "Mask | None"]  # None: the whole value


class FieldsError(ValueError):
    """The fields mask does not parse."""


def parse_fields(text: str) -> Mask:
    parser = _Parser(text.replace(" ", ""))
    mask = parser.items()
    if parser.pos != len(parser.text):
        raise FieldsError(f"unexpected {parser.text[parser.pos]!r} in fields")
    return mask


class _Parser:
    def __init__(self, text: str) -> None:
        self.text = text
        self.pos = 0

    def items(self) -> Mask:
        mask: Mask = {}
        while True:
            path, sub = self.item()
            _merge(mask, path, sub)
            if self.pos < len(self.text) and self.text[self.pos] == ",":
                self.pos += 1
                continue
            return mask

    def item(self) -> tuple[list[str], Mask | None]:
        path = [self.name()]
        while self.pos < len(self.text) and self.text[self.pos] in "/.":
            self.pos += 1
            path.append(self.name())
        sub: Mask | None = None
        if self.pos < len(self.text) and self.text[self.pos] == "(":
            self.pos += 1
            sub = self.items()
            if self.pos >= len(self.text) or self.text[self.pos] != ")":
                raise FieldsError("missing ) in fields")
            self.pos += 1
        return path, sub

    def name(self) -> str:
        start = self.pos
        while self.pos < len(self.text) and self.text[self.pos] not in ",()/.":
            self.pos += 1
        if self.pos == start:
            raise FieldsError("empty field name")
        return self.text[start : self.pos]


def _merge(mask: Mask, path: list[str], sub: Mask | None) -> None:
    head, rest = path[0], path[1:]
    if rest:
        child = mask.get(head, {})
        if child is None:
            return  # already selected whole
        _merge(child, rest, sub)
        mask[head] = child
    elif sub is None or mask.get(head, {}) is None:
        mask[head] = None
    else:
        child = mask.setdefault(head, {})
        assert child is not None
        for key, value in sub.items():
            _merge(child, [key], value)


def apply_fields(data: Any, mask: Mask | None) -> Any:
    """Keep only what the mask selects; lists apply the mask to each element."""
    if mask is None or "*" in mask:
        return data
    if isinstance(data, list):
        return [apply_fields(item, mask) for item in data]
    if not isinstance(data, dict):
        return data
    return {key: apply_fields(data[key], sub) for key, sub in mask.items() if key in data}


def select(data: Any, fields: str | None, default: Mask | None = None) -> Any:
    """`fields` if given, else the method's default selection (None: everything)."""
    if fields:
        return apply_fields(data, parse_fields(fields))
    return apply_fields(data, default)
