"""What arrives at the Slack app, checked before Bolt reads it (pure): signature, body, shape, workspace.

Bolt parses a request's body before it checks the signature, and its parsing trusts
the body: a form sent as JSON, `payload=null`, a timestamp of `abc` or invalid UTF-8
made it raise, so anybody could get a 500 and a traceback. Here the order is the safe
one: the signature first (timestamp window, HMAC over the raw bytes, constant-time
compare), then, for a verified request only, the body is decoded, parsed and held to
the shapes this app handles (a slash command, a click, a modal submission), then its
workspace and app are compared with the installed ones. Anything unverifiable is
`Refused(401)`, a verified body this app cannot read is `Refused(400)`, and a request
from another workspace or app is `Foreign`: answered, never acted on.

Every check is a plain function of bytes and dicts, so unit tests and hypothesis
cover it without a server; bot/server.py (HTTP) and the Socket Mode handler call it.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal
from urllib.parse import parse_qsl

from pydantic import BaseModel, ConfigDict, Field, ValidationError

MAX_AGE = 5 * 60  # Slack: refuse requests older than five minutes (replays)
_TIMESTAMP = re.compile(r"[0-9]{1,12}")  # Unix seconds; `1e99`, `-5` or `abc` are not
_SIGNATURE = re.compile(r"v0=[0-9a-f]{64}")
FORM = "application/x-www-form-urlencoded"
JSON = "application/json"


class Refused(Exception):
    """A request the app will not read: `status` 401 (not Slack's) or 400 (Slack's, but unreadable)."""

    def __init__(self, status: int, reason: str) -> None:
        super().__init__(reason)
        self.status = status
        self.reason = reason  # a short code for the log; never a piece of the body


def _unverified(reason: str) -> Refused:
    return Refused(401, reason)


def _malformed(reason: str) -> Refused:
    return Refused(400, reason)


# ---------------------------------------------------------------- 1. the signature
def _header(headers: Mapping[str, str], name: str) -> str | None:
    for key, value in headers.items():
        if key.lower() == name:
            return value
    return None


def verify(secret: str, headers: Mapping[str, str], body: bytes, now: float) -> None:
    """Raise Refused(401) unless Slack signed exactly these bytes less than five minutes ago."""
    stamp = _header(headers, "x-slack-request-timestamp")
    signature = _header(headers, "x-slack-signature")
    if stamp is None or signature is None:
        raise _unverified("unsigned")
    if not _TIMESTAMP.fullmatch(stamp):
        raise _unverified("bad_timestamp")
    if abs(now - int(stamp)) > MAX_AGE:
        raise _unverified("stale_timestamp")
    if not _SIGNATURE.fullmatch(signature):
        raise _unverified("bad_signature")
    base = b"v0:" + stamp.encode("ascii") + b":" + body
    expected = "v0=" + hmac.new(secret.encode(), base, hashlib.sha256).hexdigest()
    if not hmac.compare_digest(expected.encode("ascii"), signature.encode("ascii")):
        raise _unverified("bad_signature")


# ---------------------------------------------------------------- 2. the body
def media_type(headers: Mapping[str, str]) -> str:
    """The Content-Type without parameters, lower case ('' when absent)."""
    return (_header(headers, "content-type") or "").split(";")[0].strip().lower()


def _json_object(text: str, reason: str) -> dict[str, Any]:
    try:
        value = json.loads(text)
    except (ValueError, RecursionError):
        raise _malformed(reason) from None
    if not isinstance(value, dict):
        raise _malformed(reason)
    return value


def parse(content_type: str, body: bytes) -> tuple[str, dict[str, Any]]:
    """(text, fields) of a verified body: a form, `payload=<JSON object>`, or a JSON object.

    Slack sends slash commands and interactions as forms; only the Events API (which
    this app does not subscribe to) posts JSON.
    """
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError:
        raise _malformed("not_utf8") from None
    if content_type == JSON:
        return text, _json_object(text, "not_a_json_object")
    if content_type != FORM:
        raise _malformed("unsupported_content_type")
    try:
        fields = dict(parse_qsl(text, keep_blank_values=True, strict_parsing=bool(text)))
    except ValueError:
        raise _malformed("not_a_form") from None
    if "payload" in fields:
        return text, _json_object(fields["payload"], "payload_not_a_json_object")
    return text, fields


# ---------------------------------------------------------------- 3. the shape
class _Open(BaseModel):
    """Slack adds fields over time: keep what we do not read, check the types of what we do."""

    model_config = ConfigDict(extra="allow", strict=True)


class _Ref(_Open):
    id: str
    name: str | None = None


class _User(_Open):
    id: str
    team_id: str | None = None


class _Option(_Open):
    value: str


class _Action(_Open):
    action_id: str
    block_id: str | None = None
    type: str | None = None
    value: str | None = None
    selected_option: _Option | None = None


class _Block(_Open):
    type: str | None = None
    block_id: str | None = None


class _Message(_Open):
    ts: str | None = None
    text: str | None = None
    blocks: list[_Block] = []


class _Container(_Open):
    type: str | None = None
    message_ts: str | None = None
    channel_id: str | None = None
    view_id: str | None = None


class _State(_Open):
    values: dict[str, dict[str, dict[str, Any]]] = {}


class _View(_Open):
    type: str  # Bolt tells a modal from a workflow step by it
    id: str | None = None
    callback_id: str = ""
    private_metadata: str = ""
    state: _State = _State()
    team_id: str | None = None
    app_installed_team_id: str | None = None


class _ResponseUrl(_Open):
    response_url: str | None = None


class _Interaction(_Open):
    # Fields Bolt's context builder reads on every request, typed as it needs them.
    api_app_id: str
    team: _Ref | None  # null with org-wide installs (the user's team_id is then the one)
    user: _User
    enterprise: _Ref | str | None = None
    is_enterprise_install: bool | None = None
    authorizations: None = None  # Events API only
    token: str | None = None
    trigger_id: str | None = None
    response_url: str | None = None
    channel: _Ref | None = None
    container: _Container | None = None
    message: _Message | None = None
    view: _View | None = None


class BlockActions(_Interaction):
    type: Literal["block_actions"]
    actions: list[_Action] = Field(min_length=1)


class ViewSubmission(_Interaction):
    type: Literal["view_submission"]
    view: _View
    response_urls: list[_ResponseUrl] = []


class SlashCommand(_Open):
    # Form fields are strings already; what matters is that the ones we read are there.
    command: str
    team_id: str
    user_id: str
    channel_id: str
    api_app_id: str = ""
    text: str = ""
    response_url: str = ""
    trigger_id: str = ""
    # Bolt would read these as objects (Events API); a form holding them is not Slack's.
    authorizations: None = None
    response_urls: None = None
    user: None = None
    team: None = None
    channel: None = None
    enterprise: None = None


class SslCheck(_Open):
    ssl_check: Literal["1"]
    token: str = ""


Kind = Literal["command", "block_actions", "view_submission", "ssl_check"]
_SHAPES: dict[str, type[_Open]] = {
    "block_actions": BlockActions,
    "view_submission": ViewSubmission,
}


def kind_of(fields: Mapping[str, Any]) -> Kind:
    """Which request this is, if its shape is one this app handles; else Refused(400)."""
    try:
        if "type" in fields:
            shape = _SHAPES.get(fields["type"]) if isinstance(fields["type"], str) else None
            if shape is None:
                raise _malformed("unsupported_type")
            shape.model_validate(fields)
            return fields["type"]
        if "ssl_check" in fields:
            SslCheck.model_validate(fields)
            return "ssl_check"
        SlashCommand.model_validate(fields)
        return "command"
    except ValidationError:
        raise _malformed("unexpected_shape") from None


# ---------------------------------------------------------------- 4. the workspace and the app
@dataclass(frozen=True)
class Installation:
    """Where this app is installed: the team (from auth.test) and its app id (config), if known."""

    team_id: str
    app_id: str | None = None


@dataclass(frozen=True)
class Foreign:
    """A verified request from another workspace or app: answered, never acted on."""

    reason: Literal["other_team", "other_app"]
    team_id: str
    app_id: str


def origin(fields: Mapping[str, Any]) -> tuple[str, str]:
    """(team id, app id) a request (already shape-checked) says it comes from."""
    if "command" in fields:
        return str(fields.get("team_id") or ""), str(fields.get("api_app_id") or "")
    team = fields.get("team")
    team_id = team.get("id") if isinstance(team, dict) else None
    if not team_id:  # an org-wide install sends team: null; the person's team stands in
        team_id = (fields.get("user") or {}).get("team_id")
    return str(team_id or ""), str(fields.get("api_app_id") or "")


def foreign(fields: Mapping[str, Any], installed: Installation) -> Foreign | None:
    """Why this request is not for the installed app, or None when it is."""
    team_id, app_id = origin(fields)
    if team_id != installed.team_id:
        return Foreign("other_team", team_id, app_id)
    if installed.app_id is not None and app_id != installed.app_id:
        return Foreign("other_app", team_id, app_id)
    return None


def safe_id(value: str) -> str:
    """A Slack id fit for a log line (ids are [A-Z0-9]; anything else is shown as '?')."""
    return value if re.fullmatch(r"[A-Z0-9]{1,20}", value) else "?"


FOREIGN_WORDS = "This app serves another Slack workspace; nothing was done."


__all__ = [
    "FOREIGN_WORDS",
    "Foreign",
    "Installation",
    "Kind",
    "Refused",
    "foreign",
    "kind_of",
    "media_type",
    "origin",
    "parse",
    "safe_id",
    "verify",
]
