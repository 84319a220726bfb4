"""Intake routing: every new row of the Intake sheet goes to the partner that can serve it, or to staff with a reason.

A run reads the Intake sheet once, decides (pure, coalition/intake), claims its
decisions in the ledger (exactly-once starts here), writes the bot's columns of the
Intake sheet (one values:batchUpdate), writes each partner's new cases into that
partner's own sheet (one append per partner), and sends the Slack messages the ledger
says are owed (partner notices, urgent-case alerts, approval requests). Any step
can crash: the next run finds the ledger's half-done work and finishes it, and
nothing is routed or posted twice.

The same steps serve referral_actions (approve, accept, decline) and
referral_follow_up (re-routes), restricted to the intakes they concern.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from prefect import flow, task

from coalition.intake import fields, ids, matching, notices, records
from coalition.intake.capacity import CapacityLimits
from coalition.intake.decide import (
    DIRECTORY_EMPTY,
    DIRECTORY_FRESH,
    DIRECTORY_MISSING,
    DIRECTORY_STALE,
    History,
    decide,
    directory_state,
    hold_waitlist,
    plan_summary,
)
from coalition.intake.models import Action, Decision, IntakeCase, Notice, ParsedRow, PartnerProfile
from coalition.intake.normalize import clean_text, language_aliases
from coalition.intake.sheet_rows import (
    PARTNER_STATUS,
    REFERRAL_COLUMNS,
    intake_cells,
    is_approval,
    local_time,
    partner_answer,
    referral_row,
)
from coalition.ledger import open_ledger
from coalition.ledger.intakes import IntakeState, IntakeWrite
from coalition.ledger.referrals import ReferralState
from coalition.ledger.routing import RoutingLedger
from coalition.partner_sheets import cause_text, row_for_header
from coalition.privacy import PIIError, guard
from coalition.settings import RoutingConfig, Settings, config_file, settings
from coalition.sheet_table import SheetTable, SheetTableError, cell_text, ranges_for
from flows import steps
from flows.health import alert_held, stops_on_name_errors
from flows.partner_sheets import (
    UNREACHABLE_PREFIX,
    PartnerSheetProblem,
    ReferralTab,
    open_referral_tab,
    parse_reference,
    sheet_cause,
)
from flows.posting import slack_poster
from flows.reporting import ItemError, RunReport, held_lines, measured, publish
from flows.steps import TASK_OPTIONS
from integrations.clients import sheets_client
from integrations.sheets import (
    SheetsError,
    Tab,
    append_rows,
    find_spreadsheet,
    read_tab,
    read_tab_as_shown,
    tab_by_name,
    write_ranges,
)

log = logging.getLogger("flows.intake_routing")

FLOW_NAME = "intake-routing"
# Ledger statuses whose rows are looked at again each run: staff may have fixed the
# row (review), given consent (triage), a partner may have room now (waitlist).
REEVALUATED = ("review", "triage", "waitlist")
ROUTABLE_AGAIN = ("approved", "reroute")
PARTNER_STATUS_HEADER = REFERRAL_COLUMNS[-1]


# ---------------------------------------------------------------- run context
@dataclass
class Run:
    """What every step of one run shares: settings, ledger, clock, salt, and the report."""

    cfg: Settings
    store: RoutingLedger
    dry_run: bool
    now: datetime
    salt: str
    report: RunReport
    only: frozenset[str] | None = None  # restrict to these intakes (approvals, decisions)
    directory: str = DIRECTORY_FRESH  # whether the partner directory may say "no partner"
    directory_age: timedelta | None = None
    sync_gap: timedelta | None = None
    guarded: list[str] = field(default_factory=list, repr=False)

    @property
    def tz(self) -> ZoneInfo:
        return ZoneInfo(self.cfg.services.timezone)

    @property
    def rules(self) -> RoutingConfig:
        return self.cfg.routing

    def count(self, key: str, n: int = 1) -> None:
        if n:
            self.report.counts[key] = self.report.counts.get(key, 0) + n

    def error(self, item: str, error: str) -> None:
        self.report.errors.append(ItemError(item=item, error=clean_text(error, 300)))

    def protect(self, cases: Iterable[IntakeCase]) -> None:
        """Tell the privacy guard (Slack checks, log redaction) the personal values of these cases."""
        values = [v for case in cases for v in case.personal_values()]
        guard.add_values(values)
        self.guarded += values

    def unprotect(self) -> None:
        guard.remove_values(self.guarded)
        self.guarded = []


def start_run(dry_run: bool, only: Iterable[str] | None = None, now: datetime | None = None) -> Run:
    cfg = settings()
    store = RoutingLedger(open_ledger(), steps.run_holder(cfg.lease_length))
    # A dry run writes nothing, not even the salt: its IDs for brand-new rows are provisional.
    salt = store.intakes.salt(create=not dry_run) or "dry-run-provisional-salt"
    return Run(
        cfg=cfg,
        store=store,
        dry_run=dry_run,
        now=now or datetime.now(UTC),
        salt=salt,
        report=RunReport(flow=FLOW_NAME, dry_run=dry_run),
        only=frozenset(only) if only is not None else None,
    )


# ---------------------------------------------------------------- the Intake sheet
@dataclass
class SheetRow:
    """One non-empty row of the Intake sheet as read (personal values stay in memory only)."""

    number: int
    answers: dict[str, str] = field(repr=False)
    id_cell: str
    status_cell: str
    fingerprint: str = field(default="", repr=False)
    intake_id: str = ""


@dataclass
class IntakeRead:
    """One read of the Intake sheet: where it is, its columns, its rows with their Intake IDs."""

    tab: Tab
    values: list[list[str]] = field(repr=False)
    columns: dict[str, str]
    rows: list[SheetRow] = field(repr=False)
    states: dict[str, IntakeState] = field(default_factory=dict)

    def by_id(self) -> dict[str, SheetRow]:
        return {row.intake_id: row for row in self.rows if row.intake_id}


def _rows(values: list[list[str]], columns: Mapping[str, str], salt: str) -> list[SheetRow]:
    header = [cell_text(h) for h in values[0]] if values else []
    index = {h: i for i, h in reversed(list(enumerate(header)))}
    rows: list[SheetRow] = []
    for number, raw in enumerate(values[1:], start=2):
        cells = {h: cell_text(raw[i]) if i < len(raw) else "" for h, i in index.items()}
        answers = fields.form_answers(cells, columns)
        if fields.is_blank(answers):
            continue
        rows.append(
            SheetRow(
                number=number,
                answers=answers,
                id_cell=cells.get(columns.get("intake_id", ""), "").strip(),
                status_cell=cells.get(columns.get("status", ""), ""),
                fingerprint=ids.row_fingerprint(salt, answers),
            )
        )
    return rows


def _open_intake(run: Run):

    client = sheets_client(run.cfg)
    names = run.cfg.services.sheets
    return client, tab_by_name(client, names.intake, names.intake_tab)


@task(name="read intake sheet", **TASK_OPTIONS)
def read_intake_sheet(run: Run) -> IntakeRead:
    """The whole Intake tab in one values.get; columns by header; every row named by its Intake ID."""

    client, tab = _open_intake(run)
    values = read_tab_as_shown(client, tab)
    header = values[0] if values else []
    names = run.cfg.fields.intake
    columns = fields.resolve_columns(header, names)
    # A renamed question must stop the run, not send cases out with that answer blank.
    fields.check_header(columns, tab.where, config_file(run.cfg.config_dir, "fields.yaml"), names)
    read = IntakeRead(
        tab=tab, values=values, columns=columns, rows=_rows(values, columns, run.salt)
    )
    assign_intake_ids(read, run)
    run.count("rows", len(read.rows))
    return read


def assign_intake_ids(read: IntakeRead, run: Run) -> None:
    """Name every row: its Intake ID cell, else the ID derived from its answers (the same in every run)."""
    claimed: dict[str, SheetRow] = {}
    unnamed: list[SheetRow] = []
    cell_ids = {row.number: ids.normalize_intake_id(row.id_cell) for row in read.rows}
    known = run.store.intakes.intakes([i for i in cell_ids.values() if i])
    for row in read.rows:
        intake_id = cell_ids[row.number]
        if intake_id is None:
            unnamed.append(row)
            continue
        holder = claimed.get(intake_id)
        # A copied row carries another row's ID: the row whose answers the ledger knows keeps it.
        if holder is not None:
            original_hash = known.get(intake_id).row_hash if intake_id in known else None
            if original_hash == row.fingerprint and holder.fingerprint != original_hash:
                holder.intake_id = ""
                unnamed.append(holder)
            else:
                unnamed.append(row)
                run.error(
                    intake_id, "this Intake ID appears in more than one row; the copy gets a new ID"
                )
                continue
        row.intake_id = intake_id
        claimed[intake_id] = row
    _derive_ids(unnamed, claimed, run)
    read.states = run.store.intakes.intakes(claimed)


def _derive_ids(rows: list[SheetRow], claimed: dict[str, SheetRow], run: Run) -> None:
    """IDs from the answers: the first candidate that is free, or that the ledger holds for the same answers."""
    pending = rows
    attempt = 0
    while pending and attempt < 20:
        candidates = {row.number: ids.intake_id(row.fingerprint, attempt) for row in pending}
        stored = run.store.intakes.row_hashes(candidates.values())
        retry: list[SheetRow] = []
        for row in pending:
            candidate = candidates[row.number]
            taken = candidate in claimed or (
                candidate in stored and stored[candidate] != row.fingerprint
            )
            if taken:
                retry.append(row)
                continue
            row.intake_id = candidate
            claimed[candidate] = row
        pending, attempt = retry, attempt + 1


# ---------------------------------------------------------------- partners
def week_start(run: Run) -> datetime:
    """Monday 00:00 of this week in the org's zone, in UTC: where partners' weekly capacity restarts."""
    local = run.now.astimezone(run.tz)
    monday = (local - timedelta(days=local.weekday())).replace(
        hour=0, minute=0, second=0, microsecond=0
    )
    return monday.astimezone(UTC)


@task(name="load partner directory", **TASK_OPTIONS)
def load_partner_directory(run: Run) -> list[PartnerProfile]:
    """The partner directory roster sync keeps in the ledger, with this week's referrals counted."""
    used = run.store.referrals.slots_taken(
        week_start(run)
    )  # counted as the claim counts them again
    aliases = language_aliases(run.cfg.roster.language_aliases, run.cfg.roster.canonical_languages)
    partners = [
        matching.profile(row, used.get(str(row["member_id"]), 0), aliases)
        for row in run.store.directory.partners()
    ]
    partners = recheck_unreachable(partners, run)
    active = sum(1 for p in partners if p.active)
    run.report.counts["partners"] = active  # shown even at 0: it explains a run that routed nothing
    built = run.store.directory.built_at()
    run.sync_gap = run.cfg.schedules.longest_gap("roster-sync", run.now.astimezone(run.tz))
    run.directory_age = run.now - built if built else None
    run.directory = directory_state(built, run.now, run.sync_gap, active)
    return partners


def directory_note(run: Run, held: int) -> str | None:
    """What the report says when the directory cannot be trusted to say "no partner"."""
    if run.directory == DIRECTORY_MISSING:
        return (
            "waiting for the first roster sync: the partner directory has not been built yet,"
            " so no row was routed; the next run after it routes them"
        )
    if not held:
        return None
    rows = f"{held} row(s) that no partner fits were held, not waitlisted"
    if run.directory == DIRECTORY_EMPTY:
        return f"{rows}: the partner directory has no active partner (check roster sync)"
    if run.directory == DIRECTORY_STALE:
        return (
            f"{rows}: the partner directory is {_duration(run.directory_age)} old"
            f" (roster sync runs every {_duration(run.sync_gap)}); they are decided once it syncs"
        )
    return None


def _duration(value: timedelta | None) -> str:
    minutes = int((value or timedelta(0)).total_seconds() // 60)
    if minutes >= 2 * 24 * 60:
        return f"{minutes // (24 * 60)} days"
    if minutes >= 60:
        return f"{minutes // 60} h" + (f" {minutes % 60} min" if minutes % 60 else "")
    return f"{minutes} min"


def recheck_unreachable(partners: list[PartnerProfile], run: Run) -> list[PartnerProfile]:
    """Partners whose sheet refused their last delivery: fit again if the sheet works now.

    Only these few are looked at (one or two Sheets reads each, nothing written): the
    moment staff fix a sheet, its waiting cases go to it on the next run.
    """
    broken = run.store.referrals.unreachable_partners()
    if not broken:
        return partners
    client = sheets_client(run.cfg)
    out: list[PartnerProfile] = []
    for partner in partners:
        if partner.member_id in broken and partner.active and partner.referral_sheet:
            problem = _sheet_problem_now(client, partner, run)
            if problem is not None:
                partner = replace(partner, sheet_problem=problem)
                if problem != broken[partner.member_id] and not run.dry_run:
                    # Staff changed something and the sheet fails another way: say so now.
                    _ops_alert(partner, cause_text(problem), problem, 0, run)
            else:
                run.count("partner sheets working again", 1)
        out.append(partner)
    return out


def _sheet_problem_now(client: Any, partner: PartnerProfile, run: Run) -> str | None:
    try:
        open_referral_tab(
            client,
            partner.referral_sheet,
            f"referral sheet of {partner.name}",
            run.cfg.services.sheets.referral_tab,
            prepare=False,
        )
    except PartnerSheetProblem as exc:
        return exc.cause
    except SheetsError:
        return "refused_write"  # no answer now: try again next run rather than send into it
    return None


# ---------------------------------------------------------------- decide
@dataclass
class Work:
    """The rows a run decides on, their parsed cases, and the decisions (pure data, no I/O)."""

    rows: list[SheetRow] = field(default_factory=list)
    parsed: dict[str, ParsedRow] = field(default_factory=dict, repr=False)
    decisions: list[Decision] = field(default_factory=list)
    history: History = field(default_factory=History)


def select_rows(read: IntakeRead, run: Run) -> list[SheetRow]:
    """New rows, rows staff approved in the sheet, and rows the ledger says need routing again."""
    chosen: list[SheetRow] = []
    for row in read.rows:
        if run.only is not None and row.intake_id not in run.only:
            continue
        state = read.states.get(row.intake_id)
        if (
            state is None
            or state.status in (*REEVALUATED, *ROUTABLE_AGAIN)
            or (
                state.status == "suggested"
                and (is_approval(row.status_cell) or run.rules.mode == "auto")
            )
        ):
            chosen.append(row)
    return chosen


def parse_rows(rows: Sequence[SheetRow], run: Run) -> dict[str, ParsedRow]:
    aliases = language_aliases(run.cfg.roster.language_aliases, run.cfg.roster.canonical_languages)
    ctx = fields.ParseContext(
        today=run.now.astimezone(run.tz).date(),
        rules=run.rules,
        language_aliases=aliases,
        salt=run.salt,
    )
    parsed: dict[str, ParsedRow] = {}
    for row in rows:
        case, problems = fields.parse_row(row.intake_id, row.answers, ctx)
        if case is not None and case.received_at is not None:
            received = case.received_at.replace(tzinfo=run.tz).astimezone(UTC)
            case = _with_received(case, received)
        parsed[row.intake_id] = ParsedRow(row.intake_id, case, tuple(problems))
    run.protect(p.case for p in parsed.values() if p.case is not None)
    return parsed


def _with_received(case: IntakeCase, received: datetime) -> IntakeCase:
    return replace(case, received_at=received)


@task(name="decide", **TASK_OPTIONS)
def decide_routing(read: IntakeRead, partners: list[PartnerProfile], run: Run) -> Work:
    """Validate, classify and match every selected row (pure, apart from reading the ledger's history)."""
    rows = select_rows(read, run)
    sheet_approved = {
        row.intake_id
        for row in rows
        if (s := read.states.get(row.intake_id))
        and s.status == "suggested"
        and is_approval(row.status_cell)
    }
    parsed = parse_rows(rows, run)
    states = read.states
    window = timedelta(days=run.rules.duplicate_window_days)
    again = [i for i in parsed if i in states]
    approved = {i for i in again if states[i].status == "approved"} | sheet_approved
    history = History(
        contacts=run.store.intakes.recent_contacts(run.now - window - timedelta(days=1)),
        tried=run.store.referrals.tried_partners(again),
        preferred={i: states[i].suggested_partner for i in approved if states[i].suggested_partner},
        forced={i: states[i].chosen_partner for i in approved if states[i].chosen_partner},
        approved=frozenset(approved),
    )
    ordered = [parsed[row.intake_id] for row in rows]
    decisions = decide(
        ordered, _release_holds(partners, rows, states), run.rules, now=run.now, history=history
    )
    if run.directory in {DIRECTORY_EMPTY, DIRECTORY_STALE}:
        # "No partner" from a directory that may be missing partners would send staff chasing it.
        decisions, held = hold_waitlist(decisions)
        run.count("held: partner directory not trusted", len(held))
        if note := directory_note(run, len(held)):
            run.report.notes.append(note)
    work = Work(rows=rows, parsed=parsed, decisions=decisions, history=history)
    if sheet_approved and not run.dry_run:
        for intake_id in sheet_approved:
            run.store.intakes.approve(intake_id, "sheet", None, run.now, ["suggested"])
    return work


def _release_holds(
    partners: list[PartnerProfile], rows: Sequence[SheetRow], states: Mapping[str, IntakeState]
) -> list[PartnerProfile]:
    """A suggestion being decided again gives back the slot it was holding."""
    holds: dict[str, int] = {}
    for row in rows:
        state = states.get(row.intake_id)
        if state and state.status in {"suggested", "approved"} and state.suggested_partner:
            holds[state.suggested_partner] = holds.get(state.suggested_partner, 0) + 1
    if not holds:
        return partners
    return [
        replace(p, used_this_week=max(p.used_this_week - holds.get(p.member_id, 0), 0))
        for p in partners
    ]


def plan_lines(
    work: Work, read: IntakeRead, partners: Sequence[PartnerProfile], threshold: int
) -> list[str]:
    """The dry run's plan, without personal data; `threshold` is the digest threshold."""
    names = {p.member_id: p.name for p in partners}
    changed = [
        d for d in work.decisions if records.changes_something(d, read.states.get(d.intake_id))
    ]
    lines = [f"Intake: {plan_summary(changed, names)}"]
    by_partner: dict[str, int] = {}
    for d in changed:
        if d.action is Action.ROUTE and d.partner_id:
            by_partner[d.partner_id] = by_partner.get(d.partner_id, 0) + 1
    for name, n in sorted((names.get(p, p), n) for p, n in by_partner.items()):
        lines.append(f"Partner sheet {name}: append {n} row(s)")
    staff = {
        k
        for d in changed
        if (k := records.staff_notice_for(d, read.states.get(d.intake_id))) is not None
    }
    partner_messages = sum(1 if n > threshold else n for n in by_partner.values())
    lines.append(
        f"Slack: {partner_messages} partner message(s), {len(staff)} staff message(s)"
        + (f" ({', '.join(sorted(staff))})" if staff else "")
    )
    return lines


# ---------------------------------------------------------------- claim
def build_writes(work: Work, read: IntakeRead, run: Run) -> list[IntakeWrite]:
    """The ledger records of this run's decisions (only those that change something)."""
    again = [
        d.intake_id
        for d in work.decisions
        if d.action is Action.ROUTE and d.intake_id in read.states
    ]
    attempts = {
        i: max(r.attempt for r in refs)
        for i, refs in run.store.referrals.referrals_of(again).items()
    }
    rows = {r.intake_id: r for r in work.rows}
    return [
        records.intake_write(
            decision,
            work.parsed[decision.intake_id].case,
            fingerprint=rows[decision.intake_id].fingerprint,
            salt=run.salt,
            state=read.states.get(decision.intake_id),
            last_attempt=attempts.get(decision.intake_id, 0),
            mode=run.rules.mode,
        )
        for decision in work.decisions
        if records.changes_something(decision, read.states.get(decision.intake_id))
    ]


@dataclass
class Claimed:
    """What this run won in the ledger, and the referrals it must now deliver."""

    won: set[str] = field(default_factory=set)
    to_deliver: list[ReferralState] = field(default_factory=list)
    recovered: set[str] = field(
        default_factory=set
    )  # adopted from a crashed run: check the sheet first


@task(name="claim in ledger", **TASK_OPTIONS)
def claim_in_ledger(
    work: Work, read: IntakeRead, partners: list[PartnerProfile], run: Run
) -> Claimed:
    """Record the decisions; a row another worker claimed first is left to it, and so is one whose partner it filled."""
    writes = build_writes(work, read, run)
    limits = CapacityLimits(week_start(run), {p.member_id: p.weekly_capacity for p in partners})
    result = run.store.intakes.claim(writes, run.now, limits)
    won = result.won
    lost = [
        w.intake_id for w in writes if w.intake_id not in won and w.intake_id not in result.held
    ]
    run.count("claimed", len(won))
    run.count("left to another run", len(lost))
    run.count("held: partner filled by another run", len(result.held))
    for write in writes:
        if write.intake_id in won:
            run.count(write.status)
    # Work a dead run claimed is taken over once its lease lapses (the ledger's clock is now,
    # not the run's start: a long run must not take over a lease that lapsed only after it began).
    now = datetime.now(UTC)
    run.count("taken over from a stopped run", len(run.store.intakes.reclaim_intakes(now)))
    adopted = {r.referral_id for r in run.store.referrals.adopt_stale_referrals(now)}
    run.count("recovered", len(adopted))
    run.store.referrals.reclaim_referrals(
        now
    )  # delivered ones a dead run still held: released at the end
    return Claimed(
        won=won, to_deliver=run.store.referrals.my_referrals("claimed"), recovered=adopted
    )


# ---------------------------------------------------------------- deliver
def partner_item(
    referral: ReferralState, case: IntakeCase, partner: PartnerProfile
) -> dict[str, Any]:
    """A referral as Slack may show it: ids, category label, language as given, county, urgency words."""
    return notices.case_item(
        intake_id=referral.intake_id,
        category=case.category,
        language=matching.language_shown(case, partner),
        place=matching.place(case),
        urgency_codes=case.urgency.reasons,
        urgent=case.urgency.urgent,
        referral_id=referral.referral_id,
    )


@task(name="deliver to partners", **TASK_OPTIONS)
def deliver_to_partners(
    claimed: Claimed, read: IntakeRead, work: Work, partners: list[PartnerProfile], run: Run
) -> None:
    """Each partner's new cases in its own sheet: one append per partner; a broken sheet affects only its partner."""

    if not claimed.to_deliver:
        return
    client = sheets_client(run.cfg)
    by_partner: dict[str, list[ReferralState]] = {}
    for referral in claimed.to_deliver:
        by_partner.setdefault(referral.partner_id, []).append(referral)
    directory = {p.member_id: p for p in partners}
    cases = _cases_for(claimed.to_deliver, read, work, run)
    for partner_id, referrals in sorted(by_partner.items()):
        _deliver_one(client, directory.get(partner_id), partner_id, referrals, cases, claimed, run)


def _cases_for(
    referrals: Sequence[ReferralState], read: IntakeRead, work: Work, run: Run
) -> dict[str, IntakeCase]:
    """The parsed case of each referral's intake (parsing rows this run did not decide on)."""
    cases = {i: p.case for i, p in work.parsed.items() if p.case is not None}
    rows = read.by_id()
    missing = [
        rows[r.intake_id] for r in referrals if r.intake_id not in cases and r.intake_id in rows
    ]
    cases.update({i: p.case for i, p in parse_rows(missing, run).items() if p.case is not None})
    return cases


def _deliver_one(
    client: Any,
    partner: PartnerProfile | None,
    partner_id: str,
    referrals: list[ReferralState],
    cases: Mapping[str, IntakeCase],
    claimed: Claimed,
    run: Run,
) -> None:

    ready = [r for r in referrals if r.intake_id in cases]
    for r in referrals:
        if r.intake_id not in cases:
            # The row was deleted (or no longer parses): nothing to send; staff see the error.
            run.store.referrals.mark_failed([r.referral_id], run.now, "intake_row_missing")
            run.error(
                r.referral_id,
                "the intake row is gone from the sheet or no longer valid; not delivered",
            )
    if not ready:
        return
    if partner is None or not partner.referral_sheet:
        run.store.referrals.mark_failed(
            [r.referral_id for r in ready], run.now, "partner_not_in_directory"
        )
        run.error(partner_id, "partner left the directory; its referrals go to the next fit")
        return
    try:
        located = open_referral_tab(
            client,
            partner.referral_sheet,
            f"referral sheet of {partner.name}",
            run.cfg.services.sheets.referral_tab,
        )
        if located.created:
            _tab_added(partner, located, run)
        already: set[str] = set()
        if any(r.referral_id in claimed.recovered for r in ready) and not located.needs_header:
            # A crashed run may have appended before it could record it: look before appending again.
            values = read_tab(client, located.tab)
            header = [cell_text(h) for h in (values[0] if values else [])]
            column = header.index(REFERRAL_COLUMNS[0]) if REFERRAL_COLUMNS[0] in header else 0
            already = {cell_text(row[column]) for row in values[1:] if len(row) > column}
        received = local_time(run.now, run.tz)
        fresh = [r for r in ready if r.referral_id not in already]
        rows = [
            row_for_header(
                dict(
                    zip(
                        REFERRAL_COLUMNS,
                        referral_row(
                            r.referral_id,
                            cases[r.intake_id],
                            received,
                            matching.language_shown(cases[r.intake_id], partner),
                        ),
                        strict=True,
                    )
                ),
                located.header,
            )
            for r in fresh
        ]
        if rows and located.needs_header:
            rows.insert(0, list(located.header))
        append_rows(client, located.tab, rows)
    except PartnerSheetProblem as exc:
        _partner_sheet_failed(partner, ready, exc, run)
        return
    except SheetsError as exc:
        if exc.transient:
            run.error(
                partner_id,
                f"{partner.name}: referral sheet did not answer ({exc.status}); retried next run",
            )
            return
        _partner_sheet_failed(partner, ready, exc, run)
        return
    items = [partner_item(r, cases[r.intake_id], partner) for r in ready]
    try:
        owed = notices.partner_notices(
            partner.member_id,
            partner.name,
            partner.referral_channel or "",
            _link_of(located),
            items,
            run.rules.digest_threshold,
        )
    except PIIError as exc:
        # Fail closed: the cases are in the partner's sheet; the message is not sent or kept.
        # The referrals stay claimed: once the lease lapses a run adopts them, finds the rows
        # already in the sheet and builds the notice again.
        run.error(
            partner.member_id,
            f"{partner.name}: Slack notice refused by the privacy guard ({exc}); tried again later",
        )
        return
    written = run.store.referrals.mark_written([r.referral_id for r in ready], run.now, owed)
    run.count("delivered", len(written))
    run.count("partner sheets written", 1 if fresh else 0)


def _link_of(located: ReferralTab) -> str:
    """The sheet's id, with its tab's gid when known (a link that opens on the referrals)."""
    gid = located.tab.sheet_id
    return f"{located.tab.spreadsheet_id}#gid={gid}" if gid >= 0 else located.tab.spreadsheet_id


def _partner_sheet_failed(
    partner: PartnerProfile, referrals: list[ReferralState], exc: Exception, run: Run
) -> None:
    """The partner could not receive these cases: they wait for it (or the next fit), and #ops-alerts hears the cause."""
    cause = exc.cause if isinstance(exc, PartnerSheetProblem) else sheet_cause(exc)
    reason = cause_text(cause)
    failed = run.store.referrals.mark_failed(
        [r.referral_id for r in referrals], run.now, f"{UNREACHABLE_PREFIX}{cause}"
    )
    run.count("partner sheet errors", 1)
    run.error(
        partner.member_id,
        f"{partner.name}: {reason}; {len(failed)} referral(s) wait until it is fixed "
        "or go to the next fitting partner",
    )
    _ops_alert(partner, reason, cause, len(failed), run)


def _ops_alert(partner: PartnerProfile, reason: str, cause: str, count: int, run: Run) -> None:
    day = run.now.astimezone(run.tz).date().isoformat()
    try:
        alert = notices.partner_sheet_error(
            run.cfg.services.slack.channels.ops_alerts,
            partner.member_id,
            partner.name,
            reason,
            count,
            day,
            cause=cause,
        )
    except PIIError as exc:  # the run's errors already say what happened
        run.error(partner.member_id, f"{partner.name}: #ops-alerts notice refused ({exc})")
        return
    run.store.outbox.add_notices([alert], run.now)


def _tab_added(partner: PartnerProfile, located: ReferralTab, run: Run) -> None:
    """Staff hear once (run report and #ops-alerts) that a partner's sheet got a referral tab."""
    run.count("partner tabs added", 1)
    run.report.notes.append(
        f"{partner.name}: added tab '{located.tab.title}' with the referral header to its sheet"
    )
    try:
        alert = notices.partner_tab_added(
            run.cfg.services.slack.channels.ops_alerts,
            partner.member_id,
            partner.name,
            located.tab.title,
            located.tab.spreadsheet_id,
        )
    except PIIError as exc:
        run.error(partner.member_id, f"{partner.name}: #ops-alerts notice refused ({exc})")
        return
    run.store.outbox.add_notices([alert], run.now)


# ---------------------------------------------------------------- partners' own sheets after delivery
def _read_partner_tab(
    client: Any, partner: PartnerProfile, run: Run
) -> tuple[Tab, list[list[Any]]]:
    """The tab holding the partner's referrals and its values: one values.get when it is the configured tab."""
    configured = run.cfg.services.sheets.referral_tab
    label = f"referral sheet of {partner.name}"
    ref = parse_reference(partner.referral_sheet)
    if ref.gid is None:
        tab = Tab(find_spreadsheet(client, ref), label, -1, configured)
        try:
            values = read_tab(client, tab)
        except SheetsError as exc:
            if exc.status != 400:  # 400: no tab of that name; look at every tab below
                raise
        else:
            if not values or REFERRAL_COLUMNS[0] in [cell_text(h) for h in values[0]]:
                return tab, values
    located = open_referral_tab(client, partner.referral_sheet, label, configured, prepare=False)
    if located.missing:
        raise PartnerSheetProblem("no_tab", "no referral tab yet")
    return located.tab, read_tab(client, located.tab)


def read_partner_answers(
    run: Run, client: Any, partner: PartnerProfile, referral_ids: Iterable[str]
) -> dict[str, bool]:
    """Answers a partner typed in its sheet's Partner status column (one values.get)."""

    wanted = set(referral_ids)
    try:
        tab, values = _read_partner_tab(client, partner, run)
        table = SheetTable.from_values(
            tab.title, values, [PARTNER_STATUS_HEADER], REFERRAL_COLUMNS[0]
        )
    except (SheetsError, SheetTableError, PartnerSheetProblem) as exc:
        run.error(
            partner.member_id, f"{partner.name}: could not read its referral sheet ({_safe(exc)})"
        )
        return {}
    answers: dict[str, bool] = {}
    for referral_id, rows in table.rows_by_id.items():
        if referral_id in wanted:
            answer = partner_answer(table.cell(rows[0], PARTNER_STATUS_HEADER))
            if answer is not None:
                answers[referral_id] = answer
    return answers


def write_partner_status(
    run: Run, client: Any, partner: PartnerProfile, statuses: Mapping[str, str]
) -> None:
    """The Partner status cell of closed referrals in the partner's own sheet (one read, one write)."""

    if not statuses or not partner.referral_sheet:
        return
    try:
        tab, values = _read_partner_tab(client, partner, run)
        table = SheetTable.from_values(
            tab.title, values, [PARTNER_STATUS_HEADER], REFERRAL_COLUMNS[0]
        )
        changes: dict[tuple[int, int], Any] = {}
        for referral_id, status in statuses.items():
            for number in table.rows_by_id.get(referral_id, []):
                changes.update(table.changed_cells(number, {PARTNER_STATUS_HEADER: status}))
        write_ranges(client, tab, ranges_for(tab.title, changes))
    except (SheetsError, SheetTableError, PartnerSheetProblem) as exc:
        run.error(partner.member_id, f"{partner.name}: Partner status not updated ({_safe(exc)})")


def close_in_partner_sheets(
    run: Run, partners: Sequence[PartnerProfile], closed: Sequence[ReferralState]
) -> None:
    """Accepted, declined and expired referrals say so in each partner's own sheet."""
    directory = {p.member_id: p for p in partners}
    by_partner: dict[str, dict[str, str]] = {}
    for referral in closed:
        if referral.state in PARTNER_STATUS:
            by_partner.setdefault(referral.partner_id, {})[referral.referral_id] = PARTNER_STATUS[
                referral.state
            ]
    client = sheets_client(run.cfg) if by_partner else None  # one client: one token
    for partner_id, statuses in sorted(by_partner.items()):
        if partner_id in directory:
            write_partner_status(run, client, directory[partner_id], statuses)


# ---------------------------------------------------------------- write the Intake sheet
@task(name="write intake status", **TASK_OPTIONS)
def write_intake_status(read: IntakeRead, partners: list[PartnerProfile], run: Run) -> int:
    """The bot's columns of every row, from the ledger, in one values:batchUpdate (RAW), rows found by ID.

    The tab is read again just before writing: staff may have sorted or inserted rows
    since the first read, and the Sheets API has no conditional write. Each row is
    matched to the first read by its ID cell and its answers, so a cell is only ever
    written on the row whose answers the ledger decided on.
    """
    client = sheets_client(run.cfg)
    values = read_tab_as_shown(client, read.tab)
    names = run.cfg.fields.intake
    columns = fields.resolve_columns(values[0] if values else [], names)
    bot = {key: columns.get(key, name) for key, name in names.bot.items()}
    table = SheetTable.from_values(read.tab.title, values, list(bot.values()), bot["intake_id"])
    located = _locate(values, columns, read, run)
    states = run.store.intakes.intakes(located)
    # A run working on an intake right now writes its row itself; a dead run's lease has
    # lapsed and this run took it over (claim in ledger), so its row is written here.
    elsewhere = run.store.intakes.held_elsewhere(located, datetime.now(UTC))
    partner_names = {p.member_id: p.name for p in partners}
    changes: dict[tuple[int, int], Any] = {}
    for intake_id, numbers in located.items():
        state = states.get(intake_id)
        if state is None or intake_id in elsewhere:
            continue
        desired = intake_cells(
            intake_id=intake_id,
            status=state.status,
            reason=state.reason,
            partner_id=state.current_partner or state.suggested_partner,
            referral_id=state.current_referral,
            routed_at=state.routed_at,
            partner_names=partner_names,
            tz=run.tz,
            columns=bot,
        )
        for number in numbers:
            changes.update(table.changed_cells(number, desired))
    write_ranges(client, read.tab, ranges_for(read.tab.title, changes))
    run.count("intake cells written", len(changes))
    return len(changes)


def _locate(
    values: list[list[str]], columns: Mapping[str, str], read: IntakeRead, run: Run
) -> dict[str, list[int]]:
    """Intake ID -> row numbers in a fresh read: rows are matched to the first read by (ID cell, answers)."""
    earlier: dict[tuple[str, str], list[str]] = {}
    from_cells: set[str] = set()
    for row in read.rows:
        cell = ids.normalize_intake_id(row.id_cell) or ""
        earlier.setdefault((cell, row.fingerprint), []).append(row.intake_id)
        if cell == row.intake_id:
            from_cells.add(cell)
    located: dict[str, list[int]] = {}
    unmatched: list[tuple[int, str]] = []
    for row in _rows(values, columns, run.salt):
        cell = ids.normalize_intake_id(row.id_cell) or ""
        queue = earlier.get((cell, row.fingerprint))
        if queue:
            located.setdefault(queue.pop(0), []).append(row.number)
        elif cell in from_cells:
            unmatched.append((row.number, cell))  # answers edited since the first read
    for number, cell in unmatched:
        if cell not in located:
            located[cell] = [number]
    return located


# ---------------------------------------------------------------- notify
def staff_notice_builder(
    run: Run, partners: Mapping[str, str], referrals: Mapping[str, list[ReferralState]]
) -> Callable[[str, list[IntakeState]], list[Notice] | None]:
    """How pending staff messages become grouped notices (one per kind per run); None when refused."""
    channel = run.cfg.services.slack.channels.intake_triage

    def build(kind: str, states: list[IntakeState]) -> list[Notice] | None:
        try:
            return notices.staff_notices(kind, states, channel, partners, referrals)
        except PIIError as exc:
            run.error(
                kind, f"staff message refused by the privacy guard ({exc}); tried again next run"
            )
            return None

    return build


@task(name="notify", **TASK_OPTIONS)
def notify(run: Run, partners: list[PartnerProfile]) -> int:
    """Send every Slack message the ledger says is owed, each exactly once by its key."""

    names = {p.member_id: p.name for p in partners}
    pending = run.store.intakes.intakes_pending_notice()
    referrals = run.store.referrals.referrals_of(pending)
    run.store.outbox.collect_staff_notices(staff_notice_builder(run, names, referrals), run.now)
    # The ledger's clock is now, not the run's start: a lease dated from the start of a long
    # run could lapse while this run is still sending, and another run would send them too.
    owed = run.store.outbox.claim_notices(datetime.now(UTC))
    steps.checkpoint("notices claimed")  # a crash here leaves notices claimed, none sent
    if not owed:
        return 0
    poster = slack_poster()
    sent = 0
    for notice in owed:
        # The guard already knows this run's personal values (Run.protect): any that
        # slipped into a message would refuse it here.
        try:
            text, blocks = notices.render(notice)
            result = poster.post(notice.key, notice.channel, text, blocks)
        except Exception as exc:
            run.store.outbox.notice_failed(notice.key, type(exc).__name__)
            run.error(
                notice.key,
                f"Slack message not sent ({type(exc).__name__}: {_safe(exc)}); retried next run",
            )
            continue
        run.store.outbox.notice_posted(
            notice.key, run.now, result.ts, result.channel_id, _referral_ids(notice)
        )
        sent += 1
    run.count("slack messages", sent)
    return sent


def _safe(exc: Exception) -> str:
    return guard.redact(str(exc))[:200]


def _referral_ids(notice: Notice) -> list[str]:
    if notice.kind == notices.REFERRAL_NOTICE:
        return [notice.payload["item"]["referral_id"]]
    if notice.kind == notices.REFERRAL_DIGEST:
        return [i["referral_id"] for i in notice.payload["items"]]
    return []


# ---------------------------------------------------------------- the run
def run_step(step: Any, *args: Any) -> Any:
    """A step as a Prefect task inside a flow run, as a plain call outside one (Slack actions).

    Every step takes the run; once it is done the run renews its leases (it is alive).
    """
    run = next((a for a in args if isinstance(a, Run)), None)
    alive = None if run is None or run.dry_run else (lambda: run.store.renew(datetime.now(UTC)))
    return steps.run_step(step, *args, alive=alive)


def report_held(run: Run) -> None:
    """Say what waits in another run's hands, and tell #ops-alerts once about what is stuck."""
    held = run.store.held(datetime.now(UTC))
    run.report.held = held_lines(held)
    if any(h.overdue for h in held):
        alert_held(run.report.flow, held)


def _route(read: IntakeRead, partners: list[PartnerProfile], run: Run) -> None:
    """Decide, then (unless a dry run) claim, deliver, write the Intake sheet and notify."""
    work = run_step(decide_routing, read, partners, run)
    if run.dry_run:
        run.report.plan = plan_lines(work, read, partners, run.rules.digest_threshold)
        run.count("decided", len(work.decisions))
        return
    try:
        claimed = run_step(claim_in_ledger, work, read, partners, run)
        # Delivered first: a partner sheet that refuses its cases is then
        # shown as such in the Intake sheet, not as "Referred".
        run_step(deliver_to_partners, claimed, read, work, partners, run)
        run_step(write_intake_status, read, partners, run)
        run_step(notify, run, partners)
        report_held(run)
    finally:
        run.store.release()


def run_routing(
    dry_run: bool = False, only: Iterable[str] | None = None, publish_report: bool = True
) -> RunReport:
    """The whole job: read, decide, claim, write the Intake sheet, deliver, notify, report."""
    run = start_run(dry_run, only)
    try:
        with measured(run.report):
            read = run_step(read_intake_sheet, run)
            partners = run_step(load_partner_directory, run)
            if run.directory == DIRECTORY_MISSING:
                run.report.notes.append(directory_note(run, 0) or "")
                run.count("waiting", len(select_rows(read, run)))
            else:
                _route(read, partners, run)
        log.info("%s", run.report.summary_lines()[0])
        if publish_report:
            publish(run.report)  # checked by the guard while it still knows this run's values
    finally:
        run.unprotect()
    return run.report


@flow(name=FLOW_NAME, log_prints=False, persist_result=False)
@stops_on_name_errors
def intake_routing(dry_run: bool = False) -> RunReport:
    """Route every new intake row to a partner that can serve it, or to staff triage with a reason."""
    return run_routing(dry_run=dry_run)


__all__ = ["intake_routing", "run_routing"]
