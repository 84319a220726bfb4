"""The audit trail of the Slack app: who (a Slack user id) did what, on which id, and whether it was allowed.

Never message text: an action name, a target id, and a refusal's reason code.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select

from coalition.ledger.db import Ledger
from coalition.ledger.tables.common import AuditEntry


@dataclass(frozen=True)
class AuditLine:
    """One entry of the trail, as recorded."""

    id: int
    at: datetime
    actor: str
    role: str
    action: str
    target: str | None
    allowed: bool
    detail: dict | None


def record_audit(
    ledger: Ledger,
    actor: str,
    role: str,
    action: str,
    target: str | None,
    allowed: bool,
    reason: str | None = None,
) -> None:
    """One line of the audit trail: who, what, on which id, allowed or not. Never message text."""
    with ledger.session() as session:
        session.add(
            AuditEntry(
                actor=actor[:40],
                role=role[:20],
                action=action[:60],
                target=(target or None) and target[:80],
                allowed=allowed,
                detail={"reason": reason} if reason else None,
            )
        )


def audit_entries(ledger: Ledger) -> list[AuditLine]:
    """The whole trail, oldest first."""
    with ledger.session() as session:
        return [
            AuditLine(e.id, e.at, e.actor, e.role, e.action, e.target, e.allowed, e.detail)
            for e in session.scalars(select(AuditEntry).order_by(AuditEntry.id))
        ]
