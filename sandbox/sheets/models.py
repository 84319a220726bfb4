"""State and behaviour of the emulated Google Sheets API v4 (no HTTP here).

Every spreadsheet is also a file in the Drive model, the registry of names,
folders and permissions. Cells live in `grid.py`, values in `cells.py`, A1
notation in `a1.py`, batchUpdate requests in `batch.py`.

Behaviour modelled: A1 ranges (quoted names, open ranges, bare ranges on the
first sheet), named ranges (add/update/deleteNamedRange, `namedRanges` in
create and get, valid as the range of every values method), RAW vs
USER_ENTERED, the three value render options and both dateTimeRenderOptions,
ROWS and COLUMNS major dimensions, trimming of trailing empty rows and cells,
grid limits (writes outside the grid fail; appends and dimension requests grow
it), the 10M-cell and 50,000-characters-a-cell limits, table detection for
append with OVERWRITE or INSERT_ROWS (leading empty columns of the appended
rows are not written), totals of values:batchUpdate counted over distinct rows
and columns, refusing to hide the last visible sheet, and all-or-nothing
batchUpdate and values:batchUpdate whose replies come in request order.

Not implemented: R1C1 notation, developer metadata, data filters
(`*ByDataFilter`), formatting (updateCells/repeatCell formats and the other
formatting requests are accepted and recorded, not applied),
copyPaste/cutPaste/findReplace and the other requests outside
`batch.APPLIED` and `batch.RECORDED_ONLY` (they fail with INVALID_ARGUMENT), a
formula engine beyond arithmetic (see `cells.py`), number formats for dates
(a date shows as typed), per-user permissions. Named ranges follow inserted and
deleted rows and columns; one whose every row or column is deleted is removed
(Sheets keeps it as #REF!).
"""

from __future__ import annotations

import copy
import random
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from sandbox.core import SandboxServices
from sandbox.sheets import a1, batch, cells, charts
from sandbox.sheets.exceptions import (
    InvalidArgument,
    NotFound,
    SheetsError,
    exceeds_grid,
    unparsable,
)
from sandbox.sheets.grid import MAX_CELLS, Cell, Sheet, Spreadsheet, find_table

SPREADSHEET_MIME = "application/vnd.google-apps.spreadsheet"
VALUE_INPUT_OPTIONS = {"RAW", "USER_ENTERED"}
INSERT_DATA_OPTIONS = {"OVERWRITE", "INSERT_ROWS"}
DIMENSIONS = {"ROWS", "COLUMNS"}

Renderer = Callable[[Any], Any]
Store = Callable[[Any], Any]


@dataclass
class Target:
    """A range resolved against a spreadsheet: its sheet and bounds closed by the grid."""

    sheet: Sheet
    rng: a1.A1Range
    r0: int
    r1: int
    c0: int
    c1: int

    def label(self) -> str:
        return a1.format_range(self.sheet.title, self.r0, self.r1, self.c0, self.c1)


class Backend:
    """Every spreadsheet in the sandbox, keyed by id (which is also its Drive file id)."""

    def __init__(self, ctx: SandboxServices) -> None:
        self.ctx = ctx
        self.reset()

    # ------------------------------------------------------------ lifecycle
    def reset(self) -> None:
        self.spreadsheets: dict[str, Spreadsheet] = {}
        self.rng = random.Random(7)

    def snapshot(self) -> dict[str, Any]:
        return {"spreadsheets": [ss.dump() for ss in self.spreadsheets.values()]}

    def restore(self, data: dict[str, Any]) -> None:
        self.spreadsheets = {}
        for raw in data.get("spreadsheets", []):
            ss = Spreadsheet.load(raw)
            self.spreadsheets[ss.spreadsheet_id] = ss
        self.rng = random.Random(7 + len(self.spreadsheets))  # sheet ids are checked for clashes

    # ------------------------------------------------------------ model API (seed, viewer, tests)
    def create_spreadsheet(
        self,
        title: str,
        tabs: dict[str, list[list[Any]]] | None = None,
        parents: list[str] | None = None,
        spreadsheet_id: str | None = None,
    ) -> str:
        """Create a spreadsheet whose tabs hold these values as-is (like RAW); registers its Drive file."""
        spreadsheet_id = spreadsheet_id or self._drive().new_id(SPREADSHEET_MIME)
        sheets: list[Sheet] = []
        for tab, rows in (tabs or {"Sheet1": []}).items():
            sheet = batch.build_sheet(sheets, {"title": tab}, self._new_sheet_id)
            sheet.replace_rows(rows, cells.store_raw)
            sheets.append(sheet)
        self.spreadsheets[spreadsheet_id] = Spreadsheet(spreadsheet_id, title, sheets)
        self._drive().register_file(spreadsheet_id, title, SPREADSHEET_MIME, parents)
        return spreadsheet_id

    def get_values(self, spreadsheet_id: str, tab: str) -> list[list[str]]:
        """A whole tab as a person sees it: formatted, trailing empty rows and cells trimmed."""
        sheet = self._sheet(spreadsheet_id, tab)
        return render(sheet, 0, sheet.row_count, 0, sheet.col_count, cells.formatted)

    def cell(self, spreadsheet_id: str, tab: str, row: int, col: int) -> Cell:
        """One cell by 1-based row and column (as gspread numbers them)."""
        stored = self._sheet(spreadsheet_id, tab).get(row - 1, col - 1)
        return Cell(
            row,
            col,
            cells.formatted(stored),
            cells.unformatted(stored),
            stored.text if isinstance(stored, cells.Formula) else None,
        )

    def set_values(
        self,
        spreadsheet_id: str,
        tab: str,
        rows: list[list[Any]],
        value_input_option: str = "RAW",
    ) -> None:
        """Replace a tab's contents, as staff editing by hand would (sorting, adding columns)."""
        store = self._input_option(value_input_option)
        self._sheet(spreadsheet_id, tab).replace_rows(rows, store)
        self._touch(spreadsheet_id)

    def find_by_title(self, title: str) -> str | None:
        """The id of the first spreadsheet with this title, or None."""
        for ss in self.spreadsheets.values():
            if ss.title == title:
                return ss.spreadsheet_id
        return None

    def tabs(self, spreadsheet_id: str) -> list[str]:
        return [s.title for s in self._spreadsheet(spreadsheet_id).sheets]

    def list_spreadsheets(self) -> list[dict[str, str]]:
        return [{"id": ss.spreadsheet_id, "title": ss.title} for ss in self.spreadsheets.values()]

    def recorded_requests(self, spreadsheet_id: str) -> list[dict[str, Any]]:
        """Formatting requests batchUpdate accepted but did not apply, in order."""
        return list(self._spreadsheet(spreadsheet_id).recorded)

    def exists(self, spreadsheet_id: str) -> bool:
        return spreadsheet_id in self.spreadsheets

    # ------------------------------------------------------------ called by the Drive model
    def delete_spreadsheet(self, spreadsheet_id: str) -> None:
        self.spreadsheets.pop(spreadsheet_id, None)

    def rename(self, spreadsheet_id: str, title: str) -> None:
        if spreadsheet_id in self.spreadsheets:
            self.spreadsheets[spreadsheet_id].title = title

    def copy_spreadsheet(self, source_id: str, new_id: str, title: str) -> None:
        twin = self._spreadsheet(source_id).deep_clone()
        twin.spreadsheet_id = new_id
        twin.title = title
        self.spreadsheets[new_id] = twin

    # ------------------------------------------------------------ spreadsheets.create / get
    def create(self, body: dict[str, Any]) -> dict[str, Any]:
        """spreadsheets.create: properties (title, locale, timeZone) and sheets[].properties."""
        props = body.get("properties") or {}
        title = str(props.get("title") or "Untitled spreadsheet")
        sheets: list[Sheet] = []
        for i, spec in enumerate(body.get("sheets") or [{}]):
            sheet_props = dict(spec.get("properties") or {})
            sheet_props.setdefault("title", f"Sheet{i + 1}")
            try:
                sheets.append(batch.build_sheet(sheets, sheet_props, self._new_sheet_id))
            except (batch.RequestProblem, TypeError, ValueError) as problem:
                raise InvalidArgument(f"Invalid sheets[{i}]: {problem}") from None
        spreadsheet_id = self._drive().new_id(SPREADSHEET_MIME)
        ss = Spreadsheet(
            spreadsheet_id,
            title,
            sheets,
            locale=str(props.get("locale") or "en_US"),
            time_zone=str(props.get("timeZone") or "Etc/GMT"),
        )
        check_cell_limit(ss)
        named = body.get("namedRanges") or []
        if named:
            requests = [{"addNamedRange": {"namedRange": n}} for n in named]
            batch.apply_requests(ss, requests, self._new_sheet_id, self._new_named_range_id)
        self.spreadsheets[spreadsheet_id] = ss
        self._drive().register_file(spreadsheet_id, title, SPREADSHEET_MIME, None)
        return self.metadata(spreadsheet_id)

    def metadata(
        self,
        spreadsheet_id: str,
        include_grid_data: bool = False,
        ranges: Iterable[str] = (),
    ) -> dict[str, Any]:
        """spreadsheets.get: properties and sheets, with cell data when asked (only `ranges`' sheets)."""
        ss = self._spreadsheet(spreadsheet_id)
        ranges = list(ranges)
        targets = [resolve(ss, text, clip=True) for text in ranges]
        sheets = []
        for index, sheet in enumerate(ss.sheets):
            mine = [t for t in targets if t.sheet is sheet]
            if ranges and not mine:
                continue
            entry: dict[str, Any] = {"properties": sheet.properties(index)}
            if ss.charts and (embedded := charts.of_sheet(ss, sheet.sheet_id)):
                entry["charts"] = embedded
            if include_grid_data:
                whole = Target(
                    sheet, a1.A1Range(sheet.title), 0, sheet.row_count, 0, sheet.col_count
                )
                entry["data"] = [grid_data(t) for t in (mine or [whole])]
            sheets.append(entry)
        return {
            "spreadsheetId": ss.spreadsheet_id,
            "properties": {
                "title": ss.title,
                "locale": ss.locale,
                "autoRecalc": "ON_CHANGE",
                "timeZone": ss.time_zone,
            },
            "sheets": sheets,
            **({"namedRanges": copy.deepcopy(ss.named_ranges)} if ss.named_ranges else {}),
            "spreadsheetUrl": f"https://docs.google.com/spreadsheets/d/{ss.spreadsheet_id}/edit",
        }

    # ------------------------------------------------------------ spreadsheets.batchUpdate
    def batch_update(self, spreadsheet_id: str, body: dict[str, Any]) -> dict[str, Any]:
        """Apply every request to a copy and keep it only if all succeed; replies in request order."""
        original = self._spreadsheet(spreadsheet_id)
        ss = original.clone()
        replies = batch.apply_requests(
            ss, body.get("requests"), self._new_sheet_id, self._new_named_range_id
        )
        check_cell_limit(ss)
        self.spreadsheets[spreadsheet_id] = ss.commit()
        if ss.title != original.title:
            self._drive().rename_quietly(spreadsheet_id, ss.title)
        self._touch(spreadsheet_id)
        reply: dict[str, Any] = {"spreadsheetId": spreadsheet_id, "replies": replies}
        if body.get("includeSpreadsheetInResponse"):
            reply["updatedSpreadsheet"] = self.metadata(
                spreadsheet_id, bool(body.get("responseIncludeGridData"))
            )
        return reply

    # ------------------------------------------------------------ values
    def values_get(
        self,
        spreadsheet_id: str,
        range_text: str,
        render: str = "FORMATTED_VALUE",
        major: str = "ROWS",
        date_time: str | None = None,
    ) -> dict[str, Any]:
        ss = self._spreadsheet(spreadsheet_id)
        renderer, major = renderer_for(render, date_time), dimension(major, "major_dimension")
        return value_range(resolve(ss, range_text, clip=True), renderer, major)

    def values_batch_get(
        self,
        spreadsheet_id: str,
        ranges: list[str],
        render: str = "FORMATTED_VALUE",
        major: str = "ROWS",
        date_time: str | None = None,
    ) -> dict[str, Any]:
        ss = self._spreadsheet(spreadsheet_id)
        renderer, major = renderer_for(render, date_time), dimension(major, "major_dimension")
        targets = [resolve(ss, text, clip=True) for text in ranges]
        return {
            "spreadsheetId": spreadsheet_id,
            "valueRanges": [value_range(t, renderer, major) for t in targets],
        }

    def values_update(
        self,
        spreadsheet_id: str,
        range_text: str,
        body: dict[str, Any],
        value_input_option: str | None,
        include_values: bool = False,
        response_render: str = "FORMATTED_VALUE",
        response_date_time: str | None = None,
    ) -> dict[str, Any]:
        store = self._input_option(value_input_option)
        ss = self._spreadsheet(spreadsheet_id)
        reply = write(ss, resolve(ss, range_text, clip=False), matrix_of(body), store, range_text)
        if include_values:
            reply["updatedData"] = updated_data(ss, reply, response_render, response_date_time)
        self._touch(spreadsheet_id)
        return reply

    def values_batch_update(self, spreadsheet_id: str, body: dict[str, Any]) -> dict[str, Any]:
        option = body.get("valueInputOption")
        if not option or option == "INPUT_VALUE_OPTION_UNSPECIFIED":
            raise InvalidArgument("Invalid valueInputOption: INPUT_VALUE_OPTION_UNSPECIFIED")
        store = self._input_option(option)
        ss = self._spreadsheet(spreadsheet_id).clone()  # a bad range leaves every sheet untouched
        responses = []
        touched: set[tuple[int, int, int]] = set()
        for item in body.get("data") or []:
            range_text = str(item.get("range", ""))
            target = resolve(ss, range_text, clip=False)
            reply = write(ss, target, matrix_of(item), store, range_text, touched)
            if body.get("includeValuesInResponse"):
                render = body.get("responseValueRenderOption") or "FORMATTED_VALUE"
                date_time = body.get("responseDateTimeRenderOption")
                reply["updatedData"] = updated_data(ss, reply, render, date_time)
            responses.append(reply)
        self.spreadsheets[spreadsheet_id] = ss.commit()
        self._touch(spreadsheet_id)
        # The totals count rows, columns and sheets where at least one cell was updated:
        # two ranges over the same four columns make 4 columns, not 8.
        return {
            "spreadsheetId": spreadsheet_id,
            "totalUpdatedRows": len({(sheet, row) for sheet, row, _ in touched}),
            "totalUpdatedColumns": len({(sheet, col) for sheet, _, col in touched}),
            "totalUpdatedCells": sum(r.get("updatedCells", 0) for r in responses),
            "totalUpdatedSheets": len({sheet for sheet, _, _ in touched}),
            "responses": responses,
        }

    def values_append(
        self,
        spreadsheet_id: str,
        range_text: str,
        body: dict[str, Any],
        value_input_option: str | None,
        insert_data_option: str | None = None,
        include_values: bool = False,
        response_render: str = "FORMATTED_VALUE",
        response_date_time: str | None = None,
    ) -> dict[str, Any]:
        """Find the table in the range, write after its last row; the grid grows to fit."""
        store = self._input_option(value_input_option)
        insert = insert_data_option or "OVERWRITE"
        if insert not in INSERT_DATA_OPTIONS:
            raise InvalidArgument(
                "Invalid value at 'insert_data_option' "
                f'(type.googleapis.com/google.apps.sheets.v4.InsertDataOption), "{insert}"'
            )
        ss = self._spreadsheet(spreadsheet_id).clone()
        window = resolve(ss, range_text, clip=True)
        sheet = window.sheet
        table = find_table(sheet, window.r0, window.r1, window.c0, window.c1)
        start_row, start_col = (window.r0, window.c0) if table is None else (table[1], table[2])
        matrix = matrix_of(body)
        height, width = len(matrix), max((len(r) for r in matrix), default=0)
        # Leading empty columns are not written: the update starts at the first value.
        skip = _leading_empty_columns(matrix)
        if skip:
            matrix = [row[skip:] for row in matrix]
        if insert == "INSERT_ROWS" and height:
            sheet.insert_rows(start_row, height)
            ss.shift_named_ranges(sheet.sheet_id, "ROWS", start_row, height)
        sheet.row_count = max(sheet.row_count, start_row + height)
        sheet.col_count = max(sheet.col_count, start_col + width)
        check_cell_limit(ss)
        target = Target(
            sheet,
            a1.A1Range(sheet.title),
            start_row,
            start_row + height,
            start_col + skip,
            start_col + width,
        )
        updates = write(ss, target, matrix, store, range_text)
        reply: dict[str, Any] = {"spreadsheetId": spreadsheet_id}
        if table is not None:
            reply["tableRange"] = a1.format_range(sheet.title, *table)
        if include_values:
            updates["updatedData"] = updated_data(ss, updates, response_render, response_date_time)
        reply["updates"] = updates
        self.spreadsheets[spreadsheet_id] = ss.commit()
        self._touch(spreadsheet_id)
        return reply

    def values_clear(self, spreadsheet_id: str, range_text: str) -> dict[str, Any]:
        target = resolve(self._spreadsheet(spreadsheet_id), range_text, clip=True)
        target.sheet.clear(target.r0, target.r1, target.c0, target.c1)
        self._touch(spreadsheet_id)
        return {"spreadsheetId": spreadsheet_id, "clearedRange": target.label()}

    def values_batch_clear(self, spreadsheet_id: str, ranges: list[str]) -> dict[str, Any]:
        ss = self._spreadsheet(spreadsheet_id)
        targets = [resolve(ss, text, clip=True) for text in ranges]  # all parse, or none clear
        for t in targets:
            t.sheet.clear(t.r0, t.r1, t.c0, t.c1)
        self._touch(spreadsheet_id)
        return {"spreadsheetId": spreadsheet_id, "clearedRanges": [t.label() for t in targets]}

    # ------------------------------------------------------------ internals
    def _new_sheet_id(self, existing: list[Sheet], wanted: Any = None) -> int:
        taken = {s.sheet_id for s in existing}
        if wanted is not None:
            wanted = int(wanted)
            if wanted in taken:
                raise batch.RequestProblem(f"A sheet with id {wanted} already exists.")
            return wanted
        while True:
            candidate = self.rng.randrange(1, 2**31 - 1)
            if candidate not in taken:
                return candidate

    def _new_named_range_id(self) -> str:
        return "".join(self.rng.choice("abcdefghijklmnopqrstuvwxyz0123456789") for _ in range(12))

    @staticmethod
    def _input_option(option: str | None) -> Store:
        if not option:
            raise InvalidArgument("'valueInputOption' is required but not specified")
        if option not in VALUE_INPUT_OPTIONS:
            raise InvalidArgument(
                "Invalid value at 'value_input_option' "
                f'(type.googleapis.com/google.apps.sheets.v4.ValueInputOption), "{option}"'
            )
        return cells.store_raw if option == "RAW" else cells.store_user_entered

    def _spreadsheet(self, spreadsheet_id: str) -> Spreadsheet:
        ss = self.spreadsheets.get(spreadsheet_id)
        if ss is None:
            raise NotFound()
        return ss

    def _sheet(self, spreadsheet_id: str, tab: str) -> Sheet:
        sheet = self._spreadsheet(spreadsheet_id).sheet_by_title(tab)
        if sheet is None:
            raise NotFound(f"No tab named {tab!r} in spreadsheet {spreadsheet_id}")
        return sheet

    def _drive(self) -> Any:
        return self.ctx.models["drive"]

    def _touch(self, spreadsheet_id: str) -> None:
        self._drive().touch(spreadsheet_id)


# ------------------------------------------------------------------ ranges and values, pure
def resolve(ss: Spreadsheet, text: str, clip: bool) -> Target:
    """A1 text -> sheet and closed bounds; reads clip to the grid, writes must fit in it."""
    try:
        rng = a1.parse(text)
    except a1.A1Error:
        raise unparsable(text) from None
    if rng.sheet is None:
        # A bare name that is also a tab's title (a tab called "Q1") means that tab.
        named = ss.sheet_by_title(text)
        sheet = named or ss.sheets[0]
        if named is not None:
            rng = a1.A1Range(named.title)
    else:
        found = ss.sheet_by_title(rng.sheet)
        if found is None:
            named = ss.named_range(text)
            if named is None or "!" in text:
                raise unparsable(text)
            return _named_target(ss, named, text, clip)
        sheet = found
    r0, r1, c0, c1 = rng.bounded(sheet.row_count, sheet.col_count)
    outside = r0 >= sheet.row_count or c0 >= sheet.col_count
    if outside or (not clip and (r1 > sheet.row_count or c1 > sheet.col_count)):
        raise _exceeds(sheet, r0, r1, c0, c1)
    return Target(sheet, rng, r0, min(r1, sheet.row_count), c0, min(c1, sheet.col_count))


def _named_target(ss: Spreadsheet, named: dict[str, Any], text: str, clip: bool) -> Target:
    """A named range's GridRange as a Target (a sheet title of the same name wins, as above)."""
    grid = named["range"]
    sheet = ss.sheet_by_id(grid.get("sheetId", 0))
    if sheet is None:
        raise unparsable(text)
    r0, c0 = int(grid.get("startRowIndex", 0)), int(grid.get("startColumnIndex", 0))
    end_row, end_col = grid.get("endRowIndex"), grid.get("endColumnIndex")
    rng = a1.A1Range(
        sheet.title,
        r0 if "startRowIndex" in grid or end_row is not None else None,
        None if end_row is None else int(end_row),
        c0 if "startColumnIndex" in grid or end_col is not None else None,
        None if end_col is None else int(end_col),
    )
    return resolve(ss, a1.format_a1(rng), clip)


def render(sheet: Sheet, r0: int, r1: int, c0: int, c1: int, renderer: Renderer) -> list[list[Any]]:
    """Rows of a block as the API returns them: trailing empties trimmed, empty rows as []."""
    out: list[list[Any]] = []
    last_filled = -1
    for i, row in enumerate(sheet.rows[r0:r1]):
        segment = row[c0:c1]
        while segment and segment[-1] is None:
            segment.pop()
        if segment:
            last_filled = i
            out.append([v if type(v) is str else renderer(v) for v in segment])
        else:
            out.append([])
    return out[: last_filled + 1]


def value_range(target: Target, renderer: Renderer, major: str) -> dict[str, Any]:
    reply: dict[str, Any] = {"range": target.label(), "majorDimension": major}
    values = render(target.sheet, target.r0, target.r1, target.c0, target.c1, renderer)
    if major == "COLUMNS":
        values = _transpose_trimmed(values)
    if values:
        reply["values"] = values
    return reply


def write(
    ss: Spreadsheet,
    target: Target,
    matrix: list[list[Any]],
    store: Store,
    range_text: str,
    touched: set[tuple[int, int, int]] | None = None,
) -> dict[str, Any]:
    """Write a block at the target's top-left; the reply counts what was written (nulls skip).

    `touched` collects (sheetId, row, column) of every written cell, for batch totals.
    """
    sheet = target.sheet
    reply: dict[str, Any] = {"spreadsheetId": ss.spreadsheet_id}
    height, width = len(matrix), max((len(r) for r in matrix), default=0)
    if not height or not width:
        reply["updatedRange"] = target.label()
        return reply
    _check_fits(target, height, width, range_text)
    _check_values(matrix)
    written, columns, rows_written = 0, set(), 0
    for i, values in enumerate(matrix):
        wrote = False
        for j, value in enumerate(values):
            if value is None:
                continue  # null leaves the cell as it was
            sheet.set(target.r0 + i, target.c0 + j, store(value))
            if touched is not None:
                touched.add((sheet.sheet_id, target.r0 + i, target.c0 + j))
            written += 1
            columns.add(j)
            wrote = True
        rows_written += wrote
    end_row, end_col = target.r0 + height, target.c0 + width
    reply["updatedRange"] = a1.format_range(sheet.title, target.r0, end_row, target.c0, end_col)
    reply["updatedRows"] = rows_written
    reply["updatedColumns"] = len(columns)
    reply["updatedCells"] = written
    return reply


def _leading_empty_columns(matrix: list[list[Any]]) -> int:
    """How many columns at the left hold nothing (empty strings or nulls) in every row."""
    firsts = [
        next(i for i, v in enumerate(row) if v not in (None, ""))
        for row in matrix
        if any(v not in (None, "") for v in row)
    ]
    return min(firsts, default=0)


def _check_fits(target: Target, height: int, width: int, range_text: str) -> None:
    """The block must stay inside a bounded range (a single cell is only a start) and the grid."""
    rng, sheet = target.rng, target.sheet
    if not _is_single_cell(rng):
        if rng.end_row is not None and target.r0 + height > target.r1:
            raise InvalidArgument(
                f"Requested writing within range [{range_text}], but tried writing to row "
                f"[{target.r0 + height}]"
            )
        if rng.end_col is not None and target.c0 + width > target.c1:
            raise InvalidArgument(
                f"Requested writing within range [{range_text}], but tried writing to column "
                f"[{a1.column_letters(target.c0 + width - 1)}]"
            )
    if target.r0 + height > sheet.row_count or target.c0 + width > sheet.col_count:
        raise _exceeds(sheet, target.r0, target.r0 + height, target.c0, target.c0 + width)


def _is_single_cell(rng: a1.A1Range) -> bool:
    return (
        rng.start_row is not None
        and rng.start_col is not None
        and rng.end_row == rng.start_row + 1
        and rng.end_col == rng.start_col + 1
    )


def _check_values(matrix: list[list[Any]]) -> None:
    """Reject the whole write before touching a cell, as the API does."""
    for i, values in enumerate(matrix):
        for j, value in enumerate(values):
            if isinstance(value, str):
                if len(value) > cells.MAX_CELL_CHARS:
                    raise InvalidArgument(
                        "Your input contains more than the maximum of 50000 characters in a "
                        "single cell."
                    )
            elif isinstance(value, dict | list):
                kind = "struct" if isinstance(value, dict) else "list"
                raise InvalidArgument(
                    f"Invalid values[{i}][{j}]: {kind}_value is not a valid cell value"
                )


def _exceeds(sheet: Sheet, r0: int, r1: int, c0: int, c1: int) -> SheetsError:
    quoted = "'" + sheet.title.replace("'", "''") + "'!" + a1.format_cells(r0, r1, c0, c1)
    return exceeds_grid(quoted, sheet.row_count, sheet.col_count)


def updated_data(
    ss: Spreadsheet, reply: dict[str, Any], render_option: str, date_time: str | None = None
) -> dict[str, Any]:
    target = resolve(ss, reply["updatedRange"], clip=True)
    return value_range(target, renderer_for(render_option, date_time), "ROWS")


def grid_data(target: Target) -> dict[str, Any]:
    """GridData for includeGridData: entered, effective and formatted value of each cell."""
    data: dict[str, Any] = {}
    if target.r0:
        data["startRow"] = target.r0
    if target.c0:
        data["startColumn"] = target.c0
    row_data: list[dict[str, Any]] = []
    for row in target.sheet.rows[target.r0 : target.r1]:
        values = []
        for stored in row[target.c0 : target.c1]:
            if stored is None:
                values.append({})
                continue
            values.append(
                {
                    "userEnteredValue": cells.extended_value(stored),
                    "effectiveValue": cells.effective_value(stored),
                    "formattedValue": cells.formatted(stored),
                }
            )
        row_data.append({"values": values} if values else {})
    while row_data and not row_data[-1]:
        row_data.pop()
    if row_data:
        data["rowData"] = row_data
    return data


def matrix_of(body: dict[str, Any]) -> list[list[Any]]:
    """A ValueRange's values as rows, whatever its majorDimension."""
    values = body.get("values") or []
    if not isinstance(values, list) or not all(isinstance(r, list) for r in values):
        raise InvalidArgument("Invalid value at 'data.values': a list of lists is required")
    major = body.get("majorDimension") or "ROWS"
    if major not in DIMENSIONS:
        raise InvalidArgument(
            "Invalid value at 'data.major_dimension' "
            f'(type.googleapis.com/google.apps.sheets.v4.Dimension), "{major}"'
        )
    if major == "COLUMNS":
        height = max((len(c) for c in values), default=0)
        return [[col[i] if i < len(col) else None for col in values] for i in range(height)]
    return values


def renderer_for(option: str | None, date_time: str | None = None) -> Renderer:
    """The renderer for a valueRenderOption and dateTimeRenderOption (SERIAL_NUMBER by default)."""
    option = option or "FORMATTED_VALUE"
    if option not in cells.RENDERERS:
        raise InvalidArgument(
            "Invalid value at 'value_render_option' "
            f'(type.googleapis.com/google.apps.sheets.v4.ValueRenderOption), "{option}"'
        )
    date_time = date_time or "SERIAL_NUMBER"
    if date_time not in cells.DATE_TIME_RENDER_OPTIONS:
        raise InvalidArgument(
            "Invalid value at 'date_time_render_option' "
            f'(type.googleapis.com/google.apps.sheets.v4.DateTimeRenderOption), "{date_time}"'
        )
    renderer = cells.RENDERERS[option]
    # FORMATTED_VALUE already shows dates as strings: the option is ignored there.
    if date_time == "FORMATTED_STRING" and option != "FORMATTED_VALUE":
        return cells.dates_as_strings(renderer)
    return renderer


def dimension(value: str | None, name: str) -> str:
    value = value or "ROWS"
    if value not in DIMENSIONS:
        raise InvalidArgument(
            f"Invalid value at '{name}' (type.googleapis.com/google.apps.sheets.v4.Dimension), "
            f'"{value}"'
        )
    return value


def check_cell_limit(ss: Spreadsheet) -> None:
    if ss.cell_count() > MAX_CELLS:
        raise InvalidArgument(
            "This action would increase the number of cells in the workbook above the limit of "
            f"{MAX_CELLS} cells."
        )


def _transpose_trimmed(values: list[list[Any]]) -> list[list[Any]]:
    width = max((len(r) for r in values), default=0)
    columns = []
    for c in range(width):
        column = [row[c] if c < len(row) else "" for row in values]
        while column and column[-1] == "":
            column.pop()
        columns.append(column)
    while columns and not columns[-1]:
        columns.pop()
    return columns


__all__ = ["Backend", "Cell", "SheetsError", "find_table"]
