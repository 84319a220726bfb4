"""Ledger tables every flow shares: watermarks, leases, flow health, and the audit trail of Slack actions."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, String
from sqlalchemy.orm import Mapped, mapped_column

from coalition.ledger.db import Base, utcnow


class Watermark(Base):
    """A named position a flow resumes from (e.g. roster sync's last-modified time)."""

    __tablename__ = "watermarks"
    key: Mapped[str] = mapped_column(String(200), primary_key=True)
    value: Mapped[str] = mapped_column(String(200))
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)


class LeaseRecord(Base):
    """One claim: `kind:id` held by `owner` (a run's token, or a Slack user for a claim for good) until `until`.

    Every claim the bot makes lives here (coalition/ledger/leases.py): intakes, referrals
    and Slack notices a run is working on, the alerts run itself, a campaign approved in
    Slack. `until` NULL means held for good (a decision made once); otherwise another
    run may take the claim over once `until` has passed.
    """

    __tablename__ = "leases"
    key: Mapped[str] = mapped_column(String(200), primary_key=True)
    kind: Mapped[str] = mapped_column(String(40), index=True)
    owner: Mapped[str] = mapped_column(String(80), index=True)
    since: Mapped[datetime]
    until: Mapped[datetime | None] = mapped_column(index=True)


class FlowHealth(Base):
    """Last known state of each flow, so a failure alerts once and a recovery once."""

    __tablename__ = "flow_health"
    flow: Mapped[str] = mapped_column(String(100), primary_key=True)
    state: Mapped[str] = mapped_column(String(30))
    failing_since: Mapped[datetime | None]
    alert_ts: Mapped[str | None] = mapped_column(String(40))
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)


class AuditEntry(Base):
    """Who (Slack user id) did what in Slack, and whether it was allowed. No message text."""

    __tablename__ = "audit"
    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=True)
    at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
    actor: Mapped[str] = mapped_column(String(40))
    role: Mapped[str] = mapped_column(String(20))
    action: Mapped[str] = mapped_column(String(60))
    target: Mapped[str | None] = mapped_column(String(80))
    allowed: Mapped[bool]
    detail: Mapped[dict | None] = mapped_column(JSON)
