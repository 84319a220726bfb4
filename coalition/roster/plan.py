"""What one roster sync run does (pure): full or incremental, what else to read, and every write it decides.

An incremental run reads only the records Airtable says changed since the
watermark. Everything that depends on them is then "affected" and re-read by id:
the organizations of a changed contact (before and after the change), duplicates
on either side of a changed record, members whose dues lapse or verification
expires today, and members whose directory row a person edited or deleted.
Everything else is known from the ledger index, which holds organization data,
dates, finding codes and keyed hashes, never a contact's details.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from datetime import date, datetime, timedelta
from typing import Any, Literal

from dateutil.relativedelta import relativedelta
from rapidfuzz import fuzz, process

from coalition.roster.directory import (
    DirectoryPlan,
    PartnerChanges,
    directory_row,
    mark_column,
    plan_directory,
    plan_partners,
    row_hash,
)
from coalition.roster.models import (
    MEMBER_FIELDS,
    Code,
    Contact,
    ContactIndex,
    Member,
    MemberFields,
    MemberIndex,
    RosterIndex,
)
from coalition.roster.quality import (
    MEMBER_NAME_CUTOFF,
    Assessment,
    assess,
    email_key,
    org_key,
    phone_key,
)
from coalition.sheet_table import CellValue, SheetTable

# The watermark is Airtable's own time (the Date of a reply received before the run
# read), so no margin is needed. Only when Airtable did not say does the run fall back
# to its own clock, less this margin for the skew between the two clocks.
WATERMARK_OVERLAP = timedelta(minutes=2)
DIGEST_NAMES = 15


# ---------------------------------------------------------------- full or incremental
@dataclass(frozen=True)
class SyncMode:
    full: bool
    since: datetime | None
    reason: str

    @property
    def name(self) -> str:
        return "full" if self.full else "incremental"


def choose_mode(
    full: bool | None,
    watermark: datetime | None,
    last_full: datetime | None,
    now: datetime,
    every_hours: float,
) -> SyncMode:
    """A full pass when asked, on the first run, or when the last one is `every_hours` old."""
    if full:
        return SyncMode(True, None, "requested")
    if watermark is None or last_full is None:
        return SyncMode(True, None, "first run")
    if full is None and now - last_full >= timedelta(hours=every_hours):
        return SyncMode(True, None, f"last full pass over {every_hours:g} h ago")
    return SyncMode(False, watermark, "changes since the last run")


def next_watermark(airtable_now: datetime | None, started: datetime) -> datetime:
    """Where the next incremental run reads from: Airtable's time before this run read, or our
    start less the skew margin when no reply said what time it was."""
    return airtable_now if airtable_now is not None else started - WATERMARK_OVERLAP


# ---------------------------------------------------------------- what an incremental run must re-read
@dataclass
class Affected:
    members: set[str] = field(default_factory=set)
    contacts: set[str] = field(default_factory=set)


def affected_records(
    changed_members: Mapping[str, Member],
    changed_contacts: Mapping[str, Contact],
    index: RosterIndex,
    table: SheetTable,
    headers: list[str],
    today: date,
    secret: str,
    verify_months: int = 12,
    check_verified: bool = True,
) -> Affected:
    """Members and contacts whose Data issues, directory row or partner entry may change this run."""
    found = Affected(set(changed_members), set(changed_contacts))
    _contact_links(found, changed_contacts, index)
    _member_duplicates(found, changed_members, index)
    _contact_duplicates(found, changed_contacts, index, secret)
    for entry in index.members.values():
        if entry.removed or entry.id in found.members:
            continue
        # A partner whose referral sheet failed its check is checked again each run, so
        # its Data issue clears once staff fix the sheet (nothing changes in Airtable then).
        sheet_issue = Code.PARTNER_SHEET in _codes(entry.finding_keys)
        if (
            sheet_issue
            or _dates_flip(entry, today, verify_months, check_verified)
            or _row_drift(entry, table, headers)
        ):
            found.members.add(entry.id)
    for contact_id in list(found.contacts):
        entry = index.contacts.get(contact_id)
        if entry and contact_id not in changed_contacts:
            found.members.update(entry.member_ids)
    found.contacts |= index.contacts_of(found.members)
    return found


def _contact_links(found: Affected, changed: Mapping[str, Contact], index: RosterIndex) -> None:
    for contact in changed.values():
        found.members.update(contact.member_ids)
        before = index.contacts.get(contact.id)
        if before:
            found.members.update(before.member_ids)


def _member_duplicates(found: Affected, changed: Mapping[str, Member], index: RosterIndex) -> None:
    """Both sides of a duplicate, before and after: remembered pairs, and names now alike."""
    remembered: dict[str, set[str]] = {}
    for entry in index.members.values():
        for other in _refs(entry.finding_keys, Code.DUPLICATE_MEMBER):
            remembered.setdefault(other, set()).add(entry.id)
            remembered.setdefault(entry.id, set()).add(other)
    ids = [m.id for m in index.members.values() if not m.removed]
    keys = [org_key(index.members[i].name) for i in ids]
    for member in changed.values():
        found.members.update(remembered.get(member.id, ()))
        mine = org_key(member.name)
        if not mine:
            continue
        # Looser than the check itself: reading one more record is cheap, missing one is not.
        for scorer in (fuzz.ratio, fuzz.token_sort_ratio):
            for _, _, position in process.extract(
                mine, keys, scorer=scorer, score_cutoff=MEMBER_NAME_CUTOFF - 5, limit=None
            ):
                found.members.add(ids[position])


def _contact_duplicates(
    found: Affected, changed: Mapping[str, Contact], index: RosterIndex, secret: str
) -> None:
    mine: set[str] = set()
    for contact in changed.values():
        mine.update(
            k for k in (email_key(secret, contact.email), phone_key(secret, contact.phone)) if k
        )
        before = index.contacts.get(contact.id)
        found.contacts.update(_refs(before.finding_keys if before else (), Code.DUPLICATE_CONTACT))
    for entry in index.contacts.values():
        if entry.id in changed:
            continue
        refs = _refs(entry.finding_keys, Code.DUPLICATE_CONTACT)
        if refs.intersection(changed) or {entry.email_key, entry.phone_key}.intersection(mine):
            found.contacts.add(entry.id)


def _refs(keys: Iterable[str], code: str) -> set[str]:
    prefix = code + ":"
    return {k[len(prefix) :] for k in keys if k.startswith(prefix)}


def _dates_flip(entry: MemberIndex, today: date, months: int, check_verified: bool) -> bool:
    codes = {k.split(":", 1)[0] for k in entry.finding_keys}
    lapsed = bool(entry.dues_paid_through and entry.dues_paid_through < today)
    if lapsed != (Code.DUES_LAPSED in codes):
        return True
    if not check_verified:
        return False
    stale = entry.last_verified is None or entry.last_verified < today - relativedelta(
        months=months
    )
    return stale != (Code.NOT_VERIFIED in codes)


def _row_drift(entry: MemberIndex, table: SheetTable, headers: list[str]) -> bool:
    rows = table.rows_by_id.get(entry.id)
    if not rows:
        return True  # someone deleted the row: put it back
    return any(row_hash(table.row_cells(r), headers) != entry.row_hash for r in rows)


# ---------------------------------------------------------------- the decision
@dataclass
class Roster:
    """What this run read: normalized records, and records found gone."""

    full: bool
    members: dict[str, Member]
    contacts: dict[str, Contact]
    deleted_members: set[str] = field(default_factory=set)
    deleted_contacts: set[str] = field(default_factory=set)


@dataclass
class Digest:
    """What #membership hears about: organization names and counts, never a contact."""

    new_members: list[str] = field(default_factory=list)
    removed_members: list[str] = field(default_factory=list)
    lapsed: list[str] = field(default_factory=list)
    new_issues: list[str] = field(default_factory=list)
    new_issue_records: int = 0

    @property
    def empty(self) -> bool:
        return not (
            self.new_members or self.removed_members or self.lapsed or self.new_issue_records
        )

    def context(self, limit: int = DIGEST_NAMES) -> dict[str, Any]:
        """Template context: each list cut to `limit` names with the rest counted."""

        def part(names: list[str]) -> dict[str, Any]:
            ordered = sorted(names, key=str.casefold)
            return {
                "count": len(names),
                "names": ordered[:limit],
                "more": max(len(names) - limit, 0),
            }

        return {
            "new_members": part(self.new_members),
            "removed_members": part(self.removed_members),
            "lapsed": part(self.lapsed),
            "new_issues": part(self.new_issues) | {"records": self.new_issue_records},
        }


@dataclass
class SyncPlan:
    """Every write of a run, decided before any is made."""

    member_issues: list[dict[str, Any]]
    contact_issues: list[dict[str, Any]]
    directory: DirectoryPlan
    partners: PartnerChanges
    digest: Digest
    index: RosterIndex
    assessment: Assessment
    removed_ids: set[str]
    warnings: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class PlanOptions:
    columns: Mapping[str, str]
    id_header: str
    issues_field: str = MEMBER_FIELDS.data_issues
    member_fields: MemberFields = MEMBER_FIELDS
    member_issues_writable: bool = True
    contact_issues_writable: bool = False
    removed: Literal["remove", "mark"] = "remove"
    verify_months: int = 12
    check_verified: bool = True


def decide(
    roster: Roster,
    index: RosterIndex,
    table: SheetTable,
    partners_now: Mapping[str, Mapping[str, Any]],
    today: date,
    secret: str,
    options: PlanOptions,
) -> SyncPlan:
    """All writes of this run, from what was read and what the ledger remembers."""
    context = _context(roster, index)
    assessment = assess(
        roster.members,
        roster.contacts,
        context,
        today,
        secret,
        verify_months=options.verify_months,
        check_verified=options.check_verified,
    )
    headers = list(options.columns)
    rows = {
        m.id: directory_row(
            m,
            options.columns,
            assessment.primary.get(m.id),
            assessment.member_text[m.id],
            options.member_fields,
        )
        for m in roster.members.values()
    }
    removed_ids = _removed(roster, index)
    active = (context.active_member_ids | set(roster.members)) - removed_ids
    mark = (
        mark_column(options.columns, options.member_fields) if options.removed == "mark" else None
    )
    names = {m.id: m.name for m in roster.members.values()}
    directory = plan_directory(table, rows, active, options.removed, mark, headers, names)
    new_index = _next_index(roster, index, assessment, rows, headers, removed_ids, secret)
    partners = plan_partners(
        roster.members.values(), removed_ids, partners_now, slack_users_by_member(new_index)
    )
    plan = SyncPlan(
        member_issues=_issue_updates(roster.members, assessment.member_text, options, True),
        contact_issues=_issue_updates(roster.contacts, assessment.contact_text, options, False),
        directory=directory,
        partners=partners,
        digest=_digest(roster, index, new_index, assessment, removed_ids),
        index=new_index,
        assessment=assessment,
        removed_ids=removed_ids,
        warnings=list(directory.warnings),
    )
    return plan


def _context(roster: Roster, index: RosterIndex) -> RosterIndex:
    """What is known of records not read this run: nothing on a full pass, else the index minus the gone."""
    if roster.full:
        return RosterIndex()
    members = {
        k: (replace(v, removed=True) if k in roster.deleted_members else v)
        for k, v in index.members.items()
    }
    contacts = {k: v for k, v in index.contacts.items() if k not in roster.deleted_contacts}
    return RosterIndex(members, contacts)


def _removed(roster: Roster, index: RosterIndex) -> set[str]:
    if roster.full:
        return index.active_member_ids - set(roster.members)
    return {i for i in roster.deleted_members if i in index.active_member_ids}


def _issue_updates(
    records: Mapping[str, Member] | Mapping[str, Contact],
    texts: Mapping[str, str],
    options: PlanOptions,
    members: bool,
) -> list[dict[str, Any]]:
    writable = options.member_issues_writable if members else options.contact_issues_writable
    if not writable:
        return []
    return [
        {"id": rid, "fields": {options.issues_field: texts[rid]}}
        for rid, record in sorted(records.items())
        if texts[rid] != record.data_issues.strip()
    ]


def slack_users_by_member(index: RosterIndex) -> dict[str, tuple[str, ...]]:
    """Each organization's contacts' Slack user ids, so the Slack app knows a partner's people."""
    users: dict[str, set[str]] = {}
    for contact in index.contacts.values():
        if contact.slack_user:
            for member_id in contact.member_ids:
                users.setdefault(member_id, set()).add(contact.slack_user)
    return {member_id: tuple(sorted(ids)) for member_id, ids in users.items()}


def _next_index(
    roster: Roster,
    index: RosterIndex,
    assessment: Assessment,
    rows: Mapping[str, Mapping[str, CellValue]],
    headers: list[str],
    removed_ids: set[str],
    secret: str,
) -> RosterIndex:
    members = dict(index.members)
    for member in roster.members.values():
        members[member.id] = MemberIndex(
            id=member.id,
            name=member.name,
            status=member.status or None,
            dues_paid_through=member.dues_paid_through,
            last_verified=member.last_verified,
            finding_keys=assessment.finding_keys("member", member.id),
            row_hash=row_hash(rows[member.id], headers),
        )
    for member_id in removed_ids:
        members[member_id] = replace(members[member_id], removed=True)
    if roster.full:
        contacts: dict[str, ContactIndex] = {}
    else:
        contacts = {k: v for k, v in index.contacts.items() if k not in roster.deleted_contacts}
    for contact in roster.contacts.values():
        contacts[contact.id] = ContactIndex(
            id=contact.id,
            member_ids=tuple(contact.member_ids),
            email_key=email_key(secret, contact.email),
            phone_key=phone_key(secret, contact.phone),
            finding_keys=assessment.finding_keys("contact", contact.id),
            slack_user=(contact.slack_user or "")[:40] or None,
        )
    return RosterIndex(members, contacts)


def _codes(keys: Iterable[str]) -> set[str]:
    return {k.split(":", 1)[0] for k in keys}


def _digest(
    roster: Roster,
    before: RosterIndex,
    after: RosterIndex,
    assessment: Assessment,
    removed_ids: set[str],
) -> Digest:
    digest = Digest()

    def label(member_id: str) -> str:
        entry = after.members.get(member_id)
        return entry.name if entry and entry.name else f"an unnamed member ({member_id})"

    for member in roster.members.values():
        old = before.members.get(member.id)
        if old is None or old.removed:
            digest.new_members.append(label(member.id))
        old_codes = _codes(old.finding_keys) if old else set()
        new_codes = _codes(assessment.finding_keys("member", member.id))
        if Code.DUES_LAPSED in new_codes - old_codes:
            digest.lapsed.append(label(member.id))
    digest.removed_members = [label(i) for i in sorted(removed_ids)]
    orgs: set[str] = set()
    for kind, records, old_index in (
        ("member", roster.members, before.members),
        ("contact", roster.contacts, before.contacts),
    ):
        for record_id in records:
            old = old_index.get(record_id)
            gained = _codes(assessment.finding_keys(kind, record_id)) - (
                _codes(old.finding_keys) if old else set()
            )
            gained -= {
                Code.DUES_LAPSED,
                Code.CONTACT_ISSUES,
            }  # lapsed: own list; contacts: counted as such
            if not gained:
                continue
            digest.new_issue_records += 1
            owners = [record_id] if kind == "member" else roster.contacts[record_id].member_ids
            orgs.update(label(m) for m in owners if m in after.members)
    digest.new_issues = sorted(orgs, key=str.casefold)
    return digest
