"""The Slack app, served over HTTP and driven only through the sandbox's Slack side, as people use it.

Every test sends signed slash commands, clicks and modal submissions through
/_sandbox/slack/* and asserts on what people see in the sandbox's Slack (messages,
ephemerals, response_url answers), on the ledger and on the Intake sheet.
"""

from __future__ import annotations

import json
import logging
import shutil
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import pytest
from intake_helpers import intake_records, seed_partner_directory
from sqlalchemy import select

from bench.latency import measure_ack_latency
from bot.app import create_runtime
from bot.data import audit_entries
from bot.flowruns import FlowRunner
from bot.runtime import BotRuntime
from bot.server import RunningBot, start_in_thread
from coalition.intake.sheet_rows import STATUS_TEXT
from coalition.ledger import open_ledger
from coalition.ledger.tables.intake import IntakeRecord, Referral, ReferralEvent
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
                    week=week,
                    document_id="doc1",
                    url=f"https://docs.google.com/document/d/doc-{week}",
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

    def slash(
        self, text: str, user: str = STAFF, channel: str = "intake-triage", **extra: Any
    ) -> dict:
        body = {"app_url": self.url, "text": text, "user": user, "channel": channel, **extra}
        result = self.control("command", body)
        self.settle()
        return result

    def click(
        self,
        user: str,
        channel: str,
        ts: str,
        action_id: str,
        value: str | None = None,
        **extra: Any,
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
                if not (key == "text" and isinstance(item, str)):
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
    assert all(
        m.get("visible_to") in {STAFF, ADMIN, None} for m in bot.seen_by(STAFF, "intake-triage")
    )
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


# ------------------------------------------------------------------ referrals: accept, decline, re-route
def route(bot: Bot) -> list[Referral]:
    """One intake routing run over the demo's intake sheet; the referrals it made."""
    run_routing(publish_report=False)
    return referrals()


def referrals() -> list[Referral]:
    with open_ledger().session() as session:
        return list(session.scalars(select(Referral).order_by(Referral.referral_id)))


def referral(referral_id: str) -> Referral:
    with open_ledger().session() as session:
        return session.get(Referral, referral_id)


def events(referral_id: str) -> list[tuple[str, str | None]]:
    with open_ledger().session() as session:
        rows = session.execute(
            select(ReferralEvent.event, ReferralEvent.actor)
            .where(ReferralEvent.referral_id == referral_id)
            .order_by(ReferralEvent.id)
        )
        return [tuple(r) for r in rows]


def slug_of(bot: Bot, partner_id: str) -> str:
    channel = bot.partners[partner_id]["referral_channel"]
    return channel.removeprefix("ref-")


def single_notice(bot: Bot, refs: list[Referral], skip: set[str] = frozenset()) -> Referral:
    """A referral announced by its own notice (not a digest), whose partner has Slack users."""
    for ref in refs:
        slug = slug_of(bot, ref.partner_id)
        if (
            ref.notice_key == f"referral:{ref.referral_id}"
            and bot.partner_users[slug]
            and slug not in skip
        ):
            return ref
    raise AssertionError("the demo routed no single referral notice")


def intake_row(bot: Bot, intake_id: str) -> dict[str, str]:
    return next(r for r in intake_records(bot.handle) if r["Intake ID"] == intake_id)


def notice(bot: Bot, ref: Referral) -> dict[str, Any]:
    return next(m for m in bot.slack.messages(ref.slack_channel) if m["ts"] == ref.slack_ts)


def buttons_of(message: dict[str, Any]) -> list[str]:
    found = []
    for block in message.get("blocks") or []:
        for element in [*(block.get("elements") or []), block.get("accessory") or {}]:
            if isinstance(element, dict) and element.get("action_id"):
                found.append(element["action_id"])
    return found


def test_accept_closes_the_loop_in_slack_the_ledger_and_the_intake_sheet(bot: Bot) -> None:
    ref = single_notice(bot, route(bot))
    slug = slug_of(bot, ref.partner_id)
    user = bot.partner_users[slug][0]
    assert intake_row(bot, ref.intake_id)["Status"] == STATUS_TEXT["referred"]
    result = bot.click(user, ref.slack_channel, ref.slack_ts, "referral_accept")
    assert result["status"] == 200 and result["elapsed_ms"] < 3000
    assert referral(ref.referral_id).state == "accepted"
    assert referral(ref.referral_id).decided_by == user
    assert events(ref.referral_id)[-1] == ("accepted", user)
    assert intake_row(bot, ref.intake_id)["Status"] == STATUS_TEXT["accepted"]
    shown = notice(bot, ref)
    assert buttons_of(shown) == []
    assert f"Accepted* by <@{user}>" in message_text(shown)
    assert "You accepted" in bot.last_answer(user, f"ref-{slug}")
    [entry] = [e for e in audit_entries(bot.runtime.ledger) if e.action == "click:referral_accept"]
    assert (entry.actor, entry.role, entry.target, entry.allowed) == (
        user,
        "partner",
        ref.referral_id,
        True,
    )


def test_a_double_click_on_accept_acts_once(bot: Bot) -> None:
    ref = single_notice(bot, route(bot))
    user = bot.partner_users[slug_of(bot, ref.partner_id)][0]
    body = {
        "app_url": bot.url,
        "user": user,
        "channel": ref.slack_channel,
        "message_ts": ref.slack_ts,
        "action_id": "referral_accept",
    }
    threads = [threading.Thread(target=bot.control, args=("action", body)) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    bot.settle()
    assert [e for e in events(ref.referral_id) if e[0] == "accepted"] == [("accepted", user)]
    answers = bot.answers_to(user, ref.slack_channel)
    assert sum("You accepted" in a for a in answers) == 1
    assert sum("already accepted" in a for a in answers) == 1
    assert message_text(notice(bot, ref)).count("Accepted* by") == 1


def test_decline_asks_for_a_reason_then_reroutes_the_case(bot: Bot) -> None:
    ref = single_notice(bot, route(bot))
    slug = slug_of(bot, ref.partner_id)
    user = bot.partner_users[slug][0]
    bot.click(user, ref.slack_channel, ref.slack_ts, "referral_decline")
    assert referral(ref.referral_id).state == "notified"  # nothing decided before the reason
    view = bot.slack.top_view(user)
    assert view is not None and view["callback_id"] == "referral_decline_reason"
    result = bot.submit(view["id"], user, {"reason": {"value": "no_capacity"}})
    assert result["outcome"] == "closed"
    declined = referral(ref.referral_id)
    assert (declined.state, declined.decline_reason, declined.decided_by) == (
        "declined",
        "no_capacity",
        user,
    )
    with open_ledger().session() as session:
        attempts = list(
            session.scalars(select(Referral).where(Referral.intake_id == ref.intake_id))
        )
    row = intake_row(bot, ref.intake_id)
    assert row["Referral ID"] != ref.referral_id
    assert row["Status"] != STATUS_TEXT["referred"] or len(attempts) == 2
    shown = message_text(notice(bot, ref))
    assert "Declined* by" in shown and "No capacity right now" in shown
    assert buttons_of(notice(bot, ref)) == []
    assert "You declined" in bot.last_answer(user, f"ref-{slug}")


def test_a_partner_clicking_another_partners_button_is_refused(bot: Bot) -> None:
    refs = route(bot)
    ref = single_notice(bot, refs)
    owner = slug_of(bot, ref.partner_id)
    other = next(s for s, users in bot.partner_users.items() if users and s != owner)
    intruder = bot.partner_users[other][0]
    bot.slack.add_member(ref.slack_channel, intruder)  # e.g. both invited to a shared channel
    bot.click(intruder, ref.slack_channel, ref.slack_ts, "referral_accept")
    assert referral(ref.referral_id).state == "notified"
    assert "belongs to another organization" in bot.last_answer(intruder, ref.slack_channel)
    assert "referral_accept" in buttons_of(notice(bot, ref))
    [entry] = [e for e in audit_entries(bot.runtime.ledger) if e.actor == intruder]
    assert (entry.action, entry.allowed, entry.detail) == (
        "click:referral_accept",
        False,
        {"reason": "not_yours"},
    )


def test_a_click_after_the_referral_was_rerouted_changes_nothing(bot: Bot) -> None:
    from coalition.ledger import utcnow
    from coalition.ledger.referrals import ReferralStore

    ref = single_notice(bot, route(bot))
    user = bot.partner_users[slug_of(bot, ref.partner_id)][0]
    assert ReferralStore(open_ledger()).expire(
        ref.referral_id, utcnow()
    )  # the follow-up flow's doing
    bot.click(user, ref.slack_channel, ref.slack_ts, "referral_accept")
    assert referral(ref.referral_id).state == "expired"
    assert "expired without an answer" in bot.last_answer(user, ref.slack_channel)
    assert "re-routed" in bot.last_answer(user, ref.slack_channel)
    assert buttons_of(notice(bot, ref)) == []


def test_a_digest_line_is_answered_from_its_menu(bot: Bot) -> None:
    refs = route(bot)
    first_digest = next(r for r in refs if (r.notice_key or "").startswith("referral-digest:"))
    listed = [
        str(b["block_id"]).removeprefix("referral:")
        for b in notice(bot, first_digest)["blocks"]
        if str(b.get("block_id", "")).startswith("referral:")
    ]
    # The sandbox clicks the first menu with this action_id: the digest's first line.
    first, rest = listed[0], listed[1:]
    user = bot.partner_users[slug_of(bot, first_digest.partner_id)][0]
    bot.click(
        user,
        first_digest.slack_channel,
        first_digest.slack_ts,
        "referral_decide",
        f"accept:{first}",
    )
    assert referral(first).state == "accepted"
    assert {referral(r).state for r in rest} == {"notified"}
    lines = {b.get("block_id"): b for b in notice(bot, first_digest)["blocks"]}
    assert f"referral:{first}" not in lines and "accessory" not in lines[f"referral:{first}:done"]
    assert "Accepted* by" in message_text({"blocks": [lines[f"referral:{first}:done"]]})
    assert all("accessory" in lines[f"referral:{r}"] for r in rest)


def test_referral_command_shows_a_partner_only_its_own(bot: Bot) -> None:
    refs = route(bot)
    ref = single_notice(bot, refs)
    slug = slug_of(bot, ref.partner_id)
    user = bot.partner_users[slug][0]
    other = next(r for r in refs if r.partner_id != ref.partner_id)
    bot.slash(f"referral {ref.referral_id.lower()}", user=user, channel=f"ref-{slug}")
    answer = bot.last_answer(user, f"ref-{slug}")
    assert f"Referral {ref.referral_id}" in answer and "waiting for the partner's answer" in answer
    bot.slash(f"referral {other.referral_id}", user=user, channel=f"ref-{slug}")
    refused = bot.last_answer(user, f"ref-{slug}")
    bot.slash("referral REF-0000000000-1", user=user, channel=f"ref-{slug}")
    unknown = bot.last_answer(user, f"ref-{slug}")
    assert (
        "among your organization's referrals" in refused
        and "among your organization's referrals" in unknown
    )
    assert other.referral_id in refused and bot.partners[other.partner_id]["name"] not in refused
    bot.slash(f"referral {other.referral_id}")
    assert f"Referral {other.referral_id}" in bot.last_answer(STAFF, "intake-triage")
    reasons = [
        (e.target, e.allowed, (e.detail or {}).get("reason"))
        for e in audit_entries(bot.runtime.ledger)
    ]
    assert (other.referral_id, False, "not_yours") in reasons
    assert ("REF-0000000000-1", True, "unknown_referral") in reasons


# ------------------------------------------------------------------ approvals (routing.mode: approve)
@pytest.fixture
def approvals(bot: Bot, tmp_path: Any, monkeypatch: pytest.MonkeyPatch) -> Bot:
    """Routing in approve mode: the demo's cases wait in #intake-triage for staff."""
    folder = tmp_path / "config"
    shutil.copytree(settings().config_dir, folder)
    routing = folder / "routing.yaml"
    routing.write_text(routing.read_text().replace("mode: auto", "mode: approve"))
    monkeypatch.setenv("COALITION_CONFIG_DIR", str(folder))
    reload_settings()
    run_routing(publish_report=False)
    return bot


def approval_request(bot: Bot) -> dict[str, Any]:
    return next(
        m
        for m in bot.bot_messages("intake-triage")
        if any(
            b.get("block_id") in {"suggestions", "suggestions:done"} for b in m.get("blocks") or []
        )
    )


def suggestions(message: dict[str, Any], open_only: bool = True) -> list[str]:
    return [
        str(b["block_id"]).removeprefix("suggestion:")
        for b in message["blocks"]
        if str(b.get("block_id", "")).startswith("suggestion:")
        and (b.get("accessory") or not open_only)
    ]


def intake(intake_id: str) -> IntakeRecord:
    with open_ledger().session() as session:
        return session.get(IntakeRecord, intake_id)


def referrals_of(intake_id: str) -> list[Referral]:
    return [r for r in referrals() if r.intake_id == intake_id]


def test_staff_approve_sends_the_case_once_and_marks_the_request(approvals: Bot) -> None:
    bot = approvals
    request = approval_request(bot)
    first = suggestions(request)[0]
    assert intake(first).status == "suggested" and referrals_of(first) == []
    body = {
        "app_url": bot.url,
        "user": STAFF,
        "channel": "intake-triage",
        "message_ts": request["ts"],
        "action_id": "intake_approve",
    }
    threads = [threading.Thread(target=bot.control, args=("action", body)) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    bot.settle()
    [sent] = referrals_of(first)
    assert intake(first).approved_by == STAFF and intake(first).status == "referred"
    partner_channel = bot.partners[sent.partner_id]["referral_channel"]
    assert any(sent.referral_id in message_text(m) for m in bot.bot_messages(partner_channel))
    assert intake_row(bot, first)["Status"] == STATUS_TEXT["referred"]
    updated = approval_request(bot)
    assert first not in suggestions(updated) and suggestions(updated) == suggestions(request)[1:]
    done = next(b for b in updated["blocks"] if b.get("block_id") == f"suggestion:{first}:done")
    settled = message_text({"blocks": [done]})
    assert f"Approved* by <@{STAFF}>" in settled and sent.referral_id in settled
    answers = bot.answers_to(STAFF, "intake-triage")
    assert sum(f"*{first}* approved" in a for a in answers) == 1
    assert sum(f"*{first}* not approved" in a for a in answers) == 1


def test_a_partner_cannot_approve_and_nothing_is_sent(approvals: Bot) -> None:
    bot = approvals
    request = approval_request(bot)
    first = suggestions(request)[0]
    partner = bot.partner_users["riverbend"][0]
    bot.slack.add_member(bot.channel_id("intake-triage"), partner)
    bot.click(partner, "intake-triage", request["ts"], "intake_approve")
    assert intake(first).status == "suggested" and referrals_of(first) == []
    assert "Only coalition staff" in bot.last_answer(partner, "intake-triage")
    assert suggestions(approval_request(bot)) == suggestions(request)
    [entry] = [e for e in audit_entries(bot.runtime.ledger) if e.actor == partner]
    assert (entry.action, entry.role, entry.allowed) == ("click:intake_approve", "partner", False)


def test_approving_after_the_row_was_deleted_is_told_and_sends_nothing(approvals: Bot) -> None:
    bot = approvals
    request = approval_request(bot)
    first = suggestions(request)[0]
    sheets = bot.handle.services["sheets"]
    names = settings().services.sheets
    sheet_id = sheets.find_by_title(names.intake)
    values = sheets.get_values(sheet_id, names.intake_tab)
    sheets.set_values(sheet_id, names.intake_tab, [r for r in values if first not in r])
    partner_posts = {
        c: len(bot.bot_messages(c)) for c in {p["referral_channel"] for p in bot.partners.values()}
    }
    bot.click(STAFF, "intake-triage", request["ts"], "intake_approve")
    answer = bot.last_answer(STAFF, "intake-triage")
    assert first in answer and "nothing was sent: its row is gone from the Intake sheet" in answer
    assert {c: len(bot.bot_messages(c)) for c in partner_posts} == partner_posts
    assert all(r.state not in {"written", "notified"} for r in referrals_of(first))


def test_approve_all_sends_every_open_suggestion(approvals: Bot) -> None:
    bot = approvals
    request = approval_request(bot)
    listed = suggestions(request)
    bot.click(STAFF, "intake-triage", request["ts"], "intake_approve")  # the first one, alone
    bot.click(STAFF, "intake-triage", request["ts"], "intake_approve_all")
    assert {intake(i).approved_by for i in listed} == {STAFF}
    assert all(len(referrals_of(i)) <= 1 for i in listed)
    updated = approval_request(bot)
    assert suggestions(updated) == []
    assert "Every suggestion here has been answered" in message_text(updated)
    answer = bot.last_answer(STAFF, "intake-triage")
    assert listed[0] not in answer  # already approved: not offered again


def test_choose_another_partner_lists_the_other_fits_and_sends_it_there(approvals: Bot) -> None:
    bot = approvals
    request = approval_request(bot)
    bot.click(STAFF, "intake-triage", request["ts"], "intake_choose_partner")
    view = bot.slack.top_view(STAFF)
    assert view is not None and view["callback_id"] == "intake_choose_partner"
    shown = json.dumps(view["blocks"])
    assert "Other fits" in shown or "No other partner fits" in shown
    partner_input = next(b for b in view["blocks"] if b.get("block_id") == "partner")
    options = [o["value"] for o in partner_input["element"]["options"]]
    case_input = next((b for b in view["blocks"] if b.get("block_id") == "case"), None)
    cases = (
        [o["value"] for o in case_input["element"]["options"]]
        if case_input
        else suggestions(request)[:1]
    )
    chosen_case = chosen_partner = None
    for case in cases:
        suggested = intake(case).suggested_partner
        explanation = __import__(
            "flows.referral_actions", fromlist=["explain_intake"]
        ).explain_intake(case)
        fits = [
            c.partner_id for c in explanation.considered if c.fits and c.partner_id != suggested
        ]
        if fits and fits[0] in options:
            chosen_case, chosen_partner = case, fits[0]
            break
    assert chosen_case is not None, "no case with another fitting partner in the demo"
    values = {"partner": {"value": chosen_partner}}
    if case_input:
        values["case"] = {"value": chosen_case}
    # A partner that does not fit this case is refused with the reason, in the modal.
    misfit = next((o for o in options if o not in fits), None)
    if misfit is not None:
        refused = bot.submit(view["id"], STAFF, {**values, "partner": {"value": misfit}})
        assert refused["outcome"] == "errors" and "does not fit" in json.dumps(
            refused["view_errors"]
        )
        assert intake(chosen_case).status == "suggested"
    result = bot.submit(view["id"], STAFF, values)
    assert result["outcome"] == "closed"
    [sent] = referrals_of(chosen_case)
    assert (
        sent.partner_id == chosen_partner and intake(chosen_case).chosen_partner == chosen_partner
    )
    assert chosen_case not in suggestions(approval_request(bot))


def test_why_explains_a_decision_to_staff_only(approvals: Bot) -> None:
    bot = approvals
    case = suggestions(approval_request(bot))[0]
    bot.slash(f"why {case.lower()}")
    answer = bot.last_answer(STAFF, "intake-triage")
    assert case in answer and "Partners considered" in answer and "Why this partner" in answer
    partner = bot.partner_users["riverbend"][0]
    bot.slash(f"why {case}", user=partner, channel="ref-riverbend")
    assert "Only coalition staff" in bot.last_answer(partner, "ref-riverbend")
    bot.slash("why INT-0000000000")
    assert "No intake *INT-0000000000*" in bot.last_answer(STAFF, "intake-triage")


# ------------------------------------------------------------------ members, bills, intake counts
def demo_contact(bot: Bot, organization: str) -> dict[str, Any]:
    from sandbox.seed.apply import demo_data

    contacts = demo_data(bot.handle.sandbox).records["contacts"]
    return next(c for c in contacts if c["Organization"] == [organization] and c["Primary contact"])


def test_member_card_shows_a_contacts_phone_to_staff_only(bot: Bot) -> None:
    contact = demo_contact(bot, "Riverbend Immigrant Legal Aid")
    bot.slash("member riverbend")
    staff_card = bot.last_answer(STAFF, "intake-triage")
    assert "Riverbend Immigrant Legal Aid" in staff_card and "Harris" in staff_card
    assert "Intake coordinator" in staff_card and contact["Phone"] in staff_card
    partner = bot.partner_users["mesquite-hollow"][0]
    bot.slash("member Riverbend Immigrant Legal Aid", user=partner, channel="ref-mesquite-hollow")
    partner_card = bot.last_answer(partner, "ref-mesquite-hollow")
    assert "Riverbend Immigrant Legal Aid" in partner_card and "Intake coordinator" in partner_card
    assert contact["Phone"] not in partner_card and "555" not in partner_card
    for card in (staff_card, partner_card):
        assert contact["Name"] not in card and contact["Email"] not in card
    bot.slash("member Legal")  # many members match: a list to pick from
    assert "Several members match" in bot.last_answer(STAFF, "intake-triage")
    bot.slash("member Nowhere Collective of Nobody")
    assert "No member organization matches" in bot.last_answer(STAFF, "intake-triage")


def test_bills_and_one_bill(bot: Bot) -> None:
    bot.slash("bills", user=POLICY_STAFF, channel="policy")
    listing = bot.last_answer(POLICY_STAFF, "policy")
    assert "15 tracked bills" in listing and "HB 2417" in listing and "H.R. 6120" in listing
    bot.slash("bill hb2417", user=POLICY_STAFF, channel="policy")
    one = bot.last_answer(POLICY_STAFF, "policy")
    assert "Bill HB 2417" in one and "Texas" in one and "SB 412" not in one
    bot.slash("bill XYZ 1", user=POLICY_STAFF, channel="policy")
    assert "No tracked bill" in bot.last_answer(POLICY_STAFF, "policy")


def test_intake_counts_have_no_personal_data(bot: Bot) -> None:
    route(bot)
    # The demo's requests are dated in the three weeks before today: five move to this week.
    from sqlalchemy import select

    from coalition.ledger import open_ledger
    from coalition.ledger.tables.intake import IntakeRecord

    with open_ledger().session() as session:
        dated = session.scalars(
            select(IntakeRecord).where(IntakeRecord.received_at.is_not(None)).limit(5)
        )
        for record in dated:
            record.received_at = datetime.now(UTC)
    bot.slash("intake week")
    answer = bot.last_answer(STAFF, "intake-triage")
    assert (
        "Intake this week: 5 cases" in answer and "By status" in answer and "By category" in answer
    )
    # Rows without a timestamp are in no week, as in the weekly Doc (issue 17).
    assert "4 intake requests with no received time are in no period's counts" in answer
    assert "INT-" not in answer and "REF-" not in answer
    assert leaks(bot, answer) == []
    partner = bot.partner_users["riverbend"][0]
    bot.slash("intake", user=partner, channel="ref-riverbend")
    assert "Only coalition staff" in bot.last_answer(partner, "ref-riverbend")


def leaks(bot: Bot, blob: str) -> list[str]:
    """Personal values of the demo (names, phones, emails, notes...) found in `blob`."""
    return [v for v in personal_values(bot.handle.sandbox) if v in blob]


# ------------------------------------------------------------------ campaign drafts
def test_alert_drafts_a_campaign_that_only_staff_approve_once(bot: Bot) -> None:
    organizer = next(
        u
        for u in bot.slack.channels[bot.channel_id("organizing")]["members"]
        if u.startswith("U")
        and u not in {STAFF, POLICY_STAFF, ADMIN, roster.STAFF[2].user_id, bot.slack.bot_user_id}
    )
    # An organizer of a member group is a partner when acting in its shared channel; not here.
    bot.slash("alert", user=organizer, channel="organizing")
    assert "Only coalition staff and member organizations" in bot.last_answer(
        organizer, "organizing"
    )
    bot.slash("alert", user=POLICY_STAFF, channel="organizing")
    view = bot.slack.top_view(POLICY_STAFF)
    assert view is not None and view["callback_id"] == "campaign_draft"
    bad = bot.submit(
        view["id"],
        POLICY_STAFF,
        {
            "title": {"value": "Rally"},
            "message": {"value": "Join us"},
            "link": {"value": "javascript:alert(1)"},
        },
    )
    assert bad["outcome"] == "errors" and "link" in bad["view_errors"]
    title = "Rally for <!channel> fair hearings"
    bot.submit(
        view["id"],
        POLICY_STAFF,
        {
            "title": {"value": title},
            "message": {"value": "Meet at the courthouse steps & bring signs <@U0DEMOADM01>."},
            "call_to_action": {"value": "RSVP"},
            "link": {"value": "https://example.org/rally"},
            "regions": {"value": ["Southwest"]},
        },
    )
    drafts = [r for r in airtable_records(bot, "Campaigns") if r["fields"].get("Title") == title]
    assert len(drafts) == 1 and drafts[0]["fields"]["Status"] == "Draft"
    record_id = drafts[0]["id"]
    [request] = [
        m for m in bot.bot_messages("organizing") if record_id in json.dumps(m.get("blocks"))
    ]
    shown = message_text(request)
    assert (
        "&lt;!channel&gt;" in shown and "<!channel>" not in shown and "<@U0DEMOADM01>" not in shown
    )
    assert "Saved *Rally for &lt;!channel&gt; fair hearings* as a Draft" in bot.last_answer(
        POLICY_STAFF, "organizing"
    )
    # A partner-side organizer may not approve; staff may, once.
    bot.click(organizer, "organizing", request["ts"], "campaign_approve")
    assert "Only coalition staff" in bot.last_answer(organizer, "organizing")
    assert airtable_status(bot, record_id) == "Draft"
    body = {
        "app_url": bot.url,
        "user": STAFF,
        "channel": "organizing",
        "message_ts": request["ts"],
        "action_id": "campaign_approve",
    }
    threads = [threading.Thread(target=bot.control, args=("action", body)) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    bot.settle()
    assert airtable_status(bot, record_id) == "Ready"
    answers = bot.answers_to(STAFF, "organizing")
    assert sum("Approved: the campaign is Ready" in a for a in answers) == 1
    assert sum("already approved" in a for a in answers) == 1
    after = next(m for m in bot.bot_messages("organizing") if m["ts"] == request["ts"])
    assert buttons_of(after) == [] and f"Approved* by <@{STAFF}>" in message_text(after)


def airtable_records(bot: Bot, table: str) -> list[dict[str, Any]]:
    """A table as Airtable holds it (read from the emulator's state, not through the app)."""
    model = bot.handle.services["airtable"]
    return model.records(model.find_base(settings().services.airtable.base), table)


def airtable_status(bot: Bot, record_id: str) -> str:
    return next(r for r in airtable_records(bot, "Campaigns") if r["id"] == record_id)[
        "fields"
    ].get("Status", "")


def test_approving_a_draft_that_is_no_longer_a_draft_changes_nothing(bot: Bot) -> None:
    bot.slash("alert", user=POLICY_STAFF, channel="organizing")
    view = bot.slack.top_view(POLICY_STAFF)
    bot.submit(
        view["id"],
        POLICY_STAFF,
        {"title": {"value": "Vigil"}, "message": {"value": "Tonight at 7"}},
    )
    record = next(
        r for r in airtable_records(bot, "Campaigns") if r["fields"].get("Title") == "Vigil"
    )
    model = bot.handle.services["airtable"]
    base_id = model.find_base(settings().services.airtable.base)
    model.update(base_id, "Campaigns", [(record["id"], {"Status": "Cancelled"})], typecast=True)
    [request] = [
        m for m in bot.bot_messages("organizing") if record["id"] in json.dumps(m.get("blocks"))
    ]
    bot.click(STAFF, "organizing", request["ts"], "campaign_approve")
    assert "it is Cancelled in Airtable now" in bot.last_answer(STAFF, "organizing")
    assert airtable_status(bot, record["id"]) == "Cancelled"


# ------------------------------------------------------------------ flows: run, summary, status
def test_run_is_for_admins_and_reports_back(bot: Bot) -> None:
    bot.slash("run roster-sync", user=STAFF)
    assert "Only coalition admins" in bot.last_answer(STAFF, "intake-triage")
    assert bot.flows.calls == []
    bot.slash("run roster-sync", user=ADMIN)
    bot.runtime.runner.executor.submit(lambda: None).result(timeout=30)
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline and not any(
        "finished" in a for a in bot.answers_to(ADMIN, "intake-triage")
    ):
        time.sleep(0.1)
    answers = bot.answers_to(ADMIN, "intake-triage")
    assert any("Started *roster-sync*" in a for a in answers)
    assert any("*roster-sync* finished: Completed" in a and "members 40" in a for a in answers)
    assert bot.flows.calls == [("roster-sync", {})]
    bot.slash("run alerts", user=ADMIN)
    wait_for(lambda: any("*alerts* finished" in a for a in bot.answers_to(ADMIN, "intake-triage")))
    failed = next(a for a in bot.answers_to(ADMIN, "intake-triage") if "*alerts* finished" in a)
    assert "Failed (RuntimeError)" in failed and "Airtable said no" not in failed
    bot.slash("status", user=STAFF)
    status = bot.last_answer(STAFF, "intake-triage")
    assert "roster-sync*: Completed" in status and "alerts*: Failed" in status
    assert "no Prefect API configured" in status


def wait_for(condition: Callable[[], bool], seconds: float = 30) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.1)


def test_summary_answers_with_the_link_when_done(bot: Bot) -> None:
    partner = bot.partner_users["riverbend"][0]
    bot.slash("summary", user=partner, channel="ref-riverbend")
    assert "Only coalition staff" in bot.last_answer(partner, "ref-riverbend")
    bot.slash("summary 2026-w9", user=roster.STAFF[2].user_id, channel="leadership")
    user = roster.STAFF[2].user_id
    assert "Started the weekly summary for *2026-W09*" in bot.last_answer(user, "leadership")
    bot.slash("summary 2099-W01", user=user, channel="leadership")
    assert "has not begun yet" in bot.last_answer(user, "leadership")
    bot.flows.release.set()
    wait_for(lambda: "is ready" in bot.last_answer(user, "leadership"))
    assert "https://docs.google.com/document/d/doc-2026-W09" in bot.last_answer(user, "leadership")
    assert bot.flows.calls == [("weekly-summary", {"week": "2026-W09"})]


# ------------------------------------------------------------------ the audit trail, leaks, latency, logs
def test_every_command_and_click_is_audited_without_personal_data(bot: Bot) -> None:
    refs = route(bot)
    ref = single_notice(bot, refs)
    user = bot.partner_users[slug_of(bot, ref.partner_id)][0]
    typed = "member Urbelina Berrocante (214) 555-0199"
    bot.slash(typed)
    bot.slash("frobnicate my secret notes")
    bot.click(user, ref.slack_channel, ref.slack_ts, "referral_accept")
    entries = audit_entries(bot.runtime.ledger)
    assert [e.action for e in entries] == [
        "command:member",
        "command:help",
        "click:referral_accept",
    ]
    assert [e.allowed for e in entries] == [True, True, True]
    stored = json.dumps([[e.actor, e.role, e.action, e.target, e.detail] for e in entries])
    assert "Urbelina" not in stored and "555-0199" not in stored and "secret notes" not in stored
    assert leaks(bot, stored) == []


def test_nothing_personal_reaches_slack_through_the_app(bot: Bot) -> None:
    refs = route(bot)
    ref = single_notice(bot, refs)
    user = bot.partner_users[slug_of(bot, ref.partner_id)][0]
    bot.slash(f"referral {ref.referral_id}")
    bot.slash("intake today")
    bot.click(user, ref.slack_channel, ref.slack_ts, "referral_accept")
    bot.slash(f"why {ref.intake_id}")
    log = bot.handle.http.get("/_sandbox/slack/log").json()["messages"]
    from_app = [
        m
        for m in log
        if m.get("source") in {"response_url", "command_reply"} or m.get("kind") == "edit"
    ]
    assert from_app, "the app showed nothing"
    assert leaks(bot, json.dumps(log, ensure_ascii=False)) == []


def test_twenty_concurrent_commands_are_all_acknowledged(bot: Bot) -> None:
    stats = measure_ack_latency(bot.handle.url, bot.url, 20, text="help")
    bot.settle()
    assert stats.count == 20 and stats.failures == 0
    assert 0 < stats.p50_ms <= stats.p99_ms <= stats.max_ms
    # Each was answered after its ack (through chat.postEphemeral: a direct command's
    # response_url is unknown to the sandbox).
    assert sum("Commands you can use" in a for a in bot.answers_to(STAFF, "intake-triage")) == 20
    print(stats.line())


def test_tokens_and_the_signing_secret_never_reach_the_logs(
    bot: Bot, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    for name in ("slack_bolt", "slack_sdk", "bot", "uvicorn"):
        logging.getLogger(name).setLevel(logging.DEBUG)
    bot.slash("help")
    bot.slash("intake", bad_signature=True)
    bot.slash("bills")
    ours = [
        r
        for r in caplog.records
        if r.name.split(".")[0].split(":")[0] in {"slack_bolt", "slack_sdk", "bot", "uvicorn"}
    ]
    assert ours, "nothing was logged at DEBUG"
    text = "\n".join(r.getMessage() + (r.exc_text or "") for r in ours)
    secret = "sandbox-signing-secret"
    assert secret not in text and "sandbox-token" not in text
    assert "hooks/commands/" not in text and "sandbox-verification-token" not in text


def test_the_demo_conversation_shows_in_the_sandbox(bot: Bot) -> None:
    from io import StringIO

    from rich.console import Console

    from bot.demo import rehearse

    route(bot)
    out = StringIO()
    assert rehearse(bot.handle.sandbox, bot.handle.url, Console(file=out, width=200))
    table = out.getvalue()
    assert "You accepted" in table and "You declined" in table and "HTTP 401" in table
    assert {r.state for r in referrals()} >= {"accepted", "declined"}
    assert leaks(bot, table) == []


# ------------------------------------------------------------------ a real Prefect run and status from Prefect
def test_a_local_prefect_run_is_reported_and_status_reads_prefect(tmp_path: Any) -> None:
    from prefect import flow
    from prefect.client.orchestration import get_client

    @flow(name="slack-app-probe", persist_result=False)
    def probe(rows: int = 1) -> FakeReport:
        return FakeReport([f"slack-app-probe: rows {rows}"])

    registry = {"slack-app-probe": FakeEntry("slack-app-probe", probe)}
    local = FlowRunner(registry=registry, api_url="")
    done = threading.Event()
    outcomes: list[Any] = []
    local.start("slack-app-probe", {"rows": 3}, lambda o: (outcomes.append(o), done.set()))
    assert done.wait(240), "the local Prefect run did not end"
    assert (outcomes[0].ok, outcomes[0].state, outcomes[0].lines) == (
        True,
        "Completed",
        ("slack-app-probe: rows 3",),
    )
    with get_client(sync_client=True) as client:
        api_url = str(client.api_url)
    rows, source = FlowRunner(registry=registry, api_url=api_url).last_runs()
    [row] = rows
    assert source == "Prefect" and row.state == "Completed" and "/runs/flow-run/" in row.url


def test_a_service_failure_is_told_to_the_person_and_audited(bot: Bot) -> None:
    bot.handle.sandbox.faults.add(kind="5xx", service="airtable", status=503)
    bot.slash("bills", user=POLICY_STAFF, channel="policy")
    answer = bot.last_answer(POLICY_STAFF, "policy")
    assert "Something went wrong (Airtable" in answer and "nothing more was done" in answer
    [entry] = audit_entries(bot.runtime.ledger)
    assert entry.action == "command:bills" and entry.detail["reason"].startswith("error:Airtable")
