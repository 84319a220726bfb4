"""A bot-owned table inside a staff-owned sheet (pure): A1 helpers, columns by header, rows by id, minimal writes.

Staff add columns, reorder them, sort and filter rows. The bot therefore never
trusts positions between runs: each run reads the whole tab, finds its own
columns by header and its rows by an id column, and writes only the cells that
differ, as a handful of A1 ranges for one `values:batchUpdate`.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from coalition.settings import ConfigError

CellValue = str | int | float | bool

_BARE_TAB = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
_CELL_LIKE = re.compile(r"^([A-Za-z]{1,3}[0-9]+|[Rr][0-9]*[Cc][0-9]*)$")
_A1 = re.compile(
    r"^(?:(?P<tab>'(?:[^']|'')+'|[^'!]+)!)?"
    r"(?P<c1>[A-Za-z]+)?(?P<r1>[0-9]+)?"
    r"(?::(?P<c2>[A-Za-z]+)?(?P<r2>[0-9]+)?)?$"
)


class SheetTableError(ConfigError):
    """The tab does not have the shape the bot needs; the message names what and where (staff can fix it)."""


class MissingHeaderError(SheetTableError):
    """A header the bot needs is missing (or renamed) in row 1 of the tab."""

    def __init__(self, where: str, missing: Sequence[str], found: Sequence[str]) -> None:
        self.where = where
        self.missing = list(missing)
        self.found = list(found)
        shown = ", ".join(f"'{h}'" for h in found if h) or "nothing"
        names = ", ".join(f"'{h}'" for h in missing)
        word = "column" if len(missing) == 1 else "columns"
        super().__init__(
            f"{where}: {word} {names} not found in the header row (row 1 has {shown}); "
            "restore the header or change directory_columns in config/roster.yaml. Nothing was written."
        )


class DuplicateHeaderError(SheetTableError):
    """Two columns carry the same bot header, so the bot cannot tell which one it owns."""

    def __init__(self, where: str, header: str, columns: Sequence[int]) -> None:
        self.where = where
        self.header = header
        letters = " and ".join(column_letter(c) for c in columns)
        super().__init__(
            f"{where}: the header '{header}' appears in columns {letters}; keep one. Nothing was written."
        )


# ---------------------------------------------------------------- A1 notation
def column_letter(index: int) -> str:
    """0-based column index -> letters (0 -> A, 25 -> Z, 26 -> AA)."""
    if index < 0:
        raise ValueError("column index must be >= 0")
    letters = ""
    index += 1
    while index:
        index, rest = divmod(index - 1, 26)
        letters = chr(65 + rest) + letters
    return letters


def column_index(letters: str) -> int:
    """Letters -> 0-based column index (A -> 0, AA -> 26)."""
    if not letters or not letters.isalpha() or not letters.isascii():
        raise ValueError(f"not a column: {letters!r}")
    index = 0
    for char in letters.upper():
        index = index * 26 + (ord(char) - 64)
    return index - 1


def quote_tab(name: str) -> str:
    """A tab name as A1 notation wants it: bare when safe, else quoted with inner quotes doubled."""
    if _BARE_TAB.match(name) and not _CELL_LIKE.match(name):
        return name
    return "'" + name.replace("'", "''") + "'"


def a1_cell(tab: str, row: int, col: int) -> str:
    """'Tab'!B7 for 1-based `row` and 0-based `col`."""
    return f"{quote_tab(tab)}!{column_letter(col)}{row}"


def a1_range(tab: str, row: int, first_col: int, last_col: int, last_row: int | None = None) -> str:
    """'Tab'!B7:D7 (or down to `last_row`), 1-based rows, 0-based columns."""
    end_row = row if last_row is None else last_row
    start = f"{column_letter(first_col)}{row}"
    end = f"{column_letter(last_col)}{end_row}"
    return f"{quote_tab(tab)}!{start}" if start == end else f"{quote_tab(tab)}!{start}:{end}"


@dataclass(frozen=True)
class A1:
    """A parsed range; rows 1-based, columns 0-based, None where open-ended."""

    tab: str | None
    first_row: int | None
    first_col: int | None
    last_row: int | None
    last_col: int | None


def parse_a1(text: str) -> A1:
    """Parse 'Tab'!A1:C9, Tab!A:A, A5, 'It''s'!B2 and the like."""
    text = text.strip()
    match = _A1.match(text)
    if not match or text.endswith(("!", ":")):
        raise ValueError(f"not an A1 range: {text!r}")
    tab = match.group("tab")
    cells = text[match.end("tab") + 1 :] if tab else text
    if tab and tab.startswith("'"):
        tab = tab[1:-1].replace("''", "'")
    c1, r1, c2, r2 = match.group("c1", "r1", "c2", "r2")
    first_col = column_index(c1) if c1 else None
    first_row = int(r1) if r1 else None
    if not cells:
        raise ValueError(f"not an A1 range: {text!r}")
    has_end = ":" in cells
    last_col = column_index(c2) if c2 else (first_col if not has_end else None)
    last_row = int(r2) if r2 else (first_row if not has_end else None)
    return A1(tab, first_row, first_col, last_row, last_col)


# ---------------------------------------------------------------- values
def normalize_header(text: Any) -> str:
    """How headers are compared: NFC, case-folded, inner whitespace collapsed."""
    folded = unicodedata.normalize("NFC", str(text or "")).casefold()
    return " ".join(folded.split())


def cell_text(value: Any) -> str:
    """A cell value as comparable text, whether it came back formatted or unformatted."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, int | float):
        return repr(value)
    return unicodedata.normalize("NFC", str(value))


def same_cell(current: Any, desired: Any) -> bool:
    """True when writing `desired` would not change what the sheet holds."""
    return cell_text(current) == cell_text(desired)


# ---------------------------------------------------------------- the table
@dataclass
class SheetTable:
    """A tab's values with the bot's columns found by header and its rows found by the id column.

    `values` is what one values.get of the whole tab returned: row 1 is the header,
    trailing empty rows and cells are absent, an empty row in between is [].
    """

    tab: str
    values: list[list[Any]]
    columns: dict[str, int]
    id_header: str
    rows_by_id: dict[str, list[int]] = field(default_factory=dict)
    where: str = ""

    @classmethod
    def from_values(
        cls,
        tab: str,
        values: Sequence[Sequence[Any]],
        headers: Iterable[str],
        id_header: str,
        where: str | None = None,
    ) -> SheetTable:
        """Find each of `headers` in row 1 (raising a clear error if one is missing) and index rows by id."""
        rows = [list(r) for r in values]
        wanted = list(dict.fromkeys([id_header, *headers]))
        place = where or f"tab '{tab}'"
        header_row = rows[0] if rows else []
        if not any(cell_text(c).strip() for c in header_row):
            # An empty tab: the bot may write its header (see `header_cells`), nothing else exists.
            table = cls(tab, rows, {}, id_header, where=place)
            return table
        columns = find_columns(header_row, wanted, place)
        table = cls(tab, rows, columns, id_header, where=place)
        table.rows_by_id = table._index_rows()
        return table

    # -- shape
    @property
    def has_header(self) -> bool:
        return bool(self.columns)

    @property
    def last_row(self) -> int:
        """The last row number the read returned (1 = only a header)."""
        return len(self.values)

    @property
    def duplicate_ids(self) -> dict[str, list[int]]:
        return {key: rows for key, rows in self.rows_by_id.items() if len(rows) > 1}

    def _index_rows(self) -> dict[str, list[int]]:
        id_col = self.columns[self.id_header]
        found: dict[str, list[int]] = {}
        for number, row in enumerate(self.values[1:], start=2):
            key = cell_text(row[id_col] if id_col < len(row) else "").strip()
            if key:
                found.setdefault(key, []).append(number)
        return found

    # -- reading
    def cell(self, row: int, header: str) -> Any:
        col = self.columns[header]
        values = self.values[row - 1] if 0 < row <= len(self.values) else []
        return values[col] if col < len(values) else ""

    def row_cells(self, row: int) -> dict[str, Any]:
        return {header: self.cell(row, header) for header in self.columns}

    # -- planning writes
    def changed_cells(
        self, row: int, desired: Mapping[str, CellValue]
    ) -> dict[tuple[int, int], CellValue]:
        """{(row, col): value} for each of `desired` that differs from the sheet."""
        changes: dict[tuple[int, int], CellValue] = {}
        for header, value in desired.items():
            if not same_cell(self.cell(row, header), value):
                changes[(row, self.columns[header])] = value
        return changes

    def append_row(self, desired: Mapping[str, CellValue]) -> list[CellValue]:
        """A new row in sheet column order; staff columns and gaps stay empty."""
        width = max(self.columns[h] for h in desired) + 1 if desired else 0
        cells: list[CellValue] = [""] * width
        for header, value in desired.items():
            cells[self.columns[header]] = value
        return cells

    def header_cells(self, headers: Sequence[str]) -> list[dict[str, Any]]:
        """For an empty tab: adopt `headers` as columns A.. and return the range writing them."""
        if self.has_header:
            raise SheetTableError(f"{self.where}: already has a header row")
        self.columns = {h: i for i, h in enumerate(dict.fromkeys([self.id_header, *headers]))}
        self.values = [list(self.columns)]
        self.rows_by_id = {}
        return [
            {
                "range": a1_range(self.tab, 1, 0, len(self.columns) - 1),
                "values": [list(self.columns)],
            }
        ]


def find_columns(header_row: Sequence[Any], wanted: Sequence[str], where: str) -> dict[str, int]:
    """{header: 0-based column} for each wanted header, matched by `normalize_header`."""
    positions: dict[str, list[int]] = {}
    for index, text in enumerate(header_row):
        key = normalize_header(text)
        if key:
            positions.setdefault(key, []).append(index)
    missing = [h for h in wanted if normalize_header(h) not in positions]
    if missing:
        raise MissingHeaderError(where, missing, [cell_text(h) for h in header_row])
    columns: dict[str, int] = {}
    for header in wanted:
        found = positions[normalize_header(header)]
        if len(found) > 1:
            raise DuplicateHeaderError(where, header, found)
        columns[header] = found[0]
    return columns


def ranges_for(tab: str, changes: Mapping[tuple[int, int], CellValue]) -> list[dict[str, Any]]:
    """Group changed cells into the fewest row ranges of adjacent columns, for values:batchUpdate."""
    by_row: dict[int, dict[int, CellValue]] = {}
    for (row, col), value in changes.items():
        by_row.setdefault(row, {})[col] = value
    ranges: list[dict[str, Any]] = []
    for row in sorted(by_row):
        cols = by_row[row]
        run: list[int] = []
        for col in sorted(cols):
            if run and col != run[-1] + 1:
                ranges.append(_range_of(tab, row, run, cols))
                run = []
            run.append(col)
        if run:
            ranges.append(_range_of(tab, row, run, cols))
    return ranges


def _range_of(tab: str, row: int, run: list[int], cols: Mapping[int, CellValue]) -> dict[str, Any]:
    return {"range": a1_range(tab, row, run[0], run[-1]), "values": [[cols[c] for c in run]]}


def delete_rows_requests(sheet_id: int, rows: Iterable[int]) -> list[dict[str, Any]]:
    """deleteDimension requests for 1-based `rows`, bottom-up so earlier deletions do not shift later ones."""
    ordered = sorted(set(rows), reverse=True)
    requests: list[dict[str, Any]] = []
    block: list[int] = []
    for row in ordered:
        if block and row != block[-1] - 1:
            requests.append(_delete_block(sheet_id, block))
            block = []
        block.append(row)
    if block:
        requests.append(_delete_block(sheet_id, block))
    return requests


def _delete_block(sheet_id: int, block: list[int]) -> dict[str, Any]:
    top, bottom = block[-1], block[0]
    return {
        "deleteDimension": {
            "range": {
                "sheetId": sheet_id,
                "dimension": "ROWS",
                "startIndex": top - 1,
                "endIndex": bottom,
            }
        }
    }
