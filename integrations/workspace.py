"""The names a workspace uses, read for `coalition setup discover`: schemas, tab titles, header rows, channels.

Thin and read-only. It never reads a data row of a sheet: a tab is read as its
title and its first row (`'Tab'!1:1`), all tabs of a spreadsheet in one
values:batchGet. From Airtable it reads the schema (meta API) and, for partners,
three fields of the partner table (name, referral sheet, referral channel):
organizations, not people.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import gspread
import requests
from gspread.exceptions import APIError
from pyairtable import Api
from slack_sdk import WebClient

from coalition.discover_plan import PartnerSheet
from coalition.partner_sheets import CAUSES, TabSample
from coalition.references import BadReference, GoogleRef, parse_google
from coalition.sheet_table import quote_tab
from integrations.http import ServiceUnavailable
from integrations.sheets import SheetNotFound, SheetsError, _find_spreadsheet, _typed

Headers = dict[str, list[str]]


def airtable_tables(api: Api, base: str) -> dict[str, list[str]]:
    """Table name -> its field names, from the base's schema (one meta request per base)."""
    from integrations.airtable import open_base

    schema = open_base(api, base).schema()
    return {table.name: [f.name for f in table.fields] for table in schema.tables}


def tab_samples(client: gspread.Client, spreadsheet: str) -> list[TabSample]:
    """Every tab of a spreadsheet (by title or id) with its first row only: two requests."""
    http = client.http_client
    try:
        spreadsheet_id = _find_spreadsheet(client, spreadsheet)
        meta = http.fetch_sheet_metadata(spreadsheet_id)
        props = [s.get("properties", {}) for s in meta.get("sheets", [])]
        tabs = [(str(p.get("title")), int(p.get("sheetId", 0))) for p in props]
        if not tabs:
            return []
        reply = http.values_batch_get(
            spreadsheet_id,
            [f"{quote_tab(title)}!1:1" for title, _ in tabs],  # the header row, never a data row
            params={"valueRenderOption": "FORMATTED_VALUE", "majorDimension": "ROWS"},
        )
    except (APIError, ServiceUnavailable, requests.RequestException) as exc:
        raise _typed(exc, f"reading the tabs of '{spreadsheet}'") from None
    ranges = [*reply.get("valueRanges", []), *[{}] * len(tabs)]
    return [
        TabSample(
            title, gid, tuple(tuple(str(c) for c in row) for row in found.get("values", [])[:1])
        )
        for (title, gid), found in zip(tabs, ranges, strict=False)
    ]


def tab_headers(client: gspread.Client, spreadsheet: str) -> Headers:
    """Tab title -> its first row, for a spreadsheet given by title or id."""
    return {sample.title: sample.header for sample in tab_samples(client, spreadsheet)}


def channels(client: WebClient) -> dict[str, str]:
    """Every channel the bot can see, name -> id (public and private, not archived)."""
    from integrations.slack import _load_channels

    return dict(sorted(_load_channels(client).items()))


def partner_sheets(
    api: Api,
    base: str,
    table: str,
    name_field: str,
    sheet_field: str,
    channel_field: str,
    samples_of: Callable[[str], list[TabSample]],
) -> list[PartnerSheet]:
    """Each member with a referral sheet: its references as typed, and its sheet's tabs and headers."""
    from integrations.airtable import all_records, open_base, open_table

    members = open_table(open_base(api, base), table)
    wanted = [f for f in (name_field, sheet_field, channel_field) if f in members.fields]
    partners: list[PartnerSheet] = []
    for record in all_records(members, wanted):
        fields: dict[str, Any] = record.get("fields", {})
        sheet_ref = _text(fields.get(sheet_field))
        if not sheet_ref:
            continue
        name = _text(fields.get(name_field)) or record["id"]
        channel_ref = _text(fields.get(channel_field))
        ref = parse_google(sheet_ref, "spreadsheet")
        if not isinstance(ref, GoogleRef):
            why = ref.why if isinstance(ref, BadReference) else "empty"
            problem = f"{CAUSES['bad_reference']} ({why})"
            partners.append(PartnerSheet(name, sheet_ref, channel_ref, problem=problem))
            continue
        try:
            tabs = samples_of(ref.id or str(ref.title))
        except SheetsError as exc:
            partners.append(PartnerSheet(name, sheet_ref, channel_ref, problem=_why(exc)))
            continue
        partners.append(PartnerSheet(name, sheet_ref, channel_ref, tabs, gid=ref.gid))
    return partners


def _text(value: Any) -> str:
    if isinstance(value, Sequence) and not isinstance(value, str):
        value = value[0] if value else ""
    return str(value or "").strip()


def _why(exc: SheetsError) -> str:
    """What went wrong, for a person, in the words #ops-alerts uses."""
    if isinstance(exc, SheetNotFound):
        return CAUSES["not_found"]
    if exc.status == 403:
        return CAUSES["not_shared"]
    return f"Sheets answered HTTP {exc.status}" if exc.status else type(exc).__name__
