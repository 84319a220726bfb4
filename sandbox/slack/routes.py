"""HTTP translation of the emulated Slack: the Web API at /api/{method}, response URLs, control routes.

Replies are HTTP 200 {"ok": true, ...} or {"ok": false, "error": ...}; only rate limits
answer 429 (with Retry-After in whole seconds). Arguments come from the query string,
a form body or a JSON body; the token from `Authorization: Bearer` or a `token` field.
Limits: chat.postMessage 1 a second per channel; every method its documented tier
(Tier 1-4: 1, 20, 50, 100 a minute per workspace), on the sandbox clock.
Socket Mode: `apps.connections.open` takes only an app-level token (xapp-...) and answers
a one-use ws:// URL of this server's WebSocket endpoint at /link/ (sandbox/slack/socket_mode.py).

Not implemented: methods not listed in `METHODS` (they answer unknown_method),
multipart bodies (file uploads),
per-token rate limits, the special workspace-wide posting limit, `X-OAuth-Scopes`
headers, and pretty-printing (`pretty=1`).
"""

from __future__ import annotations

import contextlib
import json
import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qs, parse_qsl

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route, WebSocketRoute
from starlette.websockets import WebSocket, WebSocketDisconnect

from sandbox.core import bearer_token
from sandbox.slack.control import control_routes
from sandbox.slack.errors import SlackError
from sandbox.slack.models import TRUNCATION_WARNING, Posted
from sandbox.slack.socket_mode import LINK_PATH, link_url

if TYPE_CHECKING:
    from sandbox.slack.models import Backend

TIER_PER_MINUTE = {1: 1, 2: 20, 3: 50, 4: 100}
_FORM_TYPES = ("application/x-www-form-urlencoded",)


class Args:
    """A method's arguments, read the lenient way Slack reads them (strings, "true", "1", JSON text)."""

    def __init__(self, data: dict[str, Any], origin: str = "") -> None:
        self.data = data
        self.origin = origin  # ws://host:port of this server, for Socket Mode URLs

    def text(self, key: str) -> str:
        value = self.data.get(key)
        return "" if value is None else str(value)

    def raw(self, key: str) -> Any:
        return self.data.get(key)

    def flag(self, key: str) -> bool:
        value = self.data.get(key)
        return value is True or str(value).lower() in {"true", "1"}

    def number(self, key: str, default: int, most: int) -> int:
        try:
            value = int(self.data.get(key) or 0)
        except (TypeError, ValueError):
            raise SlackError("invalid_arguments") from None
        return default if value <= 0 else min(value, most)

    def decoded(self, key: str, error: str) -> Any:
        """A JSON-valued argument (blocks, view, metadata), sent as JSON text in forms."""
        value = self.data.get(key)
        if value is None or value == "":
            return None
        if isinstance(value, str):
            try:
                return json.loads(value)
            except ValueError:
                raise SlackError(error) from None
        return value

    def names(self, key: str) -> list[str]:
        value = self.data.get(key)
        if isinstance(value, list):
            return [str(v) for v in value]
        return [part.strip() for part in self.text(key).split(",") if part.strip()]


# ------------------------------------------------------------------ chat.*
def _metadata(args: Args) -> dict[str, Any] | None:
    metadata = args.decoded("metadata", "invalid_metadata_format")
    if metadata is None:
        return None
    valid = (
        isinstance(metadata, dict)
        and isinstance(metadata.get("event_type"), str)
        and metadata["event_type"]
        and isinstance(metadata.get("event_payload", {}), dict)
    )
    if not valid:
        raise SlackError("invalid_metadata_format")
    return {
        "event_type": metadata["event_type"],
        "event_payload": metadata.get("event_payload", {}),
    }


def _blocks(args: Args) -> Any:
    return args.decoded("blocks", "invalid_blocks_format")


def _with_warnings(reply: dict[str, Any], posted: Posted) -> dict[str, Any]:
    if posted.warnings:
        reply["warning"] = ",".join(posted.warnings)
        reply["response_metadata"] = {"warnings": posted.warnings, "messages": [TRUNCATION_WARNING]}
    return reply


def chat_post_message(b: Backend, a: Args) -> dict[str, Any]:
    if not a.text("channel"):
        raise SlackError("channel_not_found")
    posted = b.post_message(
        a.text("channel"),
        a.raw("text"),
        _blocks(a),
        thread_ts=a.text("thread_ts") or None,
        reply_broadcast=a.flag("reply_broadcast"),
        metadata=_metadata(a),
        attachments=a.decoded("attachments", "invalid_attachments"),
        username=a.text("username") or None,
    )
    return _with_warnings(
        {"channel": posted.channel, "ts": posted.ts, "message": posted.message}, posted
    )


def chat_update(b: Backend, a: Args) -> dict[str, Any]:
    posted = b.update_message(
        a.text("channel"), a.text("ts"), a.raw("text"), _blocks(a), _metadata(a)
    )
    reply = {"channel": posted.channel, "ts": posted.ts, "text": posted.message["text"]}
    return _with_warnings({**reply, "message": posted.message}, posted)


def chat_delete(b: Backend, a: Args) -> dict[str, Any]:
    b.delete_message(a.text("channel"), a.text("ts"))
    return {"channel": a.text("channel"), "ts": a.text("ts")}


def chat_post_ephemeral(b: Backend, a: Args) -> dict[str, Any]:
    if not a.text("channel"):
        raise SlackError("channel_not_found")
    ts = b.post_ephemeral(
        a.text("channel"),
        a.text("user"),
        a.raw("text"),
        _blocks(a),
        thread_ts=a.text("thread_ts") or None,
    )
    return {"message_ts": ts}


def chat_get_permalink(b: Backend, a: Args) -> dict[str, Any]:
    return {
        "channel": a.text("channel"),
        "permalink": b.permalink(a.text("channel"), a.text("message_ts")),
    }


# ------------------------------------------------------------------ conversations.*
def conversations_list(b: Backend, a: Args) -> dict[str, Any]:
    channels, next_cursor = b.list_conversations(
        a.names("types"),
        a.flag("exclude_archived"),
        a.text("cursor") or None,
        a.number("limit", 100, 1000),
    )
    return {"channels": channels, "response_metadata": {"next_cursor": next_cursor}}


def conversations_info(b: Backend, a: Args) -> dict[str, Any]:
    return {"channel": b.conversation_info(a.text("channel"), a.flag("include_num_members"))}


def _window_args(a: Args, default_limit: int, most: int) -> dict[str, Any]:
    return {
        "oldest": a.raw("oldest"),
        "latest": a.raw("latest"),
        "inclusive": a.flag("inclusive"),
        "limit": a.number("limit", default_limit, most),
        "cursor": a.text("cursor") or None,
        "include_all_metadata": a.flag("include_all_metadata"),
    }


def conversations_history(b: Backend, a: Args) -> dict[str, Any]:
    messages, has_more, next_cursor = b.history(a.text("channel"), **_window_args(a, 100, 999))
    return {
        "messages": messages,
        "has_more": has_more,
        "pin_count": 0,
        "channel_actions_ts": None,
        "channel_actions_count": 0,
        "response_metadata": {"next_cursor": next_cursor},
    }


def conversations_replies(b: Backend, a: Args) -> dict[str, Any]:
    if not a.text("ts"):
        raise SlackError("thread_not_found")
    messages, has_more, next_cursor = b.conversation_replies(
        a.text("channel"), a.text("ts"), **_window_args(a, 1000, 1000)
    )
    return {
        "messages": messages,
        "has_more": has_more,
        "response_metadata": {"next_cursor": next_cursor},
    }


def conversations_create(b: Backend, a: Args) -> dict[str, Any]:
    return {"channel": b.create_conversation(a.text("name"), a.flag("is_private"))}


def conversations_join(b: Backend, a: Args) -> dict[str, Any]:
    channel, already = b.join(a.text("channel"))
    reply: dict[str, Any] = {"channel": channel}
    if already:
        reply["warning"] = "already_in_channel"
        reply["response_metadata"] = {"warnings": ["already_in_channel"]}
    return reply


def conversations_invite(b: Backend, a: Args) -> dict[str, Any]:
    channel, errors = b.invite(a.text("channel"), a.names("users"), force=a.flag("force"))
    reply: dict[str, Any] = {"channel": channel}
    if errors:
        reply["errors"] = errors
    return reply


def conversations_members(b: Backend, a: Args) -> dict[str, Any]:
    members, next_cursor = b.members(
        a.text("channel"), a.text("cursor") or None, a.number("limit", 100, 1000)
    )
    return {"members": members, "response_metadata": {"next_cursor": next_cursor}}


def conversations_open(b: Backend, a: Args) -> dict[str, Any]:
    users = a.names("users")
    if a.text("channel"):
        return {"channel": {"id": b.conversation_info(a.text("channel"))["id"]}}
    if not users:
        raise SlackError("users_list_not_supplied")
    if len(users) > 1:
        raise SlackError("not_implemented")  # group DMs (mpim) are not emulated
    b.need("im:write")
    return {"channel": {"id": b.open_im(users[0])}}


def conversations_archive(b: Backend, a: Args) -> dict[str, Any]:
    record = b.conversation_info(a.text("channel"))
    b.need("groups:write" if record.get("is_private") else "channels:manage")
    if record.get("is_archived"):
        raise SlackError("already_archived")
    b.archive_channel(record["id"])
    return {}


# ------------------------------------------------------------------ users.*, usergroups.*
def users_list(b: Backend, a: Args) -> dict[str, Any]:
    members, next_cursor = b.list_users(a.text("cursor") or None, a.number("limit", 0, 1000))
    return {
        "members": members,
        "cache_ts": b.epoch(),
        "response_metadata": {"next_cursor": next_cursor},
    }


def users_info(b: Backend, a: Args) -> dict[str, Any]:
    return {"user": b.user_info(a.text("user"))}


def users_lookup_by_email(b: Backend, a: Args) -> dict[str, Any]:
    return {"user": b.lookup_by_email(a.text("email"))}


def usergroups_list(b: Backend, a: Args) -> dict[str, Any]:
    return {"usergroups": b.list_usergroups(a.flag("include_users"), a.flag("include_disabled"))}


def usergroups_users_list(b: Backend, a: Args) -> dict[str, Any]:
    return {"users": b.usergroup_users(a.text("usergroup"), a.flag("include_disabled"))}


# ------------------------------------------------------------------ views.*, auth.*
def _view(a: Args) -> Any:
    return a.decoded("view", "invalid_arguments")


def views_open(b: Backend, a: Args) -> dict[str, Any]:
    return {"view": b.open_view(a.text("trigger_id") or None, _view(a))}


def views_push(b: Backend, a: Args) -> dict[str, Any]:
    return {"view": b.push_view(a.text("trigger_id") or None, _view(a))}


def views_update(b: Backend, a: Args) -> dict[str, Any]:
    view = b.update_view(
        _view(a),
        view_id=a.text("view_id") or None,
        external_id=a.text("external_id") or None,
        hash_=a.text("hash") or None,
    )
    return {"view": view}


def auth_test(b: Backend, a: Args) -> dict[str, Any]:
    return b.auth_test()


def apps_connections_open(b: Backend, a: Args) -> dict[str, Any]:
    """A WebSocket URL for one Socket Mode connection (the app-level token was checked first)."""
    return {"url": link_url(a.origin, b.socket.issue_ticket(b.app_id))}


def api_test(b: Backend, a: Args) -> dict[str, Any]:
    if a.text("error"):
        raise SlackError(a.text("error"))
    return {"args": {k: v for k, v in a.data.items() if k != "token"}}


@dataclass(frozen=True)
class Method:
    """A Web API method: its handler and rate-limit tier (None: Slack's "special" limits)."""

    handler: Callable[[Backend, Args], dict[str, Any]]
    tier: int | None


METHODS: dict[str, Method] = {
    "api.test": Method(api_test, 4),
    "auth.test": Method(auth_test, 4),
    "apps.connections.open": Method(apps_connections_open, 1),
    "chat.postMessage": Method(chat_post_message, None),
    "chat.update": Method(chat_update, 3),
    "chat.delete": Method(chat_delete, 3),
    "chat.postEphemeral": Method(chat_post_ephemeral, 4),
    "chat.getPermalink": Method(chat_get_permalink, 4),
    "conversations.list": Method(conversations_list, 2),
    "conversations.info": Method(conversations_info, 3),
    "conversations.history": Method(conversations_history, 3),
    "conversations.replies": Method(conversations_replies, 3),
    "conversations.create": Method(conversations_create, 2),
    "conversations.join": Method(conversations_join, 3),
    "conversations.members": Method(conversations_members, 4),
    "conversations.invite": Method(conversations_invite, 3),
    "conversations.open": Method(conversations_open, 3),
    "conversations.archive": Method(conversations_archive, 2),
    "users.list": Method(users_list, 2),
    "users.info": Method(users_info, 4),
    "users.lookupByEmail": Method(users_lookup_by_email, 3),
    "usergroups.list": Method(usergroups_list, 2),
    "usergroups.users.list": Method(usergroups_users_list, 2),
    "views.open": Method(views_open, 4),
    "views.push": Method(views_push, 4),
    "views.update": Method(views_update, 4),
}


# ------------------------------------------------------------------ plumbing
async def read_args(request: Request) -> dict[str, Any]:
    """Query string, then the form or JSON body on top, as Slack merges them."""
    data: dict[str, Any] = dict(request.query_params)
    content_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if request.method != "POST":
        return data
    if content_type == "application/json":
        raw = await request.body()
        if raw.strip():
            try:
                body = json.loads(raw)
            except ValueError:
                raise SlackError("invalid_json") from None
            if not isinstance(body, dict):
                raise SlackError("invalid_json")
            data.update(body)
    elif content_type == "application/x-www-form-urlencoded":
        raw = await request.body()
        data.update(parse_qsl(raw.decode("utf-8", errors="replace"), keep_blank_values=True))
    return data


def _token(request: Request, data: dict[str, Any]) -> str | None:
    if header := bearer_token(request.headers):
        return header
    token = data.get("token")
    return str(token) if token else None


def _check_caller(backend: Backend, name: str, request: Request, token: str | None) -> None:
    """Bot token for every method but api.test; apps.connections.open wants an app-level one, by POST."""
    if name == "api.test":
        return
    if name != "apps.connections.open":
        backend.check_token(token)
        return
    if request.method != "POST":
        raise SlackError("insecure_request")
    backend.check_app_token(token)


def _socket_origin(request: Request) -> str:
    scheme = "wss" if request.url.scheme == "https" else "ws"
    return f"{scheme}://{request.url.netloc}"


def _rate_limited(backend: Backend, name: str, method: Method, args: Args) -> float | None:
    limiter = backend.ctx.limiter
    if name == "chat.postMessage":
        channel = args.text("channel")
        # An unknown channel is refused after the limit: Slack counts the call either way.
        with contextlib.suppress(SlackError):
            channel = backend.resolve_channel(channel)
        return limiter.check(f"slack:post:{channel}", 1, 1.0)
    if method.tier is None:
        return None
    return limiter.check(f"slack:tier{method.tier}:{name}", TIER_PER_MINUTE[method.tier], 60.0)


def web_api(backend: Backend) -> Callable[[Request], Any]:
    async def call(request: Request) -> Response:
        name = request.path_params["method"]
        try:
            data = await read_args(request)
            _check_caller(backend, name, request, _token(request, data))
            method = METHODS.get(name)
            if method is None:
                raise SlackError("unknown_method")
            args = Args(data, _socket_origin(request))
            wait = _rate_limited(backend, name, method, args)
            if wait is not None:
                return error_response("429", 429, wait)
            result = method.handler(backend, args)
        except SlackError as exc:
            return JSONResponse(exc.body())
        return JSONResponse({"ok": True, **result})

    return call


def socket_endpoint(backend: Backend) -> Callable[[WebSocket], Any]:
    """The Socket Mode WebSocket: hello on connect, then the app's acks until it goes."""

    async def link(websocket: WebSocket) -> None:
        hub = backend.socket
        try:
            app_id = hub.redeem(websocket.query_params.get("ticket", ""))
        except SlackError:
            await websocket.close(code=1008)  # before accept: the handshake is refused (403)
            return
        await websocket.accept()
        connection = hub.register(app_id, websocket.send_text, websocket.close)
        try:
            await connection.send(hub.hello(connection))
            while True:
                message = await websocket.receive()
                if message["type"] == "websocket.disconnect":
                    break
                raw = message.get("text")
                if raw is None and message.get("bytes") is not None:
                    raw = message["bytes"].decode("utf-8", errors="replace")
                if raw:
                    hub.acknowledge(connection, raw)
        except (WebSocketDisconnect, OSError):  # the app dropped the socket as hello went out
            pass
        finally:
            hub.unregister(connection)

    return link


def response_url_endpoint(backend: Backend) -> Callable[[Request], Any]:
    async def post(request: Request) -> Response:
        raw = await request.body()
        try:
            payload = _hook_payload(raw, request.headers.get("content-type", ""))
            backend.post_to_response_url(request.path_params["token"], payload)
        except SlackError as exc:
            gone = exc.error in {"used_url", "expired_url", "invalid_url"}
            return JSONResponse(exc.body(), status_code=404 if gone else 400)
        return JSONResponse({"ok": True})

    return post


def _hook_payload(raw: bytes, content_type: str) -> dict[str, Any]:
    """A response URL takes JSON, or a form whose `payload` field is JSON."""
    text = raw.decode("utf-8", errors="replace")
    if "x-www-form-urlencoded" in content_type:
        text = (parse_qs(text).get("payload") or [""])[0]
    try:
        payload = json.loads(text)
    except ValueError:
        raise SlackError("invalid_payload") from None
    if not isinstance(payload, dict):
        raise SlackError("invalid_payload")
    return payload


def routes(backend: Backend) -> list[BaseRoute]:
    return [
        Route("/api/{method}", web_api(backend), methods=["GET", "POST"]),
        WebSocketRoute(LINK_PATH, socket_endpoint(backend)),
        Route("/hooks/commands/{token:path}", response_url_endpoint(backend), methods=["POST"]),
        *control_routes(backend),
    ]


def is_authorized(path: str, headers: dict[str, str], query: str) -> bool:
    """Let through anything that may carry a token; the Web API itself then checks it.

    Response URLs need no token, and a form body may carry `token`, which only the
    route can read, so only a JSON or bodiless call with no Authorization is refused here.
    """
    if not path.startswith("/api/") or path == "/api/api.test":
        return True
    if bearer_token(headers):
        return True
    if any(kind in headers.get("content-type", "") for kind in _FORM_TYPES):
        return True
    return "token=" in query


def error_response(kind: str, status: int, retry_after: float | None) -> Response:
    """Slack's shapes: a missing token is HTTP 200 not_authed; 429 carries whole-second Retry-After."""
    if kind == "401":
        return JSONResponse({"ok": False, "error": "not_authed"})
    if kind == "429":
        seconds = max(1, math.ceil(retry_after or 1))
        return JSONResponse(
            {"ok": False, "error": "ratelimited"},
            status_code=429,
            headers={"Retry-After": str(seconds)},
        )
    error = "service_unavailable" if status == 503 else "fatal_error"
    return JSONResponse({"ok": False, "error": error}, status_code=status)
