"""The sandbox playing Slack toward an app: signed slash commands, clicks and submissions; response URLs."""

from __future__ import annotations

import asyncio
import json
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qsl

import pytest
import uvicorn
from slack_bolt import App
from slack_bolt.adapter.starlette import SlackRequestHandler
from slack_sdk import WebClient
from slack_sdk.signature import SignatureVerifier
from slack_sdk.webhook import WebhookClient
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from sandbox.runner import free_port
from sandbox.slack import app_side
from sandbox.slack.control import call_control
from sandbox.slack.models import Backend

SECRET = "sandbox-signing-secret"


# ------------------------------------------------------------------ a tiny app, served for real
@dataclass
class RecordingApp:
    """An app that checks signatures with slack_sdk's verifier and records what Slack sent."""

    secret: str = SECRET
    received: list[dict[str, Any]] = field(default_factory=list)
    rejected: int = 0
    answer: Callable[[dict[str, Any]], Response] = lambda _: Response(status_code=200)

    async def events(self, request: Request) -> Response:
        body = await request.body()
        if not SignatureVerifier(self.secret).is_valid_request(body, dict(request.headers)):
            self.rejected += 1
            return Response("invalid signature", status_code=401)
        fields = dict(parse_qsl(body.decode(), keep_blank_values=True))
        sent = json.loads(fields["payload"]) if "payload" in fields else fields
        self.received.append(sent)
        return self.answer(sent)


@dataclass
class Served:
    url: str
    server: uvicorn.Server
    thread: threading.Thread


def serve(app: Any) -> Served:
    port = free_port()
    config = uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", lifespan="off")
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started:
        assert thread.is_alive() and time.monotonic() < deadline, "test app did not start"
        time.sleep(0.02)
    return Served(f"http://127.0.0.1:{port}/slack/events", server, thread)


def stop(served: Served) -> None:
    served.server.should_exit = True
    served.thread.join(timeout=10)


@pytest.fixture
def app() -> Iterator[tuple[RecordingApp, str]]:
    recording = RecordingApp()
    served = serve(Starlette(routes=[Route("/slack/events", recording.events, methods=["POST"])]))
    yield recording, served.url
    stop(served)


@dataclass
class Workspace:
    sandbox: Any
    backend: Backend
    client: WebClient
    alice: str
    general: str


@pytest.fixture
def ws(sandbox: Any) -> Workspace:
    backend: Backend = sandbox.services["slack"]
    alice = backend.create_user("alice", "Alice Organizer", email="alice@example.org")
    general = backend.create_channel("general", members=[alice, backend.bot_user_id])
    client = WebClient(token="x", base_url=sandbox.url + "/api/")
    return Workspace(sandbox, backend, client, alice, general)


def command(ws: Workspace, app_url: str, **extra: Any) -> dict[str, Any]:
    body = {"app_url": app_url, "text": "status", "user": "alice", "channel": "general", **extra}
    reply = ws.sandbox.http.post("/_sandbox/slack/command", json=body)
    return reply.json()


# ------------------------------------------------------------------ signing
def test_sign_matches_slack_sdks_own_signature() -> None:
    body = "token=t&team_id=T0COALITION&text=hello%20there"
    expected = SignatureVerifier(SECRET).generate_signature(timestamp="1764370000", body=body)
    assert app_side.sign(SECRET, 1764370000, body) == expected
    assert app_side.sign(SECRET, "1764370000", body.encode()) == expected


def test_a_signed_slash_command_reaches_the_app_with_slacks_fields(ws: Workspace, app: Any) -> None:
    recording, url = app
    recording.answer = lambda _: JSONResponse(
        {"response_type": "ephemeral", "text": "Working on it"}
    )
    result = command(ws, url, text="route status")
    assert result["ok"] is True and result["status"] == 200
    [sent] = recording.received
    assert sent["command"] == "/coalition" and sent["text"] == "route status"
    assert (sent["team_id"], sent["channel_id"], sent["channel_name"]) == (
        "T0COALITION",
        ws.general,
        "general",
    )
    assert (sent["user_id"], sent["user_name"]) == (ws.alice, "alice")
    assert sent["response_url"] == result["response_url"]
    assert "/hooks/commands/" in sent["response_url"]
    assert sent["trigger_id"] and sent["api_app_id"] == ws.backend.app_id and sent["token"]
    shown = ws.backend.messages(ws.general, include_ephemeral=True)
    assert [(m["text"], m["visible_to"]) for m in shown] == [("Working on it", ws.alice)]
    assert ws.backend.messages(ws.general) == []


def test_a_forged_signature_fails_verification(ws: Workspace, app: Any) -> None:
    recording, url = app
    assert command(ws, url, bad_signature=True)["status"] == 401
    assert command(ws, url, signing_secret="someone-elses-secret")["status"] == 401
    assert recording.rejected == 2 and recording.received == []


def test_a_request_older_than_five_minutes_fails_verification(ws: Workspace, app: Any) -> None:
    recording, url = app
    assert command(ws, url, timestamp=int(time.time()) - 301)["status"] == 401
    assert command(ws, url, timestamp=int(time.time()) - 240)["status"] == 200
    assert recording.rejected == 1 and len(recording.received) == 1


def test_an_unreachable_app_is_dispatch_failed(ws: Workspace) -> None:
    body = {
        "app_url": f"http://127.0.0.1:{free_port()}/slack/events",
        "user": "alice",
        "channel": "general",
    }
    result = call_control(ws.sandbox.url, "command", body)
    assert result["ok"] is False and result["error"] == "dispatch_failed"


def test_an_app_slower_than_the_ack_window_is_operation_timeout(ws: Workspace) -> None:
    async def slow(request: Request) -> Response:
        await asyncio.sleep(0.5)
        return Response(status_code=200)

    served = serve(Starlette(routes=[Route("/slack/events", slow, methods=["POST"])]))
    try:
        result = command(ws, served.url, timeout=0.2)
        assert result["ok"] is False and result["error"] == "operation_timeout"
    finally:
        stop(served)


# ------------------------------------------------------------------ response URLs
def test_response_url_posts_appear_in_the_channel_and_the_sixth_is_refused(
    ws: Workspace, app: Any
) -> None:
    _, url = app
    hook = WebhookClient(command(ws, url)["response_url"])
    assert hook.send(text="Visible to all", response_type="in_channel").status_code == 200
    assert hook.send(text="Just for you").status_code == 200
    for i in range(3):
        assert hook.send(text=f"more {i}", response_type="in_channel").status_code == 200
    sixth = hook.send(text="one too many", response_type="in_channel")
    assert sixth.status_code == 404 and json.loads(sixth.body)["error"] == "used_url"
    public = [m["text"] for m in ws.backend.messages(ws.general)]
    assert public == ["Visible to all", "more 0", "more 1", "more 2"]
    private = [
        m for m in ws.backend.messages(ws.general, include_ephemeral=True) if m.get("is_ephemeral")
    ]
    assert [(m["text"], m["visible_to"]) for m in private] == [("Just for you", ws.alice)]
    assert "one too many" not in {m["text"] for m in ws.backend.all_messages()}


def test_a_response_url_expires_after_thirty_minutes(ws: Workspace, app: Any) -> None:
    _, url = app
    response_url = command(ws, url)["response_url"]
    ws.sandbox.sandbox.clock.scale = 100_000.0  # 30 minutes pass in 18 ms
    time.sleep(0.05)
    late = WebhookClient(response_url).send(text="too late")
    assert late.status_code == 404 and json.loads(late.body)["error"] == "expired_url"


def test_replace_and_delete_original_act_on_the_previous_response(ws: Workspace, app: Any) -> None:
    recording, url = app
    recording.answer = lambda _: JSONResponse({"text": "Looking..."})
    hook = WebhookClient(command(ws, url)["response_url"])
    assert hook.send(text="Found 3 referrals", replace_original=True).status_code == 200
    shown = ws.backend.messages(ws.general, include_ephemeral=True)
    assert [m["text"] for m in shown] == ["Found 3 referrals"]
    assert hook.send(text="", delete_original=True).status_code == 200
    assert ws.backend.messages(ws.general, include_ephemeral=True) == []


def test_response_url_refuses_invalid_blocks(ws: Workspace, app: Any) -> None:
    _, url = app
    hook = WebhookClient(command(ws, url)["response_url"])
    bad = hook.send(
        text="x", blocks=[{"type": "section", "text": {"type": "mrkdwn", "text": "a" * 3001}}]
    )
    assert bad.status_code == 400 and json.loads(bad.body)["error"] == "invalid_blocks"


# ------------------------------------------------------------------ clicks and modals
REFERRAL_BLOCKS = [
    {"type": "section", "text": {"type": "mrkdwn", "text": "New referral R-17 for your team"}},
    {
        "type": "actions",
        "block_id": "decide",
        "elements": [
            {
                "type": "button",
                "action_id": "accept",
                "text": {"type": "plain_text", "text": "Accept"},
                "value": "R-17",
            },
            {
                "type": "button",
                "action_id": "decline",
                "text": {"type": "plain_text", "text": "Decline"},
                "value": "R-17",
            },
        ],
    },
]

DECLINE_MODAL = {
    "type": "modal",
    "callback_id": "decline",
    "private_metadata": "R-17",
    "title": {"type": "plain_text", "text": "Decline referral"},
    "submit": {"type": "plain_text", "text": "Send"},
    "blocks": [
        {
            "type": "input",
            "block_id": "reason",
            "label": {"type": "plain_text", "text": "Reason"},
            "element": {
                "type": "static_select",
                "action_id": "why",
                "options": [
                    {"text": {"type": "plain_text", "text": "No capacity"}, "value": "capacity"},
                    {"text": {"type": "plain_text", "text": "Conflict"}, "value": "conflict"},
                ],
            },
        },
        {
            "type": "input",
            "block_id": "note",
            "optional": True,
            "label": {"type": "plain_text", "text": "Note"},
            "element": {"type": "plain_text_input", "action_id": "text"},
        },
    ],
}


def test_a_click_sends_block_actions_built_from_the_stored_message(ws: Workspace, app: Any) -> None:
    recording, url = app
    ts = ws.client.chat_postMessage(
        channel=ws.general, text="New referral", blocks=REFERRAL_BLOCKS
    )["ts"]
    body = {
        "app_url": url,
        "user": ws.alice,
        "channel": ws.general,
        "message_ts": ts,
        "action_id": "accept",
    }
    result = ws.sandbox.http.post("/_sandbox/slack/action", json=body).json()
    assert result["ok"] is True and result["status"] == 200
    [payload] = recording.received
    assert payload["type"] == "block_actions"
    assert payload["user"]["id"] == ws.alice and payload["channel"]["id"] == ws.general
    assert payload["container"] == {
        "type": "message",
        "message_ts": ts,
        "channel_id": ws.general,
        "is_ephemeral": False,
    }
    assert (
        payload["message"]["ts"] == ts and payload["message"]["blocks"][1]["block_id"] == "decide"
    )
    [action] = payload["actions"]
    assert (action["action_id"], action["block_id"], action["value"], action["type"]) == (
        "accept",
        "decide",
        "R-17",
        "button",
    )
    hook = WebhookClient(payload["response_url"])
    assert hook.send(text="Accepted by Alice's team", replace_original=True).status_code == 200
    [message] = ws.backend.messages(ws.general)
    assert (
        message["ts"] == ts
        and message["text"] == "Accepted by Alice's team"
        and "blocks" not in message
    )
    view = ws.client.views_open(trigger_id=payload["trigger_id"], view=DECLINE_MODAL)["view"]
    assert ws.backend.top_view(ws.alice)["id"] == view["id"]


def test_clicking_an_unknown_action_or_message_is_refused(ws: Workspace, app: Any) -> None:
    recording, url = app
    ts = ws.client.chat_postMessage(channel=ws.general, text="x", blocks=REFERRAL_BLOCKS)["ts"]
    base = {"app_url": url, "user": ws.alice, "channel": ws.general}
    unknown_action = ws.sandbox.http.post(
        "/_sandbox/slack/action", json={**base, "message_ts": ts, "action_id": "nope"}
    )
    assert (
        unknown_action.status_code == 404 and unknown_action.json()["error"] == "action_not_found"
    )
    no_message = ws.sandbox.http.post(
        "/_sandbox/slack/action", json={**base, "message_ts": "1.000001", "action_id": "accept"}
    )
    assert no_message.json()["error"] == "message_not_found"
    assert recording.received == []


def open_decline_modal(ws: Workspace) -> str:
    trigger = ws.backend.issue_trigger(ws.alice)
    return ws.client.views_open(trigger_id=trigger, view=DECLINE_MODAL)["view"]["id"]


def test_a_submission_sends_view_submission_and_an_ack_closes_the_modal(
    ws: Workspace, app: Any
) -> None:
    recording, url = app
    view_id = open_decline_modal(ws)
    values = {"reason": {"why": "capacity"}, "note": {"text": "Full until May"}}
    result = ws.sandbox.http.post(
        "/_sandbox/slack/submit",
        json={"app_url": url, "view_id": view_id, "user": "alice", "values": values},
    ).json()
    assert result["ok"] is True and result["outcome"] == "closed"
    [payload] = recording.received
    assert payload["type"] == "view_submission" and payload["user"]["id"] == ws.alice
    state = payload["view"]["state"]["values"]
    assert state["reason"]["why"]["selected_option"]["value"] == "capacity"
    assert state["note"]["text"] == {"type": "plain_text_input", "value": "Full until May"}
    assert (
        payload["view"]["private_metadata"] == "R-17"
        and payload["view"]["callback_id"] == "decline"
    )
    assert ws.backend.top_view(ws.alice) is None


def test_response_action_errors_keep_the_modal_open(ws: Workspace, app: Any) -> None:
    recording, url = app
    recording.answer = lambda _: JSONResponse(
        {"response_action": "errors", "errors": {"reason": "Pick one"}}
    )
    view_id = open_decline_modal(ws)
    body = {"app_url": url, "view_id": view_id, "values": {"reason": {"why": "conflict"}}}
    result = ws.sandbox.http.post("/_sandbox/slack/submit", json=body).json()
    assert result["outcome"] == "errors" and result["view_errors"] == {"reason": "Pick one"}
    assert ws.backend.top_view(ws.alice)["id"] == view_id


def test_a_required_input_left_empty_never_reaches_the_app(ws: Workspace, app: Any) -> None:
    recording, url = app
    view_id = open_decline_modal(ws)
    body = {"app_url": url, "view_id": view_id, "values": {"note": {"text": "no reason"}}}
    reply = ws.sandbox.http.post("/_sandbox/slack/submit", json=body)
    assert reply.status_code == 400
    assert reply.json()["error"] == "missing_required_input" and reply.json()["block_ids"] == [
        "reason"
    ]
    assert recording.received == []


# ------------------------------------------------------------------ a real Bolt app
def test_a_bolt_app_acks_a_command_and_answers_through_the_response_url(ws: Workspace) -> None:
    bolt = App(
        client=WebClient(token="x", base_url=ws.sandbox.url + "/api/"),
        signing_secret=SECRET,
        process_before_response=True,
    )

    @bolt.command("/coalition")
    def coalition(
        ack: Callable[..., None], respond: Callable[..., Any], command: dict[str, Any]
    ) -> None:
        ack()
        respond(text=f"Status for {command['channel_name']}: all clear", response_type="in_channel")

    handler = SlackRequestHandler(bolt)

    async def events(request: Request) -> Response:
        return await handler.handle(request)

    served = serve(Starlette(routes=[Route("/slack/events", events, methods=["POST"])]))
    try:
        assert command(ws, served.url)["status"] == 200
        assert [m["text"] for m in ws.backend.messages(ws.general)] == [
            "Status for general: all clear"
        ]
        assert command(ws, served.url, bad_signature=True)["status"] == 401
    finally:
        stop(served)
