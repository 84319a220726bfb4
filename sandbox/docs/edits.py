"""The Docs batchUpdate requests, applied to a copy of a document so that a batch lands whole or not at all.

Implemented: insertText, insertTable, updateTextStyle, updateParagraphStyle,
createParagraphBullets, deleteParagraphBullets, replaceAllText, deleteContentRange.
Every other request kind of the real API is refused with 501 UNIMPLEMENTED.
Error messages follow the real service's wording where it is known
("Invalid requests[0].insertText: Index 9 must be less than the end index of
the referenced segment, 2.").
"""

from __future__ import annotations

import copy
import re
from collections.abc import Callable
from dataclasses import replace
from typing import Any

from sandbox.docs.document import (
    DEFAULT_PARAGRAPH_STYLE,
    Indexer,
    Kind,
    Malformed,
    Paragraph,
    Unit,
    paragraph_at,
    paragraphs,
    parse,
    table_units,
)
from sandbox.docs.views import BULLET_PRESETS, NAMED_STYLE_TYPES, NESTING_LEVELS

TAB_ID = "t.0"
TEXT_STYLE_FIELDS = (
    "backgroundColor",
    "baselineOffset",
    "bold",
    "fontSize",
    "foregroundColor",
    "italic",
    "link",
    "smallCaps",
    "strikethrough",
    "underline",
    "weightedFontFamily",
)
PARAGRAPH_STYLE_FIELDS = (
    "alignment",
    "avoidWidowAndOrphan",
    "borderBetween",
    "borderBottom",
    "borderLeft",
    "borderRight",
    "borderTop",
    "direction",
    "indentEnd",
    "indentFirstLine",
    "indentStart",
    "keepLinesTogether",
    "keepWithNext",
    "lineSpacing",
    "namedStyleType",
    "pageBreakBefore",
    "shading",
    "spaceAbove",
    "spaceBelow",
    "spacingMode",
    "tabStops",
)
# Request kinds of the real API this emulator knows by name but does not perform.
UNIMPLEMENTED = frozenset(
    {
        "createNamedRange",
        "deleteNamedRange",
        "insertInlineImage",
        "insertTableRow",
        "insertTableColumn",
        "deleteTableRow",
        "deleteTableColumn",
        "insertPageBreak",
        "deletePositionedObject",
        "updateTableColumnProperties",
        "updateTableCellStyle",
        "updateTableRowStyle",
        "replaceImage",
        "updateDocumentStyle",
        "mergeTableCells",
        "unmergeTableCells",
        "createHeader",
        "createFooter",
        "createFootnote",
        "replaceNamedRangeContent",
        "updateSectionStyle",
        "insertSectionBreak",
        "deleteHeader",
        "deleteFooter",
        "pinTableHeaderRows",
        "insertPerson",
        "updateDocumentTabProperties",
        "addDocumentTab",
        "deleteTab",
        "insertDate",
    }
)
PARAGRAPH_BOUNDS = (
    "The insertion index must be inside the bounds of an existing paragraph. "
    "You can still create new paragraphs by inserting newlines."
)
BAD_DELETION = "Invalid deletion range. Cannot delete the requested range."
# Docs strips these from inserted text (C0 controls but tab, newline and vertical tab; BMP private use).
_STRIPPED = re.compile("[\x00-\x08\x0c-\x1f\ue000-\uf8ff]")
_TEXT_DEFAULTS = {
    "bold": False,
    "italic": False,
    "underline": False,
    "strikethrough": False,
    "smallCaps": False,
}


class DocsError(Exception):
    """A failed request, in the terms of Google's error body: HTTP code, status and message."""

    def __init__(self, code: int, status: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.status = status
        self.message = message


def invalid(message: str) -> DocsError:
    return DocsError(400, "INVALID_ARGUMENT", message)


def clean_text(text: str) -> str:
    return _STRIPPED.sub("", text)


class Editor:
    """Applies requests in order to private copies of a document's units and lists."""

    def __init__(
        self,
        units: list[Unit],
        lists: dict[str, dict[str, Any]],
        new_id: Callable[[str], str],
    ) -> None:
        self.units = list(units)
        self.lists = copy.deepcopy(lists)
        self.new_id = new_id
        self.where = ""
        self.number = 0

    def apply(self, requests: Any) -> list[dict[str, Any]]:
        if not isinstance(requests, list) or not requests:
            raise invalid("Must specify at least one request.")
        replies = []
        for number, request in enumerate(requests):
            name, body = _request_kind(request, number)
            self.where, self.number = f"requests[{number}].{name}", number
            replies.append(_HANDLERS[name](self, body))
        return replies

    # -------------------------------------------------------------- helpers
    def fail(self, message: str) -> DocsError:
        return invalid(f"Invalid {self.where}: {message}")

    def _check_segment(self, where: dict[str, Any]) -> None:
        if where.get("segmentId"):
            raise self.fail(f"Segment ID {where['segmentId']!r} was not found in this document.")
        tab = where.get("tabId")
        if tab and tab != TAB_ID:
            raise self.fail(f"Tab ID {tab!r} was not found in this document.")

    def _integer(self, value: Any, name: str) -> int:
        if isinstance(value, bool) or not isinstance(value, int | str):
            raise self.fail(f"{name} must be an integer.")
        try:
            return int(value)
        except ValueError:
            raise self.fail(f"{name} must be an integer.") from None

    def _insertion_point(self, body: dict[str, Any]) -> int:
        location, at_end = body.get("location"), body.get("endOfSegmentLocation")
        if (location is None) == (at_end is None):
            raise self.fail("Exactly one of location or endOfSegmentLocation must be set.")
        self._check_segment(location if location is not None else at_end)
        if at_end is not None:
            return len(self.units) - 1  # just before the body's final newline
        index = self._integer(location.get("index", 0), "location.index")
        indexer = Indexer(self.units)
        if index >= indexer.end:
            raise self.fail(
                f"Index {index} must be less than the end index of the referenced segment, {indexer.end}."
            )
        k = indexer.position(index) if index >= 1 else -1
        if k is None:
            raise self.fail(f"Index {index} is inside a surrogate pair.")
        if k < 0 or not self.units[k].is_char:
            raise self.fail(PARAGRAPH_BOUNDS)
        return k

    def _range(self, body: dict[str, Any]) -> tuple[int, int]:
        """Unit positions [start, end) of a request's `range`, validated like the real service."""
        rng = body.get("range")
        if not isinstance(rng, dict):
            raise self.fail("range must be set.")
        self._check_segment(rng)
        start = self._integer(rng.get("startIndex", 0), "range.startIndex")
        end = self._integer(rng.get("endIndex", 0), "range.endIndex")
        indexer = Indexer(self.units)
        if end > indexer.end:
            raise self.fail(
                f"Index {end - 1} must be less than the end index of the referenced segment, {indexer.end}."
            )
        if start < 1:
            raise self.fail("The range cannot include the first section break of the document.")
        if start == end:
            raise self.fail("The range should not be empty.")
        if start > end:
            raise self.fail(f"The start index {start} must be less than the end index {end}.")
        first, last = indexer.position(start), indexer.position(end)
        if first is None or last is None:
            raise self.fail("The range cannot start or end inside a surrogate pair.")
        return first, last

    def _fields(self, body: dict[str, Any], allowed: tuple[str, ...]) -> list[str]:
        names = [n.strip() for n in str(body.get("fields") or "").split(",") if n.strip()]
        if not names:
            raise self.fail(
                "At least one field must be listed in 'fields'. (Use '*' to indicate all fields.)"
            )
        if "*" in names:
            return list(allowed)
        tops = []
        for name in names:
            top = name.split(".", 1)[0]
            if top not in allowed:
                raise self.fail(f"Invalid field: {name}")
            tops.append(top)
        return tops

    def _fresh_para(self, para: dict[str, Any] | None) -> dict[str, Any]:
        """A copy of a paragraph style for a new paragraph (heading ids are unique per paragraph)."""
        copied = dict(para or DEFAULT_PARAGRAPH_STYLE)
        if "headingId" in copied:
            copied["headingId"] = self.new_id("h.")
        return copied

    def _new_units(self, text: str, style: dict[str, Any], closing: Unit) -> list[Unit]:
        # A newline inside the text closes a new paragraph styled like the one it splits.
        return [
            Unit(Kind.CHAR, ch, style, self._fresh_para(closing.para), closing.bullet)
            if ch == "\n"
            else Unit(Kind.CHAR, ch, style)
            for ch in text
        ]

    def _insert_chars(self, k: int, text: str) -> None:
        closing = self.units[paragraph_at(self.units, k).end - 1]
        before = self.units[k - 1] if k > 0 else None
        # Inserted text takes the style of the character before it in the same paragraph.
        if before is None or not before.is_char or before.is_newline:
            before = self.units[k]
        self.units[k:k] = self._new_units(text, before.style, closing)

    def _overlapping(self, first: int, last: int) -> list[Paragraph]:
        return [p for p in paragraphs(self.units) if p.start < last and p.end > first]

    # -------------------------------------------------------------- requests
    def insert_text(self, body: dict[str, Any]) -> dict[str, Any]:
        text = body.get("text", "")
        if not isinstance(text, str):
            raise self.fail("text must be a string.")
        k = self._insertion_point(body)
        text = clean_text(text)
        if text:
            self._insert_chars(k, text)
        return {}

    def insert_table(self, body: dict[str, Any]) -> dict[str, Any]:
        rows = self._integer(body.get("rows", 0), "rows")
        columns = self._integer(body.get("columns", 0), "columns")
        if rows < 1 or columns < 1:
            raise self.fail("A table must have at least one row and one column.")
        k = self._insertion_point(body)
        self._insert_chars(k, "\n")  # the real API puts a paragraph break before every table
        self.units[k + 1 : k + 1] = table_units(rows, columns)
        return {}

    def update_text_style(self, body: dict[str, Any]) -> dict[str, Any]:
        first, last = self._range(body)
        fields = self._fields(body, TEXT_STYLE_FIELDS)
        values = body.get("textStyle") or {}
        for k in range(first, last):
            unit = self.units[k]
            if unit.is_char:
                self.units[k] = replace(unit, style=_masked(unit.style, values, fields, {}))
        return {}

    def update_paragraph_style(self, body: dict[str, Any]) -> dict[str, Any]:
        first, last = self._range(body)
        fields = self._fields(body, PARAGRAPH_STYLE_FIELDS)
        values = body.get("paragraphStyle") or {}
        named = values.get("namedStyleType")
        if "namedStyleType" in fields and named is not None and named not in NAMED_STYLE_TYPES:
            raise invalid(
                f"Invalid value at 'requests[{self.number}].update_paragraph_style.paragraph_style."
                f"named_style_type' (type.googleapis.com/google.apps.docs.v1.ParagraphStyle."
                f'NamedStyleType), "{named}"'
            )
        for p in self._overlapping(first, last):
            closing = self.units[p.end - 1]
            para = _masked(closing.para or {}, values, fields, DEFAULT_PARAGRAPH_STYLE)
            self.units[p.end - 1] = replace(
                closing, para=self._heading_id(closing.para or {}, para)
            )
        return {}

    def _heading_id(self, old: dict[str, Any], new: dict[str, Any]) -> dict[str, Any]:
        if not str(new.get("namedStyleType", "")).startswith("HEADING_"):
            new.pop("headingId", None)
        elif "headingId" not in new:
            new["headingId"] = old.get("headingId") or self.new_id("h.")
        return new

    def create_paragraph_bullets(self, body: dict[str, Any]) -> dict[str, Any]:
        first, last = self._range(body)
        preset = body.get("bulletPreset")
        if preset not in BULLET_PRESETS:
            raise self.fail(f"Unsupported bulletPreset: {preset!r}.")
        targets = self._overlapping(first, last)
        if not targets:
            return {}
        list_id = self._list_to_join(targets[0], preset)
        if list_id is None:
            list_id = self.new_id("kix.")
            self.lists[list_id] = {"preset": preset}
        # Leading tabs give the nesting level and are removed, which shifts later indices.
        for p in reversed(targets):
            tabs = 0
            while p.start + tabs < p.end - 1 and self.units[p.start + tabs].text == "\t":
                tabs += 1
            bullet = {"listId": list_id, "nestingLevel": min(tabs, NESTING_LEVELS - 1)}
            self.units[p.end - 1] = replace(self.units[p.end - 1], bullet=bullet)
            del self.units[p.start : p.start + tabs]
        return {}

    def _list_to_join(self, first: Paragraph, preset: str) -> str | None:
        """The list of the paragraph just before `first`, if it uses the same preset."""
        before = self.units[first.start - 1] if first.start > 0 else None
        if before is None or not before.is_newline or not before.bullet:
            return None
        list_id = before.bullet["listId"]
        return list_id if self.lists.get(list_id, {}).get("preset") == preset else None

    def delete_paragraph_bullets(self, body: dict[str, Any]) -> dict[str, Any]:
        first, last = self._range(body)
        for p in self._overlapping(first, last):
            self.units[p.end - 1] = replace(self.units[p.end - 1], bullet=None)
        return {}

    def replace_all_text(self, body: dict[str, Any]) -> dict[str, Any]:
        criteria = body.get("containsText") or {}
        needle = criteria.get("text") or ""
        if not needle:
            raise self.fail("containsText.text must not be empty.")
        tabs = (body.get("tabsCriteria") or {}).get("tabIds")
        replacement = clean_text(str(body.get("replaceText") or ""))
        matches = [] if tabs and TAB_ID not in tabs else self._find(needle, criteria)
        for start, end in reversed(matches):
            closing = self.units[paragraph_at(self.units, start).end - 1]
            style = self.units[start].style
            self.units[start:end] = self._new_units(replacement, style, closing)
        # proto3 JSON leaves out a zero count: the real reply is then {"replaceAllText": {}}.
        return {"replaceAllText": {"occurrencesChanged": len(matches)} if matches else {}}

    def _find(self, needle: str, criteria: dict[str, Any]) -> list[tuple[int, int]]:
        """Positions of the matches, paragraph by paragraph (a match never spans a paragraph break)."""
        match_case = bool(criteria.get("matchCase"))
        pattern = None
        if criteria.get("searchByRegex"):
            try:
                pattern = re.compile(needle, 0 if match_case else re.IGNORECASE)
            except re.error as exc:
                raise self.fail(f"Invalid regular expression: {exc}") from None
        found: list[tuple[int, int]] = []
        for p in paragraphs(self.units):
            text = "".join(u.text for u in self.units[p.start : p.end - 1])
            if pattern is not None:
                spans = [m.span() for m in pattern.finditer(text) if m.end() > m.start()]
            else:
                spans = _substring_spans(text, needle, match_case)
            found.extend((p.start + a, p.start + b) for a, b in spans)
        return found

    def delete_content_range(self, body: dict[str, Any]) -> dict[str, Any]:
        first, last = self._range(body)
        if last == len(self.units):
            raise self.fail(
                "The range cannot include the newline character at the end of the segment."
            )
        removed = self.units[first:last]
        if not _whole_tables(removed):
            raise self.fail(BAD_DELETION)
        merged_style = None
        starts_mid_paragraph = first > 0 and self.units[first - 1].is_char
        starts_mid_paragraph = starts_mid_paragraph and not self.units[first - 1].is_newline
        if starts_mid_paragraph and any(u.is_newline for u in removed):
            # Two paragraphs merge; like the editor, the result keeps the first one's style.
            merged_style = self.units[paragraph_at(self.units, first).end - 1]
        kept = self.units[:first] + self.units[last:]
        try:
            parse(kept)
        except Malformed:
            raise self.fail(BAD_DELETION) from None
        if merged_style is not None:
            closing = paragraph_at(kept, first).end - 1
            kept[closing] = replace(
                kept[closing], para=merged_style.para, bullet=merged_style.bullet
            )
        self.units = kept
        return {}


def _masked(
    old: dict[str, Any],
    values: dict[str, Any],
    fields: list[str],
    defaults: dict[str, Any],
) -> dict[str, Any]:
    """Apply a field mask: listed fields take the new value, or their default when it is unset."""
    new = dict(old)
    for name in fields:
        value = values.get(name)
        if value is None or value == {} or _TEXT_DEFAULTS.get(name, object()) == value:
            if name in defaults:
                new[name] = defaults[name]
            else:
                new.pop(name, None)
        else:
            new[name] = copy.deepcopy(value)
    return new


def _substring_spans(text: str, needle: str, match_case: bool) -> list[tuple[int, int]]:
    if not match_case:
        # Lower-case code point by code point, so positions in `text` stay valid.
        text = "".join(c.lower() if len(c.lower()) == 1 else c for c in text)
        needle = "".join(c.lower() if len(c.lower()) == 1 else c for c in needle)
    spans, at = [], text.find(needle)
    while at >= 0:
        spans.append((at, at + len(needle)))
        at = text.find(needle, at + len(needle))
    return spans


def _whole_tables(removed: list[Unit]) -> bool:
    """True when the removed units hold only whole tables (or none): rows and cells go with their table."""
    depth = 0
    for unit in removed:
        if unit.kind is Kind.TABLE:
            depth += 1
        elif unit.kind is Kind.END:
            depth -= 1
            if depth < 0:
                return False
        elif unit.kind in (Kind.ROW, Kind.CELL) and depth == 0:
            return False
    return depth == 0


def _request_kind(request: Any, number: int) -> tuple[str, dict[str, Any]]:
    if not isinstance(request, dict):
        raise invalid(f"Invalid value at 'requests[{number}]': a request must be an object.")
    names = [name for name, value in request.items() if value is not None]
    for name in names:
        if name not in _HANDLERS and name not in UNIMPLEMENTED:
            raise invalid(
                f"Invalid JSON payload received. Unknown name \"{name}\" at 'requests[{number}]': "
                "Cannot find field."
            )
    if len(names) != 1:
        raise invalid(
            f"Invalid requests[{number}]: exactly one kind of request must be set, got {len(names)}."
        )
    name = names[0]
    if name in UNIMPLEMENTED:
        raise DocsError(
            501, "UNIMPLEMENTED", f"The sandbox does not implement requests[{number}].{name}."
        )
    body = request[name]
    if not isinstance(body, dict):
        raise invalid(f"Invalid value at 'requests[{number}].{name}': expected an object.")
    return name, body


_HANDLERS: dict[str, Callable[[Editor, dict[str, Any]], dict[str, Any]]] = {
    "insertText": Editor.insert_text,
    "insertTable": Editor.insert_table,
    "updateTextStyle": Editor.update_text_style,
    "updateParagraphStyle": Editor.update_paragraph_style,
    "createParagraphBullets": Editor.create_paragraph_bullets,
    "deleteParagraphBullets": Editor.delete_paragraph_bullets,
    "replaceAllText": Editor.replace_all_text,
    "deleteContentRange": Editor.delete_content_range,
}
