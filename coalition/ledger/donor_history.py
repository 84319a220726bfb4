"""The weekly summary's donor history and weekly giving totals in the ledger: keyed hashes, first-gift days, sums and counts; never a name or e-mail.

Each method is one transaction around the summary's ledger queries
(coalition/ledger/summary_history.py), so the flow never holds a session.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date

from coalition.ledger import summary_history as store
from coalition.ledger.db import Ledger
from coalition.summary.history import HistoryState


class DonorHistory:
    """Each donor's first gift ever (by keyed hash) and how far the history is complete."""

    def __init__(self, ledger: Ledger) -> None:
        self.ledger = ledger

    def state(self) -> HistoryState:
        """How far the history is complete (empty when there is none)."""
        with self.ledger.session() as session:
            return store.history_state(session)

    def fold(
        self, first_days: Mapping[str, date], rebuild: bool, after: HistoryState
    ) -> dict[str, date]:
        """Fold a listing's first-gift days in (a rebuild forgets the rest first); every read donor's first gift ever."""
        with self.ledger.session() as session:
            return store.update_history(session, first_days, rebuild, after)

    def record_weekly_giving(self, weeks: Mapping[str, tuple[int, int]]) -> None:
        """Each week's (raised in cents, gifts), for the dashboard's 52 weeks."""
        with self.ledger.session() as session:
            store.save_weekly_giving(session, weeks)


__all__ = ["DonorHistory"]
