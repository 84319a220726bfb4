"""The demo seed as the bot meets it: through the real client libraries, over HTTP."""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import httpx
from gspread.utils import ValueRenderOption
from pyairtable.formulas import match

from coalition.settings import settings
from integrations.clients import airtable_api, drive_service, sheets_client, slack_client
from sandbox.seed import demo_data, intake_rows, personal_values
from sandbox.seed.intake import HEADER, HOSTILE_FORMULA
from sandbox.seed.roster import REFERRAL_HEADER

FOLDER = "application/vnd.google-apps.folder"
SPREADSHEET = "application/vnd.google-apps.spreadsheet"


def _base(api):
    return api.base(next(b.id for b in api.bases() if b.name == settings().services.airtable.base))


def test_airtable_base_has_every_table_and_links(demo) -> None:
    base = _base(airtable_api())
    tables = {t.name for t in base.tables()}
    assert {"Members", "Contacts", "Campaigns", "Bills", "Donations", "Activities"} <= tables
    members = base.table("Members").all()
    assert len(members) == 40
    assert len(base.table("Members").all(formula=match({"LSC funded": True}))) == 1
    by_id = {m["id"]: m["fields"]["Name"] for m in members}
    contacts = base.table("Contacts").all()
    assert len(contacts) == 80
    linked = [c for c in contacts if c["fields"].get("Organization")]
    assert len(linked) == 79
    assert all(org in by_id for c in linked for org in c["fields"]["Organization"])
    schema = base.table("Members").schema()
    types = {f.name: f.type for f in schema.fields}
    assert types["Counties"] == "multipleSelects" and types["Accepting referrals"] == "checkbox"
    assert types["Data issues"] == "multilineText"


def test_airtable_carries_the_messy_cases(demo) -> None:
    base = _base(airtable_api())
    amounts = [r["fields"]["Amount"] for r in base.table("Donations").all()]
    assert len(amounts) == 400 and "$1,200.50" in amounts and "-50.00" in amounts
    campaigns = base.table("Campaigns").all(formula=match({"Status": "Ready"}))
    assert any("<!channel>" in c["fields"]["Message"] for c in campaigns)
    today = demo_data(demo.sandbox).today
    hearings = {
        r["fields"]["Next hearing"]
        for r in base.table("Bills").all()
        if "Next hearing" in r["fields"]
    }
    assert {(today + timedelta(days=d)).isoformat() for d in (1, 3)} <= hearings


def test_demo_today_is_the_org_date_of_the_sandbox_clock(demo) -> None:
    zone = ZoneInfo(settings().services.timezone)
    before = datetime.now(zone).date()
    seeded = demo_data(demo.sandbox).today
    assert before - timedelta(days=1) <= seeded <= before + timedelta(days=1)
    assert [r["Full name"] for r in intake_rows(seeded)] == [
        c.values["Full name"] for c in demo_data(demo.sandbox).intake
    ]


def test_intake_sheet_reads_back_through_gspread(demo) -> None:
    gc = sheets_client()
    names = settings().services.sheets
    tab = gc.open(names.intake).worksheet(names.intake_tab)
    rows = tab.get_all_values()
    assert rows[0] == HEADER and len(rows) == 151
    formulas = tab.get_all_values(value_render_option=ValueRenderOption.formula)
    # Stored as typed text (RAW): the formula comes back as the same string, never evaluated.
    assert any(HOSTILE_FORMULA in row for row in formulas)
    assert any(HOSTILE_FORMULA in row for row in rows)
    directory = gc.open(names.member_directory).worksheet(names.member_directory_tab)
    assert directory.get_all_values() == [[*settings().roster.directory_columns, "Staff notes"]]


def test_drive_folders_and_referral_sheets(demo) -> None:
    drive = drive_service()
    names = settings().services.drive
    found = {}
    for name in (names.summary_folder, names.referral_folder):
        query = f"name = '{name}' and mimeType = '{FOLDER}' and trashed = false"
        files = drive.files().list(q=query, fields="files(id,name)").execute()["files"]
        assert len(files) == 1
        found[name] = files[0]["id"]
    query = f"'{found[names.referral_folder]}' in parents and mimeType = '{SPREADSHEET}'"
    sheets = drive.files().list(q=query, fields="files(id,name)", pageSize=100).execute()["files"]
    members = _base(airtable_api()).table("Members").all()
    partners = {
        m["fields"]["Referral sheet"]: m["fields"]["Name"]
        for m in members
        if m["fields"].get("Referral sheet")
    }
    assert {f["id"]: f["name"] for f in sheets} == {
        sheet_id: f"Referrals - {name}" for sheet_id, name in partners.items()
    }
    first = sheets_client().open_by_key(sheets[0]["id"]).sheet1
    assert first.row_values(1) == REFERRAL_HEADER


def test_slack_channels_people_and_bot_membership(demo) -> None:
    client = slack_client()
    bot = client.auth_test()["user_id"]
    channels = client.conversations_list(types="public_channel,private_channel", limit=200)[
        "channels"
    ]
    names = {c["name"] for c in channels}
    cfg = settings()
    assert set(cfg.services.slack.channels.model_dump().values()) <= names
    assert set(cfg.alerts.region_channels.values()) <= names
    assert all(c["is_member"] for c in channels)
    users = {u["id"] for u in client.users_list(limit=500)["members"]}
    assert {*cfg.access.staff, *cfg.access.admins, bot} <= users
    members = _base(airtable_api()).table("Members").all()
    contacts = _base(airtable_api()).table("Contacts").all()
    partner = next(m for m in members if m["fields"].get("Referral channel"))
    channel = next(c for c in channels if c["name"] == partner["fields"]["Referral channel"])
    in_channel = set(client.conversations_members(channel=channel["id"])["members"])
    own_users = {
        c["fields"]["Slack user"]
        for c in contacts
        if partner["id"] in c["fields"].get("Organization", []) and c["fields"].get("Slack user")
    }
    assert own_users and own_users <= in_channel and bot in in_channel


def test_openstates_has_bills_matching_airtable(demo) -> None:
    response = httpx.get(
        f"{demo.url}/openstates/bills",
        params={"jurisdiction": "Texas"},
        headers={"X-API-KEY": "demo"},
    )
    response.raise_for_status()
    identifiers = {b["identifier"] for b in response.json()["results"]}
    bills = _base(airtable_api()).table("Bills").all(formula=match({"Jurisdiction": "Texas"}))
    assert identifiers and identifiers <= {b["fields"]["Bill"] for b in bills}


def test_personal_values_cover_the_seed_and_rows_added_later(demo) -> None:
    values = personal_values(demo.sandbox)
    data = demo_data(demo.sandbox)
    assert {c.values["Full name"] for c in data.intake if c.values["Full name"]} <= values
    names = settings().services.sheets
    tab = sheets_client().open(names.intake).worksheet(names.intake_tab)
    tab.append_row(["3/1/2026 10:00:00", "Quenby Ashcombe-Test", "English", "(212) 555-0177"])
    assert {"Quenby Ashcombe-Test", "(212) 555-0177"} <= personal_values(demo.sandbox)


def test_the_same_day_seeds_the_same_workspace(demo) -> None:
    first = demo.sandbox.snapshot()
    demo.reset("demo")
    second = demo.sandbox.snapshot()

    def records(snapshot: dict) -> list:
        return [
            (t["name"], [r["id"] for r in t["records"]], [r["fields"] for r in t["records"]])
            for b in snapshot["airtable"]["bases"]
            for t in b["tables"]
        ]

    assert records(first) == records(second)
    assert first["sheets"]["spreadsheets"] == second["sheets"]["spreadsheets"]
    assert first["slack"]["channels"].keys() == second["slack"]["channels"].keys()


def test_empty_seed_is_a_bare_workspace(sandbox) -> None:
    sandbox.reset("demo")
    sandbox.reset("empty")
    assert airtable_api().bases() == []
    assert drive_service().files().list().execute()["files"] == []
    client = slack_client()
    assert [u["id"] for u in client.users_list()["members"]] == [client.auth_test()["user_id"]]
    assert client.conversations_list(types="public_channel,private_channel")["channels"] == []
    assert demo_data(sandbox.sandbox) is None
    assert sandbox.services["openstates"].bills() == []
