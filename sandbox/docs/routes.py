"""HTTP face of the emulated Google Docs API v1: create, get and batchUpdate, with Google's error bodies.

Quotas as documented per user: 60 write requests and 300 read requests a
minute; over them, 429 RESOURCE_EXHAUSTED with Google's quota message (and, like
Google, no Retry-After header). Supports the `fields` partial-response
parameter and `includeTabsContent`. Not implemented: `commentsViewMode`,
`prettyPrint=false` (replies are always compact JSON), uploads of any kind.
"""

from __future__ import annotations

import json
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route

from sandbox.core import google_authorized
from sandbox.docs.edits import DocsError
from sandbox.docs.fields import FieldsSyntaxError, parse_fields, select
from sandbox.docs.models import Backend

WRITES_PER_MINUTE = 60
READS_PER_MINUTE = 300
PROJECT_NUMBER = "000000000000"  # the sandbox's stand-in for the caller's Cloud project
_UNAUTHENTICATED = (
    "Request is missing required authentication credential. Expected OAuth 2 access token, "
    "login cookie or other valid authentication credential. "
    "See https://developers.google.com/identity/sign-in/web/devconsole-project."
)
_SERVER_ERRORS = {
    500: ("INTERNAL", "Internal error encountered."),
    502: ("UNAVAILABLE", "Bad Gateway"),
    503: ("UNAVAILABLE", "The service is currently unavailable."),
    504: ("DEADLINE_EXCEEDED", "The request timed out. Please try again."),
}


def routes(backend: Backend) -> list[BaseRoute]:
    limiter = backend.ctx.limiter

    async def create(request: Request) -> Response:
        if limiter.check("docs:write", WRITES_PER_MINUTE, 60.0) is not None:
            return quota_exceeded("write")
        try:
            body = await _json_body(request)
            document_id = backend.create_document(str(body.get("title") or ""))
            return _reply(backend.get_document(document_id), request)
        except DocsError as exc:
            return error_json(exc.code, exc.status, exc.message)

    async def get(request: Request) -> Response:
        if limiter.check("docs:read", READS_PER_MINUTE, 60.0) is not None:
            return quota_exceeded("read")
        params = request.query_params
        try:
            resource = backend.get_document(
                request.path_params["document_id"],
                include_tabs=params.get("includeTabsContent", "").lower() == "true",
                suggestions_view_mode=params.get("suggestionsViewMode"),
            )
            return _reply(resource, request)
        except DocsError as exc:
            return error_json(exc.code, exc.status, exc.message)

    async def batch_update(request: Request) -> Response:
        if limiter.check("docs:write", WRITES_PER_MINUTE, 60.0) is not None:
            return quota_exceeded("write")
        try:
            body = await _json_body(request)
            reply = backend.batch_update(
                request.path_params["document_id"],
                body.get("requests"),
                body.get("writeControl"),
            )
            return _reply(reply, request)
        except DocsError as exc:
            return error_json(exc.code, exc.status, exc.message)

    return [
        Route("/v1/documents", create, methods=["POST"]),
        Route("/v1/documents/{document_id}:batchUpdate", batch_update, methods=["POST"]),
        Route("/v1/documents/{document_id}", get, methods=["GET"]),
    ]


async def _json_body(request: Request) -> dict[str, Any]:
    raw = await request.body()
    if not raw.strip():
        return {}
    try:
        body = json.loads(raw)
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise DocsError(400, "INVALID_ARGUMENT", f"Invalid JSON payload received. {exc}") from None
    if not isinstance(body, dict):
        raise DocsError(
            400, "INVALID_ARGUMENT", "Invalid JSON payload received. Expected an object."
        )
    return body


def _reply(data: dict[str, Any], request: Request) -> JSONResponse:
    spec = request.query_params.get("fields")
    if spec:
        try:
            data = select(data, parse_fields(spec))
        except FieldsSyntaxError as exc:
            raise DocsError(400, "INVALID_ARGUMENT", str(exc)) from None
    return JSONResponse(data)


def error_json(code: int, status: str, message: str, **extra: Any) -> JSONResponse:
    return JSONResponse(
        {"error": {"code": code, "message": message, "status": status, **extra}}, status_code=code
    )


def quota_exceeded(kind: str = "write") -> JSONResponse:
    """Google's 429 for the per-user read or write quota of docs.googleapis.com."""
    metric = "Write requests" if kind == "write" else "Read requests"
    limit_name = f"{'Write' if kind == 'write' else 'Read'}RequestsPerMinutePerUser"
    limit_value = WRITES_PER_MINUTE if kind == "write" else READS_PER_MINUTE
    message = (
        f"Quota exceeded for quota metric '{metric}' and limit '{metric} per minute per user' "
        f"of service 'docs.googleapis.com' for consumer 'project_number:{PROJECT_NUMBER}'."
    )
    details = [
        {
            "@type": "type.googleapis.com/google.rpc.ErrorInfo",
            "reason": "RATE_LIMIT_EXCEEDED",
            "domain": "googleapis.com",
            "metadata": {
                "quota_metric": f"docs.googleapis.com/{kind}_requests",
                "quota_limit": limit_name,
                "quota_limit_value": str(limit_value),
                "quota_location": "global",
                "service": "docs.googleapis.com",
                "consumer": f"projects/{PROJECT_NUMBER}",
            },
        },
        {
            "@type": "type.googleapis.com/google.rpc.Help",
            "links": [
                {
                    "description": "Request a higher quota limit.",
                    "url": "https://cloud.google.com/docs/quotas/help/request_increase",
                }
            ],
        },
    ]
    return error_json(429, "RESOURCE_EXHAUSTED", message, details=details)


def is_authorized(path: str, headers: dict[str, str], query: str) -> bool:
    return google_authorized(headers, query)


def error_response(kind: str, status: int, retry_after: float | None) -> Response:
    if kind == "401":
        return error_json(401, "UNAUTHENTICATED", _UNAUTHENTICATED)
    if kind == "429":
        return quota_exceeded("write")
    name, message = _SERVER_ERRORS.get(status, ("UNKNOWN", "Unknown error."))
    return error_json(status, name, message)
