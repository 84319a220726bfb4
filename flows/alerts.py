"""The alerts flow: campaign calls to action and bill changes in the right Slack channels, each exactly once.

A run reads the due and posted campaigns and every tracked bill from Airtable (one
list request per 100 records), asks Open States what moved since its last poll
(when configured), decides in pure code (coalition/alerts) what to post, edit, hold
or record, posts through `SlackPoster` (exactly once by key, paced to one message a
second per channel), writes back to Airtable (Status Sent, permalinks, Open States
updates, per-record errors; 10 records a request) and tells #ops-alerts once what
failed. Message keys come from the state the run started from, so a rerun, a crash
between posting and recording, or a Slack 429 never posts anything twice.

A dry run reads everything (Airtable, Slack's channel list, the ledger, Open States)
and writes nothing anywhere; its report's plan says what a real run would do.
"""

from __future__ import annotations

import hashlib
import logging
from collections import Counter, defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import Any
from zoneinfo import ZoneInfo

from prefect import flow, task
from pyairtable import formulas as F

from coalition.alerts import bill_posts
from coalition.alerts import bills as bill_rules
from coalition.alerts import campaigns as campaign_rules
from coalition.alerts import openstates as poll_rules
from coalition.alerts.bill_posts import BillPlan, StateWrite, Step
from coalition.alerts.bills import Bill, BillDecision, Known
from coalition.alerts.campaigns import Campaign, CampaignDecision
from coalition.ledger import Ledger, open_ledger, utcnow
from coalition.ledger.alert_states import AlertStates
from coalition.ledger.leases import HeldWork, Holder, LeaseStore, lease_key
from coalition.names import missing_fields, stop_if_required
from coalition.outgoing import MentionError
from coalition.privacy import PIIError, guard
from coalition.settings import Settings, config_file, settings
from coalition.templating import TemplateError, render_message
from flows import steps
from flows.health import alert_held, stops_on_name_errors
from flows.posting import GuardedPoster, guarded_poster
from flows.reporting import ItemError, RunReport, held_lines, measured, publish
from flows.steps import TASK_OPTIONS
from integrations.slack import (
    ChannelNotFound,
    PostResult,
    SlackPostError,
    channel_id,
)

log = logging.getLogger("flows.alerts")

FLOW_NAME = "alerts"
CAMPAIGN_TEMPLATE = "slack/campaign.json.j2"
CANCELLED_TEMPLATE = "slack/campaign_cancelled.json.j2"
BILL_TEMPLATE = "slack/bill_change.json.j2"
REMINDER_TEMPLATE = "slack/hearing_reminder.json.j2"
ERRORS_TEMPLATE = "slack/alerts_errors.json.j2"
OPENSTATES_PAGES_PER_TARGET = 5  # 100 bills a target a run; the watermark resumes the rest
OPS_ITEMS_SHOWN = 15
RUN_LEASE = lease_key("run", FLOW_NAME)  # one alerts run at a time: no key is posted twice
ERROR_LIMIT = 300
# Failures of one item that must not stop the others: Slack refusing, a guard refusing,
# a template over a limit. Outages (no connection) and bugs still fail the run.
ITEM_ERRORS = (SlackPostError, MentionError, PIIError, TemplateError)


def current_time() -> datetime:
    """Now (tests replace this to run at a chosen hour of the org's day)."""
    return datetime.now(UTC)


# ---------------------------------------------------------------- run context
@dataclass
class Run:
    """What every step of one run shares: settings, ledger, clock, Slack, and the report."""

    cfg: Settings
    ledger: Ledger
    dry_run: bool
    now: datetime
    report: RunReport
    poster: GuardedPoster
    tally: dict[str, Counter[str]] = field(default_factory=lambda: defaultdict(Counter))
    channel_names: dict[str, str] = field(default_factory=dict)
    base: Any = None  # the Airtable base, opened once
    holder: Holder | None = None  # this run's lease on the alerts run, while it holds it
    refreshed_channels: bool = False

    @property
    def memory(self) -> AlertStates:
        """Bills' states, poll watermarks and live campaign messages in the ledger."""
        return AlertStates(self.ledger)

    @property
    def tz(self) -> ZoneInfo:
        return ZoneInfo(self.cfg.services.timezone)

    @property
    def today(self) -> date:
        return self.now.astimezone(self.tz).date()

    def count(self, key: str, n: int = 1) -> None:
        if n:
            self.report.counts[key] = self.report.counts.get(key, 0) + n

    def error(self, item: str, error: str) -> None:
        self.report.errors.append(ItemError(item=item, error=clean_error(error)))

    def channel(self, name: str) -> str:
        """A channel's id by name; ChannelNotFound when the bot cannot see it."""
        assert self.poster.client is not None
        try:
            found = channel_id(self.poster.client, name)
        except ChannelNotFound:
            if self.refreshed_channels:
                raise
            # The directory is cached per process: a channel created since may be missing.
            self.refreshed_channels = True
            found = channel_id(self.poster.client, name, refresh=True)
        self.channel_names.setdefault(found, name.lstrip("#"))
        return found

    def saw(self, channel: str, action: str, what: str) -> None:
        """Count a Slack outcome under its channel name (for the plan and the report)."""
        if action == "unchanged":
            return
        name = self.channel_names.get(channel, channel)
        self.tally[f"#{name}"][f"{what} {action}"] += 1


def clean_error(text: str) -> str:
    text = guard.redact(" ".join(str(text).split()))
    return text if len(text) <= ERROR_LIMIT else text[: ERROR_LIMIT - 1] + "…"


def start_run(dry_run: bool) -> Run:
    from integrations.clients import slack_client

    cfg = settings()
    ledger = open_ledger()
    # A dry run still reads Slack's channel list (a read) to find unknown channels.
    poster = guarded_poster(slack_client(cfg), ledger, dry_run)
    return Run(
        cfg=cfg,
        ledger=ledger,
        dry_run=dry_run,
        now=current_time(),
        report=RunReport(flow=FLOW_NAME, dry_run=dry_run),
        poster=poster,
    )


# ---------------------------------------------------------------- Airtable writes, gathered
@dataclass
class Writes:
    """Field updates per record (merged), and new bill records, written at the end in batches of 10.

    Keyed by the design's field names, the pure core's vocabulary; `_fields_of` names
    them as the workspace does (config/fields.yaml) when they are written."""

    campaigns: dict[str, dict[str, Any]] = field(default_factory=dict)
    bills: dict[str, dict[str, Any]] = field(default_factory=dict)
    new_bills: list[dict[str, Any]] = field(default_factory=list)
    watermarks: dict[str, str] = field(default_factory=dict)

    def campaign(self, record_id: str, fields: Mapping[str, Any]) -> None:
        self.campaigns.setdefault(record_id, {}).update(fields)

    def bill(self, record_id: str, fields: Mapping[str, Any]) -> None:
        self.bills.setdefault(record_id, {}).update(fields)


# ---------------------------------------------------------------- read campaigns and bills
@dataclass
class TableRead:
    table: Any  # integrations.airtable.AirtableTable
    fields: list[str]
    records: list[dict[str, Any]] = field(repr=False)
    names: Any = None  # the table's field names (config/fields.yaml), for writing back


def _open(run: Run, key: str) -> Any:
    """One table of config/fields.yaml `airtable`, checked before any write: a table or a
    field the flow needs that the base lacks stops the run with one line naming the key."""
    from integrations.airtable import open_base, open_table
    from integrations.clients import airtable_api

    if run.base is None:
        run.base = open_base(airtable_api(run.cfg), run.cfg.services.airtable.base)
    source = config_file(run.cfg.config_dir, "fields.yaml")
    configured = run.cfg.fields.airtable.tables()[key]
    table = open_table(run.base, configured.table, f"{source} airtable.{key}.table")
    stop_if_required(missing_fields(run.cfg.fields, key, table.fields, source))
    return table


def _read(run: Run, key: str, formula: str | None) -> TableRead:
    """The table's records with the fields the flow uses (optional ones may be absent); the base is opened once a run."""
    from integrations.airtable import all_records

    table = _open(run, key)
    names = run.cfg.fields.airtable.tables()[key].fields
    fields = [f for f in names.all() if f in table.fields]
    return TableRead(table, fields, all_records(table, fields, formula), names)


@task(name="read campaigns", **TASK_OPTIONS)
def read_campaigns(run: Run) -> tuple[TableRead, list[Campaign]]:
    """Every campaign but drafts: Ready ones may be due, Sent and Cancelled ones may need an edit."""
    names = run.cfg.fields.airtable.campaigns.fields
    formula = F.to_formula_str(F.NOT(F.EQ(F.Field(names.status), campaign_rules.DRAFT)))
    read = _read(run, "campaigns", formula)
    found = [campaign_rules.parse_campaign(r, names) for r in read.records]
    run.count("campaigns read", len(found))
    return read, found


@task(name="read bills", **TASK_OPTIONS)
def read_bills(run: Run) -> tuple[TableRead, list[Bill]]:
    """Every tracked bill, 100 a request."""
    names = run.cfg.fields.airtable.bills.fields
    read = _read(run, "bills", None)
    found = [bill_rules.parse_bill(r, names) for r in read.records]
    run.count("bills read", len(found))
    return read, found


# ---------------------------------------------------------------- poll Open States
@dataclass
class Poll:
    plan: poll_rules.PollPlan = field(default_factory=poll_rules.PollPlan)
    watermarks: dict[str, str] = field(default_factory=dict)
    off: str = ""


def poller_off_reason(cfg: Settings) -> str:
    """Why the Open States poller does not run ("" when it does)."""
    from integrations.openstates import api_key

    config = cfg.services.openstates
    if not config.enabled:
        return "off in config/services.yaml"
    if not (config.jurisdictions or config.queries):
        return "no jurisdictions or queries in config/services.yaml"
    if api_key(cfg) is None:
        return "no OPENSTATES_API_KEY"
    return ""


@task(name="poll open states", **TASK_OPTIONS)
def poll_open_states(run: Run, tracked: list[Bill]) -> Poll:
    """Bills updated since the last poll, per target, mapped to record updates and new matches."""
    from integrations.openstates import OpenStatesError, openstates_client

    off = poller_off_reason(run.cfg)
    if off:
        log.info("Open States poller not run: %s", off)
        return Poll(off=off)
    client = openstates_client(run.cfg)
    assert client is not None  # poller_off_reason checked the key
    config = run.cfg.services.openstates
    targets = poll_rules.targets(config.jurisdictions, config.queries)
    known = run.memory.watermarks(t.watermark_key for t in targets)
    results: list[tuple[poll_rules.Target, poll_rules.OpenStatesBill]] = []
    poll = Poll()
    try:
        for target in targets:
            since = poll_rules.updated_since(known.get(target.watermark_key), run.now)
            found: list[poll_rules.OpenStatesBill] = []
            try:
                for page in client.updated_bills(
                    jurisdiction=target.jurisdiction,
                    q=target.q,
                    updated_since=since,
                    max_pages=OPENSTATES_PAGES_PER_TARGET,
                ):
                    found.extend(poll_rules.parse_result(r) for r in page)
            except OpenStatesError as exc:
                # Results come oldest change first, so what arrived is safe to keep.
                run.error(f"openstates {target.describe()}", str(exc))
            results.extend((target, bill) for bill in found)
            mark = poll_rules.next_watermark(known.get(target.watermark_key), found)
            if mark and mark != known.get(target.watermark_key):
                poll.watermarks[target.watermark_key] = mark
    finally:
        client.close()
    poll.plan = poll_rules.plan_poll(results, tracked)
    run.count("open states bills seen", poll.plan.seen)
    return poll


# ---------------------------------------------------------------- decide (pure, plus ledger reads)
@task(name="decide", **TASK_OPTIONS)
def decide_alerts(
    run: Run, campaigns: list[Campaign], tracked: list[Bill], poll: Poll
) -> tuple[
    list[CampaignDecision], list[BillDecision], dict[str, list[tuple[str, str]]], dict[str, Known]
]:
    """What each campaign and bill needs this run, from Airtable, the poll and the ledger."""
    alerts_cfg = run.cfg.alerts
    posted = run.memory.campaign_messages()
    campaign_decisions = [
        campaign_rules.decide(
            c,
            run.now,
            bool(posted.get(c.record_id)),
            alerts_cfg.region_channels,
            alerts_cfg.quiet_hours,
            run.tz,
        )
        for c in campaigns
    ]
    updates = poll.plan.updates
    current = [
        poll_rules.apply_update(b, updates[b.record_id]) if b.record_id in updates else b
        for b in tracked
    ]
    known = run.memory.bills(b.record_id for b in current)
    bill_decisions = [
        bill_rules.decide(
            b,
            known.get(b.record_id),
            run.today,
            alerts_cfg.hearing_reminder_days,
            poll.plan.baselines.get(b.record_id),
        )
        for b in current
    ]
    return campaign_decisions, bill_decisions, posted, known


# ---------------------------------------------------------------- post campaigns
def _render_campaign(campaign: Campaign) -> tuple[str, list[dict[str, Any]]]:
    return render_message(CAMPAIGN_TEMPLATE, c=campaign_rules.campaign_content(campaign))


def _render_cancelled(campaign: Campaign) -> tuple[str, list[dict[str, Any]]]:
    from coalition.privacy import escape_mrkdwn

    return render_message(CANCELLED_TEMPLATE, title=escape_mrkdwn(campaign.title or "campaign"))


def _campaign_item(campaign: Campaign) -> str:
    return f"campaign {campaign.record_id}"


def _post_campaign(run: Run, decision: CampaignDecision) -> dict[str, Any]:
    """Post a due campaign to each of its channels; the Airtable fields to write after."""
    campaign = decision.campaign
    try:
        targets = [(name, run.channel(name)) for name in decision.channels]
    except ChannelNotFound as exc:
        raise SlackPostError(
            "conversations.list",
            "channel_not_found",
            f"no Slack channel #{exc.channel} visible to the bot; fix Channels or Regions, "
            "or invite the bot to it",
        ) from None
    text, blocks = _render_campaign(campaign)
    links = campaign_rules.parse_slack_messages(campaign.slack_messages)
    for name, target in targets:
        key = campaign_rules.message_key(campaign.record_id, target)
        result = run.poster.post(key, target, text, blocks, allow_mentions=campaign.notify_channel)
        run.saw(result.channel_id or target, result.action, "campaign")
        run.count(f"campaign messages {result.action}")
        if not run.dry_run and (result.action == "posted" or name not in links):
            links[name] = run.poster.permalink(result.channel_id, result.ts)
    return {
        "Status": campaign_rules.SENT,
        "Slack messages": campaign_rules.slack_messages_text(links),
    }


def _edit_campaign(
    run: Run, campaign: Campaign, messages: list[tuple[str, str]], cancelled: bool
) -> None:
    """Make every posted message of a campaign show its current content (or the cancellation)."""
    text, blocks = _render_cancelled(campaign) if cancelled else _render_campaign(campaign)
    mentions = campaign.notify_channel and not cancelled
    what = "cancellation" if cancelled else "campaign"
    for key, target in messages:
        result = run.poster.post(key, target, text, blocks, allow_mentions=mentions)
        run.saw(result.channel_id or target, result.action, what)
        run.count(f"{what} messages {result.action}")


def _name_channels(run: Run, campaign: Campaign) -> None:
    """Learn the names of a campaign's current channels, so edits are reported by name."""
    names, _ = campaign_rules.campaign_channels(campaign, run.cfg.alerts.region_channels)
    for name in names:
        try:
            run.channel(name)
        except ChannelNotFound:
            continue


@task(name="post campaigns", **TASK_OPTIONS)
def post_campaigns(
    run: Run,
    decisions: list[CampaignDecision],
    posted: dict[str, list[tuple[str, str]]],
    writes: Writes,
) -> list[tuple[Campaign, dict[str, Any]]]:
    """Post due campaigns, edit sent and cancelled ones in place; (campaign, fields) of the ones sent."""
    sent: list[tuple[Campaign, dict[str, Any]]] = []
    for decision in decisions:
        campaign = decision.campaign
        updates: dict[str, Any] = {}
        problem = decision.reason if decision.kind == "error" else ""
        if not problem:
            try:
                _act_on_campaign(run, decision, posted, updates, sent)
            except ITEM_ERRORS as exc:
                problem = str(exc)
        if problem:
            run.error(_campaign_item(campaign), problem)
            updates.update(bill_posts.error_update(campaign.error, clean_error(problem)))
        elif decision.kind != "skip" or campaign.status == campaign_rules.READY:
            # Fixed since the last run.
            updates.update(bill_posts.error_update(campaign.error, None))
        if updates:
            writes.campaign(campaign.record_id, updates)
    return sent


def _act_on_campaign(
    run: Run,
    decision: CampaignDecision,
    posted: dict[str, list[tuple[str, str]]],
    updates: dict[str, Any],
    sent: list[tuple[Campaign, dict[str, Any]]],
) -> None:
    campaign = decision.campaign
    if decision.kind == "post":
        updates.update(_post_campaign(run, decision))
        sent.append((campaign, updates))
        run.count("campaigns sent")
    elif decision.kind in ("sync", "cancel"):
        _name_channels(run, campaign)
        _edit_campaign(run, campaign, posted[campaign.record_id], decision.kind == "cancel")
    elif decision.kind == "hold":
        run.count("campaigns held for quiet hours")
        run.tally["held for quiet hours"]["campaign"] += 1


@task(name="recheck sent campaigns", **TASK_OPTIONS)
def recheck_sent_campaigns(
    run: Run, read: TableRead, sent: list[tuple[Campaign, dict[str, Any]]], writes: Writes
) -> None:
    """Read the campaigns just posted again before marking them Sent: staff may have edited them meanwhile.

    A campaign cancelled or set back to Draft while it was being posted keeps its new
    Status (the next run turns its messages into a cancellation notice); one whose
    text changed is edited in place now.
    """
    from integrations.airtable import records_by_id

    if not sent:
        return
    fresh = {
        r["id"]: campaign_rules.parse_campaign(r, read.names)
        for r in records_by_id(read.table, [c.record_id for c, _ in sent], read.fields)
    }
    posted = run.memory.campaign_messages()
    for campaign, _ in sent:
        now = fresh.get(campaign.record_id)
        updates = writes.campaigns.get(campaign.record_id, {})
        if now is None or now.status != campaign_rules.READY:
            updates.pop("Status", None)  # deleted, cancelled or back to draft meanwhile
            run.count("campaigns changed while sending")
            continue
        if campaign_rules.fingerprint(now) != campaign_rules.fingerprint(campaign):
            run.count("campaigns changed while sending")
            try:
                _edit_campaign(run, now, posted.get(campaign.record_id, []), cancelled=False)
            except ITEM_ERRORS as exc:
                run.error(_campaign_item(campaign), str(exc))


# ---------------------------------------------------------------- post bill alerts
def _source_url(bill: Bill) -> str | None:
    return bill.source_url if campaign_rules.valid_link(bill.source_url) else None


def _render_change(decision: BillDecision) -> tuple[str, list[dict[str, Any]]]:
    bill = decision.bill
    return render_message(
        BILL_TEMPLATE,
        bill=bill,
        headline=bill_rules.headline(bill, decision.first_sight),
        lines=[change.line() for change in decision.changes],
        next_step=bill_rules.next_step(bill),
        source_url=_source_url(bill),
    )


def _render_reminder(bill: Bill, reminder: bill_rules.Reminder) -> tuple[str, list[dict[str, Any]]]:
    return render_message(
        REMINDER_TEMPLATE,
        bill=bill,
        headline=bill_rules.reminder_headline(bill, reminder),
        hearing_day=bill_rules.hearing_day(reminder.hearing),
        next_step=bill_rules.next_step(bill),
        source_url=_source_url(bill),
    )


def _post_in_thread(
    run: Run, key: str, target: str, message: tuple[str, list], thread: str | None
) -> PostResult:
    text, blocks = message
    try:
        return run.poster.post(key, target, text, blocks, thread_ts=thread)
    except SlackPostError as exc:
        if exc.error != "thread_not_found" or thread is None:
            raise
    # The thread's first message was deleted in Slack: start the bill's thread again.
    return run.poster.post(key, target, text, blocks)


def _bill_item(bill: Bill) -> str:
    return f"bill {bill.record_id} ({bill.label or 'no number'})"


def _alert_bill(run: Run, decision: BillDecision, known: Known | None) -> StateWrite:
    """Post one bill's change alert and/or hearing reminder, threaded; its new ledger state."""
    bill = decision.bill
    name = bill_rules.bill_channel(bill, run.cfg.alerts.default_bill_channel)
    try:
        target = run.channel(name)
    except ChannelNotFound:
        raise SlackPostError(
            "conversations.list",
            "channel_not_found",
            f"no Slack channel #{name} visible to the bot; fix the Channel field or invite the bot",
        ) from None
    plan = bill_posts.plan_posts(decision, known, target, run.today)
    return plan.state(_send_posts(run, plan))


def _send_posts(run: Run, plan: BillPlan) -> str | None:
    """Post the plan's messages in order; the thread they are in (the first post starts one)."""
    thread = plan.thread_ts
    for post in plan.posts:
        if post.reminder is not None:
            message, what = _render_reminder(plan.decision.bill, post.reminder), "hearing reminder"
        else:
            message, what = _render_change(plan.decision), "bill alert"
        result = _post_in_thread(run, post.key, plan.channel, message, thread)
        run.saw(plan.channel, result.action, what)
        run.count(f"{what}s {result.action}")
        thread = thread or result.ts
    return thread


@task(name="post bill alerts", **TASK_OPTIONS)
def post_bill_alerts(
    run: Run, decisions: list[BillDecision], known: dict[str, Known], writes: Writes
) -> list[StateWrite]:
    """Alert each changed bill and remind each upcoming hearing, once, in the bill's thread."""
    quiet = campaign_rules.in_quiet_hours(run.now, run.cfg.alerts.quiet_hours, run.tz)
    states: list[StateWrite] = []
    for decision in decisions:
        bill = decision.bill
        before = known.get(bill.record_id)
        chosen = bill_posts.step(decision, quiet)
        problem: str | None = decision.error or None
        if bill_posts.records_silently(decision, chosen):
            states.append(bill_posts.silent_state(decision, before))
            run.count("bills recorded without alert", int(chosen is Step.NOTHING))
        if chosen is Step.HOLD:
            # Held until morning; a held change keeps its fingerprint, so the next run still sees it.
            run.count("bill messages held for quiet hours")
            run.tally["held for quiet hours"]["bill message"] += 1
        elif chosen is Step.POST:
            try:
                states.append(_alert_bill(run, decision, before))
            except ITEM_ERRORS as exc:
                problem = clean_error(str(exc))
        if problem:
            run.error(_bill_item(bill), problem)
        if chosen is not Step.HOLD:
            updates = bill_posts.error_update(bill.error, problem)
            if updates:
                writes.bill(bill.record_id, updates)
    if not run.dry_run:
        run.memory.record_bills(states)
    return states


# ---------------------------------------------------------------- write back to Airtable
def _fields_of(table: TableRead, fields: Mapping[str, Any]) -> dict[str, Any]:
    """Under the workspace's names (writes are gathered under the design's), only fields the
    table has (a base without `Error` still gets its Status and links)."""
    named = table.names.from_design(fields) if table.names is not None else dict(fields)
    return {k: v for k, v in named.items() if k in table.table.fields}


def _update(run: Run, table: TableRead, updates: Mapping[str, Mapping[str, Any]], item: str) -> int:
    """Batch updates; if Airtable refuses a batch, write its records one by one to find the bad one."""
    from integrations.airtable import AirtableRequestError, update_records

    rows = [{"id": rid, "fields": _fields_of(table, f)} for rid, f in updates.items()]
    rows = [r for r in rows if r["fields"]]
    try:
        return update_records(table.table, rows)
    except AirtableRequestError:
        sent = 0
        for row in rows:
            try:
                sent += update_records(table.table, [row])
            except AirtableRequestError as exc:
                run.error(f"{item} {row['id']}", f"Airtable refused the update: {exc}")
        return sent


@task(name="write back to Airtable", **TASK_OPTIONS)
def write_back_to_airtable(
    run: Run, campaigns: TableRead, bills: TableRead, writes: Writes
) -> None:
    """Status, permalinks and errors of campaigns; Open States updates, new matches and errors of bills."""
    from integrations.airtable import create_records

    run.count("campaign records written", len([f for f in writes.campaigns.values() if f]))
    run.count("bill records written", len([f for f in writes.bills.values() if f]))
    run.count("airtable write requests", _update(run, campaigns, writes.campaigns, "campaign"))
    run.count("airtable write requests", _update(run, bills, writes.bills, "bill"))
    if writes.new_bills:
        rows = [_fields_of(bills, f) for f in writes.new_bills]
        created = create_records(bills.table, rows)
        run.count("bills added for review", len(created))
        run.count("airtable write requests", -(-len(rows) // 10))


# ---------------------------------------------------------------- tell #ops-alerts
def errors_key(day: date, errors: Sequence[ItemError]) -> str:
    """One summary per distinct set of errors a day: the same problems every 5 minutes post once."""
    listed = "\n".join(sorted(f"{e.item}\t{e.error}" for e in errors))
    return f"alerts:errors:{day.isoformat()}:{hashlib.sha256(listed.encode()).hexdigest()[:16]}"


@task(name="notify ops", **TASK_OPTIONS)
def notify_ops(run: Run) -> None:
    """One summary of this run's failed items in #ops-alerts."""
    errors = run.report.errors
    if not errors:
        return
    items = [{"item": e.item, "error": e.error} for e in errors]
    shown = min(len(items), OPS_ITEMS_SHOWN)
    text, blocks = render_message(
        ERRORS_TEMPLATE, items=items, shown=shown, hidden=len(items) - shown
    )
    channel = run.cfg.services.slack.channels.ops_alerts
    try:
        result = run.poster.post(errors_key(run.today, errors), channel, text, blocks)
    except (*ITEM_ERRORS, ChannelNotFound) as exc:
        log.warning("could not post the alerts error summary to #%s: %s", channel, exc)
        run.count("ops summary failed")
        return
    run.count(f"ops summaries {result.action}")


# ---------------------------------------------------------------- the plan (dry runs)
_WORDS = {
    "campaign posted": "campaign post",
    "campaign updated": "campaign edit",
    "cancellation posted": "cancellation notice",
    "cancellation updated": "cancellation notice",
    "bill alert posted": "bill alert",
    "bill alert updated": "bill alert edit",
    "hearing reminder posted": "hearing reminder",
    "hearing reminder updated": "hearing reminder edit",
    "campaign": "campaign",
    "bill message": "bill message",
}


def _plural(n: int, word: str) -> str:
    return f"{n} {word}{'' if n == 1 else 's'}"


def plan_lines(run: Run, writes: Writes, poll: Poll) -> list[str]:
    """What the run does, by channel and table, without any campaign text or bill detail."""
    lines = []
    for where in sorted(run.tally):
        counts = run.tally[where]
        parts = [_plural(n, _WORDS.get(what, what)) for what, n in sorted(counts.items()) if n]
        if parts:
            lines.append(f"{where}: {', '.join(parts)}")
    status_changes = sum(1 for f in writes.campaigns.values() if "Status" in f)
    if status_changes:
        lines.append(f"Campaigns: {_plural(status_changes, 'status change')}")
    errors = sum(1 for f in writes.campaigns.values() if "Error" in f)
    if errors:
        lines.append(f"Campaigns: {_plural(errors, 'Error field')} to write")
    bill_parts = []
    if poll.plan.updates:
        bill_parts.append(_plural(len(poll.plan.updates), "update") + " from Open States")
    if poll.plan.new_records:
        bill_parts.append(_plural(len(poll.plan.new_records), "new match") + " to review")
    bill_errors = sum(1 for f in writes.bills.values() if "Error" in f)
    if bill_errors:
        bill_parts.append(_plural(bill_errors, "Error field") + " to write")
    if bill_parts:
        lines.append(f"Bills: {', '.join(bill_parts)}")
    if poll.off:
        lines.append(f"Open States poller: {poll.off}")
    return lines


# ---------------------------------------------------------------- the run
def _step(step: Any, *args: Any) -> Any:
    """A step as a Prefect task inside a flow run, as a plain call outside one (`alerts.fn`, tests).

    Once it is done the run renews its lease: it is alive, the run stays its own.
    """
    run = next((a for a in args if isinstance(a, Run)), None)
    holder = run.holder if run is not None else None
    alive = None if holder is None else (lambda: LeaseStore(run.ledger).renew(holder, utcnow()))
    return steps.run_step(step, *args, alive=alive)


def claim_run(run: Run) -> bool:
    """Take the alerts run's lease (an overlapping run could post the same key twice); False if held.

    A dead run's lease lapses after the configured lease length (schedules.yaml
    `leases.minutes`); the run stood aside then says, in its report, since when the
    run has been held and when it will be taken over.
    """
    holder = steps.run_holder(run.cfg.lease_length)
    lease = LeaseStore(run.ledger).claim(RUN_LEASE, holder, utcnow())
    if lease.owner == holder.owner:
        run.holder = holder
        return True
    now = utcnow()
    assert lease.until is not None
    held = [HeldWork("run", 1, lease.since, lease.until, now - lease.since > 2 * holder.length)]
    run.report.held = held_lines(held)
    alert_held(FLOW_NAME, held)
    return False


def release_run(run: Run) -> None:
    if run.holder is not None:
        LeaseStore(run.ledger).release(run.holder)
        run.holder = None


def run_alerts(dry_run: bool = False, publish_report: bool = True) -> RunReport:
    """The whole job: read, poll, decide, post campaigns, post bill alerts, write back, report."""
    run = start_run(dry_run)
    if not dry_run and not claim_run(run):
        log.warning("another alerts run is in progress; this one does nothing")
        run.count("skipped: another run in progress")
        run.report.stood_aside = True
        if publish_report:
            publish(run.report)
        return run.report
    try:
        with measured(run.report):
            _do_alerts(run)
    finally:
        release_run(run)
    if publish_report:
        publish(run.report)
    return run.report


def _do_alerts(run: Run) -> None:
    writes = Writes()
    campaigns_read, campaigns = _step(read_campaigns, run)
    bills_read, tracked = _step(read_bills, run)
    poll = _step(poll_open_states, run, tracked)
    for record_id, fields in poll.plan.updates.items():
        writes.bill(record_id, fields)
    writes.new_bills = list(poll.plan.new_records)
    run.count("open states updates", len(poll.plan.updates))
    run.count("open states new matches", len(poll.plan.new_records))
    campaign_decisions, bill_decisions, posted, known = _step(
        decide_alerts, run, campaigns, tracked, poll
    )
    sent = _step(post_campaigns, run, campaign_decisions, posted, writes)
    _step(post_bill_alerts, run, bill_decisions, known, writes)
    if run.dry_run:
        run.report.plan = plan_lines(run, writes, poll)
        return
    _step(recheck_sent_campaigns, run, campaigns_read, sent, writes)
    _step(write_back_to_airtable, run, campaigns_read, bills_read, writes)
    run.memory.save_watermarks(poll.watermarks)
    _step(notify_ops, run)


@flow(name=FLOW_NAME, log_prints=False, persist_result=False)
@stops_on_name_errors
def alerts(dry_run: bool = False) -> RunReport:
    """Post due campaigns and bill changes to Slack once each, keep posted campaigns in step, report."""
    return run_alerts(dry_run=dry_run)


__all__ = ["alerts", "current_time", "run_alerts"]
