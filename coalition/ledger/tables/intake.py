"""Ledger tables of intake routing: each intake row seen (by id and hashes) and each referral's state machine.

Exactly-once rests on these constraints: an intake is claimed by inserting its
primary key (two workers cannot both insert it), a referral attempt is unique per
intake, and every state change is a conditional UPDATE ... WHERE state = <expected>
whose row count says who won. Nothing here identifies a person: ids, keyed hashes,
statuses, times, broad categories, rule codes and reason sentences without personal data.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from coalition.ledger.db import Base, utcnow


class IntakeRecord(Base):
    """One intake row by its Intake ID: status, broad category and timings; never the person's details."""

    __tablename__ = "intakes"
    intake_id: Mapped[str] = mapped_column(String(40), primary_key=True)
    row_hash: Mapped[str | None] = mapped_column(String(64))  # keyed hash of the form answers
    phone_key: Mapped[str | None] = mapped_column(
        String(64), index=True
    )  # keyed hash, for duplicates
    email_key: Mapped[str | None] = mapped_column(String(64), index=True)
    received_at: Mapped[datetime | None]
    # review, duplicate, triage, waitlist, suggested, approved, routing, referred, accepted, reroute
    status: Mapped[str] = mapped_column(String(30), index=True)
    category: Mapped[str | None] = mapped_column(
        String(40)
    )  # broad: survivor types are "protected"
    urgent: Mapped[bool] = mapped_column(default=False)
    urgency: Mapped[str | None] = mapped_column(String(100))  # reason codes, comma-separated
    place: Mapped[str | None] = mapped_column(String(100))  # county or state, as partners see it
    language: Mapped[str | None] = mapped_column(String(40))
    reason_code: Mapped[str | None] = mapped_column(String(60))
    reason: Mapped[str | None] = mapped_column(String(300))  # the Routing reason cell
    duplicate_of: Mapped[str | None] = mapped_column(String(40))
    suggested_partner: Mapped[str | None] = mapped_column(String(40))
    chosen_partner: Mapped[str | None] = mapped_column(String(40))  # staff's pick on approval
    approved_by: Mapped[str | None] = mapped_column(String(40))  # Slack user id or "sheet"
    approved_at: Mapped[datetime | None]
    approval_reminded_at: Mapped[datetime | None]
    current_referral: Mapped[str | None] = mapped_column(String(40))
    current_partner: Mapped[str | None] = mapped_column(String(40))
    routed_at: Mapped[datetime | None]
    # A staff message this intake still owes (triage_alert, approval_request, reroute_notice);
    # set with the decision, turned into one grouped notice per run.
    pending_notice: Mapped[str | None] = mapped_column(String(40), index=True)
    evaluation: Mapped[dict | None] = mapped_column(
        JSON
    )  # partners weighed and rule codes, for explain
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)


class Referral(Base):
    """A proposal of one intake to one partner: claimed -> written -> notified -> accepted|declined|expired.

    `failed` marks a referral whose partner sheet refused it (deleted or unshared).
    """

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
    notice_key: Mapped[str | None] = mapped_column(
        String(200)
    )  # the Slack message that announced it
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


class IntakeNotice(Base):
    """A Slack message intake routing owes (an outbox): recorded in the same transaction as the change
    that calls for it, sent later exactly once by its key. The payload is ids, codes and labels only."""

    __tablename__ = "intake_notices"
    key: Mapped[str] = mapped_column(String(200), primary_key=True)
    kind: Mapped[str] = mapped_column(String(40))
    channel: Mapped[str] = mapped_column(String(100))
    payload: Mapped[dict] = mapped_column(JSON, default=dict)
    created_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
    posted_at: Mapped[datetime | None]
    ts: Mapped[str | None] = mapped_column(String(40))
    attempts: Mapped[int] = mapped_column(default=0)
    last_error: Mapped[str | None] = mapped_column(String(200))
