"""The weekly summary's ledger reads and writes: aggregate facts, the week's document row, donors seen giving.

Everything here is ids, statuses, categories, times and keyed hashes. Donors are
remembered only as HMAC-SHA256 of their matching key (e-mail or name) under a secret
kept in the ledger, with a date they are known to have given by: enough to tell a
returning donor next week without asking Airtable again, and nothing a person can
be read back from. Functions take a SQLAlchemy session; the caller owns the
transaction.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from coalition.ledger.tables.alerts import PostedMessage
from coalition.ledger.tables.common import Watermark
from coalition.ledger.tables.intake import IntakeRecord, Referral
from coalition.ledger.tables.roster import MemberState
from coalition.ledger.tables.summary import SummaryDocument, SummaryDonor

HASH_KEY = "weekly-summary:hash-key"
CHUNK = 500  # values per IN (...) clause


@dataclass(frozen=True)
class IntakeFact:
    intake_id: str
    received_at: datetime | None
    status: str
    category: str | None
    routed_at: datetime | None


@dataclass(frozen=True)
class ReferralFact:
    intake_id: str
    state: str
    decided_at: datetime | None


@dataclass(frozen=True)
class MemberFact:
    member_id: str
    membership_status: str | None
    dues_paid_through: date | None
    first_seen: datetime
    removed_at: datetime | None


@dataclass(frozen=True)
class PostedFact:
    key: str
    posted_at: datetime


@dataclass
class LedgerFacts:
    """What the summary reads from the other flows' ledger rows (no person in any of it)."""

    intakes: list[IntakeFact]
    referrals: list[ReferralFact]
    members: list[MemberFact]
    posted: list[PostedFact]
    undated_intakes: int = 0


def _chunks(items: list[str], size: int = CHUNK) -> list[list[str]]:
    return [items[i : i + size] for i in range(0, len(items), size)]


def ledger_facts(session: Session, start: datetime, end: datetime) -> LedgerFacts:
    """Intakes received and alerts posted in [start, end), their referrals, and the roster index."""
    intakes = [
        IntakeFact(r.intake_id, r.received_at, r.status, r.category, r.routed_at)
        for r in session.scalars(
            select(IntakeRecord).where(
                IntakeRecord.received_at >= start, IntakeRecord.received_at < end
            )
        )
    ]
    referrals = [
        ReferralFact(r.intake_id, r.state, r.decided_at)
        for chunk in _chunks([i.intake_id for i in intakes])
        for r in session.scalars(select(Referral).where(Referral.intake_id.in_(chunk)))
    ]
    members = [
        MemberFact(
            m.member_id, m.membership_status, m.dues_paid_through, m.first_seen, m.removed_at
        )
        for m in session.scalars(select(MemberState))
    ]
    posted = [
        PostedFact(p.key, p.posted_at)
        for p in session.scalars(
            select(PostedMessage).where(
                PostedMessage.posted_at >= start, PostedMessage.posted_at < end
            )
        )
    ]
    undated = session.scalar(
        select(func.count()).select_from(IntakeRecord).where(IntakeRecord.received_at.is_(None))
    )
    return LedgerFacts(intakes, referrals, members, posted, int(undated or 0))


# ---------------------------------------------------------------- the week's document
def document_row(session: Session, week: str) -> SummaryDocument | None:
    """The week's row, detached (safe to read after the session closes)."""
    row = session.get(SummaryDocument, week)
    if row is not None:
        session.expunge(row)
    return row


def save_document(session: Session, week: str, url_of: Any, **values: Any) -> None:
    """Set fields of the week's row, creating it; `url_of(document_id)` fills the url."""
    row = session.get(SummaryDocument, week)
    if row is None:
        row = SummaryDocument(week=week, url="", document_id="")
        session.add(row)
    for name, value in values.items():
        setattr(row, name, value)
    if "document_id" in values:
        row.url = url_of(values["document_id"])


# ---------------------------------------------------------------- donors seen giving
def hash_secret(session: Session, create: bool) -> bytes | None:
    """The secret of the donor hashes; made on first use when `create` (a dry run makes none)."""
    row = session.get(Watermark, HASH_KEY)
    if row is None:
        if not create:
            return None
        row = Watermark(key=HASH_KEY, value=secrets.token_hex(32))
        session.add(row)
        session.flush()
    return bytes.fromhex(row.value)


def donor_hash(secret: bytes, key: str) -> str:
    return hmac.new(secret, key.encode("utf-8"), hashlib.sha256).hexdigest()


def known_donors(session: Session, keys: Iterable[str]) -> dict[str, date]:
    """For each donor key the ledger remembers, a date the donor is known to have given by."""
    secret = hash_secret(session, create=False)
    if secret is None:
        return {}
    by_hash = {donor_hash(secret, k): k for k in set(keys)}
    found: dict[str, date] = {}
    for chunk in _chunks(sorted(by_hash)):
        for row in session.scalars(select(SummaryDonor).where(SummaryDonor.donor_key.in_(chunk))):
            found[by_hash[row.donor_key]] = row.gave_by
    return found


def remember_donors(session: Session, gave_by: Mapping[str, date]) -> int:
    """Keep, per donor, the earliest date known to have a gift by it; rows written."""
    secret = hash_secret(session, create=True)
    assert secret is not None
    wanted = {donor_hash(secret, k): d for k, d in gave_by.items()}
    existing: dict[str, SummaryDonor] = {}
    for chunk in _chunks(sorted(wanted)):
        for row in session.scalars(select(SummaryDonor).where(SummaryDonor.donor_key.in_(chunk))):
            existing[row.donor_key] = row
    written = 0
    for digest, day in wanted.items():
        row = existing.get(digest)
        if row is None:
            session.add(SummaryDonor(donor_key=digest, gave_by=day))
            written += 1
        elif day < row.gave_by:
            row.gave_by = day
            written += 1
    return written


__all__ = [
    "IntakeFact",
    "LedgerFacts",
    "MemberFact",
    "PostedFact",
    "ReferralFact",
    "document_row",
    "known_donors",
    "ledger_facts",
    "remember_donors",
    "save_document",
]
