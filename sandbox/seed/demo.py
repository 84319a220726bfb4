"""The whole demo coalition as plain data, built from a fixed seed and a "demo today" (pure).

`build_demo(today, cfg)` returns the same `DemoData` for the same date and config: every
random choice comes from `random.Random` streams with fixed seeds, and every date is
relative to `today`, never to the wall clock. Names of bases, tables, sheets, folders
and channels come from the config, so the demo matches whatever staff renamed.
"""

from __future__ import annotations

import random
import re
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from coalition.settings import Settings
from sandbox.seed import alerts, giving, intake, roster
from sandbox.seed.people import People, google_id, random_id
from sandbox.seed.places import REGION_OF_STATE
from sandbox.seed.schema import TABLE_ORDER, table_fields

SEED = "coalition-demo-v1"


def stream(part: str) -> random.Random:
    """An independent generator per part, so changing one part never reshuffles another."""
    return random.Random(f"{SEED}:{part}")


@dataclass(frozen=True)
class SheetSpec:
    """A spreadsheet to create: title, fixed id, tabs of cell rows, parent folder id (or None)."""

    title: str
    spreadsheet_id: str
    tabs: dict[str, list[list[str]]]
    parent: str | None = None


@dataclass(frozen=True)
class FolderSpec:
    name: str
    file_id: str


@dataclass(frozen=True)
class ChannelSpec:
    """A Slack channel; the bot joins every one of them when the seed is applied."""

    channel_id: str
    name: str
    is_private: bool
    members: tuple[str, ...]


@dataclass
class DemoData:
    """Everything the demo seed creates, keyed the way the wiring needs it."""

    today: date
    base_id: str
    base_name: str
    table_names: dict[str, str]
    fields: dict[str, list[dict[str, Any]]]
    records: dict[str, list[dict[str, Any]]]
    folders: dict[str, FolderSpec]
    spreadsheets: list[SheetSpec]
    intake: list[intake.IntakeCase]
    users: list[roster.SlackPerson]
    channels: list[ChannelSpec]
    openstates_bills: list[dict[str, Any]]
    staff_ids: list[str] = field(default_factory=list)
    admin_ids: list[str] = field(default_factory=list)
    # How this workspace names things the design names otherwise (the `foreign` seed).
    member_name_field: str = "Name"
    link_fields: tuple[str, ...] = ("Organization",)  # links to members, by organization name
    renames: dict[str, dict[str, str]] = field(default_factory=dict)  # table key -> design -> own
    intake_header: dict[str, str] = field(default_factory=dict)  # design header -> own

    def field_name(self, table: str, design: str) -> str:
        """This workspace's name for the design's field `design` of table key `table`."""
        return self.renames.get(table, {}).get(design, design)

    def sheet(self, title: str) -> SheetSpec:
        return next(s for s in self.spreadsheets if s.title == title)


DASHBOARD_TAB, DASHBOARD_TAB_HEADER = "About", "Coalition dashboard"


def _referral_sheet_ids(rng: random.Random) -> dict[str, str]:
    return {m.name: google_id(rng) for m in roster.LEGAL_AID_MEMBERS}


def _directory_header(cfg: Settings) -> list[str]:
    return [*cfg.roster.directory_columns, "Staff notes"]


def _spreadsheets(
    cfg: Settings,
    cases: list[intake.IntakeCase],
    referral_ids: dict[str, str],
    referral_folder: str,
    rng: random.Random,
) -> list[SheetSpec]:
    names = cfg.services.sheets
    sheets = [
        SheetSpec(names.intake, google_id(rng), {names.intake_tab: intake.rows_for_sheet(cases)}),
        SheetSpec(
            names.member_directory,
            google_id(rng),
            {names.member_directory_tab: [_directory_header(cfg)]},
        ),
    ]
    for member in roster.LEGAL_AID_MEMBERS:
        sheets.append(
            SheetSpec(
                member.referral_sheet_title,
                referral_ids[member.name],
                {roster.REFERRAL_TAB: [list(roster.REFERRAL_HEADER)]},
                referral_folder,
            )
        )
    # As `coalition setup sheets` leaves it: an About tab, filled by the weekly summary. Its id
    # has its own generator, so the demo's other ids stay what they were before it existed.
    sheets.append(
        SheetSpec(
            names.dashboard,
            google_id(random.Random("coalition-dashboard")),
            {DASHBOARD_TAB: [[DASHBOARD_TAB_HEADER]]},
        )
    )
    return sheets


def _channels(cfg: Settings, the_roster: roster.Roster, rng: random.Random) -> list[ChannelSpec]:
    staff = tuple(p.user_id for p in (*roster.STAFF, *roster.ADMINS))
    intake_staff = (roster.STAFF[0].user_id, roster.ADMINS[0].user_id)
    core = cfg.services.slack.channels
    channels = [
        ChannelSpec(random_id(rng, "C0", 9), name, name == core.leadership, staff)
        for name in (
            core.membership,
            core.intake_triage,
            core.leadership,
            core.ops_alerts,
            core.policy,
            core.organizing,
        )
    ]
    by_region: dict[str, list[str]] = {}
    for member in roster.OTHER_MEMBERS:
        region = REGION_OF_STATE[member.state]
        by_region.setdefault(region, []).extend(the_roster.users_by_org[member.name])
    organizers = tuple(u for users in by_region.values() for u in users)
    channels = [
        ChannelSpec(c.channel_id, c.name, c.is_private, c.members + organizers)
        if c.name == core.organizing
        else c
        for c in channels
    ]
    for region, name in cfg.alerts.region_channels.items():
        channels.append(
            ChannelSpec(
                random_id(rng, "C0", 9), name, False, staff + tuple(by_region.get(region, []))
            )
        )
    for member in roster.LEGAL_AID_MEMBERS:
        members = intake_staff + tuple(the_roster.users_by_org[member.name])
        channels.append(
            ChannelSpec(random_id(rng, "C0", 9), member.referral_channel, True, members)
        )
    return channels


def build_demo(today: date, cfg: Settings) -> DemoData:
    """The demo coalition anchored on `today` (ten weeks of history, hearings days ahead)."""
    ids = stream("ids")
    people = People(stream("people"))
    base_id = random_id(
        ids, "app", 14, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"
    )
    folders = {
        "summary": FolderSpec(cfg.services.drive.summary_folder, google_id(ids, 33)),
        "referral": FolderSpec(cfg.services.drive.referral_folder, google_id(ids, 33)),
    }
    referral_ids = _referral_sheet_ids(ids)
    the_roster = roster.build_roster(today, people, stream("roster"), referral_ids)
    cases = intake.build_intake(today, people, stream("intake"))
    tables = cfg.services.airtable.tables
    return DemoData(
        today=today,
        base_id=base_id,
        base_name=cfg.services.airtable.base,
        table_names={key: getattr(tables, key) for key in TABLE_ORDER},
        fields=table_fields(list(cfg.alerts.region_channels.values())),
        records={
            "members": the_roster.members,
            "contacts": the_roster.contacts,
            "campaigns": alerts.build_campaigns(today),
            "bills": alerts.build_bills(today),
            "donations": giving.build_donations(today, people, stream("donations")),
            "activities": giving.build_activities(today, stream("activities")),
        },
        folders=folders,
        spreadsheets=_spreadsheets(cfg, cases, referral_ids, folders["referral"].file_id, ids),
        intake=cases,
        users=[*roster.STAFF, *roster.ADMINS, *the_roster.partner_users],
        channels=_channels(cfg, the_roster, ids),
        openstates_bills=alerts.build_openstates_bills(today, stream("openstates")),
        staff_ids=[p.user_id for p in roster.STAFF],
        admin_ids=[p.user_id for p in roster.ADMINS],
    )


# Shorter values (a household size, "Yes") and bare years ("2019" as a date of entry)
# would match innocent text everywhere and identify nobody.
MIN_PERSONAL_LENGTH = 4


def is_distinctive(value: str) -> bool:
    """Worth a leak scanner's search: long enough, and not just a small number."""
    return len(value) >= MIN_PERSONAL_LENGTH and not re.fullmatch(r"\d{1,6}", value)


def personal_values(data: DemoData) -> set[str]:
    """Every personal value the demo holds, as written, for the leak scanner."""
    values: set[str] = set()
    for case in data.intake:
        values.update(case.values.get(column, "") for column in intake.PERSONAL_COLUMNS)
        values.update(case.embedded)
    for contact in data.records["contacts"]:
        keys = [data.field_name("contacts", k) for k in ("Name", "Email", "Phone")]
        values.update(str(contact.get(key) or "") for key in keys)
    for gift in data.records["donations"]:
        keys = [data.field_name("donations", k) for k in ("Donor", "Email")]
        values.update(str(gift.get(key) or "") for key in keys)
    staff = {*data.staff_ids, *data.admin_ids}
    for user in data.users:
        if user.user_id not in staff:  # partner users are contacts; staff are not clients
            values.update({user.real_name, user.email or ""})
    return {v.strip() for v in values if is_distinctive(v.strip())}
