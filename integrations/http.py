"""One HTTP transport for Airtable and Google: rate budgets, 429 waits, bounded retries, request counts.

Every `requests` call of pyairtable, gspread and google-api-python-client goes
through `BudgetedAdapter`, which waits on the API's budget before sending, waits
out a 429 (Airtable's 30 s lockout, or Retry-After), retries 5xx and connection
failures with exponential backoff, and gives up with `ServiceUnavailable` after a
bounded time. In sandbox mode it also sends Google's hosts to the sandbox.
"""

from __future__ import annotations

import re
import threading
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from urllib.parse import urlsplit, urlunsplit

import httplib2
import requests
from requests.adapters import HTTPAdapter
from tenacity import (
    RetryError,
    Retrying,
    retry_if_exception_type,
    stop_after_attempt,
    stop_after_delay,
    wait_exponential,
)

from integrations.budget import (
    AIRTABLE_PER_BASE,
    DOCS_WRITES,
    DRIVE_PER_USER,
    SHEETS_PER_USER,
    Limit,
    budgets,
)

GOOGLE_HOSTS = {"sheets.googleapis.com", "www.googleapis.com", "docs.googleapis.com"}
# How long a flow keeps retrying a failing service before it gives up with a clear error.
# `coalition doctor` shortens it: a check should answer in seconds, not minutes.
GIVE_UP_AFTER = 180.0
RETRYABLE_STATUS = {500, 502, 503, 504}
IDEMPOTENT_METHODS = {"GET", "HEAD", "OPTIONS", "PUT", "DELETE"}


class ServiceUnavailable(Exception):
    """A service kept failing (429 or 5xx or no connection) past the time we allow it."""

    def __init__(self, service: str, detail: str) -> None:
        super().__init__(f"{service} unavailable: {detail}")
        self.service = service
        self.detail = detail


class _Retryable(Exception):
    def __init__(self, response: requests.Response | None, detail: str) -> None:
        super().__init__(detail)
        self.response = response


class RequestCounter:
    """Requests sent per service (after retries count as extra requests), for artifacts and benchmarks."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.counts: Counter[str] = Counter()

    def add(self, key: str) -> None:
        with self._lock:
            self.counts[key] += 1

    def snapshot(self) -> dict[str, int]:
        with self._lock:
            return dict(self.counts)


request_counter = RequestCounter()


@contextmanager
def counting() -> Iterator[dict[str, int]]:
    """Yield a dict filled, on exit, with the requests per service sent inside the block."""
    before = request_counter.snapshot()
    result: dict[str, int] = {}
    try:
        yield result
    finally:
        after = request_counter.snapshot()
        result.update({k: v - before.get(k, 0) for k, v in after.items() if v - before.get(k, 0)})


def classify(method: str, url: str) -> tuple[str, str, Limit]:
    """(service, budget key, limit) for a request URL."""
    parts = urlsplit(url)
    path = parts.path
    if path.startswith("/v0/"):
        match = re.match(r"/v0/(meta/bases/)?(app[A-Za-z0-9]+)", path)
        scope = match.group(2) if match else "meta"
        return "airtable", f"airtable:{scope}", AIRTABLE_PER_BASE
    if path.startswith("/v4/spreadsheets"):
        return "sheets", "sheets", SHEETS_PER_USER
    if path.startswith("/v1/documents"):
        if method.upper() == "GET":
            return "docs", "docs:read", Limit(300, 60.0)
        return "docs", "docs:write", DOCS_WRITES
    if "/drive/v3" in path:
        return "drive", "drive", DRIVE_PER_USER
    return "other", "other", Limit(1000, 1.0)


class BudgetedAdapter(HTTPAdapter):
    """requests adapter that paces, retries and counts; optionally rewrites Google hosts to the sandbox."""

    def __init__(self, sandbox_url: str | None = None, give_up_after: float | None = None) -> None:
        super().__init__(pool_connections=4, pool_maxsize=16)
        self.sandbox = urlsplit(sandbox_url) if sandbox_url else None
        self.give_up_after = GIVE_UP_AFTER if give_up_after is None else give_up_after

    def _rewrite(self, request: requests.PreparedRequest) -> None:
        if not self.sandbox or not request.url:
            return
        parts = urlsplit(request.url)
        # googleapiclient moves media uploads onto the api_endpoint's host but keeps "https".
        wrong_scheme = parts.netloc == self.sandbox.netloc and parts.scheme != self.sandbox.scheme
        if parts.hostname in GOOGLE_HOSTS or wrong_scheme:
            request.url = urlunsplit(
                (self.sandbox.scheme, self.sandbox.netloc, parts.path, parts.query, parts.fragment)
            )

    def send(self, request: requests.PreparedRequest, **kwargs):  # type: ignore[override]
        self._rewrite(request)
        method = (request.method or "GET").upper()
        service, key, limit = classify(method, request.url or "")
        budget = budgets.get(key, limit)
        retry_unknown_outcome = method in IDEMPOTENT_METHODS
        exceptions: tuple[type[BaseException], ...] = (_Retryable, requests.ConnectionError)
        if retry_unknown_outcome:
            exceptions += (requests.Timeout,)
        retrying = Retrying(
            retry=retry_if_exception_type(exceptions),
            stop=stop_after_delay(self.give_up_after) | stop_after_attempt(12),
            wait=wait_exponential(multiplier=0.2 / budgets.time_scale, max=8),
            reraise=False,
        )

        def attempt() -> requests.Response:
            budget.acquire()
            request_counter.add(service)
            # A read timeout on a POST is not retried: the write may have landed, and the
            # flow's own reconciliation (find by id before writing) decides on a rerun.
            try:
                response = super(BudgetedAdapter, self).send(request, **kwargs)
            finally:
                budget.replied()
            if response.status_code == 429:
                retry_after = response.headers.get("Retry-After")
                budget.penalize(float(retry_after) if retry_after else None)
                raise _Retryable(response, "429 rate limited")
            if response.status_code in RETRYABLE_STATUS:
                raise _Retryable(response, f"HTTP {response.status_code}")
            return response

        try:
            return retrying(attempt)
        except RetryError as exc:
            last = exc.last_attempt.exception()
            response = getattr(last, "response", None)
            if response is not None:
                # Hand the client library the service's own final error reply.
                return response
            # Only the error's class and the host: a URL's query can carry a filter on personal values.
            host = urlsplit(request.url or "").hostname or "?"
            raise ServiceUnavailable(service, f"{type(last).__name__} talking to {host}") from None


def budgeted_session(sandbox_url: str | None) -> requests.Session:
    session = requests.Session()
    adapter = BudgetedAdapter(sandbox_url)
    session.mount("https://", adapter)
    session.mount("http://", adapter)
    return session


class RequestsHttp:
    """The httplib2.Http interface google-api-python-client expects, carried over a budgeted requests.Session."""

    def __init__(self, session: requests.Session, credentials, timeout: float = 60.0) -> None:
        self.session = session
        self.credentials = credentials
        self.timeout = timeout

    def request(
        self,
        uri: str,
        method: str = "GET",
        body: bytes | str | None = None,
        headers: dict[str, str] | None = None,
        redirections: int = 5,
        connection_type: object = None,
    ) -> tuple[httplib2.Response, bytes]:
        headers = dict(headers or {})
        self._authorize(headers)
        response = self.session.request(
            method, uri, data=body, headers=headers, timeout=self.timeout, allow_redirects=True
        )
        info = {"status": str(response.status_code)}
        info.update({k.lower(): v for k, v in response.headers.items()})
        return httplib2.Response(info), response.content

    def _authorize(self, headers: dict[str, str]) -> None:
        from google.auth.transport.requests import Request

        creds = self.credentials
        if not creds.valid:
            creds.refresh(Request())
        creds.apply(headers)

    def close(self) -> None:
        self.session.close()


def wait_time_budget() -> float:
    """Seconds all budgets spent waiting so far (for benchmarks: time against the rate-limit floor)."""
    return sum(s["waited_seconds"] for s in budgets.stats().values())


__all__ = [
    "BudgetedAdapter",
    "RequestsHttp",
    "ServiceUnavailable",
    "budgeted_session",
    "counting",
    "request_counter",
]
