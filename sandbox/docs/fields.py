"""Google's partial-response `fields` parameter (`a,b/c,d(e,f)`), applied to a JSON reply."""

from __future__ import annotations

from typing import Any

Selection = dict[str, "Selection | None"]  # None: keep the whole value


class FieldsSyntaxError(ValueError):
    pass


def parse_fields(spec: str) -> Selection:
    """Parse a field mask into a tree of selected names."""
    selection, rest = _parse_list(spec.replace(" ", ""), 0)
    if rest != len(spec.replace(" ", "")):
        raise FieldsSyntaxError(f"Invalid field selection {spec}")
    return selection


def _parse_list(spec: str, at: int) -> tuple[Selection, int]:
    selection: Selection = {}
    while True:
        start = at
        while at < len(spec) and spec[at] not in ",()":
            at += 1
        path = spec[start:at]
        if not path:
            raise FieldsSyntaxError(f"Invalid field selection {spec}")
        sub: Selection | None = None
        if at < len(spec) and spec[at] == "(":
            sub, at = _parse_list(spec, at + 1)
            if at >= len(spec) or spec[at] != ")":
                raise FieldsSyntaxError(f"Invalid field selection {spec}")
            at += 1
        _merge(selection, path.split("/"), sub)
        if at < len(spec) and spec[at] == ",":
            at += 1
            continue
        return selection, at


def _merge(selection: Selection, names: list[str], sub: Selection | None) -> None:
    head, *tail = names
    if not tail:
        if sub is None or selection.get(head, {}) is None:
            selection[head] = None
        else:
            existing = selection.setdefault(head, {})
            assert existing is not None
            existing.update(sub)
        return
    existing = selection.get(head, {})
    if existing is None:
        return  # the whole value is already selected
    selection[head] = existing
    _merge(existing, tail, sub)


def select(value: Any, selection: Selection | None) -> Any:
    """Keep only the selected parts of a JSON value (lists are filtered element by element)."""
    if selection is None or "*" in selection:
        return value
    if isinstance(value, list):
        return [select(item, selection) for item in value]
    if not isinstance(value, dict):
        return value
    return {name: select(value[name], sub) for name, sub in selection.items() if name in value}
