"""Open States API v3, thin: `GET /bills` with the key in X-API-KEY, paced to the key's 10 requests a minute.

The default key tier allows 10 requests a minute and 250 a day and answers a 429
without Retry-After, so every request first takes a slot from the shared
`integrations.budget` window; a 429 anyway (another process on the same key)
holds every caller back a full minute before one more try. A missing key is 403
and a wrong one 401 on the real server; both raise `OpenStatesAuthError`.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import httpx

from coalition.settings import Settings, settings
from integrations.budget import OPENSTATES, budgets
from integrations.http import request_counter

log = logging.getLogger("integrations.openstates")

PER_PAGE = 20  # the API's maximum
SANDBOX_KEY = "sandbox-token"  # the sandbox accepts any key unless a test restricts them
RETRIES = 3


class OpenStatesError(Exception):
    """Open States refused or failed a request; `status` and `detail` are the server's."""

    def __init__(self, message: str, status: int | None = None, detail: Any = None) -> None:
        super().__init__(message)
        self.status = status
        self.detail = detail


class OpenStatesAuthError(OpenStatesError):
    """The key is missing (403) or unknown (401)."""


class OpenStatesRateLimited(OpenStatesError):
    """Still rate limited after waiting; `daily` when the 250-a-day allowance is spent."""

    def __init__(self, message: str, daily: bool) -> None:
        super().__init__(message, 429)
        self.daily = daily


def api_key(cfg: Settings | None = None) -> str | None:
    """The configured key; in sandbox mode a stand-in when none is set (like the other clients)."""
    cfg = cfg or settings()
    key = cfg.secrets.openstates_api_key
    if key is not None and key.get_secret_value().strip():
        return key.get_secret_value().strip()
    return SANDBOX_KEY if cfg.sandbox_url else None


@dataclass
class OpenStatesClient:
    """Searches bills; one budgeted, counted GET per page."""

    base_url: str
    key: str
    http: httpx.Client = field(default_factory=lambda: httpx.Client(timeout=30))
    sleep: Any = time.sleep

    def search_bills(
        self,
        *,
        jurisdiction: str | None = None,
        q: str | None = None,
        updated_since: str | None = None,
        page: int = 1,
        sort: str = "updated_asc",
    ) -> dict[str, Any]:
        """One page of `GET /bills` (20 results, with actions), as the server returned it."""
        params: list[tuple[str, str | int]] = [
            ("include", "actions"),
            ("per_page", PER_PAGE),
            ("page", page),
            ("sort", sort),
        ]
        if jurisdiction:
            params.append(("jurisdiction", jurisdiction))
        if q:
            params.append(("q", q))
        if updated_since:
            params.append(("updated_since", updated_since))
        return self._get("/bills", params)

    def updated_bills(
        self,
        *,
        jurisdiction: str | None,
        q: str | None,
        updated_since: str,
        max_pages: int,
    ) -> Iterator[list[dict[str, Any]]]:
        """Pages of bills updated since `updated_since`, oldest change first, at most `max_pages`."""
        page = 1
        while page <= max_pages:
            try:
                reply = self.search_bills(
                    jurisdiction=jurisdiction, q=q, updated_since=updated_since, page=page
                )
            except OpenStatesError as exc:
                if exc.status == 404 and page > 1:
                    return  # the result set shrank between pages
                raise
            yield list(reply.get("results") or [])
            pagination = reply.get("pagination") or {}
            if page >= int(pagination.get("max_page") or 1):
                return
            page += 1

    def _get(self, path: str, params: list[tuple[str, str | int]]) -> dict[str, Any]:
        budget = budgets.get("openstates", OPENSTATES)
        url = self.base_url.rstrip("/") + path
        for attempt in range(1, RETRIES + 1):
            budget.acquire()
            request_counter.add("openstates")
            try:
                response = self.http.get(url, params=params, headers={"X-API-KEY": self.key})
            except httpx.TransportError as exc:
                budget.replied()
                if attempt == RETRIES:
                    raise OpenStatesError(
                        f"Open States unreachable: {type(exc).__name__}"
                    ) from None
                self.sleep(2**attempt / budgets.time_scale)
                continue
            budget.replied()  # the window counts from the reply: the server saw it before
            if response.status_code == 429:
                detail = _detail(response)
                if "/day" in str(detail) or attempt == RETRIES:
                    raise OpenStatesRateLimited(
                        f"Open States rate limit: {detail}", daily="/day" in str(detail)
                    )
                budget.penalize(OPENSTATES.seconds)  # no Retry-After: wait out the minute
                continue
            if response.status_code >= 500 and attempt < RETRIES:
                self.sleep(2**attempt / budgets.time_scale)
                continue
            return _reply(response)
        raise OpenStatesError("Open States: no reply after retries")  # pragma: no cover

    def close(self) -> None:
        self.http.close()


def _detail(response: httpx.Response) -> Any:
    try:
        return response.json().get("detail")
    except (ValueError, AttributeError):
        return response.text[:200]


def _reply(response: httpx.Response) -> dict[str, Any]:
    status = response.status_code
    if status == 200:
        return response.json()
    detail = _detail(response)
    if status in (401, 403):
        raise OpenStatesAuthError(
            f"Open States refused the API key (HTTP {status}); check OPENSTATES_API_KEY",
            status,
            detail,
        )
    raise OpenStatesError(f"Open States HTTP {status}: {detail}", status, detail)


def openstates_client(cfg: Settings | None = None) -> OpenStatesClient | None:
    """A client on the configured server (live or sandbox), or None when there is no key."""
    from integrations.clients import openstates_base_url

    cfg = cfg or settings()
    key = api_key(cfg)
    if key is None:
        return None
    budgets.configure(cfg.time_scale)
    return OpenStatesClient(openstates_base_url(cfg), key)


__all__ = [
    "PER_PAGE",
    "OpenStatesAuthError",
    "OpenStatesClient",
    "OpenStatesError",
    "OpenStatesRateLimited",
    "api_key",
    "openstates_client",
]
