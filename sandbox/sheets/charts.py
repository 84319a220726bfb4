"""Embedded charts of the Sheets emulator, pure: addChart, updateChartSpec, deleteEmbeddedObject, charts in spreadsheets.get.

Charts live on the spreadsheet (`Spreadsheet.charts`, chartId -> EmbeddedChart as
the API returns it) and show up under the sheet that hosts them in
`spreadsheets.get` as `sheets[].charts[]` with `chartId`, `spec` and `position`.
Every chart request is first checked against the Sheets API's own schema (the
discovery document google-api-python-client ships): an unknown field answers the
real 400, `Invalid JSON payload received. Unknown name "x" at
'requests[0].add_chart.chart.spec': Cannot find field.`, every problem on its own line
and each as a `google.rpc.BadRequest` field violation in `details`; an enum value the
API does not know is refused the same way. Google names an enum's own type in that
sentence (`(type.googleapis.com/google.apps.sheets.v4.PieChartSpec.PieChartLegendPosition)`);
the discovery document does not carry those names, so the sandbox says `(TYPE_ENUM)`.

Not implemented: charts on a new sheet of their own (`position.newSheet`, the API's
default when no position is given: the sandbox asks for a position instead), data
source charts, `updateEmbeddedObjectPosition` and `updateEmbeddedObjectBorder`;
a chart is not redrawn or moved when rows or columns of its data are inserted or
deleted (a deleted host sheet takes its charts with it, as in Sheets).
"""

from __future__ import annotations

import copy
import functools
import json
import re
import zlib
from importlib import resources
from typing import Any

from sandbox.sheets.exceptions import InvalidArgument, invalid_payload, unknown_name
from sandbox.sheets.grid import Spreadsheet

CHART_REQUESTS = frozenset({"addChart", "updateChartSpec", "deleteEmbeddedObject"})
SCHEMA_OF = {
    "addChart": "AddChartRequest",
    "updateChartSpec": "UpdateChartSpecRequest",
    "deleteEmbeddedObject": "DeleteEmbeddedObjectRequest",
}
DEFAULT_WIDTH, DEFAULT_HEIGHT = 600, 371  # what Sheets gives a chart placed without a size
CHART_KINDS = (
    "basicChart", "pieChart", "bubbleChart", "candlestickChart", "orgChart", "histogramChart",
    "waterfallChart", "treemapChart", "scorecardChart",
)  # fmt: skip


@functools.cache
def _schemas() -> dict[str, Any]:
    """The Sheets API v4 schemas, from the discovery document bundled with google-api-python-client."""
    base = resources.files("googleapiclient") / "discovery_cache" / "documents" / "sheets.v4.json"
    return json.loads(base.read_text(encoding="utf-8"))["schemas"]


def _snake(name: str) -> str:
    return re.sub(r"(?<!^)(?=[A-Z])", "_", name).lower()


def _camel(name: str) -> str:
    head, *rest = name.split("_")
    return head + "".join(part[:1].upper() + part[1:] for part in rest)


# ---------------------------------------------------------------- schema check
Violation = tuple[str, str]  # (the field, the API's sentence about it)


def _invalid(path: str, kind: str, value: Any) -> list[Violation]:
    return [(path, f"Invalid value at '{path}' ({kind}), {json.dumps(value)}")]


def check(value: Any, schema: str, path: str) -> list[Violation]:
    """Problems of `value` against the API schema `schema`, worded as the API words them."""
    spec = _schemas()[schema]
    if not isinstance(value, dict):
        return _invalid(path, f"type.googleapis.com/google.apps.sheets.v4.{schema}", value)
    problems: list[Violation] = []
    props = spec.get("properties", {})
    for key, item in value.items():
        name = key if key in props else _camel(key)
        if name not in props:
            problems.append(unknown_name(key, path))
            continue
        problems += _check_property(item, props[name], f"{path}.{_snake(name)}")
    return problems


def normalized(value: Any, schema: str) -> Any:
    """`value` with every field under its JSON (lowerCamel) name, as the API stores and returns it."""
    props = _schemas()[schema].get("properties", {})
    if not isinstance(value, dict):
        return value
    out: dict[str, Any] = {}
    for key, item in value.items():
        name = key if key in props else _camel(key)
        out[name] = _normalized_property(item, props.get(name, {}))
    return out


def _normalized_property(value: Any, prop: dict[str, Any]) -> Any:
    if "$ref" in prop:
        return normalized(value, prop["$ref"])
    if prop.get("type") == "array" and isinstance(value, list):
        return [_normalized_property(v, prop.get("items") or {}) for v in value]
    return value


def _check_property(value: Any, prop: dict[str, Any], path: str) -> list[Violation]:
    if value is None:
        return []
    if "$ref" in prop:
        return check(value, prop["$ref"], path)
    kind = prop.get("type")
    if kind == "array":
        if not isinstance(value, list):
            return _invalid(path, "list", value)
        out: list[Violation] = []
        for i, item in enumerate(value):
            out += _check_property(item, prop.get("items") or {}, f"{path}[{i}]")
        return out
    if "enum" in prop and value not in prop["enum"]:
        return _invalid(path, "TYPE_ENUM", value)
    if kind == "integer" and (isinstance(value, bool) or not _integral(value)):
        return _invalid(path, "TYPE_INT32", value)
    if kind == "boolean" and not isinstance(value, bool):
        return _invalid(path, "TYPE_BOOL", value)
    return []


def _integral(value: Any) -> bool:
    if isinstance(value, int):
        return True
    try:
        return isinstance(value, str) and int(value) == float(value)
    except ValueError:
        return False


# ---------------------------------------------------------------- requests
def apply(ss: Spreadsheet, kind: str, spec: Any, index: int) -> dict[str, Any]:
    """Apply one chart request to the working copy `ss`; its reply, or the API's 400."""
    path = f"requests[{index}].{_snake(kind)}"
    problems = check(spec if spec is not None else {}, SCHEMA_OF[kind], path)
    if problems:
        raise invalid_payload(problems)
    try:
        return getattr(_Charts, kind)(ss, normalized(spec or {}, SCHEMA_OF[kind]))
    except _Problem as problem:
        raise InvalidArgument(f"Invalid requests[{index}].{kind}: {problem}") from None


class _Problem(Exception):
    pass


class _Charts:
    @staticmethod
    def addChart(ss: Spreadsheet, spec: dict[str, Any]) -> dict[str, Any]:
        chart = copy.deepcopy(spec.get("chart") or {})
        chart_spec = chart.get("spec")
        if not chart_spec:
            raise _Problem("chart.spec must be set")
        _check_spec(ss, chart_spec)
        wanted = chart.get("chartId")
        if wanted is not None and (int(wanted) in ss.charts or ss.sheet_by_id(int(wanted))):
            raise _Problem(f"An object with id {int(wanted)} already exists.")
        chart_id = int(wanted) if wanted is not None else _new_id(ss)
        stored = {"chartId": chart_id, "spec": chart_spec, "position": _position(ss, chart)}
        if chart.get("border"):
            stored["border"] = chart["border"]
        ss.charts[chart_id] = stored
        return {"addChart": {"chart": copy.deepcopy(stored)}}

    @staticmethod
    def updateChartSpec(ss: Spreadsheet, spec: dict[str, Any]) -> dict[str, Any]:
        chart_id = _id(spec.get("chartId"), "chartId")
        if chart_id not in ss.charts:
            raise _Problem(f"No chart with id: {chart_id}")
        new = spec.get("spec")
        if not new:
            raise _Problem("spec must be set")
        _check_spec(ss, new)
        ss.charts[chart_id]["spec"] = copy.deepcopy(new)  # the whole spec is replaced
        return {}

    @staticmethod
    def deleteEmbeddedObject(ss: Spreadsheet, spec: dict[str, Any]) -> dict[str, Any]:
        object_id = _id(spec.get("objectId"), "objectId")
        if ss.charts.pop(object_id, None) is None:
            raise _Problem(f"No object with id {object_id}")
        return {}


def _id(value: Any, name: str) -> int:
    if value is None:
        raise _Problem(f"{name} must be set")
    return int(value)


def _new_id(ss: Spreadsheet) -> int:
    """A chart id that looks like Sheets' (a large number), the same for the same spreadsheet and count."""
    n = len(ss.charts)
    while True:
        candidate = zlib.crc32(f"{ss.spreadsheet_id}:chart:{n}".encode()) & 0x7FFFFFFF
        if candidate not in ss.charts and ss.sheet_by_id(candidate) is None:
            return candidate
        n += 1


def _position(ss: Spreadsheet, chart: dict[str, Any]) -> dict[str, Any]:
    position = chart.get("position") or {}
    if not position or position.get("newSheet"):
        raise _Problem(
            "the sandbox places charts on an existing sheet only: set position.overlayPosition or position.sheetId"
        )
    overlay = copy.deepcopy(position.get("overlayPosition") or {})
    anchor = overlay.get("anchorCell") or {}
    sheet_id = int(anchor.get("sheetId", position.get("sheetId", 0)) or 0)
    if ss.sheet_by_id(sheet_id) is None:
        raise _Problem(f"No grid with id: {sheet_id}")
    return {
        "overlayPosition": {
            "anchorCell": {
                "sheetId": sheet_id,
                "rowIndex": int(anchor.get("rowIndex") or 0),
                "columnIndex": int(anchor.get("columnIndex") or 0),
            },
            "offsetXPixels": int(overlay.get("offsetXPixels") or 0),
            "offsetYPixels": int(overlay.get("offsetYPixels") or 0),
            "widthPixels": int(overlay.get("widthPixels") or DEFAULT_WIDTH),
            "heightPixels": int(overlay.get("heightPixels") or DEFAULT_HEIGHT),
        }
    }


def _check_spec(ss: Spreadsheet, spec: dict[str, Any]) -> None:
    """One kind of chart, and every source range on a sheet that exists."""
    kinds = [k for k in CHART_KINDS if spec.get(k)]
    if len(kinds) != 1:
        raise _Problem("exactly one chart type (basicChart, pieChart...) must be set in the spec")
    for grid_range in _source_ranges(spec):
        sheet_id = int(grid_range.get("sheetId", 0) or 0)
        if ss.sheet_by_id(sheet_id) is None:
            raise _Problem(f"No grid with id: {sheet_id}")


def _source_ranges(value: Any) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = []
    if isinstance(value, dict):
        source = value.get("sourceRange")
        if isinstance(source, dict):
            found += [s for s in source.get("sources") or [] if isinstance(s, dict)]
        for item in value.values():
            found += _source_ranges(item)
    elif isinstance(value, list):
        for item in value:
            found += _source_ranges(item)
    return found


# ---------------------------------------------------------------- reading
def prune(ss: Spreadsheet) -> None:
    """Charts whose host sheet was deleted go with it."""
    for chart_id, chart in list(ss.charts.items()):
        if ss.sheet_by_id(host(chart)) is None:
            del ss.charts[chart_id]


def host(chart: dict[str, Any]) -> int:
    return int(chart["position"]["overlayPosition"]["anchorCell"]["sheetId"])


def of_sheet(ss: Spreadsheet, sheet_id: int) -> list[dict[str, Any]]:
    """`sheets[].charts[]` of spreadsheets.get, in the order they were added."""
    return [copy.deepcopy(c) for c in ss.charts.values() if host(c) == sheet_id]


__all__ = ["CHART_REQUESTS", "apply", "check", "host", "of_sheet", "prune"]
