"""Intake routing's reads and writes of the ledger, each one transaction that is safe to race.

Who wins a race is decided by the database, so it holds on SQLite and PostgreSQL
alike and across workers: a new intake is claimed by inserting its primary key
while holding the claim lock, a re-route or approval by a conditional UPDATE ...
WHERE status = <expected>, a referral attempt by the unique (intake, attempt) pair,
and each referral step by UPDATE ... WHERE state = <expected>. What a run is
working on (its intakes, its referrals, the notices it is sending) it holds on a
lease (coalition/ledger/leases.py); once a dead run's lease lapses another run
takes the work over and finishes it.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import and_, func, insert, or_, select, text, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from coalition.intake.models import STAFF_CHOICE
from coalition.intake.models import Notice as NoticeState
from coalition.ledger import leases
from coalition.ledger.db import Ledger, insert_ignoring_conflicts, utcnow
from coalition.ledger.leases import HeldWork, Holder, LeaseStore, lease_key
from coalition.ledger.tables.common import Watermark
from coalition.ledger.tables.intake import IntakeNotice, IntakeRecord, Referral, ReferralEvent
from coalition.ledger.tables.roster import Partner
from coalition.partner_sheets import UNREACHABLE_PREFIX

SALT_KEY = "intake:hash-salt"
DEFAULT_LEASE = timedelta(minutes=5)  # callers pass the configured length (Settings.lease_length)
# What a routing run holds on a lease while it works on it.
INTAKE, REFERRAL, NOTICE = "intake", "referral", "notice"
LEASED_KINDS = (INTAKE, REFERRAL, NOTICE)
CHUNK = 500  # ids per IN (...) clause

# Referral states
CLAIMED, WRITTEN, NOTIFIED = "claimed", "written", "notified"
ACCEPTED, DECLINED, EXPIRED, FAILED = "accepted", "declined", "expired", "failed"
PENDING_STATES = (CLAIMED, WRITTEN, NOTIFIED)
CLOSED_STATES = (DECLINED, EXPIRED, FAILED)  # the partner is out for this intake
SUGGESTION_STATUSES = (
    "suggested",
    "approved",
)  # a suggestion holds its partner's slot until decided
CLAIM_LOCK = 7_361_042  # the PostgreSQL advisory lock every claim holds (any fixed number)


@dataclass(frozen=True)
class IntakeState:
    """A snapshot of one intake's ledger record (ids, codes, times)."""

    intake_id: str
    status: str
    row_hash: str | None = None
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
    chosen_partner: str | None = None
    approved_by: str | None = None
    approved_at: datetime | None = None
    approval_reminded_at: datetime | None = None
    current_referral: str | None = None
    current_partner: str | None = None
    routed_at: datetime | None = None
    pending_notice: str | None = None
    evaluation: dict | None = None
    created_at: datetime | None = None
    updated_at: datetime | None = None


@dataclass(frozen=True)
class ReferralState:
    """A snapshot of one referral."""

    referral_id: str
    intake_id: str
    attempt: int
    partner_id: str
    state: str
    category: str | None = None
    urgent: bool = False
    reason: str | None = None
    created_at: datetime | None = None
    written_at: datetime | None = None
    notified_at: datetime | None = None
    reminded_at: datetime | None = None
    decided_at: datetime | None = None
    decided_by: str | None = None
    decline_reason: str | None = None


@dataclass(frozen=True)
class CapacityLimits:
    """Partners' weekly capacity, counted from `since` (the week's start), for claims to respect."""

    since: datetime
    weekly: Mapping[str, int]  # partner id -> referrals a week


@dataclass(frozen=True)
class ClaimResult:
    """The intakes a claim won, and those held back because their partner filled up meanwhile."""

    won: set[str]
    held: list[str]


@dataclass
class IntakeWrite:
    """Everything the ledger keeps of one decided intake (no personal data)."""

    intake_id: str
    status: str
    row_hash: str | None = None
    phone_key: str | None = None
    email_key: str | None = None
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
    evaluation: dict | None = None
    pending_notice: str | None = None  # a staff message this decision calls for
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


def _snapshot(row: IntakeRecord) -> IntakeState:
    return IntakeState(**{f: getattr(row, f) for f in IntakeState.__dataclass_fields__})


def _referral(row: Referral) -> ReferralState:
    return ReferralState(**{f: getattr(row, f) for f in ReferralState.__dataclass_fields__})


def _chunks(items: Sequence[str]) -> Iterable[Sequence[str]]:
    for start in range(0, len(items), CHUNK):
        yield items[start : start + CHUNK]


def _lock_claims(session: Session) -> None:
    """Serialise claims. SQLite's BEGIN IMMEDIATE already holds the write lock; PostgreSQL takes an advisory one."""
    if session.get_bind().dialect.name == "postgresql":
        session.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": CLAIM_LOCK})


def _keys(kind: str, ids: Iterable[str]) -> list[str]:
    return [lease_key(kind, i) for i in ids]


class IntakeStore:
    """The ledger as intake routing sees it."""

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
                found.update({r.intake_id: _snapshot(r) for r in rows})
        return found

    def intakes_in(self, statuses: Iterable[str]) -> dict[str, IntakeState]:
        with self.ledger.session() as session:
            rows = session.scalars(
                select(IntakeRecord).where(IntakeRecord.status.in_(list(statuses)))
            )
            return {r.intake_id: _snapshot(r) for r in rows}

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

    def referrals_of(self, intake_ids: Iterable[str]) -> dict[str, list[ReferralState]]:
        wanted = sorted(set(intake_ids))
        found: dict[str, list[ReferralState]] = {}
        with self.ledger.session() as session:
            for chunk in _chunks(wanted):
                rows = session.scalars(
                    select(Referral).where(Referral.intake_id.in_(chunk)).order_by(Referral.attempt)
                )
                for row in rows:
                    found.setdefault(row.intake_id, []).append(_referral(row))
        return found

    def referral(self, referral_id: str) -> ReferralState | None:
        with self.ledger.session() as session:
            row = session.get(Referral, referral_id)
            return _referral(row) if row else None

    def referrals_in(self, states: Iterable[str]) -> list[ReferralState]:
        with self.ledger.session() as session:
            rows = session.scalars(select(Referral).where(Referral.state.in_(list(states))))
            return [_referral(r) for r in rows]

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

    def tried_partners(self, intake_ids: Iterable[str]) -> dict[str, frozenset[str]]:
        """Partners that declined or let expire each intake (or left the directory).

        A partner whose sheet refused the case never had it: it is not counted, and gets
        the case once its sheet works (see unreachable_partners).
        """
        tried: dict[str, set[str]] = {}
        for intake_id, referrals in self.referrals_of(intake_ids).items():
            for ref in referrals:
                unreachable = ref.state == FAILED and (ref.decline_reason or "").startswith(
                    UNREACHABLE_PREFIX
                )
                if ref.state in CLOSED_STATES and not unreachable:
                    tried.setdefault(intake_id, set()).add(ref.partner_id)
        return {k: frozenset(v) for k, v in tried.items()}

    def unreachable_partners(self) -> dict[str, str]:
        """Partner -> cause, for partners whose last delivery was refused by their sheet."""
        failed_at = (
            select(Referral.partner_id, func.max(Referral.decided_at).label("at"))
            .where(Referral.state == FAILED, Referral.decline_reason.like(f"{UNREACHABLE_PREFIX}%"))
            .group_by(Referral.partner_id)
            .subquery()
        )
        written_at = (
            select(Referral.partner_id, func.max(Referral.written_at).label("at"))
            .where(Referral.written_at.is_not(None))
            .group_by(Referral.partner_id)
            .subquery()
        )
        query = (
            select(failed_at.c.partner_id, failed_at.c.at)
            .outerjoin(written_at, written_at.c.partner_id == failed_at.c.partner_id)
            .where(or_(written_at.c.at.is_(None), written_at.c.at < failed_at.c.at))
        )
        out: dict[str, str] = {}
        with self.ledger.session() as session:
            for partner_id, at in session.execute(query):
                cause = session.scalar(
                    select(Referral.decline_reason)
                    .where(
                        Referral.partner_id == partner_id,
                        Referral.state == FAILED,
                        Referral.decided_at == at,
                    )
                    .limit(1)
                )
                out[partner_id] = (cause or UNREACHABLE_PREFIX).removeprefix(UNREACHABLE_PREFIX)
        return out

    def slots_taken(self, since: datetime) -> dict[str, int]:
        """Per partner: referrals since `since` still open, and suggestions waiting (each holds a slot)."""
        with self.ledger.session() as session:
            return self._slots_taken(session, since, set())

    def directory_built_at(self) -> datetime | None:
        """When the last roster sync that wrote the partner directory completed its run (None: never)."""
        from coalition.roster.store import (
            SINCE,  # the watermark a sync moves only after every write
        )

        with self.ledger.session() as session:
            row = session.get(Watermark, SINCE)
        if row is None or not row.value:
            return None
        built = datetime.fromisoformat(row.value)
        return built if built.tzinfo else built.replace(tzinfo=UTC)

    def partners(self) -> list[dict[str, Any]]:
        """The partner directory as roster sync wrote it (organisation data only)."""
        columns = [c.name for c in Partner.__table__.columns]
        with self.ledger.session() as session:
            rows = session.scalars(select(Partner).order_by(Partner.member_id))
            return [{c: getattr(r, c) for c in columns} for r in rows]

    def last_attempt(self, intake_id: str) -> int:
        with self.ledger.session() as session:
            value = session.scalar(
                select(func.max(Referral.attempt)).where(Referral.intake_id == intake_id)
            )
            return int(value or 0)

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

    def _within_capacity(
        self, session: Session, writes: Sequence[IntakeWrite], limits: CapacityLimits | None
    ) -> tuple[list[IntakeWrite], list[str]]:
        """The writes that fit each partner's capacity as the ledger counts it now, and the ids held back."""
        if limits is None:
            return list(writes), []
        batch = {w.intake_id for w in writes}
        used = self._slots_taken(session, limits.since, batch)
        kept, held = [], []
        for write in writes:
            partner = write.partner_id or (
                write.suggested_partner if write.status in SUGGESTION_STATUSES else None
            )
            limit = limits.weekly.get(partner) if partner else None
            full = limit is not None and used.get(partner, 0) >= limit  # type: ignore[arg-type]
            if full and write.reason_code != STAFF_CHOICE:  # staff may send a case past capacity
                held.append(write.intake_id)
                continue
            if partner:
                used[partner] = used.get(partner, 0) + 1
            kept.append(write)
        return kept, held

    @staticmethod
    def _slots_taken(session: Session, since: datetime, batch: set[str]) -> dict[str, int]:
        """Referrals since `since` still open, and suggestions waiting, outside this batch, per partner."""
        taken: dict[str, int] = {}
        referrals = (
            select(Referral.partner_id, func.count())
            .where(Referral.created_at >= since, Referral.state.notin_(list(CLOSED_STATES)))
            .group_by(Referral.partner_id)
        )
        suggestions = select(IntakeRecord.intake_id, IntakeRecord.suggested_partner).where(
            IntakeRecord.status.in_(list(SUGGESTION_STATUSES)),
            IntakeRecord.suggested_partner.is_not(None),
        )
        for partner, n in session.execute(referrals):
            taken[partner] = taken.get(partner, 0) + int(n)
        for intake_id, partner in session.execute(suggestions):
            if intake_id not in batch:  # a suggestion this batch decides again holds no extra slot
                taken[partner] = taken.get(partner, 0) + 1
        return taken

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

    def _record_row(self, w: IntakeWrite, now: datetime) -> dict[str, Any]:
        return {
            "intake_id": w.intake_id,
            "row_hash": w.row_hash,
            "phone_key": w.phone_key,
            "email_key": w.email_key,
            "received_at": w.received_at,
            "status": w.status,
            "category": w.category,
            "urgent": w.urgent,
            "urgency": w.urgency,
            "place": w.place,
            "language": w.language,
            "reason_code": w.reason_code,
            "reason": w.reason,
            "duplicate_of": w.duplicate_of,
            "suggested_partner": w.suggested_partner,
            "current_referral": w.referral_id,
            "current_partner": w.partner_id,
            "routed_at": now if w.referral_id else None,
            "pending_notice": w.pending_notice,
            "evaluation": w.evaluation,
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
        routed = [w for w in writes if w.referral_id and w.partner_id]
        if routed:
            session.execute(
                insert(Referral),
                [
                    {
                        "referral_id": w.referral_id,
                        "intake_id": w.intake_id,
                        "attempt": w.attempt,
                        "partner_id": w.partner_id,
                        "state": CLAIMED,
                        "category": w.category,
                        "urgent": w.urgent,
                        "reason": w.reason,
                        "created_at": now,
                        "updated_at": now,
                    }
                    for w in routed
                ],
            )
            ids = [str(w.referral_id) for w in routed]
            self._events(session, ids, now, CLAIMED)
            leases.take(session, _keys(REFERRAL, ids), self.holder, now)
        self._add_notices(session, [n for w in writes for n in w.notices], now)

    def _add_notices(self, session: Session, notices: Iterable[NoticeState], now: datetime) -> None:
        insert_ignoring_conflicts(
            session,
            IntakeNotice,
            [
                {
                    "key": n.key,
                    "kind": n.kind,
                    "channel": n.channel,
                    "payload": n.payload,
                    "created_at": now,
                    "attempts": 0,
                }
                for n in notices
            ],
        )

    def add_notices(self, notices: Iterable[NoticeState], now: datetime) -> None:
        with self.ledger.session() as session:
            self._add_notices(session, list(notices), now)

    def adopt_stale_referrals(self, now: datetime) -> list[ReferralState]:
        """Take over referrals a dead or interrupted run left `claimed`; they need a look at the partner sheet."""
        with self.ledger.session() as session:
            claimed = list(
                session.scalars(select(Referral.referral_id).where(Referral.state == CLAIMED))
            )
            current = leases.holders(session, _keys(REFERRAL, claimed))
            free = [
                key
                for key in _keys(REFERRAL, claimed)
                if key not in current or current[key].lapsed(now)
            ]
            adopted = [leases.ident_of(k) for k in leases.take(session, free, self.holder, now)]
            found: list[ReferralState] = []
            for chunk in _chunks(adopted):
                rows = session.scalars(select(Referral).where(Referral.referral_id.in_(chunk)))
                found += [_referral(r) for r in rows]
            return found

    def reclaim_intakes(self, now: datetime) -> list[str]:
        """Take over intakes a dead run claimed (their lease lapsed): this run writes their Intake row."""
        return self.leases.reclaim_expired(INTAKE, self.holder, now)

    def reclaim_referrals(self, now: datetime) -> list[str]:
        """Take over the other referral leases that lapsed (past `claimed`: nothing to redo; released at the end)."""
        return self.leases.reclaim_expired(REFERRAL, self.holder, now)

    def held_elsewhere(self, intake_ids: Iterable[str], now: datetime) -> set[str]:
        """The intakes another run holds on a live lease (it writes their Intake row itself)."""
        with self.ledger.session() as session:
            current = leases.holders(session, _keys(INTAKE, intake_ids))
        return {
            leases.ident_of(k)
            for k, lease in current.items()
            if lease.owner != self.token and not lease.lapsed(now)
        }

    def held(self, now: datetime) -> list[HeldWork]:
        """Intakes, referrals and notices in another (live or dead) run's hands, by kind."""
        return self.leases.held(LEASED_KINDS, self.holder, now, self.holder.length)

    def renew(self, now: datetime) -> None:
        """Push back the expiry of everything this run holds (a step boundary: the run is alive)."""
        self.leases.renew(self.holder, now)

    def my_referrals(self, state: str) -> list[ReferralState]:
        with self.ledger.session() as session:
            ids = leases.owned(session, self.holder, REFERRAL)
            found: list[ReferralState] = []
            for chunk in _chunks(ids):
                rows = session.scalars(
                    select(Referral).where(Referral.referral_id.in_(chunk), Referral.state == state)
                )
                found += [_referral(r) for r in rows]
            return found

    # ------------------------------------------------------------ referral steps
    def mark_written(
        self, referral_ids: Sequence[str], now: datetime, notices: Iterable[NoticeState] = ()
    ) -> list[str]:
        """claimed -> written (ours only) and the intakes -> referred, with the partner notice, atomically."""
        moved: list[str] = []
        with self.ledger.session() as session:
            held = set(leases.owned(session, self.holder, REFERRAL))
            for chunk in _chunks([r for r in referral_ids if r in held]):
                # Leased to this run: no other run may move them, so a set-wise update is safe.
                mine = and_(Referral.referral_id.in_(chunk), Referral.state == CLAIMED)
                ids = list(session.scalars(select(Referral.referral_id).where(mine)))
                if not ids:
                    continue
                session.execute(
                    update(Referral)
                    .where(Referral.referral_id.in_(ids))
                    .values(state=WRITTEN, written_at=now, updated_at=now)
                )
                session.execute(
                    update(IntakeRecord)
                    .where(IntakeRecord.current_referral.in_(ids))
                    .values(status="referred", updated_at=now)
                )
                self._events(session, ids, now, WRITTEN)
                moved += ids
            if moved:
                self._add_notices(session, notices, now)
        return moved

    def _events(
        self,
        session: Session,
        referral_ids: Sequence[str],
        now: datetime,
        event: str,
        actor: str | None = None,
    ) -> None:
        session.execute(
            insert(ReferralEvent),
            [{"referral_id": r, "at": now, "event": event, "actor": actor} for r in referral_ids],
        )

    def mark_failed(self, referral_ids: Sequence[str], now: datetime, code: str) -> list[str]:
        """claimed -> failed (the partner sheet refused the write); the intake goes back to re-routing."""
        moved: list[str] = []
        with self.ledger.session() as session:
            for ref_id in referral_ids:
                result = session.execute(
                    update(Referral)
                    .where(Referral.referral_id == ref_id, Referral.state == CLAIMED)
                    .values(state=FAILED, decline_reason=code[:60], decided_at=now, updated_at=now)
                )
                if result.rowcount != 1:
                    continue
                moved.append(ref_id)
                session.add(ReferralEvent(referral_id=ref_id, at=now, event=FAILED, actor="bot"))
                intake_id = session.scalar(
                    select(Referral.intake_id).where(Referral.referral_id == ref_id)
                )
                session.execute(
                    update(IntakeRecord)
                    .where(
                        IntakeRecord.intake_id == intake_id, IntakeRecord.current_referral == ref_id
                    )
                    .values(
                        status="reroute", reason_code="partner_sheet_unavailable", updated_at=now
                    )
                )
        return moved

    def _mark_notified(
        self,
        session: Session,
        referral_ids: Sequence[str],
        now: datetime,
        channel: str,
        ts: str,
        key: str,
    ) -> None:
        for chunk in _chunks(list(referral_ids)):
            ids = list(
                session.scalars(
                    select(Referral.referral_id).where(
                        Referral.referral_id.in_(chunk), Referral.state == WRITTEN
                    )
                )
            )
            if not ids:
                continue
            session.execute(
                update(Referral)
                .where(Referral.referral_id.in_(ids), Referral.state == WRITTEN)
                .values(
                    state=NOTIFIED,
                    notified_at=now,
                    slack_channel=channel[:40],
                    slack_ts=ts,
                    notice_key=key[:200],
                    updated_at=now,
                )
            )
            self._events(session, ids, now, NOTIFIED)

    def decide(
        self, referral_id: str, accepted: bool, actor: str, reason: str | None, now: datetime
    ) -> bool:
        """written|notified -> accepted|declined; False if it was already decided (or never sent)."""
        state = ACCEPTED if accepted else DECLINED
        with self.ledger.session() as session:
            result = session.execute(
                update(Referral)
                .where(Referral.referral_id == referral_id, Referral.state.in_([WRITTEN, NOTIFIED]))
                .values(
                    state=state,
                    decided_at=now,
                    decided_by=actor[:40],
                    decline_reason=(reason or None) and reason[:60],
                    updated_at=now,
                )
            )
            if result.rowcount != 1:
                return False
            session.add(
                ReferralEvent(referral_id=referral_id, at=now, event=state, actor=actor[:40])
            )
            intake_id = session.scalar(
                select(Referral.intake_id).where(Referral.referral_id == referral_id)
            )
            session.execute(
                update(IntakeRecord)
                .where(
                    IntakeRecord.intake_id == intake_id,
                    IntakeRecord.current_referral == referral_id,
                )
                .values(status="accepted" if accepted else "reroute", updated_at=now)
            )
        return True

    def expire(self, referral_id: str, now: datetime) -> bool:
        """notified -> expired (the partner stayed silent past the deadline); the intake is re-routed."""
        with self.ledger.session() as session:
            result = session.execute(
                update(Referral)
                .where(Referral.referral_id == referral_id, Referral.state == NOTIFIED)
                .values(state=EXPIRED, decided_at=now, decided_by="bot", updated_at=now)
            )
            if result.rowcount != 1:
                return False
            session.add(ReferralEvent(referral_id=referral_id, at=now, event=EXPIRED, actor="bot"))
            intake_id = session.scalar(
                select(Referral.intake_id).where(Referral.referral_id == referral_id)
            )
            session.execute(
                update(IntakeRecord)
                .where(
                    IntakeRecord.intake_id == intake_id,
                    IntakeRecord.current_referral == referral_id,
                )
                .values(status="reroute", updated_at=now)
            )
        return True

    def mark_reminded(
        self, referral_ids: Sequence[str], now: datetime, notices: Iterable[NoticeState]
    ) -> list[str]:
        """Remember one reminder per referral (with the reminder notice), so it is never sent twice."""
        moved: list[str] = []
        with self.ledger.session() as session:
            for ref_id in referral_ids:
                result = session.execute(
                    update(Referral)
                    .where(
                        Referral.referral_id == ref_id,
                        Referral.state == NOTIFIED,
                        Referral.reminded_at.is_(None),
                    )
                    .values(reminded_at=now, updated_at=now)
                )
                if result.rowcount == 1:
                    moved.append(ref_id)
                    session.add(
                        ReferralEvent(referral_id=ref_id, at=now, event="reminded", actor="bot")
                    )
            if moved:
                self._add_notices(session, notices, now)
        return moved

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
                self._add_notices(session, notices, now)
        return moved

    # ------------------------------------------------------------ notices (outbox)
    def claim_notices(self, now: datetime, kinds: Iterable[str] | None = None) -> list[NoticeState]:
        """Unsent notices this run may send: free ones, its own, and any whose sender's lease lapsed."""
        condition = IntakeNotice.posted_at.is_(None)
        if kinds is not None:
            condition = and_(condition, IntakeNotice.kind.in_(list(kinds)))
        with self.ledger.session() as session:
            unsent = list(session.scalars(select(IntakeNotice.key).where(condition)))
            mine = leases.take(session, _keys(NOTICE, unsent), self.holder, now)
            keys = [leases.ident_of(k) for k in mine]
            found: list[NoticeState] = []
            for chunk in _chunks(keys):
                rows = session.scalars(
                    select(IntakeNotice).where(
                        IntakeNotice.key.in_(chunk), IntakeNotice.posted_at.is_(None)
                    )
                )
                found += [
                    NoticeState(r.key, r.kind, r.channel, dict(r.payload or {}), r.created_at)
                    for r in rows
                ]
            return sorted(found, key=lambda n: (n.created_at, n.key))

    def notice_posted(
        self,
        key: str,
        now: datetime,
        ts: str,
        channel: str = "",
        referral_ids: Sequence[str] = (),
    ) -> None:
        """The notice went out; the referrals it announced are `notified`, in the same transaction."""
        with self.ledger.session() as session:
            session.execute(
                update(IntakeNotice).where(IntakeNotice.key == key).values(posted_at=now, ts=ts)
            )
            leases.drop(session, [lease_key(NOTICE, key)])
            self._mark_notified(session, referral_ids, now, channel, ts, key)

    def notice_failed(self, key: str, error: str) -> None:
        with self.ledger.session() as session:
            session.execute(
                update(IntakeNotice)
                .where(IntakeNotice.key == key)
                .values(attempts=IntakeNotice.attempts + 1, last_error=error[:200])
            )
            leases.drop(session, [lease_key(NOTICE, key)], self.holder)

    def collect_staff_notices(
        self, build: Callable[[str, list[IntakeState]], list[NoticeState] | None], now: datetime
    ) -> int:
        """Turn intakes' pending staff messages into grouped notices, in one transaction (crash-safe).

        `build` returns None when it refuses a kind (the privacy guard): those intakes
        keep their pending message for the next run; the other kinds go ahead.
        """
        with self.ledger.session() as session:
            rows = list(
                session.scalars(
                    select(IntakeRecord)
                    .where(IntakeRecord.pending_notice.is_not(None))
                    .order_by(IntakeRecord.intake_id)
                    .with_for_update()
                )
            )
            by_kind: dict[str, list[IntakeRecord]] = {}
            for row in rows:
                by_kind.setdefault(row.pending_notice, []).append(row)  # type: ignore[arg-type]
            notices: list[NoticeState] = []
            for kind, kept in sorted(by_kind.items()):
                built = build(kind, [_snapshot(row) for row in kept])
                if built is None:
                    continue
                notices.extend(built)
                for row in kept:
                    row.pending_notice = None
            self._add_notices(session, notices, now)
            return len(notices)

    def unsent_notices(self) -> int:
        with self.ledger.session() as session:
            return int(
                session.scalar(select(func.count()).where(IntakeNotice.posted_at.is_(None))) or 0
            )

    # ------------------------------------------------------------ end of run
    def release(self) -> None:
        """Hand back this run's claims so the next run need not wait for the lease."""
        self.leases.release(self.holder)

    def events(self, referral_id: str) -> list[tuple[datetime, str, str | None]]:
        with self.ledger.session() as session:
            rows = session.execute(
                select(ReferralEvent.at, ReferralEvent.event, ReferralEvent.actor)
                .where(ReferralEvent.referral_id == referral_id)
                .order_by(ReferralEvent.id)
            )
            return [tuple(r) for r in rows]  # type: ignore[misc]


def snapshot_map(states: Mapping[str, IntakeState]) -> dict[str, str]:
    """Intake ID -> status, for reports."""
    return {k: v.status for k, v in states.items()}
