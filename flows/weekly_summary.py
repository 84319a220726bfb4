"""Weekly summary: one Google Doc per ISO week for leadership (fundraising, intake, membership, advocacy, activities), linked in #leadership.

`coalition run weekly-summary [--week 2026-W48] [--out FILE.html|.md] [--dry-run]`;
without --week, the last complete ISO week in the org's time zone. A run lists
from Airtable `Donations` (one filterByFormula, 100 a page) the five weeks the
figures need, the records without a usable date, and what the donor history lacks:
every earlier gift on the first run, then only gifts changed since the last run (the
history keeps each donor's first gift as a keyed hash in the ledger, so new donors
are told from returning ones; coalition/summary/history.py). It reads the week's
`Activities` and `Bills`, and the ledger's intake, roster and alert rows (aggregates
only, no person). The figures are computed by coalition/summary (pure),
rendered from templates/summary/weekly.md.j2, and written into the week's document
in one batchUpdate: the same document on every rerun (its id is in the ledger, and
found again in the Drive folder if the ledger is lost), left alone when nothing
changed. The link goes to #leadership once per week under a stable key, edited on
a rerun. `--out` renders the same document to a local file and touches no Google
or Slack API; `--dry-run` reads everything, writes nothing and says what it would do.
"""

from __future__ import annotations

import hashlib
import json
import logging
import math
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from prefect import flow, task
from prefect.futures import PrefectFuture
from prefect.utilities.annotations import quote

from coalition.ledger import open_ledger
from coalition.ledger.donor_history import DonorHistory
from coalition.ledger.summary_documents import (
    DocumentRow,
    EvidenceFacts,
    LedgerFacts,
    SummaryDocuments,
)
from coalition.names import missing_fields, stop_if_required
from coalition.privacy import PIIError, find_pii, guard
from coalition.settings import ConfigError, Settings, config_file, settings
from coalition.summary import community, dashboard, queries
from coalition.summary.document import (
    Document,
    body_end_index,
    docs_requests,
    to_html,
    to_markdown,
)
from coalition.summary.donations import (
    Gift,
    Listing,
    RecordProblem,
    distinctive,
    fundraising,
    personal_values,
)
from coalition.summary.evidence import Evidence
from coalition.summary.history import HistoryRead, after_read, plan_history_read
from coalition.summary.intake_metrics import intake_metrics
from coalition.summary.need import months_ending, unmet_need
from coalition.summary.outcomes import referral_outcomes, span_bounds
from coalition.summary.render import render_document, render_markup
from coalition.summary.report import Summary, data_notes, run_notes, title_prefix
from coalition.summary.weeks import IsoWeek, Window, is_complete, resolve_week
from coalition.templating import render_message
from flows.health import stops_on_name_errors
from flows.posting import slack_poster
from flows.reporting import ItemError, RunReport, measured, publish
from flows.steps import retrying
from integrations import airtable, docs, sheets
from integrations.clients import airtable_api, docs_service, drive_service, sheets_client

log = logging.getLogger("flows.weekly_summary")

FLOW_NAME = "weekly-summary"
WEEK_PROPERTY = "coalitionSummaryWeek"  # Drive file property marking the bot's document for a week
EXAMPLE_ERRORS = 10  # record ids per run report, so staff can fix them in Airtable
STABLE_TIME = datetime(2000, 1, 1, tzinfo=UTC)  # stands in for the preparation time in hashes
# Donor names pass between these steps in memory only: no result is persisted or cached.
STEP = retrying([2, 10])


# ---------------------------------------------------------------- what the steps hand each other
@dataclass
class Tables:
    """The Airtable tables the summary reads; Activities and Bills may be missing (a data note says so)."""

    donations: airtable.AirtableTable
    activities: airtable.AirtableTable | None = None
    bills: airtable.AirtableTable | None = None
    notes: list[str] = field(default_factory=list)


@dataclass
class Giving:
    """The donations the figures need, and what reading them found."""

    gifts: list[Gift]  # dated in the five weeks
    problems: list[RecordProblem]
    first_days: dict[str, date]  # each donor's first gift ever, from the donor history
    history: HistoryRead
    pages: int = 0  # pages of the one listing
    records: int = 0  # records it returned
    outside: int = 0  # of them, dated outside the five weeks (the history's part)
    # (raised in cents, gifts) of each week read whole, for the dashboard's giving tab
    weekly: dict[str, tuple[int, int]] = field(default_factory=dict)


@dataclass
class Reads:
    """The week's activities and bills from Airtable, with notes on anything missing."""

    activities: list[dict[str, Any]] = field(default_factory=list)
    bills: list[dict[str, Any]] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


@dataclass
class Placement:
    """Where the week's document is and what this run did to it."""

    document_id: str | None
    url: str | None
    action: str  # created, rewritten, unchanged (and, in a plan: would be created/rewritten)
    folder_created: bool = False
    writes: int = 0  # batchUpdate requests this run sent


@dataclass
class Board:
    """Where the dashboard spreadsheet is, and what this run did to it."""

    spreadsheet_id: str | None
    counts: dict[str, int] = field(default_factory=dict)
    requests: int = 0  # Sheets requests this run sent to it

    @property
    def url(self) -> str | None:
        if self.spreadsheet_id is None:
            return None
        return f"https://docs.google.com/spreadsheets/d/{self.spreadsheet_id}/edit"


# ---------------------------------------------------------------- the flow
@flow(name=FLOW_NAME)
@stops_on_name_errors
def weekly_summary(
    week: str | None = None, out: str | None = None, dry_run: bool = False
) -> RunReport:
    """Write the week's summary into its Google Doc and link it in #leadership (or preview it, or plan it)."""
    cfg = settings()
    tz = ZoneInfo(cfg.services.timezone)
    now = datetime.now(UTC)
    target = resolve_week(week, now, tz)
    preview = _preview_path(out)
    window = Window.ending(target)
    report = RunReport(flow=FLOW_NAME, dry_run=dry_run or preview is not None)
    with measured(report):
        tables = open_tables()
        # Airtable's 5 requests/s per base sets the run's pace: what does not need the
        # donations (the week's activities and bills, the ledger, the dashboard's place)
        # is read while they are listed, in the task runner's threads.
        side = _start_side_reads(tables, target, window, find_board=preview is None)
        giving = read_donations(tables, window)
        reads, facts, evidence, board = _side_results(side)
        donors = personal_values(giving.gifts)
        with guard.batch(donors):
            summary = summarize(cfg, target, window, now, giving, reads, facts, evidence, board)
            document = render_checked(summary, donors)
            charts = build_dashboard(summary, giving, evidence, now)
            check_dashboard(charts, donors)
            if preview is not None:
                write_preview(document, preview)
                report.plan.append(f"Weekly summary {target}: preview written to {preview.name}")
            elif dry_run:
                report.plan.append(plan_run(document, summary, content_hash(summary)))
                report.plan.append(plan_dashboard(board or Board(None), charts))
            else:
                # The Doc and the dashboard are separate services: written side by side.
                dashboard_written = write_dashboard.submit(
                    quote(board or Board(None)), quote(charts), quote(giving.weekly)
                )
                placement = write_document(quote(document), target, content_hash(summary))
                post_link(quote(summary), placement)
                report.counts.update(_written(placement))
                board = dashboard_written.result()
                report.counts.update(_dashboard_counts(board))
    report.counts.update(_counts(summary, giving, document))
    report.counts["airtable requests needed"] = _airtable_floor(tables, giving, reads)
    report.errors.extend(_examples(giving.problems))
    publish(report)
    return report


def _preview_path(out: str | None) -> Path | None:
    if not out:
        return None
    path = Path(out)
    if path.suffix.lower() not in {".html", ".htm", ".md"}:
        raise ConfigError(f"--out: {out!r} must end with .html or .md (the preview's format)")
    return path


# ---------------------------------------------------------------- reads beside the donations
def _start_side_reads(
    tables: Tables, target: IsoWeek, window: Window, find_board: bool
) -> dict[str, PrefectFuture[Any]]:
    """Submit the reads that do not need the donations; they share the base's Airtable budget."""
    side: dict[str, PrefectFuture[Any]] = {
        "reads": read_week_activity.submit(quote(tables), target),
        "facts": read_ledger_facts.submit(window),
        "evidence": read_evidence.submit(target),
    }
    if find_board:
        side["board"] = find_dashboard.submit()
    return side


def _side_results(side: dict[str, PrefectFuture[Any]]) -> tuple[Any, Any, Any, Board | None]:
    """Each side read's result (a failed one raises here, as if it had run in line)."""
    board = side["board"].result() if "board" in side else None
    return side["reads"].result(), side["facts"].result(), side["evidence"].result(), board


# ---------------------------------------------------------------- reading
@task(**STEP)
def open_tables() -> Tables:
    """Find the base and its tables (one schema request for them all); Donations must have Amount and Date.

    Names come from config/fields.yaml; records are handed to coalition/summary under
    the design's field names (`_as_design`), the vocabulary of its pure code."""
    cfg = settings()
    names = cfg.fields.airtable
    source = config_file(cfg.config_dir, "fields.yaml")
    base = airtable.open_base(airtable_api(), cfg.services.airtable.base)
    donations = airtable.open_table(
        base, names.donations.table, f"{source} airtable.donations.table"
    )
    stop_if_required(missing_fields(cfg.fields, "donations", donations.fields, source))
    tables = Tables(donations)
    tables.activities = _optional_table(base, "activities", tables.notes)
    tables.bills = _optional_table(base, "bills", tables.notes)
    return tables


# What the summary reads of each table (by key); the first ones it cannot do without.
SUMMARY_FIELDS: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {
    "donations": (
        ("amount", "date"),
        ("donor", "email", "recurring", "campaign", "anonymous", "source"),
    ),
    "activities": (("date",), ("type", "attendees")),
    "bills": (
        ("bill",),
        ("jurisdiction", "title", "last_action", "last_action_date", "next_hearing", "source_url"),
    ),
}


def _names(key: str) -> Any:
    return settings().fields.airtable.tables()[key].fields


def _optional_table(base: Any, key: str, notes: list[str]) -> airtable.AirtableTable | None:
    """A table the summary can do without: missing, or missing a field it needs, becomes a data note."""
    name = settings().fields.airtable.tables()[key].table
    try:
        table = airtable.open_table(base, name)
    except airtable.AirtableNotFound:
        notes.append(f"Airtable has no {name} table, so this summary has nothing from it.")
        return None
    names = _names(key)
    missing = table.missing([getattr(names, k) for k in SUMMARY_FIELDS[key][0]])
    if missing:
        notes.append(
            f"The {name} table has no field {', '.join(missing)}, so this summary has nothing from it."
        )
        return None
    return table


def _fields(table: airtable.AirtableTable, key: str) -> list[str]:
    names = _names(key)
    wanted = [getattr(names, k) for part in SUMMARY_FIELDS[key] for k in part]
    return [f for f in wanted if f in table.fields]


def _as_design(key: str, records: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Records with their fields under the design's names, as coalition/summary reads them."""
    names = _names(key)
    return [{**r, "fields": names.to_design(r.get("fields") or {})} for r in records]


@task(**STEP)
def read_donations(tables: Tables, window: Window) -> Giving:
    """The five weeks' gifts, records without a usable date, and what the donor history lacks, in one listing.

    The history is folded into the ledger as soon as it is read, in dry runs and
    previews too: it is the bot's own cache of what Airtable holds, not an output.
    """
    cfg = settings()
    tz = ZoneInfo(cfg.services.timezone)
    table = tables.donations
    started = datetime.now(UTC)
    history = DonorHistory(open_ledger())
    state = history.state()
    rebuild_after = timedelta(days=cfg.summary.rebuild_donor_history_days)
    plan = plan_history_read(state, window, started, rebuild_after)
    date_field = _names("donations").date
    formula = queries.donations_to_read(date_field, window, plan, tz, table.types.get(date_field))
    listing, pages = Listing(window, tz, table.name), 0
    # The next page is fetched while this one is sorted: the listing keeps the budget's pace.
    pages_read = airtable.list_records(table, _fields(table, "donations"), formula)
    for page in airtable.prefetched(pages_read):
        listing.add(_as_design("donations", page))
        pages += 1
    first = history.fold(listing.first_days, plan.rebuild, after_read(state, plan, window, started))
    log.info(
        "Donor history %s: %d records outside the five weeks read", plan.reason, listing.outside
    )
    return Giving(
        listing.gifts,
        listing.problems,
        first,
        plan,
        pages=pages,
        records=listing.records,
        outside=listing.outside,
        weekly=dashboard.weekly_giving(listing.weekly, window, plan.rebuild),
    )


@task(**STEP)
def read_week_activity(tables: Tables, target: IsoWeek) -> Reads:
    """The week's Activities and the Bills that moved in it or have a hearing the week after."""
    tz = ZoneInfo(settings().services.timezone)
    reads = Reads(notes=list(tables.notes))
    if tables.activities is not None:
        table, day = tables.activities, _names("activities").date
        found = airtable.all_records(
            table,
            _fields(table, "activities"),
            queries.in_week(day, target, tz, table.types.get(day)),
        )
        reads.activities = _as_design("activities", found)
    if tables.bills is not None:
        reads.bills = _bills(tables.bills, target, tz, reads)
    return reads


def _bills(
    table: airtable.AirtableTable, target: IsoWeek, tz: ZoneInfo, reads: Reads
) -> list[dict[str, Any]]:
    names = _names("bills")
    windows = []
    if names.last_action_date in table.fields:
        kind = table.types.get(names.last_action_date)
        windows.append(queries.in_week(names.last_action_date, target, tz, kind))
    if names.next_hearing in table.fields:
        kind = table.types.get(names.next_hearing)
        windows.append(queries.in_week(names.next_hearing, target.shift(1), tz, kind))
    if not windows:
        reads.notes.append(f"The {table.name} table has no date fields the summary can use.")
        return []
    found = airtable.all_records(table, _fields(table, "bills"), queries.either(*windows))
    return _as_design("bills", found)


@task(**STEP)
def read_ledger_facts(window: Window) -> LedgerFacts:
    """Intake rows received around the week (ids, statuses, categories, times), the roster index, alert keys."""
    tz = ZoneInfo(settings().services.timezone)
    # A day of margin each side; each row's time is checked again in the org's zone.
    start = window.target.start(tz) - timedelta(days=1)
    end = window.target.end(tz) + timedelta(days=1)
    return SummaryDocuments(open_ledger()).week_facts(start, end)


def evidence_start(target: IsoWeek, tz: ZoneInfo) -> datetime:
    """The earliest time the evidence needs: 52 weeks of outcomes, 12 months of unmet need (a day of margin)."""
    weeks = target.shift(-51).start(tz)
    months = datetime.combine(months_ending(target.sunday)[0], datetime.min.time(), tz)
    return min(weeks, months) - timedelta(days=1)


@task(**STEP)
def read_evidence(target: IsoWeek) -> EvidenceFacts:
    """Intakes and referrals of the last 52 weeks and 12 months, partner names, recorded weekly giving (ledger)."""
    tz = ZoneInfo(settings().services.timezone)
    start = evidence_start(target, tz)
    return SummaryDocuments(open_ledger()).evidence(start, span_bounds(target, tz))


@task(**STEP)
def find_dashboard() -> Board:
    """The dashboard spreadsheet named in config (one Drive search); missing, it is left to `coalition setup sheets`."""
    name = settings().services.sheets.dashboard
    found = sheets.spreadsheet_id_if_any(sheets_client(), name)
    if found is None:
        log.warning("no spreadsheet named '%s': `coalition setup sheets` creates it", name)
    return Board(found)


# ---------------------------------------------------------------- deciding (pure)
def summarize(
    cfg: Settings,
    target: IsoWeek,
    window: Window,
    now: datetime,
    giving: Giving,
    reads: Reads,
    facts: LedgerFacts,
    evidence: EvidenceFacts | None = None,
    board: Board | None = None,
) -> Summary:
    """Every section's figures from what was read."""
    tz = ZoneInfo(cfg.services.timezone)
    options = cfg.summary
    money = fundraising(
        giving.gifts,
        window,
        giving.first_days,
        top=options.top_donors if options.show_top_donors else None,
    )
    intake = intake_metrics(
        facts.intakes, facts.referrals, target, tz, options.small_count_threshold
    )
    members = community.membership(facts.members, target, tz)
    advocacy = community.advocacy(reads.bills, facts.posted, target, tz)
    activities, activity_problems = community.activities(reads.activities, target, tz)
    notes = list(reads.notes)
    if board is not None and board.spreadsheet_id is None:
        notes.append(
            f"The dashboard spreadsheet '{cfg.services.sheets.dashboard}' was not found, so it was "
            "not updated: `coalition setup sheets` creates it."
        )
    return Summary(
        week=target,
        timezone=cfg.services.timezone,
        generated=now.astimezone(tz),
        complete=is_complete(target, now, tz),
        fundraising=money,
        intake=intake,
        membership=members,
        advocacy=advocacy,
        activities=activities,
        notes=data_notes(
            [*giving.problems, *activity_problems],
            run_notes(money, facts.undated_intakes, notes),
        ),
        threshold=options.small_count_threshold,
        evidence=None
        if evidence is None
        else evidence_figures(cfg, target, now, evidence, board.url if board else None),
    )


def evidence_figures(
    cfg: Settings, target: IsoWeek, now: datetime, facts: EvidenceFacts, url: str | None
) -> Evidence:
    """Referral outcomes over 52 weeks and unmet need over 12 months, suppressed, from the ledger's rows."""
    tz = ZoneInfo(cfg.services.timezone)
    threshold = cfg.summary.small_count_threshold
    outcomes = referral_outcomes(
        facts.referrals, facts.arrivals or facts.intakes, target, tz, now, facts.partner_names
    )
    need = unmet_need(facts.intakes, dashboard.month_day(target), tz, threshold)
    return Evidence(outcomes, need, cfg.services.sheets.dashboard, url)


def build_dashboard(
    summary: Summary, giving: Giving, facts: EvidenceFacts, now: datetime
) -> dashboard.Dashboard | None:
    """The dashboard's tabs: this run's weeks of giving over what the ledger recorded before."""
    if summary.evidence is None:
        return None
    weeks = {**facts.giving, **giving.weekly}
    local = now.astimezone(ZoneInfo(summary.timezone))
    e = summary.evidence
    return dashboard.build(summary.week, weeks, e.referrals, e.need, local, summary.threshold)


def check_dashboard(board: dashboard.Dashboard | None, donors: list[str]) -> None:
    """Every value bound for the dashboard passes the same privacy check as the document."""
    if board is None:
        return
    text = "\n".join(str(v) for v in dashboard.aggregate_values(board))
    if find_pii(text, distinctive(donors)):
        log.error("the dashboard was not written: the privacy check found personal data in it")
        raise PIIError({"dashboard"}, ["the dashboard spreadsheet"])


def render_checked(summary: Summary, donors: list[str]) -> Document:
    """The document, once the privacy checks read all of it but the optional top-donors list.

    The checks are the guard's patterns (e-mails, phone numbers, ids) and the donors'
    e-mails and full names; a one-word name ("Grace") would stop the document on an
    ordinary word, so only names of two words or more are searched for.
    """
    document = render_document(summary)
    public = document
    if summary.fundraising.top is not None:
        public = render_document(
            replace(summary, fundraising=replace(summary.fundraising, top=None))
        )
    findings = find_pii(public.plain_text(), distinctive(donors))
    if findings:
        log.error("the weekly summary was not written: the privacy check found personal data in it")
        raise PIIError({f.kind for f in findings}, ["the weekly summary document"])
    return document


def content_hash(summary: Summary) -> str:
    """What the document says, apart from when it was prepared: a rerun with the same figures writes nothing."""
    stable = replace(summary, generated=STABLE_TIME)
    payload = json.dumps([summary.title, render_markup(stable)], ensure_ascii=False)
    return hashlib.sha256(payload.encode()).hexdigest()


# ---------------------------------------------------------------- writing
def write_preview(document: Document, path: Path) -> None:
    """The document as a local HTML or Markdown file: nothing is sent to Google or Slack."""
    path.parent.mkdir(parents=True, exist_ok=True)
    if path.suffix.lower() == ".md":
        text = to_markdown(document)
    else:
        text = to_html(document, note="Preview of the weekly summary: not written to Google Docs.")
    path.write_text(text, encoding="utf-8")


def _folder(drive: Any, create: bool) -> tuple[str | None, bool]:
    name = settings().services.drive.summary_folder
    folder = docs.find_folder(drive, name)
    if folder is None and create:
        return docs.create_folder(drive, name), True
    return folder, False


def _ledger_row(week: IsoWeek) -> DocumentRow | None:
    return SummaryDocuments(open_ledger()).row(week.label)


def _known_document(
    drive: Any, docs_api: Any, week: IsoWeek
) -> tuple[DocumentRow | None, dict[str, Any] | None]:
    """The ledger's row for the week and the document it names (None if deleted or in the trash)."""
    row = _ledger_row(week)
    if row is None:
        return None, None
    if docs.is_trashed(drive, row.document_id):
        log.warning(
            "the summary document of %s is gone or in the trash; looking in the folder", week
        )
        return row, None
    try:
        return row, docs.get_document(docs_api, row.document_id)
    except docs.DocumentNotFound:
        return row, None


def _find_in_folder(drive: Any, folder: str | None, week: IsoWeek) -> str | None:
    """The bot's document for the week in the folder, if a run wrote one but the ledger lost it."""
    if folder is None:
        return None
    found = docs.find_documents(drive, folder, title_prefix(week))
    mine = [f for f in found if f.properties.get(WEEK_PROPERTY) == week.label] or found
    if len(mine) > 1:
        log.warning("%d documents for %s in the folder; using the oldest", len(mine), week)
    return mine[0].id if mine else None


def _place(
    drive: Any, docs_api: Any, document: Document, week: IsoWeek
) -> tuple[str, dict[str, Any], bool, bool]:
    """(id, resource, created, folder created) of the week's document, created in the folder if it has none."""
    folder, folder_created = _folder(drive, create=True)
    document_id = _find_in_folder(drive, folder, week)
    created = document_id is None
    if document_id is None:
        document_id = _create(drive, folder, document, week)
    # Recorded before any content is written: a crash now still finds this document next time.
    _save(week, document_id=document_id, content_hash=None, revision_id=None)
    return document_id, docs.get_document(docs_api, document_id), created, folder_created


def _create(drive: Any, folder: str | None, document: Document, week: IsoWeek) -> str:
    """A new document for the week; if another run made one at the same moment, the oldest is kept."""
    made = docs.create_document(drive, folder, document.title, {WEEK_PROPERTY: week.label})
    oldest = _find_in_folder(drive, folder, week)
    if oldest is not None and oldest != made:
        log.warning("another run created the document of %s too; keeping the older one", week)
        docs.trash(drive, made)
        return oldest
    return made


@task(**STEP)
def write_document(document: Document, week: IsoWeek, digest: str) -> Placement:
    """Put the document into the week's Doc (created once, in the folder), in one batchUpdate; skip if unchanged."""
    drive, docs_api = drive_service(), docs_service()
    row, current = _known_document(drive, docs_api, week)
    if row is not None and current is not None:
        document_id, created, folder_created = row.document_id, False, False
        if row.content_hash == digest and row.revision_id == current.get("revisionId"):
            return Placement(document_id, docs.document_url(document_id), "unchanged")
    else:
        document_id, current, created, folder_created = _place(drive, docs_api, document, week)
    revision = _replace_content(docs_api, document_id, document, current)
    if current.get("title") != document.title:
        docs.rename(drive, document_id, document.title)
    _save(week, document_id=document_id, content_hash=digest, revision_id=revision)
    action = "created" if created else "rewritten"
    return Placement(document_id, docs.document_url(document_id), action, folder_created, 1)


def _replace_content(
    docs_api: Any, document_id: str, document: Document, current: dict[str, Any]
) -> str | None:
    """One batchUpdate computed from the revision just read: all of it lands, or none (then a retry reads again)."""
    requests_ = docs_requests(document, body_end_index(current))
    reply = docs.batch_update(docs_api, document_id, requests_, current.get("revisionId"))
    return docs.new_revision(reply)


def _save(week: IsoWeek, **values: Any) -> None:
    SummaryDocuments(open_ledger()).save(week.label, docs.document_url, **values)


def _message(summary: Summary, url: str | None) -> tuple[str, list[dict[str, Any]]]:
    return render_message(
        "slack/summary_link.json.j2",
        title=summary.title,
        url=url,
        headline=summary.headline(),
        partial=not summary.complete,
    )


@task(**STEP)
def post_link(summary: Summary, placement: Placement) -> str:
    """The document's link in #leadership: posted once per week, edited when the figures change."""
    channel = settings().services.slack.channels.leadership
    text, blocks = _message(summary, placement.url)
    result = slack_poster().post(f"{FLOW_NAME}:{summary.week}", channel, text, blocks)
    _save(summary.week, slack_channel=result.channel_id or None, slack_ts=result.ts or None)
    return result.action


@task(**STEP)
def write_dashboard(
    board: Board, charts: dashboard.Dashboard | None, weekly: dict[str, tuple[int, int]]
) -> Board:
    """The weeks' giving totals in the ledger (sums and counts only, for the dashboard's 52
    weeks), then its tabs and charts: one read, one batchUpdate for tabs and charts, one values write."""
    DonorHistory(open_ledger()).record_weekly_giving(weekly)
    if board.spreadsheet_id is None or charts is None:
        return board
    client = sheets_client()
    meta = sheets.dashboard_metadata(client, board.spreadsheet_id)
    planned = dashboard.plan(meta, charts)
    sent = 1
    if planned.requests:
        sheets.spreadsheet_batch_update(client, board.spreadsheet_id, planned.requests)
        sent += 1
    sent += sheets.write_values(client, board.spreadsheet_id, planned.values)
    return Board(board.spreadsheet_id, planned.counts, sent)


def plan_dashboard(board: Board, charts: dashboard.Dashboard | None) -> str:
    """What a real run would do to the dashboard (one metadata read, nothing written)."""
    name = settings().services.sheets.dashboard
    if board.spreadsheet_id is None or charts is None:
        return f"Dashboard '{name}': not found, nothing would be written (`coalition setup sheets`)"
    meta = sheets.dashboard_metadata(sheets_client(), board.spreadsheet_id)
    planned = dashboard.plan(meta, charts)
    structural = ("tabs added", "charts added", "charts updated", "charts deleted")
    changes = ", ".join(f"{k} {planned.counts[k]}" for k in structural if planned.counts[k])
    return (
        f"Dashboard '{name}': would rewrite {len(planned.values)} of {len(charts.tabs)} tabs of "
        f"figures; {changes or 'no tab or chart to add or change'}"
    )


def plan_run(document: Document, summary: Summary, digest: str) -> str:
    """What a real run would do, from reads alone (no folder, Doc, message or ledger row is made)."""
    placement = plan_document(summary.week, digest)
    text, blocks = _message(summary, placement.url)
    planned = slack_poster(dry_run=True).post(
        f"{FLOW_NAME}:{summary.week}", settings().services.slack.channels.leadership, text, blocks
    )
    message = {"posted": "message would be posted", "updated": "message would be edited"}.get(
        planned.action, "message is up to date"
    )
    channel = settings().services.slack.channels.leadership
    return (
        f"Weekly summary {summary.week}: {placement.action} ({document.sections} sections); "
        f"#{channel}: {message}"
    )


def plan_document(week: IsoWeek, digest: str) -> Placement:
    drive, docs_api = drive_service(), docs_service()
    row, current = _known_document(drive, docs_api, week)
    if row is not None and current is not None:
        same = row.content_hash == digest and row.revision_id == current.get("revisionId")
        action = "document is up to date" if same else "document would be rewritten"
        return Placement(row.document_id, docs.document_url(row.document_id), action)
    folder, _ = _folder(drive, create=False)
    found = _find_in_folder(drive, folder, week)
    if found is not None:
        return Placement(found, docs.document_url(found), "document would be rewritten")
    where = settings().services.drive.summary_folder
    suffix = "" if folder else ", which would be created too"
    return Placement(None, None, f"document would be created in folder '{where}'{suffix}")


# ---------------------------------------------------------------- the run's report
def _pages(records: int) -> int:
    return max(1, math.ceil(records / airtable.PAGE_SIZE))


def _airtable_floor(tables: Tables, giving: Giving, reads: Reads) -> int:
    """The fewest Airtable requests that could read what this run read, beside the requests it made.

    The base's schema; one page per 100 records of the donations listing (the
    five weeks, undated records, and the donor history's part: all earlier gifts on
    a first run or a rebuild, else the few changed since the last run); the week's
    activities and bills.
    """
    floor = 1 + _pages(giving.records)
    if tables.activities is not None:
        floor += _pages(len(reads.activities))
    if tables.bills is not None:
        floor += _pages(len(reads.bills))
    return floor


def _written(placement: Placement) -> dict[str, int]:
    return {
        f"document {placement.action}": 1,
        "docs batchUpdates": placement.writes,
        # Read the document, then replace its content in one batchUpdate (or leave it).
        "docs requests needed": 1 + placement.writes,
        "folder created": int(placement.folder_created),
    }


def _dashboard_counts(board: Board) -> dict[str, int]:
    if board.spreadsheet_id is None:
        return {"dashboard found": 0}
    return {
        "dashboard found": 1,
        **{f"dashboard {k}": v for k, v in board.counts.items()},
        "dashboard sheets requests": board.requests,
    }


def _counts(summary: Summary, giving: Giving, document: Document) -> dict[str, int]:
    this = summary.fundraising.this
    return {
        "gifts this week": this.gifts,
        "donations read": giving.records,
        "donations read outside the five weeks": giving.outside,
        "donation pages read": giving.pages,
        "donation pages needed": _pages(giving.records),
        "donor history rebuilt": int(giving.history.rebuild),
        "intake requests this week": summary.intake.received,
        "events this week": summary.activities.events,
        "data notes": len(summary.notes),
        "sections": document.sections,
    }


def _examples(problems: list[RecordProblem]) -> list[ItemError]:
    """A few record ids per run (ids only), so ops can find and fix them in Airtable."""
    return [
        ItemError(item=f"{p.table}:{p.record_id}", error=p.problem.replace("_", " "))
        for p in problems[:EXAMPLE_ERRORS]
    ]


__all__ = ["weekly_summary"]
