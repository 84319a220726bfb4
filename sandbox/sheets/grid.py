"""The shape of a spreadsheet in the Sheets emulator, pure: sheets, their grid, and cells as row lists.

Rows are plain lists with trailing empty cells trimmed, so reading 10,000 rows
is a few list slices. A transaction (batchUpdate, append) works on a `clone`
that shares row lists with the original and copies a row only when it first
writes to it, so all-or-nothing costs almost nothing on a big sheet.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass, field
from typing import Any

from sandbox.sheets import cells

DEFAULT_ROWS = 1000
DEFAULT_COLUMNS = 26
MAX_CELLS = 10_000_000


@dataclass
class Cell:
    """One cell as tests see it: `value` formatted, `raw` unformatted, `formula` if one was typed."""

    row: int
    col: int
    value: str
    raw: Any
    formula: str | None

    @property
    def is_formula(self) -> bool:
        return self.formula is not None

    @property
    def is_empty(self) -> bool:
        return self.value == "" and self.formula is None


@dataclass
class Sheet:
    """One tab: properties, grid size and cells as row lists (None is an empty cell)."""

    sheet_id: int
    title: str
    row_count: int = DEFAULT_ROWS
    col_count: int = DEFAULT_COLUMNS
    rows: list[list[Any]] = field(default_factory=list)
    extra: dict[str, Any] = field(default_factory=dict)  # hidden, tabColor, rightToLeft...
    grid_extra: dict[str, Any] = field(default_factory=dict)  # frozenRowCount, hideGridlines...
    # Ids of the row lists this copy owns; None once committed (it owns every row).
    _owned: set[int] | None = field(default=None, repr=False, compare=False)

    def clone(self) -> Sheet:
        """A copy sharing row lists until it writes to them (see `writable_row`)."""
        return Sheet(
            self.sheet_id,
            self.title,
            self.row_count,
            self.col_count,
            list(self.rows),
            copy.deepcopy(self.extra),
            copy.deepcopy(self.grid_extra),
            set(),
        )

    def deep_clone(self) -> Sheet:
        """An independent copy (duplicateSheet, copying a spreadsheet)."""
        twin = self.clone()
        twin.rows = [row.copy() for row in self.rows]
        twin._owned = None
        return twin

    def commit(self) -> None:
        self._owned = None

    def get(self, row: int, col: int) -> Any:
        if row < len(self.rows):
            values = self.rows[row]
            if col < len(values):
                return values[col]
        return None

    def writable_row(self, row: int) -> list[Any]:
        """Row `row` (created if missing), copied first if it is still shared with the original."""
        rows = self.rows
        while len(rows) <= row:
            rows.append([])
        values = rows[row]
        if self._owned is not None and id(values) not in self._owned:
            values = values.copy()
            rows[row] = values
            self._owned.add(id(values))
        return values

    def set(self, row: int, col: int, stored: Any) -> None:
        if stored is None and (row >= len(self.rows) or col >= len(self.rows[row])):
            return
        values = self.writable_row(row)
        if len(values) <= col:
            values.extend([None] * (col + 1 - len(values)))
        values[col] = stored
        trim(values)

    def clear(self, r0: int, r1: int, c0: int, c1: int) -> None:
        for r in range(r0, min(r1, len(self.rows))):
            if c0 < len(self.rows[r]):
                values = self.writable_row(r)
                end = min(c1, len(values))
                values[c0:end] = [None] * (end - c0)
                trim(values)

    def insert_rows(self, start: int, count: int) -> None:
        self.row_count += count
        if start < len(self.rows):
            self.rows[start:start] = [[] for _ in range(count)]

    def delete_rows(self, start: int, end: int) -> None:
        del self.rows[start:end]
        self.row_count -= end - start

    def insert_columns(self, start: int, count: int) -> None:
        self.col_count += count
        for r, values in enumerate(self.rows):
            if start < len(values):
                self.writable_row(r)[start:start] = [None] * count

    def delete_columns(self, start: int, end: int) -> None:
        self.col_count -= end - start
        for r, values in enumerate(self.rows):
            if start < len(values):
                row = self.writable_row(r)
                del row[start:end]
                trim(row)

    def resize(self, rows: int | None = None, cols: int | None = None) -> None:
        """Set the grid size; cells outside it are lost, as in Sheets."""
        if rows is not None:
            self.row_count = rows
            del self.rows[rows:]
        if cols is not None:
            self.col_count = cols
            for r, values in enumerate(self.rows):
                if len(values) > cols:
                    row = self.writable_row(r)
                    del row[cols:]
                    trim(row)

    def replace_rows(self, rows: list[list[Any]], store: Any) -> None:
        """New contents for the whole tab; the grid grows to hold them."""
        self.rows = []
        for values in rows:
            row = [store(v) for v in values]
            trim(row)
            self.rows.append(row)
        self._owned = None
        self.row_count = max(self.row_count, len(self.rows))
        self.col_count = max(self.col_count, max((len(r) for r in self.rows), default=0))

    def properties(self, index: int) -> dict[str, Any]:
        """SheetProperties as the API returns them."""
        return {
            "sheetId": self.sheet_id,
            "title": self.title,
            "index": index,
            "sheetType": "GRID",
            "gridProperties": {
                "rowCount": self.row_count,
                "columnCount": self.col_count,
                **self.grid_extra,
            },
            **self.extra,
        }


@dataclass
class Spreadsheet:
    spreadsheet_id: str
    title: str
    sheets: list[Sheet]
    locale: str = "en_US"
    time_zone: str = "Etc/GMT"
    recorded: list[dict[str, Any]] = field(default_factory=list)
    # NamedRange objects as the API shows them: {namedRangeId, name, range: GridRange}.
    named_ranges: list[dict[str, Any]] = field(default_factory=list)
    charts: dict[int, dict[str, Any]] = field(default_factory=dict)  # see sandbox/sheets/charts.py

    def clone(self) -> Spreadsheet:
        """A transaction's working copy (cheap: rows are copied on first write)."""
        return Spreadsheet(
            self.spreadsheet_id,
            self.title,
            [s.clone() for s in self.sheets],
            self.locale,
            self.time_zone,
            list(self.recorded),
            copy.deepcopy(self.named_ranges),
            copy.deepcopy(self.charts),
        )

    def deep_clone(self) -> Spreadsheet:
        return Spreadsheet(
            self.spreadsheet_id,
            self.title,
            [s.deep_clone() for s in self.sheets],
            self.locale,
            self.time_zone,
            copy.deepcopy(self.recorded),
            copy.deepcopy(self.named_ranges),
            copy.deepcopy(self.charts),
        )

    def shift_named_ranges(self, sheet_id: int, dim: str, start: int, count: int) -> None:
        """Rows or columns inserted at `start`: named ranges below or across them follow, as in Sheets."""
        low, high = _grid_keys(dim)
        for named in self._named_on(sheet_id):
            grid = named["range"]
            if low not in grid and high not in grid:
                continue  # whole rows or columns stay whole
            if grid.get(low, 0) >= start:
                grid[low] = grid.get(low, 0) + count
            if high in grid and grid[high] > start:
                grid[high] += count

    def cut_named_ranges(self, sheet_id: int, dim: str, start: int, end: int) -> None:
        """Rows or columns [start, end) deleted: named ranges shrink or move up; emptied ones go."""
        low, high = _grid_keys(dim)

        def moved(index: int) -> int:
            return index - max(0, min(index, end) - start)

        for named in list(self._named_on(sheet_id)):
            grid = named["range"]
            if low in grid:
                grid[low] = moved(grid[low])
            if high in grid:
                grid[high] = moved(grid[high])
                if grid[high] <= grid.get(low, 0):
                    self.named_ranges.remove(named)

    def _named_on(self, sheet_id: int) -> list[dict[str, Any]]:
        return [n for n in self.named_ranges if n["range"].get("sheetId", 0) == sheet_id]

    def named_range(self, name: str) -> dict[str, Any] | None:
        """The named range called `name` (names are case-insensitive in Sheets)."""
        folded = name.casefold()
        for named in self.named_ranges:
            if named["name"].casefold() == folded:
                return named
        return None

    def commit(self) -> Spreadsheet:
        for sheet in self.sheets:
            sheet.commit()
        return self

    def cell_count(self) -> int:
        return sum(s.row_count * s.col_count for s in self.sheets)

    def sheet_by_title(self, title: str) -> Sheet | None:
        """Exact match first; Sheets also accepts a title in another case."""
        for sheet in self.sheets:
            if sheet.title == title:
                return sheet
        folded = title.casefold()
        for sheet in self.sheets:
            if sheet.title.casefold() == folded:
                return sheet
        return None

    def sheet_by_id(self, sheet_id: Any) -> Sheet | None:
        for sheet in self.sheets:
            if sheet.sheet_id == sheet_id:
                return sheet
        return None

    # ------------------------------------------------------------ persistence
    def dump(self) -> dict[str, Any]:
        return {
            "id": self.spreadsheet_id,
            "title": self.title,
            "locale": self.locale,
            "timeZone": self.time_zone,
            "recorded": self.recorded,
            "namedRanges": self.named_ranges,
            "charts": list(self.charts.values()),
            "sheets": [
                {
                    "sheetId": s.sheet_id,
                    "title": s.title,
                    "rowCount": s.row_count,
                    "columnCount": s.col_count,
                    "extra": s.extra,
                    "gridExtra": s.grid_extra,
                    "rows": [[cells.to_json(v) for v in row] for row in s.rows],
                }
                for s in self.sheets
            ],
        }

    @classmethod
    def load(cls, raw: dict[str, Any]) -> Spreadsheet:
        sheets = [
            Sheet(
                s["sheetId"],
                s["title"],
                s["rowCount"],
                s["columnCount"],
                [[cells.from_json(v) for v in row] for row in s["rows"]],
                s.get("extra", {}),
                s.get("gridExtra", {}),
            )
            for s in raw["sheets"]
        ]
        return cls(
            raw["id"],
            raw["title"],
            sheets,
            raw.get("locale", "en_US"),
            raw.get("timeZone", "Etc/GMT"),
            raw.get("recorded", []),
            raw.get("namedRanges", []),
            {int(c["chartId"]): c for c in raw.get("charts", [])},
        )


def _grid_keys(dim: str) -> tuple[str, str]:
    """A GridRange's start and end keys along ROWS or COLUMNS."""
    if dim == "ROWS":
        return "startRowIndex", "endRowIndex"
    return "startColumnIndex", "endColumnIndex"


def trim(row: list[Any]) -> None:
    """Drop trailing empty cells, so a row's length is where its data ends."""
    while row and row[-1] is None:
        row.pop()


def has_data(row: list[Any], lo: int, hi: int) -> bool:
    """Whether any cell in columns [lo, hi) is filled (stops at the first one, usually column A)."""
    # A plain loop: this runs once per row of a table on every append, and any() costs twice as much.
    for c in range(max(lo, 0), min(hi, len(row))):  # noqa: SIM110
        if row[c] is not None:
            return True
    return False


def find_table(
    sheet: Sheet, r0: int, r1: int, c0: int, c1: int
) -> tuple[int, int, int, int] | None:
    """The "table" append writes after: the block of touching cells around the window's first data.

    The first row inside the window that holds data seeds the table; it then
    grows over every neighbouring non-empty cell (diagonals included), so an
    empty row ends it and rows appended after a gap land in that gap, as in Sheets.
    Returns (top, bottom, left, right), half-open, or None when the window is empty.
    """
    rows = sheet.rows
    seed = next((r for r in range(r0, min(r1, len(rows))) if has_data(rows[r], c0, c1)), None)
    if seed is None:
        return None
    filled = [c for c in range(c0, min(c1, len(rows[seed]))) if rows[seed][c] is not None]
    top, bottom, left, right = seed, seed + 1, filled[0], filled[-1] + 1
    changed = True
    while changed:
        changed = False
        while bottom < len(rows):
            row = rows[bottom]
            # Most rows of a table fill its first column: check that before scanning the row.
            if not (len(row) > left and row[left] is not None) and not has_data(
                row, left - 1, right + 1
            ):
                break
            bottom += 1
            changed = True
        while top > 0 and has_data(rows[top - 1], left - 1, right + 1):
            top -= 1
            changed = True
        widest = right
        for row in rows[top:bottom]:
            while len(row) > widest and row[widest] is not None:
                widest += 1
        if widest > right:
            right, changed = widest, True
        while left > 0 and any(has_data(rows[r], left - 1, left) for r in range(top, bottom)):
            left -= 1
            changed = True
    return top, bottom, left, right
