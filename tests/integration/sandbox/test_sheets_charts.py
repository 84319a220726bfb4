"""The Sheets emulator's charts against the real gspread client over HTTP, as the Sheets API documents them.

addChart replies with the chart (chartId, spec, position); spreadsheets.get lists it
under its host sheet as sheets[].charts[]; updateChartSpec replaces the spec in place
(same chartId); deleteEmbeddedObject removes it; unknown fields and enum values get
the API's own 400; a batch with a bad chart request changes nothing.
"""

from __future__ import annotations

from typing import Any

import gspread
import pytest

from coalition.settings import reload_settings
from integrations.clients import sheets_client


@pytest.fixture
def gc(sandbox, monkeypatch: pytest.MonkeyPatch) -> gspread.Client:
    monkeypatch.setenv("COALITION_TIME_SCALE", "1000")
    reload_settings()
    return sheets_client()


def _spec(sheet_id: int, title: str = "Giving", kind: str = "LINE") -> dict[str, Any]:
    def source(col: int) -> dict[str, Any]:
        return {"sources": [{"sheetId": sheet_id, "startRowIndex": 0, "endRowIndex": 4,
                             "startColumnIndex": col, "endColumnIndex": col + 1}]}  # fmt: skip

    return {
        "title": title,
        "basicChart": {
            "chartType": kind,
            "legendPosition": "BOTTOM_LEGEND",
            "axis": [{"position": "BOTTOM_AXIS", "title": "Week"}],
            "domains": [{"domain": {"sourceRange": source(0)}}],
            "series": [{"series": {"sourceRange": source(1)}, "targetAxis": "LEFT_AXIS"}],
            "headerCount": 1,
        },
    }


def _add(sheet_id: int, spec: dict[str, Any]) -> dict[str, Any]:
    position = {
        "overlayPosition": {"anchorCell": {"sheetId": sheet_id, "rowIndex": 1, "columnIndex": 4}}
    }
    return {"addChart": {"chart": {"spec": spec, "position": position}}}


def _charts(sh: gspread.Spreadsheet) -> list[dict[str, Any]]:
    meta = sh.client.fetch_sheet_metadata(sh.id)
    return [c for s in meta["sheets"] for c in s.get("charts", [])]


@pytest.fixture
def sh(gc) -> gspread.Spreadsheet:
    sh = gc.create("Dashboard")
    sh.sheet1.update([["Week", "Raised"], ["W1", 10], ["W2", 20], ["W3", 15]], "A1")
    return sh


def test_add_chart_replies_with_the_chart_and_get_lists_it_under_its_sheet(sh) -> None:
    sheet_id = sh.sheet1.id
    reply = sh.batch_update({"requests": [_add(sheet_id, _spec(sheet_id))]})
    chart = reply["replies"][0]["addChart"]["chart"]
    assert isinstance(chart["chartId"], int) and chart["chartId"] > 0
    assert chart["spec"] == _spec(sheet_id)
    overlay = chart["position"]["overlayPosition"]
    assert overlay["anchorCell"] == {"sheetId": sheet_id, "rowIndex": 1, "columnIndex": 4}
    assert (overlay["widthPixels"], overlay["heightPixels"]) == (600, 371)
    assert _charts(sh) == [chart]


def test_update_chart_spec_replaces_the_spec_in_place(sh) -> None:
    sheet_id = sh.sheet1.id
    reply = sh.batch_update({"requests": [_add(sheet_id, _spec(sheet_id))]})
    chart_id = reply["replies"][0]["addChart"]["chart"]["chartId"]
    new = _spec(sheet_id, title="Giving, renamed", kind="COLUMN")
    reply = sh.batch_update({"requests": [{"updateChartSpec": {"chartId": chart_id, "spec": new}}]})
    assert reply["replies"] == [{}]
    (chart,) = _charts(sh)
    assert chart["chartId"] == chart_id and chart["spec"] == new


def test_delete_embedded_object_removes_the_chart(sh) -> None:
    sheet_id = sh.sheet1.id
    reply = sh.batch_update(
        {"requests": [_add(sheet_id, _spec(sheet_id)), _add(sheet_id, _spec(sheet_id, "Second"))]}
    )
    first, second = (r["addChart"]["chart"]["chartId"] for r in reply["replies"])
    assert first != second
    sh.batch_update({"requests": [{"deleteEmbeddedObject": {"objectId": first}}]})
    assert [c["chartId"] for c in _charts(sh)] == [second]


def test_unknown_chart_fields_get_the_apis_400(sh) -> None:
    sheet_id = sh.sheet1.id
    spec = _spec(sheet_id)
    spec["basicChart"]["colour"] = "red"
    with pytest.raises(gspread.exceptions.APIError) as caught:
        sh.batch_update(
            {"requests": [{"addSheet": {"properties": {"title": "T"}}}, _add(sheet_id, spec)]}
        )
    assert caught.value.code == 400
    assert caught.value.error["status"] == "INVALID_ARGUMENT"
    sentence = (
        'Invalid JSON payload received. Unknown name "colour" at '
        "'requests[1].add_chart.chart.spec.basic_chart': Cannot find field."
    )
    assert caught.value.error["message"] == sentence
    # As Google sends it: the field that failed, in a google.rpc.BadRequest detail.
    assert caught.value.error["details"] == [
        {
            "@type": "type.googleapis.com/google.rpc.BadRequest",
            "fieldViolations": [
                {"field": "requests[1].add_chart.chart.spec.basic_chart", "description": sentence}
            ],
        }
    ]
    assert [w.title for w in sh.worksheets()] == ["Sheet1"]  # all or nothing
    assert _charts(sh) == []


def test_every_unknown_field_is_named_on_its_own_line(sh) -> None:
    sheet_id = sh.sheet1.id
    spec = _spec(sheet_id)
    spec["colors"] = ["red"]
    spec["basicChart"]["axis"][0]["label"] = "Week"
    with pytest.raises(gspread.exceptions.APIError) as caught:
        sh.batch_update({"requests": [_add(sheet_id, spec)]})
    lines = caught.value.error["message"].split("\n")
    assert sorted(lines) == [
        'Invalid JSON payload received. Unknown name "colors" at '
        "'requests[0].add_chart.chart.spec': Cannot find field.",
        'Invalid JSON payload received. Unknown name "label" at '
        "'requests[0].add_chart.chart.spec.basic_chart.axis[0]': Cannot find field.",
    ]
    (detail,) = caught.value.error["details"]
    assert sorted(v["field"] for v in detail["fieldViolations"]) == [
        "requests[0].add_chart.chart.spec",
        "requests[0].add_chart.chart.spec.basic_chart.axis[0]",
    ]


def test_an_unknown_request_kind_gets_the_same_400(sh) -> None:
    with pytest.raises(gspread.exceptions.APIError) as caught:
        sh.batch_update({"requests": [{"DeleteRange": {"range": {"sheetId": 0}}}]})
    assert caught.value.code == 400
    (detail,) = caught.value.error["details"]
    assert detail["fieldViolations"] == [
        {
            "field": "requests[0]",
            "description": 'Invalid JSON payload received. Unknown name "DeleteRange" at '
            "'requests[0]': Cannot find field.",
        }
    ]


def test_unknown_enum_values_and_ids_are_refused(sh) -> None:
    sheet_id = sh.sheet1.id
    with pytest.raises(gspread.exceptions.APIError, match=r"chart_type' \(TYPE_ENUM\), \"PIE\""):
        sh.batch_update({"requests": [_add(sheet_id, _spec(sheet_id, kind="PIE"))]})
    with pytest.raises(gspread.exceptions.APIError, match="No chart with id: 42"):
        sh.batch_update(
            {"requests": [{"updateChartSpec": {"chartId": 42, "spec": _spec(sheet_id)}}]}
        )
    with pytest.raises(gspread.exceptions.APIError, match="No object with id 42"):
        sh.batch_update({"requests": [{"deleteEmbeddedObject": {"objectId": 42}}]})
    with pytest.raises(gspread.exceptions.APIError, match="No grid with id: 999"):
        sh.batch_update({"requests": [_add(sheet_id, _spec(999))]})


def test_snake_case_names_are_accepted_as_the_api_does(sh) -> None:
    sheet_id = sh.sheet1.id
    spec = _spec(sheet_id)
    spec["basic_chart"] = spec.pop("basicChart")
    sh.batch_update({"requests": [_add(sheet_id, spec)]})
    assert len(_charts(sh)) == 1


def test_deleting_the_host_sheet_deletes_its_charts(sh) -> None:
    other = sh.add_worksheet("Other", rows=5, cols=5)
    sh.batch_update({"requests": [_add(other.id, _spec(sh.sheet1.id))]})
    assert len(_charts(sh)) == 1
    sh.del_worksheet(other)
    assert _charts(sh) == []
