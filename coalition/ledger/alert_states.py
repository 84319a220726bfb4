"""What the alerts flow remembers: each bill's last fingerprint, thread and reminders; where each Open States poll resumes; which campaign messages are live.

Bills are kept by their public legislative fields only (status, last action, dates),
with the Slack channel and thread their alerts went to; watermarks are Open States'
`updated_at` positions; campaign messages are read from the posted-messages table by
their key (`campaign:<record id>:<channel id>`). Each method is one transaction.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence

from sqlalchemy import select

from coalition.alerts.bill_posts import StateWrite
from coalition.alerts.bills import Known
from coalition.ledger.db import Ledger, utcnow
from coalition.ledger.tables.alerts import BillState, PostedMessage
from coalition.ledger.tables.common import Watermark

CHUNK = 500  # ids per IN (...) clause
BILL_LABEL_LENGTH = 100  # the bill_state.bill column


class AlertStates:
    """The alerts flow's memory in the ledger."""

    def __init__(self, ledger: Ledger) -> None:
        self.ledger = ledger

    # ------------------------------------------------------------ bills
    def bills(self, record_ids: Iterable[str]) -> dict[str, Known]:
        """What the ledger knows of these bills (fingerprint, values, counters, thread), by record id."""
        ids = list(dict.fromkeys(record_ids))
        known: dict[str, Known] = {}
        with self.ledger.session() as session:
            for start in range(0, len(ids), CHUNK):
                chunk = ids[start : start + CHUNK]
                for row in session.scalars(select(BillState).where(BillState.record_id.in_(chunk))):
                    known[row.record_id] = Known(
                        fingerprint=row.fingerprint,
                        values=dict(row.fields or {}),
                        changes=row.changes or 0,
                        channel=row.channel,
                        thread_ts=row.thread_ts,
                        reminders_sent=tuple(row.reminders_sent or ()),
                    )
        return known

    def record_bills(self, states: Sequence[StateWrite]) -> None:
        """Each bill's new fingerprint, thread and reminders, in one transaction.

        Recording after posting is safe: every key the run posted under was derived from
        the state before it, so a crash before this point reposts nothing on the rerun.
        """
        if not states:
            return
        now = utcnow()
        with self.ledger.session() as session:
            for state in states:
                row = session.get(BillState, state.record_id)
                if row is None:
                    row = BillState(record_id=state.record_id)
                    session.add(row)
                row.bill = state.bill[:BILL_LABEL_LENGTH]
                row.fingerprint = state.fingerprint
                row.fields = dict(state.values)
                row.changes = state.changes
                row.channel = state.channel
                row.thread_ts = state.thread_ts
                row.reminders_sent = list(state.reminders_sent)
                if state.moved:
                    row.moved_at = now

    # ------------------------------------------------------------ Open States watermarks
    def watermarks(self, keys: Iterable[str]) -> dict[str, str]:
        """Where each poll target resumes (missing: never polled)."""
        wanted = list(keys)
        if not wanted:
            return {}
        with self.ledger.session() as session:
            rows = session.scalars(select(Watermark).where(Watermark.key.in_(wanted))).all()
            return {row.key: row.value for row in rows}

    def save_watermarks(self, marks: Mapping[str, str]) -> None:
        """Move each target's watermark (saved only once its updates are in Airtable)."""
        if not marks:
            return
        with self.ledger.session() as session:
            for key, value in marks.items():
                row = session.get(Watermark, key)
                if row is None:
                    session.add(Watermark(key=key, value=value))
                else:
                    row.value = value

    # ------------------------------------------------------------ campaign messages
    def campaign_messages(self) -> dict[str, list[tuple[str, str]]]:
        """(key, channel id) of every live campaign message, by campaign record id."""
        found: dict[str, list[tuple[str, str]]] = defaultdict(list)
        with self.ledger.session() as session:
            rows = session.execute(
                select(PostedMessage.key, PostedMessage.channel).where(
                    PostedMessage.key.like("campaign:%"), PostedMessage.state != "deleted"
                )
            ).all()
        for key, channel in rows:
            found[key.split(":")[1]].append((key, channel))
        return dict(found)


__all__ = ["AlertStates"]
