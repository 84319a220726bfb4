"""Each flow's last known health, so a failure streak is announced once and its end once (flows/health.py).

One row per flow: failing or ok, since when, and the Slack message that announced
the streak. Two runs failing at once settle who announces by a conditional UPDATE.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError

from coalition.ledger.db import Ledger, utcnow
from coalition.ledger.tables.common import FlowHealth

FAILING = "failing"
HEALTHY = "ok"
# A streak whose alert never went out (Slack failed too) is announced by a failure this much later.
RETRY_OWED_AFTER = timedelta(minutes=1)


@dataclass(frozen=True)
class Streak:
    """A failure streak: when it began and the alert that announced it (if any yet)."""

    since: datetime
    alert_ts: str | None = None


def mark_failing(ledger: Ledger, flow: str, now: datetime | None = None) -> Streak | None:
    """Record a failure; the streak still to be announced, or None if it already was."""
    now = now or utcnow()
    try:
        return _mark_failing(ledger, flow, now)
    except IntegrityError:
        # Another run of the same flow inserted the first row at the same moment.
        return _mark_failing(ledger, flow, now)


def _mark_failing(ledger: Ledger, flow: str, now: datetime) -> Streak | None:
    with ledger.session() as session:
        row = session.get(FlowHealth, flow)
        if row is None:
            session.add(FlowHealth(flow=flow, state=FAILING, failing_since=now))
            session.flush()
            return Streak(now)
        if row.state == FAILING:
            since = row.failing_since
            # Unannounced (Slack failed too): a later failure tries again, a simultaneous one not.
            owed = row.alert_ts is None and since is not None and now - since >= RETRY_OWED_AFTER
            return Streak(since) if owed else None
        # Conditional: of two runs failing at once, only one starts the streak.
        won = session.execute(
            update(FlowHealth)
            .where(FlowHealth.flow == flow, FlowHealth.state != FAILING)
            .values(state=FAILING, failing_since=now, alert_ts=None, updated_at=now)
        ).rowcount
        return Streak(now) if won else None


def record_alert(ledger: Ledger, flow: str, streak: Streak, ts: str) -> None:
    """Remember that this streak was announced (by the message at `ts`)."""
    with ledger.session() as session:
        session.execute(
            update(FlowHealth)
            .where(FlowHealth.flow == flow, FlowHealth.failing_since == streak.since)
            .values(alert_ts=ts, updated_at=utcnow())
        )


def mark_healthy(ledger: Ledger, flow: str, now: datetime | None = None) -> Streak | None:
    """Record a success; the streak it ends if that streak was announced, else None."""
    now = now or utcnow()
    with ledger.session() as session:
        row = session.get(FlowHealth, flow)
        if row is None:
            session.add(FlowHealth(flow=flow, state=HEALTHY, failing_since=None))
            return None
        if row.state != FAILING:
            return None
        streak = Streak(row.failing_since or now, row.alert_ts)
        won = session.execute(
            update(FlowHealth)
            .where(FlowHealth.flow == flow, FlowHealth.state == FAILING)
            .values(state=HEALTHY, failing_since=None, alert_ts=None, updated_at=now)
        ).rowcount
    # Nobody was told it broke (Slack was down too): a "recovered" would puzzle them.
    return streak if won and streak.alert_ts else None


def health_states(ledger: Ledger) -> dict[str, tuple[str, datetime | None]]:
    """Flow -> (failing or ok, when that was last recorded)."""
    with ledger.session() as session:
        return {
            row.flow: (row.state, row.updated_at) for row in session.scalars(select(FlowHealth))
        }
