"""Google Sheets, thin: a tab read whole in one values.get; writes as one values:batchUpdate, one append, one batchUpdate.

gspread's low-level client does the HTTP over the budgeted session from
integrations.clients. Every value a person typed anywhere is written with
valueInputOption=RAW, so "=IMPORTXML(...)" in an organization's name stays text.
Deciding what to write is not done here (see coalition/sheet_table.py).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import gspread
import requests
from gspread.exceptions import APIError

from coalition.partner_sheets import TabSample
from coalition.references import BadReference, GoogleRef, parse_google
from coalition.sheet_table import quote_tab
from integrations.http import ServiceUnavailable

SAMPLE_ROWS = 10  # rows read of each tab to tell an empty tab, a referral tab and other data apart


class SheetsError(Exception):
    """Sheets refused or failed a request; `status` is the HTTP status when there was one."""

    def __init__(self, message: str, status: int | None = None) -> None:
        super().__init__(message)
        self.status = status

    @property
    def transient(self) -> bool:
        return self.status is None or self.status == 429 or self.status >= 500


class SheetNotFound(SheetsError):
    """No spreadsheet, or no tab, of that name visible to the bot."""

    @property
    def transient(self) -> bool:
        return False


def is_transient(exc: BaseException) -> bool:
    """True for failures a retry may cure (429, 5xx, timeouts, connection loss)."""
    if isinstance(exc, SheetsError):
        return exc.transient
    return isinstance(exc, ServiceUnavailable | requests.ConnectionError | requests.Timeout)


def _typed(exc: Exception, where: str) -> Exception:
    if isinstance(exc, APIError):
        status = exc.response.status_code if exc.response is not None else None
        message = exc.error.get("message", "") if isinstance(exc.error, dict) else str(exc)
        kind = SheetNotFound if status == 404 else SheetsError
        return kind(f"Sheets {where}: HTTP {status} {message}".strip(), status)
    if isinstance(exc, ServiceUnavailable | requests.ConnectionError | requests.Timeout):
        return SheetsError(f"Sheets {where}: {exc}")
    return exc


@dataclass(frozen=True)
class Tab:
    """One tab of one spreadsheet: what every call below needs."""

    spreadsheet_id: str
    spreadsheet_title: str
    sheet_id: int
    title: str
    row_count: int = 0

    @property
    def where(self) -> str:
        return f"'{self.spreadsheet_title}' tab '{self.title}'"


def open_tab(client: gspread.Client, spreadsheet: str, tab: str) -> Tab:
    """Find a spreadsheet by link, id or title and one of its tabs: at most one Drive search and one metadata read.

    The tab is the one named; a link's `#gid=N` is used only when no tab has that name.
    """
    http = client.http_client
    ref = spreadsheet_ref(spreadsheet)
    try:
        spreadsheet_id = _find_spreadsheet(client, spreadsheet)
        meta = http.fetch_sheet_metadata(spreadsheet_id)
    except (APIError, ServiceUnavailable, requests.RequestException) as exc:
        raise _typed(exc, f"opening '{spreadsheet}'") from None
    title = meta.get("properties", {}).get("title", spreadsheet)
    titles = [s.get("properties", {}).get("title") for s in meta.get("sheets", [])]
    for sheet in meta.get("sheets", []):
        props = sheet.get("properties", {})
        by_gid = tab not in titles and ref.gid is not None and props.get("sheetId") == ref.gid
        if props.get("title") == tab or by_gid:
            grid = props.get("gridProperties", {})
            return Tab(
                spreadsheet_id,
                title,
                int(props.get("sheetId", 0)),
                str(props.get("title")),
                int(grid.get("rowCount", 0)),
            )
    tabs = ", ".join(f"'{s['properties']['title']}'" for s in meta.get("sheets", []))
    raise SheetNotFound(
        f"spreadsheet '{title}' has no tab '{tab}' (it has {tabs}); check services.yaml"
    )


class BadSheetReference(SheetNotFound):
    """The text names no spreadsheet at all (not a link, id or title); `reason` says why."""

    def __init__(self, message: str, reason: BadReference | None) -> None:
        super().__init__(message, None)
        self.reason = reason


def spreadsheet_ref(text: str) -> GoogleRef:
    """The spreadsheet a link, id or title names; BadSheetReference when it names none."""
    ref = parse_google(text, "spreadsheet")
    if isinstance(ref, GoogleRef):
        return ref
    why = ref.message("the spreadsheet") if ref is not None else "the spreadsheet is blank."
    raise BadSheetReference(why, ref)


def _find_spreadsheet(client: gspread.Client, name: str) -> str:
    """The id of a spreadsheet given by link or id (no request), or by title (one Drive search)."""
    ref = spreadsheet_ref(name)
    if ref.id is not None:
        return ref.id
    title = str(ref.title)
    for item in client.list_spreadsheet_files(title=title):
        if item.get("name") == title:
            return str(item["id"])
    raise SheetNotFound(
        f"no spreadsheet named '{title}' is shared with the bot (check services.yaml and sharing)",
        404,
    )


def find_spreadsheet(client: gspread.Client, ref: GoogleRef) -> str:
    """The id of a parsed spreadsheet reference (a Drive search when it is a title)."""
    try:
        return _find_spreadsheet(client, ref.canonical())
    except (APIError, ServiceUnavailable, requests.RequestException) as exc:
        raise _typed(exc, f"finding {ref.describe()}") from None


def sample_tabs(
    client: gspread.Client, spreadsheet_id: str, titles: Sequence[str] | None = None
) -> tuple[str, list[TabSample]]:
    """(spreadsheet title, its tabs with their first rows): one metadata read and one values:batchGet.

    With `titles`, only those tabs are read and no metadata is fetched (one request);
    a title the spreadsheet lacks makes Sheets answer 400.
    """
    http = client.http_client
    try:
        if titles is None:
            meta = http.fetch_sheet_metadata(spreadsheet_id)
            title = str(meta.get("properties", {}).get("title", spreadsheet_id))
            props = [s.get("properties", {}) for s in meta.get("sheets", [])]
            tabs = [(str(p.get("title")), int(p.get("sheetId", 0))) for p in props]
        else:
            title, tabs = spreadsheet_id, [(t, -1) for t in titles]
        if not tabs:
            return title, []
        reply = http.values_batch_get(
            spreadsheet_id,
            [f"{quote_tab(t)}!1:{SAMPLE_ROWS}" for t, _ in tabs],
            params={"valueRenderOption": "FORMATTED_VALUE", "majorDimension": "ROWS"},
        )
    except (APIError, ServiceUnavailable, requests.RequestException) as exc:
        raise _typed(exc, f"reading the tabs of spreadsheet {spreadsheet_id}") from None
    ranges = reply.get("valueRanges", [])
    samples = [
        TabSample(t, gid, tuple(tuple(str(c) for c in row) for row in r.get("values", [])))
        for (t, gid), r in zip(tabs, ranges, strict=False)
    ]
    return title, samples


def add_tab(client: gspread.Client, spreadsheet_id: str, title: str) -> int:
    """A new tab at the end of the spreadsheet, in one spreadsheets:batchUpdate; its sheetId."""
    try:
        reply = client.http_client.batch_update(
            spreadsheet_id, {"requests": [{"addSheet": {"properties": {"title": title}}}]}
        )
    except (APIError, ServiceUnavailable, requests.RequestException) as exc:
        raise _typed(exc, f"adding tab '{title}' to spreadsheet {spreadsheet_id}") from None
    props = reply.get("replies", [{}])[0].get("addSheet", {}).get("properties", {})
    return int(props.get("sheetId", 0))


def read_tab(client: gspread.Client, tab: Tab) -> list[list[Any]]:
    """Every value of the tab, one values.get; numbers as numbers, text as text."""
    try:
        reply = client.http_client.values_get(
            tab.spreadsheet_id,
            quote_tab(tab.title),
            params={"valueRenderOption": "UNFORMATTED_VALUE", "majorDimension": "ROWS"},
        )
    except (APIError, ServiceUnavailable, requests.RequestException) as exc:
        raise _typed(exc, f"reading {tab.where}") from None
    return [list(row) for row in reply.get("values", [])]


def write_ranges(client: gspread.Client, tab: Tab, ranges: Sequence[dict[str, Any]]) -> int:
    """Write many A1 ranges in one values:batchUpdate, RAW; returns requests made (0 or 1)."""
    if not ranges:
        return 0
    body = {"valueInputOption": "RAW", "data": [dict(r, majorDimension="ROWS") for r in ranges]}
    try:
        client.http_client.values_batch_update(tab.spreadsheet_id, body=body)
    except (APIError, ServiceUnavailable, requests.RequestException) as exc:
        raise _typed(exc, f"writing {tab.where}") from None
    return 1


def append_rows(client: gspread.Client, tab: Tab, rows: Sequence[Sequence[Any]]) -> int:
    """Add rows after the tab's table in one values:append (INSERT_ROWS, RAW); requests made."""
    if not rows:
        return 0
    try:
        client.http_client.values_append(
            tab.spreadsheet_id,
            f"{quote_tab(tab.title)}!A1",
            params={"valueInputOption": "RAW", "insertDataOption": "INSERT_ROWS"},
            body={"majorDimension": "ROWS", "values": [list(r) for r in rows]},
        )
    except (APIError, ServiceUnavailable, requests.RequestException) as exc:
        raise _typed(exc, f"appending to {tab.where}") from None
    return 1


def batch_update(client: gspread.Client, tab: Tab, requests_: Sequence[dict[str, Any]]) -> int:
    """Structural changes (deleteDimension...) in one spreadsheets:batchUpdate, all or nothing."""
    if not requests_:
        return 0
    try:
        client.http_client.batch_update(tab.spreadsheet_id, {"requests": list(requests_)})
    except (APIError, ServiceUnavailable, requests.RequestException) as exc:
        raise _typed(exc, f"updating {tab.where}") from None
    return 1


# ---------------------------------------------------------------- intake routing (added for issue 5)
# Intake routing's budget is 3 Sheets requests per run plus two per partner (its
# referral tab's header, then one append), so it finds the Intake tab without a
# metadata read: a spreadsheet by one Drive search (none when the id is known), and a
# missing tab shows up as the first read's or write's error.
def tab_by_name(client: gspread.Client, spreadsheet: str, tab: str) -> Tab:
    """A tab of a spreadsheet found by name or id, without a Sheets request."""
    try:
        spreadsheet_id = _find_spreadsheet(client, spreadsheet)
    except (APIError, ServiceUnavailable, requests.RequestException) as exc:
        raise _typed(exc, f"finding '{spreadsheet}'") from None
    return Tab(spreadsheet_id, spreadsheet, 0, tab)


def tab_of(spreadsheet_id: str, tab: str, label: str) -> Tab:
    """A tab of a spreadsheet whose id is known (a partner's referral sheet); `label` names it in errors."""
    return Tab(spreadsheet_id, label, 0, tab)


def read_tab_as_shown(client: gspread.Client, tab: Tab) -> list[list[str]]:
    """Every value as people see it (FORMATTED_VALUE), one values.get: form timestamps stay text."""
    try:
        reply = client.http_client.values_get(
            tab.spreadsheet_id,
            quote_tab(tab.title),
            params={"valueRenderOption": "FORMATTED_VALUE", "majorDimension": "ROWS"},
        )
    except (APIError, ServiceUnavailable, requests.RequestException) as exc:
        raise _typed(exc, f"reading {tab.where}") from None
    return [[str(cell) for cell in row] for row in reply.get("values", [])]


__all__ = [
    "BadSheetReference",
    "SheetNotFound",
    "SheetsError",
    "Tab",
    "add_tab",
    "append_rows",
    "batch_update",
    "find_spreadsheet",
    "is_transient",
    "open_tab",
    "read_tab",
    "read_tab_as_shown",
    "sample_tabs",
    "spreadsheet_ref",
    "tab_by_name",
    "tab_of",
    "write_ranges",
]
