"""Serving the app: Bolt behind Starlette refuses unsigned or stale requests; Socket Mode when an app token is set."""

from __future__ import annotations

import asyncio
import time
from types import SimpleNamespace
from typing import Any

import httpx
import pytest
from slack_bolt import App
from slack_bolt.authorization import AuthorizeResult
from slack_sdk import WebClient

from bench.latency import command_body
from bot import server
from bot.inbound import Installation
from sandbox.slack import app_side
from sandbox.slack.models import APP_ID, TEAM_ID

SECRET = "unit-test-signing-secret"


def bolt_app(seen: list[str]) -> App:
    def authorize(**_: Any) -> AuthorizeResult:
        # No network in unit tests: who the bot is, without auth.test.
        return AuthorizeResult(
            enterprise_id=None,
            team_id="T1",
            bot_token="xoxb-unit-test",
            bot_id="B1",
            bot_user_id="U0BOT",
        )

    app = App(client=WebClient(), signing_secret=SECRET, authorize=authorize)

    @app.command("/coalition")
    def command(ack: Any, body: dict) -> None:
        seen.append(body["text"])
        ack()

    return app


async def exchange(app: Any, body: bytes) -> list[int]:
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://bot") as client:

        async def post(**signing: Any) -> int:
            headers = app_side.signed_headers(SECRET, body, **signing)
            reply = await client.post(server.EVENTS_PATH, content=body, headers=headers)
            return reply.status_code

        unsigned = await client.post(server.EVENTS_PATH, content=body)
        health = await client.get("/healthz")
        return [
            await post(),
            await post(bad_signature=True),
            await post(timestamp=int(time.time()) - 6 * 60),
            unsigned.status_code,
            health.status_code,
        ]


def test_signed_requests_are_dispatched_and_others_refused() -> None:
    seen: list[str] = []
    body = command_body("help", "U1", "C1", "general", "http://x/hooks/commands/t", 1)
    door = server.Door(SECRET, lambda: Installation(TEAM_ID, APP_ID))
    statuses = asyncio.run(exchange(server.asgi_app(bolt_app(seen), door), body))
    assert statuses == [200, 401, 401, 401, 200]
    assert seen == ["help"]


def fake_runtime(token: str | None) -> Any:
    secret = SimpleNamespace(get_secret_value=lambda: token) if token else None
    signing = SimpleNamespace(get_secret_value=lambda: SECRET)
    return SimpleNamespace(
        settings=SimpleNamespace(
            secrets=SimpleNamespace(slack_app_token=secret, slack_signing_secret=signing)
        ),
        installation=lambda: Installation(TEAM_ID, APP_ID),
        shutdown=lambda: None,
        warm_up=lambda: None,
    )


def test_serve_uses_socket_mode_when_an_app_token_is_set(monkeypatch: pytest.MonkeyPatch) -> None:
    """Socket Mode until Ctrl-C, then a stop that finishes what was acknowledged."""
    started: list[str] = []

    class Running:
        def stop(self) -> None:
            started.append("stopped")

    def connect(runtime: Any, app: Any, token: str) -> Running:
        started.append(token)
        return Running()

    class CtrlC:
        def wait(self) -> None:
            raise KeyboardInterrupt

    import uvicorn

    monkeypatch.setattr(server, "create_runtime", lambda: fake_runtime("xapp-1-A0-1-abc"))
    monkeypatch.setattr(server, "create_app", lambda runtime: object())
    monkeypatch.setattr(server, "start_socket_mode_in_thread", connect)
    monkeypatch.setattr(server.threading, "Event", CtrlC)
    monkeypatch.setattr(uvicorn, "run", lambda *a, **k: started.append("http"))
    server.serve(port=3999)
    assert started == ["xapp-1-A0-1-abc", "stopped"]


def test_serve_listens_over_http_without_an_app_token(monkeypatch: pytest.MonkeyPatch) -> None:
    import uvicorn

    calls: list[dict] = []
    monkeypatch.setattr(server, "create_runtime", lambda: fake_runtime(None))
    monkeypatch.setattr(server, "create_app", lambda runtime: bolt_app([]))
    monkeypatch.setattr(uvicorn, "run", lambda app, **kwargs: calls.append(kwargs))
    server.serve(host="127.0.0.1", port=3999)
    assert calls and (calls[0]["host"], calls[0]["port"]) == ("127.0.0.1", 3999)


def test_socket_mode_payloads_pass_the_same_door(monkeypatch: pytest.MonkeyPatch) -> None:
    """Malformed: acked, logged, not given to Bolt; another workspace: answered, not acted on."""
    from slack_sdk.socket_mode.request import SocketModeRequest

    from bot.inbound import FOREIGN_WORDS

    seen: list[str] = []
    runtime = SimpleNamespace(installation=lambda: Installation(TEAM_ID, APP_ID))
    handler = server.CheckedSocketModeHandler(bolt_app(seen), "xapp-1-A0-1-unit", runtime)
    acks: list[tuple[str, Any]] = []
    client = SimpleNamespace(
        send_socket_mode_response=lambda r: acks.append((r.envelope_id, r.payload)),
        logger=handler.client.logger,
    )
    good = dict(
        app_side.slash_command_fields(
            team={"id": TEAM_ID, "domain": "coalition"},
            channel={"id": "C1", "name": "general"},
            user={"id": "U1", "name": "u1"},
            command="/coalition",
            text="help",
            response_url="http://x/hooks/commands/t",
            trigger_id="1.1.unit",
            api_app_id=APP_ID,
            token="unit",
        )
    )
    requests = [
        ("e1", {**good, "authorizations": "x"}),  # Bolt would raise on this one
        ("e2", "not an object"),  # slack_sdk makes it {"text": ...}
        ("e3", {**good, "team_id": "T0ELSEWHERE"}),
        ("e4", good),
    ]
    for envelope_id, payload in requests:
        request = SocketModeRequest(type="slash_commands", envelope_id=envelope_id, payload=payload)
        handler.handle(client, request)
    assert acks[:3] == [
        ("e1", None),
        ("e2", None),
        ("e3", {"response_type": "ephemeral", "text": FOREIGN_WORDS}),
    ]
    assert [a[0] for a in acks] == ["e1", "e2", "e3", "e4"]
    assert seen == ["help"]
    handler.client.close()
