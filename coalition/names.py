"""Which configured names the workspace lacks (pure): one line per name, naming the config file, key and name.

Every table and field the bot uses is named in config/fields.yaml. A flow checks the
tables it opens against their schema before its first write; `coalition doctor`
checks them all. A field is *required* when the bot cannot do its job without it, or
when fields.yaml gives it a name of its own (staff said it is there, so it must be);
any other absent field is treated as empty and only reported.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from coalition.settings import COMPUTED_SOURCES, FieldsConfig, WorkspaceNameError

# Table key -> fields (keys) the bot cannot do without.
REQUIRED_FIELDS: dict[str, frozenset[str]] = {
    # The partner directory routes by these; without one, cases would go to the wrong partner.
    "members": frozenset(
        {
            "name",
            "state",
            "counties",
            "services",
            "languages",
            "accepting",
            "capacity",
            "accreditation",
            "referral_sheet",
            "status",
        }
    ),
    "contacts": frozenset({"name", "organization"}),
    "campaigns": frozenset({"title", "message", "status", "send_at"}),
    "bills": frozenset({"bill", "status", "last_action", "last_action_date", "next_hearing"}),
    "donations": frozenset({"amount", "date"}),
    "activities": frozenset({"date"}),
}
TABLE_WORDS = {
    "members": "the member organizations",
    "contacts": "the members' contacts",
    "campaigns": "campaigns",
    "bills": "bills",
    "donations": "donations",
    "activities": "activities",
}


@dataclass(frozen=True)
class MissingName:
    """A name config gives that the workspace lacks; `required` says whether a flow can go on without it."""

    file: str
    key: str  # e.g. airtable.members.fields.capacity
    name: str
    where: str  # e.g. "the Members table"
    required: bool
    kind: str = (
        "field"  # table, field, column, or "column for <what>" (then `name` lists spellings)
    )

    def line(self) -> str:
        if self.kind.startswith("column for"):
            return (
                f"{self.file} {self.key}: {self.where} has no {self.kind} (looked for {self.name})"
            )
        return f"{self.file} {self.key}: {self.where} has no {self.kind} '{self.name}'"


def table_missing(names: FieldsConfig, table_key: str, base: str, file: str) -> MissingName:
    table = names.airtable.tables()[table_key].table
    return MissingName(
        file, f"airtable.{table_key}.table", table, f"the Airtable base '{base}'", True, "table"
    )


def missing_fields(
    names: FieldsConfig,
    table_key: str,
    have: Iterable[str],
    file: str,
    extra_required: Iterable[str] = (),
) -> list[MissingName]:
    """Every field of the table's config that the schema (`have`) lacks, in config order."""
    table = names.airtable.tables()[table_key]
    fields = table.fields
    defaults = type(fields)()
    present = set(have)
    required = REQUIRED_FIELDS.get(table_key, frozenset()) | set(extra_required)
    where = f"the {table.table} table"
    return [
        MissingName(
            file,
            f"airtable.{table_key}.fields.{key}",
            name,
            where,
            key in required or name != getattr(defaults, key),
        )
        for key, name in fields.items()
        if name not in present
    ]


def missing_directory_sources(
    names: FieldsConfig, have: Iterable[str], file: str
) -> list[MissingName]:
    """Directory columns whose Members field is not in the table (they cannot be filled)."""
    present = set(have)
    where = f"the {names.airtable.members.table} table"
    found: list[MissingName] = []
    for header, source in names.directory.items():
        field_name = names.directory_source(source)
        if field_name in COMPUTED_SOURCES or field_name in present:
            continue
        found.append(MissingName(file, f"directory.{header}", field_name, where, True))
    return found


def stop_if_required(missing: Iterable[MissingName]) -> list[MissingName]:
    """Raise one WorkspaceNameError (one line) for the required names; the optional ones back."""
    missing = list(missing)
    required = [m for m in missing if m.required]
    if required:
        raise WorkspaceNameError(
            "; ".join(m.line() for m in required)
            + ". Fix the name there or in the workspace (`coalition doctor` lists every name). "
            "Nothing was written."
        )
    return [m for m in missing if not m.required]


__all__ = [
    "REQUIRED_FIELDS",
    "MissingName",
    "missing_directory_sources",
    "missing_fields",
    "stop_if_required",
    "table_missing",
]
