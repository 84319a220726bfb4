"""The Slack app, served over HTTP and driven only through the sandbox's Slack side, as people use it.

Every test sends signed slash commands, clicks and modal submissions through
/_sandbox/slack/* and asserts on what people see in the sandbox's Slack (messages,
ephemerals, response_url answers), on the ledger and on the Intake sheet.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest
from intake_helpers import intake_records, seed_partner_directory
from sqlalchemy import select

from bot.app import create_runtime
from bot.data import audit_entries
from bot.flowruns import FlowRunner
from bot.latency import measure_ack_latency
from bot.runtime import BotRuntime
from bot.server import RunningBot, start_in_thread
from coalition.ledger import open_ledger
from coalition.ledger.tables.intake import Referral, ReferralEvent
from coalition.ledger.tables.summary import SummaryDocument
from coalition.settings import reload_settings, settings
from flows.intake_routing import run_routing
from integrations.slack import forget_channels
from sandbox.seed import roster
from sandbox.seed.apply import personal_values

STAFF = roster.STAFF[0].user_id  # intake coordinator
POLICY_STAFF = roster.STAFF[1].user_id
ADMIN = roster.ADMINS[0].user_id


# ------------------------------------------------------------------ fake flows for `run` and `summary`
@dataclass
class FakeEntry:
    """A registry entry whose flow is a plain function (real Prefect runs are covered elsewhere)."""

    name: str
    function: Callable[..., Any]

    def load(self) -> Callable[..., Any]:
        return self.function


@dataclass
class FakeReport:
    lines: list[str]

    def summary_lines(self) -> list[str]:
        return self.lines


@dataclass
class FlowCalls:
    calls: list[tuple[str, dict[str, Any]]] = field(default_factory=list)
    release: threading.Event = field(default_factory=threading.Event)


def fake_registry(calls: FlowCalls) -> dict[str, FakeEntry]:
    def roster_sync(**params: Any) -> FakeReport:
        calls.calls.append(("roster-sync", params))
        return FakeReport(["roster-sync: members 40, directory rows 40"])

    def weekly_summary(week: str) -> FakeReport:
        calls.calls.append(("weekly-summary", {"week": week}))
        calls.release.wait(20)
        with open_ledger().session() as session:
            session.merge(
                SummaryDocument(
                    week=week, document_id="doc1", url=f"https://docs.google.com/document/d/doc-{week}"
                )
            )
        return FakeReport([f"weekly-summary: week {week}"])

    def broken(**params: Any) -> None:
        calls.calls.append(("alerts", params))
        raise RuntimeError("Airtable said no")

    return {
        "roster-sync": FakeEntry("roster-sync", roster_sync),
        "weekly-summary": FakeEntry("weekly-summary", weekly_summary),
        "alerts": FakeEntry("alerts", broken),
    }


# ------------------------------------------------------------------ the running app
@dataclass
class Bot:
    handle: Any
    running: RunningBot
    runtime: BotRuntime
    flows: FlowCalls
    partners: dict[str, dict[str, Any]]
    partner_users: dict[str, list[str]]  # partner slug -> its Slack users

    @property
    def url(self) -> str:
        return self.running.url

    @property
    def slack(self) -> Any:
        return self.handle.services["slack"]

    def channel_id(self, name: str) -> str:
        return self.slack.resolve_channel(name)

    def settle(self) -> None:
        assert self.runtime.wait_idle(120), "background work did not finish"

    def control(self, endpoint: str, body: dict[str, Any]) -> dict[str, Any]:
        reply = self.handle.http.post(f"/_sandbox/slack/{endpoint}", json=body)
        assert reply.status_code == 200, reply.text
        return reply.json()

    def slash(self, text: str, user: str = STAFF, channel: str = "intake-triage", **extra: Any) -> dict:
        body = {"app_url": self.url, "text": text, "user": user, "channel": channel, **extra}
        result = self.control("command", body)
        self.settle()
        return result

    def click(
        self, user: str, channel: str, ts: str, action_id: str, value: str | None = None, **extra: Any
    ) -> dict:
        body = {
            "app_url": self.url,
            "user": user,
            "channel": channel,
            "message_ts": ts,
            "action_id": action_id,
            **extra,
        }
        if value is not None:
            body["value"] = value
        result = self.control("action", body)
        self.settle()
        return result

    def submit(self, view_id: str, user: str, values: dict[str, Any]) -> dict:
        body = {"app_url": self.url, "view_id": view_id, "user": user, "values": values}
        result = self.control("submit", body)
        self.settle()
        return result

    def seen_by(self, user: str, channel: str) -> list[dict[str, Any]]:
        """What `user` sees in a channel: its messages and the ephemerals shown to them."""
        messages = self.slack.messages(self.channel_id(channel), include_ephemeral=True)
        return [m for m in messages if not m.get("is_ephemeral") or m.get("visible_to") == user]

    def answers_to(self, user: str, channel: str) -> list[str]:
        """Texts of the ephemerals `user` got in `channel` (oldest first)."""
        return [
            message_text(m)
            for m in self.slack.messages(self.channel_id(channel), include_ephemeral=True)
            if m.get("is_ephemeral") and m.get("visible_to") == user
        ]

    def last_answer(self, user: str, channel: str) -> str:
        answers = self.answers_to(user, channel)
        assert answers, "no answer was shown"
        return answers[-1]

    def bot_messages(self, channel: str) -> list[dict[str, Any]]:
        return [
            m
            for m in self.slack.messages(self.channel_id(channel))
            if m.get("bot_id") and not m.get("is_ephemeral")
        ]


def message_text(message: dict[str, Any]) -> str:
    """Everything a person reads in a message: its text and every text in its blocks."""
    parts = [message.get("text") or ""]

    def walk(value: Any) -> None:
        if isinstance(value, dict):
            if isinstance(value.get("text"), str):
                parts.append(value["text"])
            for key, item in value.items():
                if key != "text":
                    walk(item)
        elif isinstance(value, list):
            for item in value:
                walk(item)

    walk(message.get("blocks") or [])
    return "\n".join(parts)


def partner_slack_users(handle: Any) -> dict[str, list[str]]:
    """Each legal-aid partner's own Slack users: its referral channel's members, staff and bot aside."""
    slack = handle.services["slack"]
    staff = {p.user_id for p in (*roster.STAFF, *roster.ADMINS)} | {slack.bot_user_id}
    users = {}
    for spec in roster.LEGAL_AID_MEMBERS:
        channel = slack.channels[slack.resolve_channel(spec.referral_channel)]
        users[spec.slug] = sorted(set(channel["members"]) - staff)
    return users


@pytest.fixture
def bot(demo: Any, monkeypatch: pytest.MonkeyPatch) -> Iterator[Bot]:
    monkeypatch.setenv("COALITION_TIME_SCALE", "50")  # Slack's 1 message/s/channel pacing, sped up
    monkeypatch.delenv("PREFECT_API_URL", raising=False)
    reload_settings()
    forget_channels()
    users = partner_slack_users(demo)
    partners = seed_partner_directory(
        demo, **{slug: {"slack_users": list(ids)} for slug, ids in users.items()}
    )
    calls = FlowCalls()
    runner = FlowRunner(registry=fake_registry(calls), api_url="")
    runtime = create_runtime(settings(), runner=runner)
    running = start_in_thread(runtime)
    yield Bot(demo, running, runtime, calls, partners, users)
    calls.release.set()
    runtime.wait_idle(60)
    running.stop()


# ------------------------------------------------------------------ help, malformed and hostile text
def test_help_lists_what_each_role_may_do(bot: Bot) -> None:
    result = bot.slash("help", user=STAFF)
    assert result["ok"] and result["status"] == 200 and result["elapsed_ms"] < 3000
    staff_help = bot.last_answer(STAFF, "intake-triage")
    assert "/coalition why INTAKE-ID" in staff_help and "/coalition run FLOW" not in staff_help
    bot.slash("", user=ADMIN)
    assert "/coalition run FLOW" in bot.last_answer(ADMIN, "intake-triage")
    partner = bot.partner_users["riverbend"][0]
    bot.slash("help", user=partner, channel="ref-riverbend")
    partner_help = bot.last_answer(partner, "ref-riverbend")
    assert "/coalition referral" in partner_help and "/coalition intake" not in partner_help
    # Nobody else sees any of these answers.
    assert all(m.get("visible_to") in {STAFF, ADMIN, None} for m in bot.seen_by(STAFF, "intake-triage"))
    assert bot.bot_messages("intake-triage") == []


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("frobnicate", "did not recognise"),
        ("referral", "needs a Referral ID"),
        ("referral REF-NOT-AN-ID", "needs a Referral ID"),
        ("intake month", "takes `today` or `week`"),
        ("summary 2026-W60", "ISO week"),
        ("why nothing", "needs an Intake ID"),
        ("x" * 10_000, "far longer than any command"),
    ],
)
def test_unknown_or_malformed_text_answers_with_help(bot: Bot, text: str, expected: str) -> None:
    bot.slash(text)
    answer = bot.last_answer(STAFF, "intake-triage")
    assert expected in answer and "Commands you can use" in answer
    assert "x" * 100 not in answer


def test_mentions_and_mrkdwn_in_typed_text_never_ping(bot: Bot) -> None:
    for text in ("member <!channel> & <@U0DEMOADM01>", "bill <!here|here>", "referral <!everyone>"):
        bot.slash(text)
    log = bot.handle.http.get("/_sandbox/slack/log").json()["messages"]
    shown = json.dumps(log)
    assert "<!channel>" not in shown and "<!here" not in shown and "<!everyone>" not in shown
    assert "<@U0DEMOADM01>" not in shown
    assert "&lt;!channel&gt;" in shown


# ------------------------------------------------------------------ forged and replayed requests
def test_forged_and_replayed_requests_get_401_and_do_nothing(bot: Bot) -> None:
    before = len(audit_entries(bot.runtime.ledger))
    forged = bot.slash("intake week", bad_signature=True)
    wrong_secret = bot.slash("intake week", signing_secret="not-our-secret")
    replayed = bot.slash("intake week", timestamp=int(time.time()) - 6 * 60)
    assert [forged["status"], wrong_secret["status"], replayed["status"]] == [401, 401, 401]
    assert bot.answers_to(STAFF, "intake-triage") == []
    assert len(audit_entries(bot.runtime.ledger)) == before
    # A signed, fresh request still works.
    assert bot.slash("intake week")["status"] == 200
    assert "Intake this week" in bot.last_answer(STAFF, "intake-triage")
