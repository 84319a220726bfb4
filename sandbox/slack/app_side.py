"""Slack's side toward an app: request signing and the requests Slack sends to an app's Request URL.

Pure builders (`sign`, `signed_headers`, `slash_command_fields`, `block_actions_payload`,
`view_submission_payload`, `encode_form`, `encode_payload`) and `deliver`, which POSTs
a signed body like Slack does and returns the app's reply. The sandbox's
/_sandbox/slack/* endpoints use them. The same fields and
payloads go to an app in Socket Mode inside envelopes (`sandbox/slack/socket_mode.py`).

Not implemented: Events API callbacks over HTTP (event_callback, url_verification) and
Slack's retries after a slow answer (X-Slack-Retry-Num); events go to an app in Socket
Mode only (`socket_mode.deliver_event`, with redelivery). Also shortcuts and message actions,
block_suggestion, view_closed, and the legacy `ssl_check` probe.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import time
from dataclasses import asdict, dataclass
from typing import Any
from urllib.parse import urlencode

import httpx

FORM = "application/x-www-form-urlencoded"
USER_AGENT = "Slackbot 1.0 (+https://api.slack.com/robots)"
ACK_SECONDS = 3.0  # Slack shows "operation_timeout" when the app is slower than this


def sign(secret: str, timestamp: int | str, body: bytes | str) -> str:
    """X-Slack-Signature: v0= + hex HMAC-SHA256(secret, "v0:{timestamp}:{body}")."""
    raw = body if isinstance(body, bytes) else body.encode()
    base = b"v0:" + str(timestamp).encode() + b":" + raw
    return "v0=" + hmac.new(secret.encode(), base, hashlib.sha256).hexdigest()


def signed_headers(
    secret: str,
    body: bytes | str,
    *,
    content_type: str = FORM,
    timestamp: int | str | None = None,
    bad_signature: bool = False,
) -> dict[str, str]:
    """Headers Slack sends; `timestamp` forges an old request, `bad_signature` a wrong secret."""
    stamp = str(int(time.time()) if timestamp is None else int(timestamp))
    signature = sign(secret + ("-forged" if bad_signature else ""), stamp, body)
    return {
        "Content-Type": content_type,
        "X-Slack-Request-Timestamp": stamp,
        "X-Slack-Signature": signature,
        "User-Agent": USER_AGENT,
    }


def encode_form(fields: dict[str, Any]) -> bytes:
    """A slash command body: plain form fields."""
    return urlencode({k: "" if v is None else str(v) for k, v in fields.items()}).encode()


def encode_payload(payload: dict[str, Any]) -> bytes:
    """An interaction body: one form field, payload=<JSON>."""
    return urlencode({"payload": json.dumps(payload, separators=(",", ":"))}).encode()


def user_field(user: dict[str, Any]) -> dict[str, Any]:
    """The `user` object of interaction payloads."""
    return {
        "id": user["id"],
        "username": user["name"],
        "name": user["name"],
        "team_id": user["team_id"],
    }


def slash_command_fields(
    *,
    team: dict[str, str],
    channel: dict[str, str],
    user: dict[str, Any],
    command: str,
    text: str,
    response_url: str,
    trigger_id: str,
    api_app_id: str,
    token: str,
) -> dict[str, str]:
    """The form fields of a slash command, in the order Slack sends them."""
    return {
        "token": token,
        "team_id": team["id"],
        "team_domain": team["domain"],
        "channel_id": channel["id"],
        "channel_name": channel["name"],
        "user_id": user["id"],
        "user_name": user["name"],
        "command": command,
        "text": text,
        "api_app_id": api_app_id,
        "is_enterprise_install": "false",
        "response_url": response_url,
        "trigger_id": trigger_id,
    }


def action_entry(
    element: dict[str, Any], block_id: str, selected: dict[str, Any], action_ts: str
) -> dict[str, Any]:
    """One item of block_actions `actions`: the element as clicked plus what was chosen."""
    entry: dict[str, Any] = {
        "action_id": element.get("action_id"),
        "block_id": block_id,
        "type": element.get("type"),
        "action_ts": action_ts,
    }
    for key in ("text", "value", "style", "placeholder"):
        if key in element and key not in selected:
            entry[key] = element[key]
    entry.update(selected)
    return entry


def block_actions_payload(
    *,
    team: dict[str, str],
    user: dict[str, Any],
    channel: dict[str, str],
    message: dict[str, Any] | None,
    container: dict[str, Any],
    actions: list[dict[str, Any]],
    response_url: str,
    trigger_id: str,
    api_app_id: str,
    token: str,
) -> dict[str, Any]:
    """A block_actions payload for a click on a message (no `message` when it was ephemeral)."""
    payload: dict[str, Any] = {
        "type": "block_actions",
        "user": user_field(user),
        "api_app_id": api_app_id,
        "token": token,
        "container": container,
        "trigger_id": trigger_id,
        "team": team,
        "enterprise": None,
        "is_enterprise_install": False,
        "channel": channel,
        "state": {"values": {}},
        "response_url": response_url,
        "actions": actions,
    }
    if message is not None:
        payload["message"] = message
    return payload


def view_submission_payload(
    *,
    team: dict[str, str],
    user: dict[str, Any],
    view: dict[str, Any],
    trigger_id: str,
    api_app_id: str,
    token: str,
) -> dict[str, Any]:
    """A view_submission payload: the view with its filled-in `state.values`."""
    return {
        "type": "view_submission",
        "team": team,
        "user": user_field(user),
        "api_app_id": api_app_id,
        "token": token,
        "trigger_id": trigger_id,
        "view": view,
        "response_urls": [],
        "is_enterprise_install": False,
        "enterprise": None,
    }


@dataclass
class AppReply:
    """What the app answered: HTTP status and body, or why there was no answer."""

    status: int
    body: str
    elapsed_ms: float
    error: str | None = None

    def json(self) -> Any:
        """The body as JSON, or None when it is empty or not JSON."""
        try:
            return json.loads(self.body) if self.body.strip() else None
        except ValueError:
            return None

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def _request_args(
    body: bytes,
    secret: str,
    content_type: str,
    timestamp: int | str | None,
    bad_signature: bool,
) -> dict[str, Any]:
    headers = signed_headers(
        secret, body, content_type=content_type, timestamp=timestamp, bad_signature=bad_signature
    )
    return {"content": body, "headers": headers}


def _failure(exc: Exception, started: float) -> AppReply:
    # Slack's own words for an app that did not answer in time or at all.
    error = "operation_timeout" if isinstance(exc, httpx.TimeoutException) else "dispatch_failed"
    return AppReply(0, "", round((time.perf_counter() - started) * 1000, 3), error)


async def deliver(
    app_url: str,
    body: bytes,
    *,
    secret: str,
    content_type: str = FORM,
    timestamp: int | str | None = None,
    bad_signature: bool = False,
    timeout: float = ACK_SECONDS,
) -> AppReply:
    """POST a signed request to the app and wait up to `timeout` seconds for its reply."""
    started = time.perf_counter()
    request = _request_args(body, secret, content_type, timestamp, bad_signature)
    try:
        async with httpx.AsyncClient(timeout=timeout) as client:
            response = await client.post(app_url, **request)
    except httpx.HTTPError as exc:
        return _failure(exc, started)
    return AppReply(
        response.status_code, response.text, round((time.perf_counter() - started) * 1000, 3)
    )
