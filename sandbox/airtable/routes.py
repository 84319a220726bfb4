"""HTTP translation of the emulated Airtable Web API (`/v0/...`): parse, call the model, reply.

Every call counts against 5 requests/s per base and 50/s per token; over either,
429 RATE_LIMIT_REACHED and a 30 s lockout (no Retry-After header: Airtable only
documents the wait). Unknown query parameters and body keys are refused with 422,
as Airtable refuses them, so a misspelt option fails in tests rather than being
silently ignored.

cellFormat=string (listing and get record) shows every field as text as the grid
does, dates and date-times in the field's format and time zone (or the caller's
`timeZone` for fields set to "client"); it requires `timeZone` and `userLocale`.

A request URL of 16,000 characters or more is refused with 414 before anything else,
as Airtable refuses it (clients switch to POST listRecords below that; the body of
the real 414 is not documented: this one reads as airtable.js reports it).

Not implemented: `recordMetadata` (accepted, no comment counts returned),
table names containing "/", webhooks, comments, attachments, enterprise and
workspace endpoints.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Awaitable, Callable
from typing import Any

from starlette.datastructures import QueryParams
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route

from sandbox.airtable import exceptions as errors
from sandbox.airtable.exceptions import AirtableError
from sandbox.airtable.models import Backend, ListQuery
from sandbox.core import bearer_token

PER_BASE_LIMIT = (5, 1.0)
PER_TOKEN_LIMIT = (50, 1.0)
LOCKOUT_SECONDS = 30.0
WHOAMI = {
    "id": "usrSANDBOXUSER000",
    "scopes": [
        "data.records:read",
        "data.records:write",
        "schema.bases:read",
        "schema.bases:write",
    ],
}
ALL_METHODS = ["GET", "POST", "PATCH", "PUT", "DELETE", "HEAD", "OPTIONS"]

_LIST_PARAMS = {
    "pageSize",
    "maxRecords",
    "offset",
    "view",
    "filterByFormula",
    "cellFormat",
    "timeZone",
    "userLocale",
    "returnFieldsByFieldId",
}
_LIST_BODY_KEYS = _LIST_PARAMS | {"fields", "sort", "recordMetadata"}
MAX_URL_LENGTH = 16_000  # Airtable refuses a URL of 16,000 characters or more (414)
_RECORD_PARAMS = {"cellFormat", "timeZone", "userLocale", "returnFieldsByFieldId"}
_FIELDS_PARAM = re.compile(r"fields(?:\[\d*\])?")
_SORT_PARAM = re.compile(r"sort\[(\d+)\]\[(field|direction)\]")
_METADATA_PARAM = re.compile(r"recordMetadata(?:\[\d*\])?")

Handler = Callable[[Request], Awaitable[Any]]


# ------------------------------------------------------------------ contract with sandbox/app.py
def is_authorized(path: str, headers: dict[str, str], query: str) -> bool:
    return bool(bearer_token(headers))


def error_response(kind: str, status: int, retry_after: float | None) -> Response:
    """Airtable's own shapes for injected faults and missing credentials (never a Retry-After)."""
    if kind == "401":
        error = errors.authentication_required()
    elif kind == "429":
        error = errors.rate_limited()
    else:
        error = errors.server_error(status)
    return JSONResponse(error.body(), status_code=status)


def routes(backend: Backend) -> list[BaseRoute]:
    api = _Api(backend)
    return [
        Route("/v0/meta/whoami", api.endpoint(api.whoami), methods=["GET"]),
        Route("/v0/meta/bases", api.endpoint(api.bases), methods=["GET"]),
        Route(
            "/v0/meta/bases/{base_id}/tables",
            api.endpoint(api.tables),
            methods=["GET", "POST"],
        ),
        Route(
            "/v0/meta/bases/{base_id}/tables/{table}",
            api.endpoint(api.update_table),
            methods=["PATCH"],
        ),
        Route(
            "/v0/meta/bases/{base_id}/tables/{table}/fields",
            api.endpoint(api.create_field),
            methods=["POST"],
        ),
        Route(
            "/v0/meta/bases/{base_id}/tables/{table}/fields/{field_id}",
            api.endpoint(api.update_field),
            methods=["PATCH"],
        ),
        Route(
            "/v0/{base_id}/{table}/listRecords",
            api.endpoint(api.list_by_post),
            methods=["POST"],
        ),
        Route(
            "/v0/{base_id}/{table}",
            api.endpoint(api.table_records),
            methods=["GET", "POST", "PATCH", "PUT", "DELETE"],
        ),
        Route(
            "/v0/{base_id}/{table}/{record_id}",
            api.endpoint(api.one_record),
            methods=["GET", "PATCH", "PUT", "DELETE"],
        ),
        Route("/v0/{rest:path}", api.endpoint(api.not_found), methods=ALL_METHODS),
    ]


# ------------------------------------------------------------------ request parsing
async def _json_body(request: Request) -> dict[str, Any]:
    raw = await request.body()
    if not raw.strip():
        return {}
    try:
        body = json.loads(raw)
    except (json.JSONDecodeError, UnicodeDecodeError):
        raise AirtableError(
            400, "INVALID_REQUEST_BODY", "Could not parse the request body as JSON"
        ) from None
    if not isinstance(body, dict):
        raise AirtableError(400, "INVALID_REQUEST_BODY", "The request body must be a JSON object")
    return body


def _only_keys(body: dict[str, Any], allowed: set[str], where: str) -> None:
    unknown = sorted(set(body) - allowed)
    if unknown:
        raise errors.invalid_request(f"unknown {where} {', '.join(unknown)}")


def _int(value: Any, name: str) -> int:
    if isinstance(value, bool):
        raise errors.invalid_request(f"{name} must be an integer")
    try:
        return int(value)
    except (TypeError, ValueError):
        raise errors.invalid_request(f"{name} must be an integer") from None


def _flag(value: Any) -> bool:
    if isinstance(value, str):
        return value.strip().lower() in ("1", "true", "yes")
    return bool(value)


def url_length(request: Request) -> int:
    """The request URL's length as the client sent it: scheme, host, encoded path and query."""
    scope = request.scope
    path = scope.get("raw_path") or scope["path"].encode()
    query = scope.get("query_string") or b""
    origin = f"{request.url.scheme}://{request.headers.get('host', '')}"
    return len(origin) + len(path) + (len(query) + 1 if query else 0)


def _typecast(body: dict[str, Any]) -> bool:
    value = body.get("typecast", False)
    if value is not None and not isinstance(value, bool):
        raise errors.invalid_request("typecast must be true or false")
    return bool(value)


def list_query_from_params(params: QueryParams) -> ListQuery:
    """A ListQuery from `?pageSize=..&fields[]=..&sort[0][field]=..` (GET listRecords)."""
    query = ListQuery()
    fields: list[str] = []
    sorts: dict[int, dict[str, str]] = {}
    for key, value in params.multi_items():
        if _FIELDS_PARAM.fullmatch(key):
            fields.append(value)
        elif found := _SORT_PARAM.fullmatch(key):
            sorts.setdefault(int(found.group(1)), {})[found.group(2)] = value
        elif _METADATA_PARAM.fullmatch(key):
            continue
        elif key in _LIST_PARAMS:
            _set_list_option(query, key, value)
        else:
            raise errors.invalid_request(f"unknown parameter {key}")
    query.fields = fields or None
    for index in sorted(sorts):
        spec = sorts[index]
        if "field" not in spec:
            raise errors.invalid_request(f"sort[{index}] needs a field")
        query.sort.append((spec["field"], spec.get("direction", "asc")))
    return query


def record_query_from_params(params: QueryParams) -> ListQuery:
    """Get record's options: cellFormat, timeZone, userLocale, returnFieldsByFieldId; no others."""
    query = ListQuery()
    for key, value in params.multi_items():
        if key not in _RECORD_PARAMS:
            raise errors.invalid_request(f"unknown parameter {key}")
        _set_list_option(query, key, value)
    return query


def list_query_from_body(body: dict[str, Any], params: QueryParams) -> ListQuery:
    """A ListQuery from the JSON body of POST listRecords (plus timeZone/userLocale in the URL)."""
    _only_keys(body, _LIST_BODY_KEYS, "key")
    query = ListQuery()
    for key, value in body.items():
        if key == "fields":
            if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
                raise errors.invalid_request("fields must be an array of field names or ids")
            query.fields = list(value)
        elif key == "sort":
            query.sort = _sort_from_body(value)
        elif key != "recordMetadata" and value is not None:
            _set_list_option(query, key, value)
    for key in ("timeZone", "userLocale"):
        if key in params:
            _set_list_option(query, key, params[key])
    return query


def _sort_from_body(value: Any) -> list[tuple[str, str]]:
    if not isinstance(value, list):
        raise errors.invalid_request("sort must be an array of {field, direction}")
    sorts = []
    for spec in value:
        if not isinstance(spec, dict) or not isinstance(spec.get("field"), str):
            raise errors.invalid_request("each sort needs a field")
        sorts.append((spec["field"], str(spec.get("direction", "asc"))))
    return sorts


def _set_list_option(query: ListQuery, key: str, value: Any) -> None:
    if key == "pageSize":
        query.page_size = _int(value, key)
    elif key == "maxRecords":
        query.max_records = _int(value, key)
    elif key == "offset":
        query.offset = str(value)
    elif key == "view":
        query.view = str(value)
    elif key == "filterByFormula":
        query.formula = str(value)
    elif key == "cellFormat":
        query.cell_format = str(value)
    elif key == "timeZone":
        query.time_zone = str(value)
    elif key == "userLocale":
        query.user_locale = str(value)
    elif key == "returnFieldsByFieldId":
        query.by_field_id = _flag(value)


# ------------------------------------------------------------------ handlers
class _Api:
    def __init__(self, backend: Backend) -> None:
        self.backend = backend

    def endpoint(self, handler: Handler) -> Callable[[Request], Awaitable[Response]]:
        """Wrap a handler: rate limits first, then the call; AirtableError becomes its JSON reply."""

        async def run(request: Request) -> Response:
            if url_length(request) >= MAX_URL_LENGTH:
                return JSONResponse(errors.url_too_long().body(), status_code=414)
            try:
                self._check_rate(request)
                result = await handler(request)
            except AirtableError as exc:
                return JSONResponse(exc.body(), status_code=exc.status)
            return result if isinstance(result, Response) else JSONResponse(result)

        return run

    def _check_rate(self, request: Request) -> None:
        limiter = self.backend.ctx.limiter
        if not limiter.enabled:
            return
        scope = request.path_params.get("base_id", "meta")
        if limiter.check(f"airtable:{scope}", *PER_BASE_LIMIT, lockout=LOCKOUT_SECONDS):
            raise errors.rate_limited()
        token = bearer_token(request.headers)
        # Hashed so the limiter's keys (visible through the control API) never show a token.
        digest = hashlib.sha256(token.encode()).hexdigest()[:12]
        if limiter.check(f"airtable:token:{digest}", *PER_TOKEN_LIMIT, lockout=LOCKOUT_SECONDS):
            raise errors.rate_limited()

    # ------------------------------------------------------------ meta
    async def whoami(self, request: Request) -> dict[str, Any]:
        return {"id": WHOAMI["id"], "scopes": list(WHOAMI["scopes"])}

    async def bases(self, request: Request) -> dict[str, Any]:
        return {"bases": self.backend.meta_bases()}

    async def tables(self, request: Request) -> dict[str, Any]:
        base_id = request.path_params["base_id"]
        if request.method == "GET":
            include = request.query_params.getlist("include") + request.query_params.getlist(
                "include[]"
            )
            return {"tables": self.backend.meta_tables(base_id, "visibleFieldIds" in include)}
        body = await _json_body(request)
        _only_keys(body, {"name", "fields", "description"}, "key")
        return self.backend.meta_create_table(
            base_id, body.get("name"), body.get("fields"), body.get("description")
        )

    async def update_table(self, request: Request) -> dict[str, Any]:
        body = await _json_body(request)
        params = request.path_params
        return self.backend.update_table(params["base_id"], params["table"], body)

    async def create_field(self, request: Request) -> dict[str, Any]:
        body = await _json_body(request)
        _only_keys(body, {"name", "type", "options", "description"}, "key")
        params = request.path_params
        return self.backend.create_field(
            params["base_id"],
            params["table"],
            body.get("name"),
            body.get("type"),
            body.get("options"),
            body.get("description"),
        )

    async def update_field(self, request: Request) -> dict[str, Any]:
        body = await _json_body(request)
        params = request.path_params
        return self.backend.update_field(
            params["base_id"], params["table"], params["field_id"], body
        )

    # ------------------------------------------------------------ records
    async def list_by_post(self, request: Request) -> dict[str, Any]:
        body = await _json_body(request)
        query = list_query_from_body(body, request.query_params)
        params = request.path_params
        return self.backend.list_records(params["base_id"], params["table"], query)

    async def table_records(self, request: Request) -> dict[str, Any]:
        base_id, table = request.path_params["base_id"], request.path_params["table"]
        if request.method == "GET":
            query = list_query_from_params(request.query_params)
            return self.backend.list_records(base_id, table, query)
        if request.method == "DELETE":
            return self._delete_many(request, base_id, table)
        body = await _json_body(request)
        if request.method == "POST":
            return self._create(body, base_id, table)
        return self._update_many(body, base_id, table, replace=request.method == "PUT")

    def _create(self, body: dict[str, Any], base_id: str, table: str) -> dict[str, Any]:
        _only_keys(body, {"records", "fields", "typecast", "returnFieldsByFieldId"}, "key")
        typecast, by_id = _typecast(body), _flag(body.get("returnFieldsByFieldId"))
        base, table_obj = self.backend.table(base_id, table)
        if "records" in body:
            records = body["records"]
            if not isinstance(records, list):
                raise errors.invalid_request("records must be an array")
            for item in records:
                if not isinstance(item, dict):
                    raise errors.invalid_request('each record needs a "fields" object')
                _only_keys(item, {"fields"}, "record key")
            created = self.backend.create(
                base_id, table, [item.get("fields", {}) for item in records], typecast
            )
            return {"records": [self.backend.render(base, table_obj, r, by_id) for r in created]}
        if "fields" not in body:
            raise errors.invalid_request('the body needs "records" or "fields"')
        (record,) = self.backend.create(base_id, table, [body["fields"]], typecast)
        return self.backend.render(base, table_obj, record, by_id)

    def _update_many(
        self, body: dict[str, Any], base_id: str, table: str, replace: bool
    ) -> dict[str, Any]:
        _only_keys(body, {"records", "typecast", "returnFieldsByFieldId", "performUpsert"}, "key")
        typecast, by_id = _typecast(body), _flag(body.get("returnFieldsByFieldId"))
        base, table_obj = self.backend.table(base_id, table)
        records = body.get("records")
        if not isinstance(records, list):
            raise errors.invalid_request("records must be an array")
        for item in records:
            if not isinstance(item, dict):
                raise errors.invalid_request("each record must be an object")
            _only_keys(item, {"id", "fields"}, "record key")
        upsert = body.get("performUpsert")
        if upsert is not None:
            if not isinstance(upsert, dict):
                raise errors.invalid_request("performUpsert must be an object")
            _only_keys(upsert, {"fieldsToMergeOn"}, "performUpsert key")
            done, created, updated = self.backend.upsert(
                base_id, table, records, upsert.get("fieldsToMergeOn"), replace, typecast
            )
            return {
                "records": [self.backend.render(base, table_obj, r, by_id) for r in done],
                "createdRecords": created,
                "updatedRecords": updated,
            }
        updates = []
        for item in records:
            if not isinstance(item.get("id"), str):
                raise errors.invalid_request("each record needs an id (or use performUpsert)")
            updates.append((item["id"], item.get("fields", {})))
        done = self.backend.update(base_id, table, updates, replace, typecast)
        return {"records": [self.backend.render(base, table_obj, r, by_id) for r in done]}

    def _delete_many(self, request: Request, base_id: str, table: str) -> dict[str, Any]:
        ids = request.query_params.getlist("records[]") + request.query_params.getlist("records")
        deleted = self.backend.delete(base_id, table, ids)
        return {"records": [{"id": record_id, "deleted": True} for record_id in deleted]}

    async def one_record(self, request: Request) -> dict[str, Any]:
        params = request.path_params
        base_id, table, record_id = params["base_id"], params["table"], params["record_id"]
        if request.method == "GET":
            query = record_query_from_params(request.query_params)
            return self.backend.get_record(base_id, table, record_id, query.by_field_id, query)
        if request.method == "DELETE":
            self.backend.delete(base_id, table, [record_id], single=True)
            return {"id": record_id, "deleted": True}
        body = await _json_body(request)
        _only_keys(body, {"fields", "typecast", "returnFieldsByFieldId"}, "key")
        base, table_obj = self.backend.table(base_id, table)
        (record,) = self.backend.update(
            base_id,
            table,
            [(record_id, body.get("fields", {}))],
            replace=request.method == "PUT",
            typecast=_typecast(body),
            single=True,
        )
        return self.backend.render(
            base, table_obj, record, _flag(body.get("returnFieldsByFieldId"))
        )

    async def not_found(self, request: Request) -> Response:
        # Airtable answers unknown routes with a bare string error.
        return JSONResponse({"error": "NOT_FOUND"}, status_code=404)
