"""Wiring of the seeds into the sandbox's backends: `empty` and `demo`.

The demo's "today" is the sandbox clock's current date in the org's time zone
(services.yaml `timezone`), so week-based flows (weekly summary, hearing reminders,
due campaigns) always find recent data; the content is the same every day, only the
dates move with it. Pass `today` to `build_demo` for a fixed date.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from weakref import WeakKeyDictionary
from zoneinfo import ZoneInfo

from coalition.settings import Settings, settings
from sandbox.airtable.exceptions import AirtableError
from sandbox.core import Clock, Workspace
from sandbox.seed import intake
from sandbox.seed.demo import DemoData, build_demo, is_distinctive
from sandbox.seed.demo import personal_values as seeded_personal_values
from sandbox.seed.foreign import FORM, INTAKE_TAB, build_foreign

SEEDS = ("empty", "demo", "foreign")
FOLDER_MIME = "application/vnd.google-apps.folder"
# What each sandbox was last seeded with, for `personal_values` and tests.
_APPLIED: WeakKeyDictionary[Any, DemoData] = WeakKeyDictionary()


def demo_today(now: datetime, cfg: Settings) -> date:
    """The org's calendar date at `now`: the demo's anchor."""
    return now.astimezone(ZoneInfo(cfg.services.timezone)).date()


def apply_seed(sandbox: Workspace, name: str) -> None:
    """Fill freshly reset backends. `empty`: the bare Slack workspace (its bot user) only;
    `foreign`: the demo's data under a real coalition's own names (sandbox/seed/foreign.py)."""
    if name not in SEEDS:
        raise ValueError(f"unknown seed {name!r}; expected one of {', '.join(SEEDS)}")
    _APPLIED.pop(sandbox, None)
    if name == "empty":
        return  # the Slack backend's reset() already made the workspace and its bot user
    cfg = settings()
    today = demo_today(sandbox.clock.utcnow(), cfg)
    data = build_foreign(today, cfg) if name == "foreign" else build_demo(today, cfg)
    apply_demo(sandbox.services, data)
    _APPLIED[sandbox] = data


def demo_data(sandbox: Workspace) -> DemoData | None:
    """The demo data this sandbox was seeded with in this process, if any."""
    return _APPLIED.get(sandbox)


def apply_demo(services: dict[str, Any], data: DemoData) -> None:
    """Write the demo into the backends through their model APIs (no HTTP)."""
    _slack(services["slack"], data)
    _drive_and_sheets(services["drive"], services["sheets"], data)
    _airtable(services["airtable"], data)
    for bill in data.openstates_bills:
        services["openstates"].add_bill(bill)


def _slack(slack: Any, data: DemoData) -> None:
    for user in data.users:
        slack.create_user(
            user.name,
            user.real_name,
            email=user.email,
            user_id=user.user_id,
            is_admin=user.is_admin,
        )
    for channel in data.channels:
        members = (slack.bot_user_id, *channel.members)
        slack.create_channel(
            channel.name,
            is_private=channel.is_private,
            members=members,
            channel_id=channel.channel_id,
        )


def _drive_and_sheets(drive: Any, sheets: Any, data: DemoData) -> None:
    for folder in data.folders.values():
        drive.create_file(folder.name, FOLDER_MIME, file_id=folder.file_id)
    for sheet in data.spreadsheets:
        parents = [sheet.parent] if sheet.parent else None
        sheets.create_spreadsheet(
            sheet.title, sheet.tabs, parents=parents, spreadsheet_id=sheet.spreadsheet_id
        )


def _airtable(airtable: Any, data: DemoData) -> None:
    base_id = airtable.create_base(data.base_name, base_id=data.base_id)
    table_ids: dict[str, str] = {}
    for key, fields in data.fields.items():
        table_ids[key] = airtable.create_table(
            base_id, data.table_names[key], [_resolve_link(f, table_ids) for f in fields]
        )
    member_ids: dict[str, str] = {}
    for key, records in data.records.items():
        rows = [_airtable_fields(r, member_ids, data.link_fields) for r in records]
        created = airtable.create_records(base_id, data.table_names[key], rows, typecast=True)
        if key == "members":
            member_ids = {r["fields"][data.member_name_field]: r["id"] for r in created}
        if key == "donations":
            gift_date = data.field_name("donations", "Date")
            airtable.backdate_records(
                base_id, data.table_names[key], typed_on_their_day(created, date_field=gift_date)
            )


def typed_on_their_day(
    records: list[dict[str, Any]], now: datetime | None = None, date_field: str = "Date"
) -> dict[str, str]:
    """Gifts as typed in at noon UTC on their date (never later than an hour ago); undated ones are left as made."""
    latest = (now or datetime.now(UTC)) - timedelta(hours=1)
    times: dict[str, str] = {}
    for record in records:
        try:
            day = date.fromisoformat(str(record["fields"].get(date_field, ""))[:10])
        except ValueError:
            continue
        at = min(datetime.combine(day, time(12), UTC), latest)
        times[record["id"]] = at.isoformat(timespec="milliseconds").replace("+00:00", "Z")
    return times


def _resolve_link(spec: dict[str, Any], table_ids: dict[str, str]) -> dict[str, Any]:
    options = spec.get("options") or {}
    if "table" not in options:
        return spec
    return {**spec, "options": {"linkedTableId": table_ids[options["table"]]}}


def _airtable_fields(
    record: dict[str, Any], member_ids: dict[str, str], links: tuple[str, ...] = ("Organization",)
) -> dict[str, Any]:
    """Links by organization name become record ids; empty values are left out, as Airtable does."""
    fields: dict[str, Any] = {}
    for name, value in record.items():
        if name in links:
            value = [member_ids[org] for org in value]
        if value is None or value is False or value == "" or value == []:
            continue  # 0 stays: a capacity of zero is a value
        fields[name] = value
    return fields


# ---------------------------------------------------------------- for the leak scanner and tests
def personal_values(sandbox: Workspace) -> set[str]:
    """Every personal value in the sandbox's seed, plus any now in its Intake, Contacts, Donations.

    The second half catches rows tests add after seeding and state restored from a file.
    """
    data = _APPLIED.get(sandbox)
    values = seeded_personal_values(data) if data else set()
    return values | _personal_values_in_backends(sandbox.services, settings())


def _personal_values_in_backends(services: dict[str, Any], cfg: Settings) -> set[str]:
    found: set[str] = set()
    sheets = services["sheets"]
    sheet_id = sheets.find_by_title(cfg.services.sheets.intake)
    personal = {*intake.PERSONAL_COLUMNS, *(FORM.get(c, c) for c in intake.PERSONAL_COLUMNS)}
    for tab in (cfg.services.sheets.intake_tab, INTAKE_TAB):
        if not sheet_id or tab not in sheets.tabs(sheet_id):
            continue
        rows = sheets.get_values(sheet_id, tab)
        if rows:
            columns = [i for i, h in enumerate(rows[0]) if h in personal]
            found.update(row[i] for row in rows[1:] for i in columns if i < len(row))
    airtable = services["airtable"]
    base_id = airtable.find_base(cfg.services.airtable.base)
    if base_id:
        names = cfg.fields.airtable
        contacts, donations = names.contacts, names.donations
        for table, keys in (
            (contacts.table, (contacts.fields.name, contacts.fields.email, contacts.fields.phone)),
            (donations.table, (donations.fields.donor, donations.fields.email)),
        ):
            try:
                records = airtable.records(base_id, table)
            except AirtableError:  # a base without that table holds nothing personal in it
                continue
            found.update(str(r["fields"].get(k, "")) for r in records for k in keys)
    return {v.strip() for v in found if is_distinctive(v.strip())}


def intake_cases(today: date | None = None, cfg: Settings | None = None) -> list[intake.IntakeCase]:
    """The demo's intake rows with their tags, for the given (default: the current) demo date."""
    cfg = cfg or settings()
    return build_demo(today or demo_today(Clock().utcnow(), cfg), cfg).intake


def intake_rows(today: date | None = None, cfg: Settings | None = None) -> list[dict[str, str]]:
    """The demo's intake rows as cell values keyed by header, in sheet order."""
    return [dict(case.values) for case in intake_cases(today, cfg)]
