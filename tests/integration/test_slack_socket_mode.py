"""The Slack app in Socket Mode, driven through the sandbox's Slack as people use it.

The real app (create_runtime / create_app, SLACK_APP_TOKEN from the environment) dials
out to the sandbox with slack_bolt's SocketModeHandler (slack_sdk's builtin WebSocket
client): apps.connections.open, the WebSocket, `hello`, then every slash command, click and
modal submission arrives as an envelope the app must acknowledge within 3 s. The control
endpoints answer as they do over HTTP, so these tests assert what the HTTP tests in
test_slack_app.py assert: what people see in Slack, the ledger, the Intake sheet.
"""

from __future__ import annotations

import json
import logging
import threading
import time
from collections.abc import Callable, Iterator
from typing import Any

import httpx
import pytest
from intake_helpers import seed_partner_directory
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError
from slack_sdk.socket_mode import SocketModeClient
from test_slack_app import (
    POLICY_STAFF,
    STAFF,
    Bot,
    FlowCalls,
    buttons_of,
    events,
    fake_registry,
    intake_row,
    message_text,
    notice,
    partner_slack_users,
    referral,
    route,
    single_notice,
    slug_of,
)
from websockets.exceptions import InvalidStatus
from websockets.sync.client import connect

from bot.app import create_runtime
from bot.data import audit_entries
from bot.flowruns import FlowRunner
from bot.server import RunningSocketBot, start_socket_mode_in_thread
from coalition.intake.sheet_rows import STATUS_TEXT
from coalition.settings import reload_settings, settings
from integrations.slack import forget_channels
from sandbox.slack.socket_mode import APP_TOKEN

WRONG_APP_TOKEN = "xapp-1-A0COALITION-1-not-this-one"


class SocketBot(Bot):
    """The HTTP tests' Bot, with every person's action delivered through the WebSocket."""

    @property
    def url(self) -> str:
        raise AssertionError("a Socket Mode app has no Request URL")

    def control(self, endpoint: str, body: dict[str, Any]) -> dict[str, Any]:
        body = {k: v for k, v in body.items() if k != "app_url"}
        return super().control(endpoint, {**body, "via": "socket"})

    def slash(
        self, text: str, user: str = STAFF, channel: str = "intake-triage", **extra: Any
    ) -> dict:
        result = self.control("command", {"text": text, "user": user, "channel": channel, **extra})
        self.settle()
        return result

    def click(
        self, user: str, channel: str, ts: str, action_id: str, value: str | None = None
    ) -> dict:
        body = {"user": user, "channel": channel, "message_ts": ts, "action_id": action_id}
        if value is not None:
            body["value"] = value
        result = self.control("action", body)
        self.settle()
        return result

    def submit(self, view_id: str, user: str, values: dict[str, Any]) -> dict:
        result = self.control("submit", {"view_id": view_id, "user": user, "values": values})
        self.settle()
        return result

    def socket_state(self) -> dict[str, Any]:
        return self.handle.http.get("/_sandbox/slack/socket").json()


def wait_for(condition: Callable[[], bool], seconds: float = 15.0) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.05)
    return condition()


def threads_besides(before: set[threading.Thread]) -> list[str]:
    return [t.name for t in threading.enumerate() if t not in before and t.is_alive()]


@pytest.fixture
def logs(caplog: pytest.LogCaptureFixture) -> Iterator[pytest.LogCaptureFixture]:
    """Every log record, the sandbox's uvicorn ones too (they do not reach the root logger)."""
    caplog.set_level(logging.INFO)
    uvicorn_error = logging.getLogger("uvicorn.error")
    uvicorn_error.addHandler(caplog.handler)
    yield caplog
    uvicorn_error.removeHandler(caplog.handler)


def app_env(handle: Any, monkeypatch: pytest.MonkeyPatch, app_token: str) -> None:
    monkeypatch.setenv("COALITION_TIME_SCALE", "50")  # Slack's 1 message/s/channel, sped up
    monkeypatch.delenv("PREFECT_API_URL", raising=False)
    monkeypatch.setenv("SLACK_APP_TOKEN", app_token)
    reload_settings()
    forget_channels()


@pytest.fixture
def socket_bot(
    demo: Any, monkeypatch: pytest.MonkeyPatch, logs: pytest.LogCaptureFixture
) -> Iterator[SocketBot]:
    app_env(demo, monkeypatch, APP_TOKEN)
    users = partner_slack_users(demo)
    partners = seed_partner_directory(
        demo, **{slug: {"slack_users": list(ids)} for slug, ids in users.items()}
    )
    calls = FlowCalls()
    runtime = create_runtime(
        settings(), runner=FlowRunner(registry=fake_registry(calls), api_url="")
    )
    running = start_socket_mode_in_thread(runtime)
    bot = SocketBot(demo, running, runtime, calls, partners, users)
    yield bot
    calls.release.set()
    running.stop()
    assert problems(logs) == []


def problems(logs: pytest.LogCaptureFixture) -> list[str]:
    """Errors and tracebacks logged by the app, slack_sdk's client or the sandbox."""
    return [
        r.getMessage()
        for r in logs.records
        if r.levelno >= logging.ERROR or r.exc_info or "Traceback" in r.getMessage()
    ]


def stopped_cleanly(
    running: RunningSocketBot, bot: SocketBot, before: set[threading.Thread]
) -> None:
    running.stop()
    assert not running.connected
    assert wait_for(lambda: bot.socket_state()["connections"] == []), bot.socket_state()
    assert wait_for(lambda: not threads_besides(before)), threads_besides(before)


# ------------------------------------------------------------------ the app over the WebSocket
def test_help_is_answered_through_the_socket(socket_bot: SocketBot) -> None:
    [connection] = socket_bot.socket_state()["connections"]
    result = socket_bot.slash("help")
    assert result["ok"] and result["via"] == "socket"
    assert result["status"] == 200 and result["elapsed_ms"] < 3000
    staff_help = socket_bot.last_answer(STAFF, "intake-triage")
    assert "/coalition why INTAKE-ID" in staff_help and "/coalition run FLOW" not in staff_help
    state = socket_bot.socket_state()
    assert state["connections"][0]["id"] == connection["id"]
    assert (state["connections"][0]["envelopes"], state["connections"][0]["acks"]) == (1, 1)
    assert state["pending"] == 0 and state["stray_acks"] == 0
    assert socket_bot.bot_messages("intake-triage") == []


def test_accept_is_acknowledged_and_applied(socket_bot: SocketBot) -> None:
    bot = socket_bot
    ref = single_notice(bot, route(bot))
    slug = slug_of(bot, ref.partner_id)
    user = bot.partner_users[slug][0]
    result = bot.click(user, ref.slack_channel, ref.slack_ts, "referral_accept")
    assert result["ok"] and result["via"] == "socket"
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
    assert (entry.actor, entry.role, entry.allowed) == (user, "partner", True)


def test_a_command_from_another_workspace_is_answered_and_not_acted_on(
    socket_bot: SocketBot,
) -> None:
    from bot.inbound import FOREIGN_WORDS

    result = socket_bot.slash("intake week", team_id="T0ELSEWHERE")
    assert result["status"] == 200 and result["via"] == "socket"
    assert socket_bot.answers_to(STAFF, "intake-triage") == [FOREIGN_WORDS]
    assert audit_entries(socket_bot.runtime.ledger) == []
    socket_bot.slash("intake week")
    assert "Intake this week" in socket_bot.last_answer(STAFF, "intake-triage")


def test_a_modal_answer_rides_on_the_ack(socket_bot: SocketBot) -> None:
    """A submission's input errors come back in the ack's payload; an empty ack closes the modal."""
    bot = socket_bot
    bot.slash("alert", user=POLICY_STAFF, channel="organizing")
    draft = bot.slack.top_view(POLICY_STAFF)
    assert draft is not None and draft["callback_id"] == "campaign_draft"
    values = {"title": {"value": "Rally"}, "message": {"value": "Join us"}}
    bad = bot.submit(draft["id"], POLICY_STAFF, {**values, "link": {"value": "javascript:x"}})
    assert bad["via"] == "socket" and bad["status"] == 200
    assert bad["outcome"] == "errors" and "link" in bad["view_errors"]
    assert json.loads(bad["body"])["response_action"] == "errors"
    assert bot.slack.top_view(POLICY_STAFF)["id"] == draft["id"]  # still open, errors shown

    ref = single_notice(bot, route(bot))
    user = bot.partner_users[slug_of(bot, ref.partner_id)][0]
    bot.click(user, ref.slack_channel, ref.slack_ts, "referral_decline")
    view = bot.slack.top_view(user)
    assert view is not None and view["callback_id"] == "referral_decline_reason"
    done = bot.submit(view["id"], user, {"reason": {"value": "no_capacity"}})
    assert done["via"] == "socket" and done["outcome"] == "closed" and done["body"] == ""
    assert bot.slack.top_view(user) is None
    assert referral(ref.referral_id).state == "declined"
    assert "Declined* by" in message_text(notice(bot, ref))


def test_the_app_reconnects_when_slack_asks(socket_bot: SocketBot) -> None:
    [first] = socket_bot.socket_state()["connections"]
    told = socket_bot.handle.http.post(
        "/_sandbox/slack/socket/disconnect", json={"reason": "refresh_requested"}
    ).json()
    assert told == {"ok": True, "told": 1}
    assert wait_for(
        lambda: [c["id"] for c in socket_bot.socket_state()["connections"]] == [first["id"] + 1]
    ), socket_bot.socket_state()
    result = socket_bot.slash("help")
    assert result["ok"] and result["status"] == 200
    assert "/coalition why INTAKE-ID" in socket_bot.last_answer(STAFF, "intake-triage")


# ------------------------------------------------------------------ tokens, start and stop
def test_a_wrong_app_token_is_refused_and_leaves_nothing_running(
    demo: Any, monkeypatch: pytest.MonkeyPatch, logs: pytest.LogCaptureFixture
) -> None:
    app_env(demo, monkeypatch, WRONG_APP_TOKEN)
    before = set(threading.enumerate())
    runtime = create_runtime(settings(), runner=FlowRunner(registry={}, api_url=""))
    with pytest.raises(SlackApiError) as refused:
        start_socket_mode_in_thread(runtime)
    assert refused.value.response["error"] == "invalid_auth"
    runtime.shutdown()
    assert demo.services["slack"].socket.describe()["connections"] == []
    assert wait_for(lambda: not threads_besides(before)), threads_besides(before)
    assert WRONG_APP_TOKEN not in logs.text
    # The bot token is no app-level token, and an app token opens nothing else.
    client = WebClient(token=APP_TOKEN, base_url=f"{demo.url}/api/")
    with pytest.raises(SlackApiError) as bot_token:
        client.apps_connections_open(app_token="sandbox-token")
    assert bot_token.value.response["error"] == "not_allowed_token_type"
    with pytest.raises(SlackApiError) as app_token_elsewhere:
        client.auth_test()
    assert app_token_elsewhere.value.response["error"] == "not_allowed_token_type"
    demo.services["slack"].revoked_tokens.add(APP_TOKEN)
    with pytest.raises(SlackApiError) as revoked:
        client.apps_connections_open(app_token=APP_TOKEN)
    assert revoked.value.response["error"] == "invalid_auth"


def test_stop_disconnects_cleanly(
    demo: Any, monkeypatch: pytest.MonkeyPatch, logs: pytest.LogCaptureFixture
) -> None:
    app_env(demo, monkeypatch, APP_TOKEN)
    before = set(threading.enumerate())
    calls = FlowCalls()
    runtime = create_runtime(
        settings(), runner=FlowRunner(registry=fake_registry(calls), api_url="")
    )
    running = start_socket_mode_in_thread(runtime)
    bot = SocketBot(demo, running, runtime, calls, {}, {})
    assert running.connected and len(bot.socket_state()["connections"]) == 1
    assert bot.slash("help")["status"] == 200
    stopped_cleanly(running, bot, before)
    # Slack now has nobody to deliver to: the person sees dispatch_failed, as over HTTP.
    after = bot.handle.http.post(
        "/_sandbox/slack/command",
        json={"via": "socket", "text": "help", "user": STAFF, "channel": "intake-triage"},
    ).json()
    assert (after["ok"], after["status"], after["error"]) == (False, 0, "dispatch_failed")
    assert problems(logs) == []
    assert APP_TOKEN not in logs.text


# ------------------------------------------------------------------ the sandbox's side alone
def test_an_app_that_never_acks_times_out_like_a_slow_http_app(demo: Any) -> None:
    """A bare slack_sdk client that listens but never acknowledges: Slack gives up after the timeout."""
    client = SocketModeClient(
        app_token=APP_TOKEN,
        web_client=WebClient(token="sandbox-token", base_url=f"{demo.url}/api/"),
    )
    hello = threading.Event()
    seen: list[dict[str, Any]] = []

    def listen(_client: Any, message: dict, _raw: str | None) -> None:
        if message.get("type") == "hello":
            hello.set()
        else:
            seen.append(message)

    client.message_listeners.append(listen)
    try:
        client.connect()
        assert hello.wait(10)
        result = httpx.post(
            f"{demo.url}/_sandbox/slack/command",
            json={"text": "help", "user": STAFF, "channel": "intake-triage", "timeout": 0.5},
            timeout=10,
        ).json()
    finally:
        client.close()
    assert (result["ok"], result["via"], result["status"]) == (False, "socket", 0)
    assert result["error"] == "operation_timeout" and 400 <= result["elapsed_ms"] < 3000
    [envelope] = seen
    assert envelope["type"] == "slash_commands" and envelope["accepts_response_payload"] is True
    assert envelope["payload"]["command"] == "/coalition" and envelope["payload"]["text"] == "help"
    assert envelope["payload"]["response_url"] == result["response_url"]


def test_control_calls_need_an_app_url_or_a_connected_app(demo: Any) -> None:
    body = {"text": "help", "user": STAFF, "channel": "intake-triage"}
    nothing = demo.http.post("/_sandbox/slack/command", json=body)
    assert nothing.json()["error"] == "app_url_required"
    bad = demo.http.post("/_sandbox/slack/command", json={**body, "via": "pigeon"})
    assert bad.json()["error"] == "invalid_via"
    # A ticket opens one connection; an unknown or used one is refused at the handshake.
    opened = demo.http.post(
        "/api/apps.connections.open", headers={"Authorization": f"Bearer {APP_TOKEN}"}
    ).json()
    assert opened["ok"] and opened["url"].startswith(demo.url.replace("http://", "ws://"))
    assert "/link/?ticket=" in opened["url"]
    with connect(opened["url"], open_timeout=10) as socket:
        hello = json.loads(socket.recv(timeout=10))
        assert hello["type"] == "hello" and hello["num_connections"] == 1
        assert hello["connection_info"] == {"app_id": demo.services["slack"].app_id}
        assert demo.services["slack"].socket.is_connected()
    assert wait_for(lambda: not demo.services["slack"].socket.is_connected())
    for url in (opened["url"], opened["url"].rsplit("=", 1)[0] + "=not-a-ticket"):
        with pytest.raises(InvalidStatus) as refused:
            connect(url, open_timeout=10)
        assert refused.value.response.status_code == 403


# ------------------------------------------------------------------ Events API, redelivery, many connections
FAST_RETRIES = [0.05, 0.05, 0.05]  # Slack waits 0 s, 1 min, 5 min before each redelivery


def send_event(handle: Any, **body: Any) -> dict[str, Any]:
    return handle.http.post(
        "/_sandbox/slack/event", json={"retry_delays": FAST_RETRIES, **body}, timeout=30
    ).json()


def test_an_event_envelope_is_acknowledged_by_the_app(socket_bot: SocketBot) -> None:
    """The app subscribes to no events, but acknowledges one that comes, so Slack stops sending it."""
    result = send_event(
        socket_bot.handle, type="app_mention", user=STAFF, channel="intake-triage", text="hi"
    )
    assert result["ok"] is True and result["event_id"].startswith("Ev")
    [attempt] = result["attempts"]
    assert (attempt["retry_attempt"], attempt["retry_reason"], attempt["status"]) == (0, "", 200)
    assert attempt["elapsed_ms"] < 3000
    [connection] = socket_bot.socket_state()["connections"]
    assert connection["envelopes"] == connection["acks"] == 1


def test_an_unacknowledged_event_is_sent_again_with_retry_fields(demo: Any) -> None:
    """No ack within the timeout: the same event again, retry_attempt counting up, reason 'timeout'."""
    client = SocketModeClient(
        app_token=APP_TOKEN,
        web_client=WebClient(token="sandbox-token", base_url=f"{demo.url}/api/"),
    )
    hello = threading.Event()
    seen: list[dict[str, Any]] = []
    ack_from = {"attempt": 2}

    def listen(_client: Any, message: dict, _raw: str | None) -> None:
        if message.get("type") == "hello":
            hello.set()
            return
        seen.append(message)
        if message.get("retry_attempt", 0) >= ack_from["attempt"]:
            client.send_socket_mode_response({"envelope_id": message["envelope_id"]})

    client.message_listeners.append(listen)
    try:
        client.connect()
        assert hello.wait(10)
        acked = send_event(
            demo, type="app_mention", user=STAFF, channel="intake-triage", timeout=0.3
        )
        ack_from["attempt"] = 99
        seen_before = len(seen)
        ignored = send_event(
            demo, type="app_mention", user=STAFF, channel="intake-triage", timeout=0.2
        )
    finally:
        client.close()
    assert acked["ok"] is True
    assert [a["retry_attempt"] for a in acked["attempts"]] == [0, 1, 2]
    assert [a["retry_reason"] for a in acked["attempts"]] == ["", "timeout", "timeout"]
    assert [a["error"] for a in acked["attempts"]] == [
        "operation_timeout",
        "operation_timeout",
        None,
    ]
    first_three = seen[:seen_before]
    assert [e["type"] for e in first_three] == ["events_api"] * 3
    assert {e["payload"]["event_id"] for e in first_three} == {acked["event_id"]}
    assert len({e["envelope_id"] for e in first_three}) == 3
    assert [e["retry_attempt"] for e in first_three] == [0, 1, 2]
    assert all(e["accepts_response_payload"] is False for e in first_three)
    assert first_three[0]["payload"]["event"]["type"] == "app_mention"
    assert first_three[0]["payload"]["type"] == "event_callback"
    # Never acknowledged: the first delivery and three retries, then Slack gives up.
    assert ignored["ok"] is False
    assert [a["retry_attempt"] for a in ignored["attempts"]] == [0, 1, 2, 3]
    assert len(seen) - seen_before == 4


def test_envelopes_go_to_one_of_the_apps_connections_in_turn(
    socket_bot: SocketBot, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Two connections of the app (two bot processes): each command reaches one of them, and each is answered."""
    second = start_socket_mode_in_thread(socket_bot.runtime)
    try:
        assert wait_for(lambda: len(socket_bot.socket_state()["connections"]) == 2)
        for _ in range(4):
            result = socket_bot.slash("help")
            assert result["ok"] and result["status"] == 200
        connections = socket_bot.socket_state()["connections"]
        assert [c["envelopes"] for c in connections] == [2, 2]
        assert [c["acks"] for c in connections] == [2, 2]
        assert len(socket_bot.answers_to(STAFF, "intake-triage")) == 4
    finally:
        second.stop()


def test_an_app_holds_at_most_ten_connections_each_envelope_on_one(demo: Any) -> None:
    opened_urls = []
    for _ in range(11):
        opened = demo.http.post(
            "/api/apps.connections.open", headers={"Authorization": f"Bearer {APP_TOKEN}"}
        ).json()
        opened_urls.append(opened["url"])
    sockets = []
    try:
        for url in opened_urls[:10]:
            socket = connect(url, open_timeout=10)
            sockets.append(socket)
            assert json.loads(socket.recv(timeout=10))["type"] == "hello"
        with pytest.raises(InvalidStatus):
            connect(opened_urls[10], open_timeout=10)
        for _ in range(10):
            result = demo.http.post(
                "/_sandbox/slack/command",
                json={
                    "via": "socket",
                    "text": "help",
                    "user": STAFF,
                    "channel": "intake-triage",
                    "timeout": 0.1,
                },
            ).json()
            assert result["error"] == "operation_timeout"  # nobody acknowledges here
        received = [json.loads(s.recv(timeout=5)) for s in sockets]  # one envelope on each
        assert all(e["type"] == "slash_commands" for e in received)
        assert len({e["envelope_id"] for e in received}) == 10
        for socket in sockets:
            with pytest.raises(TimeoutError):
                socket.recv(timeout=0.2)
    finally:
        for socket in sockets:
            socket.close()
    assert wait_for(lambda: not demo.services["slack"].socket.is_connected())
