"""Socket Mode on Slack's side: app-level tokens, WebSocket tickets, open connections, envelopes awaiting an ack.

The protocol, as Slack documents it: the app calls `apps.connections.open` with its
app-level token (xapp-...) and gets a one-use WebSocket URL; on connecting, Slack sends
`{"type": "hello", "num_connections": n, "connection_info": {"app_id"}, "debug_info"}`;
each slash command or interaction then arrives as an envelope
`{"envelope_id", "type": "slash_commands"|"interactive", "payload", "accepts_response_payload"}`
carrying the same fields an HTTP request would, and the app acknowledges it with
`{"envelope_id", "payload"?}` within 3 seconds (the payload is what it would have answered
over HTTP). Events API callbacks arrive as `events_api` envelopes that also carry
`retry_attempt` and `retry_reason`: one not acknowledged within 3 seconds is sent again,
nearly at once, then after a minute, then after five (`RETRY_DELAYS`), each time in a new
envelope with the same event_id. `{"type": "disconnect", "reason"}` asks the app to connect
again. An app may hold up to 10 connections; each envelope goes to one of them (in turn
here), never to one that was asked to disconnect.

This module is the state and the pure builders (no HTTP, no Starlette); the WebSocket
endpoint and `apps.connections.open` live in `sandbox/slack/routes.py`, and the control
endpoints deliver through `SocketModeHub.dispatch` (`sandbox/slack/control.py`). Everything
async runs on the sandbox server's event loop.

Not implemented: the scheduled refresh after `approximate_connection_time` and the
`debug_reconnects` URL flag (a refresh happens only when a test asks for one through
/_sandbox/slack/socket/disconnect); ticket expiry (a ticket is refused once used, never for
age); `link_disabled` when Socket Mode is switched off; Slack switching off an app's event
subscriptions after repeated failures; the app's event subscriptions themselves (an event is
sent when a test asks, whatever the app subscribed to).
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import json
import time
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

from sandbox.slack.app_side import ACK_SECONDS, AppReply
from sandbox.slack.errors import SlackError

APP_TOKEN = "xapp-1-A0COALITION-1-sandbox"  # the sandbox app's app-level token (connections:write)
LINK_PATH = "/link/"  # Slack's is wss://wss-primary.slack.com/link/?ticket=...
HOST = "sandbox-socket-mode"  # what debug_info.host names
MAX_CONNECTIONS = 10  # Slack allows an app up to 10 open connections
APPROXIMATE_CONNECTION_SECONDS = 3600
COMMAND = "slash_commands"
INTERACTIVE = "interactive"
EVENTS = "events_api"
KINDS = frozenset({COMMAND, INTERACTIVE, EVENTS})
RETRY_DELAYS = (0.0, 60.0, 300.0)  # Slack's redelivery of an unacknowledged event
DISCONNECT_REASONS = frozenset({"warning", "refresh_requested", "link_disabled"})


# ------------------------------------------------------------------ pure builders
def check_app_token(token: str | None, known: set[str], revoked: set[str]) -> None:
    """apps.connections.open's refusals: not_authed, not_allowed_token_type, invalid_auth."""
    if not token:
        raise SlackError("not_authed")
    if not token.startswith("xapp-"):
        raise SlackError("not_allowed_token_type")  # a bot or user token
    if token not in known or token in revoked:
        raise SlackError("invalid_auth")


def link_url(origin: str, ticket: str) -> str:
    """The WebSocket URL apps.connections.open answers: ws(s)://host/link/?ticket=..."""
    return f"{origin.rstrip('/')}{LINK_PATH}?ticket={ticket}"


def hello_message(num_connections: int, app_id: str, started: float) -> dict[str, Any]:
    stamp = time.strftime("%Y-%m-%d %H:%M:%S", time.gmtime(started))
    return {
        "type": "hello",
        "num_connections": num_connections,
        "debug_info": {
            "host": HOST,
            "started": stamp,
            "build_number": 1,
            "approximate_connection_time": APPROXIMATE_CONNECTION_SECONDS,
        },
        "connection_info": {"app_id": app_id},
    }


def disconnect_message(reason: str) -> dict[str, Any]:
    if reason not in DISCONNECT_REASONS:
        raise SlackError("invalid_reason", expected=sorted(DISCONNECT_REASONS))
    return {"type": "disconnect", "reason": reason, "debug_info": {"host": HOST}}


def envelope(
    kind: str,
    payload: dict[str, Any],
    envelope_id: str,
    *,
    accepts_response_payload: bool,
    retry_attempt: int = 0,
    retry_reason: str = "",
) -> dict[str, Any]:
    """One request toward the app: a command's fields, an interaction or an event, wrapped.

    Events API envelopes also say which delivery this is (`retry_attempt`, 0 the first) and
    why the last one failed (`retry_reason`, "" the first time).
    """
    if kind not in KINDS:
        raise ValueError(f"envelope type must be one of {sorted(KINDS)}")
    message: dict[str, Any] = {
        "envelope_id": envelope_id,
        "type": kind,
        "payload": payload,
        "accepts_response_payload": accepts_response_payload,
    }
    if kind == EVENTS:
        message["retry_attempt"] = retry_attempt
        message["retry_reason"] = retry_reason
    return message


def event_callback(
    event: dict[str, Any],
    *,
    team_id: str,
    app_id: str,
    bot_user_id: str,
    token: str,
    event_id: str,
    event_time: int,
) -> dict[str, Any]:
    """The Events API's outer event (what an events_api envelope carries, or an HTTP POST would)."""
    return {
        "token": token,
        "team_id": team_id,
        "context_team_id": team_id,
        "api_app_id": app_id,
        "event": event,
        "type": "event_callback",
        "event_id": event_id,
        "event_time": event_time,
        "authorizations": [
            {
                "enterprise_id": None,
                "team_id": team_id,
                "user_id": bot_user_id,
                "is_bot": True,
                "is_enterprise_install": False,
            }
        ],
        "is_ext_shared_channel": False,
    }


def read_ack(text: str) -> tuple[str, dict[str, Any] | None] | None:
    """(envelope_id, payload or None) from an app's message, or None if it is not an ack."""
    try:
        message = json.loads(text)
    except ValueError:
        return None
    if not isinstance(message, dict) or not isinstance(message.get("envelope_id"), str):
        return None
    payload = message.get("payload")
    return message["envelope_id"], payload if isinstance(payload, dict) else None


def ack_reply(payload: dict[str, Any] | None, elapsed_ms: float) -> AppReply:
    """An ack as the control endpoints report an HTTP answer: 200, its payload as the body."""
    body = json.dumps(payload) if payload else ""
    return AppReply(200, body, elapsed_ms)


# ------------------------------------------------------------------ state
@dataclass
class SocketConnection:
    """One open WebSocket of an app: how to send on it and close it, and what went over it."""

    id: int
    app_id: str
    send_text: Callable[[str], Awaitable[None]]
    close: Callable[[int], Awaitable[None]]
    connected_at: float = field(default_factory=time.time)
    envelopes: int = 0
    acks: int = 0
    draining: bool = False  # told to disconnect: Slack sends it nothing more
    _lock: asyncio.Lock = field(default_factory=asyncio.Lock, repr=False)

    async def send(self, message: dict[str, Any]) -> None:
        async with self._lock:  # one frame at a time on a socket
            await self.send_text(json.dumps(message, separators=(",", ":")))

    def describe(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "app_id": self.app_id,
            "connected_at": self.connected_at,
            "envelopes": self.envelopes,
            "acks": self.acks,
            "draining": self.draining,
        }


@dataclass
class _Pending:
    connection: int
    answer: asyncio.Future


class SocketModeHub:
    """Tickets issued, connections open and envelopes sent but not yet acknowledged."""

    def __init__(self) -> None:
        self.tickets: dict[str, str] = {}  # ticket -> app id
        self.connections: dict[int, SocketConnection] = {}
        self.pending: dict[str, _Pending] = {}
        self.stray_acks: list[str] = []  # acks for no envelope awaiting one (late or unknown)
        self.opened = 0  # connections ever accepted
        self._ids = itertools.count(1)
        self._turn = 0  # envelopes go to the open connections in turn

    # ------------------------------------------------------------ connecting
    def issue_ticket(self, app_id: str) -> str:
        ticket = uuid.uuid4().hex
        self.tickets[ticket] = app_id
        return ticket

    def redeem(self, ticket: str) -> str:
        """The app id a ticket was issued to; each ticket opens one connection."""
        app_id = self.tickets.pop(ticket or "", None)
        if app_id is None:
            raise SlackError("invalid_ticket")
        if sum(c.app_id == app_id for c in self.connections.values()) >= MAX_CONNECTIONS:
            raise SlackError("too_many_connections")
        return app_id

    def register(
        self,
        app_id: str,
        send_text: Callable[[str], Awaitable[None]],
        close: Callable[[int], Awaitable[None]],
    ) -> SocketConnection:
        connection = SocketConnection(next(self._ids), app_id, send_text, close)
        self.connections[connection.id] = connection
        self.opened += 1
        return connection

    def hello(self, connection: SocketConnection) -> dict[str, Any]:
        count = sum(c.app_id == connection.app_id for c in self.connections.values())
        return hello_message(count, connection.app_id, connection.connected_at)

    def unregister(self, connection: SocketConnection) -> None:
        """The socket is gone: envelopes still awaiting an ack on it will get none."""
        self.connections.pop(connection.id, None)
        for pending in self.pending.values():
            if pending.connection == connection.id and not pending.answer.done():
                pending.answer.set_exception(ConnectionError("the app's connection closed"))

    def is_connected(self) -> bool:
        return bool(self.connections)

    def _pick(self) -> SocketConnection | None:
        """The connection for the next envelope: each open one in turn, none that is draining."""
        ready = [c for _, c in sorted(self.connections.items()) if not c.draining]
        if not ready:
            return None
        self._turn += 1
        return ready[(self._turn - 1) % len(ready)]

    def describe(self) -> dict[str, Any]:
        return {
            "connections": [c.describe() for c in list(self.connections.values())],
            "pending": len(self.pending),
            "opened": self.opened,
            "stray_acks": len(self.stray_acks),
        }

    # ------------------------------------------------------------ envelopes
    async def dispatch(
        self,
        kind: str,
        payload: dict[str, Any],
        *,
        accepts_response_payload: bool,
        timeout: float = ACK_SECONDS,
    ) -> AppReply:
        """Send one envelope on one open connection and wait for its ack, as Slack waits 3 s.

        The answer reads like an HTTP delivery's: 200 and the ack's payload, or status 0
        with Slack's words for no app (`dispatch_failed`) or no ack in time (`operation_timeout`).
        """
        reply, _, _ = await self._deliver_once(
            kind, payload, accepts_response_payload=accepts_response_payload, timeout=timeout
        )
        return reply

    async def deliver_event(
        self,
        payload: dict[str, Any],
        *,
        timeout: float = ACK_SECONDS,
        retry_delays: tuple[float, ...] = RETRY_DELAYS,
    ) -> list[dict[str, Any]]:
        """Send an Events API callback until it is acknowledged, as Slack redelivers it.

        Returns every attempt: its envelope id, retry_attempt, retry_reason, the connection it
        went to, and the outcome (status 200 when acknowledged, else Slack's error words).
        """
        attempts: list[dict[str, Any]] = []
        reason = ""
        for attempt in range(len(retry_delays) + 1):
            if attempt:
                await asyncio.sleep(retry_delays[attempt - 1])
            reply, envelope_id, connection = await self._deliver_once(
                EVENTS,
                payload,
                accepts_response_payload=False,
                timeout=timeout,
                retry=(attempt, reason),
            )
            attempts.append(
                {
                    "envelope_id": envelope_id,
                    "retry_attempt": attempt,
                    "retry_reason": reason,
                    "connection": connection,
                    **reply.as_dict(),
                }
            )
            if reply.error is None:
                break
            reason = "timeout" if reply.error == "operation_timeout" else "connection_failed"
        return attempts

    async def _deliver_once(
        self,
        kind: str,
        payload: dict[str, Any],
        *,
        accepts_response_payload: bool,
        timeout: float,
        retry: tuple[int, str] = (0, ""),
    ) -> tuple[AppReply, str, int | None]:
        """One envelope on one connection and its ack: (reply, envelope id, connection id)."""
        started = time.perf_counter()

        def elapsed() -> float:
            return round((time.perf_counter() - started) * 1000, 3)

        envelope_id = str(uuid.uuid4())
        connection = self._pick()
        if connection is None:
            return AppReply(0, "", elapsed(), "dispatch_failed"), envelope_id, None
        answer: asyncio.Future = asyncio.get_running_loop().create_future()
        self.pending[envelope_id] = _Pending(connection.id, answer)
        message = envelope(
            kind,
            payload,
            envelope_id,
            accepts_response_payload=accepts_response_payload,
            retry_attempt=retry[0],
            retry_reason=retry[1],
        )
        reply = await self._await_ack(connection, message, answer, timeout, elapsed)
        return reply, envelope_id, connection.id

    async def _await_ack(
        self,
        connection: SocketConnection,
        message: dict[str, Any],
        answer: asyncio.Future,
        timeout: float,
        elapsed: Callable[[], float],
    ) -> AppReply:
        envelope_id = message["envelope_id"]
        try:
            try:
                await connection.send(message)
            except Exception:  # the socket closed under us
                return AppReply(0, "", elapsed(), "dispatch_failed")
            connection.envelopes += 1
            try:
                acked = await asyncio.wait_for(answer, timeout)
            except TimeoutError:
                return AppReply(0, "", elapsed(), "operation_timeout")
            except ConnectionError:
                return AppReply(0, "", elapsed(), "dispatch_failed")
            return ack_reply(acked, elapsed())
        finally:
            self.pending.pop(envelope_id, None)

    def acknowledge(self, connection: SocketConnection, text: str) -> bool:
        """An app's message on a socket; True if it acknowledged an envelope awaiting one."""
        ack = read_ack(text)
        if ack is None:
            return False
        envelope_id, payload = ack
        pending = self.pending.get(envelope_id)
        if pending is None or pending.answer.done():
            self.stray_acks.append(envelope_id)
            return False
        connection.acks += 1
        pending.answer.set_result(payload)
        return True

    async def disconnect(self, reason: str, *, close: bool = False) -> int:
        """Tell every open connection to reconnect (and close them, if asked); how many were told."""
        message = disconnect_message(reason)
        told = 0
        for connection in list(self.connections.values()):
            connection.draining = True  # new envelopes go to the connection that replaces it
            with contextlib.suppress(Exception):  # one that is already closing is skipped
                await connection.send(message)
                told += 1
            if close:
                with contextlib.suppress(Exception):
                    await connection.close(1001)
        return told


__all__ = [
    "APP_TOKEN",
    "COMMAND",
    "EVENTS",
    "INTERACTIVE",
    "LINK_PATH",
    "RETRY_DELAYS",
    "SocketConnection",
    "SocketModeHub",
    "check_app_token",
    "disconnect_message",
    "envelope",
    "event_callback",
    "hello_message",
    "link_url",
    "read_ack",
]
