"""Open States results mapped to `Bills` updates (pure): matching, what to write, what is new, where to resume.

The poller asks `GET /bills` for bills updated since its last poll, per configured
target (a jurisdiction, a search query, or both), oldest change first, so a run cut
short by the rate limit resumes where it stopped. A result updates the matching
`Bills` record (same Source URL, else same jurisdiction and bill number) only when its
latest action (date or description) differs from the record's Last action and Last
action date, and is not older than what staff typed: `updated_at` moves for any
metadata touch (a sponsor fixed, a version added) and alone never causes a write or
an alert. A result of a search query that matches no record is added for review
(Status "Needs review", no Position); a jurisdiction alone is not a match, or every
bill of a legislature would be.

`updated_since` is compared by the server against the PostgreSQL text form of
`updated_at` ("2026-11-28 18:00:00.5+00"), as a string: an ISO time with a "T" would
skip later changes the same day. The watermark is therefore kept in that very form.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from typing import Any

from coalition.alerts.bills import Bill, tracked_values

REVIEW_STATUS = "Needs review"
FIRST_POLL_DAYS = 7  # the first poll looks back as far as first-sight alerts do
PER_PAGE = 20  # the API's maximum
_NON_ALNUM = re.compile(r"[^A-Z0-9]")
_LEADING_ZEROS = re.compile(r"(?<![0-9])0+(?=[0-9])")


@dataclass(frozen=True)
class Target:
    """One search the poller runs: a jurisdiction, a query, or both."""

    jurisdiction: str | None = None
    q: str | None = None

    @property
    def watermark_key(self) -> str:
        key = f"alerts:openstates:{self.jurisdiction or '*'}:{self.q or '*'}"
        if len(key) <= 120:
            return key
        # A long search query still needs a key that fits the ledger's column.
        digest = hashlib.sha256(key.encode("utf-8")).hexdigest()[:32]
        return f"alerts:openstates:{digest}"

    @property
    def adds_matches(self) -> bool:
        """Only a search query finds new bills worth a review."""
        return bool(self.q)

    def describe(self) -> str:
        parts = [f"jurisdiction {self.jurisdiction}" if self.jurisdiction else "", self.q or ""]
        return " / ".join(p for p in parts if p)


@dataclass(frozen=True)
class OpenStatesBill:
    """The fields of an Open States v3 bill the poller uses."""

    id: str
    identifier: str
    jurisdiction: str
    title: str
    session: str
    latest_action_date: str
    latest_action_description: str
    updated_at: str
    url: str


@dataclass
class PollPlan:
    """What a poll found: record updates (with the values they replace) and new records to add."""

    updates: dict[str, dict[str, str]] = field(default_factory=dict)
    baselines: dict[str, dict[str, str]] = field(default_factory=dict)
    new_records: list[dict[str, str]] = field(default_factory=list)
    seen: int = 0


def targets(jurisdictions: Sequence[str], queries: Sequence[str]) -> list[Target]:
    """Every jurisdiction with every query; either alone when the other list is empty."""
    places = [j.strip() for j in jurisdictions if j.strip()]
    words = [q.strip() for q in queries if q.strip()]
    if places and words:
        return [Target(j, q) for j in places for q in words]
    return [Target(jurisdiction=j) for j in places] + [Target(q=q) for q in words]


def parse_result(result: Mapping[str, Any]) -> OpenStatesBill:
    jurisdiction = result.get("jurisdiction") or {}
    return OpenStatesBill(
        id=str(result.get("id") or ""),
        identifier=str(result.get("identifier") or ""),
        jurisdiction=str(jurisdiction.get("name") or ""),
        title=str(result.get("title") or ""),
        session=str(result.get("session") or ""),
        latest_action_date=str(result.get("latest_action_date") or "")[:10],
        latest_action_description=str(result.get("latest_action_description") or "").strip(),
        updated_at=str(result.get("updated_at") or ""),
        url=str(result.get("openstates_url") or ""),
    )


# ---------------------------------------------------------------- matching
def normalise_identifier(identifier: str) -> str:
    """ "HB 0012", "hb12" and "H.B. 12" all become "HB12"."""
    compact = _NON_ALNUM.sub("", identifier.upper())
    return _LEADING_ZEROS.sub("", compact)


def _key(jurisdiction: str, identifier: str) -> tuple[str, str]:
    return jurisdiction.strip().casefold(), normalise_identifier(identifier)


def _url(url: str) -> str:
    return url.strip().rstrip("/").lower()


class BillIndex:
    """Records findable by Source URL and by (jurisdiction, bill number)."""

    def __init__(self, bills: Iterable[Bill]) -> None:
        self.by_url: dict[str, Bill] = {}
        self.by_key: dict[tuple[str, str], list[Bill]] = {}
        for bill in bills:
            self.add(bill)

    def add(self, bill: Bill) -> None:
        if bill.source_url:
            self.by_url.setdefault(_url(bill.source_url), bill)
        if bill.bill:
            self.by_key.setdefault(_key(bill.jurisdiction, bill.bill), []).append(bill)

    def find(self, found: OpenStatesBill) -> Bill | None:
        if found.url and _url(found.url) in self.by_url:
            return self.by_url[_url(found.url)]
        candidates = self.by_key.get(_key(found.jurisdiction, found.identifier), [])
        # Several sessions of the same number and none with this URL: not safe to pick one.
        return candidates[0] if len(candidates) == 1 else None

    def knows(self, found: OpenStatesBill) -> bool:
        """A record has this bill's URL or number (even if several do and none can be picked)."""
        return (bool(found.url) and _url(found.url) in self.by_url) or bool(
            self.by_key.get(_key(found.jurisdiction, found.identifier))
        )


def update_for(found: OpenStatesBill, bill: Bill) -> dict[str, str] | None:
    """The `Bills` fields to write when the latest action differs, else None."""
    action_date, action = found.latest_action_date, found.latest_action_description
    if not action_date and not action:
        return None
    if (action_date, action) == (bill.last_action_date, bill.last_action):
        return None
    if bill.last_action_date and action_date and action_date < bill.last_action_date:
        return None  # staff recorded a newer action than Open States has
    return {"Last action": action, "Last action date": action_date}


def new_record(found: OpenStatesBill) -> dict[str, str]:
    """A `Bills` record for a new match, for staff to review (no Position yet)."""
    fields = {
        "Bill": found.identifier,
        "Jurisdiction": found.jurisdiction,
        "Title": found.title,
        "Status": REVIEW_STATUS,
        "Last action": found.latest_action_description,
        "Last action date": found.latest_action_date,
        "Source URL": found.url,
    }
    return {k: v for k, v in fields.items() if v}


def plan_poll(results: Iterable[tuple[Target, OpenStatesBill]], bills: Sequence[Bill]) -> PollPlan:
    """Updates of matching records and new records for review, from every target's results."""
    plan = PollPlan()
    index = BillIndex(bills)
    for target, found in results:
        plan.seen += 1
        bill = index.find(found)
        if bill is None:
            if index.knows(found):
                continue  # tracked under the same number in several sessions: staff decide
            if target.adds_matches and found.identifier and found.jurisdiction:
                fields = new_record(found)
                plan.new_records.append(fields)
                # The same bill may come back from another target: add it once.
                index.add(
                    Bill(
                        record_id="",
                        bill=found.identifier,
                        jurisdiction=found.jurisdiction,
                        source_url=found.url,
                    )
                )
            continue
        if not bill.record_id:
            continue  # a new match already planned
        current = _with_updates(bill, plan.updates.get(bill.record_id))
        fields = update_for(found, current)
        if fields is not None:
            plan.baselines.setdefault(bill.record_id, tracked_values(bill))
            plan.updates[bill.record_id] = {**plan.updates.get(bill.record_id, {}), **fields}
    return plan


def _with_updates(bill: Bill, fields: Mapping[str, str] | None) -> Bill:
    if not fields:
        return bill
    return apply_update(bill, fields)


def apply_update(bill: Bill, fields: Mapping[str, str]) -> Bill:
    """The bill as it reads once the poller's fields are written."""
    return replace(
        bill,
        last_action=fields.get("Last action", bill.last_action),
        last_action_date=fields.get("Last action date", bill.last_action_date),
    )


# ---------------------------------------------------------------- where to resume
def pg_text(timestamp: str) -> str | None:
    """An ISO timestamp in PostgreSQL's text form at UTC ("2026-11-28 18:00:00.5+00"); None if unreadable."""
    try:
        moment = datetime.fromisoformat(timestamp.replace("Z", "+00:00"))
    except ValueError:
        return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    moment = moment.astimezone(UTC)
    text = moment.strftime("%Y-%m-%d %H:%M:%S")
    if moment.microsecond:
        text += f".{moment.microsecond:06d}".rstrip("0")
    return text + "+00"


def updated_since(watermark: str | None, now: datetime) -> str:
    """The `updated_since` to send: the watermark, or (first poll) a date FIRST_POLL_DAYS back."""
    if watermark:
        return watermark
    return (now.astimezone(UTC) - timedelta(days=FIRST_POLL_DAYS)).date().isoformat()


def next_watermark(previous: str | None, found: Iterable[OpenStatesBill]) -> str | None:
    """The newest `updated_at` seen, in the server's text form; the server's own clock, not ours.

    The same string sent back includes that newest bill again (>=), which is harmless:
    its action is already recorded, so it changes nothing.
    """
    newest = previous
    for bill in found:
        text = pg_text(bill.updated_at) if bill.updated_at else None
        # Plain string order is time order in this form (and a date sorts before its day's times).
        if text and (newest is None or text > newest):
            newest = text
    return newest


__all__ = [
    "FIRST_POLL_DAYS",
    "PER_PAGE",
    "REVIEW_STATUS",
    "BillIndex",
    "OpenStatesBill",
    "PollPlan",
    "Target",
    "apply_update",
    "new_record",
    "next_watermark",
    "normalise_identifier",
    "parse_result",
    "pg_text",
    "plan_poll",
    "targets",
    "update_for",
    "updated_since",
]
