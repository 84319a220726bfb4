"""The weekly summary's ledger reads and writes: aggregate facts, the week's document row, donors seen giving.

Everything here is ids, statuses, categories, times and keyed hashes. The donor
history keeps each donor only as HMAC-SHA256 of their matching key (e-mail or name)
under a secret kept in the ledger, with their first gift date: enough to tell a new
donor from a returning one, and nothing a person can be read back from. Functions
take a SQLAlchemy session; the caller owns the transaction.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import secrets
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import delete, func, select, type_coerce
from sqlalchemy.orm import Session

from coalition.ledger import evidence_queries
from coalition.ledger.db import Ledger, UTCDateTime
from coalition.ledger.intakes import received_in, undated_intakes
from coalition.ledger.tables.alerts import PostedMessage
from coalition.ledger.tables.common import Watermark
from coalition.ledger.tables.intake import IntakeRecord, Referral
from coalition.ledger.tables.roster import MemberState, Partner
from coalition.ledger.tables.summary import SummaryDocument, SummaryDonor, SummaryWeek
from coalition.summary.history import HistoryState
from coalition.summary.need import WAITLIST, NeedFact
from coalition.summary.outcomes import Arrivals, OutcomeFact

HASH_KEY = "weekly-summary:hash-key"
HISTORY_KEY = "weekly-summary:donor-history"
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
        for r in session.scalars(select(IntakeRecord).where(received_in(start, end)))
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
    return LedgerFacts(intakes, referrals, members, posted, undated_intakes(session))


# ---------------------------------------------------------------- the week's document
def document_row(session: Session, week: str) -> SummaryDocument | None:
    """The week's row, detached (safe to read after the session closes)."""
    row = session.get(SummaryDocument, week)
    if row is not None:
        session.expunge(row)
    return row


def summary_url(ledger: Ledger, week: str) -> str | None:
    """The link of the week's document, if a summary run made one."""
    with ledger.session() as session:
        row = session.get(SummaryDocument, week)
        return row.url if row else None


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


# ---------------------------------------------------------------- the donor history
def hash_secret(session: Session) -> bytes:
    """The secret of the donor hashes, made on first use."""
    row = session.get(Watermark, HASH_KEY)
    if row is None:
        row = Watermark(key=HASH_KEY, value=secrets.token_hex(32))
        session.add(row)
        session.flush()
    return bytes.fromhex(row.value)


def donor_hash(secret: bytes, key: str) -> str:
    return hmac.new(secret, key.encode("utf-8"), hashlib.sha256).hexdigest()


def history_state(session: Session) -> HistoryState:
    """How far the donor history is complete (an empty state when there is none, or it cannot be read)."""
    row = session.get(Watermark, HISTORY_KEY)
    if row is None:
        return HistoryState()
    try:
        saved = json.loads(row.value)
        return HistoryState(
            date.fromisoformat(saved["complete_before"]),
            datetime.fromisoformat(saved["read_at"]),
            datetime.fromisoformat(saved["built_at"]),
        )
    except (ValueError, KeyError, TypeError):
        return HistoryState()  # rebuilt from scratch: the safe reading of a damaged watermark


def update_history(
    session: Session, first_days: Mapping[str, date], rebuild: bool, state: HistoryState
) -> dict[str, date]:
    """Fold the first-gift days a listing found into the history; every read donor's first gift ever.

    A rebuild forgets the history first. Dates only move earlier, so two runs may fold
    in the same donors in either order.
    """
    secret = hash_secret(session)
    if rebuild:
        session.execute(delete(SummaryDonor))
    wanted = {donor_hash(secret, k): k for k in first_days}
    existing: dict[str, SummaryDonor] = {}
    if not rebuild:
        for chunk in _chunks(sorted(wanted)):
            for row in session.scalars(
                select(SummaryDonor).where(SummaryDonor.donor_key.in_(chunk))
            ):
                existing[row.donor_key] = row
    first: dict[str, date] = {}
    for digest, key in wanted.items():
        day, row = first_days[key], existing.get(digest)
        if row is None:
            session.add(SummaryDonor(donor_key=digest, first_gift=day))
        elif day < row.first_gift:
            row.first_gift = day
        first[key] = min(day, row.first_gift) if row is not None else day
    _save_state(session, state)
    return first


def _save_state(session: Session, state: HistoryState) -> None:
    assert state.started, "a saved history says how far it is complete"
    value = json.dumps(
        {
            "complete_before": state.complete_before.isoformat(),  # type: ignore[union-attr]
            "read_at": state.read_at.isoformat(),  # type: ignore[union-attr]
            "built_at": state.built_at.isoformat(),  # type: ignore[union-attr]
        }
    )
    row = session.get(Watermark, HISTORY_KEY)
    if row is None:
        session.add(Watermark(key=HISTORY_KEY, value=value))
    else:
        row.value = value


# ---------------------------------------------------------------- evidence: outcomes, unmet need, giving
@dataclass
class EvidenceFacts:
    intakes: list[NeedFact]  # with `bounds`: the waitlisted ones only (placement is in `arrivals`)
    referrals: list[OutcomeFact]
    partner_names: dict[str, str]
    giving: dict[str, tuple[int, int]]  # week label -> (raised in cents, gifts)
    arrivals: Arrivals | None = None


def need_facts(
    session: Session, start: datetime, end: datetime | None = None, waitlisted: bool = False
) -> list[NeedFact]:
    """Intakes received in [start, end) as the unmet-need figures see them (plain column reads)."""
    i = IntakeRecord
    query = select(
        i.intake_id, i.received_at, i.status, i.category, i.place, i.language, i.reason_code
    ).where(received_in(start, end))
    if waitlisted:
        query = query.where(i.status == WAITLIST)
    return [NeedFact(*row) for row in session.execute(query)]


def outcome_facts(session: Session, start: datetime) -> list[OutcomeFact]:
    """Referrals made since `start` as the outcome figures see them: ids, state, times, reason code."""
    r = Referral
    # Sent: when written to the partner's sheet, else when made; one column, one conversion.
    sent = type_coerce(func.coalesce(r.written_at, r.created_at), UTCDateTime())
    return [
        OutcomeFact(*row)
        for row in session.execute(
            select(
                r.referral_id, r.intake_id, r.partner_id, r.attempt, r.state, sent,
                r.decided_at, r.decline_reason,
            ).where(r.created_at >= start)
        )
    ]  # fmt: skip


def evidence_facts(
    session: Session, start: datetime, bounds: Sequence[datetime] = ()
) -> EvidenceFacts:
    """Intakes received since `start`, referrals made since then, partner names and recorded weekly giving.

    Plain column reads (no ORM objects). With the weeks' `bounds` (outcomes.span_bounds),
    placement is counted in SQL (coalition/ledger/evidence_queries.py) and only the
    waitlisted intakes are read: 52 weeks of 1,000 intakes is then about a third of the rows.
    """
    arrivals = None
    if bounds:
        intakes = need_facts(session, start, waitlisted=True)
        arrivals = Arrivals(
            tuple(evidence_queries.received_per_week(session, bounds)),
            tuple(evidence_queries.first_acceptances(session, bounds[0], bounds[-1])),
        )
    else:
        intakes = need_facts(session, start)
    referrals = outcome_facts(session, start)
    names = {mid: name for mid, name in session.execute(select(Partner.member_id, Partner.name))}
    giving = {
        week: (cents, gifts)
        for week, cents, gifts in session.execute(
            select(SummaryWeek.week, SummaryWeek.raised_cents, SummaryWeek.gifts)
        )
    }
    return EvidenceFacts(intakes, referrals, names, giving, arrivals)


def save_weekly_giving(session: Session, weeks: Mapping[str, tuple[int, int]]) -> None:
    """Record each week's (raised in cents, gifts); a later count of a week replaces the earlier one."""
    if not weeks:
        return
    existing = {
        row.week: row
        for chunk in _chunks(sorted(weeks))
        for row in session.scalars(select(SummaryWeek).where(SummaryWeek.week.in_(chunk)))
    }
    for week, (cents, gifts) in weeks.items():
        row = existing.get(week)
        if row is None:
            session.add(SummaryWeek(week=week, raised_cents=cents, gifts=gifts))
        elif (row.raised_cents, row.gifts) != (cents, gifts):
            row.raised_cents, row.gifts = cents, gifts


__all__ = [
    "EvidenceFacts",
    "IntakeFact",
    "LedgerFacts",
    "MemberFact",
    "NeedFact",
    "OutcomeFact",
    "PostedFact",
    "ReferralFact",
    "document_row",
    "evidence_facts",
    "history_state",
    "ledger_facts",
    "need_facts",
    "outcome_facts",
    "save_document",
    "save_weekly_giving",
    "summary_url",
    "update_history",
]
