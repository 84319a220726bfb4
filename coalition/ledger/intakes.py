"""Intakes: each intake row the bot has seen, by its Intake ID, and the claim that decides who records a decision.

Who wins a race is decided by the database, so it holds on SQLite and PostgreSQL
alike and across workers: a new intake is claimed by inserting its primary key
while holding the claim lock, a re-route or approval by a conditional UPDATE ...
WHERE status = <expected>, and a referral attempt by the unique (intake, attempt)
pair. Partners' weekly capacity is counted again inside the claim's transaction
and the rule (coalition/intake/capacity.py) says which decisions still fit. What a
run is working on it holds on a lease (coalition/ledger/leases.py); once a dead
run's lease lapses another run takes the work over and finishes it.
"""

from __future__ import annotations

import secrets
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, fields
from datetime import datetime
from typing import Any

from sqlalchemy import and_, func, or_, select, text, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from coalition.intake.capacity import CapacityLimits, within_capacity
from coalition.intake.models import Notice as NoticeState
from coalition.ledger import leases
from coalition.ledger.db import Ledger, insert_ignoring_conflicts, utcnow
from coalition.ledger.leases import Holder, LeaseStore
from coalition.ledger.referrals import add_claimed, slots_taken
from coalition.ledger.routing_rows import DEFAULT_LEASE, INTAKE, add_notices
from coalition.ledger.routing_rows import chunks as _chunks
from coalition.ledger.routing_rows import keys as _keys
from coalition.ledger.tables.common import Watermark
from coalition.ledger.tables.intake import IntakeRecord

SALT_KEY = "intake:hash-salt"
CLAIM_LOCK = 7_361_042  # the PostgreSQL advisory lock every claim holds (any fixed number)


@dataclass(frozen=True)
class IntakeFacts:
    """What a decision records of one intake: written by a claim, read back in every snapshot."""

    intake_id: str
    status: str
    row_hash: str | None = None  # keyed hash of the form answers
    received_at: datetime | None = None
    category: str | None = None
    urgent: bool = False
    urgency: str | None = None
    place: str | None = None
    language: str | None = None
    reason_code: str | None = None
    reason: str | None = None
    duplicate_of: str | None = None
    suggested_partner: str | None = None
    pending_notice: str | None = None  # a staff message this decision calls for
    evaluation: dict | None = None


@dataclass(frozen=True)
class IntakeState(IntakeFacts):
    """A snapshot of one intake's ledger record (ids, codes, times)."""

    chosen_partner: str | None = None
    approved_by: str | None = None
    approved_at: datetime | None = None
    approval_reminded_at: datetime | None = None
    current_referral: str | None = None
    current_partner: str | None = None
    routed_at: datetime | None = None
    created_at: datetime | None = None
    updated_at: datetime | None = None


@dataclass(frozen=True)
class IntakeWrite(IntakeFacts):
    """Everything the ledger keeps of one decided intake (no personal data)."""

    phone_key: str | None = None  # keyed hashes, for duplicates
    email_key: str | None = None
    # set when the decision routes the case now
    referral_id: str | None = None
    partner_id: str | None = None
    attempt: int = 0
    # Transition guard for intakes already in the ledger: only from these statuses.
    expected_status: tuple[str, ...] = ()
    notices: list[NoticeState] = field(default_factory=list)

    @property
    def is_new(self) -> bool:
        return not self.expected_status


@dataclass(frozen=True)
class ClaimResult:
    """The intakes a claim won, and those held back because their partner filled up meanwhile."""

    won: set[str]
    held: list[str]


def snapshot(row: IntakeRecord) -> IntakeState:
    return IntakeState(**{f: getattr(row, f) for f in IntakeState.__dataclass_fields__})


def snapshot_map(states: Mapping[str, IntakeState]) -> dict[str, str]:
    """Intake ID -> status, for reports."""
    return {k: v.status for k, v in states.items()}


def received_in(start: datetime, end: datetime | None = None) -> Any:
    """The one meaning of "received in a period", for the weekly Doc and `/coalition intake`.

    By the form's timestamp; an intake without one is in no period (the Doc counts those
    apart, as undated), never placed by when the bot first saw it.
    """
    clause = IntakeRecord.received_at >= start
    return clause if end is None else and_(clause, IntakeRecord.received_at < end)


def undated_intakes(session: Session) -> int:
    """Intakes with no received time: in no week's figures."""
    query = select(func.count()).select_from(IntakeRecord).where(IntakeRecord.received_at.is_(None))
    return int(session.scalar(query) or 0)


def _lock_claims(session: Session) -> None:
    """Serialise claims. SQLite's BEGIN IMMEDIATE already holds the write lock; PostgreSQL takes an advisory one."""
    if session.get_bind().dialect.name == "postgresql":
        session.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": CLAIM_LOCK})


@dataclass(frozen=True)
class IntakeCounts:
    """Intakes received since a time, by status and category, the urgent ones, and those without a time."""

    by_status: dict[str, int]
    by_category: dict[str, int]  # "" for no category
    urgent: int
    undated: int


class IntakeStore:
    """Intakes as routing, follow-up and the Slack app see them; each call one transaction."""

    def __init__(self, ledger: Ledger, holder: Holder | None = None) -> None:
        self.ledger = ledger
        self.holder = holder or Holder.new(DEFAULT_LEASE)
        self.leases = LeaseStore(ledger)

    @property
    def token(self) -> str:
        """This run's owner token on its leases."""
        return self.holder.owner

    # ------------------------------------------------------------ salt
    def salt(self, create: bool = True) -> str | None:
        """The secret that keys every hash; created once, by whichever run gets there first."""
        with self.ledger.session() as session:
            row = session.get(Watermark, SALT_KEY)
            if row is not None or not create:
                return row.value if row else None
            insert_ignoring_conflicts(
                session,
                Watermark,
                [{"key": SALT_KEY, "value": secrets.token_hex(32), "updated_at": utcnow()}],
            )
        with self.ledger.session() as session:
            return session.get(Watermark, SALT_KEY).value  # type: ignore[union-attr]

    # ------------------------------------------------------------ reads
    def intakes(self, ids: Iterable[str]) -> dict[str, IntakeState]:
        wanted = sorted(set(ids))
        found: dict[str, IntakeState] = {}
        with self.ledger.session() as session:
            for chunk in _chunks(wanted):
                rows = session.scalars(
                    select(IntakeRecord).where(IntakeRecord.intake_id.in_(chunk))
                )
                found.update({r.intake_id: snapshot(r) for r in rows})
        return found

    def intakes_in(self, statuses: Iterable[str]) -> dict[str, IntakeState]:
        with self.ledger.session() as session:
            rows = session.scalars(
                select(IntakeRecord).where(IntakeRecord.status.in_(list(statuses)))
            )
            return {r.intake_id: snapshot(r) for r in rows}

    def intakes_pending_notice(self) -> list[str]:
        with self.ledger.session() as session:
            return list(
                session.scalars(
                    select(IntakeRecord.intake_id).where(IntakeRecord.pending_notice.is_not(None))
                )
            )

    def row_hashes(self, ids: Iterable[str]) -> dict[str, str | None]:
        """Intake ID -> stored answers fingerprint, for the ids given that exist."""
        return {k: v.row_hash for k, v in self.intakes(ids).items()}

    def recent_contacts(self, since: datetime) -> dict[str, list[tuple[str, datetime | None]]]:
        """Contact key -> (intake id, received at) of intakes since `since` that were not duplicates."""
        contacts: dict[str, list[tuple[str, datetime | None]]] = {}
        query = select(
            IntakeRecord.intake_id,
            IntakeRecord.phone_key,
            IntakeRecord.email_key,
            IntakeRecord.received_at,
        ).where(
            IntakeRecord.status.notin_(["duplicate", "review"]),
            or_(IntakeRecord.received_at >= since, IntakeRecord.created_at >= since),
        )
        with self.ledger.session() as session:
            for intake_id, phone_key, email_key, received in session.execute(query):
                for key in (phone_key, email_key):
                    if key:
                        contacts.setdefault(key, []).append((intake_id, received))
        return contacts

    def counts_since(self, since: datetime) -> IntakeCounts:
        """Intakes received since `since` (as the weekly Doc counts them), by status and category."""
        query = (
            select(IntakeRecord.status, IntakeRecord.category, IntakeRecord.urgent, func.count())
            .where(received_in(since))
            .group_by(IntakeRecord.status, IntakeRecord.category, IntakeRecord.urgent)
        )
        by_status: dict[str, int] = {}
        by_category: dict[str, int] = {}
        urgent = 0
        with self.ledger.session() as session:
            for status, category, is_urgent, n in session.execute(query):
                by_status[status] = by_status.get(status, 0) + n
                by_category[category or ""] = by_category.get(category or "", 0) + n
                urgent += n if is_urgent else 0
            undated = undated_intakes(session)
        return IntakeCounts(by_status, by_category, urgent, undated)

    # ------------------------------------------------------------ claims
    def claim(
        self, writes: Sequence[IntakeWrite], now: datetime, limits: CapacityLimits | None = None
    ) -> ClaimResult:
        """Record decisions; returns the intake ids this run won and those it held back.

        New intakes are inserted (a row already there belongs to another run); known
        ones move only from their expected status. Each intake, its referral and its
        notices commit together, so no crash leaves half of one. All of it is one
        transaction that holds the claim lock, and partners' capacity is counted again
        inside it: a decision that would take a partner past its weekly capacity
        (another run filled it since this run read the counts) is held back, unclaimed,
        for the next run to decide again.
        """
        with self.ledger.session() as session:
            _lock_claims(session)
            writes, held = self._within_capacity(session, writes, limits)
            won = self._claim_new(session, [w for w in writes if w.is_new], now)
            for write in (w for w in writes if not w.is_new):
                if self._claim_known(session, write, now):
                    won.add(write.intake_id)
        return ClaimResult(won, held)

    @staticmethod
    def _within_capacity(
        session: Session, writes: Sequence[IntakeWrite], limits: CapacityLimits | None
    ) -> tuple[list[IntakeWrite], list[str]]:
        """The writes that fit each partner's capacity as the ledger counts it now, and the ids held back."""
        if limits is None:
            return list(writes), []
        used = slots_taken(session, limits.since, {w.intake_id for w in writes})
        return within_capacity(writes, used, limits)

    def _claim_new(self, session: Session, fresh: list[IntakeWrite], now: datetime) -> set[str]:
        # The claim lock is held: an intake not in the ledger now is this run's to insert.
        existing: set[str] = set()
        for chunk in _chunks([w.intake_id for w in fresh]):
            existing.update(
                session.scalars(
                    select(IntakeRecord.intake_id).where(IntakeRecord.intake_id.in_(chunk))
                )
            )
        won = [w for w in fresh if w.intake_id not in existing]
        insert_ignoring_conflicts(session, IntakeRecord, [self._record_row(w, now) for w in won])
        self._after_claim(session, won, now)
        return {w.intake_id for w in won}

    @staticmethod
    def _record_row(w: IntakeWrite, now: datetime) -> dict[str, Any]:
        return {
            **{f.name: getattr(w, f.name) for f in fields(IntakeFacts)},
            "phone_key": w.phone_key,
            "email_key": w.email_key,
            "current_referral": w.referral_id,
            "current_partner": w.partner_id,
            "routed_at": now if w.referral_id else None,
            "created_at": now,
            "updated_at": now,
        }

    def _claim_known(self, session: Session, w: IntakeWrite, now: datetime) -> bool:
        values = self._record_row(w, now)
        for key in ("intake_id", "created_at"):
            values.pop(key)
        try:
            with session.begin_nested():  # a lost race undoes this intake only
                result = session.execute(
                    update(IntakeRecord)
                    .where(
                        IntakeRecord.intake_id == w.intake_id,
                        IntakeRecord.status.in_(list(w.expected_status)),
                    )
                    .values(**values)
                )
                if result.rowcount != 1:
                    return False
                self._after_claim(session, [w], now)
        except IntegrityError:
            # Another run inserted the same referral attempt first: it owns this step.
            return False
        return True

    def _after_claim(self, session: Session, writes: Sequence[IntakeWrite], now: datetime) -> None:
        """The leases, referrals (claimed, leased to this run) and notices of intakes just claimed."""
        leases.take(session, _keys(INTAKE, [w.intake_id for w in writes]), self.holder, now)
        routed = [
            {
                "referral_id": w.referral_id,
                "intake_id": w.intake_id,
                "attempt": w.attempt,
                "partner_id": w.partner_id,
                "category": w.category,
                "urgent": w.urgent,
                "reason": w.reason,
            }
            for w in writes
            if w.referral_id and w.partner_id
        ]
        add_claimed(session, routed, self.holder, now)
        add_notices(session, [n for w in writes for n in w.notices], now)

    def reclaim_intakes(self, now: datetime) -> list[str]:
        """Take over intakes a dead run claimed (their lease lapsed): this run writes their Intake row."""
        return self.leases.reclaim_expired(INTAKE, self.holder, now)

    def held_elsewhere(self, intake_ids: Iterable[str], now: datetime) -> set[str]:
        """The intakes another run holds on a live lease (it writes their Intake row itself)."""
        with self.ledger.session() as session:
            current = leases.holders(session, _keys(INTAKE, intake_ids))
        return {
            leases.ident_of(k)
            for k, lease in current.items()
            if lease.owner != self.token and not lease.lapsed(now)
        }

    # ------------------------------------------------------------ approvals
    def approve(
        self,
        intake_id: str,
        approver: str,
        partner_id: str | None,
        now: datetime,
        statuses: Sequence[str],
    ) -> bool:
        """suggested (or another waiting status) -> approved, remembering who and which partner."""
        with self.ledger.session() as session:
            result = session.execute(
                update(IntakeRecord)
                .where(IntakeRecord.intake_id == intake_id, IntakeRecord.status.in_(list(statuses)))
                .values(
                    status="approved",
                    approved_by=approver[:40],
                    approved_at=now,
                    chosen_partner=partner_id,
                    updated_at=now,
                )
            )
            return result.rowcount == 1

    def mark_approval_reminded(
        self, intake_ids: Sequence[str], now: datetime, notices: Iterable[NoticeState]
    ) -> list[str]:
        moved: list[str] = []
        with self.ledger.session() as session:
            for intake_id in intake_ids:
                result = session.execute(
                    update(IntakeRecord)
                    .where(
                        IntakeRecord.intake_id == intake_id,
                        IntakeRecord.status == "suggested",
                        IntakeRecord.approval_reminded_at.is_(None),
                    )
                    .values(approval_reminded_at=now, updated_at=now)
                )
                if result.rowcount == 1:
                    moved.append(intake_id)
            if moved:
                add_notices(session, notices, now)
        return moved
