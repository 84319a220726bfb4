"""Serving the Slack app: HTTP at /slack/events (Starlette + uvicorn), or Socket Mode when SLACK_APP_TOKEN is set.

Over HTTP, every request passes the door of bot/inbound.py before Bolt sees it: the
signature and 5-minute window over the raw bytes (401 for anything forged, replayed or
unsigned), then the body's encoding and shape (400 for a verified body this app cannot
read), then the workspace and app (a request from another one is answered and ignored).
Nothing a client sends can make it answer 500 or log a traceback. Bolt then
dispatches a command or a click on the event loop (its listener only acks and hands
the work to the runtime's threads), a modal submission on a worker thread. Socket
Mode payloads pass the same shape and workspace checks (the connection itself is authenticated, so there is no signature). Socket Mode
suits organizations that cannot expose a public URL: the app dials out to Slack
(`start_socket_mode_in_thread` does the same for tests and the demo, and can be stopped).
"""

from __future__ import annotations

import contextlib
import json
import logging
import sys
import threading
import time
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from typing import Any

from slack_bolt import App, BoltContext, BoltRequest, BoltResponse
from slack_bolt.adapter.socket_mode import SocketModeHandler
from slack_bolt.adapter.starlette.handler import to_starlette_response
from slack_bolt.request.internals import build_context
from slack_sdk.socket_mode.response import SocketModeResponse
from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, Response
from starlette.routing import Route

from bot import inbound
from bot.app import create_app, create_runtime
from bot.runtime import BotRuntime, app_token, signing_secret
from coalition.settings import ConfigError
from integrations.serving import free_port, quiet_config, serve_in_thread

log = logging.getLogger("bot.server")

EVENTS_PATH = "/slack/events"
MAX_BODY = 1_000_000  # Slack's payloads are far smaller; anything bigger is not Slack
# Bolt's dispatch of a command or a click runs on the event loop itself: their listeners
# only ack and hand over (bot/app.py), about a millisecond, and a hop to a thread costs
# as much again plus a wait for the interpreter lock. A modal submission is checked
# before its ack (a ledger read), so it goes to a thread.
ACK_ON_THE_LOOP = frozenset({"command", "block_actions"})
# The event loop must get the interpreter lock back quickly from the threads that answer
# after the ack: with CPython's default 5 ms, every await of a request could wait that long.
SWITCH_INTERVAL = 0.001


@dataclass(frozen=True)
class Door:
    """What requests to /slack/events are checked against: the signing secret and where the app is installed."""

    secret: str
    installation: Callable[[], inbound.Installation]

    @classmethod
    def of(cls, runtime: BotRuntime) -> Door:
        return cls(signing_secret(runtime.settings), runtime.installation)


def asgi_app(app: App, door: Door, runtime: BotRuntime | None = None) -> Starlette:
    """The Starlette application: POST /slack/events, GET /healthz."""

    async def events(request: Request) -> Response:
        body = await request.body()
        headers = dict(request.headers)
        try:
            inbound.verify(door.secret, headers, body, time.time())
            text, fields = inbound.parse(inbound.media_type(headers), body)
            kind = inbound.kind_of(fields)
        except inbound.Refused as refused:
            log.warning("refused a request: %s (HTTP %s)", refused.reason, refused.status)
            words = "invalid request signature" if refused.status == 401 else "malformed request"
            return PlainTextResponse(words, status_code=refused.status)
        if kind != "ssl_check":
            try:
                installed = await installation()
            except (
                Exception
            ) as exc:  # auth.test failed: nobody can be told apart, so nobody is served
                log.warning("could not tell the installed workspace: %s", type(exc).__name__)
                return PlainTextResponse("try again shortly", status_code=503)
            other = inbound.foreign(fields, installed)
            if other is not None:
                return to_starlette_response(refuse_foreign(other, kind))
        bolt_request = _bolt_request(request, text, fields)
        if kind in ACK_ON_THE_LOOP:
            bolt_response = app.dispatch(bolt_request)
        else:
            bolt_response = await run_in_threadpool(app.dispatch, bolt_request)
        return to_starlette_response(bolt_response)

    known: list[inbound.Installation] = []

    async def installation() -> inbound.Installation:
        # auth.test answers once per process; after that, no thread hop per request.
        if not known:
            known.append(await run_in_threadpool(door.installation))
        return known[0]

    async def health(request: Request) -> Response:
        return JSONResponse({"ok": True})

    @contextlib.asynccontextmanager
    async def lifespan(_app: Starlette) -> AsyncIterator[None]:
        yield
        if runtime is not None:
            # Answers already acknowledged are finished before the process goes.
            await run_in_threadpool(runtime.wait_idle, 20)
            runtime.shutdown()

    return Starlette(
        routes=[
            Route(EVENTS_PATH, events, methods=["POST"]),
            Route("/healthz", health, methods=["GET"]),
        ],
        lifespan=lifespan,
        max_body_size=MAX_BODY,
    )


def _bolt_request(request: Request, text: str, fields: dict[str, Any]) -> BoltRequest:
    """A BoltRequest holding the door's parse of the body.

    Bolt's own parser guesses: a form whose text merely contains the word "payload"
    (`/coalition member Payload Legal`) is read as an empty interaction, and a body
    starting with "{" as JSON whatever its Content-Type. The raw text stays for Bolt's
    own signature check.
    """
    bolt = BoltRequest(body="", query=request.query_params, headers=dict(request.headers))
    bolt.raw_body = text
    bolt.body = fields
    bolt.context = build_context(BoltContext(), fields)
    return bolt


def refuse_foreign(other: inbound.Foreign, kind: str) -> BoltResponse:
    """The answer to a request from another workspace or app: words for a command, a bare ack otherwise."""
    log.warning(
        "ignored a %s from another %s (team %s, app %s)",
        kind,
        "workspace" if other.reason == "other_team" else "app",
        inbound.safe_id(other.team_id),
        inbound.safe_id(other.app_id),
    )
    if kind == "command":
        return BoltResponse(
            status=200,
            body=json.dumps({"response_type": "ephemeral", "text": inbound.FOREIGN_WORDS}),
            headers={"content-type": "application/json;charset=utf-8"},
        )
    return BoltResponse(status=200, body="")


class CheckedSocketModeHandler(SocketModeHandler):
    """Bolt's Socket Mode handler, with the door's shape and workspace checks before Bolt reads a payload."""

    def __init__(self, app: App, token: str, runtime: BotRuntime) -> None:
        super().__init__(app, token)
        self.runtime = runtime

    def handle(self, client: Any, req: Any) -> None:
        kinds = {"slash_commands": "command", "interactive": "interaction"}
        if (
            req.type not in kinds
        ):  # hello, disconnect and events are Bolt's (no events are subscribed)
            super().handle(client, req)
            return
        try:
            if not isinstance(req.payload, dict):
                raise inbound.Refused(400, "payload_not_a_json_object")
            kind = inbound.kind_of(req.payload)
        except inbound.Refused as refused:
            log.warning("refused a Socket Mode %s: %s", kinds[req.type], refused.reason)
            client.send_socket_mode_response(SocketModeResponse(envelope_id=req.envelope_id))
            return
        if kind != "ssl_check":
            try:
                installed = self.runtime.installation()
            except Exception as exc:  # as over HTTP: nobody is served until auth.test answers
                log.warning("could not tell the installed workspace: %s", type(exc).__name__)
                client.send_socket_mode_response(SocketModeResponse(envelope_id=req.envelope_id))
                return
            other = inbound.foreign(req.payload, installed)
            if other is not None:
                answer = refuse_foreign(other, kind)
                payload = json.loads(answer.body) if answer.body else None
                client.send_socket_mode_response(
                    SocketModeResponse(envelope_id=req.envelope_id, payload=payload)
                )
                return
        super().handle(client, req)


@dataclass
class RunningBot:
    """The Slack app served in a background thread (tests, the demo, benchmarks)."""

    url: str  # the Request URL: http://host:port/slack/events
    runtime: BotRuntime
    server: Any
    thread: threading.Thread

    def stop(self) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=10)
        self.runtime.shutdown()


def start_in_thread(
    runtime: BotRuntime, app: App | None = None, host: str = "127.0.0.1", port: int = 0
) -> RunningBot:
    """Serve the app over HTTP on a free port in a daemon thread; returns once it answers."""
    port = port or free_port(host)
    runtime.warm_up()
    asgi = asgi_app(app or create_app(runtime), Door.of(runtime))
    running = serve_in_thread(quiet_config(asgi, host, port, lifespan="off"), "slack-app")
    return RunningBot(f"http://{host}:{port}{EVENTS_PATH}", runtime, running.server, running.thread)


@dataclass
class RunningSocketBot:
    """The Slack app connected to Slack in Socket Mode; slack_sdk's client runs in its own threads."""

    runtime: BotRuntime
    handler: Any  # slack_bolt.adapter.socket_mode.SocketModeHandler

    @property
    def connected(self) -> bool:
        return bool(self.handler.client.is_connected())

    def stop(self, timeout: float = 20.0) -> None:
        """Close the connection, finish what was already acknowledged, then end every thread."""
        self.handler.close()  # the socket, its receiver, monitor and message workers
        self.runtime.wait_idle(timeout)
        self.runtime.shutdown()
        # Bolt's listener threads (they only ack) would otherwise idle until the process ends.
        self.handler.app.listener_runner.listener_executor.shutdown(wait=True)


def start_socket_mode_in_thread(
    runtime: BotRuntime, app: App | None = None, token: str | None = None, timeout: float = 20.0
) -> RunningSocketBot:
    """Connect the app in Socket Mode without blocking; returns once Slack said hello.

    `token` defaults to SLACK_APP_TOKEN (`bot.runtime.app_token`). A token Slack refuses
    raises slack_sdk's SlackApiError from apps.connections.open, with nothing left running.
    """
    token = token or app_token(runtime.settings)
    if not token:
        raise ConfigError("environment: SLACK_APP_TOKEN is needed for Socket Mode (xapp-...)")
    runtime.warm_up()
    handler = CheckedSocketModeHandler(app or create_app(runtime), token, runtime)
    hello = threading.Event()

    def on_message(_client: Any, message: dict, _raw: str | None) -> None:
        if message.get("type") == "hello":
            hello.set()

    handler.client.message_listeners.append(on_message)
    try:
        handler.connect()
        if not hello.wait(timeout):
            raise RuntimeError("Slack did not say hello on the Socket Mode connection")
    except BaseException:
        handler.close()
        raise
    log.info("Slack app connected in Socket Mode")
    return RunningSocketBot(runtime, handler)


def serve(host: str = "127.0.0.1", port: int = 3000) -> None:
    """Run the Slack app until stopped: Socket Mode if SLACK_APP_TOKEN is set, else HTTP."""
    runtime = create_runtime()
    app = create_app(runtime)
    token = app_token(runtime.settings)
    if token:
        log.info("Slack app connecting to Slack in Socket Mode (no public URL needed)")
        running = start_socket_mode_in_thread(runtime, app, token)
        try:
            threading.Event().wait()  # until Ctrl-C
        except KeyboardInterrupt:
            pass
        finally:
            running.stop()  # what was acknowledged is finished first
        return
    runtime.warm_up()
    import uvicorn

    sys.setswitchinterval(SWITCH_INTERVAL)
    log.info("Slack app listening on http://%s:%s%s", host, port, EVENTS_PATH)
    uvicorn.run(
        asgi_app(app, Door.of(runtime), runtime),
        host=host,
        port=port,
        log_level="info",
        access_log=False,
        lifespan="on",
    )


__all__ = [
    "EVENTS_PATH",
    "CheckedSocketModeHandler",
    "Door",
    "RunningBot",
    "RunningSocketBot",
    "asgi_app",
    "serve",
    "start_in_thread",
    "start_socket_mode_in_thread",
]
