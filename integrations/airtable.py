"""Airtable, thin: find a base and table by name, list records 100 a page with only the fields asked for, update 10 a request.

pyairtable does the HTTP (its session is the budgeted one from integrations.clients,
which paces to 5 requests/s per base and waits out 429 lockouts). This module
adds what every flow needs around it: the schema checked once so a missing field
is a clear error instead of a 422 in the middle of a run, formulas for "changed
since" and "these record ids", parallel batch updates, and errors typed by what
the caller should do about them.
"""

from __future__ import annotations

import hashlib
import logging
import threading
from collections.abc import Iterable, Iterator, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from queue import Full, Queue
from typing import Any

import requests
from pyairtable import Api, Base, Table
from pyairtable import formulas as F

from coalition.references import AirtableRef, parse_airtable
from coalition.settings import WorkspaceNameError
from integrations.http import ServiceUnavailable

log = logging.getLogger("integrations.airtable")

PAGE_SIZE = 100  # the API's maximum
WRITE_BATCH = 10  # the API's maximum records per create/update/delete
IDS_PER_LIST = 100  # record ids per filterByFormula, so each lookup is one page
WRITE_WORKERS = 3  # enough to keep the 5/s budget busy while a reply is in flight


# ---------------------------------------------------------------- errors
class AirtableError(Exception):
    """Airtable refused or failed a request; `status` and `kind` are Airtable's own."""

    transient = False

    def __init__(self, message: str, status: int | None = None, kind: str | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.kind = kind


class AirtableNotFound(AirtableError):
    """A base or table that does not exist or that the token may not see."""


class AirtableTableMissing(AirtableNotFound, WorkspaceNameError):
    """The base has no table by the name config gives (the message names the config key)."""


class AirtableFieldError(AirtableError):
    """A field the flow needs is missing from the table (or its name is wrong in config)."""


class AirtableAuthError(AirtableError):
    """The token is missing, wrong or lacks a scope."""


class AirtableRequestError(AirtableError):
    """A request Airtable refused as invalid (422): a bad formula, a bad value."""


class AirtableUnavailable(AirtableError):
    """Rate limited or failing past our retries (429, 5xx, no connection): worth a later retry."""

    transient = True


def is_transient(exc: BaseException) -> bool:
    """True for failures a retry may cure (429, 5xx, timeouts, connection loss)."""
    if isinstance(exc, AirtableError):
        return exc.transient
    return isinstance(exc, ServiceUnavailable | requests.ConnectionError | requests.Timeout)


def _typed(exc: Exception, where: str) -> AirtableError:
    if isinstance(exc, AirtableError):
        return exc
    if isinstance(exc, ServiceUnavailable | requests.ConnectionError | requests.Timeout):
        return AirtableUnavailable(f"Airtable {where}: {exc}")
    response = getattr(exc, "response", None)
    status = getattr(response, "status_code", None)
    kind, message = _error_body(response)
    text = f"Airtable {where}: HTTP {status} {kind or ''} {message or ''}".strip()
    if (
        status == 429
        or (status is not None and status >= 500)
        or kind == "LIST_RECORDS_ITERATOR_NOT_AVAILABLE"
    ):
        return AirtableUnavailable(text, status, kind)
    if status == 401:
        return AirtableAuthError(text, status, kind)
    if status in (403, 404):
        return AirtableNotFound(text, status, kind)
    if kind == "UNKNOWN_FIELD_NAME":
        return AirtableFieldError(text, status, kind)
    return AirtableRequestError(text, status, kind)


def _error_body(response: requests.Response | None) -> tuple[str | None, str | None]:
    if response is None:
        return None, None
    try:
        error = response.json().get("error")
    except ValueError:
        return None, None
    if isinstance(error, dict):
        return error.get("type"), error.get("message")
    return (str(error), None) if error else (None, None)


# ---------------------------------------------------------------- bases and tables
@dataclass
class AirtableTable:
    """A table and the names and types of its fields (from the schema, read once per base)."""

    table: Table
    name: str
    fields: frozenset[str]
    types: Mapping[str, str] = field(
        default_factory=dict
    )  # field name -> Airtable type ("date", ...)

    def missing(self, wanted: Iterable[str]) -> list[str]:
        return [f for f in wanted if f not in self.fields]

    def require(self, wanted: Iterable[str], why: str = "") -> None:
        """Raise AirtableFieldError naming every wanted field the table lacks."""
        missing = self.missing(wanted)
        if missing:
            names = ", ".join(f"'{f}'" for f in missing)
            raise AirtableFieldError(
                f"Airtable table '{self.name}' has no field {names}{f' ({why})' if why else ''}; "
                "add it in Airtable or fix the name in config",
                kind="UNKNOWN_FIELD_NAME",
            )


# Base name -> id, per API endpoint and token, for the life of the process: a base's id never
# changes, and resolving a name costs a `GET /v0/meta/bases` on every run otherwise.
_BASE_IDS: dict[tuple[str, str, str], str] = {}
_BASE_IDS_LOCK = threading.Lock()


def _ids_key(api: Api, name: str) -> tuple[str, str, str]:
    token = hashlib.sha256(str(api.api_key).encode()).hexdigest()[:16]
    return str(api.endpoint_url), token, name


def forget_base_ids() -> None:
    """Resolve base names again from the next open (tests that rebuild the sandbox)."""
    with _BASE_IDS_LOCK:
        _BASE_IDS.clear()


def open_base(api: Api, base: str) -> Base:
    """The base given by name, id or airtable.com link, with the schema of all its tables.

    One request, `GET /v0/meta/bases/{id}/tables`, which answers for every table at once
    (`open_table` reads from it); a base given by name costs one `GET /v0/meta/bases` more
    the first time the process meets that name. An id remembered for a name that no longer
    answers (the base was deleted and made again) is looked up once more.
    """
    ref = parse_airtable(base, "base")
    if not isinstance(ref, AirtableRef):
        why = (
            ref.message("services.yaml airtable.base")
            if ref
            else "services.yaml airtable.base is blank"
        )
        raise AirtableNotFound(why)
    if ref.id:
        return _with_schema(api.base(ref.id), base)
    key = _ids_key(api, ref.canonical())
    with _BASE_IDS_LOCK:
        known = _BASE_IDS.get(key)
    if known is not None:
        try:
            return _with_schema(Base(api, known, name=ref.canonical()), base)
        except AirtableNotFound:
            with _BASE_IDS_LOCK:
                _BASE_IDS.pop(key, None)
    found = _resolve(api, ref.canonical(), base)
    with _BASE_IDS_LOCK:
        _BASE_IDS[key] = found.id
    return _with_schema(found, base)


def _resolve(api: Api, name: str, configured: str) -> Base:
    """The base named `name` from the bases the token may see (one meta request)."""
    try:
        return api.base(name, validate=True, force=True)
    except KeyError:
        raise AirtableNotFound(_no_base(configured)) from None
    except Exception as exc:
        raise _typed(exc, f"opening base '{configured}'") from None


def _with_schema(base: Base, configured: str) -> Base:
    """The base once its schema (every table, every field) is read and cached on it."""
    try:
        base.schema()
    except Exception as exc:
        typed = _typed(exc, f"reading the schema of base '{configured}'")
        if isinstance(typed, AirtableNotFound):
            raise AirtableNotFound(_no_base(configured), typed.status, typed.kind) from None
        raise typed from None
    return base


def _no_base(configured: str) -> str:
    return (
        f"Airtable base '{configured}' not found, or the token may not see it "
        "(check services.yaml airtable.base and the token's access)"
    )


def open_table(base: Base, name: str, config_key: str | None = None) -> AirtableTable:
    """A table by name, id or link with its field names, from the base's schema `open_base` read.

    `config_key` ("config/fields.yaml airtable.members.table") is where the name comes from,
    for the message when the base has no such table."""
    ref = parse_airtable(name, "table")
    if not isinstance(ref, AirtableRef):
        raise AirtableNotFound(ref.message(f"table '{name}'") if ref else "a table name is blank")
    try:
        schema = base.schema().table(ref.canonical())
    except KeyError:
        where = config_key or "config/fields.yaml"
        raise AirtableTableMissing(
            f"{where}: the Airtable base '{base.name or base.id}' has no table '{name}'"
        ) from None
    except Exception as exc:
        raise _typed(exc, f"reading the schema of '{name}'") from None
    return AirtableTable(
        base.table(schema.name),
        schema.name,
        frozenset(f.name for f in schema.fields),
        {f.name: f.type for f in schema.fields},
    )


# ---------------------------------------------------------------- Airtable's own clock
@contextmanager
def server_clock(api: Api) -> Iterator[list[datetime]]:
    """The `Date` of every reply `api` receives while inside, in order: Airtable's own clock.

    A "changed since" watermark read from it needs no margin for the skew between our
    clock and Airtable's (it is whole seconds, and a reply is dated after its request).
    """
    seen: list[datetime] = []

    def note(response: requests.Response, *args: Any, **kwargs: Any) -> requests.Response:
        with suppress(KeyError, TypeError, ValueError):
            seen.append(parsedate_to_datetime(response.headers["Date"]).astimezone(UTC))
        return response

    hooks = api.session.hooks.setdefault("response", [])
    hooks.append(note)
    try:
        yield seen
    finally:
        hooks.remove(note)


# ---------------------------------------------------------------- formulas
def modified_since(since: datetime, watched: Sequence[str] = ()) -> str:
    """Records whose `watched` fields (all fields if none) changed after `since`."""
    when = F.DATETIME_PARSE(since.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.000Z"))
    modified = F.LAST_MODIFIED_TIME(*[F.Field(name) for name in watched])
    return F.to_formula_str(F.IS_AFTER(modified, when))


def record_ids_formula(ids: Sequence[str]) -> str:
    return F.to_formula_str(F.OR(*[F.EQ(F.RECORD_ID(), rid) for rid in ids]))


# ---------------------------------------------------------------- reading
def list_records(
    table: AirtableTable, fields: Sequence[str], formula: str | None = None
) -> Iterator[list[dict[str, Any]]]:
    """Pages of records (100 each) with only `fields`; a formula filters on the server."""
    options: dict[str, Any] = {"page_size": PAGE_SIZE, "fields": list(fields)}
    if formula:
        options["formula"] = formula
    try:
        yield from table.table.iterate(**options)
    except Exception as exc:
        raise _typed(exc, f"listing '{table.name}'") from None


def prefetched(
    pages: Iterator[list[dict[str, Any]]], ahead: int = 2
) -> Iterator[list[dict[str, Any]]]:
    """The same pages, fetched by a thread up to `ahead` pages before the caller asks.

    A listing is a chain (each page's offset comes with the page before), paced by the
    base's budget; fetching the next page while the caller works on this one keeps the
    chain at the budget's pace instead of the budget's pace plus the caller's work.
    An error of the listing is raised to the caller where the page would have been.
    """
    queue: Queue[tuple[str, Any]] = Queue(maxsize=max(ahead, 1))
    stop = threading.Event()

    def fetch() -> None:
        try:
            for page in pages:
                while not stop.is_set():
                    try:
                        queue.put(("page", page), timeout=0.2)
                        break
                    except Full:
                        continue
                if stop.is_set():
                    return
            queue.put(("end", None))
        except BaseException as exc:  # handed to the caller's thread, raised there
            queue.put(("error", exc))

    worker = threading.Thread(target=fetch, name="airtable-prefetch", daemon=True)
    worker.start()
    try:
        while True:
            kind, item = queue.get()
            if kind == "end":
                return
            if kind == "error":
                raise item
            yield item
    finally:
        stop.set()
        worker.join(timeout=5)


def all_records(
    table: AirtableTable, fields: Sequence[str], formula: str | None = None
) -> list[dict[str, Any]]:
    return [record for page in list_records(table, fields, formula) for record in page]


def records_by_id(
    table: AirtableTable, ids: Iterable[str], fields: Sequence[str]
) -> list[dict[str, Any]]:
    """The records with these ids (missing ones were deleted), one page per 100 ids."""
    wanted = sorted(set(ids))
    found: list[dict[str, Any]] = []
    for start in range(0, len(wanted), IDS_PER_LIST):
        chunk = wanted[start : start + IDS_PER_LIST]
        found.extend(all_records(table, fields, record_ids_formula(chunk)))
    return found


# ---------------------------------------------------------------- writing
def update_records(
    table: AirtableTable, updates: Sequence[dict[str, Any]], workers: int = WRITE_WORKERS
) -> int:
    """PATCH the given {"id", "fields"} updates, 10 a request, a few requests in flight; requests made."""
    chunks = [list(updates[i : i + WRITE_BATCH]) for i in range(0, len(updates), WRITE_BATCH)]
    if not chunks:
        return 0

    def send(chunk: list[dict[str, Any]]) -> None:
        try:
            table.table.batch_update(chunk)
        except Exception as exc:
            raise _typed(exc, f"updating '{table.name}'") from None

    if len(chunks) == 1 or workers <= 1:
        for chunk in chunks:
            send(chunk)
    else:
        with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="airtable-write") as pool:
            for future in [pool.submit(send, chunk) for chunk in chunks]:
                future.result()
    return len(chunks)


def create_records(
    table: AirtableTable, records: Sequence[dict[str, Any]], typecast: bool = True
) -> list[dict[str, Any]]:
    """POST the given field dicts, 10 a request, in order; the created records ({"id", "fields"})."""
    created: list[dict[str, Any]] = []
    for start in range(0, len(records), WRITE_BATCH):
        chunk = list(records[start : start + WRITE_BATCH])
        try:
            created.extend(table.table.batch_create(chunk, typecast=typecast))
        except Exception as exc:
            raise _typed(exc, f"creating records in '{table.name}'") from None
    return created


__all__ = [
    "AirtableAuthError",
    "AirtableError",
    "AirtableFieldError",
    "AirtableNotFound",
    "AirtableRequestError",
    "AirtableTable",
    "AirtableTableMissing",
    "AirtableUnavailable",
    "all_records",
    "create_records",
    "forget_base_ids",
    "is_transient",
    "list_records",
    "modified_since",
    "open_base",
    "open_table",
    "prefetched",
    "record_ids_formula",
    "records_by_id",
    "server_clock",
    "update_records",
]
