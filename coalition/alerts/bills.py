"""Bill decisions (pure): fingerprints, what changed, how the change is worded, and hearing reminders.

The ledger keeps each bill's fingerprint: its Status, Last action, Last action date and
Next hearing. When the fingerprint a run reads differs from the ledger's, one alert
says what changed ("Status: In committee -> Passed House"), worded by the coalition's
Position (Support / Oppose / Watch); the first alert of a bill starts a thread and
later ones go into it. A bill that flips back and forth gets one alert per observed
change, each under its own key (the ledger's change counter), so none is posted twice.

First sight (no fingerprint in the ledger, e.g. the day the bot is installed): the
fingerprint is recorded without an alert, so installing the bot does not flood the
channels with every tracked bill, unless the record's Last action date is within the
last 7 days (FIRST_SIGHT_DAYS, today included): a bill that moved this week is news
either way, so it gets one alert showing where it stands. When the Open States
poller is what moved a first-seen bill, the record's values before the poll are the
baseline and the alert shows the change.

A bill without a Position is awaiting review (the poller adds new matches that way):
its fingerprint is recorded silently and it gets no alerts or reminders until staff
choose a Position.

Hearing reminders go out 3 days and 1 day before Next hearing (config
`hearing_reminder_days`), each once per hearing date. A run that missed a day sends
only the nearest one that still applies (never a "3 days" reminder after the
"1 day" one); a hearing today or in the past gets none; a moved hearing gets its own.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from coalition.settings import BillFields

DESIGN_NAMES = BillFields()  # config/fields.yaml airtable.bills.fields overrides them
FIELDS = tuple(DESIGN_NAMES.all())
# The tracked fields by their design names: the ledger's fingerprints and alert lines
# use these labels whatever the workspace calls the fields.
TRACKED = ("Status", "Last action", "Last action date", "Next hearing")
POSITIONS = ("Support", "Oppose", "Watch")
FIRST_SIGHT_DAYS = 7
NONE_SHOWN = "(none)"
_ISO_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")

HEADLINES = {
    "Support": "{label} moved: a bill we support",
    "Oppose": "{label} moved: a bill we oppose",
    "Watch": "{label} changed: a bill we are watching",
}
FIRST_SIGHT_HEADLINES = {
    "Support": "{label}: now tracking a bill we support",
    "Oppose": "{label}: now tracking a bill we oppose",
    "Watch": "{label}: now watching this bill",
}
NEXT_STEPS = {
    "Support": "We support this bill: watch for calls to action to help it pass.",
    "Oppose": "We oppose this bill: watch for calls to action to stop it.",
    "Watch": "We are watching this bill: no action is needed yet.",
}
STANCES = {
    "Support": "a bill we support",
    "Oppose": "a bill we oppose",
    "Watch": "a bill we are watching",
}


@dataclass(frozen=True)
class Bill:
    """One `Bills` record (public legislative data)."""

    record_id: str
    bill: str = ""
    jurisdiction: str = ""
    title: str = ""
    position: str = ""
    status: str = ""
    last_action: str = ""
    last_action_date: str = ""
    next_hearing: str = ""
    source_url: str = ""
    channel: str = ""
    error: str = ""

    @property
    def label(self) -> str:
        """How people name the bill: "Texas HB 2417"."""
        return f"{self.jurisdiction} {self.bill}".strip()


@dataclass(frozen=True)
class Known:
    """What the ledger knows of a bill."""

    fingerprint: str
    values: Mapping[str, str]
    changes: int = 0
    channel: str | None = None
    thread_ts: str | None = None
    reminders_sent: tuple[str, ...] = ()


@dataclass(frozen=True)
class Change:
    """One tracked field that changed (`before` None: first sight, nothing to compare with)."""

    field: str
    before: str | None
    after: str

    def line(self) -> str:
        after = self.after or NONE_SHOWN
        if self.before is None:
            return f"{self.field}: {after}"
        return f"{self.field}: {self.before or NONE_SHOWN} -> {after}"


@dataclass(frozen=True)
class Reminder:
    """A hearing reminder due now: `offset` is the configured lead (3 or 1), `days` the real one."""

    hearing: date
    offset: int
    days: int

    @property
    def tag(self) -> str:
        return f"{self.hearing.isoformat()}:{self.offset}"


@dataclass(frozen=True)
class BillDecision:
    """What a run does for one bill: alert (with its changes), remind, record the fingerprint."""

    bill: Bill
    values: Mapping[str, str] = field(default_factory=dict)
    fingerprint: str = ""
    changes: tuple[Change, ...] = ()
    first_sight: bool = False
    reminder: Reminder | None = None
    record: bool = False
    error: str = ""

    @property
    def alert(self) -> bool:
        return bool(self.changes)


# ---------------------------------------------------------------- reading records
def _text(fields: Mapping[str, Any], name: str) -> str:
    value = fields.get(name)
    if isinstance(value, list):  # a lookup or multiple select, in another base's schema
        value = ", ".join(str(v) for v in value)
    return str(value).strip() if value is not None and value is not False else ""


def parse_bill(record: Mapping[str, Any], names: BillFields = DESIGN_NAMES) -> Bill:
    """A Bill from an Airtable record ({"id", "fields"}) read under `names`; missing fields are empty."""
    fields = record.get("fields") or {}
    return Bill(
        record_id=str(record["id"]),
        bill=_text(fields, names.bill),
        jurisdiction=_text(fields, names.jurisdiction),
        title=_text(fields, names.title),
        position=_text(fields, names.position),
        status=_text(fields, names.status),
        last_action=_text(fields, names.last_action),
        last_action_date=_text(fields, names.last_action_date),
        next_hearing=_text(fields, names.next_hearing),
        source_url=_text(fields, names.source_url),
        channel=_text(fields, names.channel).lstrip("#"),
        error=_text(fields, names.error),
    )


def parse_date(value: str) -> date | None:
    if not value or not _ISO_DATE.match(value):
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        return None


def problems(bill: Bill) -> str:
    """Why a record cannot be tracked, in words for policy staff; "" when it can."""
    found: list[str] = []
    if not bill.bill:
        found.append("Bill is empty: give the bill's number (e.g. HB 12)")
    if bill.position and bill.position not in POSITIONS:
        found.append("Position must be Support, Oppose or Watch")
    for name, value in (
        ("Last action date", bill.last_action_date),
        ("Next hearing", bill.next_hearing),
    ):
        if value and parse_date(value) is None:
            found.append(f"{name} is not a date (YYYY-MM-DD)")
    return "; ".join(found)


def bill_channel(bill: Bill, default: str) -> str:
    return bill.channel or default.lstrip("#")


# ---------------------------------------------------------------- fingerprints and changes
def tracked_values(bill: Bill) -> dict[str, str]:
    return {
        "Status": bill.status,
        "Last action": bill.last_action,
        "Last action date": bill.last_action_date,
        "Next hearing": bill.next_hearing,
    }


def fingerprint(values: Mapping[str, str]) -> str:
    canonical = json.dumps({k: values.get(k, "") for k in TRACKED}, ensure_ascii=False)
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


def changes_between(
    before: Mapping[str, str] | None, after: Mapping[str, str]
) -> tuple[Change, ...]:
    """The tracked fields that differ, in a fixed order; with no `before`, every field that has a value."""
    if before is None:
        return tuple(Change(name, None, after.get(name, "")) for name in TRACKED if after.get(name))
    return tuple(
        Change(name, before.get(name, ""), after.get(name, ""))
        for name in TRACKED
        if before.get(name, "") != after.get(name, "")
    )


def is_recent(bill: Bill, today: date, days: int = FIRST_SIGHT_DAYS) -> bool:
    """The bill's last action is at most `days` old (and not in the future)."""
    acted = parse_date(bill.last_action_date)
    return acted is not None and 0 <= (today - acted).days <= days


# ---------------------------------------------------------------- reminders
def due_reminder(
    next_hearing: date | None, today: date, offsets: Iterable[int], sent: Iterable[str]
) -> Reminder | None:
    """The reminder to send today, if any: the nearest configured lead the hearing is within."""
    if next_hearing is None:
        return None
    days = (next_hearing - today).days
    if days < 1:
        return None
    leads = sorted({o for o in offsets if o >= 1})
    applicable = [o for o in leads if days <= o]
    if not applicable:
        return None
    offset = applicable[0]
    already = set(sent)
    stamp = next_hearing.isoformat()
    # A nearer reminder already sent for this hearing makes this (farther) one obsolete.
    if any(f"{stamp}:{o}" in already for o in leads if o <= offset):
        return None
    return Reminder(next_hearing, offset, days)


# ---------------------------------------------------------------- the decision
def decide(
    bill: Bill,
    known: Known | None,
    today: date,
    reminder_days: Iterable[int],
    baseline: Mapping[str, str] | None = None,
) -> BillDecision:
    """What to do for one bill. `baseline`: its values before the Open States poller updated it."""
    problem = problems(bill)
    if problem:
        return BillDecision(bill, error=problem)
    values = tracked_values(bill)
    digest = fingerprint(values)
    record = known is None or known.fingerprint != digest
    if not bill.position:
        return BillDecision(bill, values, digest, record=record)
    changes: tuple[Change, ...] = ()
    first_sight = False
    if known is not None:
        if known.fingerprint != digest:
            changes = changes_between(known.values, values)
    elif baseline is not None and fingerprint(baseline) != digest:
        changes = changes_between(baseline, values)
    elif is_recent(bill, today):
        changes, first_sight = changes_between(None, values), True
    sent = known.reminders_sent if known else ()
    reminder = due_reminder(parse_date(bill.next_hearing), today, reminder_days, sent)
    return BillDecision(bill, values, digest, changes, first_sight, reminder, record)


# ---------------------------------------------------------------- keys and words
def change_key(record_id: str, number: int) -> str:
    """The exactly-once key of a bill's `number`-th change alert."""
    return f"bill:{record_id}:change:{number}"


def reminder_key(record_id: str, reminder: Reminder) -> str:
    return f"bill:{record_id}:hearing:{reminder.tag}"


def headline(bill: Bill, first_sight: bool = False) -> str:
    table = FIRST_SIGHT_HEADLINES if first_sight else HEADLINES
    return table.get(bill.position, HEADLINES["Watch"]).format(label=bill.label)


def next_step(bill: Bill) -> str:
    return NEXT_STEPS.get(bill.position, NEXT_STEPS["Watch"])


def reminder_headline(bill: Bill, reminder: Reminder) -> str:
    when = "tomorrow" if reminder.days == 1 else f"in {reminder.days} days"
    stance = STANCES.get(bill.position, STANCES["Watch"])
    return f"Hearing {when}: {bill.label}, {stance}"


def hearing_day(day: date) -> str:
    """ "Thursday, December 3" (no year: reminders are days ahead)."""
    return f"{day:%A}, {day:%B} {day.day}"


__all__ = [
    "FIELDS",
    "POSITIONS",
    "TRACKED",
    "Bill",
    "BillDecision",
    "Change",
    "Known",
    "Reminder",
    "bill_channel",
    "change_key",
    "changes_between",
    "decide",
    "due_reminder",
    "fingerprint",
    "headline",
    "hearing_day",
    "is_recent",
    "next_step",
    "parse_bill",
    "problems",
    "reminder_headline",
    "reminder_key",
    "tracked_values",
]
