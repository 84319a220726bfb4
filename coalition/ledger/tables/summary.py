"""Ledger table of the weekly summary: one document (and one Slack message) per ISO week."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import String
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
