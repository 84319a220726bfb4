"""Everything the Slack app's handlers share: clients, the ledger, background workers, who is who, replies.

Handlers acknowledge Slack at once and hand the slow part to `BotRuntime.submit`,
which runs it on a small pool of worker threads (flow runs have their own pool in
bot/flowruns.py). Every answer a person sees goes through `Reply` or
`BotRuntime.edit_message`, which run the privacy guard and the mention guard first.
"""

from __future__ import annotations

import copy
import logging
import re
import threading
import time
from collections.abc import Callable, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any
from zoneinfo import ZoneInfo

from slack_sdk import WebClient
from slack_sdk.webhook import WebhookClient

from bot import data
from bot.access import Actor, PartnerRef, partner_refs, resolve
from bot.commands import render_help, render_note
from bot.flowruns import FlowRunner
from bot.inbound import Installation
from coalition.ledger import Ledger
from coalition.ledger.posted_messages import PostedMessages
from coalition.ledger.roster_store import PartnerDirectory
from coalition.outgoing import MentionError, check_mentions
from coalition.privacy import PIIError, guard
from coalition.settings import ConfigError, Settings
from flows.posting import GuardedPoster

log = logging.getLogger("bot.runtime")

_PERSON = re.compile(r"<@[UW][A-Z0-9]{2,20}>")
SANDBOX_SIGNING_SECRET = "sandbox-signing-secret"  # sandbox/slack/models.py DEFAULT_SIGNING_SECRET
SANDBOX_APP_ID = "A0COALITION"  # sandbox/slack/models.py APP_ID
DIRECTORY_TTL = 30.0  # seconds the partner directory is reused for role checks
WORKERS = 8
WITHHELD = (
    ":lock: I could not show this answer: it would have carried personal details "
    "or notified people. Nothing was shown; the engineers were told."
)
Message = tuple[str, list[dict[str, Any]]]


def signing_secret(cfg: Settings) -> str:
    """SLACK_SIGNING_SECRET (or its Prefect block); the sandbox's own secret in sandbox mode."""
    value = cfg.secrets.slack_signing_secret
    if value is not None and value.get_secret_value():
        return value.get_secret_value()
    if cfg.sandbox_url:
        return SANDBOX_SIGNING_SECRET
    from integrations.clients import _secret

    return _secret(
        cfg,
        "slack_signing_secret",
        "the Slack app's signing secret, from Basic Information > App Credentials",
    )


def configured_app_id(cfg: Settings) -> str | None:
    """The app id requests must name (config `slack.app_id`); the sandbox's own in sandbox mode."""
    if cfg.services.slack.app_id:
        return cfg.services.slack.app_id
    return SANDBOX_APP_ID if cfg.sandbox_url else None


def app_token(cfg: Settings) -> str | None:
    """SLACK_APP_TOKEN (xapp-...) when the app should use Socket Mode."""
    value = cfg.secrets.slack_app_token
    token = value.get_secret_value() if value is not None else ""
    if token and not token.startswith("xapp-"):
        raise ConfigError(
            "environment: SLACK_APP_TOKEN must be an app-level token starting with xapp- "
            "(Basic Information > App-Level Tokens, scope connections:write)"
        )
    return token or None


def _without(value: Any, allowed: Sequence[str]) -> Any:
    """A copy of a message with deliberately shown values blanked, for the guard to check the rest."""
    if not allowed:
        return value
    if isinstance(value, str):
        for item in allowed:
            value = value.replace(item, "[shown on purpose]")
        return value
    if isinstance(value, dict):
        return {k: _without(v, allowed) for k, v in value.items()}
    if isinstance(value, list):
        return [_without(v, allowed) for v in value]
    return value


def _without_people(value: Any) -> Any:
    """A copy with the bot's own `<@U123>` references (who acted) blanked."""
    if isinstance(value, str):
        return _PERSON.sub("", value)
    if isinstance(value, dict):
        return {k: _without_people(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_without_people(v) for v in value]
    return value


def check_outgoing(text: str, blocks: list | None, allow: Sequence[str] = ()) -> None:
    """The privacy guard and the mention guard on a message, before it leaves.

    Values in `allow` are shown deliberately (a member contact's phone, for staff). A
    well-formed `<@U123>` is allowed: user text is always escaped, so one can only come
    from `bot.commands.mention` saying who acted; `<!channel>`, `<!here>`,
    `<!everyone>` and group pings are always refused.
    """
    allowed = [a for a in allow if a]
    guard.check_slack_message(_without(text, allowed), _without(blocks, allowed))
    check_mentions(_without_people(text), _without_people(blocks))


@dataclass
class Reply:
    """Answers to one person about one interaction: through its response_url, else ephemerally."""

    runtime: BotRuntime
    response_url: str | None
    channel: str | None
    user: str

    def send(
        self,
        message: Message,
        *,
        replace_original: bool = False,
        allow: Sequence[str] = (),
    ) -> bool:
        """Show `message` to the person only; True if Slack took it."""
        text, blocks = message
        try:
            check_outgoing(text, blocks, allow)
        except (PIIError, MentionError) as exc:
            log.error("refused an answer (%s): %s", type(exc).__name__, exc)
            text, blocks = WITHHELD, []
        if self.response_url and self._via_response_url(text, blocks, replace_original):
            return True
        return self.runtime.ephemeral(self.channel, self.user, text, blocks)

    def note(self, *lines: str) -> bool:
        return self.send(render_note(list(lines)))

    def _via_response_url(self, text: str, blocks: list, replace_original: bool) -> bool:
        try:
            reply = WebhookClient(self.response_url or "", timeout=15).send(
                text=text,
                blocks=blocks or None,
                response_type="ephemeral",
                replace_original=replace_original,
            )
        except Exception as exc:
            log.warning("response_url post failed: %s", type(exc).__name__)
            return False
        if reply.status_code != 200:
            log.warning("response_url refused the answer: HTTP %s", reply.status_code)
            return False
        return True


@dataclass
class BotRuntime:
    """The Slack app's shared state; built once by bot.app.create_runtime."""

    settings: Settings
    client: WebClient
    ledger: Ledger
    poster: GuardedPoster
    runner: FlowRunner
    airtable: data.Airtable
    workers: int = WORKERS
    _pool: ThreadPoolExecutor = field(init=False, repr=False)
    _pending: int = field(default=0, init=False, repr=False)
    _idle: threading.Condition = field(default_factory=threading.Condition, repr=False)
    _directory: tuple[float, list[PartnerRef], dict[str, str]] | None = field(
        default=None, init=False, repr=False
    )
    _installation: Installation | None = field(default=None, init=False, repr=False)
    _members: dict[str, tuple[float, frozenset[str] | None]] = field(
        default_factory=dict, init=False, repr=False
    )
    _edit_locks: dict[tuple[str, str], threading.Lock] = field(default_factory=dict, repr=False)
    _locks_lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def __post_init__(self) -> None:
        self._pool = ThreadPoolExecutor(self.workers, thread_name_prefix="bot-work")

    @property
    def tz(self) -> ZoneInfo:
        return ZoneInfo(self.settings.services.timezone)

    # ------------------------------------------------------------ background work
    def submit(self, fn: Callable[..., Any], *args: Any) -> Future:
        """Run `fn(*args)` after the ack; failures are logged by class name, never raised at Slack."""
        with self._idle:
            self._pending += 1

        def run() -> Any:
            try:
                return fn(*args)
            except Exception as exc:
                log.exception("background work %s failed: %s", _name(fn), type(exc).__name__)
                return None
            finally:
                with self._idle:
                    self._pending -= 1
                    self._idle.notify_all()

        return self._pool.submit(run)

    def wait_idle(self, timeout: float = 60.0) -> bool:
        """Wait until no background work is left (tests, shutdown); False on timeout."""
        deadline = time.monotonic() + timeout
        with self._idle:
            while self._pending:
                left = deadline - time.monotonic()
                if left <= 0:
                    return False
                self._idle.wait(left)
        return True

    def shutdown(self) -> None:
        self._pool.shutdown(wait=False, cancel_futures=True)
        self.runner.shutdown()

    def warm_up(self) -> None:
        """Compile the templates and load the guard's phone metadata before the first request.

        Otherwise the first command's background work does it while Slack waits for the
        ack, and the interpreter lock makes that ack take a second.
        """
        text, blocks = render_help(Actor("U0WARMUP", "admin"), flows=self.runner.names)
        check_outgoing(text + " (214) 555-0100", blocks, allow=["(214) 555-0100"])
        self.directory()
        if self.installation().app_id is None:
            log.warning(
                "config/services.yaml slack.app_id is not set: requests are checked for the "
                "workspace only (set it from Basic Information > App ID)"
            )

    def installation(self) -> Installation:
        """The workspace the bot is installed in (auth.test, once per process) and the app id (config)."""
        if self._installation is None:
            reply = self.client.auth_test()
            self._installation = Installation(
                str(reply["team_id"]), configured_app_id(self.settings)
            )
        return self._installation

    # ------------------------------------------------------------ who is who
    def directory(self) -> tuple[list[PartnerRef], dict[str, str]]:
        """The partner directory (refs for access, member id -> name), re-read every 30 s."""
        cached = self._directory
        if cached is not None and time.monotonic() - cached[0] < DIRECTORY_TTL:
            return cached[1], cached[2]
        rows = PartnerDirectory(self.ledger).partners()
        refs = partner_refs(rows)
        names = {str(r["member_id"]): str(r["name"]) for r in rows}
        self._directory = (time.monotonic(), refs, names)
        return refs, names

    def forget_directory(self) -> None:
        self._directory = None

    def actor(self, user_id: str, channel_id: str | None, channel_name: str | None) -> Actor:
        refs, _ = self.directory()
        access = self.settings.access
        return resolve(
            user_id,
            channel_id,
            channel_name,
            access.staff,
            access.admins,
            refs,
            members=lambda: self.channel_members(channel_id),
        )

    def channel_members(self, channel_id: str | None) -> frozenset[str] | None:
        """Who is in a channel now (conversations.members, re-read every 30 s); None if Slack would not say."""
        if not channel_id:
            return None
        cached = self._members.get(channel_id)
        if cached is not None and time.monotonic() - cached[0] < DIRECTORY_TTL:
            return cached[1]
        try:
            found: set[str] = set()
            cursor = None
            while True:
                reply = self.client.conversations_members(
                    channel=channel_id, limit=1000, cursor=cursor
                )
                found.update(str(m) for m in reply.get("members") or [])
                cursor = (reply.get("response_metadata") or {}).get("next_cursor")
                if not cursor:
                    break
            members = frozenset(found)
        except Exception as exc:
            # Unknown membership gives no partner role (a refusal, never a borrowed one).
            log.warning("could not read a channel's members: %s", type(exc).__name__)
            return None
        self._members[channel_id] = (time.monotonic(), members)
        return members

    def partner_names(self) -> dict[str, str]:
        return self.directory()[1]

    def audit(
        self,
        actor: Actor,
        action: str,
        target: str | None,
        allowed: bool,
        reason: str | None = None,
    ) -> None:
        """Record who did what (allowed or not) in the ledger's audit trail; never raises."""
        try:
            data.record_audit(
                self.ledger, actor.user_id, actor.role, action, target, allowed, reason
            )
        except Exception as exc:
            log.error("could not write the audit entry for %s: %s", action, type(exc).__name__)

    # ------------------------------------------------------------ messages
    def ephemeral(
        self, channel: str | None, user: str, text: str, blocks: list | None = None
    ) -> bool:
        """chat.postEphemeral (already guarded by the caller); False if Slack refused."""
        if not channel:
            return False
        try:
            self.client.chat_postEphemeral(channel=channel, user=user, text=text, blocks=blocks)
        except Exception as exc:
            log.warning("could not answer ephemerally: %s", type(exc).__name__)
            return False
        return True

    def tell(self, channel: str | None, user: str, message: Message) -> bool:
        """A guarded ephemeral message for one person (no response_url at hand, e.g. after a modal)."""
        return Reply(self, None, channel, user).send(message)

    def _edit_lock(self, channel: str, ts: str) -> threading.Lock:
        with self._locks_lock:
            return self._edit_locks.setdefault((channel, ts), threading.Lock())

    def edit_message(
        self, channel: str, ts: str, transform: Callable[[list[dict[str, Any]]], list]
    ) -> bool:
        """Re-read one of the bot's messages, change its blocks, and update it in place.

        Edits of one message are serialised and start from what Slack holds now, so two
        cases settled at the same moment in one digest both show.
        """
        with self._edit_lock(channel, ts):
            current = self._current(channel, ts)
            if current is None:
                log.info("message to edit is gone from Slack")
                return False
            text = str(current.get("text") or "")
            blocks = transform(copy.deepcopy(current.get("blocks") or []))
            key = self._key_of(channel, ts)
            try:
                check_outgoing(text, blocks)
                if key is not None:
                    # Checked just above; the poster's own guard would refuse the `<@U...>` of who acted.
                    self.poster.update(key, text, blocks, allow_mentions=True)
                else:
                    self.client.chat_update(channel=channel, ts=ts, text=text, blocks=blocks)
            except Exception as exc:
                log.error("could not edit the message: %s", type(exc).__name__)
                return False
            return True

    def _current(self, channel: str, ts: str) -> dict[str, Any] | None:
        reply = self.client.conversations_history(
            channel=channel, latest=ts, oldest=ts, inclusive=True, limit=1
        )
        for message in reply.get("messages") or []:
            if message.get("ts") == ts:
                return message
        return None

    def _key_of(self, channel: str, ts: str) -> str | None:
        return PostedMessages(self.ledger).key_at(channel, ts)


def _name(fn: Callable[..., Any]) -> str:
    return getattr(fn, "__name__", type(fn).__name__)


__all__ = [
    "SANDBOX_APP_ID",
    "SANDBOX_SIGNING_SECRET",
    "BotRuntime",
    "Reply",
    "app_token",
    "check_outgoing",
    "configured_app_id",
    "signing_secret",
]
