"""The alerts flow against the sandbox over HTTP: what organizers and policy staff see in Slack and Airtable.

Every test runs the real flow (`alerts.fn`, one test the Prefect flow itself) on the
demo coalition at noon of the demo's day, unless it chooses another hour.
"""

from __future__ import annotations

import json
import time as wall
from datetime import datetime, time, timedelta
from typing import Any
from urllib.parse import parse_qs
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import delete, func, select, update

import flows.alerts as alerts_module
from coalition.ledger import open_ledger, utcnow
from coalition.ledger.leases import Holder, LeaseStore
from coalition.ledger.tables.alerts import BillState, PostedMessage
from coalition.ledger.tables.common import Watermark
from coalition.privacy import unescape_mrkdwn
from coalition.settings import reload_settings, settings
from flows.alerts import alerts
from flows.reporting import RunReport
from sandbox.seed.alerts import HOSTILE_CAMPAIGN_TEXT

pytestmark = pytest.mark.timeout(600)

COURT_WATCH = "Court watch: stand with detained neighbors"
MONTHLY = "Monthly organizing update"
CLINIC = "Citizenship day clinic"
CANCELLED_VIGIL = "Candlelight vigil (moved online)"


class Clock:
    """The flow's "now", at a chosen hour of the demo's day in the org's time zone."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self.tz = ZoneInfo(settings().services.timezone)
        self.day = datetime.now(self.tz).date()
        self.now = datetime.combine(self.day, time(12, 0), tzinfo=self.tz)
        monkeypatch.setattr(alerts_module, "current_time", lambda: self.now)

    def at(self, hour: int, minute: int = 0, days: int = 0) -> None:
        self.now = datetime.combine(
            self.day + timedelta(days=days), time(hour, minute), tzinfo=self.tz
        )


class Workspace:
    """What a person sees: channels, threads, Airtable records; and the request journal."""

    def __init__(self, box: Any) -> None:
        self.box = box
        self.airtable = box.services["airtable"]
        self.slack = box.services["slack"]
        self.openstates = box.services["openstates"]
        self.base = self.airtable.find_base(settings().services.airtable.base)

    # Slack
    def channel(self, name: str) -> str:
        return self.slack.channel_by_name(name)["id"]

    def messages(self, name: str) -> list[dict]:
        return [m for m in self.slack.messages(self.channel(name)) if m.get("bot_id")]

    def thread(self, name: str, ts: str) -> list[dict]:
        return self.slack.replies(self.channel(name), ts)

    def titled(self, name: str, header: str) -> list[dict]:
        return [m for m in self.messages(name) if header_of(m) == header]

    # Airtable
    def records(self, table: str) -> list[dict]:
        return self.airtable.records(self.base, table)

    def campaign(self, title: str) -> dict:
        return next(r for r in self.records("Campaigns") if r["fields"].get("Title") == title)

    def bill(self, number: str) -> dict:
        return next(r for r in self.records("Bills") if r["fields"].get("Bill") == number)

    def set(self, table: str, record: dict, **fields: Any) -> None:
        self.airtable.update_record_fields(self.base, table, record["id"], fields)

    def add(self, table: str, rows: list[dict]) -> list[dict]:
        return self.airtable.create_records(self.base, table, rows, typecast=True)

    # journal
    @property
    def seq(self) -> int:
        return self.box.sandbox.journal.last_seq

    def slack_calls(self, since: int) -> list[str]:
        return [e["path"].removeprefix("/api/") for e in self.box.journal("slack", since=since)]

    def writes(self, since: int) -> list[dict]:
        return self.box.writes(since)


def header_of(message: dict) -> str:
    blocks = message.get("blocks") or []
    return unescape_mrkdwn(blocks[0]["text"]["text"]) if blocks else ""


def shown(message: dict) -> str:
    """Everything a person reads in a message, unescaped as Slack renders it."""
    parts = [] if message.get("blocks") else [message.get("text", "")]
    for block in message.get("blocks") or []:
        text = block.get("text")
        if isinstance(text, dict):
            parts.append(text["text"])
        for item in block.get("fields") or block.get("elements") or []:
            if isinstance(item, dict) and isinstance(item.get("text"), str):
                parts.append(item["text"])
    return unescape_mrkdwn("\n".join(parts))


@pytest.fixture
def ws(demo: Any) -> Workspace:
    return Workspace(demo)


@pytest.fixture
def clock(demo: Any, monkeypatch: pytest.MonkeyPatch) -> Clock:
    return Clock(monkeypatch)


def run(dry_run: bool = False) -> RunReport:
    return alerts.fn(dry_run=dry_run)


def posts(ws: Workspace, since: int) -> list[str]:
    return [c for c in ws.slack_calls(since) if c in {"chat.postMessage", "chat.update"}]


# ---------------------------------------------------------------- campaigns
def test_ready_campaigns_appear_once_in_their_channels_and_a_rerun_writes_nothing(
    ws: Workspace, clock: Clock
) -> None:
    report = run()
    assert report.errors == []
    court = ["organizing", "organizing-southeast", "organizing-northeast"]
    monthly = ["organizing", "organizing-midwest", "organizing-west"]
    for name in court:
        assert len(ws.titled(name, f"Urgent: {COURT_WATCH}")) == 1
    for name in monthly:
        assert len(ws.titled(name, MONTHLY)) == 1
    # Draft, later, sent-by-hand and cancelled campaigns are not posted.
    assert len(ws.messages("organizing")) == 2

    [court_msg] = ws.titled("organizing", f"Urgent: {COURT_WATCH}")
    section = court_msg["blocks"][1]["text"]["text"]
    assert "&lt;!channel&gt;" in section and "&lt;script&gt;" in section
    assert unescape_mrkdwn(section) == HOSTILE_CAMPAIGN_TEXT  # shown exactly as typed
    assert "<!channel>" not in json.dumps(court_msg)  # and nobody is pinged
    [button] = court_msg["blocks"][2]["elements"]
    assert button["url"] == "https://example.org/campaigns/court-watch"

    [long_msg] = ws.titled("organizing", MONTHLY)
    sections = [b["text"]["text"] for b in long_msg["blocks"] if b["type"] == "section"]
    assert len(sections) == 2 and all(len(s) <= 3000 for s in sections)

    record = ws.campaign(COURT_WATCH)["fields"]
    assert record["Status"] == "Sent"
    links = record["Slack messages"].splitlines()
    assert sorted(line.split(":")[0] for line in links) == sorted(f"#{c}" for c in court)
    assert all("slack.com/archives/" in line for line in links)
    assert "Error" not in record
    assert ws.campaign(CLINIC)["fields"]["Status"] == "Ready"  # not due yet

    since = ws.seq
    again = run()
    assert ws.writes(since) == []  # not a post, not an edit, not an Airtable write
    assert again.counts.get("campaign messages unchanged") == 6
    assert len(ws.messages("organizing")) == 2


def test_editing_a_sent_campaign_updates_its_messages_in_place_and_cancelling_replaces_them(
    ws: Workspace, clock: Clock
) -> None:
    run()
    before = {name: ws.titled(name, MONTHLY)[0]["ts"] for name in ("organizing", "organizing-west")}
    ws.set(
        "Campaigns",
        ws.campaign(MONTHLY),
        Title="Monthly organizing update (corrected)",
        Link="https://example.org/updates/monthly-v2",
    )
    since = ws.seq
    run()
    assert posts(ws, since) == ["chat.update"] * 3
    for name, ts in before.items():
        [edited] = ws.titled(name, "Monthly organizing update (corrected)")
        assert edited["ts"] == ts and "edited" in edited
        assert "monthly-v2" in json.dumps(edited["blocks"])
    assert len(ws.messages("organizing")) == 2

    ws.set("Campaigns", ws.campaign(COURT_WATCH), Status="Cancelled")
    since = ws.seq
    run()
    assert posts(ws, since) == ["chat.update"] * 3
    [notice] = ws.titled("organizing-southeast", f"Cancelled: {COURT_WATCH}")
    assert "was cancelled" in shown(notice)
    assert ws.campaign(COURT_WATCH)["fields"]["Status"] == "Cancelled"

    since = ws.seq
    run()
    assert ws.writes(since) == []


def test_only_the_notify_channel_box_pings_a_channel(ws: Workspace, clock: Clock) -> None:
    ws.set("Campaigns", ws.campaign(CLINIC), **{"Send at": "2026-01-01T15:00:00.000Z"})
    run()
    [clinic] = ws.titled("organizing", CLINIC)
    assert clinic["blocks"][1]["text"]["text"] == "<!channel>"
    assert json.dumps(clinic["blocks"]).count("<!channel>") == 1
    [court] = ws.titled("organizing", f"Urgent: {COURT_WATCH}")
    assert "<!channel>" not in json.dumps(court)


def test_quiet_hours_hold_non_urgent_posts_until_morning(ws: Workspace, clock: Clock) -> None:
    clock.at(6, 0)
    report = run()
    assert len(ws.titled("organizing", f"Urgent: {COURT_WATCH}")) == 1  # urgent goes anyway
    assert ws.titled("organizing", MONTHLY) == []
    assert ws.messages("policy") == []  # bill alerts and reminders wait too
    assert report.counts["campaigns held for quiet hours"] == 1
    assert ws.campaign(MONTHLY)["fields"]["Status"] == "Ready"

    clock.at(8, 30)
    run()
    assert len(ws.titled("organizing", MONTHLY)) == 1
    assert len(ws.titled("organizing", f"Urgent: {COURT_WATCH}")) == 1
    assert ws.messages("policy") != []


def test_a_campaign_edited_while_being_sent_ends_up_showing_the_edit(
    ws: Workspace, clock: Clock, monkeypatch: pytest.MonkeyPatch
) -> None:
    original = alerts_module._post_campaign

    def post_then_staff_edit(run_: Any, decision: Any) -> dict:
        fields = original(run_, decision)
        if decision.campaign.title == MONTHLY:
            ws.set("Campaigns", ws.campaign(MONTHLY), Message="Short and final text.")
        if decision.campaign.title == COURT_WATCH:
            ws.set("Campaigns", ws.campaign(COURT_WATCH), Status="Cancelled")
        return fields

    monkeypatch.setattr(alerts_module, "_post_campaign", post_then_staff_edit)
    report = run()
    assert report.counts["campaigns changed while sending"] == 2
    [monthly] = ws.titled("organizing-west", MONTHLY)
    assert "Short and final text." in shown(monthly) and "edited" in monthly
    assert ws.campaign(MONTHLY)["fields"]["Status"] == "Sent"
    # Cancelled mid-send: the bot does not overwrite staff's Cancelled with Sent...
    assert ws.campaign(COURT_WATCH)["fields"]["Status"] == "Cancelled"
    monkeypatch.setattr(alerts_module, "_post_campaign", original)
    run()
    # ...and the next run turns what went out into the cancellation notice.
    assert len(ws.titled("organizing", f"Cancelled: {COURT_WATCH}")) == 1


# ---------------------------------------------------------------- exactly once
def test_a_crash_after_posting_before_recording_posts_nothing_new(
    ws: Workspace, clock: Clock
) -> None:
    polled = {n: ws.bill(n)["fields"] for n in ("SB 412", "S 3318")}
    run()
    seen = {name: len(ws.slack.messages(ws.channel(name))) for name in ("organizing", "policy")}
    threads = {m["ts"]: m.get("reply_count", 0) for m in ws.messages("organizing-southwest")}
    ledger = open_ledger()
    # The crash: every message out, none confirmed (claimed, no ts), nothing else recorded.
    with ledger.session() as session:
        session.execute(update(PostedMessage).values(state="sending", ts=None))
        session.execute(delete(BillState))
        session.execute(delete(Watermark))
    for title in (COURT_WATCH, MONTHLY):
        ws.set("Campaigns", ws.campaign(title), Status="Ready", **{"Slack messages": None})
    for number, fields in polled.items():
        ws.set(
            "Bills", ws.bill(number), **{k: fields[k] for k in ("Last action", "Last action date")}
        )

    since = ws.seq
    run()
    assert posts(ws, since) == []  # every message found again by its key: no post, no edit
    assert {n: len(ws.slack.messages(ws.channel(n))) for n in seen} == seen
    assert {
        m["ts"]: m.get("reply_count", 0) for m in ws.messages("organizing-southwest")
    } == threads
    assert ws.campaign(COURT_WATCH)["fields"]["Status"] == "Sent"
    with ledger.session() as session:
        assert session.scalar(select(func.count()).select_from(PostedMessage)) > 0


def test_slack_429s_mid_run_post_nothing_twice(ws: Workspace, clock: Clock) -> None:
    ws.box.sandbox.faults.add(kind="429", service="slack", path="chat.postMessage", count=2)
    run()
    refused = [e for e in ws.box.journal("slack") if e["status"] == 429]
    assert len(refused) == 2
    for name in ("organizing", "organizing-southeast", "organizing-west"):
        headers = [header_of(m) for m in ws.messages(name)]
        assert len(headers) == len(set(headers))
    assert len(ws.messages("organizing")) == 2


def test_a_run_overlapping_another_does_nothing(ws: Workspace, clock: Clock) -> None:
    ledger = open_ledger()
    leases = LeaseStore(ledger)
    other = Holder.new(timedelta(minutes=5))
    taken = leases.claim(alerts_module.RUN_LEASE, other, utcnow())  # a scheduled run is mid-way
    assert taken.owner == other.owner
    since = ws.seq
    report = run()
    assert report.counts == {"skipped: another run in progress": 1}
    assert ws.box.journal(since=since) == []
    # Nothing waits silently: the report says what is held, since when, taken over when.
    assert [(h.kind, h.count, h.since, h.takeover) for h in report.held] == [
        ("run", 1, taken.since, taken.until)
    ]
    assert "waiting: 1 run held by another run since" in "\n".join(report.summary_lines())
    leases.release(other)
    run()
    assert len(ws.messages("organizing")) == 2
    assert leases.outstanding() == []  # released at the end of the run


def test_a_killed_run_blocks_the_next_ones_only_for_the_lease(
    ws: Workspace, clock: Clock, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A run that died holding the alerts lease (never released) is taken over once it lapses."""
    monkeypatch.setenv("COALITION_LEASE_SECONDS", "1")
    reload_settings()
    dead = Holder.new(timedelta(seconds=1))
    LeaseStore(open_ledger()).claim(alerts_module.RUN_LEASE, dead, utcnow())
    assert run().counts == {"skipped: another run in progress": 1}
    wall.sleep(1.1)
    report = run()
    assert "skipped: another run in progress" not in report.counts and report.held == []
    assert len(ws.messages("organizing")) == 2


def test_work_held_past_twice_the_lease_alerts_ops_once(
    ws: Workspace, clock: Clock, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A run alive but stuck (it keeps renewing) for over twice the lease: #ops-alerts hears once."""
    monkeypatch.setenv("COALITION_LEASE_SECONDS", "60")
    reload_settings()
    stuck = Holder.new(timedelta(seconds=60))
    leases = LeaseStore(open_ledger())
    leases.claim(alerts_module.RUN_LEASE, stuck, utcnow() - timedelta(minutes=3))
    leases.renew(stuck, utcnow())  # still renewing: alive, not dead
    for _ in range(2):
        report = run()
        assert report.held and report.held[0].overdue
    told = [
        m for m in ws.messages("ops-alerts") if "held by one run since" in (m.get("text") or "")
    ]
    assert len(told) == 1


def test_a_field_renamed_between_runs_is_read_from_the_schema_afresh(
    ws: Workspace, clock: Clock
) -> None:
    run()
    ws.airtable.update_field(ws.base, "Bills", "Error", {"name": "Bot notes"})
    ws.set("Bills", ws.bill("HB 777"), Status="In committee")
    since = ws.seq
    report = run()
    assert report.errors == []
    assert len(ws.titled("policy", "Florida HB 777 moved: a bill we oppose")) == 1
    answers = [(e["status"], e["path"]) for e in ws.box.journal("airtable", since=since)]
    assert all(status < 400 for status, _ in answers)  # each run reads the schema it uses


# ---------------------------------------------------------------- errors per item
def test_bad_records_are_marked_the_rest_goes_out_and_ops_hear_once(
    ws: Workspace, clock: Clock
) -> None:
    ws.set("Campaigns", ws.campaign(COURT_WATCH), Channels=["organizing", "no-such-channel"])
    [no_time] = ws.add(
        "Campaigns",
        [{"Title": "Rally", "Message": "Come", "Channels": ["organizing"], "Status": "Ready"}],
    )
    ws.set("Bills", ws.bill("HB 1470"), Channel="nowhere")  # last action 3 days ago: would alert
    ws.set("Bills", ws.bill("HB 916"), Position="Maybe")

    report = run()
    assert sorted(e.item.split(" (")[0] for e in report.errors) == sorted(
        [
            f"campaign {ws.campaign(COURT_WATCH)['id']}",
            f"campaign {no_time['id']}",
            f"bill {ws.bill('HB 1470')['id']}",
            f"bill {ws.bill('HB 916')['id']}",
        ]
    )
    assert "no Slack channel #no-such-channel" in ws.campaign(COURT_WATCH)["fields"]["Error"]
    assert ws.campaign(COURT_WATCH)["fields"]["Status"] == "Ready"
    assert "Send at is empty" in ws.campaign("Rally")["fields"]["Error"]
    assert "#nowhere" in ws.bill("HB 1470")["fields"]["Error"]
    assert "Position must be" in ws.bill("HB 916")["fields"]["Error"]
    assert ws.titled("organizing", f"Urgent: {COURT_WATCH}") == []  # none of its channels
    assert len(ws.titled("organizing", MONTHLY)) == 1  # the others went out
    [summary] = ws.messages("ops-alerts")
    assert "4 items could not be sent" in header_of(summary)
    assert "no-such-channel" in shown(summary)

    since = ws.seq
    run()
    assert ws.writes(since) == []  # same errors: no new summary, no Error rewrite
    assert len(ws.messages("ops-alerts")) == 1

    ws.set("Campaigns", ws.campaign(COURT_WATCH), Channels=["organizing"])
    run()
    assert len(ws.titled("organizing", f"Urgent: {COURT_WATCH}")) == 1
    fields = ws.campaign(COURT_WATCH)["fields"]
    assert "Error" not in fields and fields["Status"] == "Sent"


# ---------------------------------------------------------------- bills
def test_first_run_alerts_only_bills_that_moved_this_week_and_reminds_hearings_once(
    ws: Workspace, clock: Clock
) -> None:
    run()
    policy = {header_of(m) for m in ws.messages("policy")}
    assert "Massachusetts H 4470: now tracking a bill we support" in policy  # 7 days ago
    assert "Washington HB 1470: now watching this bill" in policy  # 3 days ago
    assert not any("HB 777" in h or "SB 1550" in h for h in policy)  # 35 and 9 days ago
    assert "Hearing tomorrow: Texas HB 2417, a bill we support" in policy
    # SB 412 moved (first sight, this week): its alert starts the thread, the reminder joins it.
    [sb412] = [m for m in ws.messages("organizing-southwest") if "SB 412" in header_of(m)]
    assert header_of(sb412) == "Texas SB 412 moved: a bill we oppose"
    assert "Last action: Reported favorably from committee -> Placed on House calendar" in shown(
        sb412
    )
    [_, reminder] = ws.thread("organizing-southwest", sb412["ts"])
    assert header_of(reminder) == "Hearing in 3 days: Texas SB 412, a bill we oppose"
    # AB 1189's hearing is past: its first-sight alert, no reminder.
    [ab1189] = ws.messages("organizing-west")[-1:]
    assert "AB 1189" in header_of(ab1189) and not ab1189.get("reply_count")

    since = ws.seq
    run()
    assert posts(ws, since) == []

    clock.at(12, days=2)  # two days on: SB 412's hearing is tomorrow, HB 2417's was yesterday
    since = ws.seq
    run()
    assert posts(ws, since) == ["chat.postMessage"]
    thread = ws.thread("organizing-southwest", sb412["ts"])
    assert header_of(thread[-1]) == "Hearing tomorrow: Texas SB 412, a bill we oppose"


def test_a_changed_bill_alerts_once_worded_by_position_and_later_changes_go_in_its_thread(
    ws: Workspace, clock: Clock
) -> None:
    run()
    top_level = len(ws.messages("policy"))
    ws.set("Bills", ws.bill("HB 777"), Status="In committee")
    since = ws.seq
    run()
    assert posts(ws, since) == ["chat.postMessage"]
    [alert] = ws.titled("policy", "Florida HB 777 moved: a bill we oppose")
    assert "Status: Introduced -> In committee" in shown(alert)
    assert "We oppose this bill" in shown(alert)

    since = ws.seq
    run()
    assert posts(ws, since) == []

    ws.set("Bills", ws.bill("HB 777"), Status="Passed House")
    run()
    ws.set("Bills", ws.bill("HB 777"), Status="In committee")  # and back: a real change too
    run()
    thread = ws.thread("policy", alert["ts"])
    assert [c for m in thread[1:] for c in shown(m).splitlines() if c.startswith("• ")] == [
        "• Status: In committee -> Passed House",
        "• Status: Passed House -> In committee",
    ]
    assert len(ws.messages("policy")) == top_level + 1
    with open_ledger().session() as session:
        state = session.get(BillState, ws.bill("HB 777")["id"])
        assert state.changes == 3 and state.thread_ts == alert["ts"]


# ---------------------------------------------------------------- Open States
def test_open_states_updates_bills_alerts_on_a_new_action_only_and_adds_matches_for_review(
    ws: Workspace, clock: Clock
) -> None:
    run()
    [first] = ws.box.journal("openstates")
    query = parse_qs(first["query"])
    assert query["include"] == ["actions"] and query["per_page"] == ["20"]
    assert query["q"] == ["immigration"]
    assert query["updated_since"] == [(clock.now - timedelta(days=7)).date().isoformat()]
    s3318 = ws.bill("S 3318")["fields"]
    assert (s3318["Last action"], s3318["Last action date"]) == (
        "Reported to Finance",
        (clock.day - timedelta(days=2)).isoformat(),
    )
    [alert] = ws.titled("policy", "New York S 3318 moved: a bill we support")
    assert "Last action: Referred to Judiciary -> Reported to Finance" in shown(alert)

    os_bills = {b["identifier"]: b for b in ws.openstates.bills()}
    ws.openstates.update_bill(os_bills["S 3318"]["id"], title="Access to counsel act")
    since = ws.seq
    run()
    assert ws.writes(since) == []  # updated_at moved, the latest action did not
    [again] = ws.box.journal("openstates", since=since)
    assert " " in parse_qs(again["query"])["updated_since"][0]  # the server's text form

    ws.openstates.add_action(
        os_bills["HB 2417"]["id"], "Reported from committee", clock.day.isoformat()
    )
    ws.openstates.add_bill(
        {
            "identifier": "HB 4100",
            "title": "Immigration consultant licensing",
            "jurisdiction": "tx",
            "session": "89",
            "latest_action_description": "Filed",
            "latest_action_date": clock.day.isoformat(),
        }
    )
    since = ws.seq
    run()
    hb2417 = ws.bill("HB 2417")["fields"]
    assert hb2417["Last action"] == "Reported from committee"
    [reminder] = ws.titled("policy", "Hearing tomorrow: Texas HB 2417, a bill we support")
    [_, update] = ws.thread("policy", reminder["ts"])
    assert "Last action: Referred to State Affairs -> Reported from committee" in shown(update)
    new = ws.bill("HB 4100")["fields"]
    assert new["Status"] == "Needs review" and "Position" not in new
    assert not any("HB 4100" in shown(m) for n in ("policy",) for m in ws.messages(n))
    with open_ledger().session() as session:
        marks = session.scalars(select(Watermark.value)).all()
    assert marks and all(m.endswith("+00") for m in marks)


def test_a_refused_open_states_key_is_reported_and_the_rest_of_the_run_goes_on(
    ws: Workspace, clock: Clock
) -> None:
    ws.openstates.set_api_keys({"the-real-key"})  # ours is not it: 401
    report = run()
    [error] = report.errors
    assert error.item == "openstates immigration" and "HTTP 401" in error.error
    assert len(ws.messages("organizing")) == 2  # campaigns and bills still go out
    assert ws.bill("S 3318")["fields"]["Last action"] == "Referred to Judiciary"
    [summary] = ws.messages("ops-alerts")
    assert "OPENSTATES_API_KEY" in shown(summary)
    with open_ledger().session() as session:  # nothing polled: the next run asks again
        assert session.scalars(select(Watermark)).all() == []


# ---------------------------------------------------------------- plan mode
def test_a_dry_run_reads_everything_and_writes_nothing(ws: Workspace, clock: Clock) -> None:
    since = ws.seq
    report = run(dry_run=True)
    assert ws.writes(since) == []
    assert {e["service"] for e in ws.box.journal(since=since)} >= {
        "airtable",
        "slack",
        "openstates",
    }
    plan = "\n".join(report.plan)
    assert "#organizing: 2 campaign posts" in plan
    assert "#policy:" in plan and "bill alert" in plan and "hearing reminder" in plan
    assert "Campaigns: 2 status changes" in plan
    assert "Bills: 2 updates from Open States" in plan
    for private in (COURT_WATCH, MONTHLY, "SB 412", "Placed on House calendar"):
        assert private not in plan
    with open_ledger().session() as session:
        assert session.scalar(select(func.count()).select_from(PostedMessage)) == 0
        assert session.scalar(select(func.count()).select_from(BillState)) == 0
        assert session.scalar(select(func.count()).select_from(Watermark)) == 0

    real = run()
    assert real.counts["campaign messages posted"] == 6
    assert not [line for line in run(dry_run=True).plan if line.startswith("#")]


# ---------------------------------------------------------------- scale
def test_200_bills_20_changed_cost_two_lists_two_writes_twenty_posts_and_no_429(
    ws: Workspace, clock: Clock, monkeypatch: pytest.MonkeyPatch
) -> None:
    old = (clock.day - timedelta(days=60)).isoformat()
    extra = [
        {
            "Bill": f"HB {3000 + i}",
            "Jurisdiction": "Ohio",
            "Title": f"Immigration bill {i}",
            "Position": "Watch",
            "Status": "Introduced",
            "Last action": "Filed",
            "Last action date": old,
        }
        for i in range(200 - len(ws.records("Bills")))
    ]
    ws.add("Bills", extra)
    box = ws.box.sandbox
    box.limiter.enabled = True  # the documented limits, 50x faster, on both sides
    box.clock.scale = 50.0
    monkeypatch.setenv("COALITION_TIME_SCALE", "50")
    reload_settings()
    run()
    for i in range(20):
        ws.openstates.add_bill(
            {
                "identifier": f"HB {3000 + i}",
                "title": f"Immigration bill {i}",
                "jurisdiction": "oh",
                "latest_action_description": "Passed committee",
                "latest_action_date": clock.day.isoformat(),
            }
        )

    since = ws.seq
    run()
    entries = ws.box.journal(since=since)
    bills_path = [e for e in entries if e["service"] == "airtable" and "Bills" in e["path"]]
    lists = [e for e in bills_path if e["method"] == "GET"]
    writes = [e for e in bills_path if e["method"] == "PATCH"]
    assert len(lists) == 2  # ceil(200 / 100)
    assert len(writes) == 2  # ceil(20 / 10)
    assert [e["path"] for e in entries if e["path"] == "/api/chat.postMessage"] == [
        "/api/chat.postMessage"
    ] * 20
    assert [e for e in entries if e["status"] == 429] == []
    assert len(ws.titled("policy", "Ohio HB 3000 changed: a bill we are watching")) == 1


# ---------------------------------------------------------------- as Prefect runs it
def test_the_prefect_flow_runs_and_nothing_personal_reaches_slack_or_the_report(
    ws: Workspace, clock: Clock, prefect_api: str
) -> None:
    from sandbox.seed.apply import personal_values

    report = alerts(dry_run=False)  # on the test run's Prefect server
    assert report.flow == "alerts" and report.counts["campaigns sent"] == 2
    values = personal_values(ws.box.sandbox)
    assert values  # the demo's people are there to leak
    said = [report.markdown()] + [json.dumps(m) for m in ws.slack.all_messages()]
    assert [v for v in values if any(v in text for text in said)] == []
    assert COURT_WATCH not in report.markdown()
