"""Socket Mode on the sandbox's Slack side: the documented message shapes and the hub's bookkeeping."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import pytest

from sandbox.slack.errors import SlackError
from sandbox.slack.socket_mode import (
    APP_TOKEN,
    COMMAND,
    EVENTS,
    INTERACTIVE,
    MAX_CONNECTIONS,
    SocketModeHub,
    check_app_token,
    disconnect_message,
    envelope,
    hello_message,
    link_url,
    read_ack,
)


# ------------------------------------------------------------------ pure builders
def test_an_envelope_carries_the_payload_as_slack_documents() -> None:
    fields = {"command": "/coalition", "text": "help"}
    assert envelope(COMMAND, fields, "e-1", accepts_response_payload=True) == {
        "envelope_id": "e-1",
        "type": "slash_commands",
        "payload": fields,
        "accepts_response_payload": True,
    }
    assert envelope(INTERACTIVE, {}, "e-2", accepts_response_payload=False)["type"] == "interactive"
    assert envelope(EVENTS, {"type": "event_callback"}, "e-3", accepts_response_payload=False) == {
        "envelope_id": "e-3",
        "type": "events_api",
        "payload": {"type": "event_callback"},
        "accepts_response_payload": False,
        "retry_attempt": 0,
        "retry_reason": "",
    }
    retried = envelope(
        EVENTS, {}, "e-4", accepts_response_payload=False, retry_attempt=2, retry_reason="timeout"
    )
    assert (retried["retry_attempt"], retried["retry_reason"]) == (2, "timeout")
    with pytest.raises(ValueError, match="envelope type"):
        envelope("hooks", {}, "e-5", accepts_response_payload=False)


def test_hello_and_disconnect_messages() -> None:
    hello = hello_message(2, "A0APP", 0.0)
    assert hello["type"] == "hello" and hello["num_connections"] == 2
    assert hello["connection_info"] == {"app_id": "A0APP"}
    assert hello["debug_info"]["approximate_connection_time"] == 3600
    assert hello["debug_info"]["started"] == "1970-01-01 00:00:00"
    for reason in ("warning", "refresh_requested", "link_disabled"):
        message = disconnect_message(reason)
        assert (message["type"], message["reason"]) == ("disconnect", reason)
        assert "host" in message["debug_info"]
    with pytest.raises(SlackError, match="invalid_reason"):
        disconnect_message("bored")


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ('{"envelope_id": "e-1"}', ("e-1", None)),
        ('{"envelope_id": "e-1", "payload": {"text": "hi"}}', ("e-1", {"text": "hi"})),
        ('{"envelope_id": "e-1", "payload": "hi"}', ("e-1", None)),
        ('{"payload": {"text": "hi"}}', None),
        ('{"envelope_id": 7}', None),
        ('["e-1"]', None),
        ("not json", None),
    ],
)
def test_read_ack(text: str, expected: Any) -> None:
    assert read_ack(text) == expected


@pytest.mark.parametrize(
    ("token", "error"),
    [
        (None, "not_authed"),
        ("", "not_authed"),
        ("sandbox-token", "not_allowed_token_type"),
        ("xoxb-1-2-3", "not_allowed_token_type"),
        ("xapp-1-A0COALITION-1-other", "invalid_auth"),
        ("xapp-1-A0COALITION-1-revoked", "invalid_auth"),
    ],
)
def test_only_a_known_app_level_token_opens_a_connection(token: str | None, error: str) -> None:
    known = {APP_TOKEN, "xapp-1-A0COALITION-1-revoked"}
    with pytest.raises(SlackError) as refused:
        check_app_token(token, known, {"xapp-1-A0COALITION-1-revoked"})
    assert refused.value.error == error
    check_app_token(APP_TOKEN, known, set())


def test_link_url() -> None:
    assert link_url("ws://127.0.0.1:8787/", "abc") == "ws://127.0.0.1:8787/link/?ticket=abc"


# ------------------------------------------------------------------ the hub
class FakeSocket:
    """One app connection: records what Slack sent; `answer` decides the app's ack, if any."""

    def __init__(self, hub: SocketModeHub, answer: Any = "ack") -> None:
        self.hub = hub
        self.answer = answer
        self.sent: list[dict[str, Any]] = []
        self.closed: list[int] = []
        self.connection = hub.register(hub.redeem(hub.issue_ticket("A0APP")), self.send, self.close)

    async def send(self, text: str) -> None:
        message = json.loads(text)
        self.sent.append(message)
        if "envelope_id" not in message or self.answer is None:
            return
        ack: dict[str, Any] = {"envelope_id": message["envelope_id"]}
        if isinstance(self.answer, dict):
            ack["payload"] = self.answer
        asyncio.get_running_loop().call_soon(self.hub.acknowledge, self.connection, json.dumps(ack))

    async def close(self, code: int) -> None:
        self.closed.append(code)


def test_a_ticket_opens_one_connection_and_an_app_at_most_ten() -> None:
    hub = SocketModeHub()
    ticket = hub.issue_ticket("A0APP")
    assert hub.redeem(ticket) == "A0APP"
    with pytest.raises(SlackError, match="invalid_ticket"):
        hub.redeem(ticket)
    with pytest.raises(SlackError, match="invalid_ticket"):
        hub.redeem("")
    sockets = [FakeSocket(hub) for _ in range(MAX_CONNECTIONS)]
    assert hub.hello(sockets[-1].connection)["num_connections"] == MAX_CONNECTIONS
    with pytest.raises(SlackError, match="too_many_connections"):
        hub.redeem(hub.issue_ticket("A0APP"))
    hub.unregister(sockets[0].connection)
    assert hub.redeem(hub.issue_ticket("A0APP")) == "A0APP"
    assert hub.describe()["opened"] == MAX_CONNECTIONS


def test_an_ack_reads_like_an_http_answer_and_connections_take_turns() -> None:
    async def scenario() -> None:
        hub = SocketModeHub()
        first, second = FakeSocket(hub, {"text": "hi"}), FakeSocket(hub)
        reply = await hub.dispatch(COMMAND, {"text": "help"}, accepts_response_payload=True)
        assert (reply.status, reply.json(), reply.error) == (200, {"text": "hi"}, None)
        assert first.sent[0]["payload"] == {"text": "help"} and second.sent == []
        empty = await hub.dispatch(INTERACTIVE, {}, accepts_response_payload=True)
        assert (empty.status, empty.body, empty.error) == (200, "", None)
        await hub.dispatch(INTERACTIVE, {}, accepts_response_payload=True)
        assert [len(first.sent), len(second.sent)] == [2, 1]  # each envelope on one of them
        assert first.connection.describe()["envelopes"] == 2
        assert first.connection.describe()["acks"] == 2
        assert hub.pending == {}

    asyncio.run(scenario())


def test_a_connection_asked_to_disconnect_gets_no_more_envelopes() -> None:
    async def scenario() -> None:
        hub = SocketModeHub()
        old = FakeSocket(hub)
        await hub.disconnect("refresh_requested")
        new = FakeSocket(hub)
        for _ in range(3):
            assert (await hub.dispatch(COMMAND, {}, accepts_response_payload=True)).status == 200
        assert [m["type"] for m in old.sent] == ["disconnect"]
        assert len(new.sent) == 3

    asyncio.run(scenario())


def test_an_event_is_redelivered_until_acknowledged() -> None:
    async def scenario() -> None:
        hub = SocketModeHub()
        socket = FakeSocket(hub, answer=None)
        attempts = await hub.deliver_event(
            {"event_id": "Ev1"}, timeout=0.02, retry_delays=(0.0, 0.01, 0.01)
        )
        assert [a["retry_attempt"] for a in attempts] == [0, 1, 2, 3]
        assert [a["retry_reason"] for a in attempts] == ["", "timeout", "timeout", "timeout"]
        assert all(a["error"] == "operation_timeout" for a in attempts)
        assert [m["retry_attempt"] for m in socket.sent] == [0, 1, 2, 3]
        assert len({m["envelope_id"] for m in socket.sent}) == 4
        socket.answer = "ack"
        [once] = await hub.deliver_event({"event_id": "Ev2"}, timeout=0.5)
        assert (once["status"], once["retry_attempt"], once["error"]) == (200, 0, None)
        hub.unregister(socket.connection)
        nobody = await hub.deliver_event({"event_id": "Ev3"}, retry_delays=(0.0,))
        assert [a["retry_reason"] for a in nobody] == ["", "connection_failed"]

    asyncio.run(scenario())


def test_no_app_no_ack_and_a_closed_socket_read_as_slack_says_them() -> None:
    async def scenario() -> None:
        hub = SocketModeHub()
        nobody = await hub.dispatch(COMMAND, {}, accepts_response_payload=True)
        assert (nobody.status, nobody.error) == (0, "dispatch_failed")
        socket = FakeSocket(hub, answer=None)
        slow = await hub.dispatch(COMMAND, {}, accepts_response_payload=True, timeout=0.05)
        assert (slow.status, slow.error) == (0, "operation_timeout")
        late = socket.sent[-1]["envelope_id"]
        assert not hub.acknowledge(socket.connection, json.dumps({"envelope_id": late}))
        assert hub.stray_acks == [late]
        waiting = asyncio.create_task(hub.dispatch(COMMAND, {}, accepts_response_payload=True))
        await asyncio.sleep(0.01)
        assert len(hub.pending) == 1
        hub.unregister(socket.connection)
        gone = await waiting
        assert (gone.status, gone.error) == (0, "dispatch_failed")
        assert hub.pending == {} and not hub.is_connected()

    asyncio.run(scenario())


def test_disconnect_tells_every_connection_and_may_close_them() -> None:
    async def scenario() -> None:
        hub = SocketModeHub()
        first, second = FakeSocket(hub), FakeSocket(hub)
        assert await hub.disconnect("warning") == 2
        assert first.sent[-1]["reason"] == "warning" and first.closed == []
        assert await hub.disconnect("refresh_requested", close=True) == 2
        assert second.sent[-1]["reason"] == "refresh_requested" and second.closed == [1001]

    asyncio.run(scenario())
