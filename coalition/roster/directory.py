"""The Member Directory sheet and the partner directory, decided from the roster (pure).

`plan_directory` compares the rows the bot wants with what the sheet holds now,
found by Member ID rather than by position, so a sort or a staff column added
between runs changes nothing. Its plan is the whole write of a run: changed
cells (one values:batchUpdate), new members (one append), rows of members gone
from Airtable (one spreadsheets:batchUpdate, or marked in place).
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date
from typing import Any, Literal

from coalition.roster.models import MEMBER_FIELDS, Contact, Member, MemberFields
from coalition.roster.normalize import clean_text, fold
from coalition.sheet_table import CellValue, SheetTable, cell_text, delete_rows_requests, ranges_for

REMOVED_MARK = "Removed from Airtable"
MAX_CELL = 1000
# A full pass that would remove more than this share of the directory is refused:
# an empty or filtered read must not wipe the sheet.
MAX_REMOVAL_SHARE = 0.5
MIN_REMOVALS_GUARDED = 5


# ---------------------------------------------------------------- rows
def directory_row(
    member: Member,
    columns: Mapping[str, str],
    primary: Contact | None,
    issues_text: str,
    fields: MemberFields = MEMBER_FIELDS,
) -> dict[str, CellValue]:
    """The bot's cells of one member's row, by header (`columns`: header -> Members field or computed source)."""
    return {
        header: _cell(member, source, primary, issues_text, fields)
        for header, source in columns.items()
    }


def _cell(
    member: Member, source: str, primary: Contact | None, issues: str, fields: MemberFields
) -> CellValue:
    if source == "id":
        return member.id
    if source == "primary_contact":
        return primary.name if primary else ""
    if source == "data_issues":
        return clean_text(issues.replace("\n", "; "), limit=MAX_CELL)
    known = _MEMBER_VALUES.get(fields.key_of(source) or "")
    value = known(member) if known else member.extra.get(source)
    return cell_value(value)


# Members field key -> the normalized value the directory shows.
_MEMBER_VALUES: dict[str, Any] = {
    "name": lambda m: m.name,
    "type": lambda m: m.type,
    "state": lambda m: m.state or "",
    "counties": lambda m: m.counties,
    "services": lambda m: m.services,
    "languages": lambda m: m.languages,
    "accepting": lambda m: m.accepting,
    "capacity": lambda m: m.capacity,
    "income_limit": lambda m: m.income_limit,
    "lsc_funded": lambda m: m.lsc_funded,
    "remote": lambda m: m.remote,
    "interpreter": lambda m: m.interpreter,
    "accreditation": lambda m: m.accreditation,
    "referral_channel": lambda m: m.referral_channel or "",
    "referral_sheet": lambda m: m.referral_sheet or "",
    "status": lambda m: m.status,
    "dues": lambda m: m.dues_paid_through,
    "verified": lambda m: m.last_verified,
}


def cell_value(value: Any) -> CellValue:
    """A value as the directory shows it: lists joined, Yes/No, ISO dates, whole numbers as numbers."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "Yes" if value else "No"
    if isinstance(value, int):
        return value
    if isinstance(value, float):
        return int(value) if value.is_integer() else value
    if isinstance(value, date):
        return value.isoformat()
    return clean_text(value, limit=MAX_CELL)


def row_hash(cells: Mapping[str, Any], headers: Iterable[str]) -> str:
    """A fingerprint of the bot's cells of a row, to notice staff edits to bot columns cheaply."""
    joined = "\x1f".join(cell_text(cells.get(h, "")) for h in headers)
    return hashlib.sha256(joined.encode()).hexdigest()[:32]


# ---------------------------------------------------------------- the plan
@dataclass
class DirectoryPlan:
    """Everything one run writes to the directory tab, and counts of it."""

    tab: str
    header_ranges: list[dict[str, Any]] = field(default_factory=list)
    changes: dict[tuple[int, int], CellValue] = field(default_factory=dict)
    appends: list[list[CellValue]] = field(default_factory=list)
    delete_rows: list[int] = field(default_factory=list)
    rows_updated: int = 0
    rows_marked: int = 0
    warnings: list[str] = field(default_factory=list)
    target: DirectoryTarget | None = None

    def replan(self, table: SheetTable) -> DirectoryPlan:
        """The same intent against a fresh read (after a failed write, or a sort mid-run)."""
        if self.target is None:
            raise ValueError("this plan has no target to plan again from")
        return plan_for(table, self.target)

    @property
    def value_ranges(self) -> list[dict[str, Any]]:
        return self.header_ranges + ranges_for(self.tab, self.changes)

    def delete_requests(self, sheet_id: int) -> list[dict[str, Any]]:
        return delete_rows_requests(sheet_id, self.delete_rows)

    @property
    def empty(self) -> bool:
        return not (self.header_ranges or self.changes or self.appends or self.delete_rows)

    @property
    def write_requests(self) -> int:
        return bool(self.value_ranges) + bool(self.appends) + bool(self.delete_rows)


@dataclass(frozen=True)
class DirectoryTarget:
    """What the directory should show after a run, independent of where rows sit now."""

    desired: Mapping[str, Mapping[str, CellValue]]
    active_ids: frozenset[str]
    removed: Literal["remove", "mark"] = "remove"
    mark_header: str | None = None
    headers: tuple[str, ...] = ()
    names: Mapping[str, str] = field(default_factory=dict)


def plan_directory(
    table: SheetTable,
    desired: Mapping[str, Mapping[str, CellValue]],
    active_ids: Iterable[str],
    removed: Literal["remove", "mark"] = "remove",
    mark_header: str | None = None,
    headers: Iterable[str] = (),
    names: Mapping[str, str] | None = None,
) -> DirectoryPlan:
    """The minimal writes that make the tab show `desired` rows and drop members not in `active_ids`.

    `desired` holds the rows of members read this run; rows of other active members
    are left as they are. Staff cells are never in a plan: updates name bot cells,
    appends leave staff columns empty, and removal deletes whole rows.
    """
    target = DirectoryTarget(
        desired, frozenset(active_ids), removed, mark_header, tuple(headers), dict(names or {})
    )
    return plan_for(table, target)


def plan_for(table: SheetTable, target: DirectoryTarget) -> DirectoryPlan:
    plan = DirectoryPlan(table.tab, target=target)
    desired = target.desired
    if not table.has_header:
        plan.header_ranges = table.header_cells(list(target.headers))
    for member_id, rows in table.rows_by_id.items():
        if member_id in desired:
            for row in rows:
                changed = table.changed_cells(row, desired[member_id])
                if changed:
                    plan.changes.update(changed)
                    plan.rows_updated += 1
        elif member_id not in target.active_ids:
            _retire(plan, table, rows, target.removed, target.mark_header)
    _guard_removals(plan, table, target.active_ids)
    new_ids = sorted(
        (i for i in desired if i not in table.rows_by_id),
        key=lambda i: (fold(target.names.get(i, "")), i),
    )
    plan.appends = [table.append_row(desired[i]) for i in new_ids]
    if table.duplicate_ids:
        count = sum(len(r) - 1 for r in table.duplicate_ids.values())
        plan.warnings.append(
            f"{table.where}: {count} extra row(s) repeat a Member ID; left in place"
        )
    return plan


def _retire(
    plan: DirectoryPlan,
    table: SheetTable,
    rows: list[int],
    removed: Literal["remove", "mark"],
    mark_header: str | None,
) -> None:
    if removed == "remove":
        plan.delete_rows.extend(rows)
        return
    if mark_header is None:
        raise ValueError("removed_members: mark needs a Membership status or Data issues column")
    for row in rows:
        changed = table.changed_cells(row, {mark_header: REMOVED_MARK})
        if changed:
            plan.changes.update(changed)
            plan.rows_marked += 1


def _guard_removals(plan: DirectoryPlan, table: SheetTable, active_ids: frozenset[str]) -> None:
    listed = sum(len(r) for r in table.rows_by_id.values())
    doomed = len(plan.delete_rows)
    if doomed > MIN_REMOVALS_GUARDED and doomed > listed * MAX_REMOVAL_SHARE:
        plan.warnings.append(
            f"{table.where}: refused to delete {doomed} of {listed} rows at once "
            f"(Airtable listed {len(active_ids)} members); check the Members table, then delete by hand"
        )
        plan.delete_rows = []


def mark_column(columns: Mapping[str, str], fields: MemberFields = MEMBER_FIELDS) -> str | None:
    """Where `removed_members: mark` writes: the status column, else the data issues column."""
    for wanted in (fields.status, "data_issues"):
        for header, source in columns.items():
            if source == wanted:
                return header
    return None


# ---------------------------------------------------------------- partner directory
@dataclass(frozen=True)
class PartnerRecord:
    """What intake routing needs of a legal-service member. Organization data only."""

    member_id: str
    name: str
    services: tuple[str, ...]
    counties: tuple[str, ...]
    states: tuple[str, ...]
    languages: tuple[str, ...]
    remote: bool
    interpreter: bool
    accepting: bool
    weekly_capacity: int
    income_limit_percent: int | None
    lsc_funded: bool
    accreditation: str
    referral_channel: str | None
    referral_sheet: str | None
    active: bool
    slack_users: tuple[str, ...] = ()

    def as_row(self) -> dict[str, Any]:
        row = dict(vars(self))
        for key in ("services", "counties", "states", "languages", "slack_users"):
            row[key] = list(row[key])
        return row


def partner_from(member: Member, slack_users: tuple[str, ...] = ()) -> PartnerRecord | None:
    """The partner entry of a member that offers legal services (None for others)."""
    if not member.offers_legal_services or not member.name:
        return None
    return PartnerRecord(
        member_id=member.id,
        name=member.name[:300],
        services=tuple(member.services),
        counties=tuple(member.counties),
        states=(member.state,) if member.state else (),
        languages=tuple(member.languages),
        remote=member.remote,
        interpreter=member.interpreter,
        accepting=member.accepting,
        weekly_capacity=member.capacity or 0,
        income_limit_percent=member.income_limit,
        lsc_funded=member.lsc_funded,
        accreditation=member.accreditation,
        referral_channel=(member.referral_channel or "")[:100] or None,
        referral_sheet=(member.referral_sheet or "")[:300] or None,
        active=member.active,
        slack_users=slack_users,
    )


@dataclass
class PartnerChanges:
    upserts: list[PartnerRecord] = field(default_factory=list)
    deactivate: list[str] = field(default_factory=list)

    @property
    def count(self) -> int:
        return len(self.upserts) + len(self.deactivate)


def plan_partners(
    members: Iterable[Member],
    removed_ids: Iterable[str],
    current: Mapping[str, Mapping[str, Any]],
    slack_users: Mapping[str, tuple[str, ...]] | None = None,
) -> PartnerChanges:
    """Partner rows to write: new or changed entries, and members that left or stopped offering services."""
    changes = PartnerChanges()
    for member in members:
        record = partner_from(member, (slack_users or {}).get(member.id, ()))
        existing = current.get(member.id)
        if record is not None:
            if existing is None or _differs(existing, record.as_row()):
                changes.upserts.append(record)
        elif existing is not None and existing.get("active"):
            changes.deactivate.append(member.id)
    for member_id in removed_ids:
        existing = current.get(member_id)
        if existing is not None and existing.get("active") and member_id not in changes.deactivate:
            changes.deactivate.append(member_id)
    return changes


def _differs(existing: Mapping[str, Any], wanted: Mapping[str, Any]) -> bool:
    return any(existing.get(key) != value for key, value in wanted.items())
