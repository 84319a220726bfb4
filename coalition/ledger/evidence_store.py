"""What the Slack figures (`/coalition needs`, `/coalition outcomes`) read of the ledger: need and outcome facts."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import delete, insert

from coalition.ledger import summary_history
from coalition.ledger.db import Ledger
from coalition.ledger.tables.intake import IntakeRecord, Referral, ReferralEvent
from coalition.summary.need import NeedFact
from coalition.summary.outcomes import OutcomeFact


class EvidenceStore:
    """Ids, statuses, places and times of intakes and referrals: never a person's answers."""

    def __init__(self, ledger: Ledger) -> None:
        self.ledger = ledger

    def need_facts(self, start: datetime, end: datetime | None = None) -> list[NeedFact]:
        """Intakes received in [start, end), as the unmet-need figures see them."""
        with self.ledger.session() as session:
            return summary_history.need_facts(session, start, end)

    def outcome_facts(self, start: datetime) -> list[OutcomeFact]:
        """Referrals made since `start`, as the outcome figures see them."""
        with self.ledger.session() as session:
            return summary_history.outcome_facts(session, start)

    def replace_history(
        self, intakes: Sequence[Mapping[str, Any]], referrals: Sequence[Mapping[str, Any]]
    ) -> None:
        """Forget every intake and referral, then load these rows at once (the evidence bench's year)."""
        with self.ledger.session() as session:
            session.execute(delete(ReferralEvent))
            session.execute(delete(Referral))
            session.execute(delete(IntakeRecord))
            for table, rows in ((IntakeRecord, intakes), (Referral, referrals)):
                for start in range(0, len(rows), 5000):
                    session.execute(insert(table), list(rows[start : start + 5000]))


__all__ = ["EvidenceStore"]
