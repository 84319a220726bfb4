"""State and behaviour of the emulated Google Sheets API v4 (no HTTP here).

Each spreadsheet holds sheets whose cells are a list of row lists of plain
values (see `cells.py`), so reading 10,000 rows is a few list slices. Every
spreadsheet is also a file in the Drive model, which is the registry of names,
folders and permissions.

Behaviour modelled: A1 ranges (quoted names, open ranges, bare ranges on the
first sheet), RAW vs USER_ENTERED, the three value render options, ROWS and
COLUMNS major dimensions, trimming of trailing empty rows and cells, grid
limits (writes outside the grid fail; appends and dimension requests grow
it), the 10M-cell and 50,000-characters-a-cell limits, table detection for
append with OVERWRITE or INSERT_ROWS, and all-or-nothing batchUpdate whose
replies come in request order.

Not implemented: named ranges, R1C1 notation, developer metadata, data
filters (`*ByDataFilter`), formatting (updateCells/repeatCell formats and
the other formatting requests are accepted and recorded, not applied),
copyPaste/cutPaste/findReplace and the other batchUpdate requests outside
`APPLIED` and `RECORDED_ONLY` (they fail with INVALID_ARGUMENT), a formula
engine (see `cells.py`), dateTimeRenderOption, per-user permissions.
"""

from __future__ import annotations

import copy
import random
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from sandbox.core import SandboxServices
from sandbox.sheets import a1, cells
from sandbox.sheets.exceptions import (
    InvalidArgument,
    NotFound,
    SheetsError,
    bad_request,
    exceeds_grid,
    unparsable,
)

SPREADSHEET_MIME = "application/vnd.google-apps.spreadsheet"
DEFAULT_ROWS = 1000
DEFAULT_COLUMNS = 26
MAX_CELLS = 10_000_000
VALUE_INPUT_OPTIONS = {"RAW", "USER_ENTERED"}
INSERT_DATA_OPTIONS = {"OVERWRITE", "INSERT_ROWS"}
DIMENSIONS = {"ROWS", "COLUMNS"}

# batchUpdate requests that change what this emulator models.
APPLIED = {
    "addSheet",
    "deleteSheet",
    "duplicateSheet",
    "updateSheetProperties",
    "updateSpreadsheetProperties",
    "insertDimension",
    "deleteDimension",
    "appendDimension",
    "updateCells",
    "repeatCell",
    "sortRange",
}
# Formatting and presentation requests: accepted, recorded for tests, not applied.
RECORDED_ONLY = {
    "addBanding",
    "addConditionalFormatRule",
    "addDimensionGroup",
    "addFilterView",
    "addProtectedRange",
    "autoResizeDimensions",
    "clearBasicFilter",
    "deleteBanding",
    "deleteConditionalFormatRule",
    "deleteDimensionGroup",
    "deleteFilterView",
    "deleteProtectedRange",
    "mergeCells",
    "setBasicFilter",
    "setDataValidation",
    "unmergeCells",
    "updateBanding",
    "updateBorders",
    "updateConditionalFormatRule",
    "updateDimensionGroup",
    "updateDimensionProperties",
    "updateFilterView",
    "updateProtectedRange",
}
# Every request kind the real API knows (from its discovery document); the rest are unknown fields.
KNOWN_REQUESTS = APPLIED | RECORDED_ONLY | {
    "addChart", "addCommentReply", "addDataSource", "addNamedRange", "addSlicer", "addTable",
    "appendCells", "autoFill", "cancelDataSourceRefresh", "copyPaste", "createDeveloperMetadata",
    "cutPaste", "deleteComment", "deleteCommentReply", "deleteDataSource",
    "deleteDeveloperMetadata", "deleteDuplicates", "deleteEmbeddedObject", "deleteNamedRange",
    "deleteRange", "deleteTable", "duplicateFilterView", "findReplace", "insertComment",
    "insertRange", "moveDimension", "pasteData", "randomizeRange", "refreshDataSource",
    "textToColumns", "trimWhitespace", "updateChartSpec", "updateCommentPost",
    "updateDataSource", "updateDeveloperMetadata", "updateEmbeddedObjectBorder",
    "updateEmbeddedObjectPosition", "updateNamedRange", "updateSlicerSpec", "updateTable",
}  # fmt: skip


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
    """One tab: properties, grid size and cells as row lists (trailing Nones trimmed on write)."""

    sheet_id: int
    title: str
    row_count: int = DEFAULT_ROWS
    col_count: int = DEFAULT_COLUMNS
    rows: list[list[Any]] = field(default_factory=list)
    extra: dict[str, Any] = field(default_factory=dict)  # hidden, tabColor, rightToLeft...
    grid_extra: dict[str, Any] = field(default_factory=dict)  # frozenRowCount, hideGridlines...

    def clone(self) -> Sheet:
        return Sheet(
            self.sheet_id,
            self.title,
            self.row_count,
            self.col_count,
            [row.copy() for row in self.rows],
            copy.deepcopy(self.extra),
            copy.deepcopy(self.grid_extra),
        )

    def get(self, row: int, col: int) -> Any:
        if row < len(self.rows):
            values = self.rows[row]
            if col < len(values):
                return values[col]
        return None


@dataclass
class Spreadsheet:
    spreadsheet_id: str
    title: str
    sheets: list[Sheet]
    locale: str = "en_US"
    time_zone: str = "Etc/GMT"
    recorded: list[dict[str, Any]] = field(default_factory=list)

    def clone(self) -> Spreadsheet:
        return Spreadsheet(
            self.spreadsheet_id,
            self.title,
            [s.clone() for s in self.sheets],
            self.locale,
            self.time_zone,
            list(self.recorded),
        )

    def cell_count(self) -> int:
        return sum(s.row_count * s.col_count for s in self.sheets)

    def sheet_by_title(self, title: str) -> Sheet | None:
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


@dataclass
class Target:
    """A range resolved against a spreadsheet: the sheet and bounds closed by its grid."""

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
        return {"spreadsheets": [self._dump(ss) for ss in self.spreadsheets.values()]}

    def restore(self, data: dict[str, Any]) -> None:
        self.spreadsheets = {}
        for raw in data.get("spreadsheets", []):
            ss = self._load(raw)
            self.spreadsheets[ss.spreadsheet_id] = ss
        self.rng = random.Random(7 + len(self.spreadsheets))  # ids are checked for clashes anyway

    def _dump(self, ss: Spreadsheet) -> dict[str, Any]:
        return {
            "id": ss.spreadsheet_id,
            "title": ss.title,
            "locale": ss.locale,
            "timeZone": ss.time_zone,
            "recorded": ss.recorded,
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
                for s in ss.sheets
            ],
        }

    def _load(self, raw: dict[str, Any]) -> Spreadsheet:
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
        return Spreadsheet(
            raw["id"],
            raw["title"],
            sheets,
            raw.get("locale", "en_US"),
            raw.get("timeZone", "Etc/GMT"),
            raw.get("recorded", []),
        )

    # ------------------------------------------------------------ model API (seed, viewer, tests)
    def create_spreadsheet(
        self,
        title: str,
        tabs: dict[str, list[list[Any]]] | None = None,
        parents: list[str] | None = None,
        spreadsheet_id: str | None = None,
    ) -> str:
        """Create a spreadsheet with tabs of values (stored as-is, like RAW); registers its Drive file."""
        spreadsheet_id = spreadsheet_id or self._drive().new_id(SPREADSHEET_MIME)
        sheets: list[Sheet] = []
        for title_, rows in (tabs or {"Sheet1": []}).items():
            sheet = Sheet(self._new_sheet_id(sheets) if sheets else 0, title_)
            self._replace_rows(sheet, rows, cells.store_raw)
            sheets.append(sheet)
        ss = Spreadsheet(spreadsheet_id, title, sheets)
        self.spreadsheets[spreadsheet_id] = ss
        self._drive().register_file(spreadsheet_id, title, SPREADSHEET_MIME, parents)
        return spreadsheet_id

    def get_values(self, spreadsheet_id: str, tab: str) -> list[list[str]]:
        """A whole tab as a person sees it: formatted, trailing empty rows and cells trimmed."""
        sheet = self._sheet(spreadsheet_id, tab)
        return self._render(sheet, 0, sheet.row_count, 0, sheet.col_count, cells.formatted)

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
        """Replace a tab's contents, as a staff member editing by hand would (sort, add columns)."""
        sheet = self._sheet(spreadsheet_id, tab)
        store = (
            cells.store_user_entered if value_input_option == "USER_ENTERED" else cells.store_raw
        )
        self._replace_rows(sheet, rows, store)
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
        """Formatting requests accepted by batchUpdate but not applied, in order."""
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
        source = self._spreadsheet(source_id).clone()
        source.spreadsheet_id = new_id
        source.title = title
        self.spreadsheets[new_id] = source

    # ------------------------------------------------------------ spreadsheets.create / get
    def create(self, body: dict[str, Any]) -> dict[str, Any]:
        """spreadsheets.create: properties.title and sheets[].properties are honoured."""
        props = body.get("properties") or {}
        title = str(props.get("title") or "Untitled spreadsheet")
        spreadsheet_id = self._drive().new_id(SPREADSHEET_MIME)
        sheets: list[Sheet] = []
        for i, spec in enumerate(body.get("sheets") or [{}]):
            sheet_props = dict(spec.get("properties") or {})
            sheet_props.setdefault("title", f"Sheet{i + 1}")
            try:
                sheets.append(self._build_sheet(sheets, sheet_props))
            except _RequestProblem as problem:
                raise InvalidArgument(f"Invalid sheets[{i}]: {problem}") from None
        ss = Spreadsheet(
            spreadsheet_id,
            title,
            sheets,
            locale=str(props.get("locale") or "en_US"),
            time_zone=str(props.get("timeZone") or "Etc/GMT"),
        )
        self._check_cell_limit(ss)
        self.spreadsheets[spreadsheet_id] = ss
        self._drive().register_file(spreadsheet_id, title, SPREADSHEET_MIME, None)
        return self.metadata(spreadsheet_id)

    def metadata(
        self,
        spreadsheet_id: str,
        include_grid_data: bool = False,
        ranges: Iterable[str] = (),
    ) -> dict[str, Any]:
        """spreadsheets.get: properties and sheets, with cell data when asked."""
        ss = self._spreadsheet(spreadsheet_id)
        ranges = list(ranges)
        targets = [self._resolve(ss, text, clip=True) for text in ranges]
        sheets = []
        for index, sheet in enumerate(ss.sheets):
            mine = [t for t in targets if t.sheet is sheet]
            if ranges and not mine:
                continue
            entry: dict[str, Any] = {"properties": self._sheet_properties(sheet, index)}
            if include_grid_data:
                if not ranges:
                    mine = [
                        Target(
                            sheet, a1.A1Range(sheet.title), 0, sheet.row_count, 0, sheet.col_count
                        )
                    ]
                entry["data"] = [self._grid_data(t) for t in mine]
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
            "spreadsheetUrl": f"https://docs.google.com/spreadsheets/d/{ss.spreadsheet_id}/edit",
        }

    # ------------------------------------------------------------ values
    def values_get(
        self,
        spreadsheet_id: str,
        range_text: str,
        render: str = "FORMATTED_VALUE",
        major: str = "ROWS",
    ) -> dict[str, Any]:
        ss = self._spreadsheet(spreadsheet_id)
        renderer = self._renderer(render)
        major = self._dimension(major, "major_dimension")
        return self._value_range(self._resolve(ss, range_text, clip=True), renderer, major)

    def values_batch_get(
        self,
        spreadsheet_id: str,
        ranges: list[str],
        render: str = "FORMATTED_VALUE",
        major: str = "ROWS",
    ) -> dict[str, Any]:
        ss = self._spreadsheet(spreadsheet_id)
        renderer = self._renderer(render)
        major = self._dimension(major, "major_dimension")
        targets = [self._resolve(ss, text, clip=True) for text in ranges]
        return {
            "spreadsheetId": spreadsheet_id,
            "valueRanges": [self._value_range(t, renderer, major) for t in targets],
        }

    def values_update(
        self,
        spreadsheet_id: str,
        range_text: str,
        body: dict[str, Any],
        value_input_option: str | None,
        include_values: bool = False,
        response_render: str = "FORMATTED_VALUE",
    ) -> dict[str, Any]:
        store = self._input_option(value_input_option, required=True)
        ss = self._spreadsheet(spreadsheet_id)
        target = self._resolve(ss, range_text, clip=False)
        matrix = self._matrix(body)
        reply = self._write(ss, target, matrix, store, range_text)
        if include_values:
            reply["updatedData"] = self._updated_data(ss, reply, response_render)
        self._touch(spreadsheet_id)
        return reply

    def values_batch_update(self, spreadsheet_id: str, body: dict[str, Any]) -> dict[str, Any]:
        option = body.get("valueInputOption")
        if not option or option == "INPUT_VALUE_OPTION_UNSPECIFIED":
            raise InvalidArgument("Invalid valueInputOption: INPUT_VALUE_OPTION_UNSPECIFIED")
        store = self._input_option(option, required=True)
        original = self._spreadsheet(spreadsheet_id)
        ss = original.clone()  # all or nothing: a bad range leaves the sheet untouched
        responses = []
        for item in body.get("data") or []:
            range_text = str(item.get("range", ""))
            target = self._resolve(ss, range_text, clip=False)
            reply = self._write(ss, target, self._matrix(item), store, range_text)
            if body.get("includeValuesInResponse"):
                render = body.get("responseValueRenderOption") or "FORMATTED_VALUE"
                reply["updatedData"] = self._updated_data(ss, reply, render)
            responses.append(reply)
        self.spreadsheets[spreadsheet_id] = ss
        self._touch(spreadsheet_id)
        sheets_touched = {
            r["updatedRange"].rsplit("!", 1)[0] for r in responses if "updatedRange" in r
        }
        return {
            "spreadsheetId": spreadsheet_id,
            "totalUpdatedRows": sum(r.get("updatedRows", 0) for r in responses),
            "totalUpdatedColumns": sum(r.get("updatedColumns", 0) for r in responses),
            "totalUpdatedCells": sum(r.get("updatedCells", 0) for r in responses),
            "totalUpdatedSheets": len(sheets_touched),
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
    ) -> dict[str, Any]:
        store = self._input_option(value_input_option, required=True)
        insert = insert_data_option or "OVERWRITE"
        if insert not in INSERT_DATA_OPTIONS:
            raise InvalidArgument(
                "Invalid value at 'insert_data_option' "
                f'(type.googleapis.com/google.apps.sheets.v4.InsertDataOption), "{insert}"'
            )
        original = self._spreadsheet(spreadsheet_id)
        ss = original.clone()
        window = self._resolve(ss, range_text, clip=True)
        sheet = window.sheet
        table = find_table(sheet, window.r0, window.r1, window.c0, window.c1)
        matrix = self._matrix(body)
        if table is None:
            start_row, start_col = window.r0, window.c0
        else:
            start_row, start_col = table[1], table[2]
        height = len(matrix)
        width = max((len(r) for r in matrix), default=0)
        if insert == "INSERT_ROWS" and height:
            self._insert_rows(sheet, start_row, height)
        need_rows = start_row + height
        need_cols = start_col + width
        if need_rows > sheet.row_count:
            sheet.row_count = need_rows
        if need_cols > sheet.col_count:
            sheet.col_count = need_cols
        self._check_cell_limit(ss)
        target = Target(sheet, a1.A1Range(sheet.title), start_row, need_rows, start_col, need_cols)
        updates = self._write(ss, target, matrix, store, range_text)
        reply: dict[str, Any] = {"spreadsheetId": spreadsheet_id}
        if table is not None:
            reply["tableRange"] = a1.format_range(
                sheet.title, table[0], table[1], table[2], table[3]
            )
        if include_values:
            updates["updatedData"] = self._updated_data(ss, updates, response_render)
        reply["updates"] = updates
        self.spreadsheets[spreadsheet_id] = ss
        self._touch(spreadsheet_id)
        return reply

    def values_clear(self, spreadsheet_id: str, range_text: str) -> dict[str, Any]:
        ss = self._spreadsheet(spreadsheet_id)
        target = self._resolve(ss, range_text, clip=True)
        self._clear(target)
        self._touch(spreadsheet_id)
        return {"spreadsheetId": spreadsheet_id, "clearedRange": target.label()}

    def values_batch_clear(self, spreadsheet_id: str, ranges: list[str]) -> dict[str, Any]:
        ss = self._spreadsheet(spreadsheet_id)
        targets = [
            self._resolve(ss, text, clip=True) for text in ranges
        ]  # all parse, or none clear
        for target in targets:
            self._clear(target)
        self._touch(spreadsheet_id)
        return {"spreadsheetId": spreadsheet_id, "clearedRanges": [t.label() for t in targets]}

    # ------------------------------------------------------------ spreadsheets.batchUpdate
    def batch_update(self, spreadsheet_id: str, body: dict[str, Any]) -> dict[str, Any]:
        """Apply every request to a copy and keep it only if all succeed; replies in request order."""
        requests = body.get("requests")
        if not isinstance(requests, list) or not requests:
            raise InvalidArgument("Must specify at least one request.")
        ss = self._spreadsheet(spreadsheet_id).clone()
        replies: list[dict[str, Any]] = []
        for index, request in enumerate(requests):
            if not isinstance(request, dict) or len(request) != 1:
                raise InvalidArgument(
                    f"Invalid requests[{index}]: must set exactly one kind of request"
                )
            ((kind, spec),) = request.items()
            if kind not in KNOWN_REQUESTS:
                raise InvalidArgument(
                    f'Invalid JSON payload received. Unknown name "{kind}" at '
                    f"'requests[{index}]': Cannot find field."
                )
            if kind in RECORDED_ONLY:
                ss.recorded.append(copy.deepcopy(request))
                replies.append({})
                continue
            handler = self._handlers().get(kind)
            if handler is None:
                raise bad_request(index, kind, "this request is not implemented by the sandbox")
            try:
                replies.append(handler(ss, spec or {}) or {})
            except _RequestProblem as problem:
                raise bad_request(index, kind, str(problem)) from None
        self._check_cell_limit(ss)
        self.spreadsheets[spreadsheet_id] = ss
        if ss.title != self._drive_name(spreadsheet_id):
            self._drive().rename_quietly(spreadsheet_id, ss.title)
        self._touch(spreadsheet_id)
        reply: dict[str, Any] = {"spreadsheetId": spreadsheet_id, "replies": replies}
        if body.get("includeSpreadsheetInResponse"):
            reply["updatedSpreadsheet"] = self.metadata(
                spreadsheet_id, bool(body.get("responseIncludeGridData"))
            )
        return reply

    def _handlers(self) -> dict[str, Callable[[Spreadsheet, dict[str, Any]], dict | None]]:
        return {
            "addSheet": self._add_sheet,
            "deleteSheet": self._delete_sheet,
            "duplicateSheet": self._duplicate_sheet,
            "updateSheetProperties": self._update_sheet_properties,
            "updateSpreadsheetProperties": self._update_spreadsheet_properties,
            "insertDimension": self._insert_dimension,
            "deleteDimension": self._delete_dimension,
            "appendDimension": self._append_dimension,
            "updateCells": self._update_cells,
            "repeatCell": self._repeat_cell,
            "sortRange": self._sort_range,
        }

    def _add_sheet(self, ss: Spreadsheet, spec: dict[str, Any]) -> dict[str, Any]:
        props = dict(spec.get("properties") or {})
        if "title" not in props:
            n = len(ss.sheets) + 1
            while ss.sheet_by_title(f"Sheet{n}"):
                n += 1
            props["title"] = f"Sheet{n}"
        sheet = self._build_sheet(ss.sheets, props)
        index = props.get("index")
        position = len(ss.sheets) if index is None else max(0, min(int(index), len(ss.sheets)))
        ss.sheets.insert(position, sheet)
        return {"addSheet": {"properties": self._sheet_properties(sheet, position)}}

    def _delete_sheet(self, ss: Spreadsheet, spec: dict[str, Any]) -> None:
        sheet = self._sheet_for_request(ss, spec.get("sheetId"))
        if len(ss.sheets) == 1:
            raise _RequestProblem("You can't remove all the sheets in a document.")
        ss.sheets.remove(sheet)

    def _duplicate_sheet(self, ss: Spreadsheet, spec: dict[str, Any]) -> dict[str, Any]:
        source = self._sheet_for_request(ss, spec.get("sourceSheetId"))
        copy_ = source.clone()
        copy_.sheet_id = self._new_sheet_id(ss.sheets, spec.get("newSheetId"))
        title = spec.get("newSheetName") or f"Copy of {source.title}"
        if ss.sheet_by_title(title):
            raise _RequestProblem(_duplicate_title(title))
        copy_.title = title
        index = spec.get("insertSheetIndex")
        position = len(ss.sheets) if index is None else max(0, min(int(index), len(ss.sheets)))
        ss.sheets.insert(position, copy_)
        return {"duplicateSheet": {"properties": self._sheet_properties(copy_, position)}}

    def _update_sheet_properties(self, ss: Spreadsheet, spec: dict[str, Any]) -> None:
        props = spec.get("properties") or {}
        sheet = self._sheet_for_request(ss, props.get("sheetId"))
        mask = _field_mask(spec.get("fields"))
        for path in mask:
            if path == "*":
                self._apply_sheet_property(ss, sheet, "title", props.get("title", sheet.title))
                for key, value in props.items():
                    if key not in {"sheetId", "title"}:
                        self._apply_sheet_property(ss, sheet, key, value)
            elif path.startswith("gridProperties."):
                key = path.split(".", 1)[1]
                value = (props.get("gridProperties") or {}).get(key)
                self._apply_grid_property(sheet, key, value)
            else:
                self._apply_sheet_property(ss, sheet, path, props.get(path))

    def _apply_sheet_property(self, ss: Spreadsheet, sheet: Sheet, key: str, value: Any) -> None:
        if key == "sheetId":
            return
        if key == "title":
            title = str(value or "")
            if not title:
                raise _RequestProblem("The sheet name cannot be empty.")
            other = ss.sheet_by_title(title)
            if other is not None and other is not sheet:
                raise _RequestProblem(_duplicate_title(title))
            sheet.title = title
        elif key == "index":
            ss.sheets.remove(sheet)
            ss.sheets.insert(max(0, min(int(value or 0), len(ss.sheets))), sheet)
        elif key == "gridProperties":
            for grid_key, grid_value in (value or {}).items():
                self._apply_grid_property(sheet, grid_key, grid_value)
        elif key in {"hidden", "tabColor", "tabColorStyle", "rightToLeft"}:
            if value is None:
                sheet.extra.pop(key, None)
            else:
                sheet.extra[key] = value
        else:
            raise _RequestProblem(f"the field '{key}' cannot be updated by the sandbox")

    def _apply_grid_property(self, sheet: Sheet, key: str, value: Any) -> None:
        if key == "rowCount":
            count = int(value or 0)
            if count < 1:
                raise _RequestProblem("You can't delete all the rows on the sheet.")
            sheet.row_count = count
            del sheet.rows[count:]
        elif key == "columnCount":
            count = int(value or 0)
            if count < 1:
                raise _RequestProblem("You can't delete all the columns on the sheet.")
            sheet.col_count = count
            for row in sheet.rows:
                del row[count:]
                _trim(row)
        elif value in (None, 0, False):
            sheet.grid_extra.pop(key, None)
        else:
            sheet.grid_extra[key] = value

    def _update_spreadsheet_properties(self, ss: Spreadsheet, spec: dict[str, Any]) -> None:
        props = spec.get("properties") or {}
        for path in _field_mask(spec.get("fields")):
            keys = ["title", "locale", "timeZone"] if path == "*" else [path]
            for key in keys:
                if key == "title" and "title" in props:
                    ss.title = str(props["title"])
                elif key == "locale" and "locale" in props:
                    ss.locale = str(props["locale"])
                elif key == "timeZone" and "timeZone" in props:
                    ss.time_zone = str(props["timeZone"])

    def _insert_dimension(self, ss: Spreadsheet, spec: dict[str, Any]) -> None:
        sheet, dim, start, end = self._dimension_range(ss, spec.get("range") or {})
        limit = sheet.row_count if dim == "ROWS" else sheet.col_count
        if start > limit:
            raise _RequestProblem(
                f"range.startIndex ({start}) must be less than or equal to the grid size ({limit})"
            )
        count = end - start
        if dim == "ROWS":
            self._insert_rows(sheet, start, count)
        else:
            sheet.col_count += count
            for row in sheet.rows:
                if start < len(row):
                    row[start:start] = [None] * count

    def _delete_dimension(self, ss: Spreadsheet, spec: dict[str, Any]) -> None:
        sheet, dim, start, end = self._dimension_range(ss, spec.get("range") or {})
        limit = sheet.row_count if dim == "ROWS" else sheet.col_count
        end = min(end, limit)
        if start >= limit:
            raise _RequestProblem(
                f"range.startIndex ({start}) must be less than the grid size ({limit})"
            )
        if start == 0 and end >= limit:
            what = "rows" if dim == "ROWS" else "columns"
            raise _RequestProblem(f"You can't delete all the {what} on the sheet.")
        if dim == "ROWS":
            del sheet.rows[start:end]
            sheet.row_count -= end - start
        else:
            for row in sheet.rows:
                del row[start:end]
                _trim(row)
            sheet.col_count -= end - start

    def _append_dimension(self, ss: Spreadsheet, spec: dict[str, Any]) -> None:
        sheet = self._sheet_for_request(ss, spec.get("sheetId"))
        dim = spec.get("dimension")
        length = int(spec.get("length") or 0)
        if dim not in DIMENSIONS:
            raise _RequestProblem("dimension must be ROWS or COLUMNS")
        if length < 1:
            raise _RequestProblem("length must be greater than 0")
        if dim == "ROWS":
            sheet.row_count += length
        else:
            sheet.col_count += length

    def _update_cells(self, ss: Spreadsheet, spec: dict[str, Any]) -> None:
        mask = _field_mask(spec.get("fields"))
        if "range" in spec:
            sheet, r0, r1, c0, c1 = self._grid_range(ss, spec["range"])
        else:
            start = spec.get("start") or {}
            sheet = self._sheet_for_request(ss, start.get("sheetId"))
            r0, c0 = int(start.get("rowIndex") or 0), int(start.get("columnIndex") or 0)
            r1, c1 = sheet.row_count, sheet.col_count
        if _touches_values(mask):
            for i, row_data in enumerate(spec.get("rows") or []):
                for j, cell_data in enumerate(row_data.get("values") or []):
                    r, c = r0 + i, c0 + j
                    if r >= r1 or c >= c1:
                        raise _RequestProblem("the rows and values overflow the range or the grid")
                    self._set_cell(sheet, r, c, cell_data.get("userEnteredValue"))
        if mask - {"userEnteredValue"}:
            ss.recorded.append({"updateCells": copy.deepcopy(spec)})

    def _repeat_cell(self, ss: Spreadsheet, spec: dict[str, Any]) -> None:
        sheet, r0, r1, c0, c1 = self._grid_range(ss, spec.get("range") or {})
        mask = _field_mask(spec.get("fields"))
        if _touches_values(mask):
            value = (spec.get("cell") or {}).get("userEnteredValue")
            for r in range(r0, r1):
                for c in range(c0, c1):
                    self._set_cell(sheet, r, c, value)
        if mask - {"userEnteredValue"}:
            ss.recorded.append({"repeatCell": copy.deepcopy(spec)})

    def _sort_range(self, ss: Spreadsheet, spec: dict[str, Any]) -> None:
        sheet, r0, r1, c0, c1 = self._grid_range(ss, spec.get("range") or {})
        block = [[sheet.get(r, c) for c in range(c0, c1)] for r in range(r0, r1)]
        for sort in reversed(spec.get("sortSpecs") or [{}]):
            col = int(sort.get("dimensionIndex") or 0) - c0
            if not 0 <= col < c1 - c0:
                raise _RequestProblem("sortSpecs.dimensionIndex is outside the range")
            descending = sort.get("sortOrder") == "DESCENDING"
            filled = [row for row in block if row[col] is not None]
            empty = [row for row in block if row[col] is None]
            filled.sort(key=lambda row, col=col: _sort_key(row[col]), reverse=descending)
            block = filled + empty  # empty cells sort last either way, as in Sheets
        for i, row in enumerate(block):
            for j, value in enumerate(row):
                self._set_stored(sheet, r0 + i, c0 + j, value)

    # ------------------------------------------------------------ helpers: requests
    def _sheet_for_request(self, ss: Spreadsheet, sheet_id: Any) -> Sheet:
        sheet = ss.sheet_by_id(0 if sheet_id is None else _int(sheet_id))
        if sheet is None:
            raise _RequestProblem(f"No grid with id: {sheet_id if sheet_id is not None else 0}")
        return sheet

    def _dimension_range(self, ss: Spreadsheet, rng: dict[str, Any]) -> tuple[Sheet, str, int, int]:
        sheet = self._sheet_for_request(ss, rng.get("sheetId"))
        dim = rng.get("dimension")
        if dim not in DIMENSIONS:
            raise _RequestProblem("range.dimension must be ROWS or COLUMNS")
        start, end = int(rng.get("startIndex") or 0), rng.get("endIndex")
        if end is None:
            end = sheet.row_count if dim == "ROWS" else sheet.col_count
        end = int(end)
        if start < 0 or end <= start:
            raise _RequestProblem(
                f"range.startIndex ({start}) must be less than range.endIndex ({end})"
            )
        return sheet, dim, start, end

    def _grid_range(self, ss: Spreadsheet, rng: dict[str, Any]) -> tuple[Sheet, int, int, int, int]:
        sheet = self._sheet_for_request(ss, rng.get("sheetId"))
        r0 = int(rng.get("startRowIndex") or 0)
        r1 = int(rng["endRowIndex"]) if rng.get("endRowIndex") is not None else sheet.row_count
        c0 = int(rng.get("startColumnIndex") or 0)
        c1 = (
            int(rng["endColumnIndex"]) if rng.get("endColumnIndex") is not None else sheet.col_count
        )
        if r1 > sheet.row_count or c1 > sheet.col_count:
            raise _RequestProblem(
                exceeds_grid(
                    a1.format_range(sheet.title, r0, max(r1, r0 + 1), c0, max(c1, c0 + 1)),
                    sheet.row_count,
                    sheet.col_count,
                ).message
            )
        if r0 < 0 or c0 < 0 or r1 < r0 or c1 < c0:
            raise _RequestProblem("the grid range is empty or reversed")
        return sheet, r0, r1, c0, c1

    def _build_sheet(self, existing: list[Sheet], props: dict[str, Any]) -> Sheet:
        title = str(props["title"])
        if any(s.title.casefold() == title.casefold() for s in existing):
            raise _RequestProblem(_duplicate_title(title))
        grid = props.get("gridProperties") or {}
        sheet = Sheet(
            self._new_sheet_id(existing, props.get("sheetId"))
            if existing or "sheetId" in props
            else 0,
            title,
            int(grid.get("rowCount") or DEFAULT_ROWS),
            int(grid.get("columnCount") or DEFAULT_COLUMNS),
        )
        for key in ("hidden", "tabColor", "tabColorStyle", "rightToLeft"):
            if key in props:
                sheet.extra[key] = props[key]
        for key, value in grid.items():
            if key not in {"rowCount", "columnCount"} and value not in (None, 0, False):
                sheet.grid_extra[key] = value
        return sheet

    def _new_sheet_id(self, existing: list[Sheet], wanted: Any = None) -> int:
        taken = {s.sheet_id for s in existing}
        if wanted is not None:
            wanted = _int(wanted)
            if wanted in taken:
                raise _RequestProblem(f"A sheet with id {wanted} already exists.")
            return wanted
        while True:
            candidate = self.rng.randrange(1, 2**31 - 1)
            if candidate not in taken:
                return candidate

    def _set_cell(self, sheet: Sheet, row: int, col: int, value: dict[str, Any] | None) -> None:
        self._set_stored(sheet, row, col, cells.from_extended_value(value or {}))

    def _set_stored(self, sheet: Sheet, row: int, col: int, stored: Any) -> None:
        rows = sheet.rows
        if stored is None and (row >= len(rows) or col >= len(rows[row])):
            return
        while len(rows) <= row:
            rows.append([])
        values = rows[row]
        if len(values) <= col:
            values.extend([None] * (col + 1 - len(values)))
        values[col] = stored
        _trim(values)

    # ------------------------------------------------------------ helpers: values
    def _resolve(self, ss: Spreadsheet, text: str, clip: bool) -> Target:
        """A1 text -> sheet and closed bounds; reads clip to the grid, writes must fit it."""
        try:
            rng = a1.parse(text)
        except a1.A1Error:
            raise unparsable(text) from None
        if rng.sheet is None:
            # A bare name that is also a sheet's title (a tab called "Q1") means that sheet.
            named = ss.sheet_by_title(text)
            sheet = named or ss.sheets[0]
            if named is not None:
                rng = a1.A1Range(named.title)
        else:
            found = ss.sheet_by_title(rng.sheet)
            if found is None:
                raise unparsable(text)
            sheet = found
        r0, r1, c0, c1 = rng.bounded(sheet.row_count, sheet.col_count)
        if (
            r0 >= sheet.row_count
            or c0 >= sheet.col_count
            or (not clip and (r1 > sheet.row_count or c1 > sheet.col_count))
        ):
            raise exceeds_grid(
                "'" + sheet.title.replace("'", "''") + "'!" + a1.format_cells(r0, r1, c0, c1),
                sheet.row_count,
                sheet.col_count,
            )
        return Target(sheet, rng, r0, min(r1, sheet.row_count), c0, min(c1, sheet.col_count))

    def _value_range(
        self, target: Target, renderer: Callable[[Any], Any], major: str
    ) -> dict[str, Any]:
        reply: dict[str, Any] = {"range": target.label(), "majorDimension": major}
        values = self._render(target.sheet, target.r0, target.r1, target.c0, target.c1, renderer)
        if major == "COLUMNS":
            values = _transpose_trimmed(values)
        if values:
            reply["values"] = values
        return reply

    @staticmethod
    def _render(
        sheet: Sheet, r0: int, r1: int, c0: int, c1: int, renderer: Callable[[Any], Any]
    ) -> list[list[Any]]:
        out: list[list[Any]] = []
        last_nonempty = -1
        for i, row in enumerate(sheet.rows[r0:r1]):
            segment = row[c0:c1]
            while segment and segment[-1] is None:
                segment.pop()
            if segment:
                last_nonempty = i
                out.append([v if type(v) is str else renderer(v) for v in segment])
            else:
                out.append([])
        return out[: last_nonempty + 1]

    def _write(
        self,
        ss: Spreadsheet,
        target: Target,
        matrix: list[list[Any]],
        store: Callable[[Any], Any],
        range_text: str,
    ) -> dict[str, Any]:
        sheet = target.sheet
        reply: dict[str, Any] = {"spreadsheetId": ss.spreadsheet_id}
        height = len(matrix)
        width = max((len(r) for r in matrix), default=0)
        if not height or not width:
            reply["updatedRange"] = target.label()
            return reply
        bounded = target.rng.end_row is not None or target.rng.end_col is not None
        if bounded and not _single_cell(target.rng):
            if target.rng.end_row is not None and target.r0 + height > target.r1:
                raise InvalidArgument(
                    f"Requested writing within range [{range_text}], but tried writing to row "
                    f"[{target.r0 + height}]"
                )
            if target.rng.end_col is not None and target.c0 + width > target.c1:
                raise InvalidArgument(
                    f"Requested writing within range [{range_text}], but tried writing to column "
                    f"[{a1.column_letters(target.c0 + width - 1)}]"
                )
        if target.r0 + height > sheet.row_count or target.c0 + width > sheet.col_count:
            raise exceeds_grid(
                "'"
                + sheet.title.replace("'", "''")
                + "'!"
                + a1.format_cells(target.r0, target.r0 + height, target.c0, target.c0 + width),
                sheet.row_count,
                sheet.col_count,
            )
        for row in matrix:
            for value in row:
                if isinstance(value, str) and len(value) > cells.MAX_CELL_CHARS:
                    raise InvalidArgument(
                        "Your input contains more than the maximum of 50000 characters in a single cell."
                    )
        cells_written, columns = 0, set()
        rows_written = 0
        for i, values in enumerate(matrix):
            wrote = False
            for j, value in enumerate(values):
                if value is None:
                    continue  # null leaves the cell as it was
                if isinstance(value, dict | list):
                    raise InvalidArgument(f"Invalid values[{i}][{j}]: {_describe(value)}")
                self._set_stored(sheet, target.r0 + i, target.c0 + j, store(value))
                cells_written += 1
                columns.add(j)
                wrote = True
            rows_written += wrote
        reply.update(
            {
                "updatedRange": a1.format_range(
                    sheet.title, target.r0, target.r0 + height, target.c0, target.c0 + width
                ),
                "updatedRows": rows_written,
                "updatedColumns": len(columns),
                "updatedCells": cells_written,
            }
        )
        return reply

    def _updated_data(self, ss: Spreadsheet, reply: dict[str, Any], render: str) -> dict[str, Any]:
        target = self._resolve(ss, reply["updatedRange"], clip=True)
        return self._value_range(target, self._renderer(render), "ROWS")

    def _clear(self, target: Target) -> None:
        rows = target.sheet.rows
        for r in range(target.r0, min(target.r1, len(rows))):
            row = rows[r]
            if target.c0 < len(row):
                end = min(target.c1, len(row))
                row[target.c0 : end] = [None] * (end - target.c0)
                _trim(row)

    def _insert_rows(self, sheet: Sheet, start: int, count: int) -> None:
        sheet.row_count += count
        if start < len(sheet.rows):
            sheet.rows[start:start] = [[] for _ in range(count)]

    def _replace_rows(
        self, sheet: Sheet, rows: list[list[Any]], store: Callable[[Any], Any]
    ) -> None:
        sheet.rows = []
        for values in rows:
            row = [store(v) for v in values]
            _trim(row)
            sheet.rows.append(row)
        width = max((len(r) for r in sheet.rows), default=0)
        sheet.row_count = max(sheet.row_count, len(sheet.rows))
        sheet.col_count = max(sheet.col_count, width)

    def _grid_data(self, target: Target) -> dict[str, Any]:
        data: dict[str, Any] = {}
        if target.r0:
            data["startRow"] = target.r0
        if target.c0:
            data["startColumn"] = target.c0
        row_data = []
        for r in range(target.r0, min(target.r1, len(target.sheet.rows))):
            values = []
            for c in range(target.c0, min(target.c1, len(target.sheet.rows[r]))):
                stored = target.sheet.rows[r][c]
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

    @staticmethod
    def _sheet_properties(sheet: Sheet, index: int) -> dict[str, Any]:
        return {
            "sheetId": sheet.sheet_id,
            "title": sheet.title,
            "index": index,
            "sheetType": "GRID",
            "gridProperties": {
                "rowCount": sheet.row_count,
                "columnCount": sheet.col_count,
                **sheet.grid_extra,
            },
            **sheet.extra,
        }

    @staticmethod
    def _matrix(body: dict[str, Any]) -> list[list[Any]]:
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

    @staticmethod
    def _renderer(render: str | None) -> Callable[[Any], Any]:
        render = render or "FORMATTED_VALUE"
        if render not in cells.RENDERERS:
            raise InvalidArgument(
                "Invalid value at 'value_render_option' "
                f'(type.googleapis.com/google.apps.sheets.v4.ValueRenderOption), "{render}"'
            )
        return cells.RENDERERS[render]

    @staticmethod
    def _dimension(value: str | None, name: str) -> str:
        value = value or "ROWS"
        if value not in DIMENSIONS:
            raise InvalidArgument(
                f"Invalid value at '{name}' "
                f'(type.googleapis.com/google.apps.sheets.v4.Dimension), "{value}"'
            )
        return value

    @staticmethod
    def _input_option(option: str | None, required: bool) -> Callable[[Any], Any]:
        if not option:
            raise InvalidArgument("'valueInputOption' is required but not specified")
        if option not in VALUE_INPUT_OPTIONS:
            raise InvalidArgument(
                "Invalid value at 'value_input_option' "
                f'(type.googleapis.com/google.apps.sheets.v4.ValueInputOption), "{option}"'
            )
        return cells.store_raw if option == "RAW" else cells.store_user_entered

    def _check_cell_limit(self, ss: Spreadsheet) -> None:
        if ss.cell_count() > MAX_CELLS:
            raise InvalidArgument(
                "This action would increase the number of cells in the workbook above the limit "
                f"of {MAX_CELLS} cells."
            )

    # ------------------------------------------------------------ helpers: lookup
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

    def _drive_name(self, spreadsheet_id: str) -> str | None:
        try:
            return self._drive().get_file(spreadsheet_id)["name"]
        except Exception:
            return None

    def _touch(self, spreadsheet_id: str) -> None:
        touch = getattr(self._drive(), "touch", None)
        if touch is not None:
            touch(spreadsheet_id)


class _RequestProblem(Exception):
    """A batchUpdate request is invalid; the caller names it `requests[i].kind`."""


def find_table(
    sheet: Sheet, r0: int, r1: int, c0: int, c1: int
) -> tuple[int, int, int, int] | None:
    """The "table" append writes after: the block of touching cells around the window's first data.

    The first row inside the window that holds data seeds the table; it then
    grows over every neighbouring non-empty cell (diagonals included), so an
    empty row ends it and rows appended after a gap land in that gap, as in Sheets.
    """
    rows = sheet.rows
    seed_row = None
    for r in range(r0, min(r1, len(rows))):
        segment = rows[r][c0:c1]
        if segment.count(None) != len(segment):
            seed_row = r
            break
    if seed_row is None:
        return None
    segment = rows[seed_row]
    filled = [c for c in range(c0, min(c1, len(segment))) if segment[c] is not None]
    top, bottom, left, right = seed_row, seed_row + 1, filled[0], filled[-1] + 1

    def has_data(r: int, lo: int, hi: int) -> bool:
        part = rows[r][max(lo, 0) : hi]
        return part.count(None) != len(part)

    changed = True
    while changed:
        changed = False
        while bottom < len(rows) and has_data(bottom, left - 1, right + 1):
            bottom += 1
            changed = True
        while top > 0 and has_data(top - 1, left - 1, right + 1):
            top -= 1
            changed = True
        widened = right
        for r in range(top, bottom):
            row = rows[r]
            while widened < len(row) and row[widened] is not None:
                widened += 1
        if widened > right:
            right, changed = widened, True
        while left > 0 and any(
            left - 1 < len(rows[r]) and rows[r][left - 1] is not None for r in range(top, bottom)
        ):
            left -= 1
            changed = True
    return top, bottom, left, right


def _trim(row: list[Any]) -> None:
    while row and row[-1] is None:
        row.pop()


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


def _single_cell(rng: a1.A1Range) -> bool:
    return (
        rng.start_row is not None
        and rng.end_row == rng.start_row + 1
        and rng.start_col is not None
        and rng.end_col == rng.start_col + 1
    )


def _field_mask(fields: Any) -> set[str]:
    """`"gridProperties/rowCount,title"` -> {"gridProperties.rowCount", "title"}."""
    if not fields or not isinstance(fields, str):
        raise _RequestProblem(
            "At least one field must be updated. Specify a field mask in 'fields'."
        )
    return {f.strip().replace("/", ".") for f in fields.split(",") if f.strip()}


def _touches_values(mask: set[str]) -> bool:
    return (
        "*" in mask
        or "userEnteredValue" in mask
        or any(f.startswith("userEnteredValue.") for f in mask)
    )


def _sort_key(value: Any) -> tuple[int, Any]:
    """Numbers before text before booleans, as Sheets orders mixed columns."""
    plain = cells.unformatted(value)
    if isinstance(plain, bool):
        return (2, plain)
    if isinstance(plain, int | float):
        return (0, plain)
    return (1, str(plain).casefold())


def _duplicate_title(title: str) -> str:
    return f'A sheet with the name "{title}" already exists. Please enter another name.'


def _describe(value: Any) -> str:
    return (
        "a struct value is not allowed"
        if isinstance(value, dict)
        else "a list value is not allowed"
    )


def _int(value: Any) -> int:
    try:
        return int(value)
    except (TypeError, ValueError):
        raise _RequestProblem(f"Invalid sheet id: {value}") from None


__all__ = ["Backend", "Cell", "SheetsError", "find_table"]
