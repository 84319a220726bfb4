"""The report of a roster sync run (pure): counts and record ids only, for the CLI, the dry-run plan and the Prefect artifact."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from pydantic import BaseModel, Field

from coalition.roster.models import RosterIndex
from coalition.roster.plan import Roster, SyncMode, SyncPlan


@dataclass
class Writes:
    """Write requests made (or, in a dry run, planned) per service."""

    airtable: dict[str, int] = field(default_factory=dict)
    sheets: int = 0
    slack: int = 0
    slack_planned: int = 0
    names_withheld: bool = False


class RosterReport(BaseModel):
    """What one run read, decided and wrote. No names, emails or phones: safe for logs and artifacts."""

    mode: str
    reason: str
    dry_run: bool
    members_read: int = 0
    contacts_read: int = 0
    members_changed: int = 0  # read this run and different from what the last run knew
    contacts_changed: int = 0
    reread_unchanged: int = 0  # read again (the watermark's overlap, neighbours) and unchanged
    blank_records_skipped: int = 0
    deleted_members: int = 0
    deleted_contacts: int = 0
    directory_rows_updated: int = 0
    directory_cells_updated: int = 0
    directory_rows_appended: int = 0
    directory_rows_removed: int = 0
    directory_rows_marked: int = 0
    member_issues_changed: int = 0
    contact_issues_changed: int = 0
    records_with_issues: int = 0
    issues: dict[str, int] = Field(default_factory=dict)
    new_members: int = 0
    removed_members: int = 0
    lapsed_dues: int = 0
    new_issue_records: int = 0
    partners_updated: int = 0
    partners_deactivated: int = 0
    digest_messages: int = 0
    requests: dict[str, int] = Field(default_factory=dict)
    write_requests: dict[str, int] = Field(default_factory=dict)
    warnings: list[str] = Field(default_factory=list)

    def plan_text(self) -> str:
        """One line of what the run changes (or would change): the dry run's answer."""
        parts = []
        rows = [
            f"{n} {w}"
            for n, w in (
                (self.directory_rows_updated, "rows updated"),
                (self.directory_rows_appended, "appended"),
                (self.directory_rows_removed, "removed"),
                (self.directory_rows_marked, "marked removed"),
            )
            if n
        ]
        parts.append(f"Member Directory: {', '.join(rows) if rows else 'no change'}")
        parts.append(f"Members: {self.member_issues_changed} Data issues changed")
        if self.contact_issues_changed:
            parts.append(f"Contacts: {self.contact_issues_changed} Data issues changed")
        if self.partners_updated or self.partners_deactivated:
            parts.append(
                f"Partner directory: {self.partners_updated} updated, {self.partners_deactivated} deactivated"
            )
        messages = self.digest_messages
        parts.append(f"#membership: {messages} message{'' if messages == 1 else 's'}")
        return "; ".join(parts)

    def changed_text(self) -> str:
        """ "changed since the last run: 1 member, 1 contact (120 read again, unchanged)"."""
        if self.mode == "full":
            return "a full pass reads every record"
        members = f"{self.members_changed} member{'' if self.members_changed == 1 else 's'}"
        contacts = f"{self.contacts_changed} contact{'' if self.contacts_changed == 1 else 's'}"
        again = f" ({self.reread_unchanged} read again, unchanged)" if self.reread_unchanged else ""
        return f"changed since the last run: {members}, {contacts}{again}"

    def summary_lines(self) -> list[str]:
        verb = "would write" if self.dry_run else "wrote"
        lines = [
            f"roster-sync ({self.mode}: {self.reason}){' (dry run)' if self.dry_run else ''}",
            f"read {self.members_read} members, {self.contacts_read} contacts; "
            + self.changed_text(),
            f"{verb}: {self.plan_text()}",
            f"data issues: {self.records_with_issues} records; "
            + (", ".join(f"{k} {v}" for k, v in sorted(self.issues.items())) or "none"),
            "requests: "
            + (", ".join(f"{k} {v}" for k, v in sorted(self.requests.items())) or "none"),
        ]
        lines += [f"warning: {w}" for w in self.warnings]
        return lines

    def table(self) -> list[dict[str, Any]]:
        """Rows for a Prefect table artifact."""
        data = self.model_dump(exclude={"issues", "requests", "write_requests", "warnings"})
        rows = [{"measure": k, "value": v} for k, v in data.items()]
        rows += [{"measure": f"issues.{k}", "value": v} for k, v in sorted(self.issues.items())]
        rows += [{"measure": f"requests.{k}", "value": v} for k, v in sorted(self.requests.items())]
        rows += [
            {"measure": f"write_requests.{k}", "value": v}
            for k, v in sorted(self.write_requests.items())
        ]
        return rows

    def markdown(self) -> str:
        lines = [f"# Roster sync: {self.mode}{' (dry run)' if self.dry_run else ''}", ""]
        lines += [f"- {line}" for line in self.summary_lines()[1:]]
        return "\n".join(lines)


def changed_records(
    members: Iterable[str], contacts: Iterable[str], plan: SyncPlan, before: RosterIndex | None
) -> tuple[set[str], set[str]]:
    """Of the records Airtable listed as modified, those that differ from what the last run knew.

    An incremental run lists again what was saved just before the last run (clocks differ);
    those that come back the same are not "changed". Neighbours read by id only to re-check
    them were not modified, so they are never counted.
    """
    members, contacts = set(members), set(contacts)
    if before is None:
        return members, contacts
    partners = {p.member_id for p in plan.partners.upserts}
    changed_members = {
        i for i in members if before.members.get(i) != plan.index.members.get(i) or i in partners
    }
    changed_contacts = {i for i in contacts if before.contacts.get(i) != plan.index.contacts.get(i)}
    return changed_members, changed_contacts


def build_report(
    mode: SyncMode,
    dry_run: bool,
    members: Any,
    contacts: Any,
    roster: Roster,
    plan: SyncPlan,
    writes: Writes,
    requests: Mapping[str, int],
    warnings: list[str],
    before: RosterIndex | None = None,
) -> RosterReport:
    """Count what a run read, decided and wrote; `before` is what the last run knew."""
    found = plan.assessment
    codes: Counter[str] = Counter()
    with_issues = 0
    for findings in (*found.members.values(), *found.contacts.values()):
        if findings:
            with_issues += 1
        codes.update({f.code for f in findings})
    changed_members, changed_contacts = changed_records(members.by_id, contacts.by_id, plan, before)
    directory = plan.directory
    digest = plan.digest
    write_requests = {
        "airtable": sum(writes.airtable.values()),
        "sheets": writes.sheets,
        "slack": writes.slack,
    }
    if writes.names_withheld:
        warnings = [*warnings, "digest names withheld: the privacy guard matched personal data"]
    return RosterReport(
        mode=mode.name,
        reason=mode.reason,
        dry_run=dry_run,
        members_read=len(roster.members),
        contacts_read=len(roster.contacts),
        members_changed=len(changed_members),
        contacts_changed=len(changed_contacts),
        reread_unchanged=(len(roster.members) - len(changed_members))
        + (len(roster.contacts) - len(changed_contacts))
        if not roster.full
        else 0,
        blank_records_skipped=members.blank + contacts.blank,
        deleted_members=len(roster.deleted_members | plan.removed_ids),
        deleted_contacts=len(roster.deleted_contacts),
        directory_rows_updated=directory.rows_updated,
        directory_cells_updated=len(directory.changes),
        directory_rows_appended=len(directory.appends),
        directory_rows_removed=len(directory.delete_rows),
        directory_rows_marked=directory.rows_marked,
        member_issues_changed=len(plan.member_issues),
        contact_issues_changed=len(plan.contact_issues),
        records_with_issues=with_issues,
        issues=dict(codes),
        new_members=len(digest.new_members),
        removed_members=len(digest.removed_members),
        lapsed_dues=len(digest.lapsed),
        new_issue_records=digest.new_issue_records,
        partners_updated=len(plan.partners.upserts),
        partners_deactivated=len(plan.partners.deactivate),
        digest_messages=writes.slack_planned if dry_run else writes.slack,
        requests=dict(requests),
        write_requests={} if dry_run else {k: v for k, v in write_requests.items() if v},
        warnings=list(dict.fromkeys(warnings)),
    )
