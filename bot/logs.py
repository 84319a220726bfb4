"""Keep secrets out of the Slack app's logs: tokens, the signing secret, response URLs and request bodies.

Bolt and slack_sdk log at DEBUG what they send and receive (Bolt's request
verification even logs the refused body, with the verification token in it), so
every record of the `slack_bolt`, `slack_sdk`, `bot` and `uvicorn` loggers is
scrubbed as it is made: the exact secret values this process holds, anything shaped
like a Slack token, `token=`/`"token":` fields and response URLs (they let anyone
post as the app for 30 minutes). The bodies of those DEBUG traces are dropped
whole: an answer may quote back what its asker typed (a client's name, shown to
them alone) or a member contact's phone shown to staff, and neither belongs in a
log; the method, URL and status stay.
"""

from __future__ import annotations

import logging
import re
import threading
from collections.abc import Iterable

from coalition.log_records import logger_in, rewrite_records

SCRUBBED_LOGGERS = ("slack_bolt", "slack_sdk", "bot", "uvicorn", "integrations.slack")
MASK = "[secret]"
_PATTERNS = (
    re.compile(r"xox[abposr]-[A-Za-z0-9-]+"),  # bot, user, app-level and refresh tokens
    re.compile(r"xapp-[A-Za-z0-9-]+"),
    re.compile(r"(?i)(\"?token\"?\s*[:=]\s*\"?)[^\s\"&,}]+"),
    re.compile(r"(?i)(authorization\"?\s*[:=]\s*\"?(?:bearer\s+)?)[^\s\"&,}]+"),
    re.compile(r"https?://[^\s\"'<>]*/(?:hooks/commands|actions|commands)/[^\s\"'<>&]+"),
    re.compile(
        r"https?%3A%2F%2F[^\s\"&]*?%2F(?:hooks%2Fcommands|actions|commands)%2F[^\s\"&]+",
        re.IGNORECASE,
    ),
)
_MIN_SECRET = 6  # shorter "secrets" would blank ordinary words
# slack_sdk's and Bolt's DEBUG traces of a request, a response or a Socket Mode message:
# kept up to the URL, status or session, never the body (it may hold what someone typed).
_TRACE = re.compile(
    r"^(?:(?P<head>Sending a request - url: (?:[A-Z]+ )?\S+?|Sending a request - \S+ url: \S+?"
    r"|Received the following response - status: \d+|Responding with status: \d+)(?:[,\s].*)?"
    r"|(?P<socket>on_message invoked|Sending a message \(session id: [^,)]+|Failed to send a message"
    r"|A new message enqueued|A message dequeued|Received messages?)\b.*)$",
    re.DOTALL,
)
BODY_WITHHELD = " [body withheld]"


class _WarningsOnly(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        return record.levelno >= logging.WARNING


_WARNINGS_ONLY = _WarningsOnly()
_lock = threading.Lock()
_secrets: set[str] = set()


def remember_secrets(values: Iterable[str | None]) -> None:
    """Exact values to scrub from every record (the bot token, the signing secret, the app token)."""
    with _lock:
        _secrets.update(v for v in values if v and len(v) >= _MIN_SECRET)


def scrub(text: str) -> str:
    """`text` with secrets and secret-shaped strings masked."""
    with _lock:
        known = sorted(_secrets, key=len, reverse=True)
    for value in known:
        text = text.replace(value, MASK)
    for pattern in _PATTERNS:
        text = pattern.sub(lambda m: (m.group(1) if m.groups() else "") + MASK, text)
    return text


def without_body(text: str) -> str:
    """A slack_sdk or Bolt request/response trace without its body and headers; other text unchanged."""
    match = _TRACE.match(text)
    if match is None:
        return text
    head = match.group("head") or match.group("socket")
    if len(head) == len(text):
        return text
    return head + BODY_WITHHELD


def _is_scrubbed(name: str) -> bool:
    return logger_in(name, SCRUBBED_LOGGERS, separators=".:")


def scrub_record(record: logging.LogRecord) -> None:
    try:
        message = record.getMessage()
    except Exception:
        message = str(record.msg)
    record.msg, record.args = scrub(without_body(message)), ()
    if record.exc_info and not record.exc_text:
        record.exc_text = logging.Formatter().formatException(record.exc_info)
        record.exc_info = None
    if record.exc_text:
        record.exc_text = scrub(record.exc_text)


def install_secret_scrubbing(secrets: Iterable[str | None] = ()) -> None:
    """Scrub records of the Slack loggers as they are made, whatever handler follows. Idempotent."""
    remember_secrets(secrets)
    # Bolt logs a refused request's whole body at INFO; it is never worth showing. A filter,
    # not a level: Bolt sets that logger's level again each time an App is made.
    logging.getLogger("slack_bolt.RequestVerification").addFilter(_WARNINGS_ONLY)
    rewrite_records("bot.secrets", _is_scrubbed, scrub_record)


__all__ = ["BODY_WITHHELD", "install_secret_scrubbing", "remember_secrets", "scrub", "without_body"]
