"""The Slack messages the bot posted, by key: where each one is, what it shows, and whether its post is in doubt.

A new post is claimed (state `sending`, no ts, the claim time) in one transaction just
before chat.postMessage, and confirmed with its ts just after. So the ledger alone says
what was sent: a row still `sending` is the only case of doubt (the run stopped between
the post and its record), and only for it does the poster look in Slack's history, from
the claim time on. Nothing personal: keys, channel ids, Slack timestamps, content hashes.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import delete, select

from coalition.ledger.db import Ledger, utcnow
from coalition.ledger.tables.alerts import PostedMessage

SENDING, POSTED, DELETED = "sending", "posted", "deleted"


@dataclass(frozen=True)
class PostedState:
    """What the ledger holds of one keyed message; `claimed_at` is when its last post began."""

    channel: str
    ts: str | None
    thread_ts: str | None
    content_hash: str | None
    state: str
    claimed_at: datetime


class PostedMessages:
    """The store of posted messages, one short transaction per call."""

    def __init__(self, ledger: Ledger) -> None:
        self.ledger = ledger

    def get(self, key: str) -> PostedState | None:
        with self.ledger.session() as session:
            row = session.get(PostedMessage, key)
            if row is None:
                return None
            return PostedState(
                row.channel, row.ts, row.thread_ts, row.content_hash, row.state, row.updated_at
            )

    def claim(self, key: str, channel: str, thread_ts: str | None, digest: str) -> None:
        """Remember that a post of `key` is about to be made: in doubt until `record` confirms it."""
        self.record(key, channel, None, thread_ts, digest, SENDING)

    def record(
        self,
        key: str,
        channel: str,
        ts: str | None,
        thread_ts: str | None,
        digest: str | None,
        state: str,
    ) -> None:
        """Where the message under `key` is now and what it shows (posted, edited, deleted, sending)."""
        now = utcnow()
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
                        posted_at=now,
                        updated_at=now,
                    )
                )
                return
            if row.ts != ts:
                row.posted_at = now  # a new message under an old key (the old one was deleted)
            row.channel, row.ts, row.thread_ts = channel, ts, thread_ts
            row.content_hash, row.state, row.updated_at = digest, state, now

    def release(self, key: str) -> None:
        """Slack refused the claimed post outright: nothing went out, so nothing is in doubt."""
        with self.ledger.session() as session:
            session.execute(
                delete(PostedMessage).where(
                    PostedMessage.key == key, PostedMessage.state == SENDING
                )
            )

    def key_at(self, channel: str, ts: str) -> str | None:
        """The key of the live message at (channel, ts), if the bot posted it."""
        with self.ledger.session() as session:
            return session.scalar(
                select(PostedMessage.key).where(
                    PostedMessage.channel == channel,
                    PostedMessage.ts == ts,
                    PostedMessage.state != DELETED,
                )
            )


__all__ = ["DELETED", "POSTED", "SENDING", "PostedMessages", "PostedState"]
