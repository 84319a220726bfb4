"""What a run does with each bill decision (pure): post, hold for quiet hours, record silently or report; in which thread; the ledger state it leaves.

`coalition.alerts.bills.decide` says what changed and which reminder is due. This
module turns that into the run's steps: the Slack posts in order (each under its
exactly-once key, the change key numbered by the ledger's change counter), the thread
they go into (the bill's thread, when it lives in the channel the bill now posts to),
the reminders still worth remembering (past hearings are pruned), and the bill's
ledger row as the run leaves it. The flow does the posting and the recording.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date
from enum import Enum

from coalition.alerts.bills import BillDecision, Known, Reminder, change_key, reminder_key


class Step(Enum):
    """The one thing a run does for a bill."""

    REPORT = "report"  # the record is unusable: report it (and write its Error field)
    NOTHING = "nothing"  # no message due; the new fingerprint may still be recorded
    HOLD = "hold"  # a message is due but quiet hours hold it until morning
    POST = "post"  # post the change alert and/or the hearing reminder


def step(decision: BillDecision, quiet: bool) -> Step:
    """Report, nothing to post, hold for quiet hours, or post."""
    if decision.error:
        return Step.REPORT
    if not (decision.alert or decision.reminder):
        return Step.NOTHING
    return Step.HOLD if quiet else Step.POST


def records_silently(decision: BillDecision, chosen: Step) -> bool:
    """Whether the bill's new fingerprint is recorded with no message this run.

    A held change keeps the old fingerprint, so the next run (after quiet hours) still
    sees the change; a held reminder with a silent fingerprint change records it.
    """
    if chosen is Step.NOTHING:
        return decision.record
    if chosen is Step.HOLD:
        return decision.record and not decision.alert
    return False


@dataclass(frozen=True)
class StateWrite:
    """A bill's ledger row as this run leaves it."""

    record_id: str
    bill: str
    fingerprint: str
    values: Mapping[str, str]
    changes: int
    channel: str | None
    thread_ts: str | None
    reminders_sent: tuple[str, ...]
    moved: bool


def silent_state(decision: BillDecision, known: Known | None) -> StateWrite:
    """The new fingerprint, recorded without a message (first sight, under review, nothing new)."""
    return StateWrite(
        decision.bill.record_id,
        decision.bill.bill,
        decision.fingerprint,
        dict(decision.values),
        known.changes if known else 0,
        known.channel if known else None,
        known.thread_ts if known else None,
        tuple(known.reminders_sent) if known else (),
        False,
    )


@dataclass(frozen=True)
class BillPost:
    """One message of a bill: its exactly-once key, and what it is."""

    key: str
    kind: str  # "change" (an alert of what moved) or "reminder" (a hearing is near)
    reminder: Reminder | None = None


@dataclass(frozen=True)
class BillPlan:
    """A bill's posts in order, the thread they start in, and the counters they leave."""

    decision: BillDecision
    channel: str
    thread_ts: str | None  # the bill's thread in this channel, or None: the first post starts one
    changes: int  # change alerts posted so far, this run's included
    reminders: tuple[str, ...]  # reminder tags still ahead, this run's included
    posts: tuple[BillPost, ...] = field(default=())

    def state(self, thread_ts: str | None) -> StateWrite:
        """The ledger row once the posts went out; `thread_ts`: the thread they ended in."""
        bill = self.decision.bill
        return StateWrite(
            bill.record_id,
            bill.bill,
            self.decision.fingerprint,
            dict(self.decision.values),
            self.changes,
            self.channel,
            thread_ts or None,
            self.reminders,
            self.decision.alert,
        )


def thread_for(known: Known | None, channel: str) -> str | None:
    """The bill's thread, if it lives in `channel` (a bill moved to another channel starts a new one)."""
    if known is None or known.channel != channel:
        return None
    return known.thread_ts or None


def pending_reminders(sent: tuple[str, ...], today: date) -> list[str]:
    """Reminder tags ("2026-12-03:1") whose hearing is today or later: older ones cannot recur."""
    return [tag for tag in sent if tag[:10] >= today.isoformat()]


def plan_posts(decision: BillDecision, known: Known | None, channel: str, today: date) -> BillPlan:
    """The posts of a bill due now: the change alert (numbered after the last), then the reminder."""
    bill = decision.bill
    changes = known.changes if known else 0
    reminders = pending_reminders(tuple(known.reminders_sent) if known else (), today)
    posts: list[BillPost] = []
    if decision.alert:
        changes += 1
        posts.append(BillPost(change_key(bill.record_id, changes), "change"))
    if decision.reminder is not None:
        key = reminder_key(bill.record_id, decision.reminder)
        posts.append(BillPost(key, "reminder", decision.reminder))
        reminders.append(decision.reminder.tag)
    return BillPlan(
        decision, channel, thread_for(known, channel), changes, tuple(reminders), tuple(posts)
    )


def error_update(current: str | None, problem: str | None) -> dict[str, str | None]:
    """The record's Error field to write: only when it changes (the same problem writes nothing)."""
    if (problem or "") == (current or ""):
        return {}
    return {"Error": problem}


__all__ = [
    "BillPlan",
    "BillPost",
    "StateWrite",
    "Step",
    "error_update",
    "pending_reminders",
    "plan_posts",
    "records_silently",
    "silent_state",
    "step",
    "thread_for",
]
