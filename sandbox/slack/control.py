"""Control endpoints under /_sandbox/slack/: act as a person in Slack toward the app, and look inside.

POST /_sandbox/slack/command  {app_url, text, user, channel, command="/coalition"}
POST /_sandbox/slack/action   {app_url, user, channel, message_ts, action_id, value?}
POST /_sandbox/slack/submit   {app_url, view_id, user?, values: {block_id: {action_id: value}}}
  each also takes signing_secret, timestamp (to forge a stale request), bad_signature,
  timeout (seconds, default Slack's 3) and sandbox_url (base of the response_url);
  team_id and api_app_id forge a request from another workspace or app (Slack sends
  the installed ones), and `outsider: true` lets an action come from someone who is not
  in the channel (Slack would not deliver it; a replayed or crafted payload would).
  `via`: "http" POSTs to app_url; "socket" sends a Socket Mode envelope to the connected
  app and waits for its ack (signing fields do not apply); without `via`, app_url means
  HTTP and no app_url means Socket Mode if an app is connected. Either way the answer is
  {ok, status, body, elapsed_ms, error, via, ...}: an ack reads as status 200 with the
  ack's payload as body; no connected app is `dispatch_failed`, no ack `operation_timeout`.
POST /_sandbox/slack/event    {event: {type, ...} | type="app_mention", user, channel, text,
  timeout, retry_delays=[0, 60, 300]}  an Events API callback to the app connected in Socket
  Mode, sent again (retry_attempt, retry_reason "timeout") until acknowledged or out of retries;
  answers {ok, event_id, attempts: [{envelope_id, retry_attempt, retry_reason, connection,
  status, error, elapsed_ms}]}. Over HTTP, events are not implemented.
GET  /_sandbox/slack/socket   open Socket Mode connections, envelopes awaiting an ack
POST /_sandbox/slack/socket/disconnect  {reason="refresh_requested", close=false}
POST /_sandbox/slack/message  {channel, user, text, thread_ts?}  a person posts
GET  /_sandbox/slack/channels/{channel}/messages?include_ephemeral=1
GET  /_sandbox/slack/views/{view_id}
GET  /_sandbox/slack/log      every message ever shown (for leak scans)

`call_control` is the client side of these endpoints, for the CLI and scripts.
"""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any

import httpx
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from sandbox.slack import app_side, socket_mode
from sandbox.slack.errors import SlackError
from sandbox.slack.interactive import element_state

if TYPE_CHECKING:
    from sandbox.slack.models import Backend

_NOT_FOUND = {"channel_not_found", "user_not_found", "message_not_found", "view_not_found"}
_NOT_FOUND |= {"action_not_found"}


def _refuse(error: str, **extra: Any) -> JSONResponse:
    status = 404 if error in _NOT_FOUND else 400
    return JSONResponse({"ok": False, "error": error, **extra}, status_code=status)


async def _body(request: Request) -> dict[str, Any]:
    raw = await request.body()
    if not raw.strip():
        return {}
    try:
        data = json.loads(raw)
    except ValueError:
        raise SlackError("invalid_json") from None
    if not isinstance(data, dict):
        raise SlackError("invalid_json")
    return data


def find_action(blocks: list[dict[str, Any]], action_id: str) -> tuple[str, dict[str, Any]]:
    """The (block_id, element) with this action_id in a message's blocks, or action_not_found."""
    for block in blocks or []:
        candidates = list(block.get("elements") or [])
        candidates += [block[k] for k in ("accessory", "element") if isinstance(block.get(k), dict)]
        for element in candidates:
            if isinstance(element, dict) and element.get("action_id") == action_id:
                return block["block_id"], element
    raise SlackError("action_not_found")


class SlackControl:
    """The person's side of Slack, driven by tests, the demo and the CLI."""

    def __init__(self, backend: Backend) -> None:
        self.backend = backend

    # ------------------------------------------------------------ helpers
    def _user(self, ref: Any) -> dict[str, Any]:
        user_id = self.backend.find_user(str(ref or ""))
        if user_id is None:
            raise SlackError("user_not_found")
        return self.backend.users[user_id]

    def _channel(self, ref: Any) -> dict[str, str]:
        channel_id = self.backend.resolve_channel(str(ref or ""))
        record = self.backend.channels[channel_id]
        name = "directmessage" if record["is_im"] else record["name"]
        return {"id": channel_id, "name": name}

    def _team(self, body: dict[str, Any]) -> dict[str, str]:
        if body.get("team_id"):
            return {"id": str(body["team_id"]), "domain": "elsewhere"}
        return {"id": self.backend.team_id, "domain": self.backend.team_domain}

    def _app_id(self, body: dict[str, Any]) -> str:
        return str(body.get("api_app_id") or self.backend.app_id)

    def _delivery(self, body: dict[str, Any]) -> dict[str, Any]:
        """How to reach the app: over HTTP at app_url, or through its Socket Mode connection."""
        via = str(body.get("via") or "").lower()
        if via not in {"", "http", "socket"}:
            raise SlackError("invalid_via")
        if not via:
            connected = self.backend.socket.is_connected()
            via = "http" if body.get("app_url") or not connected else "socket"
        if via == "http" and not body.get("app_url"):
            raise SlackError("app_url_required")
        return {
            "via": via,
            "app_url": str(body.get("app_url") or ""),
            "secret": str(body.get("signing_secret") or self.backend.signing_secret),
            "timestamp": body.get("timestamp"),
            "bad_signature": bool(body.get("bad_signature")),
            "timeout": float(body.get("timeout") or app_side.ACK_SECONDS),
        }

    async def _send(
        self, delivery: dict[str, Any], kind: str, payload: dict[str, Any], encoded: bytes
    ) -> app_side.AppReply:
        """Deliver a request as Slack would: a signed POST, or an envelope awaiting its ack."""
        if delivery["via"] == "socket":
            return await self.backend.socket.dispatch(
                kind, payload, accepts_response_payload=True, timeout=delivery["timeout"]
            )
        return await app_side.deliver(
            delivery["app_url"],
            encoded,
            secret=delivery["secret"],
            timestamp=delivery["timestamp"],
            bad_signature=delivery["bad_signature"],
            timeout=delivery["timeout"],
        )

    @staticmethod
    def _base(request: Request, body: dict[str, Any]) -> str:
        return str(body.get("sandbox_url") or request.base_url).rstrip("/")

    @staticmethod
    def _answer(reply: app_side.AppReply, delivery: dict[str, Any], **extra: Any) -> JSONResponse:
        result: dict[str, Any] = {"ok": reply.error is None, **reply.as_dict(), **extra}
        result["via"] = delivery["via"]
        return JSONResponse(result)

    def _handles(
        self,
        request: Request,
        body: dict[str, Any],
        channel: dict[str, Any],
        user: dict[str, Any],
        source: dict[str, Any] | None = None,
    ) -> tuple[str, dict[str, Any]]:
        """A response URL and trigger for what the person did, with the fields every app request carries."""
        hook = self.backend.issue_response_url(channel["id"], user["id"], source)
        return hook, {
            "response_url": f"{self._base(request, body)}/hooks/commands/{hook}",
            "trigger_id": self.backend.issue_trigger(user["id"]),
            "api_app_id": self._app_id(body),
            "token": self.backend.verification_token,
        }

    # ------------------------------------------------------------ endpoints
    async def command(self, request: Request, body: dict[str, Any]) -> JSONResponse:
        """Send a signed slash command; show the app's immediate reply to the person."""
        delivery = self._delivery(body)
        user, channel = self._user(body.get("user")), self._channel(body.get("channel"))
        hook, handles = self._handles(request, body, channel, user)
        fields = app_side.slash_command_fields(
            team=self._team(body),
            channel=channel,
            user=user,
            command=str(body.get("command") or "/coalition"),
            text=str(body.get("text") or ""),
            **handles,
        )
        reply = await self._send(
            delivery, socket_mode.COMMAND, fields, app_side.encode_form(fields)
        )
        shown, refusal = None, None
        if reply.status == 200:
            parsed = reply.json()
            try:
                shown = self.backend.record_command_reply(
                    hook, reply.body if parsed is None else parsed
                )
            except SlackError as exc:  # Slack shows the person an error instead of the reply
                refusal = exc.error
        return self._answer(
            reply,
            delivery,
            response_url=handles["response_url"],
            trigger_id=handles["trigger_id"],
            message_ts=shown,
            reply_error=refusal,
        )

    async def action(self, request: Request, body: dict[str, Any]) -> JSONResponse:
        """Click an element of a stored message; sends block_actions like Slack does."""
        delivery = self._delivery(body)
        user, channel = self._user(body.get("user")), self._channel(body.get("channel"))
        ts = str(body.get("message_ts") or "")
        message, ephemeral = self._clicked_message(
            channel["id"], user["id"], ts, outsider=bool(body.get("outsider"))
        )
        block_id, element = find_action(message.get("blocks") or [], str(body.get("action_id")))
        value = body.get("value")
        selected = element_state(element, element.get("value") if value is None else value)
        selected.pop("type")
        if selected.get("value") is None:
            selected.pop("value", None)
        source = {"channel": channel["id"], "ts": ts, "ephemeral": ephemeral}
        _, handles = self._handles(request, body, channel, user, source)
        payload = app_side.block_actions_payload(
            team=self._team(body),
            user=user,
            channel=channel,
            message=None if ephemeral else self.backend.public_message(message, False),
            container={
                "type": "message",
                "message_ts": ts,
                "channel_id": channel["id"],
                "is_ephemeral": ephemeral,
            },
            actions=[app_side.action_entry(element, block_id, selected, self.backend.next_ts())],
            **handles,
        )
        reply = await self._send(
            delivery, socket_mode.INTERACTIVE, payload, app_side.encode_payload(payload)
        )
        return self._answer(
            reply, delivery, response_url=handles["response_url"], trigger_id=handles["trigger_id"]
        )

    def _clicked_message(
        self, channel_id: str, user_id: str, ts: str, outsider: bool = False
    ) -> tuple[dict[str, Any], bool]:
        """The message a person can click: one in a channel they are in, or an ephemeral for them."""
        ephemeral = self.backend.find_ephemeral(channel_id, ts)
        if ephemeral is not None and ephemeral["visible_to"] == user_id:
            return ephemeral, True
        message = self.backend.find_message(channel_id, ts)
        if message is None:
            raise SlackError("message_not_found")
        if user_id not in self.backend.channels[channel_id]["members"] and not outsider:
            raise SlackError("user_not_in_channel")
        return message, False

    async def submit(self, request: Request, body: dict[str, Any]) -> JSONResponse:
        """Submit an open modal with the person's answers; applies the app's response_action."""
        delivery = self._delivery(body)
        view_id = str(body.get("view_id") or "")
        owner = self.backend.view_users.get(view_id)
        if owner is None:
            raise SlackError("view_not_found")
        if body.get("user") and self._user(body["user"])["id"] != owner:
            raise SlackError("not_view_owner")
        view = self.backend.fill_view_state(view_id, body.get("values") or {})
        trigger_id = self.backend.issue_trigger(owner, view_id)
        payload = app_side.view_submission_payload(
            team=self._team(body),
            user=self.backend.users[owner],
            view=view,
            trigger_id=trigger_id,
            api_app_id=self._app_id(body),
            token=self.backend.verification_token,
        )
        reply = await self._send(
            delivery, socket_mode.INTERACTIVE, payload, app_side.encode_payload(payload)
        )
        outcome = (
            "error"
            if reply.error
            else self.backend.apply_view_response(view_id, reply.status, reply.json())
        )
        return self._answer(
            reply,
            delivery,
            outcome=outcome,
            trigger_id=trigger_id,
            view_errors=self.backend.view_errors.get(view_id),
        )

    async def person_posts(self, request: Request, body: dict[str, Any]) -> JSONResponse:
        """A person (not the bot) writes in a channel or thread."""
        user, channel = self._user(body.get("user")), self._channel(body.get("channel"))
        posted = self.backend.post_message(
            channel["id"],
            body.get("text"),
            body.get("blocks"),
            thread_ts=body.get("thread_ts"),
            user=user["id"],
            source="person",
        )
        return JSONResponse({"ok": True, "channel": posted.channel, "ts": posted.ts})

    async def channel_messages(self, request: Request, body: dict[str, Any]) -> JSONResponse:
        channel = self._channel(request.path_params["channel"])
        with_ephemeral = request.query_params.get("include_ephemeral", "") in {"1", "true"}
        messages = self.backend.messages(channel["id"], include_ephemeral=with_ephemeral)
        return JSONResponse({"ok": True, "channel": channel["id"], "messages": messages})

    async def view(self, request: Request, body: dict[str, Any]) -> JSONResponse:
        view_id = request.path_params["view_id"]
        if view_id not in self.backend.views:
            raise SlackError("view_not_found")
        return JSONResponse(
            {
                "ok": True,
                "view": self.backend.views[view_id],
                "user": self.backend.view_users.get(view_id),
                "open": self.backend.is_open(view_id),
                "errors": self.backend.view_errors.get(view_id),
            }
        )

    async def log(self, request: Request, body: dict[str, Any]) -> JSONResponse:
        return JSONResponse({"ok": True, "messages": self.backend.all_messages()})

    async def event(self, request: Request, body: dict[str, Any]) -> JSONResponse:
        """Send an Events API callback over Socket Mode, with Slack's redelivery until acked."""
        if str(body.get("via") or "socket").lower() != "socket":
            raise SlackError("not_implemented")  # events over HTTP are not emulated
        if not self.backend.socket.is_connected():
            raise SlackError("dispatch_failed")
        event = self._event(body)
        backend = self.backend
        event_id = "Ev0" + backend.random_token(9, "ABCDEFGHJKLMNPQRSTUVWXYZ23456789")
        payload = socket_mode.event_callback(
            event,
            team_id=backend.team_id,
            app_id=backend.app_id,
            bot_user_id=backend.bot_user_id,
            token=backend.verification_token,
            event_id=event_id,
            event_time=backend.epoch(),
        )
        delays = body.get("retry_delays", socket_mode.RETRY_DELAYS)
        if not isinstance(delays, list | tuple) or len(delays) > 3:
            raise SlackError("invalid_retry_delays")
        attempts = await backend.socket.deliver_event(
            payload,
            timeout=float(body.get("timeout") or app_side.ACK_SECONDS),
            retry_delays=tuple(float(d) for d in delays),
        )
        acked = attempts[-1]["error"] is None
        return JSONResponse(
            {"ok": acked, "via": "socket", "event_id": event_id, "attempts": attempts}
        )

    def _event(self, body: dict[str, Any]) -> dict[str, Any]:
        """The inner event: as given, or an app_mention-like one from user, channel and text."""
        given = body.get("event")
        if given is not None and not isinstance(given, dict):
            raise SlackError("invalid_event")
        event = dict(given or {})
        event.setdefault("type", str(body.get("type") or "app_mention"))
        if body.get("user") is not None:
            event.setdefault("user", self._user(body["user"])["id"])
        if body.get("channel") is not None:
            event.setdefault("channel", self._channel(body["channel"])["id"])
        if body.get("text") is not None:
            event.setdefault("text", str(body["text"]))
        ts = self.backend.next_ts()
        event.setdefault("ts", ts)
        event.setdefault("event_ts", event["ts"])
        return event

    async def socket(self, request: Request, body: dict[str, Any]) -> JSONResponse:
        return JSONResponse({"ok": True, **self.backend.socket.describe()})

    async def socket_disconnect(self, request: Request, body: dict[str, Any]) -> JSONResponse:
        """Slack's `disconnect` message to every open connection (the app should reconnect)."""
        reason = str(body.get("reason") or "refresh_requested")
        told = await self.backend.socket.disconnect(reason, close=bool(body.get("close")))
        return JSONResponse({"ok": True, "told": told})


def control_routes(backend: Backend) -> list[Route]:
    control = SlackControl(backend)

    Handler = Callable[[Request, dict[str, Any]], Awaitable[JSONResponse]]

    def endpoint(handler: Handler) -> Callable[[Request], Awaitable[JSONResponse]]:
        async def run(request: Request) -> JSONResponse:
            try:
                body = await _body(request) if request.method == "POST" else {}
                return await handler(request, body)
            except SlackError as exc:
                return _refuse(exc.error, **exc.extra)

        return run

    prefix = "/_sandbox/slack"
    return [
        Route(f"{prefix}/command", endpoint(control.command), methods=["POST"]),
        Route(f"{prefix}/action", endpoint(control.action), methods=["POST"]),
        Route(f"{prefix}/submit", endpoint(control.submit), methods=["POST"]),
        Route(f"{prefix}/message", endpoint(control.person_posts), methods=["POST"]),
        Route(f"{prefix}/channels/{{channel}}/messages", endpoint(control.channel_messages)),
        Route(f"{prefix}/views/{{view_id}}", endpoint(control.view)),
        Route(f"{prefix}/log", endpoint(control.log)),
        Route(f"{prefix}/event", endpoint(control.event), methods=["POST"]),
        Route(f"{prefix}/socket", endpoint(control.socket)),
        Route(f"{prefix}/socket/disconnect", endpoint(control.socket_disconnect), methods=["POST"]),
    ]


def call_control(
    sandbox_url: str, endpoint: str, body: dict[str, Any], timeout: float = 30.0
) -> dict[str, Any]:
    """POST to /_sandbox/slack/{endpoint} of a running sandbox; its JSON answer (ok or not)."""
    url = f"{sandbox_url.rstrip('/')}/_sandbox/slack/{endpoint}"
    return httpx.post(url, json=body, timeout=timeout).json()
