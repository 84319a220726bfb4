"""Slack output: every message the bot posts goes through `SlackPoster`, exactly once by key, and paced.

A message is named by a stable key (e.g. "referral:R-2026-000123:notice"). A store of
posted messages, given by the caller (coalition/ledger/posted_messages.py), remembers
each key's channel, ts and content hash, so a rerun changes nothing and a changed
message is edited in place: one request per message. A new post is claimed in the
store before it is made and confirmed after; only a claim left unconfirmed (a crash
between posting and recording) sends the poster to Slack's history, from the claim
time on, to find the bot's own message again through the metadata it carries.
The caller checks what it sends (coalition/outgoing.py) before handing it over.
Posts and edits are paced per channel to Slack's ~1 message per second; the
WebClient's retry handlers deal with the rest.
"""

from __future__ import annotations

import hashlib
import json
import logging
import re
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, Literal, Protocol, TypeVar

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from coalition.references import ChannelRef, parse_channel
from integrations.budget import SLACK_MESSAGES_PER_CHANNEL, budgets
from integrations.http import request_counter

log = logging.getLogger("integrations.slack")

EVENT_TYPE = "coalition_post"
HISTORY_PAGE = 200  # messages per history page when a post in doubt is looked for
# Slack's clock and ours may differ a little: look from a bit before the claim time.
CLOCK_SKEW = timedelta(minutes=2)
LIST_PAGE = 200
MAX_KEY_LENGTH = 200  # posted_messages.key
_CHANNEL_ID = re.compile(r"^[CGD][A-Z0-9]{8,}$")
# Answers after which a post surely did not happen (a 5xx or a timeout leaves it in doubt).
REFUSED = (200, 429)
# States a message store records (coalition/ledger/posted_messages.py uses the same words).
SENDING, POSTED, DELETED = "sending", "posted", "deleted"

Action = Literal["posted", "updated", "unchanged", "deleted"]
T = TypeVar("T")


class SlackPostError(Exception):
    """Slack refused a call we cannot work around; names the method and Slack's error code."""

    def __init__(self, method: str, error: str, hint: str = "", status: int | None = None) -> None:
        self.method = method
        self.error = error
        self.status = status  # the HTTP status of Slack's answer, when there was one
        super().__init__(f"Slack {method} failed: {error}" + (f" ({hint})" if hint else ""))


class ChannelNotFound(SlackPostError):
    """A channel named in config does not exist, or the bot cannot see it (private, not invited)."""

    def __init__(self, channel: str) -> None:
        super().__init__(
            "conversations.list",
            "channel_not_found",
            f"no channel #{channel} visible to the bot; create it, fix config/services.yaml, "
            "or invite the bot if it is private",
        )
        self.channel = channel


@dataclass(frozen=True)
class PostResult:
    """Where a keyed message is, and what this call did to it."""

    ts: str
    channel_id: str
    action: Action


@dataclass(frozen=True)
class PlannedPost:
    """What a dry run would have done: no text, only the key, channel and action."""

    key: str
    channel: str
    action: Action


class Remembered(Protocol):
    """What a message store holds of one key."""

    @property
    def channel(self) -> str: ...
    @property
    def ts(self) -> str | None: ...
    @property
    def thread_ts(self) -> str | None: ...
    @property
    def content_hash(self) -> str | None: ...
    @property
    def state(self) -> str: ...
    @property
    def claimed_at(self) -> datetime: ...


class MessageStore(Protocol):
    """Where the poster remembers its keyed messages (the ledger's PostedMessages)."""

    def get(self, key: str) -> Remembered | None: ...
    def claim(self, key: str, channel: str, thread_ts: str | None, digest: str) -> None: ...
    def record(
        self,
        key: str,
        channel: str,
        ts: str | None,
        thread_ts: str | None,
        digest: str | None,
        state: str,
    ) -> None: ...
    def release(self, key: str) -> None: ...


@dataclass(frozen=True)
class _Known:
    channel: str
    ts: str | None
    thread_ts: str | None
    content_hash: str | None
    state: str
    claimed_at: datetime | None = None

    @property
    def live(self) -> bool:
        return self.state == POSTED and bool(self.ts)

    @property
    def in_doubt(self) -> bool:
        """Claimed, never confirmed: the post may or may not have reached Slack."""
        return self.state == SENDING


def content_hash(text: str, blocks: list | None) -> str:
    """A stable fingerprint of what a message shows."""
    canonical = json.dumps(
        {"text": text, "blocks": blocks or []}, sort_keys=True, ensure_ascii=False
    )
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


def metadata_for(key: str, digest: str) -> dict[str, Any]:
    """The metadata a keyed message carries, so it can be found again after a crash."""
    return {"event_type": EVENT_TYPE, "event_payload": {"key": key, "hash": digest}}


# ---------------------------------------------------------------- channels
_channels: dict[str, dict[str, str]] = {}
_channels_lock = threading.Lock()


def forget_channels() -> None:
    """Drop the cached channel directory (tests reset the workspace; admins rename channels)."""
    with _channels_lock:
        _channels.clear()


def _counted(method: str, call: Callable[[], T]) -> T:
    request_counter.add("slack")
    try:
        return call()
    except SlackApiError as exc:
        status = getattr(getattr(exc, "response", None), "status_code", None)
        raise SlackPostError(method, _error_code(exc), status=status) from None


def _error_code(exc: SlackApiError) -> str:
    response = getattr(exc, "response", None)
    try:
        return str(response["error"]) if response is not None else "unknown_error"
    except (KeyError, TypeError):
        return "unknown_error"


def _load_channels(client: WebClient) -> dict[str, str]:
    names: dict[str, str] = {}
    cursor: str | None = None
    while True:
        reply = _counted(
            "conversations.list",
            lambda c=cursor: client.conversations_list(
                types="public_channel,private_channel",
                exclude_archived=True,
                limit=LIST_PAGE,
                cursor=c,
            ),
        )
        for channel in reply.get("channels", []):
            names.setdefault(channel["name"], channel["id"])
        cursor = (reply.get("response_metadata") or {}).get("next_cursor") or None
        if not cursor:
            return names


def channel_id(client: WebClient, channel: str, refresh: bool = False) -> str:
    """The id of a channel given as staff type it: name, #name, id, <#C…|name> mention or link.

    The directory is paged once per process (per Slack API URL) and cached.
    """
    ref = channel.strip().lstrip("#")
    if _CHANNEL_ID.match(ref):
        return ref
    parsed = parse_channel(channel)
    if not isinstance(parsed, ChannelRef):
        raise ChannelNotFound(ref)
    if parsed.id:
        return parsed.id
    ref = str(parsed.name)
    key = str(client.base_url)
    with _channels_lock:
        if refresh or key not in _channels:
            _channels[key] = _load_channels(client)
        found = _channels[key].get(ref)
    if found is None:
        raise ChannelNotFound(ref)
    return found


def _is_channel_id(channel: str) -> bool:
    parsed = parse_channel(channel)
    return bool(_CHANNEL_ID.match(channel.strip().lstrip("#"))) or (
        isinstance(parsed, ChannelRef) and parsed.id is not None
    )


# ---------------------------------------------------------------- the poster
@dataclass
class SlackPoster:
    """Posts, edits and deletes the bot's keyed messages exactly once; `dry_run` only plans.

    It sends what it is given: the caller has checked it (coalition/outgoing.py).
    """

    client: WebClient | None
    messages: MessageStore | None
    dry_run: bool = False
    planned: list[PlannedPost] = field(default_factory=list)
    _bot_id: str | None = field(default=None, repr=False)

    def __post_init__(self) -> None:
        if not self.dry_run and (self.client is None or self.messages is None):
            raise ValueError(
                "SlackPoster needs a WebClient and a message store unless dry_run=True"
            )

    # ------------------------------------------------------------ public API
    def post(
        self,
        key: str,
        channel: str,
        text: str,
        blocks: list | None = None,
        thread_ts: str | None = None,
    ) -> PostResult:
        """Make the message under `key` show this content: post it, edit it, or leave it as it is."""
        _check_key(key)
        digest = content_hash(text, blocks)
        known = self._known(key)
        if self.dry_run:
            return self._plan(key, channel, known, digest)
        if known and known.live:
            if known.content_hash == digest:
                return PostResult(known.ts or "", known.channel, "unchanged")
            result = self._edit(key, known, text, blocks, digest)
            if result is not None:
                return result
            log.info("message %s was deleted in Slack; posting it again", key)
        return self._post_new(key, channel, text, blocks, thread_ts, digest)

    def update(self, key: str, text: str, blocks: list | None = None) -> PostResult:
        """Edit the message already posted under `key` (LookupError if there is none)."""
        digest = content_hash(text, blocks)
        known = self._known(key)
        if known is None or not known.live:
            raise LookupError(f"no live Slack message is recorded under key {key!r}")
        if self.dry_run:
            return self._plan(key, known.channel, known, digest)
        if known.content_hash == digest:
            return PostResult(known.ts or "", known.channel, "unchanged")
        result = self._edit(key, known, text, blocks, digest)
        if result is None:
            raise SlackPostError(
                "chat.update", "message_not_found", f"message {key!r} was deleted in Slack"
            )
        return result

    def delete(self, key: str) -> PostResult | None:
        """Delete the message under `key`; None if there is nothing to delete."""
        known = self._known(key)
        if known is None or not known.live:
            return None
        result = PostResult(known.ts or "", known.channel, "deleted")
        if self.dry_run:
            self.planned.append(PlannedPost(key, known.channel, "deleted"))
            return result
        try:
            with self._paced(known.channel):
                self._call(
                    "chat.delete",
                    lambda: self._client.chat_delete(channel=known.channel, ts=known.ts),
                )
        except SlackPostError as exc:
            if exc.error != "message_not_found":
                raise
        self._store.record(
            key, known.channel, known.ts, known.thread_ts, known.content_hash, DELETED
        )
        return result

    def post_ephemeral(
        self,
        channel: str,
        user: str,
        text: str,
        blocks: list | None = None,
        thread_ts: str | None = None,
    ) -> str | None:
        """A message only `user` sees (not keyed: ephemeral messages cannot be edited); its ts."""
        if self.dry_run:
            self.planned.append(PlannedPost(f"ephemeral:{user}", channel, "posted"))
            return None
        target = self._channel(channel)
        reply = self._in_channel(
            "chat.postEphemeral",
            target,
            lambda: self._client.chat_postEphemeral(
                channel=target, user=user, text=text, blocks=blocks, thread_ts=thread_ts
            ),
        )
        return reply.get("message_ts")

    def permalink(self, channel_id: str, ts: str) -> str:
        """A link people can open to the message."""
        reply = self._call(
            "chat.getPermalink",
            lambda: self._client.chat_getPermalink(channel=channel_id, message_ts=ts),
        )
        return str(reply["permalink"])

    # ------------------------------------------------------------ steps
    def _plan(self, key: str, channel: str, known: _Known | None, digest: str) -> PostResult:
        if known and known.live:
            action: Action = "unchanged" if known.content_hash == digest else "updated"
            self.planned.append(PlannedPost(key, known.channel, action))
            return PostResult(known.ts or "", known.channel, action)
        self.planned.append(PlannedPost(key, channel, "posted"))
        return PostResult("", "", "posted")

    def _post_new(
        self,
        key: str,
        channel: str,
        text: str,
        blocks: list | None,
        thread_ts: str | None,
        digest: str,
    ) -> PostResult:
        target = self._channel(channel)
        try:
            return self._claim_and_post(key, target, text, blocks, thread_ts, digest)
        except SlackPostError as exc:
            if exc.error != "channel_not_found" or _is_channel_id(channel):
                raise
        # The cached directory may be stale (a channel renamed or recreated): look once more.
        target = channel_id(self._client, channel, refresh=True)
        return self._claim_and_post(key, target, text, blocks, thread_ts, digest)

    def _claim_and_post(
        self,
        key: str,
        target: str,
        text: str,
        blocks: list | None,
        thread_ts: str | None,
        digest: str,
    ) -> PostResult:
        """Claim, post, confirm: a crash between the last two leaves the claim in doubt."""
        self._store.claim(key, target, thread_ts, digest)
        try:
            with self._paced(target):
                reply = self._in_channel(
                    "chat.postMessage",
                    target,
                    lambda: self._client.chat_postMessage(
                        channel=target,
                        text=text,
                        blocks=blocks,
                        thread_ts=thread_ts,
                        metadata=metadata_for(key, digest),
                    ),
                )
        except SlackPostError as exc:
            if exc.status in REFUSED:
                self._store.release(key)  # Slack answered no: nothing went out
            raise
        ts = str(reply["ts"])
        self._store.record(key, target, ts, thread_ts, digest, POSTED)
        return PostResult(ts, target, "posted")

    def _edit(
        self, key: str, known: _Known, text: str, blocks: list | None, digest: str
    ) -> PostResult | None:
        """chat.update in place; None if the message is gone from Slack."""
        try:
            with self._paced(known.channel):
                self._in_channel(
                    "chat.update",
                    known.channel,
                    lambda: self._client.chat_update(
                        channel=known.channel,
                        ts=known.ts,
                        text=text,
                        # [] clears blocks an earlier version had; None would keep them.
                        blocks=blocks if blocks else [],
                        metadata=metadata_for(key, digest),
                    ),
                )
        except SlackPostError as exc:
            if exc.error == "message_not_found":
                return None
            raise
        self._store.record(key, known.channel, known.ts, known.thread_ts, digest, POSTED)
        return PostResult(known.ts or "", known.channel, "updated")

    def _adopt(self, key: str, known: _Known) -> _Known | None:
        """A post in doubt: the bot's own message with this key, posted since the claim, if any."""
        found = self._find_own(known.channel, key, known.thread_ts, known.claimed_at)
        if found is None:
            log.info("message %s was claimed but never reached Slack; posting it", key)
            return None
        log.info("adopting message %s found in Slack (posted before a crash)", key)
        ts, digest = str(found["ts"]), _payload(found).get("hash")
        self._store.record(key, known.channel, ts, known.thread_ts, digest, POSTED)
        return _Known(known.channel, ts, known.thread_ts, digest, POSTED)

    def _find_own(
        self, target: str, key: str, thread_ts: str | None, since: datetime | None
    ) -> dict[str, Any] | None:
        """The newest message of this bot carrying `key` in its metadata, posted since `since`."""
        oldest = f"{(since - CLOCK_SKEW).timestamp():.6f}" if since else None
        keyed = [
            message
            for message in self._read_since(target, thread_ts, oldest)
            if (message.get("metadata") or {}).get("event_type") == EVENT_TYPE
            and _payload(message).get("key") == key
            and message.get("bot_id")
        ]
        if not keyed:
            return None
        own = self._own_bot_id()  # is a message found really ours? (asked only when one is)
        mine = [m for m in keyed if m.get("bot_id") == own]
        return max(mine, key=lambda m: float(m["ts"]), default=None)

    def _read_since(
        self, target: str, thread_ts: str | None, oldest: str | None
    ) -> Iterator[dict[str, Any]]:
        """The channel's (or thread's) messages since `oldest`, page by page."""
        method = "conversations.replies" if thread_ts else "conversations.history"
        cursor: str | None = None
        while True:

            def read(c: str | None = cursor) -> Any:
                window = {"include_all_metadata": True, "limit": HISTORY_PAGE, "cursor": c}
                if thread_ts:
                    return self._client.conversations_replies(
                        channel=target, ts=thread_ts, oldest=oldest, **window
                    )
                return self._client.conversations_history(channel=target, oldest=oldest, **window)

            reply = self._in_channel(method, target, read)
            yield from reply.get("messages", [])
            cursor = (reply.get("response_metadata") or {}).get("next_cursor") or None
            if not cursor or not reply.get("has_more"):
                return

    def _own_bot_id(self) -> str | None:
        if self._bot_id is None:
            reply = self._call("auth.test", lambda: self._client.auth_test())
            self._bot_id = reply.get("bot_id")
        return self._bot_id

    # ------------------------------------------------------------ requests
    @property
    def _client(self) -> WebClient:
        assert self.client is not None  # guaranteed outside dry runs by __post_init__
        return self.client

    def _channel(self, channel: str) -> str:
        return channel_id(self._client, channel)

    @contextmanager
    def _paced(self, target: str) -> Iterator[None]:
        """One message in the channel's window, counted from Slack's reply (arrival times jitter)."""
        budget = budgets.get(f"slack:{target}", SLACK_MESSAGES_PER_CHANNEL)
        budget.acquire()
        try:
            yield
        finally:
            budget.replied()

    def _call(self, method: str, call: Callable[[], Any]) -> Any:
        return _counted(method, call)

    def _in_channel(self, method: str, target: str, call: Callable[[], Any]) -> Any:
        """Call; if the bot is not in the (public) channel, join it and try once more."""
        try:
            return self._call(method, call)
        except SlackPostError as exc:
            if exc.error != "not_in_channel":
                raise
        log.info("joining channel %s to use %s", target, method)
        self._call("conversations.join", lambda: self._client.conversations_join(channel=target))
        return self._call(method, call)

    # ------------------------------------------------------------ memory
    @property
    def _store(self) -> MessageStore:
        assert self.messages is not None  # guaranteed outside dry runs by __post_init__
        return self.messages

    def _known(self, key: str) -> _Known | None:
        """What the store remembers of `key`; a post in doubt is settled first (outside dry runs)."""
        if self.messages is None:
            return None
        row = self.messages.get(key)
        if row is None:
            return None
        known = _Known(
            row.channel, row.ts, row.thread_ts, row.content_hash, row.state, row.claimed_at
        )
        if known.in_doubt and not self.dry_run:
            return self._adopt(key, known)
        return known


def _check_key(key: str) -> None:
    # Checked before any request: a key the store cannot keep would post without being recorded.
    if not key.strip() or len(key) > MAX_KEY_LENGTH:
        raise ValueError(f"a message key must be 1 to {MAX_KEY_LENGTH} characters")


def _payload(message: dict[str, Any]) -> dict[str, Any]:
    payload = (message.get("metadata") or {}).get("event_payload") or {}
    return payload if isinstance(payload, dict) else {}


__all__ = [
    "EVENT_TYPE",
    "ChannelNotFound",
    "MessageStore",
    "PlannedPost",
    "PostResult",
    "Remembered",
    "SlackPostError",
    "SlackPoster",
    "channel_id",
    "content_hash",
    "forget_channels",
]
