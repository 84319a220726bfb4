"""The roster's data (pure): members and contacts as the sync sees them, findings, and the ledger index."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from typing import Any

from coalition.settings import ContactFields, MemberFields

# ---------------------------------------------------------------- Airtable field names
# The fields the sync reasons about, by key; their names come from config/fields.yaml
# (`airtable.members.fields`, `airtable.contacts.fields`), the design's by default.
MEMBER_FIELDS = MemberFields()
CONTACT_FIELDS = ContactFields()

ACCREDITATIONS = ("attorney", "fully accredited", "partially accredited", "none")
# Know-your-rights sessions are community education, not legal representation.
NON_LEGAL_SERVICES = frozenset({"know your rights"})
INACTIVE_STATUSES = frozenset(
    {"inactive", "former", "suspended", "resigned", "withdrawn", "expelled", "closed"}
)


# ---------------------------------------------------------------- findings
class Code:
    """Data-quality finding codes: stable, free of personal data, counted in reports."""

    MISSING_NAME = "missing_name"
    DUPLICATE_MEMBER = "duplicate_member"
    DUPLICATE_CONTACT = "duplicate_contact"
    MISSING_PRIMARY_CONTACT = "missing_primary_contact"
    CONTACT_ISSUES = "contact_issues"  # on a member: one of its contacts has a finding
    INVALID_PHONE = "invalid_phone"
    INVALID_EMAIL = "invalid_email"
    DUES_LAPSED = "dues_lapsed"
    NOT_VERIFIED = "not_verified"
    UNKNOWN_STATE = "unknown_state"
    UNKNOWN_SERVICE = "unknown_service"
    UNKNOWN_LANGUAGE = "unknown_language"
    INVALID_VALUE = "invalid_value"
    MISSING_ORGANIZATION = "missing_organization"
    LINKED_RECORD_MISSING = "linked_record_missing"
    INVALID_REFERENCE = "invalid_reference"  # a Referral sheet or channel that names nothing
    PARTNER_SHEET = "partner_sheet"  # the referral sheet cannot take referrals (why in the text)


@dataclass(frozen=True, order=True)
class Finding:
    """One data-quality problem of one record.

    `code` and `ref` (another record's id, for duplicates) are safe for the ledger
    and reports; `text` is for the record's own `Data issues` field in Airtable
    and may quote the record's values.
    """

    code: str
    text: str
    ref: str | None = None

    @property
    def key(self) -> str:
        return f"{self.code}:{self.ref}" if self.ref else self.code


# ---------------------------------------------------------------- records
@dataclass
class Member:
    """A member organization, normalized. Organization data; `problems` come from normalization."""

    id: str
    name: str
    type: str = ""
    state: str | None = None
    counties: list[str] = field(default_factory=list)
    services: list[str] = field(default_factory=list)
    languages: list[str] = field(default_factory=list)
    accepting: bool = False
    capacity: int | None = None
    income_limit: int | None = None
    lsc_funded: bool = False
    remote: bool = False
    interpreter: bool = False
    accreditation: str = "none"
    referral_channel: str | None = None
    referral_sheet: str | None = None
    status: str = ""
    dues_paid_through: date | None = None
    last_verified: date | None = None
    data_issues: str = ""  # what the record's Data issues field holds now
    extra: dict[str, Any] = field(default_factory=dict)  # other configured directory fields
    problems: list[Finding] = field(default_factory=list)

    @property
    def offers_legal_services(self) -> bool:
        return any(s not in NON_LEGAL_SERVICES for s in self.services)

    @property
    def active(self) -> bool:
        return self.status.casefold() not in INACTIVE_STATUSES


@dataclass
class Contact:
    """A person at a member organization. Personal data: never to the ledger, logs or Slack."""

    id: str
    name: str
    email: str | None = None
    phone: str | None = None
    member_ids: list[str] = field(default_factory=list)
    role: str = ""
    slack_user: str | None = None
    primary: bool | None = None  # the Primary contact checkbox; None where the base has none
    data_issues: str = ""
    problems: list[Finding] = field(default_factory=list)

    @property
    def is_primary(self) -> bool:
        if self.primary is not None:
            return self.primary
        return "primary" in self.role.casefold()


# ---------------------------------------------------------------- what the ledger remembers
@dataclass(frozen=True)
class MemberIndex:
    """What the last sync learned of a member: organization data, dates, finding keys, row hash."""

    id: str
    name: str
    status: str | None = None
    dues_paid_through: date | None = None
    last_verified: date | None = None
    finding_keys: tuple[str, ...] = ()
    row_hash: str | None = None
    removed: bool = False


@dataclass(frozen=True)
class ContactIndex:
    """What the last sync learned of a contact: links and keyed hashes only, never the values."""

    id: str
    member_ids: tuple[str, ...] = ()
    email_key: str | None = None
    phone_key: str | None = None
    finding_keys: tuple[str, ...] = ()
    slack_user: str | None = None  # a workspace id, so partners are recognised in Slack


@dataclass
class RosterIndex:
    members: dict[str, MemberIndex] = field(default_factory=dict)
    contacts: dict[str, ContactIndex] = field(default_factory=dict)

    @property
    def active_member_ids(self) -> set[str]:
        return {m.id for m in self.members.values() if not m.removed}

    def contacts_of(self, member_ids: set[str]) -> set[str]:
        return {c.id for c in self.contacts.values() if member_ids.intersection(c.member_ids)}
