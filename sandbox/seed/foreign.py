"""The `foreign` seed: the demo coalition as a real coalition would have built its workspace (pure).

Same people, partners, gifts and intake rows as `demo` (so outcomes compare row for
row), named the coalition's own way: form questions in its own words, some bilingual
("Full name / Nombre completo"), in a tab `Form Responses 1` (the bot's columns at the
right end, as `coalition setup sheets` adds them); the partner table `Organizations` with fields such as `Languages spoken` and
`Referral spreadsheet`; other tables and fields renamed; partners' referral sheets
given by their browser URL, their first tab the default `Sheet1` or `Hoja 1` (some
empty, some with the referral header and staff columns); partners' referral channels
typed as Slack links or `#names`. Nothing here says where the bot's names are:
`coalition setup discover` must find them.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import date
from typing import Any

from coalition.settings import Settings
from sandbox.seed import intake, roster
from sandbox.seed.demo import DemoData, SheetSpec, build_demo

INTAKE_TAB = "Form Responses 1"
DIRECTORY_TAB = "Sheet1"
WORKSPACE = "https://coalition-demo.slack.com"

TABLES = {
    "members": "Organizations",
    "contacts": "People",
    "campaigns": "Campaigns",
    "bills": "Legislation",
    "donations": "Donations",
    "activities": "Events",
}
# Design's field name -> this coalition's, by table key; fields not listed keep their name.
FIELDS: dict[str, dict[str, str]] = {
    "members": {
        "Name": "Organization name",
        "Type": "Organization type",
        "Counties": "Counties served",
        "Services": "Services offered",
        "Languages": "Languages spoken",
        "Accepting referrals": "Accepting new referrals?",
        "Weekly capacity": "Weekly case capacity",
        "Income limit": "Income limit (% of poverty guideline)",
        "LSC funded": "LSC-funded",
        "Referral channel": "Slack channel for referrals",
        "Referral sheet": "Referral spreadsheet",
        "Membership status": "Member status",
        "Last verified": "Last verified on",
    },
    "contacts": {
        "Name": "Full name",
        "Email": "Email address",
        "Phone": "Phone number",
        "Organization": "Member organization",
        "Slack user": "Slack member ID",
        "Primary contact": "Main contact?",
    },
    "campaigns": {"Call to action": "Call to action (CTA)", "Send at": "Send time"},
    "bills": {"Bill": "Bill number", "Position": "Our position"},
    "donations": {"Amount": "Gift amount", "Date": "Gift date"},
    "activities": {"Type": "Event type", "Attendees": "Attendance"},
}
# The form's questions, as the coalition's form asks them.
FORM: dict[str, str] = {
    "Timestamp": "Timestamp",
    "Full name": "Full name / Nombre completo",
    "Preferred language": "Preferred language / Idioma preferido",
    "Phone": "Phone number / Número de teléfono",
    "Email": "Email address",
    "City": "City / Ciudad",
    "County": "County where you live / Condado",
    "State": "State / Estado",
    "Help needed": "How can we help you? / ¿Cómo podemos ayudarle?",
    "Detained": "Are you currently detained? / ¿Está detenido/a?",
    "Next court date": "Date of your next court hearing (if any)",
    "Date of last entry": "When did you last enter the U.S.? (last entry)",
    "Household size": "How many people live in your household?",
    "Monthly income": "Monthly household income (USD)",
    "Consent to share": "May we share your information with a partner organization? / "
    "¿Podemos compartir su información?",
    "Notes": "Anything else we should know?",
}
STAFF_COLUMNS = ["Staff notes"]
# The bot's own columns, empty, at the right end: as `coalition setup sheets` adds them to
# the form's tab on day one (the form itself never writes them).
BOT_COLUMNS = list(intake.BOT_COLUMNS)
DIRECTORY: dict[str, str] = {
    "Organization": "Organization name",
    "Accepting referrals": "Accepting referrals?",
}
PARTNER_STAFF_COLUMNS = ["Assigned attorney", "Conflict check done"]


def build_foreign(today: date, cfg: Settings) -> DemoData:
    """The demo's data under this coalition's own names."""
    data = build_demo(today, cfg)
    channel_ids = {c.name: c.channel_id for c in data.channels}
    sheet_ids = {s.title: s.spreadsheet_id for s in data.spreadsheets}
    records = {
        key: [_renamed(record, FIELDS.get(key, {})) for record in rows]
        for key, rows in data.records.items()
    }
    name, sheet, channel = (
        FIELDS["members"][k] for k in ("Name", "Referral sheet", "Referral channel")
    )
    for index, member in enumerate(records["members"]):
        if member.get(sheet):
            member[sheet] = _browser_url(str(member[sheet]), index)
        if member.get(channel):
            member[channel] = _typed_channel(str(member[channel]), channel_ids, index)
    return replace(
        data,
        table_names={key: TABLES[key] for key in data.table_names},
        fields={
            key: [_renamed_spec(spec, FIELDS.get(key, {})) for spec in specs]
            for key, specs in data.fields.items()
        },
        records=records,
        spreadsheets=_spreadsheets(data, cfg, sheet_ids),
        member_name_field=name,
        link_fields=(FIELDS["contacts"]["Organization"], "Organization"),
        renames={key: dict(names) for key, names in FIELDS.items()},
        intake_header={design: FORM.get(design, design) for design in intake.HEADER},
    )


def _renamed(record: dict[str, Any], names: dict[str, str]) -> dict[str, Any]:
    return {names.get(key, key): value for key, value in record.items()}


def _renamed_spec(spec: dict[str, Any], names: dict[str, str]) -> dict[str, Any]:
    return {**spec, "name": names.get(spec["name"], spec["name"])}


def _browser_url(spreadsheet_id: str, index: int) -> str:
    """As staff paste it from the address bar, in the few shapes browsers show."""
    tails = ["/edit?usp=sharing", "/edit#gid=0", "/edit", "/edit?usp=drive_link"]
    user = "/u/0" if index % 5 == 4 else ""
    return f"https://docs.google.com/spreadsheets{user}/d/{spreadsheet_id}{tails[index % 4]}"


def _typed_channel(name: str, ids: dict[str, str], index: int) -> str:
    """A Slack link for some partners, a `#name` for the others."""
    if index % 2 == 0 and name in ids:
        return f"{WORKSPACE}/archives/{ids[name]}"
    return f"#{name}"


def _spreadsheets(data: DemoData, cfg: Settings, ids: dict[str, str]) -> list[SheetSpec]:
    names = cfg.services.sheets
    columns = [*intake.FORM_COLUMNS, *STAFF_COLUMNS, *BOT_COLUMNS]
    rows = [[FORM.get(c, c) for c in columns]]
    for case in data.intake:
        row = [case.values[c] for c in columns]
        while row and row[-1] == "":
            row.pop()
        rows.append(row)
    directory_header = [
        DIRECTORY.get(h, h)
        for h in data.sheet(names.member_directory).tabs[names.member_directory_tab][0]
    ]
    sheets = [
        SheetSpec(names.intake, ids[names.intake], {INTAKE_TAB: rows}),
        SheetSpec(
            names.member_directory, ids[names.member_directory], {DIRECTORY_TAB: [directory_header]}
        ),
    ]
    for index, member in enumerate(roster.LEGAL_AID_MEMBERS):
        spec = data.sheet(member.referral_sheet_title)
        sheets.append(replace(spec, tabs=_partner_tabs(index)))
    return sheets


def _partner_tabs(index: int) -> dict[str, list[list[str]]]:
    """A partner's own sheet: its default first tab, empty or holding the referral header and staff columns."""
    kind = index % 3
    if kind == 0:
        return {"Sheet1": [[*roster.REFERRAL_HEADER, *PARTNER_STAFF_COLUMNS]]}
    if kind == 1:
        return {"Hoja 1": []}
    return {"Sheet1": []}
