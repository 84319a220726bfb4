"""Ledger tables of the weekly summary: one document (and one Slack message) per ISO week, and donors seen giving."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import BigInteger, String
from sqlalchemy.orm import Mapped, mapped_column

from coalition.ledger.db import Base, utcnow


class SummaryDocument(Base):
    """The week's Google Doc (found again by id, never created twice) and what was last written to it."""

    __tablename__ = "summary_documents"
    week: Mapped[str] = mapped_column(String(10), primary_key=True)  # 2026-W48
    document_id: Mapped[str] = mapped_column(String(100))
    url: Mapped[str] = mapped_column(String(300))
    slack_channel: Mapped[str | None] = mapped_column(String(40))
    slack_ts: Mapped[str | None] = mapped_column(String(40))
    content_hash: Mapped[str | None] = mapped_column(String(64))  # of the content last written
    # The document's revision right after that write: if it still matches, nobody edited it since.
    revision_id: Mapped[str | None] = mapped_column(String(100))
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)


class SummaryDonor(Base):
    """A donor's first gift date, by a keyed hash: never an e-mail or a name.

    The weekly summary's donor history (coalition/summary/history.py): it tells a
    donor's first gift ever from one in the five weeks a summary reads.
    """

    __tablename__ = "summary_donors"
    donor_key: Mapped[str] = mapped_column(String(64), primary_key=True)  # HMAC-SHA256, hex
    first_gift: Mapped[date]
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)


class SummaryWeek(Base):
    """A week's giving totals as a summary run counted them (sums and counts, never a donor).

    The dashboard's 52-week giving chart reads these, so it costs no Airtable page: each
    run records the five weeks it read, and a donor-history rebuild records every week.
    """

    __tablename__ = "summary_weeks"
    week: Mapped[str] = mapped_column(String(10), primary_key=True)  # 2026-W48
    raised_cents: Mapped[int] = mapped_column(BigInteger)
    gifts: Mapped[int]
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)
