"""Roster sync: Airtable Members and Contacts kept true in Data issues, the Member Directory sheet, the partner directory, and #membership.

`coalition run roster-sync [--full] [--dry-run]`. Each step is one coarse task
(a table, a sheet, a channel); every decision in the middle is
`coalition.roster.plan.decide`, a pure function. A run with nothing changed
reads a page per table and the sheet once, and writes nothing.
"""

from __future__ import annotations

import hashlib
import json
import logging
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import Any
from zoneinfo import ZoneInfo

from prefect import flow, task
from prefect.utilities.annotations import quote

from coalition.ledger import open_ledger
from coalition.ledger import roster_store as store
from coalition.names import missing_directory_sources, missing_fields, stop_if_required
from coalition.partner_sheets import cause_text
from coalition.privacy import PIIError, guard
from coalition.roster.fields import FieldPlan, RosterFieldError, plan_fields
from coalition.roster.models import Code, Finding
from coalition.roster.normalize import (
    canonical_lookup,
    contact_from_record,
    is_blank,
    member_from_record,
)
from coalition.roster.plan import (
    Digest,
    PlanOptions,
    Roster,
    SyncMode,
    SyncPlan,
    affected_records,
    choose_mode,
    decide,
    next_watermark,
)
from coalition.roster.report import RosterReport, Writes, build_report
from coalition.settings import Settings, config_file, settings
from coalition.sheet_table import SheetTable
from coalition.templating import fallback_text, render_blocks
from flows.health import stops_on_name_errors
from flows.partner_sheets import PartnerSheetProblem, open_referral_tab
from flows.posting import slack_poster
from flows.steps import retrying
from integrations import airtable, sheets
from integrations.clients import airtable_api, sheets_client
from integrations.http import counting

log = logging.getLogger("flows.roster_sync")

# Personal data passes between these tasks in memory only: no result is persisted or cached.
STEP = retrying([5, 30])


# ---------------------------------------------------------------- what the steps hand each other
@dataclass
class RosterTables:
    members: airtable.AirtableTable
    contacts: airtable.AirtableTable
    fields: FieldPlan
    airtable_now: datetime | None = None  # Airtable's clock before any record was read


@dataclass
class Records:
    """Normalized records of one table read this run, and the blank ones skipped."""

    by_id: dict[str, Any] = field(default_factory=dict)
    blank: int = 0


@dataclass
class DirectorySheet:
    tab: sheets.Tab
    table: SheetTable

    @property
    def url(self) -> str:
        return f"https://docs.google.com/spreadsheets/d/{self.tab.spreadsheet_id}/edit#gid={self.tab.sheet_id}"


# ---------------------------------------------------------------- the flow
@flow(name="roster-sync")
@stops_on_name_errors
def roster_sync(dry_run: bool = False, full: bool | None = None) -> RosterReport:
    """Make the Member Directory and the partner directory match Airtable, flag data problems, tell #membership."""
    # fmt: off
    cfg = settings()
    writes = Writes()
    with counting() as requests:
        tables = open_roster_tables.submit()  # while the ledger opens
        state = load_sync_state()
        tables.result()  # a table or field the base lacks stops the run here, before any write
        started = datetime.now(UTC)
        mode = choose_mode(full, state.since, state.last_full, started, cfg.roster.full_sync_every_hours)
        members = read_members.submit(tables, mode)
        contacts = read_contacts.submit(tables, mode)
        directory = read_directory_sheet()
        # Thousands of records pass between steps: quote() spares Prefect walking them for futures.
        roster = read_affected_records(
            tables, mode, quote(members.result()), quote(contacts.result()), quote(directory), quote(state)
        )
        roster = check_partner_sheets(quote(roster))
        plan = decide(
            roster, state.index, directory.table, state.partners, today(cfg), state.secret,
            plan_options(cfg, tables.result().fields),
        )
        if dry_run:
            writes.slack_planned = plan_digest(plan.digest, directory, roster)
        else:
            # Airtable's 5 requests/s set the pace; everything else happens meanwhile.
            issues = write_airtable_issues.submit(tables, quote(plan))
            writes.sheets = write_directory_sheet(quote(directory), quote(plan))
            update_partner_directory(quote(plan))
            writes.slack, writes.names_withheld = post_digest(
                plan.digest, quote(directory), quote(roster), quote(state)
            )
            writes.airtable = issues.result()
            since = next_watermark(tables.result().airtable_now, started)
            save_sync_state(quote(state), quote(plan), started, since, mode)  # after every write
    # fmt: on
    report = build_report(
        mode,
        dry_run,
        members.result(),
        contacts.result(),
        roster,
        plan,
        writes,
        requests,
        warnings=[*tables.result().fields.warnings, *plan.warnings],
        before=state.index,
    )  # fmt: skip
    publish_report(report)
    return report


def today(cfg: Settings) -> date:
    return datetime.now(ZoneInfo(cfg.services.timezone)).date()


def plan_options(cfg: Settings, fields: FieldPlan) -> PlanOptions:
    return PlanOptions(
        columns=cfg.fields.directory_fields(),
        id_header=_id_header(cfg),
        issues_field=cfg.fields.airtable.members.fields.data_issues,
        member_fields=cfg.fields.airtable.members.fields,
        member_issues_writable=fields.member_issues_writable,
        contact_issues_writable=fields.contact_issues_writable,
        removed=cfg.roster.removed_members,
        verify_months=cfg.roster.verify_every_months,
        check_verified=fields.check_verified,
    )


def _id_header(cfg: Settings) -> str:
    for header, source in cfg.fields.directory.items():
        if source == "id":
            return header
    raise RosterFieldError(
        f"{config_file(cfg.config_dir, 'fields.yaml')} directory: needs a column with value 'id' "
        "(the Member ID the bot owns)"
    )


# ---------------------------------------------------------------- reading
@task(**STEP)
def load_sync_state() -> store.SyncState:
    """What the last run left in the ledger: watermarks, the roster index, the partner directory."""
    with open_ledger().session() as session:
        return store.load_state(session)


@task(**STEP)
def open_roster_tables() -> RosterTables:
    """Find the Members and Contacts tables and check they have the fields the sync needs."""
    cfg = settings()
    names = cfg.fields
    source = config_file(cfg.config_dir, "fields.yaml")
    api = airtable_api()
    with airtable.server_clock(api) as dates:  # the next run reads what changed after this
        base = airtable.open_base(api, cfg.services.airtable.base)
        members = airtable.open_table(
            base, names.airtable.members.table, f"{source} airtable.members.table"
        )
        contacts = airtable.open_table(
            base, names.airtable.contacts.table, f"{source} airtable.contacts.table"
        )
    stop_if_required(
        [
            *missing_fields(names, "members", members.fields, source),
            *missing_directory_sources(names, members.fields, source),
            *missing_fields(names, "contacts", contacts.fields, source),
        ]
    )
    plan = plan_fields(
        names.directory_fields(),
        members.fields,
        contacts.fields,
        members.name,
        contacts.name,
        names.airtable.members.fields,
        names.airtable.contacts.fields,
    )
    return RosterTables(members, contacts, plan, dates[0] if dates else None)


@task(**STEP)
def read_members(tables: RosterTables, mode: SyncMode) -> Records:
    """Members changed since the last run (all of them on a full pass), normalized page by page."""
    fields = tables.fields
    formula = airtable.modified_since(mode.since, fields.member_watch) if mode.since else None
    return _normalized_members(
        airtable.list_records(tables.members, fields.member_fields, formula), fields
    )


@task(**STEP)
def read_contacts(tables: RosterTables, mode: SyncMode) -> Records:
    """Contacts changed since the last run (all of them on a full pass), normalized page by page."""
    fields = tables.fields
    formula = airtable.modified_since(mode.since, fields.contact_watch) if mode.since else None
    return _normalized_contacts(
        airtable.list_records(tables.contacts, fields.contact_fields, formula), fields
    )


@task(**STEP)
def read_directory_sheet() -> DirectorySheet:
    """The whole directory tab in one read; its header must have every column the bot owns."""
    cfg = settings()
    names = cfg.services.sheets
    tab = sheets.open_tab(sheets_client(), names.member_directory, names.member_directory_tab)
    values = sheets.read_tab(sheets_client(), tab)
    table = SheetTable.from_values(
        tab.title, values, list(cfg.fields.directory), _id_header(cfg), where=tab.where
    )
    return DirectorySheet(tab, table)


@task(**STEP)
def read_affected_records(
    tables: RosterTables,
    mode: SyncMode,
    members: Records,
    contacts: Records,
    directory: DirectorySheet,
    state: store.SyncState,
) -> Roster:
    """On an incremental run, also read (by id) every record a change touches; ids not found were deleted."""
    if mode.full:
        return Roster(True, dict(members.by_id), dict(contacts.by_id))
    cfg = settings()
    found = affected_records(
        members.by_id, contacts.by_id, state.index, directory.table,
        list(cfg.fields.directory), today(cfg), state.secret,
        cfg.roster.verify_every_months, tables.fields.check_verified,
    )  # fmt: skip
    want_members = found.members - set(members.by_id)
    want_contacts = found.contacts - set(contacts.by_id)
    fields = tables.fields
    with ThreadPoolExecutor(max_workers=2, thread_name_prefix="roster-read") as pool:
        more_m = pool.submit(
            airtable.records_by_id, tables.members, want_members, fields.member_fields
        )
        more_c = pool.submit(
            airtable.records_by_id, tables.contacts, want_contacts, fields.contact_fields
        )
        extra_members = _normalized_members([more_m.result()], fields)
        extra_contacts = _normalized_contacts([more_c.result()], fields)
    return Roster(
        False,
        {**members.by_id, **extra_members.by_id},
        {**contacts.by_id, **extra_contacts.by_id},
        deleted_members=want_members - set(extra_members.by_id),
        deleted_contacts=want_contacts - set(extra_contacts.by_id),
    )


@task(**STEP)
def check_partner_sheets(roster: Roster) -> Roster:
    """Each partner read this run: its referral sheet opens and has (or can get) its tab; a Data issue when not.

    Reads only (one or two Sheets requests a partner; the tab is added when a case
    is delivered). A sheet that does not answer now is not a finding.
    """
    cfg = settings()
    client = None
    for member in roster.members.values():
        if not (member.offers_legal_services and member.active and member.referral_sheet):
            continue
        client = client or sheets_client()
        try:
            open_referral_tab(
                client,
                member.referral_sheet,
                f"referral sheet of {member.name}",
                cfg.services.sheets.referral_tab,
                prepare=False,
            )
        except PartnerSheetProblem as exc:
            member.problems.append(
                Finding(Code.PARTNER_SHEET, f"Referral sheet: {cause_text(exc.cause)}.")
            )
        except sheets.SheetsError as exc:
            log.warning("referral sheet of %s did not answer (%s)", member.name, exc.status)
    return roster


def _normalized_members(pages: Any, fields: FieldPlan) -> Records:
    cfg = settings()
    names = cfg.fields.airtable.members.fields
    services = canonical_lookup(cfg.roster.canonical_services, {})
    languages = canonical_lookup(cfg.roster.canonical_languages, cfg.roster.language_aliases)
    out = Records()
    for page in pages:
        for record in page:
            if is_blank(record, ignore=[names.data_issues]):
                out.blank += 1
                continue
            member = member_from_record(
                record, services, languages, fields.extra_member_fields, names
            )
            out.by_id[member.id] = member
    return out


def _normalized_contacts(pages: Any, fields: FieldPlan) -> Records:
    names = settings().fields.airtable.contacts.fields
    out = Records()
    for page in pages:
        for record in page:
            if is_blank(record, ignore=[names.data_issues]):
                out.blank += 1
                continue
            contact = contact_from_record(
                record, fields=names, has_primary_field=fields.has_primary_field
            )
            out.by_id[contact.id] = contact
    return out


# ---------------------------------------------------------------- writing
@task(**STEP)
def write_airtable_issues(tables: RosterTables, plan: SyncPlan) -> dict[str, int]:
    """Data issues where their text changed, 10 records a request; requests per table."""
    return {
        tables.members.name: airtable.update_records(tables.members, plan.member_issues),
        tables.contacts.name: airtable.update_records(tables.contacts, plan.contact_issues),
    }


@task(**STEP)
def write_directory_sheet(directory: DirectorySheet, plan: SyncPlan) -> int:
    """Changed cells, then removed rows, then new members: at most three requests; requests made."""
    from prefect.runtime import task_run

    client = sheets_client()
    writes = plan.directory
    if task_run.run_count > 1:
        # A retry after a partial write: plan again from what the sheet holds now, so
        # rows already appended are not appended twice.
        fresh = read_directory_sheet.fn()
        writes = writes.replan(fresh.table)
    sent = sheets.write_ranges(client, directory.tab, writes.value_ranges)
    sent += sheets.batch_update(
        client, directory.tab, writes.delete_requests(directory.tab.sheet_id)
    )
    sent += sheets.append_rows(client, directory.tab, writes.appends)
    return sent


@task(**STEP)
def update_partner_directory(plan: SyncPlan) -> int:
    """Legal-service members with their routing attributes, in the ledger intake routing reads."""
    with open_ledger().session() as session:
        return store.save_partners(session, plan.partners)


@task(**STEP)
def post_digest(
    digest: Digest, directory: DirectorySheet, roster: Roster, state: store.SyncState
) -> tuple[int, bool]:
    """One message to #membership when something changed (organization names and counts only)."""
    if digest.empty:
        return 0, False
    with guard.batch(personal_values(roster)):
        text, blocks, withheld = _digest_message(digest, directory)
        result = slack_poster().post(_digest_key(digest, state), _membership(), text, blocks)
    return (1 if result.action == "posted" else 0), withheld


def plan_digest(digest: Digest, directory: DirectorySheet, roster: Roster) -> int:
    """Dry run: the message the digest would be (checked by the privacy guard), not sent."""
    if digest.empty:
        return 0
    with guard.batch(personal_values(roster)):
        _digest_message(digest, directory)
    return 1


def personal_values(roster: Roster) -> list[str]:
    """The contacts' names, e-mails and phones read this run, for the guard to refuse in Slack.

    Its patterns catch most e-mails and phones; known values catch the formats they skip.
    """
    return [v for c in roster.contacts.values() for v in (c.name, c.email, c.phone) if v]


def _digest_message(digest: Digest, directory: DirectorySheet) -> tuple[str, list, bool]:
    """Text and blocks; if an organization name trips the privacy guard, counts without names."""
    for withheld in (False, True):
        blocks = render_blocks(
            "slack/roster_digest.json.j2",
            **digest.context(),
            sheet_url=directory.url,
            names_withheld=withheld,
        )
        text = fallback_text(blocks)
        try:
            guard.check_slack_message(text, blocks)
        except PIIError:
            if withheld:
                raise
            log.warning("digest names withheld: the privacy guard matched personal data")
            continue
        return text, blocks, withheld
    raise AssertionError("unreachable")


def _digest_key(digest: Digest, state: store.SyncState) -> str:
    """Stable across retries of one run (the ledger's watermark only moves when a run completes)."""
    content = json.dumps(digest.context(limit=10_000), sort_keys=True, ensure_ascii=False)
    since = state.since.isoformat() if state.since else "first"
    return f"roster-sync:digest:{since}:{hashlib.sha256(content.encode()).hexdigest()[:16]}"


def _membership() -> str:
    return settings().services.slack.channels.membership


@task(**STEP)
def save_sync_state(
    state: store.SyncState, plan: SyncPlan, started: datetime, since: datetime, mode: SyncMode
) -> int:
    """Remember what this run saw (ids, codes, hashes) and move the watermark to `since`, in one transaction."""
    with open_ledger().session() as session:
        written = store.save_index(session, state.index, plan.index, started)
        store.save_watermarks(session, since, mode.full, state.secret, state.secret_is_new)
    return written


# ---------------------------------------------------------------- the run's artifact
def publish_report(report: RosterReport) -> None:
    """A markdown and a table artifact on the flow run (counts only); nothing outside a flow run."""
    from prefect.artifacts import create_markdown_artifact, create_table_artifact
    from prefect.context import FlowRunContext

    if FlowRunContext.get() is None:
        return
    create_markdown_artifact(
        report.markdown(), key="roster-sync-report", description=report.plan_text()
    )
    create_table_artifact(
        report.table(), key="roster-sync-counts", description="Roster sync counts"
    )


__all__ = ["RosterReport", "roster_sync"]
