"""What `coalition purge` forgets: ledger history past the retention cutoff, counted or deleted in one transaction.

Only history goes: audit entries, referral events, closed referrals, sent notices,
deleted or ops messages, old weekly summary pointers, members long removed. Old
intakes keep their id and status (so a row is never routed twice) but lose the
keyed hashes of their phone and e-mail.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import and_, delete, func, or_, select, update
from sqlalchemy.orm import Session

from coalition.ledger.db import Ledger
from coalition.ledger.tables import (
    AuditEntry,
    IntakeNotice,
    IntakeRecord,
    MemberState,
    PostedMessage,
    Referral,
    ReferralEvent,
    SummaryDocument,
)

FINAL_REFERRAL_STATES = ("accepted", "declined", "expired", "failed")


@dataclass(frozen=True)
class HistoryRule:
    """One kind of ledger history: what it is called and which rows are past the cutoff."""

    label: str
    model: Any
    where: Any  # a function of the cutoff giving a SQL condition


def _history(cutoff: datetime) -> list[HistoryRule]:
    final = and_(Referral.state.in_(FINAL_REFERRAL_STATES), Referral.updated_at < cutoff)
    return [
        HistoryRule("referral events", ReferralEvent, or_(
            ReferralEvent.at < cutoff,
            ReferralEvent.referral_id.in_(select(Referral.referral_id).where(final)),
        )),
        HistoryRule("closed referrals", Referral, final),
        HistoryRule("audit entries", AuditEntry, AuditEntry.at < cutoff),
        HistoryRule("sent or stale notices", IntakeNotice, or_(
            IntakeNotice.posted_at < cutoff,
            and_(IntakeNotice.posted_at.is_(None), IntakeNotice.created_at < cutoff),
        )),
        HistoryRule("deleted or ops Slack messages", PostedMessage, and_(
            PostedMessage.updated_at < cutoff,
            or_(PostedMessage.state == "deleted", PostedMessage.key.like("ops:%")),
        )),
        HistoryRule("weekly summary pointers", SummaryDocument, SummaryDocument.updated_at < cutoff),
        HistoryRule("removed members", MemberState, MemberState.removed_at < cutoff),
    ]  # fmt: skip


def _old_contact_keys(cutoff: datetime) -> Any:
    # An intake whose Timestamp could not be read ages from when the bot first saw it.
    return and_(
        func.coalesce(IntakeRecord.received_at, IntakeRecord.created_at) < cutoff,
        or_(IntakeRecord.phone_key.is_not(None), IntakeRecord.email_key.is_not(None)),
    )


HASHES_LABEL = "contact hashes of old intakes (cleared)"


def count_history(session: Session, cutoff: datetime) -> dict[str, int]:
    """How many rows of each kind of history are past the cutoff."""
    counts = {
        rule.label: session.scalar(select(func.count()).select_from(rule.model).where(rule.where))
        or 0
        for rule in _history(cutoff)
    }
    counts[HASHES_LABEL] = (
        session.scalar(
            select(func.count()).select_from(IntakeRecord).where(_old_contact_keys(cutoff))
        )
        or 0
    )
    return counts


def purge_history(ledger: Ledger, cutoff: datetime) -> dict[str, int]:
    """Delete the history past the cutoff in one transaction; rows removed (or cleared) per kind."""
    removed: dict[str, int] = {}
    with ledger.session() as session:
        # Events first: they point at the referrals removed next.
        for rule in _history(cutoff):
            removed[rule.label] = session.execute(
                delete(rule.model).where(rule.where).execution_options(synchronize_session=False)
            ).rowcount
        removed[HASHES_LABEL] = session.execute(
            update(IntakeRecord)
            .where(_old_contact_keys(cutoff))
            .values(phone_key=None, email_key=None)
            .execution_options(synchronize_session=False)
        ).rowcount
    return removed


def history_counts(ledger: Ledger, cutoff: datetime) -> dict[str, int]:
    """How many rows of each kind of history are past the cutoff (a dry run: nothing changes)."""
    with ledger.session() as session:
        return count_history(session, cutoff)
