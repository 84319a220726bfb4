"""A Docs body as a flat run of units indexed in UTF-16 code units, and the tree read back from it.

Google Docs addresses everything by one integer index: each character takes one
UTF-16 code unit (two for characters outside the BMP, such as most emoji), and so
do the invisible start markers of a table, a row and a cell. Keeping the body as
that flat run makes the index arithmetic of every request a slice operation; the
structural tree (paragraphs, tables, rows, cells) is read from it when needed,
which also checks that an edit left a document the real service would accept.

A paragraph's style and bullet live on its closing newline, as in Docs: splitting
a paragraph copies them, merging two keeps those of the first. Tables end with a
zero-width END unit, so a table's endIndex is the start of the paragraph after it.
"""

from __future__ import annotations

from bisect import bisect_left
from dataclasses import dataclass, field
from enum import Enum
from itertools import accumulate, pairwise
from typing import Any

NEWLINE = "\n"
DEFAULT_PARAGRAPH_STYLE: dict[str, Any] = {
    "namedStyleType": "NORMAL_TEXT",
    "direction": "LEFT_TO_RIGHT",
}


class Kind(Enum):
    CHAR = "c"
    TABLE = "t"
    ROW = "r"
    CELL = "d"
    END = "e"


@dataclass(frozen=True, slots=True)
class Unit:
    """One character, or one structural marker. Style dicts are never mutated in place."""

    kind: Kind
    text: str = ""
    style: dict[str, Any] = field(default_factory=dict)  # text style of a character
    para: dict[str, Any] | None = None  # paragraph style, on a paragraph's newline only
    bullet: dict[str, Any] | None = None  # {"listId", "nestingLevel"}, on a newline only

    @property
    def width(self) -> int:
        if self.kind is Kind.END:
            return 0
        if self.kind is Kind.CHAR and ord(self.text) > 0xFFFF:
            return 2
        return 1

    @property
    def is_char(self) -> bool:
        return self.kind is Kind.CHAR

    @property
    def is_newline(self) -> bool:
        return self.kind is Kind.CHAR and self.text == NEWLINE


def char(text: str, style: dict[str, Any] | None = None) -> Unit:
    return Unit(Kind.CHAR, text, style or {})


def newline(
    style: dict[str, Any] | None = None,
    para: dict[str, Any] | None = None,
    bullet: dict[str, Any] | None = None,
) -> Unit:
    return Unit(Kind.CHAR, NEWLINE, style or {}, dict(para or DEFAULT_PARAGRAPH_STYLE), bullet)


def blank_body() -> list[Unit]:
    """A new document's body: one empty paragraph spanning indices 1..2."""
    return [newline()]


def table_units(rows: int, columns: int) -> list[Unit]:
    """An empty table: each cell holds one empty paragraph."""
    units = [Unit(Kind.TABLE)]
    for _ in range(rows):
        units.append(Unit(Kind.ROW))
        for _ in range(columns):
            units.extend([Unit(Kind.CELL), newline()])
    units.append(Unit(Kind.END))
    return units


def utf16_len(text: str) -> int:
    return len(text.encode("utf-16-le")) // 2


class Malformed(ValueError):
    """The units do not form a document the real service could hold."""


# ------------------------------------------------------------------ indices
class Indexer:
    """Maps unit positions to document indices and back (the body starts at index 1)."""

    def __init__(self, units: list[Unit]) -> None:
        self.units = units
        # Unit.width inlined: an Indexer is rebuilt after every edit of a batchUpdate, and the
        # property call dominated rewriting a weekly document (a one-character string above
        # U+FFFF is a surrogate pair in UTF-16).
        end, char_ = Kind.END, Kind.CHAR
        widths = (
            0 if u.kind is end else 2 if u.kind is char_ and u.text > "\uffff" else 1 for u in units
        )
        # starts[k] is the index of unit k; starts[-1] the segment end
        self.starts = list(accumulate(widths, initial=1))

    @property
    def end(self) -> int:
        return self.starts[-1]

    def index(self, position: int) -> int:
        return self.starts[position]

    def position(self, index: int) -> int | None:
        """Position of the unit at `index` (after any zero-width END there); None inside a surrogate pair."""
        k = bisect_left(self.starts, index)
        if k >= len(self.starts) or self.starts[k] != index:
            return None
        while k < len(self.units) and self.units[k].kind is Kind.END:
            k += 1
        return k


# ------------------------------------------------------------------ tree
@dataclass
class Paragraph:
    start: int  # unit positions; end - 1 is the paragraph's newline
    end: int


@dataclass
class Cell:
    start: int
    end: int
    content: list[Element]


@dataclass
class Row:
    start: int
    end: int
    cells: list[Cell]


@dataclass
class Table:
    start: int
    end: int  # one past the END unit
    rows: list[Row]


Element = Paragraph | Table


def parse(units: list[Unit]) -> list[Element]:
    """Read the body's structural elements, or raise Malformed."""
    elements, k = _content(units, 0, nested=False)
    if k != len(units):
        raise Malformed(f"unexpected {units[k].kind.name} at position {k}")
    return elements


def _content(units: list[Unit], k: int, nested: bool) -> tuple[list[Element], int]:
    elements: list[Element] = []
    while k < len(units):
        kind = units[k].kind
        if kind is Kind.CHAR:
            paragraph, k = _paragraph(units, k)
            elements.append(paragraph)
        elif kind is Kind.TABLE:
            table, k = _table(units, k)
            elements.append(table)
        elif nested:
            break
        else:
            raise Malformed(f"stray {kind.name} marker at position {k}")
    _check_sequence(elements)
    return elements, k


def _paragraph(units: list[Unit], k: int) -> tuple[Paragraph, int]:
    start = k
    while k < len(units) and units[k].is_char and not units[k].is_newline:
        k += 1
    if k >= len(units) or not units[k].is_newline:
        raise Malformed(f"paragraph at position {start} has no closing newline")
    return Paragraph(start, k + 1), k + 1


def _table(units: list[Unit], k: int) -> tuple[Table, int]:
    start = k
    k += 1
    rows: list[Row] = []
    while k < len(units) and units[k].kind is Kind.ROW:
        row_start = k
        k += 1
        cells: list[Cell] = []
        while k < len(units) and units[k].kind is Kind.CELL:
            cell_start = k
            content, k = _content(units, k + 1, nested=True)
            cells.append(Cell(cell_start, k, content))
        if not cells:
            raise Malformed(f"table row at position {row_start} has no cells")
        rows.append(Row(row_start, k, cells))
    if not rows or k >= len(units) or units[k].kind is not Kind.END:
        raise Malformed(f"table at position {start} is not closed")
    if len({len(row.cells) for row in rows}) != 1:
        raise Malformed(f"table at position {start} has rows of different lengths")
    return Table(start, k + 1, rows), k + 1


def _check_sequence(elements: list[Element]) -> None:
    # Docs always keeps a paragraph before and after a table (insertTable adds the one
    # before), and every segment (body or cell) ends with a paragraph's newline.
    if not elements:
        raise Malformed("empty segment")
    if isinstance(elements[0], Table) or isinstance(elements[-1], Table):
        raise Malformed("a table must have a paragraph before and after it")
    for before, after in pairwise(elements):
        if isinstance(before, Table) and isinstance(after, Table):
            raise Malformed("two tables without a paragraph between them")


def paragraphs(units: list[Unit]) -> list[Paragraph]:
    """Every paragraph of the body, table cells included, in document order."""
    found: list[Paragraph] = []
    start: int | None = None
    for k, unit in enumerate(units):
        if not unit.is_char:
            start = None
            continue
        if start is None:
            start = k
        if unit.is_newline:
            found.append(Paragraph(start, k + 1))
            start = None
    return found


def paragraph_at(units: list[Unit], k: int) -> Paragraph:
    """The paragraph holding the character at position k."""
    start = k
    while start > 0 and units[start - 1].is_char and not units[start - 1].is_newline:
        start -= 1
    end = k
    while not units[end].is_newline:
        end += 1
    return Paragraph(start, end + 1)


def plain_text(units: list[Unit]) -> str:
    return "".join(unit.text for unit in units if unit.is_char)
