"""Ledger queries of the evidence figures (issue 20) that aggregate in SQL: a year of intakes in few rows.

Counting intakes received per week is a GROUP BY over a CASE of the weeks' UTC
bounds (portable: SQLite and PostgreSQL compare the stored UTC times alike), so
52,000 intakes come back as 52 counts; the placement check needs only the intakes
a partner accepted, each with its first acceptance (one row per intake).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import and_, case, func, select
from sqlalchemy.orm import Session

from coalition.ledger.tables.intake import IntakeRecord, Referral

DUPLICATE = "duplicate"


def received_per_week(session: Session, bounds: Sequence[datetime]) -> list[int]:
    """Intakes (duplicates aside) received in each [bounds[k], bounds[k+1]): len(bounds) - 1 counts."""
    if len(bounds) < 2:
        return []
    received = IntakeRecord.received_at
    bucket = case(
        *((received < bounds[k + 1], k) for k in range(len(bounds) - 1)),
        else_=-1,
    )
    query = (
        select(bucket, func.count())
        .where(received >= bounds[0], received < bounds[-1], IntakeRecord.status != DUPLICATE)
        .group_by(bucket)
    )
    counts = [0] * (len(bounds) - 1)
    for k, n in session.execute(query):
        if k is not None and 0 <= int(k) < len(counts):
            counts[int(k)] = int(n)
    return counts


def first_acceptances(
    session: Session, start: datetime, end: datetime
) -> list[tuple[datetime, datetime]]:
    """(received, first accepted) of each intake received in [start, end) that a partner accepted."""
    i, r = IntakeRecord, Referral
    query = (
        select(i.received_at, func.min(r.decided_at))
        .join(r, r.intake_id == i.intake_id)
        .where(
            and_(i.received_at >= start, i.received_at < end, i.status != DUPLICATE),
            r.state == "accepted",
            r.decided_at.is_not(None),
        )
        .group_by(i.intake_id, i.received_at)
    )
    return [(received, first) for received, first in session.execute(query)]


__all__ = ["first_acceptances", "received_per_week"]
