"""HTTP translation of the emulated Google Sheets API v4: /v4/spreadsheets...

Each handler parses the request, counts it against the per-user quota (60 read
and 60 write requests a minute, keys "sheets:read" and "sheets:write"; a batch
is one request), calls the model and serialises its reply. Ranges arrive
percent-encoded in the path (gspread quotes them); Starlette has decoded them
by the time they reach a handler. Not implemented: sheets.copyTo,
`*ByDataFilter`, developerMetadata (they answer 404 NOT_FOUND like an unknown method).
"""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route

from sandbox.core import google_authorized
from sandbox.drive import fields as partial
from sandbox.sheets.exceptions import InvalidArgument, NotFound, SheetsError
from sandbox.sheets.models import Backend

REQUESTS_PER_MINUTE_PER_USER = 60
MAX_PAYLOAD_BYTES = 10 * 1024 * 1024
CONSUMER = "project_number:100000000000"  # the sandbox's pretend Cloud project

Handler = Callable[[Request], Awaitable[Response]]


def routes(backend: Backend) -> list[BaseRoute]:
    api = _SheetsRoutes(backend)
    return [
        Route("/v4/spreadsheets", api.wrap(api.create), methods=["POST"]),
        Route("/v4/spreadsheets/{target}", api.wrap(api.spreadsheet), methods=["GET", "POST"]),
        Route(
            "/v4/spreadsheets/{spreadsheet_id}/values/{range:path}",
            api.wrap(api.values),
            methods=["GET", "PUT", "POST"],
        ),
        Route(
            "/v4/spreadsheets/{spreadsheet_id}/{action}",
            api.wrap(api.values_batch),
            methods=["GET", "POST"],
        ),
        Route("/v4/spreadsheets/{rest:path}", api.wrap(api.unknown)),
    ]


def is_authorized(path: str, headers: dict[str, str], query: str) -> bool:
    return google_authorized(headers, query)


def error_response(kind: str, status: int, retry_after: float | None) -> Response:
    """401, 429 and 5xx replies in Sheets' shape (no Retry-After: Google sends none)."""
    if kind == "401":
        return JSONResponse(
            {
                "error": {
                    "code": 401,
                    "message": "Request is missing required authentication credential. Expected "
                    "OAuth 2 access token, login cookie or other valid authentication credential. "
                    "See https://developers.google.com/identity/sign-in/web/devconsole-project.",
                    "status": "UNAUTHENTICATED",
                    "details": [
                        {
                            "@type": "type.googleapis.com/google.rpc.ErrorInfo",
                            "reason": "CREDENTIALS_MISSING",
                            "domain": "googleapis.com",
                            "metadata": {"service": "sheets.googleapis.com"},
                        }
                    ],
                }
            },
            status_code=401,
        )
    if kind == "429":
        return quota_exceeded("read")
    if status == 503:
        body = {
            "code": 503,
            "message": "The service is currently unavailable.",
            "status": "UNAVAILABLE",
        }
    else:
        body = {"code": status, "message": "Internal error encountered.", "status": "INTERNAL"}
    return JSONResponse({"error": body}, status_code=status)


def quota_exceeded(kind: str) -> JSONResponse:
    """The 429 Sheets sends when the per-user minute quota for reads or writes is spent."""
    metric = "Read requests" if kind == "read" else "Write requests"
    limit = f"{metric} per minute per user"
    return JSONResponse(
        {
            "error": {
                "code": 429,
                "message": f"Quota exceeded for quota metric '{metric}' and limit '{limit}' of "
                f"service 'sheets.googleapis.com' for consumer '{CONSUMER}'.",
                "status": "RESOURCE_EXHAUSTED",
                "details": [
                    {
                        "@type": "type.googleapis.com/google.rpc.ErrorInfo",
                        "reason": "RATE_LIMIT_EXCEEDED",
                        "domain": "googleapis.com",
                        "metadata": {
                            "quota_metric": f"sheets.googleapis.com/{metric.lower().replace(' ', '_')}",
                            "quota_limit": limit.replace(" ", ""),
                            "service": "sheets.googleapis.com",
                            "consumer": CONSUMER,
                        },
                    }
                ],
            }
        },
        status_code=429,
    )


class _SheetsRoutes:
    def __init__(self, backend: Backend) -> None:
        self.backend = backend

    def wrap(self, handler: Handler) -> Handler:
        async def endpoint(request: Request) -> Response:
            kind = "read" if request.method in {"GET", "HEAD"} else "write"
            if self.backend.ctx.limiter.check(f"sheets:{kind}", REQUESTS_PER_MINUTE_PER_USER, 60.0):
                return quota_exceeded(kind)
            try:
                return await handler(request)
            except SheetsError as error:
                return JSONResponse(error.body(), status_code=error.code)
            except partial.FieldsError:
                error = InvalidArgument("Invalid field selection: the fields mask does not parse")
                return JSONResponse(error.body(), status_code=400)

        return endpoint

    # ------------------------------------------------------------ spreadsheets
    async def create(self, request: Request) -> Response:
        reply = self.backend.create(await _body(request))
        return _reply(request, reply)

    async def spreadsheet(self, request: Request) -> Response:
        spreadsheet_id, _, verb = request.path_params["target"].partition(":")
        if request.method == "GET" and not verb:
            params = request.query_params
            reply = self.backend.metadata(
                spreadsheet_id,
                include_grid_data=_flag(params.get("includeGridData")),
                ranges=params.getlist("ranges"),
            )
            return _reply(request, reply)
        if request.method == "POST" and verb == "batchUpdate":
            return _reply(request, self.backend.batch_update(spreadsheet_id, await _body(request)))
        return await self.unknown(request)

    # ------------------------------------------------------------ values
    async def values(self, request: Request) -> Response:
        spreadsheet_id = request.path_params["spreadsheet_id"]
        range_text: str = request.path_params["range"]
        params = request.query_params
        if request.method == "GET":
            reply = self.backend.values_get(
                spreadsheet_id,
                range_text,
                render=params.get("valueRenderOption") or "FORMATTED_VALUE",
                major=params.get("majorDimension") or "ROWS",
                date_time=params.get("dateTimeRenderOption"),
            )
            return _reply(request, reply)
        if request.method == "PUT":
            reply = self.backend.values_update(
                spreadsheet_id,
                range_text,
                await _body(request),
                params.get("valueInputOption"),
                include_values=_flag(params.get("includeValuesInResponse")),
                response_render=params.get("responseValueRenderOption") or "FORMATTED_VALUE",
                response_date_time=params.get("responseDateTimeRenderOption"),
            )
            return _reply(request, reply)
        if range_text.endswith(":append"):
            reply = self.backend.values_append(
                spreadsheet_id,
                range_text.removesuffix(":append"),
                await _body(request),
                params.get("valueInputOption"),
                insert_data_option=params.get("insertDataOption"),
                include_values=_flag(params.get("includeValuesInResponse")),
                response_render=params.get("responseValueRenderOption") or "FORMATTED_VALUE",
                response_date_time=params.get("responseDateTimeRenderOption"),
            )
            return _reply(request, reply)
        if range_text.endswith(":clear"):
            await _body(request)  # the body is empty, but still bounded by the payload limit
            return _reply(
                request,
                self.backend.values_clear(spreadsheet_id, range_text.removesuffix(":clear")),
            )
        return await self.unknown(request)

    async def values_batch(self, request: Request) -> Response:
        spreadsheet_id = request.path_params["spreadsheet_id"]
        action = request.path_params["action"]
        params = request.query_params
        if request.method == "GET" and action == "values:batchGet":
            reply = self.backend.values_batch_get(
                spreadsheet_id,
                params.getlist("ranges"),
                render=params.get("valueRenderOption") or "FORMATTED_VALUE",
                major=params.get("majorDimension") or "ROWS",
                date_time=params.get("dateTimeRenderOption"),
            )
            return _reply(request, reply)
        if request.method == "POST" and action == "values:batchUpdate":
            return _reply(
                request, self.backend.values_batch_update(spreadsheet_id, await _body(request))
            )
        if request.method == "POST" and action == "values:batchClear":
            body = await _body(request)
            ranges = body.get("ranges") or []
            if not isinstance(ranges, list):
                raise InvalidArgument("Invalid value at 'ranges': a list of strings is required")
            return _reply(
                request, self.backend.values_batch_clear(spreadsheet_id, [str(r) for r in ranges])
            )
        return await self.unknown(request)

    async def unknown(self, request: Request) -> Response:
        error = NotFound(f"Method not found: {request.method} {request.url.path}")
        return JSONResponse(error.body(), status_code=404)


# ------------------------------------------------------------------ helpers
def _reply(request: Request, data: dict[str, Any]) -> JSONResponse:
    return JSONResponse(partial.select(data, request.query_params.get("fields")))


async def _body(request: Request) -> dict[str, Any]:
    declared = request.headers.get("content-length")
    if declared and declared.isdigit() and int(declared) > MAX_PAYLOAD_BYTES:
        raise _too_large()
    raw = await request.body()
    if len(raw) > MAX_PAYLOAD_BYTES:
        raise _too_large()
    if not raw.strip():
        return {}
    try:
        data = json.loads(raw)
    except (json.JSONDecodeError, UnicodeDecodeError):
        raise InvalidArgument("Invalid JSON payload received. Unexpected token.") from None
    if not isinstance(data, dict):
        raise InvalidArgument("Invalid JSON payload received. Expected an object.")
    return data


def _too_large() -> InvalidArgument:
    return InvalidArgument(f"Request payload size exceeds the limit: {MAX_PAYLOAD_BYTES} bytes.")


def _flag(value: str | None) -> bool:
    return (value or "").lower() == "true"
