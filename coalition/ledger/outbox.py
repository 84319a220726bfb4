"""The notice outbox: Slack messages intake routing owes, recorded with the change that calls for them, sent once.

A decision and its notice commit in one transaction (coalition/ledger/routing_rows.py
adds the row); a run then claims the unsent notices on a lease, posts each, and
records it posted (with the referrals it announced, now `notified`) in one more
transaction. A notice whose sender died is taken over once its lease lapses. The
payload is ids, codes and labels only.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from datetime import datetime

from sqlalchemy import and_, func, select, update

from coalition.intake.models import Notice as NoticeState
from coalition.ledger import leases
from coalition.ledger.db import Ledger
from coalition.ledger.intakes import IntakeState
from coalition.ledger.intakes import snapshot as _snapshot
from coalition.ledger.leases import Holder, lease_key
from coalition.ledger.referrals import mark_notified
from coalition.ledger.routing_rows import DEFAULT_LEASE, NOTICE, add_notices
from coalition.ledger.routing_rows import chunks as _chunks
from coalition.ledger.routing_rows import keys as _keys
from coalition.ledger.tables.intake import IntakeNotice, IntakeRecord


class NoticeOutbox:
    """The outbox as a routing run sees it; each call one transaction."""

    def __init__(self, ledger: Ledger, holder: Holder | None = None) -> None:
        self.ledger = ledger
        self.holder = holder or Holder.new(DEFAULT_LEASE)

    # What the outbox does inside its transactions: queue notices, and mark the referrals
    # a posted notice announced.
    _add_notices = staticmethod(add_notices)
    _mark_notified = staticmethod(mark_notified)

    def add_notices(self, notices: Iterable[NoticeState], now: datetime) -> None:
        with self.ledger.session() as session:
            self._add_notices(session, list(notices), now)

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
