"""A1 notation, pure: parse `'Sheet name'!A1:D5` and friends into grid bounds and format them back.

Bounds are zero-based and half-open like the API's GridRange (`start` inclusive,
`end` exclusive); `None` means unbounded on that side (`A:C` has no row bounds).
A bare name that is not a cell reference parses as a whole sheet; the model
then looks for a tab or a named range of that name. Not supported: R1C1
notation (the model reports it as "Unable to parse range").
"""

from __future__ import annotations

import re
from dataclasses import dataclass

MAX_COLUMNS = 18_278  # ZZZ, the widest column label Sheets accepts
MAX_ROWS = 10_000_000  # no sheet can be taller than the 10M-cell workbook limit

_CELL = re.compile(r"^\$?([A-Za-z]{0,3})\$?([0-9]*)$")
_PLAIN_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
_LOOKS_LIKE_CELL = re.compile(
    r"^(?:[A-Za-z]{1,3}[0-9]+|[Rr][0-9]*[Cc][0-9]*|[A-Za-z]{1,3}|[0-9]+)$"
)


class A1Error(ValueError):
    """The text is not a range this emulator understands."""


@dataclass(frozen=True)
class A1Range:
    """A parsed range: an optional sheet name and zero-based half-open bounds (None = open)."""

    sheet: str | None
    start_row: int | None = None
    end_row: int | None = None
    start_col: int | None = None
    end_col: int | None = None

    @property
    def whole_sheet(self) -> bool:
        return (
            self.start_row is None
            and self.end_row is None
            and self.start_col is None
            and self.end_col is None
        )

    def bounded(self, rows: int, cols: int) -> tuple[int, int, int, int]:
        """(r0, r1, c0, c1) with open sides closed by a grid of `rows` x `cols`."""
        return (
            self.start_row or 0,
            rows if self.end_row is None else self.end_row,
            self.start_col or 0,
            cols if self.end_col is None else self.end_col,
        )


def column_letters(index: int) -> str:
    """Zero-based column index -> letters (0 -> A, 26 -> AA)."""
    if index < 0:
        raise ValueError("column index must be >= 0")
    letters = ""
    n = index + 1
    while n:
        n, rem = divmod(n - 1, 26)
        letters = chr(65 + rem) + letters
    return letters


def column_index(letters: str) -> int:
    """Column letters -> zero-based index (A -> 0, AA -> 26); case-insensitive."""
    if not letters or not letters.isalpha() or not letters.isascii():
        raise ValueError(f"not column letters: {letters!r}")
    n = 0
    for ch in letters.upper():
        n = n * 26 + (ord(ch) - 64)
    return n - 1


def quote_sheet(name: str) -> str:
    """A sheet name as it must appear before `!`: quoted (inner quotes doubled) unless plain."""
    if _PLAIN_NAME.match(name) and not _LOOKS_LIKE_CELL.match(name):
        return name
    return "'" + name.replace("'", "''") + "'"


def format_cells(start_row: int, end_row: int, start_col: int, end_col: int) -> str:
    """Closed bounds as `A1:B2`, or `A1` for a single cell."""
    first = f"{column_letters(start_col)}{start_row + 1}"
    if end_row - start_row == 1 and end_col - start_col == 1:
        return first
    return f"{first}:{column_letters(end_col - 1)}{end_row}"


def format_range(sheet: str, start_row: int, end_row: int, start_col: int, end_col: int) -> str:
    """`'Sheet name'!A1:B2` for closed bounds, the way the API writes ranges in replies."""
    return f"{quote_sheet(sheet)}!{format_cells(start_row, end_row, start_col, end_col)}"


def format_a1(rng: A1Range) -> str:
    """Any parsed range back to text (open sides stay open), for round trips and messages."""
    cells = _format_open_cells(rng)
    if rng.sheet is None:
        return cells
    return quote_sheet(rng.sheet) + ("!" + cells if cells else "")


def _format_open_cells(rng: A1Range) -> str:
    if rng.whole_sheet:
        return ""

    def end(col: int | None, row: int | None) -> str:
        return (column_letters(col) if col is not None else "") + (
            str(row) if row is not None else ""
        )

    start = end(rng.start_col, None if rng.start_row is None else rng.start_row + 1)
    stop = end(None if rng.end_col is None else rng.end_col - 1, rng.end_row)
    single = (
        rng.end_row is not None
        and rng.start_row is not None
        and rng.end_col is not None
        and rng.start_col is not None
        and rng.end_row - rng.start_row == 1
        and rng.end_col - rng.start_col == 1
    )
    return start if single else f"{start}:{stop}"


def parse(text: str) -> A1Range:
    """Parse A1 text; a bare name that is not a cell reference is a whole sheet."""
    if text.startswith("'"):
        sheet, rest = _split_quoted(text)
        if rest == "":
            return A1Range(sheet)
        if not rest.startswith("!") or len(rest) == 1:
            raise A1Error(text)
        return _with_cells(sheet, rest[1:], text)
    if "!" in text:
        sheet, cells = text.rsplit("!", 1)
        if not sheet or not cells:
            raise A1Error(text)
        return _with_cells(sheet, cells, text)
    try:
        return _with_cells(None, text, text)
    except A1Error:
        if not text.strip():
            raise
        return A1Range(text)


def _split_quoted(text: str) -> tuple[str, str]:
    """`'It''s'!A1` -> ("It's", "!A1")."""
    name: list[str] = []
    i = 1
    while i < len(text):
        ch = text[i]
        if ch == "'":
            if text[i + 1 : i + 2] == "'":
                name.append("'")
                i += 2
                continue
            if not name:
                raise A1Error(text)
            return "".join(name), text[i + 1 :]
        name.append(ch)
        i += 1
    raise A1Error(text)


def _with_cells(sheet: str | None, cells: str, original: str) -> A1Range:
    parts = cells.split(":")
    if len(parts) == 1:
        col, row = _endpoint(parts[0], original)
        if col is None or row is None:
            raise A1Error(original)  # `A` or `5` alone is not a range
        return A1Range(sheet, row, row + 1, col, col + 1)
    if len(parts) != 2:
        raise A1Error(original)
    (c0, r0), (c1, r1) = _endpoint(parts[0], original), _endpoint(parts[1], original)
    if (r0 is None and c1 is None) or (c0 is None and r1 is None):
        raise A1Error(original)  # `A:5` or `5:A` mixes a bare column with a bare row
    if c0 is not None and c1 is not None and c0 > c1:
        c0, c1 = c1, c0
    if r0 is not None and r1 is not None and r0 > r1:
        r0, r1 = r1, r0
    return A1Range(
        sheet,
        start_row=r0 if r0 is not None else (0 if r1 is not None else None),
        end_row=None if r1 is None else r1 + 1,
        start_col=c0 if c0 is not None else (0 if c1 is not None else None),
        end_col=None if c1 is None else c1 + 1,
    )


def _endpoint(text: str, original: str) -> tuple[int | None, int | None]:
    """`B7` -> (1, 6); `B` -> (1, None); `7` -> (None, 6); `$B$7` as `B7`."""
    match = _CELL.match(text)
    if not match or not text.strip("$"):
        raise A1Error(original)
    letters, digits = match.groups()
    col = column_index(letters) if letters else None
    row = int(digits) - 1 if digits else None
    if row is not None and not 0 <= row < MAX_ROWS:
        raise A1Error(original)
    if col is not None and col >= MAX_COLUMNS:
        raise A1Error(original)
    return col, row
