"""Leases: every claim the bot makes has an owner and an expiry, and this module is their one SQL home.

A run (or a Slack click) claims work by key (`intake:I-...`, `referral:R-...`,
`notice:<key>`, `run:alerts`, `campaign-approved:rec...`). A claim is free to take
when nobody holds it, when its owner already holds it (a renewal), or when its
expiry has passed (its owner died or hung: the work is taken over). Runs renew
their leases at every step and release them at the end, so a lease only lapses
when its run stopped. A claim with no expiry is held for good (`claim_once`).

Races are settled by the database on SQLite and PostgreSQL alike: a new claim is an
INSERT ... ON CONFLICT DO NOTHING, a take-over a conditional UPDATE ... WHERE
until <= now, and whoever's owner is in the row afterwards holds it.
"""

from __future__ import annotations

import secrets
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import delete, select, text, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from coalition.ledger.db import Ledger, insert_ignoring_conflicts
from coalition.ledger.tables.common import LeaseRecord

CHUNK = 500  # keys per IN (...) clause
LEASE_LOCK = 7_361_043  # PostgreSQL advisory lock that orders lease changes (any fixed number)


def lease_key(kind: str, ident: str) -> str:
    return f"{kind}:{ident}"[:200]


def ident_of(key: str) -> str:
    return key.split(":", 1)[1]


@dataclass(frozen=True)
class Holder:
    """Who claims (a run's token) and how long each claim lasts unless renewed."""

    owner: str
    length: timedelta

    @classmethod
    def new(cls, length: timedelta, owner: str | None = None) -> Holder:
        """A holder named `owner` (a Prefect flow run's id, so a run marked Crashed can be
        matched to its leases) or a fresh random token."""
        return cls(owner or secrets.token_hex(8), length)

    def until(self, now: datetime) -> datetime:
        return now + self.length


@dataclass(frozen=True)
class Lease:
    """One claim as the ledger holds it."""

    key: str
    kind: str
    owner: str
    since: datetime
    until: datetime | None  # None: held for good

    def lapsed(self, now: datetime) -> bool:
        return self.until is not None and self.until <= now


@dataclass(frozen=True)
class HeldWork:
    """Work of one kind a run found in another run's hands (ids never leave the ledger)."""

    kind: str
    count: int
    since: datetime  # when the oldest of it was claimed
    takeover: datetime  # when the last of it may be taken over, unless its owner renews
    overdue: bool  # held for more than twice the lease: its owner is stuck, someone must look


def _lease(row: LeaseRecord) -> Lease:
    return Lease(row.key, row.kind, row.owner, row.since, row.until)


def _chunks(items: Sequence[str]) -> Iterable[Sequence[str]]:
    for start in range(0, len(items), CHUNK):
        yield items[start : start + CHUNK]


def _serialise(session: Session) -> None:
    """One lease change at a time on PostgreSQL, so two runs taking overlapping keys cannot deadlock.

    SQLite's BEGIN IMMEDIATE already serialises every writing transaction.
    """
    if session.get_bind().dialect.name == "postgresql":
        session.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": LEASE_LOCK})


# ---------------------------------------------------------------- inside a caller's transaction
def take(session: Session, keys: Iterable[str], holder: Holder, now: datetime) -> set[str]:
    """Claim `keys` for `holder`: free ones, its own (renewed) and lapsed ones. The keys it holds now."""
    wanted = sorted(set(keys))
    if not wanted:
        return set()
    _serialise(session)
    until = holder.until(now)
    mine: set[str] = set()
    for chunk in _chunks(wanted):
        insert_ignoring_conflicts(
            session,
            LeaseRecord,
            [
                {
                    "key": k,
                    "kind": k.split(":", 1)[0],
                    "owner": holder.owner,
                    "since": now,
                    "until": until,
                }
                for k in chunk
            ],
        )
        session.execute(
            update(LeaseRecord)
            .where(
                LeaseRecord.key.in_(chunk),
                LeaseRecord.owner != holder.owner,
                LeaseRecord.until.is_not(None),
                LeaseRecord.until <= now,
            )
            .values(owner=holder.owner, since=now, until=until)
        )
        session.execute(
            update(LeaseRecord)
            .where(LeaseRecord.key.in_(chunk), LeaseRecord.owner == holder.owner)
            .values(until=until)
        )
        mine.update(
            session.scalars(
                select(LeaseRecord.key).where(
                    LeaseRecord.key.in_(chunk), LeaseRecord.owner == holder.owner
                )
            )
        )
    return mine


def owned(session: Session, holder: Holder, kind: str) -> list[str]:
    """The ids of `kind` this holder holds."""
    rows = session.scalars(
        select(LeaseRecord.key).where(LeaseRecord.kind == kind, LeaseRecord.owner == holder.owner)
    )
    return [ident_of(k) for k in rows]


def holders(session: Session, keys: Iterable[str]) -> dict[str, Lease]:
    """The current lease of each key that has one."""
    found: dict[str, Lease] = {}
    for chunk in _chunks(sorted(set(keys))):
        rows = session.scalars(select(LeaseRecord).where(LeaseRecord.key.in_(chunk)))
        found.update({r.key: _lease(r) for r in rows})
    return found


def drop(session: Session, keys: Iterable[str], holder: Holder | None = None) -> int:
    """Release `keys` (only `holder`'s, when given): the work is done or handed back."""
    dropped = 0
    for chunk in _chunks(sorted(set(keys))):
        query = delete(LeaseRecord).where(LeaseRecord.key.in_(chunk))
        if holder is not None:
            query = query.where(LeaseRecord.owner == holder.owner)
        dropped += session.execute(query).rowcount or 0
    return dropped


def lapsed(session: Session, kind: str, now: datetime) -> list[str]:
    """Ids of `kind` whose lease has lapsed (their run died or hung)."""
    rows = session.scalars(
        select(LeaseRecord.key).where(
            LeaseRecord.kind == kind, LeaseRecord.until.is_not(None), LeaseRecord.until <= now
        )
    )
    return [ident_of(k) for k in rows]


# ---------------------------------------------------------------- the store
class LeaseStore:
    """Claims on one ledger, each call one transaction."""

    def __init__(self, ledger: Ledger) -> None:
        self.ledger = ledger

    def claim(self, key: str, holder: Holder, now: datetime) -> Lease:
        """Try to claim `key`; the lease as it stands afterwards (its owner says who won)."""
        with self.ledger.session() as session:
            take(session, [key], holder, now)
            return holders(session, [key])[key]

    def claim_many(self, keys: Iterable[str], holder: Holder, now: datetime) -> set[str]:
        with self.ledger.session() as session:
            return take(session, keys, holder, now)

    def renew(self, holder: Holder, now: datetime) -> int:
        """Push back the expiry of everything `holder` holds (a run does it at every step)."""
        with self.ledger.session() as session:
            _serialise(session)
            result = session.execute(
                update(LeaseRecord)
                .where(LeaseRecord.owner == holder.owner, LeaseRecord.until.is_not(None))
                .values(until=holder.until(now))
            )
            return result.rowcount or 0

    def release(self, holder: Holder, keys: Iterable[str] | None = None) -> int:
        """Hand back `keys`, or everything `holder` holds with an expiry."""
        with self.ledger.session() as session:
            _serialise(session)
            if keys is not None:
                return drop(session, keys, holder)
            result = session.execute(
                delete(LeaseRecord).where(
                    LeaseRecord.owner == holder.owner, LeaseRecord.until.is_not(None)
                )
            )
            return result.rowcount or 0

    def owners(self) -> list[str]:
        """Who holds leases with an expiry now (runs' owner tokens)."""
        with self.ledger.session() as session:
            rows = session.scalars(
                select(LeaseRecord.owner).where(LeaseRecord.until.is_not(None)).distinct()
            )
            return sorted(rows)

    def lapse_owners(self, owners: Iterable[str], now: datetime) -> int:
        """Let every lease these owners hold lapse now (their runs are known dead): the next run
        takes their work over at once, as it would after the expiry."""
        wanted = sorted(set(owners))
        if not wanted:
            return 0
        with self.ledger.session() as session:
            _serialise(session)
            result = session.execute(
                update(LeaseRecord)
                .where(
                    LeaseRecord.owner.in_(wanted),
                    LeaseRecord.until.is_not(None),
                    LeaseRecord.until > now,
                )
                .values(until=now)
            )
            return result.rowcount or 0

    def reclaim_expired(self, kind: str, holder: Holder, now: datetime) -> list[str]:
        """Take over every lapsed lease of `kind`; the ids now held by `holder`."""
        with self.ledger.session() as session:
            keys = [lease_key(kind, i) for i in lapsed(session, kind, now)]
            return sorted(ident_of(k) for k in take(session, keys, holder, now))

    def held(
        self, kinds: Iterable[str], holder: Holder | None, now: datetime, length: timedelta
    ) -> list[HeldWork]:
        """Work of `kinds` held by anyone but `holder`, by kind: how much, since when, taken over when.

        Overdue is work whose holder is alive (its lease is live, it keeps renewing) yet has
        held it for more than twice the lease: a run that hangs. A dead run's lapsed lease is
        not overdue: the next run takes its work over.
        """
        query = select(LeaseRecord.kind, LeaseRecord.since, LeaseRecord.until).where(
            LeaseRecord.kind.in_(list(kinds)), LeaseRecord.until.is_not(None)
        )
        if holder is not None:
            query = query.where(LeaseRecord.owner != holder.owner)
        with self.ledger.session() as session:
            rows = list(session.execute(query))
        by_kind: dict[str, list[tuple[datetime, datetime]]] = {}
        for kind, since, until in rows:
            by_kind.setdefault(kind, []).append((since, until))
        return [
            HeldWork(
                kind,
                len(spans),
                min(since for since, _ in spans),
                max(until for _, until in spans),
                any(until > now and now - since > 2 * length for since, until in spans),
            )
            for kind, spans in sorted(by_kind.items())
        ]

    def lease(self, key: str) -> Lease | None:
        with self.ledger.session() as session:
            return holders(session, [key]).get(key)

    def outstanding(self) -> list[Lease]:
        """Every lease with an expiry still in the ledger (after clean runs: none)."""
        with self.ledger.session() as session:
            rows = session.scalars(
                select(LeaseRecord).where(LeaseRecord.until.is_not(None)).order_by(LeaseRecord.key)
            )
            return [_lease(r) for r in rows]

    # ------------------------------------------------------------ claims for good
    def claim_once(self, key: str, owner: str, now: datetime) -> Lease | None:
        """Claim `key` for good; None if this call won, else the lease of whoever claimed it first."""
        row = {"key": key[:200], "kind": key.split(":", 1)[0], "owner": owner[:80]}
        try:
            with self.ledger.session() as session:
                session.add(LeaseRecord(**row, since=now, until=None))
        except IntegrityError:
            return self.lease(key[:200])
        return None

    def unclaim(self, key: str) -> None:
        """Forget a claim for good (the decision did not go through)."""
        with self.ledger.session() as session:
            drop(session, [key])
