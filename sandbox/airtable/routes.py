"""HTTP translation of the emulated airtable service."""

from __future__ import annotations

from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute


def routes(backend) -> list[BaseRoute]:
    return []


def is_authorized(path: str, headers: dict[str, str], query: str) -> bool:
    return headers.get("authorization", "").lower().startswith("bearer ")


def error_response(kind: str, status: int, retry_after: float | None) -> Response:
    return JSONResponse({"error": {"code": status, "message": kind}}, status_code=status)
