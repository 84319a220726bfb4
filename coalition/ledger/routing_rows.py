"""What the intake, referral and outbox stores share inside one transaction.

The lease kinds a routing run holds, ids cut into IN (...) sized chunks, and the
outbox's INSERT: a decision and the Slack notice it calls for commit together, so
the stores that record decisions add their notices here rather than through the
outbox store (which sits above them).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime, timedelta

from sqlalchemy.orm import Session

from coalition.intake.models import Notice as NoticeState
from coalition.ledger.db import insert_ignoring_conflicts
from coalition.ledger.leases import lease_key
from coalition.ledger.tables.intake import IntakeNotice

DEFAULT_LEASE = timedelta(minutes=5)  # callers pass the configured length (Settings.lease_length)
# What a routing run holds on a lease while it works on it.
INTAKE, REFERRAL, NOTICE = "intake", "referral", "notice"
LEASED_KINDS = (INTAKE, REFERRAL, NOTICE)
CHUNK = 500  # ids per IN (...) clause


def chunks(items: Sequence[str]) -> Iterable[Sequence[str]]:
    for start in range(0, len(items), CHUNK):
        yield items[start : start + CHUNK]


def keys(kind: str, ids: Iterable[str]) -> list[str]:
    return [lease_key(kind, i) for i in ids]


def add_notices(session: Session, notices: Iterable[NoticeState], now: datetime) -> None:
    """Queue notices in the outbox (a key already queued stays as it is)."""
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
