"""Serving the Slack app: HTTP at /slack/events (Starlette + uvicorn), or Socket Mode when SLACK_APP_TOKEN is set.

Over HTTP, Bolt's own dispatch (signature and 5-minute timestamp check first, a 401
for anything forged or replayed) runs in a worker thread, so one slow request never
holds the event loop and twenty at once are acknowledged side by side. Socket Mode
suits organizations that cannot expose a public URL: the app dials out to Slack
(`start_socket_mode_in_thread` does the same for tests and the demo, and can be stopped).
"""

from __future__ import annotations

import contextlib
import logging
import threading
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

from slack_bolt import App
from slack_bolt.adapter.starlette.handler import to_bolt_request, to_starlette_response
from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from bot.app import create_app, create_runtime
from bot.runtime import BotRuntime, app_token
from coalition.settings import ConfigError

log = logging.getLogger("bot.server")

EVENTS_PATH = "/slack/events"
MAX_BODY = 1_000_000  # Slack's payloads are far smaller; anything bigger is not Slack


def asgi_app(app: App, runtime: BotRuntime | None = None) -> Starlette:
    """The Starlette application: POST /slack/events, GET /healthz."""

    async def events(request: Request) -> Response:
        body = await request.body()
        bolt_request = to_bolt_request(request, body)
        bolt_response = await run_in_threadpool(app.dispatch, bolt_request)
        return to_starlette_response(bolt_response)

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
    import uvicorn

    from sandbox.runner import free_port

    port = port or free_port(host)
    runtime.warm_up()
    config = uvicorn.Config(
        asgi_app(app or create_app(runtime)),
        host=host,
        port=port,
        log_level="warning",
        access_log=False,
        lifespan="off",
    )
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, name="slack-app", daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            raise RuntimeError(f"the Slack app did not start on {host}:{port}")
        time.sleep(0.02)
    return RunningBot(f"http://{host}:{port}{EVENTS_PATH}", runtime, server, thread)


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
    from slack_bolt.adapter.socket_mode import SocketModeHandler

    token = token or app_token(runtime.settings)
    if not token:
        raise ConfigError("environment: SLACK_APP_TOKEN is needed for Socket Mode (xapp-...)")
    runtime.warm_up()
    handler = SocketModeHandler(app or create_app(runtime), token)
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

    log.info("Slack app listening on http://%s:%s%s", host, port, EVENTS_PATH)
    uvicorn.run(
        asgi_app(app, runtime),
        host=host,
        port=port,
        log_level="info",
        access_log=False,
        lifespan="on",
    )


__all__ = [
    "EVENTS_PATH",
    "RunningBot",
    "RunningSocketBot",
    "asgi_app",
    "serve",
    "start_in_thread",
    "start_socket_mode_in_thread",
]
