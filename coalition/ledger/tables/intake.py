"""Ledger tables of intake routing: each intake row seen (by id and hash) and each referral's state machine."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from coalition.ledger.db import Base, utcnow


class IntakeRecord(Base):
    """One intake row by its Intake ID: status, broad category and timings; never the person's details."""

    __tablename__ = "intakes"
    intake_id: Mapped[str] = mapped_column(String(40), primary_key=True)
    person_key: Mapped[str | None] = mapped_column(
        String(64), index=True
    )  # salted hash, for duplicates
    received_at: Mapped[datetime | None]
    status: Mapped[str] = mapped_column(String(30), index=True)
    category: Mapped[str | None] = mapped_column(String(40))
    urgent: Mapped[bool] = mapped_column(default=False)
    reason_code: Mapped[str | None] = mapped_column(String(60))
    duplicate_of: Mapped[str | None] = mapped_column(String(40))
    suggested_partner: Mapped[str | None] = mapped_column(String(40))
    current_referral: Mapped[str | None] = mapped_column(String(40))
    routed_at: Mapped[datetime | None]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)


class Referral(Base):
    """A proposal of one intake to one partner: claimed -> written -> notified -> accepted|declined|expired."""

    __tablename__ = "referrals"
    __table_args__ = (UniqueConstraint("intake_id", "attempt", name="uq_referral_attempt"),)
    referral_id: Mapped[str] = mapped_column(String(40), primary_key=True)
    intake_id: Mapped[str] = mapped_column(ForeignKey("intakes.intake_id"), index=True)
    attempt: Mapped[int] = mapped_column(default=1)
    partner_id: Mapped[str] = mapped_column(String(40), index=True)
    state: Mapped[str] = mapped_column(String(20), index=True)
    category: Mapped[str | None] = mapped_column(String(40))
    urgent: Mapped[bool] = mapped_column(default=False)
    reason: Mapped[str | None] = mapped_column(String(300))
    slack_channel: Mapped[str | None] = mapped_column(String(40))
    slack_ts: Mapped[str | None] = mapped_column(String(40))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    written_at: Mapped[datetime | None]
    notified_at: Mapped[datetime | None]
    reminded_at: Mapped[datetime | None]
    decided_at: Mapped[datetime | None]
    decided_by: Mapped[str | None] = mapped_column(String(40))
    decline_reason: Mapped[str | None] = mapped_column(String(60))
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)


class ReferralEvent(Base):
    """History of a referral, for `/coalition referral R-...`."""

    __tablename__ = "referral_events"
    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=True)
    referral_id: Mapped[str] = mapped_column(ForeignKey("referrals.referral_id"), index=True)
    at: Mapped[datetime] = mapped_column(default=utcnow)
    event: Mapped[str] = mapped_column(String(40))
    actor: Mapped[str | None] = mapped_column(String(40))
