"""Ledger tables of alerts: every Slack message the bot posted (by a stable key) and each bill's fingerprint.

Nothing personal lives here: message keys, channel ids, Slack timestamps, content
hashes, and the public legislative fields of a bill (status, last action, dates).
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, String
from sqlalchemy.orm import Mapped, mapped_column

from coalition.ledger.db import Base, utcnow


class PostedMessage(Base):
    """A message the bot owns, found again by `key` (e.g. campaign:recX:C123) to edit rather than repost."""

    __tablename__ = "posted_messages"
    key: Mapped[str] = mapped_column(String(200), primary_key=True)
    channel: Mapped[str] = mapped_column(String(40))
    ts: Mapped[str | None] = mapped_column(String(40))
    thread_ts: Mapped[str | None] = mapped_column(String(40))
    content_hash: Mapped[str | None] = mapped_column(String(64))
    state: Mapped[str] = mapped_column(String(20), default="posted")
    posted_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)


class BillState(Base):
    """A bill's last fingerprint (public legislative data), its alert thread, and reminders sent.

    `changes` counts the change alerts posted so far; the next alert's message key
    includes it, so a rerun after a crash finds the same key (exactly once) while a
    bill that changes back and forth still gets one alert per change.
    """

    __tablename__ = "bill_state"
    record_id: Mapped[str] = mapped_column(String(40), primary_key=True)
    bill: Mapped[str] = mapped_column(String(100))
    fingerprint: Mapped[str] = mapped_column(String(64))
    fields: Mapped[dict] = mapped_column(JSON, default=dict)
    channel: Mapped[str | None] = mapped_column(String(40))
    thread_ts: Mapped[str | None] = mapped_column(String(40))
    reminders_sent: Mapped[list] = mapped_column(JSON, default=list)
    changes: Mapped[int] = mapped_column(default=0)
    moved_at: Mapped[datetime | None]
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)
