"""Which Airtable fields the roster sync reads and writes, checked against the tables' schema (pure)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from coalition.roster.models import (
    CONTACT_FIELDS,
    MEMBER_FIELDS,
    ContactFields,
    MemberFields,
)
from coalition.settings import COMPUTED_SOURCES, ConfigError


class RosterFieldError(ConfigError):
    """A field the sync needs is missing from Airtable, or a directory column names no field."""


@dataclass(frozen=True)
class FieldPlan:
    """Fields to request (fields[]), to watch for changes, and what the tables allow."""

    member_fields: tuple[str, ...]
    contact_fields: tuple[str, ...]
    member_watch: tuple[str, ...]
    contact_watch: tuple[str, ...]
    extra_member_fields: tuple[str, ...]
    member_issues_writable: bool
    contact_issues_writable: bool
    check_verified: bool
    has_primary_field: bool
    warnings: tuple[str, ...] = ()


def plan_fields(
    columns: Mapping[str, str],
    member_schema: Iterable[str],
    contact_schema: Iterable[str],
    members_table: str = "Members",
    contacts_table: str = "Contacts",
    member: MemberFields = MEMBER_FIELDS,
    contact: ContactFields = CONTACT_FIELDS,
) -> FieldPlan:
    """Only the fields the sync uses and the table has; a clear error for a field it cannot do without."""
    have_m, have_c = set(member_schema), set(contact_schema)
    sources = [s for s in columns.values() if s not in COMPUTED_SOURCES]
    _require(members_table, [member.name, *sources], have_m, columns)
    _require(contacts_table, [contact.name, contact.organization], have_c, {})
    warnings: list[str] = []
    wanted_m = list(dict.fromkeys([*member.all(), *sources]))
    member_fields = tuple(f for f in wanted_m if f in have_m)
    for absent in (f for f in member.all() if f not in have_m and f != member.data_issues):
        warnings.append(f"{members_table} has no '{absent}' field; it is treated as empty")
    if member.data_issues not in have_m:
        warnings.append(
            f"{members_table} has no '{member.data_issues}' field; data issues are not written there"
        )
    contact_fields = tuple(f for f in contact.all() if f in have_c)
    known = set(member.all())
    return FieldPlan(
        member_fields=member_fields,
        contact_fields=contact_fields,
        member_watch=tuple(f for f in member_fields if f != member.data_issues),
        contact_watch=tuple(f for f in contact_fields if f != contact.data_issues),
        extra_member_fields=tuple(f for f in dict.fromkeys(sources) if f not in known),
        member_issues_writable=member.data_issues in have_m,
        contact_issues_writable=contact.data_issues in have_c,
        check_verified=member.verified in have_m,
        has_primary_field=contact.primary in have_c,
        warnings=tuple(warnings),
    )


def _require(table: str, wanted: list[str], have: set[str], columns: Mapping[str, str]) -> None:
    missing = [f for f in dict.fromkeys(wanted) if f not in have]
    if not missing:
        return
    used_by = {source: header for header, source in columns.items()}
    parts = [
        f"'{f}'" + (f" (directory column '{used_by[f]}')" if f in used_by else "") for f in missing
    ]
    raise RosterFieldError(
        f"Airtable table '{table}' has no field {', '.join(parts)}; add it in Airtable or fix "
        "its name in config/fields.yaml. Nothing was written."
    )
