"""Slack output: every message the bot posts goes through `SlackPoster`, exactly once by key, guarded and paced.

A message is named by a stable key (e.g. "referral:R-2026-000123:notice"). The
ledger remembers each key's channel, ts and content hash, so a rerun changes
nothing, a changed message is edited in place, and a crash between posting and
recording is healed by finding the bot's own message again through the metadata
it carries. Before any request, the text and blocks pass the privacy guard and a
mention guard (no <!channel>, <!here>, <!everyone>, <!subteam^...> or <@...>
unless the caller allows it). Posts and edits are paced per channel to Slack's
~1 message per second; the WebClient's retry handlers deal with the rest.
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
from typing import Any, Literal, TypeVar

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from coalition.ledger import Ledger, utcnow
from coalition.ledger.tables.alerts import PostedMessage
from coalition.privacy import PrivacyGuard, guard, iter_strings
from coalition.references import ChannelRef, parse_channel
from integrations.budget import SLACK_MESSAGES_PER_CHANNEL, budgets
from integrations.http import request_counter

log = logging.getLogger("integrations.slack")

EVENT_TYPE = "coalition_post"
HISTORY_LIMIT = 100  # how far back a crashed post is looked for (one page of history)
LIST_PAGE = 200
MAX_KEY_LENGTH = 200  # posted_messages.key
_CHANNEL_ID = re.compile(r"^[CGD][A-Z0-9]{8,}$")
_MENTION = re.compile(r"<!(?:channel|here|everyone)\b|<!subteam\^|<@", re.IGNORECASE)

Action = Literal["posted", "updated", "unchanged", "deleted"]
T = TypeVar("T")


class SlackPostError(Exception):
    """Slack refused a call we cannot work around; names the method and Slack's error code."""

    def __init__(self, method: str, error: str, hint: str = "") -> None:
        self.method = method
        self.error = error
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


class MentionError(ValueError):
    """A message would notify a crowd or a person, and the caller did not allow mentions."""


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


@dataclass(frozen=True)
class _Known:
    channel: str
    ts: str | None
    thread_ts: str | None
    content_hash: str | None
    state: str

    @property
    def live(self) -> bool:
        return self.state != "deleted" and bool(self.ts)


def content_hash(text: str, blocks: list | None) -> str:
    """A stable fingerprint of what a message shows."""
    canonical = json.dumps(
        {"text": text, "blocks": blocks or []}, sort_keys=True, ensure_ascii=False
    )
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


def metadata_for(key: str, digest: str) -> dict[str, Any]:
    """The metadata a keyed message carries, so it can be found again after a crash."""
    return {"event_type": EVENT_TYPE, "event_payload": {"key": key, "hash": digest}}


def check_mentions(text: str | None, blocks: list | None) -> None:
    """Raise MentionError if the message would ping @channel/@here/@everyone, a group or a person."""
    places = [
        path
        for path, value in iter_strings({"text": text or "", "blocks": blocks or []})
        if _MENTION.search(value)
    ]
    if places:
        raise MentionError(
            f"refused: the message would notify people (in {', '.join(places)}); escape user text "
            "with coalition.privacy.escape_mrkdwn, or pass allow_mentions=True for a deliberate ping"
        )


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
        raise SlackPostError(method, _error_code(exc)) from None


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
    """Posts, edits and deletes the bot's keyed messages exactly once; `dry_run` only plans."""

    client: WebClient | None
    ledger: Ledger | None
    dry_run: bool = False
    privacy: PrivacyGuard = field(default_factory=lambda: guard)
    planned: list[PlannedPost] = field(default_factory=list)
    _history: dict[tuple[str, str], dict[str, dict[str, Any]]] = field(
        default_factory=dict, repr=False
    )
    _bot_id: str | None = field(default=None, repr=False)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def __post_init__(self) -> None:
        if not self.dry_run and (self.client is None or self.ledger is None):
            raise ValueError("SlackPoster needs a WebClient and a Ledger unless dry_run=True")

    # ------------------------------------------------------------ public API
    def post(
        self,
        key: str,
        channel: str,
        text: str,
        blocks: list | None = None,
        thread_ts: str | None = None,
        allow_mentions: bool = False,
    ) -> PostResult:
        """Make the message under `key` show this content: post it, edit it, or leave it as it is."""
        self._guard(text, blocks, allow_mentions, key)
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

    def update(
        self, key: str, text: str, blocks: list | None = None, allow_mentions: bool = False
    ) -> PostResult:
        """Edit the message already posted under `key` (LookupError if there is none)."""
        self._guard(text, blocks, allow_mentions)
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
        self._record(key, known.channel, known.ts, known.thread_ts, known.content_hash, "deleted")
        return result

    def post_ephemeral(
        self,
        channel: str,
        user: str,
        text: str,
        blocks: list | None = None,
        thread_ts: str | None = None,
        allow_mentions: bool = False,
    ) -> str | None:
        """A message only `user` sees (not keyed: ephemeral messages cannot be edited); its ts."""
        self._guard(text, blocks, allow_mentions)
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
    def _guard(
        self, text: str, blocks: list | None, allow_mentions: bool, key: str | None = None
    ) -> None:
        # Both guards run before any request, in dry runs too: a plan must show the refusal.
        if key is not None:
            if not key.strip() or len(key) > MAX_KEY_LENGTH:
                # Checked first: a key the ledger cannot store would post without being recorded.
                raise ValueError(f"a message key must be 1 to {MAX_KEY_LENGTH} characters")
            self.privacy.check_text(key, "key")  # keys travel in message metadata and the ledger
        self.privacy.check_slack_message(text, blocks)
        if not allow_mentions:
            check_mentions(text, blocks)

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
            return self._adopt_or_post(key, target, text, blocks, thread_ts, digest)
        except SlackPostError as exc:
            if exc.error != "channel_not_found" or _is_channel_id(channel):
                raise
        # The cached directory may be stale (a channel renamed or recreated): look once more.
        target = channel_id(self._client, channel, refresh=True)
        return self._adopt_or_post(key, target, text, blocks, thread_ts, digest)

    def _adopt_or_post(
        self,
        key: str,
        target: str,
        text: str,
        blocks: list | None,
        thread_ts: str | None,
        digest: str,
    ) -> PostResult:
        earlier = self._find_own(target, key, thread_ts)
        if earlier is not None:
            ts = str(earlier["ts"])
            known = _Known(target, ts, thread_ts, _payload(earlier).get("hash"), "posted")
            log.info("adopting message %s found in Slack (posted before a crash)", key)
            if known.content_hash == digest:
                self._record(key, target, ts, thread_ts, digest, "posted")
                return PostResult(ts, target, "unchanged")
            edited = self._edit(key, known, text, blocks, digest)
            if edited is not None:
                return edited
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
        ts = str(reply["ts"])
        self._record(key, target, ts, thread_ts, digest, "posted")
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
        self._record(key, known.channel, known.ts, known.thread_ts, digest, "posted")
        return PostResult(known.ts or "", known.channel, "updated")

    def _find_own(self, target: str, key: str, thread_ts: str | None) -> dict[str, Any] | None:
        """The bot's own message carrying this key in its metadata, among the latest 100."""
        scope = (target, thread_ts or "")
        with self._lock:
            index = self._history.get(scope)
        if index is None:
            index = self._read_keys(target, thread_ts)
            with self._lock:
                self._history[scope] = index
        found = index.get(key)
        if found is not None and found.get("bot_id") != self._own_bot_id():
            return None
        return found

    def _read_keys(self, target: str, thread_ts: str | None) -> dict[str, dict[str, Any]]:
        if thread_ts:
            reply = self._in_channel(
                "conversations.replies",
                target,
                lambda: self._client.conversations_replies(
                    channel=target, ts=thread_ts, include_all_metadata=True, limit=HISTORY_LIMIT
                ),
            )
        else:
            reply = self._in_channel(
                "conversations.history",
                target,
                lambda: self._client.conversations_history(
                    channel=target, include_all_metadata=True, limit=HISTORY_LIMIT
                ),
            )
        index: dict[str, dict[str, Any]] = {}
        for message in reply.get("messages", []):
            meta = message.get("metadata") or {}
            key = _payload(message).get("key")
            if meta.get("event_type") == EVENT_TYPE and key and message.get("bot_id"):
                # History is newest first: keep the newest message per key.
                index.setdefault(str(key), message)
        return index

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

    # ------------------------------------------------------------ ledger
    def _known(self, key: str) -> _Known | None:
        if self.ledger is None:
            return None
        with self.ledger.session() as session:
            row = session.get(PostedMessage, key)
            if row is None:
                return None
            return _Known(row.channel, row.ts, row.thread_ts, row.content_hash, row.state)

    def _record(
        self,
        key: str,
        channel: str,
        ts: str | None,
        thread_ts: str | None,
        digest: str | None,
        state: str,
    ) -> None:
        assert self.ledger is not None
        with self.ledger.session() as session:
            row = session.get(PostedMessage, key)
            if row is None:
                session.add(
                    PostedMessage(
                        key=key,
                        channel=channel,
                        ts=ts,
                        thread_ts=thread_ts,
                        content_hash=digest,
                        state=state,
                    )
                )
                return
            if row.ts != ts:
                row.posted_at = utcnow()  # a new message under an old key (the old one was deleted)
            row.channel, row.ts, row.thread_ts = channel, ts, thread_ts
            row.content_hash, row.state, row.updated_at = digest, state, utcnow()


def _payload(message: dict[str, Any]) -> dict[str, Any]:
    payload = (message.get("metadata") or {}).get("event_payload") or {}
    return payload if isinstance(payload, dict) else {}


def slack_poster(dry_run: bool = False) -> SlackPoster:
    """A poster on the configured Slack and ledger (a dry run needs neither a token nor requests)."""
    from coalition.ledger import open_ledger
    from integrations.clients import slack_client

    ledger = open_ledger()
    if dry_run:
        return SlackPoster(client=None, ledger=ledger, dry_run=True)
    return SlackPoster(client=slack_client(), ledger=ledger)


__all__ = [
    "EVENT_TYPE",
    "ChannelNotFound",
    "MentionError",
    "PlannedPost",
    "PostResult",
    "SlackPostError",
    "SlackPoster",
    "channel_id",
    "check_mentions",
    "content_hash",
    "forget_channels",
    "slack_poster",
]
