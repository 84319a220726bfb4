"""The weekly summary's memory of its documents (one Google Doc and one Slack message per ISO week) and its reads of the other flows' ledger rows.

Each method is one transaction around the summary's ledger queries
(coalition/ledger/summary_history.py); a document row is handed out as a plain snapshot.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from coalition.ledger import summary_history as store
from coalition.ledger.db import Ledger
from coalition.ledger.summary_history import EvidenceFacts, LedgerFacts


@dataclass(frozen=True)
class DocumentRow:
    """The week's document as last written: its id, the content's hash and the revision right after."""

    week: str
    document_id: str
    content_hash: str | None
    revision_id: str | None


class SummaryDocuments:
    """Where each week's summary lives, and the aggregate facts it is made of."""

    def __init__(self, ledger: Ledger) -> None:
        self.ledger = ledger

    def row(self, week: str) -> DocumentRow | None:
        with self.ledger.session() as session:
            found = store.document_row(session, week)
            if found is None:
                return None
            return DocumentRow(week, found.document_id, found.content_hash, found.revision_id)

    def save(self, week: str, url_of: Callable[[str], str], **values: Any) -> None:
        """Set fields of the week's row (document_id, content_hash, revision_id, slack_*), creating it."""
        with self.ledger.session() as session:
            store.save_document(session, week, url_of, **values)

    def week_facts(self, start: datetime, end: datetime) -> LedgerFacts:
        """Intake, referral, roster and alert rows around the week (ids, statuses, times)."""
        with self.ledger.session() as session:
            return store.ledger_facts(session, start, end)

    def evidence(self, start: datetime, bounds: Sequence[datetime] = ()) -> EvidenceFacts:
        """Intakes and referrals since `start`, partner names, recorded weekly giving.

        With the weeks' `bounds`, placement is counted in SQL and only waitlisted intakes are read.
        """
        with self.ledger.session() as session:
            return store.evidence_facts(session, start, bounds)


__all__ = ["DocumentRow", "EvidenceFacts", "LedgerFacts", "SummaryDocuments"]
