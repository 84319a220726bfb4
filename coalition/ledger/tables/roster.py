"""Ledger tables of roster sync: the partner directory routing reads, and what the last sync knew of each record.

MemberState and ContactState are the index an incremental sync decides from. They
hold organization data, dates, finding codes and keyed hashes; a contact's name,
email or phone never reaches them.
"""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import JSON, String
from sqlalchemy.orm import Mapped, mapped_column

from coalition.ledger.db import Base, utcnow


class Partner(Base):
    """A member organization that offers legal services, with its routing attributes. Organization data only."""

    __tablename__ = "partners"
    member_id: Mapped[str] = mapped_column(String(40), primary_key=True)
    name: Mapped[str] = mapped_column(String(300))
    services: Mapped[list] = mapped_column(JSON, default=list)
    counties: Mapped[list] = mapped_column(JSON, default=list)
    states: Mapped[list] = mapped_column(JSON, default=list)
    languages: Mapped[list] = mapped_column(JSON, default=list)
    remote: Mapped[bool] = mapped_column(default=False)
    interpreter: Mapped[bool] = mapped_column(default=False)
    accepting: Mapped[bool] = mapped_column(default=False)
    weekly_capacity: Mapped[int] = mapped_column(default=0)
    income_limit_percent: Mapped[int | None]
    lsc_funded: Mapped[bool] = mapped_column(default=False)
    accreditation: Mapped[str] = mapped_column(String(40), default="none")
    referral_channel: Mapped[str | None] = mapped_column(String(100))
    referral_sheet: Mapped[str | None] = mapped_column(String(300))
    slack_users: Mapped[list] = mapped_column(JSON, default=list)
    active: Mapped[bool] = mapped_column(default=True)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)


class MemberState(Base):
    """What the last sync saw of a member: a content hash and the dates the digest and summary need."""

    __tablename__ = "member_state"
    member_id: Mapped[str] = mapped_column(String(40), primary_key=True)
    name: Mapped[str] = mapped_column(String(300))
    content_hash: Mapped[str] = mapped_column(String(64))
    membership_status: Mapped[str | None] = mapped_column(String(40))
    dues_paid_through: Mapped[date | None]
    data_issues_hash: Mapped[str | None] = mapped_column(String(64))
    last_verified: Mapped[date | None]
    finding_keys: Mapped[list] = mapped_column(JSON, default=list)  # codes and record ids only
    row_hash: Mapped[str | None] = mapped_column(String(64))  # the bot's cells of its directory row
    first_seen: Mapped[datetime] = mapped_column(default=utcnow)
    removed_at: Mapped[datetime | None]
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)


class ContactState(Base):
    """What the last sync saw of a contact: its organizations, keyed hashes of email and phone, finding codes."""

    __tablename__ = "contact_state"
    contact_id: Mapped[str] = mapped_column(String(40), primary_key=True)
    member_ids: Mapped[list] = mapped_column(JSON, default=list)
    email_key: Mapped[str | None] = mapped_column(String(64), index=True)
    phone_key: Mapped[str | None] = mapped_column(String(64), index=True)
    finding_keys: Mapped[list] = mapped_column(JSON, default=list)
    slack_user: Mapped[str | None] = mapped_column(String(40))
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)
