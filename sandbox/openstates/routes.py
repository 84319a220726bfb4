"""HTTP face of the emulated Open States API v3 under /openstates: bill search and bill detail.

Mirrors https://v3.openstates.org: key in `X-API-KEY` or `?apikey=`; a missing
key is 403 and an unknown key 401 (as in openstates/api-v3's `auth.py`, whatever
some docs say); the default tier's 10 requests a minute and 250 a day answer 429
`{"detail": "exceeded limit of 10/min: N"}` with no Retry-After. Bad query
parameters answer FastAPI's 422 list of errors. Not implemented: /people,
/committees, /events, /jurisdictions, /divisions.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any
from urllib.parse import parse_qs

from starlette.datastructures import QueryParams
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, Response
from starlette.routing import BaseRoute, Route

from sandbox.openstates.models import (
    BILL_INCLUDES,
    SORTS,
    Backend,
    BillQuery,
    OpenStatesError,
    bill_json,
)

PER_MINUTE = 10
PER_DAY = 250
MISSING_KEY = (
    "Must provide API Key as ?apikey or X-API-KEY. "
    "Login and visit https://openstates.org/account/profile/ for your API key."
)
INVALID_KEY = (
    "Invalid API Key. Login and visit https://openstates.org/account/profile/ for your API key."
)


def routes(backend: Backend) -> list[BaseRoute]:
    def endpoint(
        handler: Callable[[Request], Response],
    ) -> Callable[[Request], Awaitable[Response]]:
        """Key check and limits first; a bad parameter answers its own status with `detail`."""

        async def serve(request: Request) -> Response:
            refused = _gate(backend, request)
            if refused is not None:
                return refused
            try:
                return handler(request)
            except OpenStatesError as exc:
                return JSONResponse({"detail": exc.detail}, status_code=exc.status)

        return serve

    def search(request: Request) -> Response:
        return JSONResponse(backend.search(_bill_query(request.query_params)))

    def by_id(request: Request) -> Response:
        include = _includes(request.query_params)
        return _detail(backend.bill_record("ocd-bill/" + request.path_params["uuid"]), include)

    def by_identifier(request: Request) -> Response:
        include = _includes(request.query_params)
        p = request.path_params
        return _detail(backend.find_bill(p["jurisdiction"], p["session"], p["bill_id"]), include)

    return [
        Route("/openstates/bills", endpoint(search), methods=["GET"]),
        Route("/openstates/bills/ocd-bill/{uuid}", endpoint(by_id), methods=["GET"]),
        Route(
            "/openstates/bills/{jurisdiction}/{session}/{bill_id}",
            endpoint(by_identifier),
            methods=["GET"],
        ),
    ]


def _gate(backend: Backend, request: Request) -> Response | None:
    """Key check and rate limits, in the order the real auth dependency applies them."""
    key = request.headers.get("x-api-key") or request.query_params.get("apikey") or ""
    if not backend.key_accepted(key):
        return JSONResponse({"detail": INVALID_KEY}, status_code=401)
    limiter = backend.ctx.limiter
    if limiter.check("openstates", PER_MINUTE, 60.0) is not None:
        return rate_limited("min")
    if limiter.check("openstates:day", PER_DAY, 86_400.0) is not None:
        return rate_limited("day")
    return None


def rate_limited(window: str = "min") -> JSONResponse:
    # The real message ends with the caller's count this window; the first refusal is limit + 1.
    limit = PER_MINUTE if window == "min" else PER_DAY
    return JSONResponse(
        {"detail": f"exceeded limit of {limit}/{window}: {limit + 1}"}, status_code=429
    )


def _detail(bill: dict[str, Any] | None, include: list[str]) -> JSONResponse:
    if bill is None:
        return JSONResponse({"detail": "No such Bill."}, status_code=404)
    return JSONResponse(bill_json(bill, include))


def _bill_query(params: QueryParams) -> BillQuery:
    errors: list[dict[str, Any]] = []
    query = BillQuery(
        jurisdiction=params.get("jurisdiction") or None,
        session=params.get("session") or None,
        chamber=params.get("chamber") or None,
        classification=params.get("classification") or None,
        subject=params.getlist("subject"),
        updated_since=params.get("updated_since") or None,
        created_since=params.get("created_since") or None,
        action_since=params.get("action_since") or None,
        sponsor=params.get("sponsor") or None,
        sponsor_classification=params.get("sponsor_classification") or None,
        q=params.get("q") or None,
    )
    query.page = _integer(params, "page", 1, errors)
    query.per_page = _integer(params, "per_page", 10, errors)
    sort = params.get("sort", "updated_desc")
    if sort not in SORTS:
        errors.append(_enum_error(["query", "sort"], list(SORTS)))
    else:
        query.sort = sort
    try:
        query.include = _includes(params)
    except OpenStatesError as exc:
        errors.extend(exc.detail)
    if errors:
        raise OpenStatesError(422, errors)
    return query


def _includes(params: QueryParams) -> list[str]:
    values = params.getlist("include")
    errors = [
        _enum_error(["query", "include", n], list(BILL_INCLUDES))
        for n, value in enumerate(values)
        if value not in BILL_INCLUDES
    ]
    if errors:
        raise OpenStatesError(422, errors)
    return values


def _integer(params: QueryParams, name: str, default: int, errors: list[dict[str, Any]]) -> int:
    raw = params.get(name)
    if raw is None:
        return default
    try:
        return int(raw)
    except ValueError:
        errors.append(
            {
                "loc": ["query", name],
                "msg": "value is not a valid integer",
                "type": "type_error.integer",
            }
        )
        return default


def _enum_error(loc: list[Any], permitted: list[str]) -> dict[str, Any]:
    listed = ", ".join(f"'{v}'" for v in permitted)
    return {
        "loc": loc,
        "msg": f"value is not a valid enumeration member; permitted: {listed}",
        "type": "type_error.enum",
        "ctx": {"enum_values": permitted},
    }


def is_authorized(path: str, headers: dict[str, str], query: str) -> bool:
    """A key must be present; whether it is valid is the route's business (401 vs 403)."""
    return bool(headers.get("x-api-key") or parse_qs(query).get("apikey", [""])[0])


def error_response(kind: str, status: int, retry_after: float | None) -> Response:
    if kind == "401":
        return JSONResponse({"detail": MISSING_KEY}, status_code=403)
    if kind == "429":
        return rate_limited("min")
    return PlainTextResponse("Internal Server Error" if status == 500 else "", status_code=status)
