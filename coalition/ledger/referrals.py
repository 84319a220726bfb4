"""Referrals: one intake proposed to one partner, and its state machine claimed -> written -> notified -> decided.

Every step is a conditional UPDATE ... WHERE state = <expected> whose row count says
who won, so two runs (or a run and a Slack click) never both move one referral. The
intake a referral belongs to follows it in the same transaction (referred, accepted,
re-route). A run holds the referrals it is delivering on a lease
(coalition/ledger/leases.py); a dead run's lapsed ones are taken over.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import and_, func, insert, or_, select, update
from sqlalchemy.orm import Session

from coalition.intake.capacity import SUGGESTION_STATUSES
from coalition.intake.models import Notice as NoticeState
from coalition.ledger import leases
from coalition.ledger.db import Ledger
from coalition.ledger.leases import Holder, LeaseStore
from coalition.ledger.routing_rows import DEFAULT_LEASE, REFERRAL, add_notices, chunks, keys
from coalition.ledger.tables.intake import IntakeRecord, Referral, ReferralEvent
from coalition.partner_sheets import UNREACHABLE_PREFIX

# Referral states
CLAIMED, WRITTEN, NOTIFIED = "claimed", "written", "notified"
ACCEPTED, DECLINED, EXPIRED, FAILED = "accepted", "declined", "expired", "failed"
PENDING_STATES = (CLAIMED, WRITTEN, NOTIFIED)
CLOSED_STATES = (DECLINED, EXPIRED, FAILED)  # the partner is out for this intake
STATES = (*PENDING_STATES, ACCEPTED, *CLOSED_STATES)


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
    notice_key: str | None = None  # the Slack message that announced it
    slack_channel: str | None = None
    slack_ts: str | None = None


def referral_state(row: Referral) -> ReferralState:
    return ReferralState(**{f: getattr(row, f) for f in ReferralState.__dataclass_fields__})


# ---------------------------------------------------------------- inside a caller's transaction
def record_events(
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


def add_claimed(session: Session, rows: Sequence[dict], holder: Holder, now: datetime) -> None:
    """New referrals, `claimed` and leased to `holder` (the unique (intake, attempt) pair settles races)."""
    if not rows:
        return
    session.execute(
        insert(Referral),
        [{**row, "state": CLAIMED, "created_at": now, "updated_at": now} for row in rows],
    )
    ids = [str(row["referral_id"]) for row in rows]
    record_events(session, ids, now, CLAIMED)
    leases.take(session, keys(REFERRAL, ids), holder, now)


def mark_notified(
    session: Session,
    referral_ids: Sequence[str],
    now: datetime,
    channel: str,
    ts: str,
    key: str,
) -> None:
    """written -> notified: the Slack notice that announced them went out (at `ts`, by its `key`)."""
    for chunk in chunks(list(referral_ids)):
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
        record_events(session, ids, now, NOTIFIED)


def slots_taken(session: Session, since: datetime, batch: set[str]) -> dict[str, int]:
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


def _intake_follows(session: Session, referral_id: str, now: datetime, **values: object) -> None:
    """The intake whose current referral this is moves with it (an older attempt moves nothing)."""
    intake_id = session.scalar(
        select(Referral.intake_id).where(Referral.referral_id == referral_id)
    )
    session.execute(
        update(IntakeRecord)
        .where(IntakeRecord.intake_id == intake_id, IntakeRecord.current_referral == referral_id)
        .values(**values, updated_at=now)
    )


# ---------------------------------------------------------------- the store
class ReferralStore:
    """Referrals as routing, follow-up and the Slack buttons see them; each call one transaction."""

    def __init__(self, ledger: Ledger, holder: Holder | None = None) -> None:
        self.ledger = ledger
        self.holder = holder or Holder.new(DEFAULT_LEASE)
        self.leases = LeaseStore(ledger)

    # ------------------------------------------------------------ reads
    def referrals_of(self, intake_ids: Iterable[str]) -> dict[str, list[ReferralState]]:
        wanted = sorted(set(intake_ids))
        found: dict[str, list[ReferralState]] = {}
        with self.ledger.session() as session:
            for chunk in chunks(wanted):
                rows = session.scalars(
                    select(Referral).where(Referral.intake_id.in_(chunk)).order_by(Referral.attempt)
                )
                for row in rows:
                    found.setdefault(row.intake_id, []).append(referral_state(row))
        return found

    def referral(self, referral_id: str) -> ReferralState | None:
        with self.ledger.session() as session:
            row = session.get(Referral, referral_id)
            return referral_state(row) if row else None

    def referrals_in(self, states: Iterable[str]) -> list[ReferralState]:
        with self.ledger.session() as session:
            rows = session.scalars(select(Referral).where(Referral.state.in_(list(states))))
            return [referral_state(r) for r in rows]

    def announced_waiting(self) -> list[ReferralState]:
        """Referrals announced by their own notice and still waiting for the partner."""
        with self.ledger.session() as session:
            rows = session.scalars(
                select(Referral)
                .where(Referral.state == NOTIFIED, Referral.notice_key.like("referral:%"))
                .order_by(Referral.referral_id)
            )
            return [referral_state(r) for r in rows]

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
            return slots_taken(session, since, set())

    def last_attempt(self, intake_id: str) -> int:
        with self.ledger.session() as session:
            value = session.scalar(
                select(func.max(Referral.attempt)).where(Referral.intake_id == intake_id)
            )
            return int(value or 0)

    def events(self, referral_id: str) -> list[tuple[datetime, str, str | None]]:
        with self.ledger.session() as session:
            rows = session.execute(
                select(ReferralEvent.at, ReferralEvent.event, ReferralEvent.actor)
                .where(ReferralEvent.referral_id == referral_id)
                .order_by(ReferralEvent.id)
            )
            return [tuple(r) for r in rows]  # type: ignore[misc]

    # ------------------------------------------------------------ a run's referrals
    def adopt_stale_referrals(self, now: datetime) -> list[ReferralState]:
        """Take over referrals a dead or interrupted run left `claimed`; they need a look at the partner sheet."""
        with self.ledger.session() as session:
            claimed = list(
                session.scalars(select(Referral.referral_id).where(Referral.state == CLAIMED))
            )
            current = leases.holders(session, keys(REFERRAL, claimed))
            free = [
                key
                for key in keys(REFERRAL, claimed)
                if key not in current or current[key].lapsed(now)
            ]
            adopted = [leases.ident_of(k) for k in leases.take(session, free, self.holder, now)]
            found: list[ReferralState] = []
            for chunk in chunks(adopted):
                rows = session.scalars(select(Referral).where(Referral.referral_id.in_(chunk)))
                found += [referral_state(r) for r in rows]
            return found

    def reclaim_referrals(self, now: datetime) -> list[str]:
        """Take over the other referral leases that lapsed (past `claimed`: nothing to redo; released at the end)."""
        return self.leases.reclaim_expired(REFERRAL, self.holder, now)

    def my_referrals(self, state: str) -> list[ReferralState]:
        with self.ledger.session() as session:
            ids = leases.owned(session, self.holder, REFERRAL)
            found: list[ReferralState] = []
            for chunk in chunks(ids):
                rows = session.scalars(
                    select(Referral).where(Referral.referral_id.in_(chunk), Referral.state == state)
                )
                found += [referral_state(r) for r in rows]
            return found

    # ------------------------------------------------------------ steps
    def mark_written(
        self, referral_ids: Sequence[str], now: datetime, notices: Iterable[NoticeState] = ()
    ) -> list[str]:
        """claimed -> written (ours only) and the intakes -> referred, with the partner notice, atomically."""
        moved: list[str] = []
        with self.ledger.session() as session:
            held = set(leases.owned(session, self.holder, REFERRAL))
            for chunk in chunks([r for r in referral_ids if r in held]):
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
                record_events(session, ids, now, WRITTEN)
                moved += ids
            if moved:
                add_notices(session, notices, now)
        return moved

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
                _intake_follows(
                    session, ref_id, now, status="reroute", reason_code="partner_sheet_unavailable"
                )
        return moved

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
            _intake_follows(session, referral_id, now, status="accepted" if accepted else "reroute")
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
            _intake_follows(session, referral_id, now, status="reroute")
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
                add_notices(session, notices, now)
        return moved

    def backdate(self, at: datetime) -> None:
        """Every referral made, written and announced at `at` (the bench ages them past a deadline)."""
        with self.ledger.session() as session:
            session.execute(update(Referral).values(created_at=at, written_at=at, notified_at=at))
