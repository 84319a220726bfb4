"""The emulated Slack Web API against the real slack_sdk WebClient over HTTP, one documented behaviour each."""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

import pytest
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError
from slack_sdk.http_retry.builtin_handlers import RateLimitErrorRetryHandler

from sandbox.slack.models import Backend


@dataclass
class Workspace:
    sandbox: Any
    backend: Backend
    client: WebClient
    alice: str
    bob: str
    general: str


@pytest.fixture
def ws(sandbox: Any) -> Workspace:
    backend: Backend = sandbox.services["slack"]
    alice = backend.create_user("alice", "Alice Organizer", email="alice@example.org")
    bob = backend.create_user("bob", "Bob Policy", email="bob@example.org")
    general = backend.create_channel("general", members=[alice, bob, backend.bot_user_id])
    client = WebClient(token="x", base_url=sandbox.url + "/api/")
    return Workspace(sandbox, backend, client, alice, bob, general)


def refusal(call: Any, **kwargs: Any) -> dict[str, Any]:
    """Call a WebClient method that must fail; Slack's reply body."""
    with pytest.raises(SlackApiError) as caught:
        call(**kwargs)
    return caught.value.response.data


def post_statuses(ws: Workspace, expected: int) -> list[int]:
    """HTTP statuses of chat.postMessage calls; the journal is written just after each reply."""
    deadline = time.monotonic() + 5
    while True:
        entries = [e for e in ws.sandbox.journal("slack") if e["path"].endswith("chat.postMessage")]
        if len(entries) >= expected or time.monotonic() > deadline:
            return [e["status"] for e in entries]
        time.sleep(0.02)


def section(text: str) -> dict[str, Any]:
    return {"type": "section", "text": {"type": "mrkdwn", "text": text}}


# ------------------------------------------------------------------ reply shapes and auth
def test_auth_test_answers_ok_with_the_bot_and_team(ws: Workspace) -> None:
    reply = ws.client.auth_test()
    assert reply.status_code == 200
    assert reply.data["ok"] is True
    assert reply["user_id"] == ws.backend.bot_user_id
    assert reply["team_id"] == "T0COALITION"
    assert reply["bot_id"]


def test_a_missing_token_is_http_200_not_authed(ws: Workspace) -> None:
    raw = ws.sandbox.http.post("/api/auth.test", json={})
    assert raw.status_code == 200
    assert raw.json() == {"ok": False, "error": "not_authed"}
    assert refusal(WebClient(base_url=ws.sandbox.url + "/api/").auth_test)["error"] == "not_authed"


def test_a_revoked_token_is_invalid_auth(ws: Workspace) -> None:
    ws.backend.revoked_tokens.add("xoxb-revoked")
    client = WebClient(token="xoxb-revoked", base_url=ws.sandbox.url + "/api/")
    assert refusal(client.auth_test) == {"ok": False, "error": "invalid_auth"}


def test_a_token_in_a_form_body_is_accepted(ws: Workspace) -> None:
    raw = ws.sandbox.http.post("/api/auth.test", data={"token": "xoxb-form"})
    assert raw.json()["ok"] is True


def test_a_missing_scope_names_the_scope_needed(ws: Workspace) -> None:
    ws.backend.scopes.discard("channels:history")
    body = refusal(ws.client.conversations_history, channel=ws.general)
    assert body["error"] == "missing_scope"
    assert body["needed"] == "channels:history"
    assert "chat:write" in body["provided"].split(",")


def test_an_unknown_method_is_unknown_method(ws: Workspace) -> None:
    assert refusal(ws.client.api_call, api_method="chat.teleport")["error"] == "unknown_method"


# ------------------------------------------------------------------ chat.postMessage
@pytest.mark.parametrize("ref", ["general", "#general", "id"])
def test_post_by_channel_id_or_name_with_or_without_hash(ws: Workspace, ref: str) -> None:
    reply = ws.client.chat_postMessage(channel=ws.general if ref == "id" else ref, text="Hello")
    assert reply["channel"] == ws.general
    assert reply["message"]["text"] == "Hello"
    assert reply["message"]["bot_id"] == ws.backend.bot_id
    assert [m["text"] for m in ws.backend.messages(ws.general)] == ["Hello"]


def test_delivery_options_are_accepted_and_a_user_id_posts_to_their_dm(ws: Workspace) -> None:
    reply = ws.client.chat_postMessage(
        channel=ws.alice, text="Hi", unfurl_links=False, unfurl_media=False, mrkdwn=True
    )
    assert reply["channel"].startswith("D")
    assert ws.client.conversations_open(users=ws.alice)["channel"]["id"] == reply["channel"]
    assert [m["text"] for m in ws.backend.messages(reply["channel"])] == ["Hi"]


def test_an_unknown_or_hidden_channel_is_channel_not_found(ws: Workspace) -> None:
    hidden = ws.backend.create_channel("secret", is_private=True, members=[ws.alice])
    for channel in ("no-such-channel", "C0NOTHERE", hidden, "secret"):
        assert (
            refusal(ws.client.chat_postMessage, channel=channel, text="x")["error"]
            == "channel_not_found"
        )


def test_the_bot_must_join_a_public_channel_before_posting(ws: Workspace) -> None:
    outside = ws.backend.create_channel("outside", members=[ws.alice])
    assert (
        refusal(ws.client.chat_postMessage, channel=outside, text="x")["error"] == "not_in_channel"
    )
    assert ws.client.conversations_join(channel=outside)["channel"]["is_member"] is True
    assert ws.client.chat_postMessage(channel=outside, text="now in")["ok"]
    again = ws.client.conversations_join(channel=outside)
    assert again["response_metadata"]["warnings"] == ["already_in_channel"]


def test_an_archived_channel_is_is_archived(ws: Workspace) -> None:
    ws.backend.archive_channel(ws.general)
    assert (
        refusal(ws.client.chat_postMessage, channel=ws.general, text="x")["error"] == "is_archived"
    )


@pytest.mark.filterwarnings("ignore:The top-level `text` argument is missing")
@pytest.mark.parametrize("text", [None, "", "   "])
def test_neither_text_nor_blocks_is_no_text(ws: Workspace, text: str | None) -> None:
    assert refusal(ws.client.chat_postMessage, channel=ws.general, text=text)["error"] == "no_text"


@pytest.mark.parametrize(
    ("blocks", "pointer"),
    [
        ([section("x")] * 51, "/blocks"),
        ([section("a" * 3001)], "/blocks/0/text/text"),
        ([{"type": "paragraph", "text": "hi"}], "/blocks/0/type"),
    ],
    ids=["51-blocks", "3001-char-section", "unknown-type"],
)
def test_invalid_blocks_explain_themselves(ws: Workspace, blocks: list[Any], pointer: str) -> None:
    body = refusal(ws.client.chat_postMessage, channel=ws.general, text="fallback", blocks=blocks)
    assert body["error"] == "invalid_blocks"
    messages = body["response_metadata"]["messages"]
    assert messages and all(m.startswith("[ERROR] ") for m in messages)
    assert any(m.endswith(f"[json-pointer:{pointer}]") for m in messages)
    assert ws.backend.messages(ws.general) == []


def test_blocks_sent_as_json_text_in_a_form_are_read(ws: Workspace) -> None:
    raw = ws.sandbox.http.post(
        "/api/chat.postMessage",
        data={"channel": ws.general, "text": "t", "blocks": '[{"type":"divider"}]'},
        headers={"Authorization": "Bearer x"},
    )
    assert raw.json()["ok"] is True
    assert ws.backend.messages(ws.general)[0]["blocks"][0]["type"] == "divider"


def test_text_past_40000_characters_is_truncated_with_a_warning(ws: Workspace) -> None:
    reply = ws.client.chat_postMessage(channel=ws.general, text="y" * 40_500)
    assert len(reply["message"]["text"]) == 40_000
    assert reply["response_metadata"]["warnings"] == ["message_truncated"]
    assert "40,000" in reply["response_metadata"]["messages"][0]


def test_text_past_the_hard_limit_is_msg_too_long(ws: Workspace) -> None:
    body = refusal(ws.client.chat_postMessage, channel=ws.general, text="z" * 1_000_001)
    assert body["error"] == "msg_too_long"


def test_message_ts_are_unique_and_increasing(ws: Workspace) -> None:
    stamps = [ws.client.chat_postMessage(channel=ws.general, text=f"m{i}")["ts"] for i in range(5)]
    assert len(set(stamps)) == 5
    assert stamps == sorted(stamps, key=float)
    assert all(len(ts.split(".")[1]) == 6 for ts in stamps)


# ------------------------------------------------------------------ rate limits
def test_a_second_post_within_a_second_is_429_with_retry_after(ws: Workspace) -> None:
    ws.sandbox.sandbox.limiter.enabled = True
    ws.sandbox.sandbox.clock.scale = 2.0  # the 1 s window lasts 0.5 s; Retry-After stays documented
    ws.client.chat_postMessage(channel=ws.general, text="first")
    with pytest.raises(SlackApiError) as caught:
        ws.client.chat_postMessage(channel=ws.general, text="second")
    response = caught.value.response
    assert response.status_code == 429
    assert response.data == {"ok": False, "error": "ratelimited"}
    assert int(response.headers["Retry-After"][0]) >= 1
    other = ws.backend.create_channel("other", members=[ws.backend.bot_user_id])
    assert ws.client.chat_postMessage(channel=other, text="another channel")["ok"]


def test_rate_limit_retry_handler_recovers_from_429(ws: Workspace) -> None:
    ws.sandbox.sandbox.limiter.enabled = True
    ws.sandbox.sandbox.clock.scale = 2.0
    client = WebClient(
        token="x",
        base_url=ws.sandbox.url + "/api/",
        retry_handlers=[RateLimitErrorRetryHandler(max_retry_count=2)],
    )
    client.chat_postMessage(channel=ws.general, text="first")
    assert client.chat_postMessage(channel=ws.general, text="second")["ok"]
    assert post_statuses(ws, expected=3) == [200, 429, 200]
    assert [m["text"] for m in ws.backend.messages(ws.general)] == ["first", "second"]


def test_other_methods_have_their_tier_limit(ws: Workspace) -> None:
    ws.sandbox.sandbox.limiter.enabled = True
    ws.sandbox.sandbox.clock.scale = 10.0  # Tier 2's minute lasts 6 s
    headers = {"Authorization": "Bearer x"}
    statuses = [
        ws.sandbox.http.get("/api/conversations.list", headers=headers).status_code
        for _ in range(21)
    ]
    assert statuses == [200] * 20 + [429]
    refused = ws.sandbox.http.get("/api/conversations.list", headers=headers)
    assert refused.json() == {"ok": False, "error": "ratelimited"}
    assert int(refused.headers["Retry-After"]) >= 1
    assert ws.sandbox.http.get("/api/users.list", headers=headers).json()["ok"] is True


# ------------------------------------------------------------------ conversations.*
def test_conversations_list_paginates_with_next_cursor(ws: Workspace) -> None:
    for i in range(6):
        ws.backend.create_channel(f"room-{i}", members=[ws.alice])
    seen: list[str] = []
    cursor = None
    pages = 0
    while True:
        reply = ws.client.conversations_list(limit=3, cursor=cursor)
        assert len(reply["channels"]) <= 3
        seen += [c["id"] for c in reply["channels"]]
        pages += 1
        cursor = reply["response_metadata"]["next_cursor"]
        if not cursor:
            break
    assert pages == 3
    assert len(seen) == len(set(seen)) == 7
    assert refusal(ws.client.conversations_list, cursor="bm9wZQ==")["error"] == "invalid_cursor"


def test_conversations_list_filters_types_archived_and_hidden_private(ws: Workspace) -> None:
    ws.backend.create_channel("private-in", is_private=True, members=[ws.backend.bot_user_id])
    ws.backend.create_channel("private-out", is_private=True, members=[ws.alice])
    old = ws.backend.create_channel("old", members=[ws.alice])
    ws.backend.archive_channel(old)
    names = lambda **kw: {c["name"] for c in ws.client.conversations_list(**kw)["channels"]}  # noqa: E731
    assert names() == {"general", "old"}
    assert names(exclude_archived=True) == {"general"}
    assert names(types="private_channel") == {"private-in"}
    assert names(types="public_channel,private_channel", exclude_archived=True) == {
        "general",
        "private-in",
    }


def test_conversations_info_and_members(ws: Workspace) -> None:
    info = ws.client.conversations_info(channel=ws.general, include_num_members=True)["channel"]
    assert info["name"] == "general" and info["is_member"] is True and info["num_members"] == 3
    members = ws.client.conversations_members(channel=ws.general, limit=2)
    assert len(members["members"]) == 2 and members["response_metadata"]["next_cursor"]
    rest = ws.client.conversations_members(
        channel=ws.general, cursor=members["response_metadata"]["next_cursor"]
    )
    assert set(members["members"] + rest["members"]) == {ws.alice, ws.bob, ws.backend.bot_user_id}
    assert (
        refusal(ws.client.conversations_info, channel="C0MISSING")["error"] == "channel_not_found"
    )


def test_history_is_newest_first_with_window_and_cursor(ws: Workspace) -> None:
    stamps = [ws.client.chat_postMessage(channel=ws.general, text=f"m{i}")["ts"] for i in range(5)]
    first = ws.client.conversations_history(channel=ws.general, limit=2)
    assert [m["text"] for m in first["messages"]] == ["m4", "m3"]
    assert first["has_more"] is True
    second = ws.client.conversations_history(
        channel=ws.general, limit=2, cursor=first["response_metadata"]["next_cursor"]
    )
    assert [m["text"] for m in second["messages"]] == ["m2", "m1"]
    window = ws.client.conversations_history(channel=ws.general, oldest=stamps[1], latest=stamps[3])
    assert [m["text"] for m in window["messages"]] == ["m2"]
    inclusive = ws.client.conversations_history(
        channel=ws.general, oldest=stamps[1], latest=stamps[3], inclusive=True
    )
    assert [m["text"] for m in inclusive["messages"]] == ["m3", "m2", "m1"]


def test_history_needs_the_bot_in_the_channel(ws: Workspace) -> None:
    outside = ws.backend.create_channel("outside", members=[ws.alice])
    assert refusal(ws.client.conversations_history, channel=outside)["error"] == "not_in_channel"


def test_metadata_round_trips_through_history_and_replies(ws: Workspace) -> None:
    metadata = {"event_type": "referral_posted", "event_payload": {"referral_id": "R-1"}}
    parent = ws.client.chat_postMessage(channel=ws.general, text="Referral", metadata=metadata)
    ws.client.chat_postMessage(
        channel=ws.general, text="reply", thread_ts=parent["ts"], metadata=metadata
    )
    plain = ws.client.conversations_history(channel=ws.general)["messages"][0]
    assert "metadata" not in plain
    found = ws.client.conversations_history(channel=ws.general, include_all_metadata=True)[
        "messages"
    ][0]
    assert found["metadata"] == metadata
    thread = ws.client.conversations_replies(
        channel=ws.general, ts=parent["ts"], include_all_metadata=True
    )
    assert [m.get("metadata") for m in thread["messages"]] == [metadata, metadata]
    bad = refusal(
        ws.client.chat_postMessage, channel=ws.general, text="x", metadata={"event_payload": {}}
    )
    assert bad["error"] == "invalid_metadata_format"


def test_threads_replies_and_broadcasts(ws: Workspace) -> None:
    parent = ws.client.chat_postMessage(channel=ws.general, text="parent")["ts"]
    reply = ws.client.chat_postMessage(channel=ws.general, text="in thread", thread_ts=parent)
    assert reply["message"]["thread_ts"] == parent
    ws.client.chat_postMessage(
        channel=ws.general, text="also here", thread_ts=parent, reply_broadcast=True
    )
    history = ws.client.conversations_history(channel=ws.general)["messages"]
    assert [m["text"] for m in history] == ["also here", "parent"]
    assert history[1]["reply_count"] == 2 and history[1]["latest_reply"]
    thread = ws.client.conversations_replies(channel=ws.general, ts=parent)["messages"]
    assert [m["text"] for m in thread] == ["parent", "in thread", "also here"]
    missing = refusal(
        ws.client.chat_postMessage, channel=ws.general, text="x", thread_ts="1700000000.000001"
    )
    assert missing["error"] == "thread_not_found"
    assert refusal(ws.client.chat_postMessage, channel=ws.general, text="x", thread_ts="soon")[
        "error"
    ] == ("invalid_thread_ts")


def test_conversations_create_follows_slack_naming_rules(ws: Workspace) -> None:
    created = ws.client.conversations_create(name="referrals-north")["channel"]
    assert created["name"] == "referrals-north" and created["is_member"] is True
    for name, error in [
        ("Referrals", "invalid_name_specials"),
        ("two words", "invalid_name_specials"),
        ("x" * 81, "invalid_name_maxlength"),
        ("---", "invalid_name_punctuation"),
        ("referrals-north", "name_taken"),
    ]:
        assert refusal(ws.client.conversations_create, name=name)["error"] == error, name
    assert ws.client.conversations_create(name="x" * 80)["ok"]


# ------------------------------------------------------------------ ephemeral, update, delete, permalink
def test_an_ephemeral_message_is_seen_only_by_its_user(ws: Workspace) -> None:
    reply = ws.client.chat_postEphemeral(channel=ws.general, user=ws.alice, text="only you")
    assert reply["message_ts"]
    assert ws.client.conversations_history(channel=ws.general)["messages"] == []
    assert ws.backend.messages(ws.general) == []
    shown = ws.backend.messages(ws.general, include_ephemeral=True)
    assert [(m["text"], m["visible_to"], m["is_ephemeral"]) for m in shown] == [
        ("only you", ws.alice, True)
    ]
    carol = ws.backend.create_user("carol", "Carol Outside")
    assert refusal(ws.client.chat_postEphemeral, channel=ws.general, user=carol, text="x")[
        "error"
    ] == ("user_not_in_channel")


def test_chat_update_edits_the_bots_own_messages_only(ws: Workspace) -> None:
    ts = ws.client.chat_postMessage(channel=ws.general, text="draft", blocks=[section("draft")])[
        "ts"
    ]
    updated = ws.client.chat_update(
        channel=ws.general, ts=ts, text="final", blocks=[section("final")]
    )
    assert updated["ts"] == ts and updated["text"] == "final"
    stored = ws.backend.messages(ws.general)[0]
    assert stored["text"] == "final" and stored["blocks"][0]["text"]["text"] == "final"
    assert stored["edited"]["user"] == ws.backend.bot_user_id
    human = ws.backend.post_message(ws.general, "mine", user=ws.alice).ts
    assert (
        refusal(ws.client.chat_update, channel=ws.general, ts=human, text="x")["error"]
        == "cant_update_message"
    )
    assert (
        refusal(ws.client.chat_update, channel=ws.general, ts="1.000001", text="x")["error"]
        == "message_not_found"
    )
    bad = refusal(
        ws.client.chat_update, channel=ws.general, ts=ts, text="x", blocks=[section("a" * 3001)]
    )
    assert bad["error"] == "invalid_blocks"


def test_chat_delete_removes_and_leaves_a_tombstone_over_a_thread(ws: Workspace) -> None:
    lone = ws.client.chat_postMessage(channel=ws.general, text="lone")["ts"]
    assert ws.client.chat_delete(channel=ws.general, ts=lone)["ts"] == lone
    assert (
        refusal(ws.client.chat_delete, channel=ws.general, ts=lone)["error"] == "message_not_found"
    )
    parent = ws.client.chat_postMessage(channel=ws.general, text="parent")["ts"]
    ws.backend.post_message(ws.general, "a person's reply", thread_ts=parent, user=ws.alice)
    ws.client.chat_delete(channel=ws.general, ts=parent)
    [tombstone] = ws.backend.messages(ws.general)
    assert tombstone["subtype"] == "tombstone" and "parent" not in tombstone["text"]
    human = ws.backend.post_message(ws.general, "keep", user=ws.bob).ts
    assert (
        refusal(ws.client.chat_delete, channel=ws.general, ts=human)["error"]
        == "cant_delete_message"
    )


def test_chat_get_permalink(ws: Workspace) -> None:
    ts = ws.client.chat_postMessage(channel=ws.general, text="link me")["ts"]
    link = ws.client.chat_getPermalink(channel=ws.general, message_ts=ts)["permalink"]
    assert link.endswith(f"/archives/{ws.general}/p{ts.replace('.', '')}")
    assert refusal(ws.client.chat_getPermalink, channel=ws.general, message_ts="1.000002")[
        "error"
    ] == ("message_not_found")


# ------------------------------------------------------------------ users and usergroups
def test_users_list_info_and_lookup_by_email(ws: Workspace) -> None:
    page = ws.client.users_list(limit=2)
    assert len(page["members"]) == 2 and page["response_metadata"]["next_cursor"]
    everyone = ws.client.users_list()["members"]
    assert {u["id"] for u in everyone} == {ws.alice, ws.bob, ws.backend.bot_user_id}
    assert ws.client.users_info(user=ws.alice)["user"]["real_name"] == "Alice Organizer"
    assert ws.client.users_lookupByEmail(email="BOB@example.org")["user"]["id"] == ws.bob
    assert (
        refusal(ws.client.users_lookupByEmail, email="nobody@example.org")["error"]
        == "users_not_found"
    )
    assert refusal(ws.client.users_info, user="U0NOBODY")["error"] == "user_not_found"


def test_usergroups_list_and_users(ws: Workspace) -> None:
    group = ws.backend.create_usergroup("intake", "Intake staff", users=[ws.alice, ws.bob])
    listed = ws.client.usergroups_list(include_users=True)["usergroups"]
    assert [(g["handle"], g["users"], g["user_count"]) for g in listed] == [
        ("intake", [ws.alice, ws.bob], 2)
    ]
    assert ws.client.usergroups_users_list(usergroup=group)["users"] == [ws.alice, ws.bob]
    assert (
        refusal(ws.client.usergroups_users_list, usergroup="S0NONE")["error"] == "no_such_subteam"
    )


# ------------------------------------------------------------------ views
MODAL = {
    "type": "modal",
    "callback_id": "decline",
    "title": {"type": "plain_text", "text": "Decline referral"},
    "submit": {"type": "plain_text", "text": "Send"},
    "blocks": [
        {
            "type": "input",
            "block_id": "reason",
            "label": {"type": "plain_text", "text": "Reason"},
            "element": {"type": "plain_text_input", "action_id": "reason"},
        }
    ],
}


def test_views_open_takes_a_trigger_id_once(ws: Workspace) -> None:
    trigger = ws.backend.issue_trigger(ws.alice)
    view = ws.client.views_open(trigger_id=trigger, view=MODAL)["view"]
    assert view["id"].startswith("V") and view["callback_id"] == "decline" and view["hash"]
    assert ws.backend.top_view(ws.alice)["id"] == view["id"]
    assert (
        refusal(ws.client.views_open, trigger_id=trigger, view=MODAL)["error"]
        == "exchanged_trigger_id"
    )
    assert (
        refusal(ws.client.views_open, trigger_id="123.456.abc", view=MODAL)["error"]
        == "invalid_trigger_id"
    )


def test_a_trigger_id_expires_after_three_seconds(ws: Workspace) -> None:
    ws.sandbox.sandbox.clock.scale = 1000.0  # 3 s pass in 3 ms
    trigger = ws.backend.issue_trigger(ws.alice)
    time.sleep(0.05)
    assert (
        refusal(ws.client.views_open, trigger_id=trigger, view=MODAL)["error"]
        == "expired_trigger_id"
    )


def test_an_invalid_view_is_refused_without_spending_the_trigger(ws: Workspace) -> None:
    trigger = ws.backend.issue_trigger(ws.alice)
    bad = {**MODAL, "title": {"type": "plain_text", "text": "t" * 25}}
    body = refusal(ws.client.views_open, trigger_id=trigger, view=bad)
    assert body["error"] == "invalid_arguments"
    assert any("/view/title/text" in m for m in body["response_metadata"]["messages"])
    assert ws.client.views_open(trigger_id=trigger, view=MODAL)["ok"]


def test_views_update_checks_hash_and_push_stacks(ws: Workspace) -> None:
    view = ws.client.views_open(trigger_id=ws.backend.issue_trigger(ws.alice), view=MODAL)["view"]
    changed = {**MODAL, "title": {"type": "plain_text", "text": "Updated"}}
    updated = ws.client.views_update(view_id=view["id"], hash=view["hash"], view=changed)["view"]
    assert updated["title"]["text"] == "Updated"
    stale = refusal(ws.client.views_update, view_id=view["id"], hash=view["hash"], view=changed)
    assert stale["error"] == "hash_conflict"
    assert refusal(ws.client.views_update, view_id="V0NONE", view=changed)["error"] == "not_found"
    for _ in range(2):
        pushed = ws.client.views_push(trigger_id=ws.backend.issue_trigger(ws.alice), view=MODAL)[
            "view"
        ]
        assert pushed["root_view_id"] == view["id"]
    full = refusal(ws.client.views_push, trigger_id=ws.backend.issue_trigger(ws.alice), view=MODAL)
    assert full["error"] == "push_limit_reached"


# ------------------------------------------------------------------ model conveniences
def test_all_messages_keeps_every_version_for_leak_scans(ws: Workspace) -> None:
    ts = ws.client.chat_postMessage(channel=ws.general, text="first words")["ts"]
    ws.client.chat_update(channel=ws.general, ts=ts, text="second words")
    ws.client.chat_postEphemeral(channel=ws.general, user=ws.alice, text="whisper")
    ws.client.chat_delete(channel=ws.general, ts=ts)
    seen = [(m["kind"], m["text"]) for m in ws.backend.all_messages()]
    assert seen == [("message", "first words"), ("edit", "second words"), ("ephemeral", "whisper")]


def test_snapshot_and_restore_keep_the_workspace(ws: Workspace) -> None:
    metadata = {"event_type": "x", "event_payload": {"n": 1}}
    ts = ws.client.chat_postMessage(channel="general", text="kept", metadata=metadata)["ts"]
    snapshot = ws.backend.snapshot()
    ws.backend.reset()
    assert ws.backend.channel_by_name("general") is None
    ws.backend.restore(snapshot)
    assert ws.backend.channel_by_name("#general")["id"] == ws.general
    assert ws.backend.messages(ws.general)[0]["metadata"] == metadata
    later = ws.client.chat_postMessage(channel="general", text="after")["ts"]
    assert float(later) > float(ts)


# ------------------------------------------------------------------ documented details (issue 21)
def test_bot_profile_carries_updated_and_icons(ws: Workspace) -> None:
    """Slack's bot_profile on the bot's messages: updated (epoch seconds) and three icon sizes."""
    posted = ws.client.chat_postMessage(channel=ws.general, text="hello")
    ws.client.chat_postMessage(channel=ws.general, text="in thread", thread_ts=posted["ts"])
    seen = [
        posted["message"]["bot_profile"],
        ws.client.conversations_history(channel=ws.general)["messages"][0]["bot_profile"],
        *(
            m["bot_profile"]
            for m in ws.client.conversations_replies(channel=ws.general, ts=posted["ts"])[
                "messages"
            ]
        ),
    ]
    for profile in seen:
        assert profile["id"] == ws.backend.bot_id
        assert profile["app_id"] == "A0COALITION"
        assert isinstance(profile["updated"], int) and profile["updated"] > 1_600_000_000
        assert set(profile["icons"]) == {"image_36", "image_48", "image_72"}
        assert all(url.startswith("https://") for url in profile["icons"].values())
    assert len({p["updated"] for p in seen}) == 1


def test_the_parent_in_conversations_replies_carries_thread_fields(ws: Workspace) -> None:
    parent = ws.client.chat_postMessage(channel=ws.general, text="parent")["ts"]
    reply = ws.client.chat_postMessage(channel=ws.general, text="reply", thread_ts=parent)["ts"]
    first, second = ws.client.conversations_replies(channel=ws.general, ts=parent)["messages"]
    assert first["ts"] == parent
    assert first["reply_count"] == 1
    assert first["reply_users"] == [ws.backend.bot_user_id]
    assert first["reply_users_count"] == 1
    assert first["latest_reply"] == reply
    assert first["subscribed"] is False
    assert first["is_locked"] is False
    assert "subscribed" not in second and "reply_count" not in second
    alone = ws.client.chat_postMessage(channel=ws.general, text="no thread")["ts"]
    (only,) = ws.client.conversations_replies(channel=ws.general, ts=alone)["messages"]
    assert "subscribed" not in only


def test_profiles_carry_every_string_field_slack_always_sends(ws: Workspace) -> None:
    for user in [
        ws.client.users_info(user=ws.alice)["user"],
        ws.client.users_lookupByEmail(email="alice@example.org")["user"],
        next(m for m in ws.client.users_list()["members"] if m["id"] == ws.alice),
    ]:
        profile = user["profile"]
        for key in ["title", "phone", "skype", "status_text", "status_emoji"]:
            assert profile[key] == "", key
        assert isinstance(profile["avatar_hash"], str) and profile["avatar_hash"]
        assert profile["fields"] == {}
        assert profile["real_name"] == "Alice Organizer"
        assert profile["first_name"] == "Alice" and profile["last_name"] == "Organizer"
        assert profile["image_72"].startswith("https://")


def test_conversations_invite(ws: Workspace) -> None:
    carol = ws.backend.create_user("carol", "Carol Partner")
    dave = ws.backend.create_user("dave", "Dave Partner")
    room = ws.client.conversations_create(name="partners")["channel"]["id"]
    invited = ws.client.conversations_invite(channel=room, users=[carol, dave])
    assert invited["channel"]["id"] == room
    assert set(ws.client.conversations_members(channel=room)["members"]) == {
        ws.backend.bot_user_id,
        carol,
        dave,
    }
    already = refusal(ws.client.conversations_invite, channel=room, users=carol)
    assert already["error"] == "already_in_channel"
    assert already["errors"] == [{"user": carol, "ok": False, "error": "already_in_channel"}]
    assert (
        refusal(ws.client.conversations_invite, channel=room, users=ws.backend.bot_user_id)["error"]
        == "cant_invite_self"
    )
    assert (
        refusal(ws.client.conversations_invite, channel=room, users="U0NOBODY00")["error"]
        == "user_not_found"
    )
    assert (
        refusal(ws.client.conversations_invite, channel="C0MISSING0", users=carol)["error"]
        == "channel_not_found"
    )
    outside = ws.backend.create_channel("elsewhere", members=[ws.alice])
    assert (
        refusal(ws.client.conversations_invite, channel=outside, users=carol)["error"]
        == "not_in_channel"
    )
    # With force, the valid ones are invited and the rest reported.
    forced = ws.client.conversations_invite(
        channel=ws.general, users=[carol, ws.alice, "U0NOBODY00"], force=True
    )
    assert carol in ws.client.conversations_members(channel=ws.general)["members"]
    assert [e["error"] for e in forced["errors"]] == ["already_in_channel", "user_not_found"]
    partial = refusal(ws.client.conversations_invite, channel=room, users=[ws.bob, "U0NOBODY00"])
    assert partial["error"] == "user_not_found"
    assert ws.bob not in ws.client.conversations_members(channel=room)["members"]  # all or nothing
