"""What the Slack app reads and writes: the ledger (referrals, intake counts, audit, claims) and Airtable.

Ledger reads are ids, codes and times. Airtable holds the roster (Members, Contacts),
the tracked Bills and the Campaigns drafts; the base and its schema are opened once
and reused for a few minutes, so a command costs one or two list requests.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from rapidfuzz import fuzz, process

from bot.commands import IntakeCounts, MemberCard, ReferralView, bill_key
from coalition.alerts.bills import Bill, parse_bill
from coalition.intake.normalize import county_key
from coalition.ledger import Ledger
from coalition.ledger.audit import audit_entries, record_audit
from coalition.ledger.evidence_store import EvidenceStore
from coalition.ledger.intakes import IntakeStore
from coalition.ledger.leases import Lease, LeaseStore, lease_key
from coalition.ledger.referrals import ReferralStore
from coalition.ledger.roster_store import PartnerDirectory
from coalition.places import USPS_STATES
from coalition.settings import Settings
from coalition.summary.need import UnmetNeed, months_ending, unmet_need
from coalition.summary.outcomes import OutcomeFact
from coalition.summary.weeks import local_midnight

SCHEMA_TTL = 300.0  # seconds an opened Airtable base (and its schema) is reused
# What the app reads, by the design's field names (`Airtable` maps them to the workspace's).
MEMBER_FIELDS = (
    "Name",
    "Type",
    "State",
    "Counties",
    "Services",
    "Languages",
    "Accepting referrals",
    "Weekly capacity",
    "Membership status",
)
CONTACT_FIELDS = ("Organization", "Role", "Phone", "Primary contact")
BILL_FIELDS = (
    "Bill",
    "Jurisdiction",
    "Title",
    "Position",
    "Status",
    "Last action",
    "Last action date",
    "Next hearing",
    "Source URL",
)
CAMPAIGN_CLAIM = "campaign-approved"  # the lease kind of a draft approved in Slack
FUZZY_CUTOFF = 80


# ---------------------------------------------------------------- ledger: referrals and intake
def referral_view(
    ledger: Ledger, referral_id: str, names: Mapping[str, str]
) -> ReferralView | None:
    """One referral, its intake's current state and its event history; None if unknown."""
    referrals = ReferralStore(ledger)
    referral = referrals.referral(referral_id)
    if referral is None:
        return None
    intake = IntakeStore(ledger).intakes([referral.intake_id]).get(referral.intake_id)
    return ReferralView(
        referral_id=referral.referral_id,
        intake_id=referral.intake_id,
        partner_name=names.get(referral.partner_id, referral.partner_id),
        state=referral.state,
        partner_id=referral.partner_id,
        category=referral.category,
        urgent=referral.urgent,
        created_at=referral.created_at,
        decided_at=referral.decided_at,
        decided_by=referral.decided_by,
        decline_reason=referral.decline_reason,
        intake_status=intake.status if intake else None,
        current_referral=intake.current_referral if intake else None,
        events=tuple(referrals.events(referral.referral_id)),
    )


def period_start(period: str, now: datetime, tz: ZoneInfo) -> datetime:
    """Midnight (org time) today, or of this ISO week's Monday."""
    today = now.astimezone(tz).date()
    first = today if period == "today" else today - timedelta(days=today.weekday())
    return datetime.combine(first, datetime.min.time(), tzinfo=tz)


def intake_counts(ledger: Ledger, period: str, now: datetime, tz: ZoneInfo) -> IntakeCounts:
    """Intakes received since the start of `period` (as the weekly Doc counts them), by status and category."""
    since = period_start(period, now, tz)
    counts = IntakeStore(ledger).counts_since(since)
    return IntakeCounts(
        period, since.date(), counts.by_status, counts.by_category, counts.urgent, counts.undated
    )


# ---------------------------------------------------------------- ledger: unmet need and outcomes
def unmet_need_for(ledger: Ledger, month: date, tz: ZoneInfo, threshold: int) -> UnmetNeed:
    """The month's and its 12 months' unmet-need tables, computed and withheld as the weekly Doc's."""
    months = months_ending(month)
    after = date(month.year + month.month // 12, month.month % 12 + 1, 1)
    start, end = local_midnight(months[0], tz), local_midnight(after, tz)
    return unmet_need(EvidenceStore(ledger).need_facts(start, end), month, tz, threshold)


def county_states(ledger: Ledger) -> dict[str, frozenset[str]]:
    """County key -> the states of the partners that list it (how a county is placed in a state)."""
    found: dict[str, set[str]] = {}
    codes = {name.casefold(): code for code, name in USPS_STATES.items()}
    for partner in PartnerDirectory(ledger).partners():
        marks = {codes.get(str(s).casefold(), str(s).upper()) for s in partner["states"] or []}
        for county in partner["counties"] or []:
            found.setdefault(county_key(str(county)), set()).update(marks)
    return {k: frozenset(v) for k, v in found.items()}


def outcome_facts(ledger: Ledger, start: datetime) -> list[OutcomeFact]:
    return EvidenceStore(ledger).outcome_facts(start)


# ---------------------------------------------------------------- ledger: claims
def claim_once(ledger: Ledger, kind: str, ident: str, actor: str, now: datetime) -> Lease | None:
    """Claim `kind:ident` for good (the ledger's one lease mechanism); None if this call won,
    else the lease of whoever claimed it first (who, and since when)."""
    return LeaseStore(ledger).claim_once(lease_key(kind, ident), actor, now)


def release_claim(ledger: Ledger, kind: str, ident: str) -> None:
    """Forget a claim for good whose decision did not go through."""
    LeaseStore(ledger).unclaim(lease_key(kind, ident))


# ---------------------------------------------------------------- Airtable
class Airtable:
    """The coalition's base, opened lazily and reused for SCHEMA_TTL seconds.

    The app speaks the design's field names ("Weekly capacity"); this class is where they
    become the workspace's (config/fields.yaml): in requests, in the records it returns and
    in what it writes."""

    def __init__(self, cfg: Settings, api_factory: Callable[[], Any] | None = None) -> None:
        self.cfg = cfg
        self._api_factory = api_factory
        self._lock = threading.Lock()
        self._base: Any = None
        self._opened = 0.0
        self._tables: dict[str, Any] = {}

    def names(self, key: str) -> Any:
        """The configured field names of a table of config/fields.yaml (members, bills...)."""
        return self.cfg.fields.airtable.tables()[key].fields

    def table(self, key: str) -> Any:
        """An `integrations.airtable.AirtableTable` for a table of config/fields.yaml (members, bills...)."""
        from coalition.settings import config_file
        from integrations.airtable import open_base, open_table

        name = self.cfg.fields.airtable.tables()[key].table
        with self._lock:
            if self._base is None or time.monotonic() - self._opened > SCHEMA_TTL:
                if self._api_factory is not None:
                    api = self._api_factory()
                else:
                    from integrations.clients import airtable_api

                    api = airtable_api(self.cfg)
                self._base = open_base(api, self.cfg.services.airtable.base)
                self._opened = time.monotonic()
                self._tables = {}
            if key not in self._tables:
                where = f"{config_file(self.cfg.config_dir, 'fields.yaml')} airtable.{key}.table"
                self._tables[key] = open_table(self._base, name, where)
            return self._tables[key]

    def _wanted(self, key: str, fields: Sequence[str]) -> list[str]:
        return list(self.names(key).from_design(dict.fromkeys(fields)))

    def _as_design(self, key: str, record: dict[str, Any]) -> dict[str, Any]:
        return {**record, "fields": self.names(key).to_design(record.get("fields") or {})}

    def records(self, key: str, fields: Sequence[str]) -> list[dict[str, Any]]:
        from integrations.airtable import all_records

        table = self.table(key)
        wanted = [f for f in self._wanted(key, fields) if f in table.fields]
        return [self._as_design(key, r) for r in all_records(table, wanted)]

    def record(self, key: str, record_id: str, fields: Sequence[str]) -> dict[str, Any] | None:
        from integrations.airtable import records_by_id

        found = records_by_id(self.table(key), [record_id], self._wanted(key, fields))
        return self._as_design(key, found[0]) if found else None

    def create(self, key: str, fields: Mapping[str, Any]) -> str:
        """A new record (select options created as needed); its id."""
        from integrations.airtable import _typed

        table = self.table(key)
        try:
            created = table.table.create(self.names(key).from_design(fields), typecast=True)
        except Exception as exc:
            raise _typed(exc, f"creating a record in '{table.name}'") from None
        return str(created["id"])

    def update(self, key: str, record_id: str, fields: Mapping[str, Any]) -> None:
        from integrations.airtable import update_records

        named = self.names(key).from_design(fields)
        update_records(self.table(key), [{"id": record_id, "fields": named}])


# ---------------------------------------------------------------- members
def _strings(value: Any) -> tuple[str, ...]:
    if isinstance(value, list):
        return tuple(str(v) for v in value if str(v).strip())
    return (str(value),) if value not in (None, "") else ()


def match_members(names: Iterable[str], query: str) -> list[str]:
    """Organization names matching what was typed: exact, then contained, then close spellings."""
    names = list(dict.fromkeys(n for n in names if n))
    wanted = " ".join(query.split()).casefold()
    exact = [n for n in names if n.casefold() == wanted]
    if exact:
        return exact[:1]
    contained = [n for n in names if wanted in n.casefold()]
    if contained:
        return sorted(contained)
    close = process.extract(wanted, names, scorer=fuzz.WRatio, processor=str.casefold, limit=5)
    return [name for name, score, _ in close if score >= FUZZY_CUTOFF]


def member_card(
    member: Mapping[str, Any], contacts: Iterable[Mapping[str, Any]], with_phone: bool
) -> MemberCard:
    """A member's card; its primary contact's role, and phone only when `with_phone`."""
    fields = member.get("fields") or {}
    mine = [
        c.get("fields") or {}
        for c in contacts
        if member["id"] in (c.get("fields") or {}).get("Organization", [])
    ]
    primary = next((c for c in mine if c.get("Primary contact")), None)
    capacity = fields.get("Weekly capacity")
    return MemberCard(
        name=str(fields.get("Name") or ""),
        type=str(fields.get("Type") or ""),
        state=str(fields.get("State") or ""),
        counties=_strings(fields.get("Counties")),
        services=_strings(fields.get("Services")),
        languages=_strings(fields.get("Languages")),
        accepting=bool(fields.get("Accepting referrals")),
        capacity=int(capacity) if isinstance(capacity, int | float) else None,
        membership=str(fields.get("Membership status") or ""),
        contact_role=str(primary.get("Role") or "") if primary else "",
        phone=(str(primary.get("Phone") or "") or None) if primary and with_phone else None,
    )


# ---------------------------------------------------------------- bills
def bill_views(records: Iterable[Mapping[str, Any]]) -> list[Bill]:
    """The tracked bills among these records (design field names), those without a number left out."""
    bills = [parse_bill({"id": r.get("id", ""), "fields": r.get("fields") or {}}) for r in records]
    return [b for b in bills if b.bill]


def match_bills(bills: Iterable[Bill], query: str) -> list[Bill]:
    """Bills whose number is the one typed ('hb1234' = 'H.B. 1234'), in any jurisdiction."""
    wanted = bill_key(query)
    return [b for b in bills if wanted and bill_key(b.bill) == wanted]


__all__ = [
    "Airtable",
    "audit_entries",
    "bill_views",
    "claim_once",
    "county_states",
    "intake_counts",
    "match_bills",
    "match_members",
    "member_card",
    "outcome_facts",
    "period_start",
    "record_audit",
    "referral_view",
    "release_claim",
    "unmet_need_for",
]
