"""State and behaviour of the emulated Slack workspace: people, channels, messages, threads (no HTTP).

Every Web API call acts as the workspace's one bot (any accepted token is its
token) holding DEFAULT_SCOPES: no `chat:write.public`, so it must be a member of a
channel (or join it) to post there; tests may change `scopes` or `revoked_tokens`.
App-level tokens (`app_tokens`, xapp-...) only open Socket Mode connections, whose
state (`socket`) lives in `sandbox/slack/socket_mode.py`.
Interactive state (response URLs, trigger ids, modal views) lives in
`sandbox/slack/interactive.py`, mixed into the same `Backend`.

Not implemented: user tokens and per-user permissions, Enterprise Grid and shared
channels, mpim conversations, files, reactions, pins, scheduled messages, message
attachments (stored, never validated), unfurling (`unfurl_*` accepted and ignored),
mrkdwn rendering (`parse`, `link_names`, `mrkdwn` ignored), `chat:write.customize`
icons, edit windows, usergroup writes through the API, profile images (the URLs
are well formed, nothing serves them), custom profile fields (`fields` is always {}),
thread subscriptions (a thread parent always reads `subscribed: false`, as for a bot),
guests (conversations.invite never answers `user_is_restricted` and the like).
Slack does not document a hard cap on `text`; this emulator refuses past 1,000,000
characters with `msg_too_long` and truncates past 40,000 with a `message_truncated` warning.
"""

from __future__ import annotations

import base64
import binascii
import copy
import hashlib
import random
import re
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from typing import Any

from sandbox.core import SandboxServices
from sandbox.slack.blocks import validate_blocks
from sandbox.slack.errors import SlackError, blocks_error
from sandbox.slack.interactive import InteractiveState
from sandbox.slack.socket_mode import APP_TOKEN, SocketModeHub, check_app_token

TEAM_ID = "T0COALITION"
TEAM_NAME = "Coalition"
TEAM_DOMAIN = "coalition"
APP_ID = "A0COALITION"
BOT_USER_ID = "U0COALBOT"
BOT_ID = "B0COALBOT"
BOT_NAME = "coalition-bot"
DEFAULT_SIGNING_SECRET = "sandbox-signing-secret"
VERIFICATION_TOKEN = "sandbox-verification-token"

TEXT_TRUNCATE_AT = 40_000
TEXT_HARD_LIMIT = 1_000_000
TRUNCATION_WARNING = (
    "[WARN] Your message was truncated but still posted. "
    "The `text` field accepts up to 40,000 characters."
)
DEFAULT_SCOPES = frozenset(
    {
        "chat:write",
        "channels:read",
        "channels:history",
        "channels:join",
        "channels:manage",
        "groups:read",
        "groups:history",
        "groups:write",
        "im:read",
        "im:write",
        "im:history",
        "mpim:read",
        "users:read",
        "users:read.email",
        "usergroups:read",
        "commands",
    }
)
_ID_CHARS = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"
_BLOCK_ID_CHARS = _ID_CHARS + "abcdefghjkmnpqrstuvwxyz"
_CHANNEL_NAME = re.compile(r"^[a-z0-9_-]+$")
_INTERACTIVE = frozenset(
    {"button", "overflow", "datepicker", "timepicker", "datetimepicker", "checkboxes"}
    | {"radio_buttons", "plain_text_input", "email_text_input", "url_text_input"}
    | {"number_input", "rich_text_input", "file_input"}
)
_SCOPE_PREFIX = {"public": "channels", "private": "groups", "im": "im"}
# The icons Slack shows for an app that set none of its own (bot_profile.icons).
BOT_ICONS = {
    "image_36": "https://a.slack-edge.com/80588/img/plugins/app/bot_36.png",
    "image_48": "https://a.slack-edge.com/80588/img/plugins/app/bot_48.png",
    "image_72": "https://a.slack-edge.com/80588/img/plugins/app/service_72.png",
}
# String fields Slack always sends in a profile, empty where the person set nothing.
PROFILE_STRINGS = (
    "title",
    "phone",
    "skype",
    "first_name",
    "last_name",
    "status_text",
    "status_emoji",
)
MAX_INVITES = 1000  # conversations.invite takes up to 1,000 user ids


@dataclass
class Posted:
    """What a write produced: where, which message, and any warnings Slack would add."""

    channel: str
    ts: str
    message: dict[str, Any]
    warnings: list[str] = field(default_factory=list)


def encode_cursor(tag: str, key: str) -> str:
    """Slack-style opaque cursor: base64 of "tag:key" (Slack's own are e.g. "user:U0G9WFXNZ")."""
    return base64.b64encode(f"{tag}:{key}".encode()).decode()


def decode_cursor(cursor: str, tag: str) -> str:
    """The key inside a cursor made by encode_cursor, or invalid_cursor."""
    try:
        raw = base64.b64decode(cursor.encode(), validate=True).decode()
    except (binascii.Error, UnicodeDecodeError, ValueError):
        raise SlackError("invalid_cursor") from None
    prefix, _, key = raw.partition(":")
    if prefix != tag or not key:
        raise SlackError("invalid_cursor")
    return key


def ts_micros(ts: Any, error: str = "invalid_ts") -> int:
    """A Slack timestamp ("1764370000.000100", a number, "0") as integer microseconds."""
    try:
        value = Decimal(str(ts))
    except InvalidOperation:
        raise SlackError(error) from None
    if not value.is_finite() or value < 0:
        raise SlackError(error)
    return int(value * 1_000_000)


def _page(
    items: list[Any], keys: list[str], cursor: str | None, limit: int, tag: str
) -> tuple[list[Any], str]:
    """One page of `items` starting at the cursor's key; the next cursor or ""."""
    start = 0
    if cursor:
        wanted = decode_cursor(cursor, tag)
        if wanted not in keys:
            raise SlackError("invalid_cursor")
        start = keys.index(wanted)
    end = start + limit
    next_cursor = encode_cursor(tag, keys[end]) if end < len(items) else ""
    return items[start:end], next_cursor


class Backend(InteractiveState):
    """The workspace: one team, its people, channels, usergroups, messages and the bot."""

    def __init__(self, ctx: SandboxServices) -> None:
        self.ctx = ctx
        self.socket = SocketModeHub()  # live connections outlast a reset of the workspace
        self.reset()

    # ------------------------------------------------------------ lifecycle
    def reset(self) -> None:
        self._rng = random.Random(20_260_101)
        self._last_us = 0
        self.team_id, self.team_name, self.team_domain = TEAM_ID, TEAM_NAME, TEAM_DOMAIN
        self.app_id, self.bot_id = APP_ID, BOT_ID
        self.signing_secret = DEFAULT_SIGNING_SECRET
        self.verification_token = VERIFICATION_TOKEN
        self.scopes: set[str] = set(DEFAULT_SCOPES)
        self.revoked_tokens: set[str] = set()
        self.app_tokens: set[str] = {APP_TOKEN}  # app-level tokens, for Socket Mode only
        self.users: dict[str, dict[str, Any]] = {}
        self.channels: dict[str, dict[str, Any]] = {}
        self.usergroups: dict[str, dict[str, Any]] = {}
        self._messages: dict[str, dict[str, dict[str, Any]]] = {}
        self.ephemerals: list[dict[str, Any]] = []
        self._log: list[dict[str, Any]] = []
        self.reset_interactive()
        self.bot_user_id = self.create_user(
            BOT_NAME, "Coalition Bot", is_bot=True, user_id=BOT_USER_ID
        )

    def snapshot(self) -> dict[str, Any]:
        data = {
            "users": self.users,
            "channels": self.channels,
            "usergroups": self.usergroups,
            "messages": {ch: list(msgs.values()) for ch, msgs in self._messages.items()},
            "ephemerals": self.ephemerals,
            "log": self._log,
            "scopes": sorted(self.scopes),
            "revoked_tokens": sorted(self.revoked_tokens),
            "app_tokens": sorted(self.app_tokens),
            "signing_secret": self.signing_secret,
            "last_us": self._last_us,
            **self.snapshot_interactive(),
        }
        return copy.deepcopy(data)

    def restore(self, data: dict[str, Any]) -> None:
        data = copy.deepcopy(data)
        self.users = data.get("users", self.users)
        self.channels = data.get("channels", self.channels)
        self.usergroups = data.get("usergroups", {})
        self._messages = {
            ch: {m["ts"]: m for m in msgs} for ch, msgs in data.get("messages", {}).items()
        }
        self.ephemerals = data.get("ephemerals", [])
        self._log = data.get("log", [])
        self.scopes = set(data.get("scopes", DEFAULT_SCOPES))
        self.revoked_tokens = set(data.get("revoked_tokens", ()))
        self.app_tokens = set(data.get("app_tokens", (APP_TOKEN,)))
        self.signing_secret = data.get("signing_secret", DEFAULT_SIGNING_SECRET)
        self._last_us = int(data.get("last_us", 0))
        self._rng = random.Random(len(self.users) * 7919 + len(self._log))
        self.restore_interactive(data)

    # ------------------------------------------------------------ ids and time
    def new_id(self, prefix: str) -> str:
        """A fresh Slack-looking id (U0..., C0..., V0...), unique in this workspace."""
        taken = (self.users, self.channels, self.usergroups, self.views)
        while True:
            candidate = prefix + "0" + "".join(self._rng.choice(_ID_CHARS) for _ in range(8))
            if not any(candidate in ids for ids in taken):
                return candidate

    def random_token(self, length: int, alphabet: str = "abcdef0123456789") -> str:
        return "".join(self._rng.choice(alphabet) for _ in range(length))

    def next_ts(self) -> str:
        """A message ts: wall-clock seconds.micros, strictly increasing across the workspace."""
        now_us = int(self.ctx.clock.utcnow().timestamp() * 1_000_000)
        self._last_us = max(now_us, self._last_us + 1)
        return f"{self._last_us // 1_000_000}.{self._last_us % 1_000_000:06d}"

    def epoch(self) -> int:
        return int(self.ctx.clock.utcnow().timestamp())

    # ------------------------------------------------------------ auth and scopes
    def check_token(self, token: str | None) -> None:
        """not_authed without a token, invalid_auth for a revoked one; any other token is the bot's.

        An app-level token (xapp-...) opens Socket Mode connections and nothing else.
        """
        if not token:
            raise SlackError("not_authed")
        if token.startswith("xapp-"):
            raise SlackError("not_allowed_token_type")
        if token in self.revoked_tokens:
            raise SlackError("invalid_auth")

    def check_app_token(self, token: str | None) -> None:
        """apps.connections.open: an app-level token of this app, not revoked."""
        check_app_token(token, self.app_tokens, self.revoked_tokens)

    def need(self, scope: str | None) -> None:
        if scope and scope not in self.scopes:
            raise SlackError("missing_scope", needed=scope, provided=",".join(sorted(self.scopes)))

    def _need_for(self, record: dict[str, Any], kind: str) -> None:
        """The scope a call on this conversation needs depends on its type (channels:/groups:/im:)."""
        self.need(f"{_SCOPE_PREFIX[_conversation_type(record)]}:{kind}")

    def auth_test(self) -> dict[str, Any]:
        return {
            "url": f"https://{self.team_domain}.slack.com/",
            "team": self.team_name,
            "user": BOT_NAME,
            "team_id": self.team_id,
            "user_id": self.bot_user_id,
            "bot_id": self.bot_id,
            "is_enterprise_install": False,
        }

    # ------------------------------------------------------------ people
    def create_user(
        self,
        name: str,
        real_name: str,
        email: str | None = None,
        is_bot: bool = False,
        user_id: str | None = None,
        is_admin: bool = False,
    ) -> str:
        """Add a member of the workspace; returns the user id."""
        user_id = user_id or self.new_id("U")
        first, _, last = real_name.partition(" ")
        profile: dict[str, Any] = {
            "real_name": real_name,
            "display_name": name,
            "real_name_normalized": real_name,
            "display_name_normalized": name,
            "team": self.team_id,
            "first_name": first,
            "last_name": last,
        }
        if email:
            profile["email"] = email
        if is_bot:
            profile["bot_id"] = self.bot_id if user_id == BOT_USER_ID else self.new_id("B")
        self.users[user_id] = {
            "id": user_id,
            "team_id": self.team_id,
            "name": name,
            "deleted": False,
            "real_name": real_name,
            "tz": "America/New_York",
            "tz_label": "Eastern Standard Time",
            "tz_offset": -18000,
            "profile": profile,
            "is_admin": is_admin,
            "is_owner": False,
            "is_bot": is_bot,
            "is_app_user": False,
            "updated": self.epoch(),
        }
        return user_id

    def user(self, user_id: str) -> dict[str, Any]:
        if user_id not in self.users:
            raise SlackError("user_not_found")
        return self.users[user_id]

    def find_user(self, ref: str) -> str | None:
        """A user id from an id, a handle (with or without @) or an email; None if nobody matches."""
        ref = ref.lstrip("@")
        if ref in self.users:
            return ref
        for user in self.users.values():
            if ref in (user["name"], user["profile"].get("email")):
                return user["id"]
        return None

    def public_user(self, user_id: str) -> dict[str, Any]:
        """The user object as the bot sees it (no email without users:read.email).

        The profile carries every field Slack always sends, empty where unset.
        """
        user = copy.deepcopy(self.user(user_id))
        profile = user["profile"]
        profile.setdefault("avatar_hash", "g" + hashlib.sha1(user_id.encode()).hexdigest()[:11])
        for key in PROFILE_STRINGS:
            profile.setdefault(key, "")
        profile.setdefault("status_expiration", 0)
        profile.setdefault("fields", {})
        digest = hashlib.md5(user_id.encode()).hexdigest()  # gravatar URLs name an md5
        for size in (24, 32, 48, 72, 192, 512):
            profile.setdefault(
                f"image_{size}", f"https://secure.gravatar.com/avatar/{digest}.jpg?s={size}&d=mp"
            )
        if "users:read.email" not in self.scopes:
            profile.pop("email", None)
        return user

    def list_users(self, cursor: str | None, limit: int) -> tuple[list[dict[str, Any]], str]:
        self.need("users:read")
        ids = list(self.users)
        page, next_cursor = _page(ids, ids, cursor, limit if limit > 0 else len(ids) or 1, "user")
        return [self.public_user(uid) for uid in page], next_cursor

    def user_info(self, user_id: str) -> dict[str, Any]:
        self.need("users:read")
        return self.public_user(user_id)

    def lookup_by_email(self, email: str) -> dict[str, Any]:
        self.need("users:read.email")
        for user in self.users.values():
            if email and user["profile"].get("email", "").lower() == email.lower():
                return self.public_user(user["id"])
        raise SlackError("users_not_found")

    # ------------------------------------------------------------ usergroups
    def create_usergroup(
        self,
        handle: str,
        name: str,
        users: tuple[str, ...] | list[str] = (),
        description: str = "",
        usergroup_id: str | None = None,
    ) -> str:
        group_id = usergroup_id or self.new_id("S")
        now = self.epoch()
        self.usergroups[group_id] = {
            "id": group_id,
            "team_id": self.team_id,
            "is_usergroup": True,
            "name": name,
            "description": description,
            "handle": handle,
            "is_external": False,
            "date_create": now,
            "date_update": now,
            "date_delete": 0,
            "auto_type": None,
            "created_by": self.bot_user_id,
            "updated_by": self.bot_user_id,
            "deleted_by": None,
            "prefs": {"channels": [], "groups": []},
            "users": [self._member_id(u) for u in users],
        }
        return group_id

    def list_usergroups(self, include_users: bool, include_disabled: bool) -> list[dict[str, Any]]:
        self.need("usergroups:read")
        groups = []
        for group in self.usergroups.values():
            if group["date_delete"] and not include_disabled:
                continue
            public = copy.deepcopy(group)
            public["user_count"] = len(group["users"])
            if not include_users:
                public.pop("users")
            groups.append(public)
        return groups

    def usergroup_users(self, usergroup_id: str, include_disabled: bool) -> list[str]:
        self.need("usergroups:read")
        group = self.usergroups.get(usergroup_id)
        if group is None or (group["date_delete"] and not include_disabled):
            raise SlackError("no_such_subteam")
        return list(group["users"])

    # ------------------------------------------------------------ conversations
    def create_channel(
        self,
        name: str,
        is_private: bool = False,
        members: tuple[str, ...] | list[str] = (),
        channel_id: str | None = None,
    ) -> str:
        """Add a channel as a person would; the bot is a member only if listed in `members`."""
        channel_id = channel_id or self.new_id("C")
        self.channels[channel_id] = {
            "id": channel_id,
            "name": name.lstrip("#"),
            "is_private": is_private,
            "is_im": False,
            "is_archived": False,
            "is_general": False,
            "created": self.epoch(),
            "creator": self._member_id(members[0]) if members else self.bot_user_id,
            "topic": {"value": "", "creator": "", "last_set": 0},
            "purpose": {"value": "", "creator": "", "last_set": 0},
            "members": list(dict.fromkeys(self._member_id(m) for m in members)),
        }
        self._messages[channel_id] = {}
        return channel_id

    def add_member(self, channel_id: str, user_id: str) -> None:
        record = self._record(channel_id)
        member = self._member_id(user_id)
        if member not in record["members"]:
            record["members"].append(member)

    def archive_channel(self, channel_id: str) -> None:
        self._record(channel_id)["is_archived"] = True

    def channel_by_name(self, name: str) -> dict[str, Any] | None:
        """The channel (as conversations.info shows it) called `name`, with or without '#'."""
        wanted = name.lstrip("#")
        for record in self.channels.values():
            if not record["is_im"] and record["name"] == wanted:
                return self.conversation_object(record)
        return None

    def open_im(self, user_id: str) -> str:
        """The bot's direct-message conversation with a person, created on first use."""
        self.user(user_id)
        for record in self.channels.values():
            if record["is_im"] and record["user"] == user_id:
                return record["id"]
        channel_id = self.new_id("D")
        self.channels[channel_id] = {
            "id": channel_id,
            "is_im": True,
            "is_private": True,
            "is_archived": False,
            "user": user_id,
            "created": self.epoch(),
            "members": [self.bot_user_id, user_id],
        }
        self._messages[channel_id] = {}
        return channel_id

    def resolve_channel(self, ref: str | None) -> str:
        """A channel id from an id, a name (with or without '#') or a user id (their DM)."""
        ref = (ref or "").strip()
        if ref in self.channels:
            return ref
        if ref in self.users:
            return self.open_im(ref)
        wanted = ref.lstrip("#")
        for record in self.channels.values():
            if not record["is_im"] and record["name"] == wanted:
                return record["id"]
        raise SlackError("channel_not_found")

    def conversation_object(
        self, record: dict[str, Any], num_members: bool = False
    ) -> dict[str, Any]:
        """Slack's conversation object for a stored channel, seen from the bot."""
        if record["is_im"]:
            return {
                "id": record["id"],
                "created": record["created"],
                "is_im": True,
                "is_org_shared": False,
                "user": record["user"],
                "is_user_deleted": False,
                "priority": 0,
            }
        public = {
            "id": record["id"],
            "name": record["name"],
            "is_channel": True,
            "is_group": False,
            "is_im": False,
            "is_mpim": False,
            "is_private": record["is_private"],
            "created": record["created"],
            "is_archived": record["is_archived"],
            "is_general": record["is_general"],
            "unlinked": 0,
            "name_normalized": record["name"],
            "is_shared": False,
            "is_org_shared": False,
            "is_ext_shared": False,
            "is_pending_ext_shared": False,
            "pending_shared": [],
            "context_team_id": self.team_id,
            "parent_conversation": None,
            "creator": record["creator"],
            "shared_team_ids": [self.team_id],
            "is_member": self.bot_user_id in record["members"],
            "topic": dict(record["topic"]),
            "purpose": dict(record["purpose"]),
            "previous_names": [],
        }
        if num_members:
            public["num_members"] = len(record["members"])
        return public

    def list_conversations(
        self, types: list[str], exclude_archived: bool, cursor: str | None, limit: int
    ) -> tuple[list[dict[str, Any]], str]:
        wanted = set(types or ["public_channel"])
        for kind, scope in (
            ("public_channel", "channels:read"),
            ("private_channel", "groups:read"),
        ):
            if kind in wanted:
                self.need(scope)
        if "im" in wanted:
            self.need("im:read")
        records = [
            r
            for r in self.channels.values()
            if _listed_type(r) in wanted
            and not (exclude_archived and r["is_archived"])
            and (not r["is_private"] or self.bot_user_id in r["members"])
        ]
        ids = [r["id"] for r in records]
        page, next_cursor = _page(records, ids, cursor, limit, "channel")
        return [self.conversation_object(r, num_members=True) for r in page], next_cursor

    def conversation_info(
        self, channel_id: str, include_num_members: bool = False
    ) -> dict[str, Any]:
        record = self._visible(channel_id)
        self._need_for(record, "read")
        return self.conversation_object(record, num_members=include_num_members)

    def create_conversation(self, name: str, is_private: bool) -> dict[str, Any]:
        """conversations.create: Slack's naming rules, then a channel the bot created and is in."""
        self.need("groups:write" if is_private else "channels:manage")
        if not name:
            raise SlackError("invalid_name_required")
        if len(name) > 80:
            raise SlackError("invalid_name_maxlength")
        if not _CHANNEL_NAME.match(name):
            raise SlackError("invalid_name_specials")
        if not re.search(r"[a-z0-9]", name):
            raise SlackError("invalid_name_punctuation")
        if any(not r["is_im"] and r["name"] == name for r in self.channels.values()):
            raise SlackError("name_taken")
        channel_id = self.create_channel(name, is_private=is_private, members=[self.bot_user_id])
        return self.conversation_object(self.channels[channel_id])

    def join(self, channel_id: str) -> tuple[dict[str, Any], bool]:
        """conversations.join for the bot; returns the channel and whether it was already in."""
        self.need("channels:join")
        record = self._record(channel_id)
        if record["is_im"] or record["is_private"]:
            if self.bot_user_id not in record["members"]:
                raise SlackError("channel_not_found")
            raise SlackError("method_not_supported_for_channel_type")
        if record["is_archived"]:
            raise SlackError("is_archived")
        already = self.bot_user_id in record["members"]
        if not already:
            record["members"].append(self.bot_user_id)
        return self.conversation_object(record), already

    def invite(
        self, channel_id: str, user_ids: list[str], force: bool = False
    ) -> tuple[dict[str, Any], list[dict[str, Any]]]:
        """conversations.invite: the bot adds people to a channel it is in.

        Each user is checked alone; any refusal fails the call unless `force`, which
        invites the valid ones and reports the rest. Returns (channel, per-user errors).
        """
        record = self._visible(channel_id)
        if record["is_im"]:
            raise SlackError("method_not_supported_for_channel_type")
        manage = "groups:write" if record["is_private"] else "channels:manage"
        invites = f"{_SCOPE_PREFIX[_conversation_type(record)]}:write.invites"
        if manage not in self.scopes and invites not in self.scopes:
            self.need(invites)
        if record["is_archived"]:
            raise SlackError("is_archived")
        if self.bot_user_id not in record["members"]:
            raise SlackError("not_in_channel")
        if not user_ids:
            raise SlackError("no_user")
        if len(user_ids) > MAX_INVITES:
            raise SlackError("too_many_users")
        valid: list[str] = []
        errors: list[dict[str, Any]] = []
        for user_id in dict.fromkeys(user_ids):
            problem = self._invite_problem(record, user_id)
            if problem:
                errors.append({"user": user_id, "ok": False, "error": problem})
            else:
                valid.append(user_id)
        if errors and not force:
            raise SlackError(errors[0]["error"], errors=errors)
        record["members"].extend(valid)
        return self.conversation_object(record), errors

    def _invite_problem(self, record: dict[str, Any], user_id: str) -> str | None:
        if user_id == self.bot_user_id:
            return "cant_invite_self"
        user = self.users.get(user_id)
        if user is None or user.get("deleted"):
            return "user_not_found"
        if user_id in record["members"]:
            return "already_in_channel"
        return None

    def members(self, channel_id: str, cursor: str | None, limit: int) -> tuple[list[str], str]:
        record = self._visible(channel_id)
        self._need_for(record, "read")
        members = list(record["members"])
        return _page(members, members, cursor, limit, "member")

    def _record(self, channel_id: str) -> dict[str, Any]:
        record = self.channels.get(channel_id or "")
        if record is None:
            raise SlackError("channel_not_found")
        return record

    def _visible(self, channel_id: str) -> dict[str, Any]:
        """The channel if the bot may know it exists (private ones only to members)."""
        record = self._record(channel_id)
        if record["is_private"] and self.bot_user_id not in record["members"]:
            raise SlackError("channel_not_found")
        return record

    def _readable(self, channel_id: str) -> dict[str, Any]:
        """A channel whose history the bot may read: visible, scoped, and the bot is a member."""
        record = self._visible(channel_id)
        self._need_for(record, "history")
        if self.bot_user_id not in record["members"]:
            raise SlackError("not_in_channel")
        return record

    def _postable(self, channel_id: str) -> dict[str, Any]:
        """A channel the bot may post to: visible, not archived, and joined (or chat:write.public)."""
        record = self._visible(channel_id)
        if record["is_archived"]:
            raise SlackError("is_archived")
        joined = self.bot_user_id in record["members"]
        public_ok = not record["is_private"] and "chat:write.public" in self.scopes
        if not (joined or public_ok):
            raise SlackError("not_in_channel")
        return record

    def _member_id(self, ref: str) -> str:
        return self.find_user(ref) or ref

    # ------------------------------------------------------------ content
    def check_content(
        self, text: Any, blocks: Any, *, attachments: Any = None
    ) -> tuple[str, list[dict[str, Any]] | None, list[str]]:
        """Validate text and blocks as chat.* does; returns (text, stamped blocks, warnings)."""
        if blocks is not None:
            errors = validate_blocks(blocks)
            if errors:
                raise blocks_error(errors)
        text = "" if text is None else str(text)
        if not text.strip() and not blocks and not attachments:
            raise SlackError("no_text")
        if len(text) > TEXT_HARD_LIMIT:
            raise SlackError("msg_too_long")
        warnings: list[str] = []
        if len(text) > TEXT_TRUNCATE_AT:
            text = text[:TEXT_TRUNCATE_AT]
            warnings.append("message_truncated")
        return text, (self.stamp_blocks(blocks) if blocks else None), warnings

    def stamp_blocks(self, blocks: list[dict[str, Any]]) -> list[dict[str, Any]]:
        """Give every block a block_id and every interactive element an action_id, as Slack does."""
        stamped = copy.deepcopy(blocks)
        for block in stamped:
            block.setdefault("block_id", self.random_token(5, _BLOCK_ID_CHARS))
            for element in _elements(block):
                if _is_interactive(element):
                    element.setdefault("action_id", self.random_token(4, _ID_CHARS))
        return stamped

    def _author_fields(self, user_id: str | None) -> dict[str, Any]:
        if user_id is None or user_id == self.bot_user_id:
            return {
                "user": self.bot_user_id,
                "bot_id": self.bot_id,
                "app_id": self.app_id,
                "bot_profile": {
                    "id": self.bot_id,
                    "deleted": False,
                    "name": "Coalition Bot",
                    "updated": self.users[self.bot_user_id]["updated"],
                    "app_id": self.app_id,
                    "icons": dict(BOT_ICONS),
                    "team_id": self.team_id,
                },
            }
        self.user(user_id)
        return {"user": user_id}

    # ------------------------------------------------------------ messages
    def post_message(
        self,
        channel: str,
        text: Any = None,
        blocks: Any = None,
        *,
        thread_ts: str | None = None,
        reply_broadcast: bool = False,
        metadata: dict[str, Any] | None = None,
        attachments: Any = None,
        user: str | None = None,
        username: str | None = None,
        source: str = "chat.postMessage",
        enforce: bool = True,
    ) -> Posted:
        """Post a message (as the bot unless `user` names a person); Slack's checks in Slack's order.

        `enforce=False` skips the bot's scope and membership checks, as Slack does for
        posts through a response URL.
        """
        channel_id = self.resolve_channel(channel)
        acting_as_bot = user is None or user == self.bot_user_id
        if acting_as_bot and enforce:
            self.need("chat:write")
            self._postable(channel_id)
        elif self._record(channel_id)["is_archived"]:
            raise SlackError("is_archived")
        text, stamped, warnings = self.check_content(text, blocks, attachments=attachments)
        parent = self._thread_parent(channel_id, thread_ts) if thread_ts else None
        message: dict[str, Any] = {"type": "message", "text": text, "ts": self.next_ts()}
        message.update(self._author_fields(user))
        message["team"] = self.team_id
        if stamped:
            message["blocks"] = stamped
        if attachments:
            message["attachments"] = copy.deepcopy(attachments)
        if metadata:
            message["metadata"] = copy.deepcopy(metadata)
        if username and acting_as_bot:
            message["username"] = username
        if parent is not None:
            self._attach_reply(parent, message, reply_broadcast)
        message["_source"] = source
        self._messages[channel_id][message["ts"]] = message
        kind = "reply" if parent is not None else "message"
        self._record_log(kind, channel_id, message, source=source)
        return Posted(channel_id, message["ts"], self.public_message(message, True), warnings)

    def _thread_parent(self, channel_id: str, thread_ts: Any) -> dict[str, Any]:
        ts_micros(thread_ts, "invalid_thread_ts")
        found = self._messages[channel_id].get(str(thread_ts))
        if found is None:
            raise SlackError("thread_not_found")
        # A reply's ts names its thread, so replying to a reply joins the same thread.
        return self._messages[channel_id].get(found.get("thread_ts", found["ts"]), found)

    def _attach_reply(self, parent: dict[str, Any], reply: dict[str, Any], broadcast: bool) -> None:
        reply["thread_ts"] = parent["ts"]
        reply["parent_user_id"] = parent.get("user", "")
        if broadcast:
            reply["subtype"] = "thread_broadcast"
        parent["thread_ts"] = parent["ts"]
        parent["reply_count"] = parent.get("reply_count", 0) + 1
        users = parent.setdefault("reply_users", [])
        if reply["user"] not in users:
            users.append(reply["user"])
        parent["reply_users_count"] = len(users)
        parent["latest_reply"] = reply["ts"]

    def update_message(
        self, channel_id: str, ts: str, text: Any = None, blocks: Any = None, metadata: Any = None
    ) -> Posted:
        """chat.update: only the bot's own messages; blocks omitted are kept, [] removes them."""
        self.need("chat:write")
        self._visible(channel_id)
        message = self._messages[channel_id].get(str(ts))
        if message is None or message.get("subtype") == "tombstone":
            raise SlackError("message_not_found")
        if message.get("user") != self.bot_user_id:
            raise SlackError("cant_update_message")
        new_text = message.get("text", "") if text is None else text
        new_blocks = message.get("blocks") if blocks is None else blocks
        new_text, stamped, warnings = self.check_content(new_text, new_blocks)
        self._replace_content(channel_id, message, new_text, stamped, "chat.update")
        if metadata is not None:
            message["metadata"] = copy.deepcopy(metadata)
        return Posted(channel_id, message["ts"], self.public_message(message, True), warnings)

    def _replace_content(
        self,
        channel_id: str,
        message: dict[str, Any],
        text: str,
        blocks: list[dict[str, Any]] | None,
        source: str,
    ) -> None:
        message["text"] = text
        if blocks:
            message["blocks"] = blocks
        else:
            message.pop("blocks", None)
        message["edited"] = {"user": self.bot_user_id, "ts": self.next_ts()}
        self._record_log("edit", channel_id, message, source=source)

    def delete_message(self, channel_id: str, ts: str, *, as_owner: bool = False) -> None:
        """chat.delete: the bot's own messages; a parent with replies leaves a tombstone."""
        self.need("chat:write")
        self._visible(channel_id)
        messages = self._messages[channel_id]
        message = messages.get(str(ts))
        if message is None or message.get("subtype") == "tombstone":
            raise SlackError("message_not_found")
        if message.get("user") != self.bot_user_id and not as_owner:
            raise SlackError("cant_delete_message")
        self._remove(channel_id, message)

    def _remove(self, channel_id: str, message: dict[str, Any]) -> None:
        messages = self._messages[channel_id]
        is_parent = message.get("reply_count", 0) > 0 and message.get("thread_ts") == message["ts"]
        if is_parent:
            keep = ("ts", "thread_ts", "reply_count", "reply_users", "latest_reply")
            kept = {k: message[k] for k in keep if k in message}
            message.clear()
            message.update(kept)
            message.update(
                type="message",
                subtype="tombstone",
                text="This message was deleted.",
                user="USLACKBOT",
                hidden=True,
            )
            return
        del messages[message["ts"]]
        parent_ts = message.get("thread_ts")
        if parent_ts and parent_ts != message["ts"] and parent_ts in messages:
            self._recount_thread(channel_id, messages[parent_ts])

    def _recount_thread(self, channel_id: str, parent: dict[str, Any]) -> None:
        replies = self._thread_replies(channel_id, parent["ts"])
        parent["reply_count"] = len(replies)
        parent["reply_users"] = list(dict.fromkeys(r["user"] for r in replies))
        parent["reply_users_count"] = len(parent["reply_users"])
        if replies:
            parent["latest_reply"] = replies[-1]["ts"]
        else:
            for key in ("reply_count", "reply_users", "reply_users_count", "latest_reply"):
                parent.pop(key, None)

    def post_ephemeral(
        self,
        channel: str,
        user: str,
        text: Any = None,
        blocks: Any = None,
        *,
        thread_ts: str | None = None,
    ) -> str:
        """chat.postEphemeral: a message only `user` sees, in a channel they and the bot are in."""
        self.need("chat:write")
        channel_id = self.resolve_channel(channel)
        record = self._postable(channel_id)
        self.user(user)
        if user not in record["members"]:
            raise SlackError("user_not_in_channel")
        text, stamped, _ = self.check_content(text, blocks)
        return self.add_ephemeral(channel_id, user, text, stamped, "chat.postEphemeral", thread_ts)

    def add_ephemeral(
        self,
        channel_id: str,
        user: str,
        text: str,
        blocks: list[dict[str, Any]] | None,
        source: str,
        thread_ts: str | None = None,
    ) -> str:
        """Store an ephemeral message from the bot, visible only to `user` (no checks: callers did them)."""
        message: dict[str, Any] = {"type": "message", "text": text, "ts": self.next_ts()}
        message.update(self._author_fields(None))
        if blocks:
            message["blocks"] = blocks
        if thread_ts:
            message["thread_ts"] = str(thread_ts)
        message.update(is_ephemeral=True, visible_to=user, channel=channel_id, _source=source)
        self.ephemerals.append(message)
        self._record_log("ephemeral", channel_id, message, source=source, visible_to=user)
        return message["ts"]

    def find_ephemeral(self, channel_id: str, ts: str) -> dict[str, Any] | None:
        return next(
            (e for e in self.ephemerals if e["channel"] == channel_id and e["ts"] == ts), None
        )

    def find_message(self, channel_id: str, ts: str) -> dict[str, Any] | None:
        return self._messages.get(channel_id, {}).get(ts)

    def permalink(self, channel_id: str, ts: str) -> str:
        self._visible(channel_id)
        message = self._messages[channel_id].get(str(ts))
        if message is None:
            raise SlackError("message_not_found")
        url = f"https://{self.team_domain}.slack.com/archives/{channel_id}/p{message['ts'].replace('.', '')}"
        if message.get("thread_ts") and message["thread_ts"] != message["ts"]:
            url += f"?thread_ts={message['thread_ts']}&cid={channel_id}"
        return url

    # ------------------------------------------------------------ reading
    def history(
        self,
        channel_id: str,
        *,
        oldest: Any = None,
        latest: Any = None,
        inclusive: bool = False,
        limit: int = 100,
        cursor: str | None = None,
        include_all_metadata: bool = False,
    ) -> tuple[list[dict[str, Any]], bool, str]:
        """conversations.history: top-level messages newest first, with Slack's window and paging."""
        self._readable(channel_id)
        top = [m for m in self._messages[channel_id].values() if _top_level(m)]
        window = _window(top, oldest, latest, inclusive)[::-1]
        if cursor:
            start_us = ts_micros(decode_cursor(cursor, "next_ts"), "invalid_cursor")
            window = [m for m in window if ts_micros(m["ts"]) <= start_us]
        page = window[:limit]
        has_more = len(window) > limit
        next_cursor = encode_cursor("next_ts", window[limit]["ts"]) if has_more else ""
        return [self.public_message(m, include_all_metadata) for m in page], has_more, next_cursor

    def conversation_replies(
        self,
        channel_id: str,
        ts: str,
        *,
        oldest: Any = None,
        latest: Any = None,
        inclusive: bool = False,
        limit: int = 1000,
        cursor: str | None = None,
        include_all_metadata: bool = False,
    ) -> tuple[list[dict[str, Any]], bool, str]:
        """conversations.replies: the parent, then its replies oldest first."""
        self._readable(channel_id)
        found = self._messages[channel_id].get(str(ts))
        if found is None:
            raise SlackError("thread_not_found")
        parent = self._messages[channel_id].get(found.get("thread_ts", found["ts"]), found)
        thread = [
            parent,
            *_window(self._thread_replies(channel_id, parent["ts"]), oldest, latest, inclusive),
        ]
        if cursor:
            start_us = ts_micros(decode_cursor(cursor, "next_ts"), "invalid_cursor")
            thread = [m for m in thread if ts_micros(m["ts"]) >= start_us]
        page = thread[:limit]
        has_more = len(thread) > limit
        next_cursor = encode_cursor("next_ts", thread[limit]["ts"]) if has_more else ""
        return [self.public_message(m, include_all_metadata) for m in page], has_more, next_cursor

    def _thread_replies(self, channel_id: str, parent_ts: str) -> list[dict[str, Any]]:
        return [
            m
            for m in self._messages[channel_id].values()
            if m.get("thread_ts") == parent_ts and m["ts"] != parent_ts
        ]

    def public_message(self, message: dict[str, Any], include_metadata: bool) -> dict[str, Any]:
        """A message as the Web API returns it: no sandbox bookkeeping, metadata only on request.

        A thread's parent also says whether the caller follows the thread (`subscribed`:
        false for a bot, which cannot follow threads) and whether it is locked.
        """
        public = {k: copy.deepcopy(v) for k, v in message.items() if not k.startswith("_")}
        if not include_metadata:
            public.pop("metadata", None)
        if public.get("reply_count") and public.get("thread_ts") == public["ts"]:
            public.setdefault("is_locked", False)
            public.setdefault("subscribed", False)
        return public

    # ------------------------------------------------------------ views for people and tests
    def messages(self, channel_id: str, include_ephemeral: bool = False) -> list[dict[str, Any]]:
        """Top-level messages of a channel, oldest first, as people in it see them (with metadata)."""
        shown = [
            self.public_message(m, True)
            for m in self._messages.get(channel_id, {}).values()
            if _top_level(m)
        ]
        if include_ephemeral:
            shown += [
                self.public_message(e, True)
                for e in self.ephemerals
                if e["channel"] == channel_id and not e.get("thread_ts")
            ]
        return sorted(shown, key=lambda m: ts_micros(m["ts"]))

    def replies(self, channel_id: str, ts: str) -> list[dict[str, Any]]:
        """A thread, parent first, oldest first; [] if there is no such message."""
        messages = self._messages.get(channel_id, {})
        found = messages.get(ts)
        if found is None:
            return []
        parent = messages.get(found.get("thread_ts", found["ts"]), found)
        thread = [parent, *self._thread_replies(channel_id, parent["ts"])]
        return [self.public_message(m, True) for m in thread]

    def all_messages(self) -> list[dict[str, Any]]:
        """Everything ever shown anywhere: posts, replies, edits, ephemerals, response_url posts."""
        return copy.deepcopy(self._log)

    def _record_log(
        self,
        kind: str,
        channel_id: str,
        message: dict[str, Any],
        *,
        source: str,
        visible_to: str | None = None,
    ) -> None:
        self._log.append(
            {
                "kind": kind,
                "channel": channel_id,
                "ts": message["ts"],
                "user": message.get("user"),
                "text": message.get("text", ""),
                "blocks": copy.deepcopy(message.get("blocks")),
                "attachments": copy.deepcopy(message.get("attachments")),
                "metadata": copy.deepcopy(message.get("metadata")),
                "visible_to": visible_to,
                "source": source,
            }
        )


# ------------------------------------------------------------------ helpers
def _conversation_type(record: dict[str, Any]) -> str:
    if record["is_im"]:
        return "im"
    return "private" if record["is_private"] else "public"


def _listed_type(record: dict[str, Any]) -> str:
    return {"im": "im", "private": "private_channel", "public": "public_channel"}[
        _conversation_type(record)
    ]


def _top_level(message: dict[str, Any]) -> bool:
    thread_ts = message.get("thread_ts")
    return (
        not thread_ts or thread_ts == message["ts"] or message.get("subtype") == "thread_broadcast"
    )


def _window(
    messages: list[dict[str, Any]], oldest: Any, latest: Any, inclusive: bool
) -> list[dict[str, Any]]:
    """Messages between oldest and latest (exclusive unless `inclusive`), as Slack filters them."""
    low = ts_micros(oldest, "invalid_ts_oldest") if oldest not in (None, "") else None
    high = ts_micros(latest, "invalid_ts_latest") if latest not in (None, "") else None
    kept = []
    for message in messages:
        at = ts_micros(message["ts"])
        if low is not None and (at < low or (at == low and not inclusive)):
            continue
        if high is not None and (at > high or (at == high and not inclusive)):
            continue
        kept.append(message)
    return kept


def _is_interactive(element: dict[str, Any]) -> bool:
    kind = str(element.get("type", ""))
    return kind in _INTERACTIVE or kind.endswith("_select")


def _elements(block: dict[str, Any]) -> list[dict[str, Any]]:
    """The interactive elements a block holds (actions elements, an accessory, an input element)."""
    found = [e for e in block.get("elements", []) if isinstance(e, dict)]
    for key in ("accessory", "element"):
        if isinstance(block.get(key), dict):
            found.append(block[key])
    return found
