"""State and behaviour of the emulated Airtable service (no HTTP here).

Bases hold tables; a table holds its fields (with ids, types and options) and its
records in table order, each record with its creation time and the time each of
its fields last changed (what LAST_MODIFIED_TIME() reads). Listing follows the
Web API: pages of at most 100, offsets that name a server-side iterator, fields[],
sort, maxRecords, view, filterByFormula (compiled once per listing), cellFormat,
returnFieldsByFieldId. Writes validate every value against its field's type
(typecast converts and creates select options and linked records), keep inverse
record links in step, and apply all or nothing.

Two ways in: the request-level methods `list_records`, `create`, `update`,
`upsert`, `delete` (what routes.py calls, with the API's 10-record limit), and a
direct API for seeds and tests (`create_base`, `create_table`, `create_records`,
`records`, `update_record_fields`, `delete_record`, `find_base`, `add_view`), without limits.

Not implemented: views other than the table's own order (any existing view name
is accepted), field types beyond cells.SUPPORTED_TYPES (attachments, formulas,
lookups, rollups, collaborators, ...), `timeZone`/`userLocale` beyond cellFormat=string
(formulas work in UTC; "local" date formats know a handful of locales),
comments, webhooks, attachments upload, deleting tables or fields, workspaces,
and the per-token 50 requests/s limit's exact accounting (routes.py counts it
per token string).
"""

from __future__ import annotations

import copy
from collections import OrderedDict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sandbox.airtable import cells, dates
from sandbox.airtable import exceptions as errors
from sandbox.airtable.exceptions import AirtableError
from sandbox.airtable.formula import (
    CompiledFormula,
    FormulaSyntaxError,
    compile_formula,
    to_text,
)
from sandbox.airtable.ids import IdFactory, looks_like
from sandbox.core import SandboxServices

MAX_RECORDS_PER_REQUEST = 10
MAX_PAGE_SIZE = 100
MAX_MERGE_FIELDS = 3
ITERATOR_IDLE_SECONDS = 300.0  # Airtable drops an iterator after some minutes of client inactivity
MAX_ITERATORS = 2000
UPSERT_TYPES = (
    cells.TEXT_TYPES | cells.NUMBER_TYPES | {"singleSelect", "date", "dateTime", "checkbox"}
)


# ------------------------------------------------------------------ state
@dataclass
class Field:
    id: str
    name: str
    type: str
    options: dict[str, Any] | None = None
    description: str | None = None

    def choice_order(self) -> dict[str, int]:
        choices = (self.options or {}).get("choices", [])
        return {choice["name"]: index for index, choice in enumerate(choices)}

    def schema(self) -> dict[str, Any]:
        data: dict[str, Any] = {"id": self.id, "name": self.name, "type": self.type}
        if self.description:
            data["description"] = self.description
        if self.options is not None:
            options = {k: v for k, v in self.options.items() if v is not None}
            data["options"] = {
                k: ([dict(c) for c in v] if k == "choices" else v) for k, v in options.items()
            }
        return data


@dataclass
class Record:
    id: str
    created_time: str
    fields: dict[str, Any] = field(default_factory=dict)  # field id -> value; empties left out
    modified: dict[str, str] = field(default_factory=dict)  # field id -> ISO time of last change

    def last_modified(self) -> str:
        return max(self.modified.values(), default=self.created_time)


@dataclass
class Table:
    id: str
    name: str
    primary_field_id: str = ""
    description: str | None = None
    views: list[dict[str, str]] = field(default_factory=list)
    fields: dict[str, Field] = field(default_factory=dict)
    records: dict[str, Record] = field(default_factory=dict)  # insertion order is table order
    by_name: dict[str, str] = field(default_factory=dict)
    version: int = 0  # bumped on every record write; caches (upsert index) key on it

    def field(self, name_or_id: str) -> Field:
        """A field by id or exact (case-sensitive) name; KeyError if none."""
        if name_or_id in self.fields:
            return self.fields[name_or_id]
        return self.fields[self.by_name[name_or_id]]

    def add_field(self, new: Field) -> None:
        self.fields[new.id] = new
        self.by_name[new.name] = new.id

    def view(self, name_or_id: str) -> dict[str, str] | None:
        return next((v for v in self.views if name_or_id in (v["id"], v["name"])), None)

    def schema(self, visible_field_ids: bool = False) -> dict[str, Any]:
        views = []
        for view in self.views:
            shown = dict(view)
            if visible_field_ids:
                shown["visibleFieldIds"] = list(self.fields)
            views.append(shown)
        data: dict[str, Any] = {
            "id": self.id,
            "name": self.name,
            "primaryFieldId": self.primary_field_id,
            "fields": [f.schema() for f in self.fields.values()],
            "views": views,
        }
        if self.description:
            data["description"] = self.description
        return data


@dataclass
class Base:
    id: str
    name: str
    tables: dict[str, Table] = field(default_factory=dict)

    def table(self, name_or_id: str) -> Table:
        """A table by id or name; KeyError if none."""
        if name_or_id in self.tables:
            return self.tables[name_or_id]
        for table in self.tables.values():
            if table.name == name_or_id:
                return table
        raise KeyError(name_or_id)


@dataclass
class ListQuery:
    """The parameters of one listRecords call, however they arrived (query string or JSON body)."""

    page_size: int = MAX_PAGE_SIZE
    max_records: int | None = None
    offset: str | None = None
    fields: list[str] | None = None
    sort: list[tuple[str, str]] = field(default_factory=list)
    view: str | None = None
    formula: str | None = None
    by_field_id: bool = False
    cell_format: str = "json"
    time_zone: str | None = None
    user_locale: str | None = None


@dataclass
class _Iterator:
    id: str
    base_id: str
    table_id: str
    ids: list[str]
    expires: float
    positions: dict[str, int] = field(default_factory=dict)


@dataclass
class _Write:
    """One record's write, validated, ready to apply."""

    record_id: str | None  # None: a record to create
    values: dict[str, Any]  # field id -> normalised value (None clears)
    replace: bool = False


# ------------------------------------------------------------------ formula context
class _FormulaContext:
    """Lets a compiled formula read one record at a time; `now` is fixed for the whole listing."""

    __slots__ = ("_now", "backend", "base", "record")

    def __init__(self, backend: Backend, base: Base, now: datetime) -> None:
        self.backend = backend
        self.base = base
        self.record: Record | None = None
        self._now = now

    def field(self, key: Field) -> Any:
        raw = self.record.fields.get(key.id)
        if key.type == "multipleRecordLinks":
            return self.backend.link_names(self.base, key, raw) or None
        return cells.formula_value(key.type, raw)

    def record_id(self) -> str:
        return self.record.id

    def created_time(self) -> datetime:
        return datetime.fromisoformat(self.record.created_time)

    def last_modified(self, keys: tuple[Field, ...]) -> datetime | None:
        if not keys:
            return datetime.fromisoformat(self.record.last_modified())
        times = [self.record.modified[f.id] for f in keys if f.id in self.record.modified]
        return datetime.fromisoformat(max(times)) if times else None

    def now(self) -> datetime:
        return self._now


# ------------------------------------------------------------------ backend
class Backend:
    def __init__(self, ctx: SandboxServices) -> None:
        self.ctx = ctx
        self.reset()

    def reset(self) -> None:
        self.bases: dict[str, Base] = {}
        self.ids = IdFactory("airtable")
        self._iterator_ids = IdFactory(
            "airtable-iterators"
        )  # apart, so reads never shift record ids
        self._iterators: OrderedDict[str, _Iterator] = OrderedDict()
        self._merge_index: dict[
            tuple[str, tuple[str, ...]], tuple[int, dict[tuple, list[str]]]
        ] = {}

    def now(self) -> datetime:
        return self.ctx.clock.utcnow()

    # ------------------------------------------------------------ snapshot
    def snapshot(self) -> dict[str, Any]:
        return {
            "id_counter": self.ids.counter,
            "iterator_counter": self._iterator_ids.counter,
            "bases": [
                {
                    "id": base.id,
                    "name": base.name,
                    "tables": [self._table_state(t) for t in base.tables.values()],
                }
                for base in self.bases.values()
            ],
        }

    @staticmethod
    def _table_state(table: Table) -> dict[str, Any]:
        return {
            "id": table.id,
            "name": table.name,
            "description": table.description,
            "primaryFieldId": table.primary_field_id,
            "views": [dict(v) for v in table.views],
            "fields": [
                {**f.schema(), "options": copy.deepcopy(f.options), "description": f.description}
                for f in table.fields.values()
            ],
            "records": [
                {
                    "id": r.id,
                    "createdTime": r.created_time,
                    "fields": {
                        k: list(v) if isinstance(v, list) else v for k, v in r.fields.items()
                    },
                    "modified": dict(r.modified),
                }
                for r in table.records.values()
            ],
        }

    def restore(self, data: dict[str, Any]) -> None:
        data = copy.deepcopy(data)  # the caller keeps its snapshot; we must not share its lists
        self.reset()
        self.ids.counter = int(data.get("id_counter", 0))
        self._iterator_ids.counter = int(data.get("iterator_counter", 0))
        for base_data in data.get("bases", []):
            base = Base(base_data["id"], base_data["name"])
            for table_data in base_data.get("tables", []):
                table = Table(
                    table_data["id"],
                    table_data["name"],
                    table_data.get("primaryFieldId", ""),
                    table_data.get("description"),
                    [dict(v) for v in table_data.get("views", [])],
                )
                for f in table_data.get("fields", []):
                    table.add_field(
                        Field(f["id"], f["name"], f["type"], f.get("options"), f.get("description"))
                    )
                for r in table_data.get("records", []):
                    table.records[r["id"]] = Record(
                        r["id"], r["createdTime"], dict(r["fields"]), dict(r.get("modified", {}))
                    )
                base.tables[table.id] = table
            self.bases[base.id] = base

    # ------------------------------------------------------------ lookups
    def base(self, base_id: str) -> Base:
        try:
            return self.bases[base_id]
        except KeyError:
            raise errors.model_not_found() from None

    def table(self, base_id: str, table: str) -> tuple[Base, Table]:
        base = self.base(base_id)
        try:
            return base, base.table(table)
        except KeyError:
            raise errors.model_not_found() from None

    def find_base(self, name: str) -> str | None:
        """The id of the base with this name, if any."""
        return next((b.id for b in self.bases.values() if b.name == name), None)

    @staticmethod
    def _field(table: Table, name_or_id: str) -> Field:
        try:
            return table.field(name_or_id)
        except KeyError:
            raise errors.unknown_field(name_or_id) from None

    # ------------------------------------------------------------ schema
    def create_base(self, name: str, base_id: str | None = None) -> str:
        """A new empty base; returns its id (give `base_id` to pin one, e.g. in a seed)."""
        base_id = base_id or self.ids.new("app")
        if base_id in self.bases:
            raise AirtableError(422, "DUPLICATE_BASE_ID", f"Base {base_id} already exists")
        self.bases[base_id] = Base(base_id, name)
        return base_id

    def create_table(
        self,
        base_id: str,
        name: str,
        fields: list[dict[str, Any]],
        description: str | None = None,
    ) -> str:
        """A new table; the first field is the primary one. Returns the table id."""
        return self.meta_create_table(base_id, name, fields, description)["id"]

    def meta_create_table(
        self,
        base_id: str,
        name: Any,
        fields: Any,
        description: str | None = None,
    ) -> dict[str, Any]:
        base = self.base(base_id)
        if not isinstance(name, str) or not name.strip():
            raise errors.invalid_request("a table needs a name")
        if any(t.name.casefold() == name.casefold() for t in base.tables.values()):
            raise AirtableError(
                422, "DUPLICATE_TABLE_NAME", f'A table named "{name}" already exists'
            )
        if not isinstance(fields, list) or not fields:
            raise errors.invalid_request("a table needs at least one field")
        table = Table(self.ids.new("tbl"), name.strip(), description=description)
        specs = [self._check_field_spec(base, table, spec, taken=set()) for spec in fields]
        names = [spec["name"] for spec in specs]
        duplicate = next((n for n in names if names.count(n) > 1), None)
        if duplicate is not None:
            raise AirtableError(
                422, "DUPLICATE_OR_EMPTY_FIELD_NAME", f'Field name "{duplicate}" is used twice'
            )
        if specs[0]["type"] in cells.NOT_PRIMARY:
            raise AirtableError(
                422,
                "INVALID_FIELD_TYPE",
                f"A field of type {specs[0]['type']} cannot be the primary field",
            )
        table.views.append({"id": self.ids.new("viw"), "name": "Grid view", "type": "grid"})
        base.tables[table.id] = table
        for spec in specs:
            self._add_field(base, table, spec)
        table.primary_field_id = next(iter(table.fields))
        return table.schema()

    def create_field(
        self,
        base_id: str,
        table_name: str,
        name: Any,
        type_: Any,
        options: dict[str, Any] | None = None,
        description: str | None = None,
    ) -> dict[str, Any]:
        """Add a field to an existing table; returns its schema (id, name, type, options)."""
        base, table = self.table(base_id, table_name)
        spec = {"name": name, "type": type_, "options": options, "description": description}
        spec = self._check_field_spec(base, table, spec, taken=set(table.by_name))
        return self._add_field(base, table, spec).schema()

    def update_field(
        self, base_id: str, table_name: str, field_id: str, changes: dict[str, Any]
    ) -> dict[str, Any]:
        """Rename a field or change its description (the meta API's PATCH field)."""
        _, table = self.table(base_id, table_name)
        target = self._field(table, field_id)
        unknown = set(changes) - {"name", "description"}
        if unknown:
            raise errors.invalid_request(f"cannot change {', '.join(sorted(unknown))} of a field")
        if "name" in changes:
            new_name = changes["name"]
            if not isinstance(new_name, str) or not new_name.strip():
                raise AirtableError(422, "DUPLICATE_OR_EMPTY_FIELD_NAME", "A field needs a name")
            if new_name != target.name and new_name in table.by_name:
                raise AirtableError(
                    422, "DUPLICATE_OR_EMPTY_FIELD_NAME", f'Field name "{new_name}" is taken'
                )
            del table.by_name[target.name]
            target.name = new_name
            table.by_name[new_name] = target.id
        if "description" in changes:
            target.description = changes["description"] or None
        return target.schema()

    def update_table(
        self, base_id: str, table_name: str, changes: dict[str, Any]
    ) -> dict[str, Any]:
        """Rename a table or change its description (the meta API's PATCH table)."""
        base, table = self.table(base_id, table_name)
        unknown = set(changes) - {"name", "description"}
        if unknown:
            raise errors.invalid_request(f"cannot change {', '.join(sorted(unknown))} of a table")
        if "name" in changes:
            new_name = changes["name"]
            if not isinstance(new_name, str) or not new_name.strip():
                raise errors.invalid_request("a table needs a name")
            if any(t is not table and t.name == new_name for t in base.tables.values()):
                raise AirtableError(
                    422, "DUPLICATE_TABLE_NAME", f'A table named "{new_name}" already exists'
                )
            table.name = new_name
        if "description" in changes:
            table.description = changes["description"] or None
        return table.schema()

    def add_view(self, base_id: str, table_name: str, name: str, type_: str = "grid") -> str:
        """A named view (listing through it gives the table's order), for seeds mirroring real bases."""
        _, table = self.table(base_id, table_name)
        if table.view(name) is not None:
            raise errors.invalid_request(f'table {table.name} already has a view "{name}"')
        view_id = self.ids.new("viw")
        table.views.append({"id": view_id, "name": name, "type": type_})
        return view_id

    def meta_bases(self) -> list[dict[str, Any]]:
        return [
            {"id": b.id, "name": b.name, "permissionLevel": "create"} for b in self.bases.values()
        ]

    def meta_tables(self, base_id: str, visible_field_ids: bool = False) -> list[dict[str, Any]]:
        return [t.schema(visible_field_ids) for t in self.base(base_id).tables.values()]

    def _check_field_spec(
        self, base: Base, table: Table, spec: Any, taken: set[str]
    ) -> dict[str, Any]:
        """Validate a field definition; returns it with defaults filled, changing nothing."""
        if not isinstance(spec, dict):
            raise errors.invalid_request("each field must be an object with a name and a type")
        name, type_ = spec.get("name"), spec.get("type")
        if not isinstance(name, str) or not name.strip() or name in taken:
            raise AirtableError(
                422, "DUPLICATE_OR_EMPTY_FIELD_NAME", f"Field name {name!r} is empty or taken"
            )
        if type_ not in cells.SUPPORTED_TYPES:
            raise AirtableError(
                422,
                "INVALID_FIELD_TYPE",
                f"Field type {type_!r} is not supported by the sandbox; use one of "
                + ", ".join(sorted(cells.SUPPORTED_TYPES)),
            )
        options = spec.get("options")
        if options is not None and not isinstance(options, dict):
            raise errors.invalid_request(f'options of field "{name}" must be an object')
        options = cells.default_options(type_, options)
        if type_ in cells.SELECT_TYPES:
            options["choices"] = self._check_choices(name, options["choices"])
        if type_ == "multipleRecordLinks":
            linked = options.get("linkedTableId")
            if linked == table.name or linked == table.id:
                options["linkedTableId"] = table.id
            else:
                try:
                    options["linkedTableId"] = base.table(str(linked)).id
                except KeyError:
                    raise AirtableError(
                        422,
                        "INVALID_FIELD_OPTIONS",
                        f'Field "{name}" links to table {linked!r}, which this base does not have',
                    ) from None
        return {
            "name": name.strip(),
            "type": type_,
            "options": options,
            "description": spec.get("description"),
        }

    @staticmethod
    def _check_choices(field_name: str, choices: Any) -> list[dict[str, Any]]:
        if not isinstance(choices, list):
            raise AirtableError(
                422, "INVALID_FIELD_OPTIONS", f'choices of field "{field_name}" must be a list'
            )
        checked: list[dict[str, Any]] = []
        for choice in choices:
            entry = {"name": choice} if isinstance(choice, str) else choice
            if not isinstance(entry, dict) or not isinstance(entry.get("name"), str):
                raise AirtableError(
                    422, "INVALID_FIELD_OPTIONS", f'a choice of field "{field_name}" has no name'
                )
            if all(c["name"] != entry["name"] for c in checked):
                checked.append(dict(entry))
        return checked

    def _add_field(self, base: Base, table: Table, spec: dict[str, Any]) -> Field:
        options = spec["options"]
        if options and "choices" in options:
            for index, choice in enumerate(options["choices"]):
                choice.setdefault("id", self.ids.new("sel"))
                choice.setdefault("color", cells.CHOICE_COLORS[index % len(cells.CHOICE_COLORS)])
        new = Field(
            self.ids.new("fld"), spec["name"], spec["type"], options, spec.get("description")
        )
        table.add_field(new)
        if new.type == "multipleRecordLinks" and options["linkedTableId"] != table.id:
            self._add_inverse_link(base, table, new)
        return new

    def _add_inverse_link(self, base: Base, table: Table, link: Field) -> None:
        """Airtable gives the linked table a field linking back, named after this table."""
        linked = base.tables[link.options["linkedTableId"]]
        name, suffix = table.name, 2
        while name in linked.by_name:
            name, suffix = f"{table.name} {suffix}", suffix + 1
        inverse = Field(
            self.ids.new("fld"),
            name,
            "multipleRecordLinks",
            {
                "linkedTableId": table.id,
                "isReversed": False,
                "prefersSingleRecordLink": False,
                "inverseLinkFieldId": link.id,
            },
        )
        linked.add_field(inverse)
        link.options["inverseLinkFieldId"] = inverse.id

    # ------------------------------------------------------------ reading records
    def render(
        self,
        base: Base,
        table: Table,
        record: Record,
        by_field_id: bool = False,
        only: set[str] | None = None,
        as_string: cells.Display | None = None,
    ) -> dict[str, Any]:
        """A record as the API returns it: id, createdTime and its non-empty fields.

        `as_string` (cellFormat=string) shows every field as text, as the grid shows it
        in the caller's time zone and locale.
        """
        fields: dict[str, Any] = {}
        for field_id, value in record.fields.items():
            if only is not None and field_id not in only:
                continue
            spec = table.fields[field_id]
            if as_string:
                if spec.type == "multipleRecordLinks":
                    value = ", ".join(self.link_names(base, spec, value))
                else:
                    value = cells.string_value(spec.type, value, spec.options, as_string)
            elif isinstance(value, list):
                value = list(value)
            fields[field_id if by_field_id else spec.name] = value
        return {"id": record.id, "createdTime": record.created_time, "fields": fields}

    def link_names(self, base: Base, link: Field, ids: list[str] | None) -> list[str]:
        """The primary-field text of linked records, as formulas and string cells see them."""
        if not ids:
            return []
        linked = base.tables.get(link.options["linkedTableId"])
        if linked is None:
            return []
        primary = linked.fields[linked.primary_field_id]
        names = []
        for record_id in ids:
            record = linked.records.get(record_id)
            if record is not None:
                names.append(
                    to_text(cells.formula_value(primary.type, record.fields.get(primary.id)))
                )
        return names

    def get_record(
        self,
        base_id: str,
        table_name: str,
        record_id: str,
        by_field_id: bool = False,
        query: ListQuery | None = None,
    ) -> dict[str, Any]:
        """Get record: the same cellFormat, timeZone and userLocale rules as listing."""
        shown = self._display(query) if query is not None else None
        base, table = self.table(base_id, table_name)
        record = table.records.get(record_id)
        if record is None:
            raise errors.record_not_found(record_id)
        return self.render(base, table, record, by_field_id, as_string=shown)

    @staticmethod
    def _display(query: ListQuery) -> cells.Display | None:
        """cellFormat=string's Display (it needs timeZone and userLocale), or None for json."""
        if query.cell_format not in ("json", "string"):
            raise errors.invalid_request(
                f"cellFormat must be json or string, not {query.cell_format!r}"
            )
        if query.cell_format == "json":
            return None
        if not (query.time_zone and query.user_locale):
            raise errors.invalid_request("cellFormat string requires timeZone and userLocale")
        try:
            return cells.display(query.time_zone, query.user_locale)
        except ValueError as problem:
            raise errors.invalid_request(str(problem)) from None

    def records(self, base_id: str, table_name: str) -> list[dict[str, Any]]:
        """Every record of a table in table order, as the API shows them."""
        base, table = self.table(base_id, table_name)
        return [self.render(base, table, r) for r in table.records.values()]

    def list_records(self, base_id: str, table_name: str, query: ListQuery) -> dict[str, Any]:
        """One page of listRecords: `{"records": [...], "offset": ...}` (offset until the last page)."""
        base, table = self.table(base_id, table_name)
        only = self._projection(table, query.fields)
        if not 1 <= query.page_size <= MAX_PAGE_SIZE:
            raise AirtableError(
                422, "INVALID_PAGE_SIZE", f"pageSize must be between 1 and {MAX_PAGE_SIZE}"
            )
        if query.max_records is not None and query.max_records < 1:
            raise errors.invalid_request("maxRecords must be a positive integer")
        as_string = self._display(query)
        if query.offset:
            iterator = self._resume(base, table, query.offset)
            ids, start = iterator.ids, iterator.positions[query.offset.split("/", 1)[1]]
        else:
            iterator, ids, start = None, self._select(base, table, query), 0
        page_ids = ids[start : start + query.page_size]
        page = [
            self.render(base, table, table.records[i], query.by_field_id, only, as_string)
            for i in page_ids
            if i in table.records  # deleted since the first page
        ]
        reply: dict[str, Any] = {"records": page}
        following = start + query.page_size
        if following < len(ids):
            iterator = iterator or self._new_iterator(base, table, ids)
            iterator.positions[ids[following]] = following
            reply["offset"] = f"{iterator.id}/{ids[following]}"
        return reply

    def _projection(self, table: Table, names: list[str] | None) -> set[str] | None:
        if names is None:
            return None
        return {self._field(table, name).id for name in names}

    def _select(self, base: Base, table: Table, query: ListQuery) -> list[str]:
        """The ids a listing returns, in order: view, filter, sort, maxRecords."""
        if query.view is not None and table.view(query.view) is None:
            raise AirtableError(
                422,
                "VIEW_NAME_NOT_FOUND",
                f'Could not find view "{query.view}" in table {table.name}',
            )
        sorts = [(self._field(table, name), direction) for name, direction in query.sort]
        for _, direction in sorts:
            if direction not in ("asc", "desc"):
                raise errors.invalid_request(
                    f"sort direction must be asc or desc, not {direction!r}"
                )
        records: Iterable[Record] = table.records.values()
        if query.formula and query.formula.strip():
            records = self._filter(base, table, query.formula, records)
        chosen = list(records)
        for spec, direction in reversed(sorts):
            chosen.sort(key=self._sort_key(base, spec), reverse=direction == "desc")
        if query.max_records is not None:
            chosen = chosen[: query.max_records]
        return [r.id for r in chosen]

    def _filter(
        self, base: Base, table: Table, formula: str, records: Iterable[Record]
    ) -> list[Record]:
        compiled = self.compile(table, formula)
        context = _FormulaContext(self, base, self.now())
        kept = []
        for record in records:
            context.record = record
            if compiled.keep(context):
                kept.append(record)
        return kept

    @staticmethod
    def compile(table: Table, formula: str) -> CompiledFormula:
        """Compile a filterByFormula against a table's fields, or raise the API's 422."""
        try:
            return compile_formula(formula, table.field)
        except FormulaSyntaxError as exc:
            raise errors.invalid_formula(str(exc)) from None

    def _sort_key(self, base: Base, spec: Field) -> Callable[[Record], tuple]:
        if spec.type == "multipleRecordLinks":
            return lambda r: cells.sort_key(
                "multilineText",
                ", ".join(self.link_names(base, spec, r.fields.get(spec.id))) or None,
            )
        order = spec.choice_order() if spec.type in cells.SELECT_TYPES else None
        return lambda r: cells.sort_key(spec.type, r.fields.get(spec.id), order)

    def _new_iterator(self, base: Base, table: Table, ids: list[str]) -> _Iterator:
        iterator = _Iterator(
            self._iterator_ids.new("itr"), base.id, table.id, ids, self._iterator_deadline()
        )
        self._iterators[iterator.id] = iterator
        while len(self._iterators) > MAX_ITERATORS:
            self._iterators.popitem(last=False)
        return iterator

    def _iterator_deadline(self) -> float:
        return self.ctx.clock.now() + self.ctx.clock.seconds(ITERATOR_IDLE_SECONDS)

    def _resume(self, base: Base, table: Table, offset: str) -> _Iterator:
        """The iterator an offset names; 422 if it is malformed, unknown or has timed out."""
        iterator_id, _, record_id = offset.partition("/")
        if not (looks_like("itr", iterator_id) and looks_like("rec", record_id)):
            raise errors.invalid_offset(offset)
        iterator = self._iterators.get(iterator_id)
        if iterator is not None and iterator.expires < self.ctx.clock.now():
            del self._iterators[iterator_id]
            iterator = None
        if (
            iterator is None
            or (iterator.base_id, iterator.table_id) != (base.id, table.id)
            or record_id not in iterator.positions
        ):
            raise errors.iterator_not_available()
        iterator.expires = self._iterator_deadline()
        self._iterators.move_to_end(iterator_id)
        return iterator

    # ------------------------------------------------------------ validating writes
    def _prepare(
        self,
        base: Base,
        table: Table,
        fields: Any,
        typecast: bool,
        record_id: str | None,
        replace: bool,
    ) -> _Write:
        """Check one record's fields without changing anything (typecast effects come at apply)."""
        if not isinstance(fields, dict):
            raise errors.invalid_request('each record needs a "fields" object')
        values: dict[str, Any] = {}
        for key, value in fields.items():
            spec = self._field(table, key)
            values[spec.id] = self._normalise(base, spec, value, typecast, apply=False)
        return _Write(record_id, values, replace)

    def _normalise(self, base: Base, spec: Field, value: Any, typecast: bool, apply: bool) -> Any:
        """A value in stored form, or None to clear; with apply=True, typecast may create options/records."""
        try:
            if spec.type in cells.SELECT_TYPES:
                stored = self._select_value(spec, value, typecast, apply)
            elif spec.type == "multipleRecordLinks":
                stored = self._link_value(base, spec, value, typecast, apply)
            else:
                stored = cells.scalar_value(spec.type, value, typecast)
        except cells.CellError as exc:
            raise errors.invalid_value(spec.name, str(exc)) from None
        return None if cells.is_empty(stored) else stored

    def _select_value(self, spec: Field, value: Any, typecast: bool, apply: bool) -> Any:
        multiple = spec.type == "multipleSelects"
        names = cells.select_names(value, typecast, multiple)
        known = spec.choice_order()
        for name in names:
            if name in known:
                continue
            if not typecast:
                raise errors.invalid_choice(spec.name, name)
            if apply:
                choices = spec.options["choices"]
                choices.append(
                    {
                        "id": self.ids.new("sel"),
                        "name": name,
                        "color": cells.CHOICE_COLORS[len(choices) % len(cells.CHOICE_COLORS)],
                    }
                )
                known[name] = len(choices) - 1
        if multiple:
            return names
        return names[0] if names else None

    def _link_value(
        self, base: Base, spec: Field, value: Any, typecast: bool, apply: bool
    ) -> list[str]:
        linked = base.tables.get(spec.options["linkedTableId"])
        refs = cells.link_refs(value, typecast)
        if linked is None:
            raise cells.CellError("the linked table no longer exists")
        ids: list[str] = []
        for ref in refs:
            if ref in linked.records:
                found = ref
            elif not typecast:
                if looks_like("rec", ref):
                    raise errors.row_does_not_exist(ref)
                raise cells.CellError("expected an array of record IDs")
            else:
                found = self._link_by_name(base, linked, ref, apply)
            if found not in ids:
                ids.append(found)
        return ids

    def _link_by_name(self, base: Base, linked: Table, name: str, apply: bool) -> str:
        """Typecast links by primary-field text, creating the linked record if none matches."""
        primary = linked.fields[linked.primary_field_id]
        for record in linked.records.values():
            if to_text(cells.formula_value(primary.type, record.fields.get(primary.id))) == name:
                return record.id
        if not apply:
            return name
        write = self._prepare(base, linked, {primary.id: name}, True, None, False)
        return self._apply(base, linked, [write], dates.iso_ms(self.now()))[0].id

    # ------------------------------------------------------------ applying writes
    def _apply(self, base: Base, table: Table, writes: list[_Write], now: str) -> list[Record]:
        """Apply validated writes (they cannot fail now) and bump per-field modified times."""
        done: list[Record] = []
        for write in writes:
            if write.record_id is None:
                record = Record(self.ids.new("rec"), now)
                table.records[record.id] = record
            else:
                record = table.records[write.record_id]
            values = write.values
            if write.replace:
                for fid in list(record.fields):
                    if fid not in values:
                        self._set(base, table, record, table.fields[fid], None, now)
            for fid, value in values.items():
                self._set(base, table, record, table.fields[fid], value, now)
            done.append(record)
        table.version += 1
        return done

    def _set(
        self, base: Base, table: Table, record: Record, spec: Field, value: Any, now: str
    ) -> None:
        old = record.fields.get(spec.id)
        if old == value:
            return
        if value is None:
            del record.fields[spec.id]
        else:
            record.fields[spec.id] = value
        record.modified[spec.id] = now
        if spec.type == "multipleRecordLinks":
            self._sync_inverse(base, record, spec, old or [], value or [], now)

    def _sync_inverse(
        self, base: Base, record: Record, link: Field, old: list[str], new: list[str], now: str
    ) -> None:
        """Keep the linked table's inverse field in step, as Airtable does."""
        linked = base.tables.get(link.options["linkedTableId"])
        inverse_id = link.options.get("inverseLinkFieldId")
        if linked is None or inverse_id not in (linked.fields if linked else {}):
            return
        for other_id in set(old) ^ set(new):
            other = linked.records.get(other_id)
            if other is None:
                continue
            current = list(other.fields.get(inverse_id, []))
            if other_id in new and record.id not in current:
                current.append(record.id)
            elif other_id not in new and record.id in current:
                current.remove(record.id)
            else:
                continue
            if current:
                other.fields[inverse_id] = current
            else:
                other.fields.pop(inverse_id, None)
            other.modified[inverse_id] = now
        linked.version += 1

    # ------------------------------------------------------------ request-level writes
    @staticmethod
    def _check_count(count: int, verb: str, limit: int | None) -> None:
        if count == 0:
            raise errors.invalid_records(f"You must provide at least one record to {verb}")
        if limit is not None and count > limit:
            raise errors.invalid_records(
                f"A maximum of {limit} records can be {verb}d per request but you have provided {count}."
            )

    def create(
        self,
        base_id: str,
        table_name: str,
        records: list[Any],
        typecast: bool = False,
        limit: int | None = MAX_RECORDS_PER_REQUEST,
    ) -> list[Record]:
        """Create records from field dicts, all or none."""
        base, table = self.table(base_id, table_name)
        self._check_count(len(records), "create", limit)
        writes = [self._prepare(base, table, fields, typecast, None, False) for fields in records]
        return self._commit(base, table, writes, records, typecast)

    def update(
        self,
        base_id: str,
        table_name: str,
        updates: list[tuple[str, Any]],
        replace: bool = False,
        typecast: bool = False,
        limit: int | None = MAX_RECORDS_PER_REQUEST,
        single: bool = False,
    ) -> list[Record]:
        """Update (PATCH merges) or replace (PUT clears unnamed fields) records by id, all or none."""
        base, table = self.table(base_id, table_name)
        self._check_count(len(updates), "update", limit)
        writes = []
        for record_id, fields in updates:
            if record_id not in table.records:
                raise (
                    errors.record_not_found(record_id)
                    if single
                    else errors.row_does_not_exist(record_id)
                )
            writes.append(self._prepare(base, table, fields, typecast, record_id, replace))
        return self._commit(base, table, writes, [fields for _, fields in updates], typecast)

    def _commit(
        self, base: Base, table: Table, writes: list[_Write], raw_fields: list[Any], typecast: bool
    ) -> list[Record]:
        """Apply prepared writes; typecast re-normalises with apply=True so options/links get created."""
        if typecast:
            for write, fields in zip(writes, raw_fields, strict=True):
                write.values = {
                    self._field(table, key).id: self._normalise(
                        base, self._field(table, key), value, True, apply=True
                    )
                    for key, value in fields.items()
                }
        return self._apply(base, table, writes, dates.iso_ms(self.now()))

    def upsert(
        self,
        base_id: str,
        table_name: str,
        items: list[Any],
        merge_on: Any,
        replace: bool = False,
        typecast: bool = False,
        limit: int | None = MAX_RECORDS_PER_REQUEST,
    ) -> tuple[list[Record], list[str], list[str]]:
        """performUpsert: match each record on `merge_on` fields; none creates, one updates, more fail."""
        base, table = self.table(base_id, table_name)
        self._check_count(len(items), "update", limit)
        keys = self._merge_fields(table, merge_on)
        index = self._index(table, keys)
        writes: list[_Write] = []
        raw_fields: list[Any] = []
        seen: set[tuple] = set()
        for position, item in enumerate(items):
            if not isinstance(item, dict) or not isinstance(item.get("fields"), dict):
                raise errors.invalid_request('each record needs a "fields" object')
            fields = item["fields"]
            if item.get("id") is not None:
                if item["id"] not in table.records:
                    raise errors.row_does_not_exist(item["id"])
                writes.append(self._prepare(base, table, fields, typecast, item["id"], replace))
                raw_fields.append(fields)
                continue
            write = self._prepare(base, table, fields, typecast, None, replace)
            key = self._merge_key(table, keys, write, position)
            if key in seen:
                raise errors.invalid_records(
                    f"Records {position} and another in this request share the values of fieldsToMergeOn"
                )
            seen.add(key)
            matches = index.get(key, [])
            if len(matches) > 1:
                raise errors.invalid_records(
                    f"Record {position} matches {len(matches)} records on fieldsToMergeOn;"
                    " upsert needs at most one"
                )
            write.record_id = matches[0] if matches else None
            writes.append(write)
            raw_fields.append(fields)
        creating = [w.record_id is None for w in writes]
        version = table.version
        done = self._commit(base, table, writes, raw_fields, typecast)
        if table.version == version + 1:
            self._refresh_index(table, keys, index, done)
        else:  # typecast created records in this very table (a self-link): rebuild next time
            self._merge_index.pop((table.id, keys), None)
        created = [r.id for r, new in zip(done, creating, strict=True) if new]
        updated = [r.id for r, new in zip(done, creating, strict=True) if not new]
        return done, created, updated

    def _merge_fields(self, table: Table, merge_on: Any) -> tuple[str, ...]:
        if (
            not isinstance(merge_on, list)
            or not 1 <= len(merge_on) <= MAX_MERGE_FIELDS
            or not all(isinstance(n, str) for n in merge_on)
        ):
            raise errors.invalid_request(
                f"performUpsert.fieldsToMergeOn must list 1 to {MAX_MERGE_FIELDS} field names"
            )
        specs = [self._field(table, name) for name in merge_on]
        for spec in specs:
            if spec.type not in UPSERT_TYPES:
                raise errors.invalid_request(
                    f'field "{spec.name}" of type {spec.type} cannot be used in fieldsToMergeOn'
                )
        return tuple(spec.id for spec in specs)

    def _merge_key(
        self, table: Table, keys: tuple[str, ...], write: _Write, position: int
    ) -> tuple:
        missing = [table.fields[k].name for k in keys if k not in write.values]
        if missing:
            raise errors.invalid_records(
                f"Record {position} is missing fieldsToMergeOn field(s): {', '.join(missing)}"
            )
        return tuple(write.values[k] for k in keys)

    def _index(self, table: Table, keys: tuple[str, ...]) -> dict[tuple, list[str]]:
        """Merge-key -> record ids, rebuilt only when the table changed since the last upsert."""
        cached = self._merge_index.get((table.id, keys))
        if cached and cached[0] == table.version:
            return cached[1]
        index: dict[tuple, list[str]] = {}
        for record in table.records.values():
            index.setdefault(tuple(record.fields.get(k) for k in keys), []).append(record.id)
        self._merge_index[(table.id, keys)] = (table.version, index)
        return index

    def _refresh_index(
        self, table: Table, keys: tuple[str, ...], index: dict[tuple, list[str]], done: list[Record]
    ) -> None:
        changed = {r.id for r in done}
        for ids in index.values():
            ids[:] = [i for i in ids if i not in changed]
        for record in done:
            index.setdefault(tuple(record.fields.get(k) for k in keys), []).append(record.id)
        self._merge_index[(table.id, keys)] = (table.version, index)

    def delete(
        self,
        base_id: str,
        table_name: str,
        record_ids: list[str],
        limit: int | None = MAX_RECORDS_PER_REQUEST,
        single: bool = False,
    ) -> list[str]:
        """Delete records by id, all or none; links to them disappear from other records."""
        base, table = self.table(base_id, table_name)
        self._check_count(len(record_ids), "delete", limit)
        for record_id in record_ids:
            if record_id not in table.records:
                raise (
                    errors.record_not_found(record_id)
                    if single
                    else errors.row_does_not_exist(record_id)
                )
        now = dates.iso_ms(self.now())
        gone = set(record_ids)
        for record_id in record_ids:
            table.records.pop(record_id, None)
        table.version += 1
        self._unlink(base, table, gone, now)
        return list(record_ids)

    def _unlink(self, base: Base, table: Table, gone: set[str], now: str) -> None:
        for other in base.tables.values():
            links = [
                f for f in other.fields.values()
                if f.type == "multipleRecordLinks" and f.options["linkedTableId"] == table.id
            ]  # fmt: skip
            if not links:
                continue
            for record in other.records.values():
                for link in links:
                    value = record.fields.get(link.id)
                    if value and gone.intersection(value):
                        remaining = [i for i in value if i not in gone]
                        if remaining:
                            record.fields[link.id] = remaining
                        else:
                            del record.fields[link.id]
                        record.modified[link.id] = now
            other.version += 1

    # ------------------------------------------------------------ direct API for seeds and tests
    def create_records(
        self, base_id: str, table_name: str, records: list[dict[str, Any]], typecast: bool = True
    ) -> list[dict[str, Any]]:
        """Create any number of records from field dicts; returns them as the API would."""
        base, table = self.table(base_id, table_name)
        if not records:
            return []
        created = self.create(base_id, table_name, list(records), typecast, limit=None)
        return [self.render(base, table, r) for r in created]

    def update_record_fields(
        self,
        base_id: str,
        table_name: str,
        record_id: str,
        fields: dict[str, Any],
        typecast: bool = True,
    ) -> dict[str, Any]:
        """Change some fields of a record, as a staff member editing a cell would."""
        base, table = self.table(base_id, table_name)
        (record,) = self.update(
            base_id, table_name, [(record_id, fields)], False, typecast, None, single=True
        )
        return self.render(base, table, record)

    def backdate_records(self, base_id: str, table_name: str, typed_at: dict[str, str]) -> None:
        """Make records look typed in at the given ISO times and untouched since (seeds of long-kept data).

        Real bases hold records made months ago; a seed made a moment ago would look
        like fresh edits to any reader of CREATED_TIME() or LAST_MODIFIED_TIME().
        """
        _, table = self.table(base_id, table_name)
        for record_id, at in typed_at.items():
            record = table.records[record_id]
            record.created_time = at
            record.modified = dict.fromkeys(record.modified, at)
        table.version += 1

    def delete_record(self, base_id: str, table_name: str, record_id: str) -> None:
        """Delete one record, as a staff member would."""
        self.delete(base_id, table_name, [record_id], None, single=True)
