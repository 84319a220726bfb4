"""Data shapes of intake routing: a parsed intake case, a partner profile, a partner's evaluation, a decision.

Personal fields are excluded from `repr` so a stray log line or traceback shows ids and codes only.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from enum import StrEnum

# The reason code of a partner staff chose themselves: it may take the partner past its capacity.
STAFF_CHOICE = "staff_choice"


class Action(StrEnum):
    """What routing does with one intake row."""

    ROUTE = "route"  # a referral goes to the chosen partner now
    SUGGEST = "suggest"  # approve mode: staff confirm the suggested partner first
    WAITLIST = "waitlist"  # valid, but no partner fits
    TRIAGE = "triage"  # staff must handle it (no consent to share, unclear case type)
    REVIEW = "review"  # the row is invalid: staff fix it in the sheet
    DUPLICATE = "duplicate"  # the same person asked already within the window


class Status(StrEnum):
    """The `Status` cell of an intake row, as staff read it."""

    REFERRED = "Referred"
    ACCEPTED = "Accepted"
    SUGGESTED = "Suggested"
    APPROVED = "Approved"
    WAITLIST = "Waitlist"
    TRIAGE = "Staff triage"
    REVIEW = "Needs review"
    DUPLICATE = "Duplicate"
    ROUTING = "Routing"  # claimed; the partner sheet has not taken it yet


ACTION_STATUS: dict[Action, Status] = {
    Action.ROUTE: Status.REFERRED,
    Action.SUGGEST: Status.SUGGESTED,
    Action.WAITLIST: Status.WAITLIST,
    Action.TRIAGE: Status.TRIAGE,
    Action.REVIEW: Status.REVIEW,
    Action.DUPLICATE: Status.DUPLICATE,
}


@dataclass(frozen=True, slots=True)
class Urgency:
    """Whether a case is urgent, the reason codes, and a sort key (smaller is more urgent)."""

    urgent: bool = False
    reasons: tuple[str, ...] = ()
    # Days to the nearest deadline (0 when detained); internal ordering only, never stored.
    days_left: int | None = field(default=None, repr=False)

    @property
    def sort_key(self) -> tuple[int, int]:
        if not self.urgent:
            return (1, 10**6)
        return (0, self.days_left if self.days_left is not None else 10**5)


@dataclass(frozen=True, slots=True)
class IntakeCase:
    """One intake row, validated and normalised. Personal values stay out of repr."""

    intake_id: str
    received_at: datetime | None
    case_types: tuple[str, ...]
    category: str | None  # primary case type, canonical name
    languages: tuple[str, ...]
    county: str | None  # "Harris County"
    state: str | None  # "TX"
    consent: bool
    urgency: Urgency
    income_percent: int | None  # percent of the poverty guideline; None when not stated
    detained: bool = False
    name: str = field(default="", repr=False)
    phone: str | None = field(default=None, repr=False)
    email: str | None = field(default=None, repr=False)
    city: str = field(default="", repr=False)
    help_needed: str = field(default="", repr=False)
    notes: str = field(default="", repr=False)
    court_date: date | None = field(default=None, repr=False)
    entry_date: date | None = field(default=None, repr=False)
    birth_date: date | None = field(default=None, repr=False)
    household_size: int | None = field(default=None, repr=False)
    monthly_income: float | None = field(default=None, repr=False)
    contact_keys: tuple[str, ...] = field(default=(), repr=False)  # salted hashes, for duplicates
    warnings: tuple[str, ...] = ()  # codes of soft problems (kept, not blocking)

    @property
    def language(self) -> str | None:
        return self.languages[0] if self.languages else None

    def personal_values(self) -> list[str]:
        """The values that identify the person, for the privacy guard (Slack checks, log redaction).

        City and short form choices ("Asylum") are left out: they equal words the bot's
        own messages use (a county, a category), and no message carries them anyway.
        """
        values = [self.name, self.phone or "", self.email or ""]
        if self.phone:
            values += [self.phone.removeprefix("+1"), self.phone.removeprefix("+")]
        if len(self.notes) >= 12:
            values.append(self.notes)
        if len(self.help_needed) >= 25:
            values.append(self.help_needed)
        for day in (self.court_date, self.entry_date, self.birth_date):
            if day:
                values += [day.isoformat(), f"{day.month}/{day.day}/{day.year}"]
        return [v for v in values if v]


@dataclass(frozen=True, slots=True)
class RowProblem:
    """Why a row cannot be routed as it stands: a code and a sentence for staff (no personal data)."""

    code: str
    message: str


@dataclass(frozen=True, slots=True)
class PartnerProfile:
    """A partner's routing attributes (organisation data only) plus this week's load."""

    member_id: str
    name: str
    services: frozenset[str] = frozenset()
    counties: frozenset[str] = frozenset()  # county keys, e.g. "harris" or "harris|tx"
    states: frozenset[str] = frozenset()
    languages: frozenset[str] = frozenset()
    remote: bool = False
    interpreter: bool = False
    accepting: bool = True
    weekly_capacity: int = 0
    used_this_week: int = 0
    income_limit_percent: int | None = None
    lsc_funded: bool = False
    accreditation: str = "none"
    referral_channel: str | None = None
    referral_sheet: str | None = None
    active: bool = True
    sheet_problem: str | None = None  # why its sheet refused the last delivery, until it works

    @property
    def capacity_left(self) -> int:
        return max(self.weekly_capacity - self.used_this_week, 0)


@dataclass(frozen=True, slots=True)
class Evaluation:
    """One partner weighed for one case: the rule that excluded it, or how well it fits."""

    partner_id: str
    excluded_by: str | None = None  # a rule code from matching.RULES
    language_fit: int = 0  # 3 first language, 2 another of theirs, 1 through an interpreter
    geo_fit: int = 0  # 3 county, 2 whole state, 1 remote
    capacity_left: int = 0

    @property
    def eligible(self) -> bool:
        return self.excluded_by is None

    def as_record(self) -> dict[str, object]:
        """The JSON kept in the ledger for `explain` (ids and codes only)."""
        return {
            "partner": self.partner_id,
            "rule": self.excluded_by,
            "language_fit": self.language_fit,
            "geo_fit": self.geo_fit,
            "capacity_left": self.capacity_left,
        }


@dataclass(frozen=True, slots=True)
class Decision:
    """What to do with one intake row, and why, in words without personal data."""

    intake_id: str
    action: Action
    reason: str  # for the sheet, Slack and the ledger: no personal data
    reason_code: str
    category: str | None = None  # broad category ("protected" for survivor types)
    urgent: bool = False
    urgency_reasons: tuple[str, ...] = ()
    partner_id: str | None = None
    evaluations: tuple[Evaluation, ...] = ()
    duplicate_of: str | None = None
    place: str | None = None  # county or state, as shown to partners
    language: str | None = None
    capacity: tuple[int, int] | None = None  # (slots left, weekly capacity) of the chosen partner

    @property
    def status(self) -> Status:
        return ACTION_STATUS[self.action]


@dataclass(frozen=True, slots=True)
class ParsedRow:
    """One intake row after validation: the case, or the problems that keep it from routing."""

    intake_id: str
    case: IntakeCase | None
    problems: tuple[RowProblem, ...] = ()


@dataclass(frozen=True, slots=True)
class Notice:
    """A Slack message owed: a stable key, its kind, the channel, and a payload without personal data."""

    key: str
    kind: str
    channel: str
    payload: dict
    created_at: datetime | None = None
