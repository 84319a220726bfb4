"""SlackPoster (behind flows/posting.py's guards) against the Slack emulator over HTTP: exactly once by key, one request per message, edits in place, guards before any request."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select, update

from coalition.ledger import Ledger, open_ledger
from coalition.ledger.posted_messages import PostedMessages
from coalition.ledger.tables.alerts import PostedMessage
from coalition.outgoing import MentionError
from coalition.privacy import PIIError, guard
from flows.posting import GuardedPoster, guarded_poster, slack_poster
from integrations.clients import slack_client
from integrations.http import counting
from integrations.slack import (
    EVENT_TYPE,
    ChannelNotFound,
    PlannedPost,
    SlackPostError,
    forget_channels,
)

BOT = "U0COALBOT"
BLOCKS = [
    {"type": "header", "text": {"type": "plain_text", "text": "Campaign: Rally for TPS"}},
    {"type": "section", "text": {"type": "mrkdwn", "text": "Join us on *2026-12-05* at noon."}},
]


@pytest.fixture(autouse=True)
def quick_pacing(sandbox, monkeypatch):
    """Pace at 50x real time: the 1 message/s per channel budget still orders posts, faster."""
    from coalition.settings import reload_settings

    monkeypatch.setenv("COALITION_TIME_SCALE", "50")
    reload_settings()


@pytest.fixture
def slack(sandbox):
    return sandbox.services["slack"]


@pytest.fixture
def ledger(sandbox) -> Ledger:
    return open_ledger()


def fresh_poster(ledger: Ledger, dry_run: bool = False) -> GuardedPoster:
    """A poster as a new process would build it: no cached channels."""
    forget_channels()
    return guarded_poster(None if dry_run else slack_client(), ledger, dry_run)


def calls(sandbox, since: int = 0) -> list[str]:
    """The Slack methods called, in order (journal paths without /api/)."""
    return [e["path"].removeprefix("/api/") for e in sandbox.journal("slack", since=since)]


def last_seq(sandbox) -> int:
    return sandbox.sandbox.journal.last_seq


def row(ledger: Ledger, key: str) -> PostedMessage | None:
    with ledger.session() as session:
        return session.scalars(select(PostedMessage).where(PostedMessage.key == key)).one_or_none()


def crash_before_record(monkeypatch) -> None:
    """The next confirmation of a post fails, as if the process died between posting and recording."""
    original = PostedMessages.record

    def crash(self, key, channel, ts, thread_ts, digest, state) -> None:
        if state == "posted":
            monkeypatch.setattr(PostedMessages, "record", original)
            raise RuntimeError("simulated crash")
        original(self, key, channel, ts, thread_ts, digest, state)

    monkeypatch.setattr(PostedMessages, "record", crash)


# ---------------------------------------------------------------- exactly once
def test_post_once_and_a_rerun_sends_nothing(sandbox, slack, ledger) -> None:
    channel = slack.create_channel("organizing", members=[BOT])
    poster = fresh_poster(ledger)
    with counting() as sent:
        first = poster.post("campaign:rec1:organizing", "organizing", "Rally for TPS", BLOCKS)
    assert first.action == "posted" and first.channel_id == channel
    # One request per message (and the channel directory once): no history read.
    assert calls(sandbox) == ["conversations.list", "chat.postMessage"]
    assert sent == {"slack": 2}

    [message] = slack.messages(channel)
    assert message["ts"] == first.ts and message["text"] == "Rally for TPS"
    assert message["metadata"] == {
        "event_type": EVENT_TYPE,
        "event_payload": {
            "key": "campaign:rec1:organizing",
            "hash": row(ledger, "campaign:rec1:organizing").content_hash,
        },
    }
    recorded = row(ledger, "campaign:rec1:organizing")
    assert (recorded.channel, recorded.ts, recorded.state) == (channel, first.ts, "posted")

    since = last_seq(sandbox)
    again = fresh_poster(ledger).post(
        "campaign:rec1:organizing", "organizing", "Rally for TPS", BLOCKS
    )
    assert (again.action, again.ts, again.channel_id) == ("unchanged", first.ts, channel)
    assert calls(sandbox, since) == []  # not even a channel lookup
    assert len(slack.messages(channel)) == 1


def test_changed_content_is_edited_in_place(sandbox, slack, ledger) -> None:
    channel = slack.create_channel("policy", members=[BOT])
    poster = fresh_poster(ledger)
    first = poster.post("bill:rec9:policy", "policy", "HB 12: hearing set", BLOCKS)

    since = last_seq(sandbox)
    changed = poster.post("bill:rec9:policy", "policy", "HB 12: hearing moved", None)
    assert (changed.action, changed.ts) == ("updated", first.ts)
    assert calls(sandbox, since) == ["chat.update"]
    [message] = slack.messages(channel)
    assert message["text"] == "HB 12: hearing moved"
    assert "blocks" not in message  # the earlier blocks are gone, not kept
    assert (
        message["metadata"]["event_payload"]["hash"] == row(ledger, "bill:rec9:policy").content_hash
    )

    assert poster.update("bill:rec9:policy", "HB 12: hearing moved").action == "unchanged"
    assert poster.update("bill:rec9:policy", "HB 12: passed", BLOCKS).action == "updated"
    assert slack.messages(channel)[0]["text"] == "HB 12: passed"
    with pytest.raises(LookupError):
        poster.update("bill:never-posted", "x")


def test_crash_after_post_adopts_the_earlier_message(sandbox, slack, ledger, monkeypatch) -> None:
    channel = slack.create_channel("membership", members=[BOT])
    crash_before_record(monkeypatch)
    with pytest.raises(RuntimeError, match="simulated crash"):
        fresh_poster(ledger).post(
            "roster:digest:2026-11-28", "membership", "3 members joined", BLOCKS
        )
    claimed = row(ledger, "roster:digest:2026-11-28")  # in doubt: claimed, no ts
    assert (claimed.state, claimed.ts, claimed.channel) == ("sending", None, channel)
    for i in range(5):  # other traffic in the channel since then
        slack.post_message(
            channel,
            f"staff chat {i}",
            user=slack.create_user(f"p{i}", f"Person {i}"),
            enforce=False,
        )

    since = last_seq(sandbox)
    adopted = fresh_poster(ledger).post(
        "roster:digest:2026-11-28", "membership", "3 members joined", BLOCKS
    )
    assert adopted.action == "unchanged"
    assert "chat.postMessage" not in calls(sandbox, since)
    assert row(ledger, "roster:digest:2026-11-28").ts == adopted.ts
    assert [m["ts"] for m in slack.messages(channel) if m.get("bot_id")] == [adopted.ts]

    with ledger.session() as session:  # in doubt again, with content to change
        session.execute(update(PostedMessage).values(state="sending", ts=None))
    since = last_seq(sandbox)
    edited = fresh_poster(ledger).post("roster:digest:2026-11-28", "membership", "4 members joined")
    assert (edited.action, edited.ts) == ("updated", adopted.ts)
    assert calls(sandbox, since) == [
        "conversations.history",  # the claim names the channel: no directory read
        "auth.test",  # is the message found really ours?
        "chat.update",
    ]
    assert len([m for m in slack.messages(channel) if m.get("bot_id")]) == 1


def test_history_is_read_only_from_the_claim_time_on(sandbox, slack, ledger, monkeypatch) -> None:
    channel = slack.create_channel("leadership", members=[BOT])
    crash_before_record(monkeypatch)
    with pytest.raises(RuntimeError, match="simulated crash"):
        fresh_poster(ledger).post("summary:2026-W49", "leadership", "Weekly summary")
    # Claimed an hour after that message went out: it cannot be this claim's post, and the
    # history read (oldest = the claim time) does not even return it.
    with ledger.session() as session:
        session.execute(
            update(PostedMessage).values(updated_at=datetime.now(UTC) + timedelta(hours=1))
        )
    since = last_seq(sandbox)
    again = fresh_poster(ledger).post("summary:2026-W49", "leadership", "Weekly summary")
    assert again.action == "posted"
    assert calls(sandbox, since) == [
        "conversations.history",
        "conversations.list",
        "chat.postMessage",
    ]
    assert len(slack.messages(channel)) == 2


def test_a_post_slack_may_not_have_taken_stays_in_doubt(sandbox, slack, ledger) -> None:
    channel = slack.create_channel("ops-alerts", members=[BOT])
    sandbox.sandbox.faults.add(kind="5xx", service="slack", path="chat.postMessage", p=1.0)
    with pytest.raises(SlackPostError):
        fresh_poster(ledger).post("ops:alerts:failing", "ops-alerts", "alerts is failing")
    assert row(ledger, "ops:alerts:failing").state == "sending"  # a 5xx proves nothing
    sandbox.sandbox.faults.clear()
    since = last_seq(sandbox)
    posted = fresh_poster(ledger).post("ops:alerts:failing", "ops-alerts", "alerts is failing")
    assert posted.action == "posted"
    assert calls(sandbox, since)[0] == "conversations.history"  # looked first: not there
    assert [m["ts"] for m in slack.messages(channel)] == [posted.ts]
    assert row(ledger, "ops:alerts:failing").state == "posted"


def test_a_post_slack_refused_leaves_nothing_in_doubt(sandbox, slack, ledger) -> None:
    with pytest.raises(SlackPostError, match="channel_not_found"):
        fresh_poster(ledger).post("k:gone", "C0NOSUCH0000", "hello")
    assert row(ledger, "k:gone") is None  # Slack said no: the claim is dropped


def test_a_message_deleted_in_slack_is_posted_again(sandbox, slack, ledger) -> None:
    channel = slack.create_channel("leadership", members=[BOT])
    poster = fresh_poster(ledger)
    first = poster.post("summary:2026-W48", "leadership", "Weekly summary 2026-W48")
    slack.delete_message(channel, first.ts, as_owner=True)  # someone removed it by hand
    again = poster.post("summary:2026-W48", "leadership", "Weekly summary 2026-W48 (corrected)")
    assert again.action == "posted" and again.ts != first.ts
    assert [m["text"] for m in slack.messages(channel)] == ["Weekly summary 2026-W48 (corrected)"]


def test_delete_then_post_again(sandbox, slack, ledger) -> None:
    channel = slack.create_channel("ops-alerts", members=[BOT])
    poster = fresh_poster(ledger)
    first = poster.post("flow:intake-routing:failing", "ops-alerts", "intake-routing is failing")
    assert poster.delete("flow:intake-routing:failing").action == "deleted"
    assert slack.messages(channel) == []
    assert row(ledger, "flow:intake-routing:failing").state == "deleted"
    assert poster.delete("flow:intake-routing:failing") is None  # nothing left to delete
    again = poster.post("flow:intake-routing:failing", "ops-alerts", "intake-routing is failing")
    assert again.action == "posted" and again.ts != first.ts


def test_thread_replies_are_keyed_and_adopted_too(sandbox, slack, ledger) -> None:
    channel = slack.create_channel("policy", members=[BOT])
    poster = fresh_poster(ledger)
    parent = poster.post("bill:rec1:policy", "policy", "HB 1 introduced")
    reply = poster.post("bill:rec1:policy:hearing", "policy", "Hearing set", thread_ts=parent.ts)
    assert reply.action == "posted"
    assert [m["text"] for m in slack.replies(channel, parent.ts)] == [
        "HB 1 introduced",
        "Hearing set",
    ]

    with ledger.session() as session:  # the reply's post in doubt
        session.execute(
            update(PostedMessage)
            .where(PostedMessage.key == "bill:rec1:policy:hearing")
            .values(state="sending", ts=None)
        )
    since = last_seq(sandbox)
    adopted = fresh_poster(ledger).post(
        "bill:rec1:policy:hearing", "policy", "Hearing set", thread_ts=parent.ts
    )
    assert (adopted.action, adopted.ts) == ("unchanged", reply.ts)
    assert "conversations.replies" in calls(sandbox, since)
    assert len(slack.replies(channel, parent.ts)) == 2


# ---------------------------------------------------------------- channels
def test_the_bot_joins_a_public_channel_it_is_not_in(sandbox, slack, ledger) -> None:
    channel = slack.create_channel("intake-triage")  # the bot was never invited
    result = fresh_poster(ledger).post("triage:IN-000123", "#intake-triage", "1 case needs triage")
    assert result.action == "posted"
    assert "conversations.join" in calls(sandbox)
    assert BOT in slack.channels[channel]["members"]


def test_an_unknown_channel_is_explained(sandbox, slack, ledger) -> None:
    slack.create_channel("general", members=[BOT])
    with pytest.raises(ChannelNotFound, match="#no-such-channel"):
        fresh_poster(ledger).post("k", "no-such-channel", "hello")
    assert row(ledger, "k") is None


def test_channel_directory_is_read_once_per_process(sandbox, slack, ledger) -> None:
    for name in ("a-one", "a-two", "a-three"):
        slack.create_channel(name, members=[BOT])
    poster = fresh_poster(ledger)
    for name in ("a-one", "a-two", "a-three"):
        poster.post(f"k:{name}", name, f"hello {name}")
    second = guarded_poster(slack_client(), ledger)  # same process, new poster
    second.post("k:again", "a-one", "hello again")
    assert calls(sandbox).count("conversations.list") == 1


# ---------------------------------------------------------------- guards: nothing is sent
def test_personal_data_is_refused_before_any_request(sandbox, slack, ledger) -> None:
    channel = slack.create_channel("intake-triage", members=[BOT])
    poster = fresh_poster(ledger)
    leaky = [{"type": "section", "text": {"type": "mrkdwn", "text": "Call back at 555-123-4567"}}]
    with pytest.raises(PIIError, match=r"phone.*blocks\[0\]\.text\.text"):
        poster.post("referral:R-2026-000001", "intake-triage", "New referral", leaky)
    with guard.batch(["Guadalupe Ramírez"]), pytest.raises(PIIError, match="known_value"):
        poster.post("referral:R-2026-000002", "intake-triage", "New referral for GUADALUPE RAMÍREZ")
    with pytest.raises(PIIError, match="in key"):  # keys travel in metadata and the ledger
        poster.post("intake:rosa@example.org", "intake-triage", "New referral")
    with pytest.raises(ValueError, match="1 to 200"):  # the ledger could not record it
        poster.post("k" * 201, "intake-triage", "New referral")
    assert calls(sandbox) == []
    assert slack.messages(channel) == []
    assert row(ledger, "referral:R-2026-000001") is None

    # An edit is guarded the same way, and the message keeps its old, clean content.
    clean = poster.post("referral:R-2026-000003", "intake-triage", "New referral R-2026-000003")
    since = last_seq(sandbox)
    with pytest.raises(PIIError):
        poster.post("referral:R-2026-000003", "intake-triage", "email rosa@example.org")
    assert calls(sandbox, since) == []
    assert slack.messages(channel)[0]["ts"] == clean.ts
    assert slack.messages(channel)[0]["text"] == "New referral R-2026-000003"


@pytest.mark.parametrize(
    "text",
    [
        "<!channel> rally now",
        "hey <!here|here>",
        "<!everyone>",
        "<!subteam^S0123|@legal>",
        "<@U0123ABCD>",
    ],
)
def test_mentions_are_refused_unless_allowed(sandbox, slack, ledger, text: str) -> None:
    channel = slack.create_channel("organizing", members=[BOT])
    poster = fresh_poster(ledger)
    with pytest.raises(MentionError):
        poster.post("campaign:rec2", "organizing", text)
    with pytest.raises(MentionError, match=r"blocks\[0\]"):
        poster.post(
            "campaign:rec2",
            "organizing",
            "ok",
            [{"type": "section", "text": {"type": "mrkdwn", "text": text}}],
        )
    assert calls(sandbox) == [] and slack.messages(channel) == []
    assert poster.post("campaign:rec2", "organizing", text, allow_mentions=True).action == "posted"


# ---------------------------------------------------------------- dry run
def test_dry_run_plans_and_sends_nothing(sandbox, slack, ledger) -> None:
    slack.create_channel("organizing", members=[BOT])
    plan = fresh_poster(ledger, dry_run=True)
    result = plan.post("campaign:rec3", "organizing", "Rally", BLOCKS)
    assert result.action == "posted"
    assert plan.planned == [PlannedPost("campaign:rec3", "organizing", "posted")]
    assert calls(sandbox) == [] and row(ledger, "campaign:rec3") is None

    real = fresh_poster(ledger).post("campaign:rec3", "organizing", "Rally", BLOCKS)
    recorded = row(ledger, "campaign:rec3")
    since = last_seq(sandbox)
    plan = fresh_poster(ledger, dry_run=True)
    plan.post("campaign:rec3", "organizing", "Rally", BLOCKS)
    plan.post("campaign:rec3", "organizing", "Rally (moved indoors)", BLOCKS)
    plan.delete("campaign:rec3")
    assert [p.action for p in plan.planned] == ["unchanged", "updated", "deleted"]
    assert {p.channel for p in plan.planned} == {real.channel_id}
    assert calls(sandbox, since) == []
    after = row(ledger, "campaign:rec3")
    assert (after.content_hash, after.state, after.ts) == (recorded.content_hash, "posted", real.ts)
    assert slack.messages(real.channel_id)[0]["text"] == "Rally"

    with pytest.raises(MentionError):  # a plan shows refusals too
        plan.post("campaign:rec4", "organizing", "<!channel>")


def test_slack_poster_factory_dry_run_needs_no_client(sandbox) -> None:
    poster = slack_poster(dry_run=True)
    assert poster.client is None and poster.dry_run
    poster.post("k", "organizing", "hello")
    assert calls(sandbox) == []


# ---------------------------------------------------------------- pacing, ephemeral, permalink
def test_posts_are_paced_per_channel_so_no_429(sandbox, slack, ledger, monkeypatch) -> None:
    # Twice real time: fast enough for a test, slow enough that scheduling jitter on a busy
    # machine stays inside the budget's margin.
    slack.create_channel("organizing", members=[BOT])
    monkeypatch.setenv("COALITION_TIME_SCALE", "2")
    from coalition.settings import reload_settings

    reload_settings()
    sandbox.sandbox.clock.scale = 2
    sandbox.sandbox.limiter.enabled = True
    poster = fresh_poster(ledger)
    started = time.monotonic()
    for i in range(4):
        poster.post(f"campaign:burst:{i}", "organizing", f"message {i}")
    elapsed = time.monotonic() - started
    statuses = [e["status"] for e in sandbox.journal("slack")]
    assert 429 not in statuses
    assert statuses.count(200) == len(statuses)
    assert elapsed >= 3 * 0.5  # four posts, one per (scaled) second


def test_ephemeral_and_permalink(sandbox, slack, ledger) -> None:
    person = slack.create_user("dana", "Dana Staff")
    channel = slack.create_channel("intake-triage", members=[BOT, person])
    poster = fresh_poster(ledger)
    ts = poster.post_ephemeral("intake-triage", person, "Only you can see this")
    assert ts
    assert any(e["visible_to"] == person for e in slack.ephemerals)
    with pytest.raises(PIIError):
        poster.post_ephemeral("intake-triage", person, "her number is 555-123-4567")

    posted = poster.post("k:link", "intake-triage", "Linked message")
    link = poster.permalink(posted.channel_id, posted.ts)
    assert link.startswith("https://") and channel in link
