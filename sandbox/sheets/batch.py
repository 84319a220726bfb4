"""spreadsheets.batchUpdate requests of the Sheets emulator, pure: each applies to a working copy.

`apply_requests` runs every request against a clone and raises on the first
bad one, so the caller keeps the clone only if all succeeded (all or nothing)
and returns the replies in request order.
"""

from __future__ import annotations

import copy
import re
from collections.abc import Callable
from typing import Any

from sandbox.sheets import a1, cells, charts
from sandbox.sheets.exceptions import (
    InvalidArgument,
    bad_request,
    exceeds_grid,
    invalid_payload,
    unknown_name,
)
from sandbox.sheets.grid import DEFAULT_COLUMNS, DEFAULT_ROWS, Sheet, Spreadsheet

# Requests that change what this emulator models.
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
    "addNamedRange",
    "updateNamedRange",
    "deleteNamedRange",
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
# fmt: off
# Every request kind the real API knows (its discovery document); others are unknown fields.
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
}
# fmt: on
SHEET_PROPERTIES = {"hidden", "tabColor", "tabColorStyle", "rightToLeft"}
DIMENSIONS = {"ROWS", "COLUMNS"}

NewSheetId = Callable[[list[Sheet], Any], int]
NewId = Callable[[], str]
# A named range's name: a letter or underscore, then letters, digits, underscores and dots;
# never something that reads as a cell (A1, R1C1) or TRUE/FALSE.
_RANGE_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_.]{0,249}$")
_CELL_LIKE = re.compile(r"^(?:[A-Za-z]{1,3}[0-9]+|[Rr][0-9]*[Cc][0-9]*|true|false)$", re.IGNORECASE)
GRID_KEYS = ("startRowIndex", "endRowIndex", "startColumnIndex", "endColumnIndex")


class RequestProblem(Exception):
    """A request is invalid; the caller names it `requests[i].kind` in the error."""


def apply_requests(
    ss: Spreadsheet, requests: Any, new_sheet_id: NewSheetId, new_id: NewId
) -> list[dict[str, Any]]:
    """Apply each request to `ss` (a working copy); replies in order, or InvalidArgument."""
    if not isinstance(requests, list) or not requests:
        raise InvalidArgument("Must specify at least one request.")
    applier = _Applier(new_sheet_id, new_id)
    replies: list[dict[str, Any]] = []
    for index, request in enumerate(requests):
        if not isinstance(request, dict) or len(request) != 1:
            raise InvalidArgument(
                f"Invalid requests[{index}]: must set exactly one kind of request"
            )
        ((kind, spec),) = request.items()
        if kind not in KNOWN_REQUESTS:
            raise invalid_payload([unknown_name(kind, f"requests[{index}]")])
        if kind in RECORDED_ONLY:
            ss.recorded.append(copy.deepcopy(request))
            replies.append({})
            continue
        if kind in charts.CHART_REQUESTS:
            replies.append(charts.apply(ss, kind, spec, index))
            continue
        handler = getattr(applier, kind, None)
        if handler is None:
            raise bad_request(index, kind, "this request is not implemented by the sandbox")
        try:
            replies.append(handler(ss, spec or {}) or {})
        except (RequestProblem, TypeError, ValueError) as problem:
            raise bad_request(index, kind, str(problem)) from None
    charts.prune(ss)
    return replies


def build_sheet(existing: list[Sheet], props: dict[str, Any], new_sheet_id: NewSheetId) -> Sheet:
    """A new sheet from SheetProperties (addSheet, spreadsheets.create); the first one gets id 0."""
    title = str(props["title"])
    if not title:
        raise RequestProblem("The sheet name cannot be empty.")
    if any(s.title.casefold() == title.casefold() for s in existing):
        raise RequestProblem(duplicate_title(title))
    grid = props.get("gridProperties") or {}
    first = not existing and "sheetId" not in props
    sheet = Sheet(
        0 if first else new_sheet_id(existing, props.get("sheetId")),
        title,
        int(grid.get("rowCount") or DEFAULT_ROWS),
        int(grid.get("columnCount") or DEFAULT_COLUMNS),
    )
    for key in SHEET_PROPERTIES & props.keys():
        sheet.extra[key] = props[key]
    for key, value in grid.items():
        if key not in {"rowCount", "columnCount"} and value not in (None, 0, False):
            sheet.grid_extra[key] = value
    return sheet


def duplicate_title(title: str) -> str:
    return f'A sheet with the name "{title}" already exists. Please enter another name.'


class _Applier:
    """One method per request kind, named as the API names it."""

    def __init__(self, new_sheet_id: NewSheetId, new_id: NewId) -> None:
        self.new_sheet_id = new_sheet_id
        self.new_id = new_id

    # ------------------------------------------------------------ sheets
    def addSheet(self, ss: Spreadsheet, spec: dict[str, Any]) -> dict[str, Any]:
        props = dict(spec.get("properties") or {})
        if "title" not in props:
            n = len(ss.sheets) + 1
            while ss.sheet_by_title(f"Sheet{n}"):
                n += 1
            props["title"] = f"Sheet{n}"
        sheet = build_sheet(ss.sheets, props, self.new_sheet_id)
        position = _position(props.get("index"), len(ss.sheets))
        ss.sheets.insert(position, sheet)
        return {"addSheet": {"properties": sheet.properties(position)}}

    def deleteSheet(self, ss: Spreadsheet, spec: dict[str, Any]) -> None:
        sheet = sheet_for_request(ss, spec.get("sheetId"))
        if len(ss.sheets) == 1:
            raise RequestProblem("You can't remove all the sheets in a document.")
        ss.sheets.remove(sheet)
        ss.named_ranges = [  # a named range goes with its sheet
            n for n in ss.named_ranges if n["range"].get("sheetId", 0) != sheet.sheet_id
        ]

    def duplicateSheet(self, ss: Spreadsheet, spec: dict[str, Any]) -> dict[str, Any]:
        source = sheet_for_request(ss, spec.get("sourceSheetId"))
        twin = source.deep_clone()
        twin.sheet_id = self.new_sheet_id(ss.sheets, spec.get("newSheetId"))
        title = spec.get("newSheetName") or f"Copy of {source.title}"
        if ss.sheet_by_title(title):
            raise RequestProblem(duplicate_title(title))
        twin.title = title
        position = _position(spec.get("insertSheetIndex"), len(ss.sheets))
        ss.sheets.insert(position, twin)
        return {"duplicateSheet": {"properties": twin.properties(position)}}

    def updateSheetProperties(self, ss: Spreadsheet, spec: dict[str, Any]) -> None:
        props = spec.get("properties") or {}
        sheet = sheet_for_request(ss, props.get("sheetId"))
        for path in field_mask(spec.get("fields")):
            if path == "*":
                for key, value in props.items():
                    _set_sheet_property(ss, sheet, key, value)
            elif path.startswith("gridProperties."):
                key = path.split(".", 1)[1]
                _set_grid_property(sheet, key, (props.get("gridProperties") or {}).get(key))
            else:
                _set_sheet_property(ss, sheet, path, props.get(path))

    def updateSpreadsheetProperties(self, ss: Spreadsheet, spec: dict[str, Any]) -> None:
        props = spec.get("properties") or {}
        for path in field_mask(spec.get("fields")):
            for key in ["title", "locale", "timeZone"] if path == "*" else [path]:
                if key not in props:
                    continue
                if key == "title":
                    ss.title = str(props["title"])
                elif key == "locale":
                    ss.locale = str(props["locale"])
                elif key == "timeZone":
                    ss.time_zone = str(props["timeZone"])

    # ------------------------------------------------------------ dimensions
    def insertDimension(self, ss: Spreadsheet, spec: dict[str, Any]) -> None:
        sheet, dim, start, end = _dimension_range(ss, spec.get("range") or {})
        limit = sheet.row_count if dim == "ROWS" else sheet.col_count
        if start > limit:
            raise RequestProblem(
                f"range.startIndex ({start}) must be less than or equal to the grid size ({limit})"
            )
        if dim == "ROWS":
            sheet.insert_rows(start, end - start)
        else:
            sheet.insert_columns(start, end - start)
        ss.shift_named_ranges(sheet.sheet_id, dim, start, end - start)

    def deleteDimension(self, ss: Spreadsheet, spec: dict[str, Any]) -> None:
        sheet, dim, start, end = _dimension_range(ss, spec.get("range") or {})
        limit = sheet.row_count if dim == "ROWS" else sheet.col_count
        end = min(end, limit)
        if start >= limit:
            raise RequestProblem(
                f"range.startIndex ({start}) must be less than the grid size ({limit})"
            )
        if start == 0 and end >= limit:
            what = "rows" if dim == "ROWS" else "columns"
            raise RequestProblem(f"You can't delete all the {what} on the sheet.")
        if dim == "ROWS":
            sheet.delete_rows(start, end)
        else:
            sheet.delete_columns(start, end)
        ss.cut_named_ranges(sheet.sheet_id, dim, start, end)

    def appendDimension(self, ss: Spreadsheet, spec: dict[str, Any]) -> None:
        sheet = sheet_for_request(ss, spec.get("sheetId"))
        dim, length = spec.get("dimension"), int(spec.get("length") or 0)
        if dim not in DIMENSIONS:
            raise RequestProblem("dimension must be ROWS or COLUMNS")
        if length < 1:
            raise RequestProblem("length must be greater than 0")
        if dim == "ROWS":
            sheet.row_count += length
        else:
            sheet.col_count += length

    # ------------------------------------------------------------ cells
    def updateCells(self, ss: Spreadsheet, spec: dict[str, Any]) -> None:
        mask = field_mask(spec.get("fields"))
        if "range" in spec:
            sheet, r0, r1, c0, c1 = _grid_range(ss, spec["range"])
        else:
            start = spec.get("start") or {}
            sheet = sheet_for_request(ss, start.get("sheetId"))
            r0, c0 = int(start.get("rowIndex") or 0), int(start.get("columnIndex") or 0)
            r1, c1 = sheet.row_count, sheet.col_count
        if _touches_values(mask):
            for i, row_data in enumerate(spec.get("rows") or []):
                for j, cell_data in enumerate(row_data.get("values") or []):
                    if r0 + i >= r1 or c0 + j >= c1:
                        raise RequestProblem("the rows and values overflow the range or the grid")
                    value = cells.from_extended_value(cell_data.get("userEnteredValue") or {})
                    sheet.set(r0 + i, c0 + j, value)
        if mask - {"userEnteredValue"}:
            ss.recorded.append({"updateCells": copy.deepcopy(spec)})

    def repeatCell(self, ss: Spreadsheet, spec: dict[str, Any]) -> None:
        sheet, r0, r1, c0, c1 = _grid_range(ss, spec.get("range") or {})
        mask = field_mask(spec.get("fields"))
        if _touches_values(mask):
            entered = (spec.get("cell") or {}).get("userEnteredValue") or {}
            value = cells.from_extended_value(entered)
            for r in range(r0, r1):
                for c in range(c0, c1):
                    sheet.set(r, c, value)
        if mask - {"userEnteredValue"}:
            ss.recorded.append({"repeatCell": copy.deepcopy(spec)})

    def sortRange(self, ss: Spreadsheet, spec: dict[str, Any]) -> None:
        sheet, r0, r1, c0, c1 = _grid_range(ss, spec.get("range") or {})
        block = [[sheet.get(r, c) for c in range(c0, c1)] for r in range(r0, r1)]
        for sort in reversed(spec.get("sortSpecs") or [{}]):
            col = int(sort.get("dimensionIndex") or 0) - c0
            if not 0 <= col < c1 - c0:
                raise RequestProblem("sortSpecs.dimensionIndex is outside the range")
            filled = [row for row in block if row[col] is not None]
            filled.sort(
                key=lambda row, col=col: _sort_key(row[col]),
                reverse=sort.get("sortOrder") == "DESCENDING",
            )
            block = filled + [
                row for row in block if row[col] is None
            ]  # empties last, as in Sheets
        for i, row in enumerate(block):
            for j, value in enumerate(row):
                sheet.set(r0 + i, c0 + j, value)

    # ------------------------------------------------------------ named ranges
    def addNamedRange(self, ss: Spreadsheet, spec: dict[str, Any]) -> dict[str, Any]:
        named = dict(spec.get("namedRange") or {})
        named["namedRangeId"] = str(named.get("namedRangeId") or self.new_id())
        if any(n["namedRangeId"] == named["namedRangeId"] for n in ss.named_ranges):
            raise RequestProblem(f"A named range with id {named['namedRangeId']} already exists.")
        _check_named(ss, named, None)
        ss.named_ranges.append(named)
        return {"addNamedRange": {"namedRange": copy.deepcopy(named)}}

    def updateNamedRange(self, ss: Spreadsheet, spec: dict[str, Any]) -> None:
        wanted = spec.get("namedRange") or {}
        current = _named_by_id(ss, wanted.get("namedRangeId"))
        updated = copy.deepcopy(current)
        for path in field_mask(spec.get("fields")):
            for key in ["name", "range"] if path == "*" else [path.split(".", 1)[0]]:
                if key not in {"name", "range"}:
                    raise RequestProblem(f"the field '{path}' cannot be updated")
                if key in wanted:
                    updated[key] = copy.deepcopy(wanted[key])
        _check_named(ss, updated, current)
        current.clear()
        current.update(updated)

    def deleteNamedRange(self, ss: Spreadsheet, spec: dict[str, Any]) -> None:
        ss.named_ranges.remove(_named_by_id(ss, spec.get("namedRangeId")))


# ------------------------------------------------------------------ helpers
def _named_by_id(ss: Spreadsheet, named_id: Any) -> dict[str, Any]:
    for named in ss.named_ranges:
        if named["namedRangeId"] == named_id:
            return named
    raise RequestProblem(f"No named range with id: {named_id}")


def _check_named(ss: Spreadsheet, named: dict[str, Any], current: dict[str, Any] | None) -> None:
    """A valid, unique name over a range that fits its sheet's grid."""
    name = str(named.get("name") or "")
    if not _RANGE_NAME.match(name) or _CELL_LIKE.match(name):
        raise RequestProblem(f"Invalid name: {name}")
    other = ss.named_range(name)
    if other is not None and other is not current:
        raise RequestProblem(f"A named range with name {name} already exists.")
    rng = named.get("range")
    if not isinstance(rng, dict):
        raise RequestProblem("namedRange.range is required")
    _grid_range(ss, rng)
    named["name"] = name
    named["range"] = {k: v for k, v in rng.items() if v is not None}


def sheet_for_request(ss: Spreadsheet, sheet_id: Any) -> Sheet:
    """The sheet a request names by id (an absent id means 0, the first sheet's usual id)."""
    wanted = 0 if sheet_id is None else _int(sheet_id)
    sheet = ss.sheet_by_id(wanted)
    if sheet is None:
        raise RequestProblem(f"No grid with id: {wanted}")
    return sheet


def field_mask(fields: Any) -> set[str]:
    """`"gridProperties/rowCount,title"` -> {"gridProperties.rowCount", "title"}."""
    if not fields or not isinstance(fields, str):
        raise RequestProblem(
            "At least one field must be updated. Specify a field mask in 'fields'."
        )
    return {f.strip().replace("/", ".") for f in fields.split(",") if f.strip()}


def _set_sheet_property(ss: Spreadsheet, sheet: Sheet, key: str, value: Any) -> None:
    if key == "sheetId":
        return
    if key == "title":
        title = str(value or "")
        if not title:
            raise RequestProblem("The sheet name cannot be empty.")
        other = ss.sheet_by_title(title)
        if other is not None and other is not sheet:
            raise RequestProblem(duplicate_title(title))
        sheet.title = title
    elif key == "index":
        ss.sheets.remove(sheet)
        ss.sheets.insert(_position(value or 0, len(ss.sheets)), sheet)
    elif key == "gridProperties":
        for grid_key, grid_value in (value or {}).items():
            _set_grid_property(sheet, grid_key, grid_value)
    elif key == "hidden" and value and not sheet.extra.get("hidden"):
        if not any(not other.extra.get("hidden") for other in ss.sheets if other is not sheet):
            raise RequestProblem("You can't hide all the sheets in a document.")
        sheet.extra["hidden"] = True
    elif key in SHEET_PROPERTIES:
        if value is None:
            sheet.extra.pop(key, None)
        else:
            sheet.extra[key] = value
    else:
        raise RequestProblem(f"the field '{key}' cannot be updated by the sandbox")


def _set_grid_property(sheet: Sheet, key: str, value: Any) -> None:
    if key in {"rowCount", "columnCount"}:
        count = int(value or 0)
        if count < 1:
            what = "rows" if key == "rowCount" else "columns"
            raise RequestProblem(f"You can't delete all the {what} on the sheet.")
        if key == "rowCount":
            sheet.resize(rows=count)
        else:
            sheet.resize(cols=count)
    elif value in (None, 0, False):
        sheet.grid_extra.pop(key, None)
    else:
        sheet.grid_extra[key] = value


def _dimension_range(ss: Spreadsheet, rng: dict[str, Any]) -> tuple[Sheet, str, int, int]:
    sheet = sheet_for_request(ss, rng.get("sheetId"))
    dim = rng.get("dimension")
    if dim not in DIMENSIONS:
        raise RequestProblem("range.dimension must be ROWS or COLUMNS")
    start = int(rng.get("startIndex") or 0)
    end = rng.get("endIndex")
    end = int(end) if end is not None else (sheet.row_count if dim == "ROWS" else sheet.col_count)
    if start < 0 or end <= start:
        raise RequestProblem(f"range.startIndex ({start}) must be less than range.endIndex ({end})")
    return sheet, dim, start, end


def _grid_range(ss: Spreadsheet, rng: dict[str, Any]) -> tuple[Sheet, int, int, int, int]:
    """A GridRange's bounds, open sides closed by the grid; it must fit the grid."""
    sheet = sheet_for_request(ss, rng.get("sheetId"))
    r0 = int(rng.get("startRowIndex") or 0)
    c0 = int(rng.get("startColumnIndex") or 0)
    end_row, end_col = rng.get("endRowIndex"), rng.get("endColumnIndex")
    r1 = int(end_row) if end_row is not None else sheet.row_count
    c1 = int(end_col) if end_col is not None else sheet.col_count
    if r0 < 0 or c0 < 0 or r1 < r0 or c1 < c0:
        raise RequestProblem("the grid range is empty or reversed")
    if r1 > sheet.row_count or c1 > sheet.col_count:
        label = a1.format_range(sheet.title, r0, max(r1, r0 + 1), c0, max(c1, c0 + 1))
        raise RequestProblem(exceeds_grid(label, sheet.row_count, sheet.col_count).message)
    return sheet, r0, r1, c0, c1


def _touches_values(mask: set[str]) -> bool:
    return (
        "*" in mask
        or "userEnteredValue" in mask
        or any(f.startswith("userEnteredValue.") for f in mask)
    )


def _sort_key(value: Any) -> tuple[int, Any]:
    """Numbers before text before booleans, as Sheets orders a mixed column."""
    plain = cells.unformatted(value)
    if isinstance(plain, bool):
        return (2, plain)
    if isinstance(plain, int | float):
        return (0, plain)
    return (1, str(plain).casefold())


def _position(index: Any, length: int) -> int:
    return length if index is None else max(0, min(int(index), length))


def _int(value: Any) -> int:
    try:
        return int(value)
    except (TypeError, ValueError):
        raise RequestProblem(f"Invalid sheet id: {value}") from None
