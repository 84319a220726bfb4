"""Which failures the roster sync's tasks retry (429, 5xx, lost connections) and which they report at once."""

from __future__ import annotations

from typing import Any

import pytest
import requests

from coalition.sheet_table import MissingHeaderError
from flows.steps import transient_failure
from integrations import airtable
from integrations.http import ServiceUnavailable
from integrations.sheets import SheetNotFound, SheetsError
from integrations.slack import SlackPostError


class FailedState:
    def __init__(self, exc: BaseException) -> None:
        self.exc = exc

    def result(self) -> Any:
        raise self.exc


def http_error(status: int, kind: str | None = None) -> requests.HTTPError:
    response = requests.Response()
    response.status_code = status
    body = {"error": {"type": kind, "message": "m"}} if kind else {"error": "NOT_FOUND"}
    response._content = __import__("json").dumps(body).encode()
    return requests.HTTPError(response=response)


@pytest.mark.parametrize(
    ("exc", "retry"),
    [
        (airtable._typed(http_error(429, "RATE_LIMIT_REACHED"), "x"), True),
        (airtable._typed(http_error(503, "SERVER_ERROR"), "x"), True),
        (airtable._typed(http_error(422, "LIST_RECORDS_ITERATOR_NOT_AVAILABLE"), "x"), True),
        (airtable._typed(ServiceUnavailable("airtable", "gave up"), "x"), True),
        (airtable._typed(http_error(422, "UNKNOWN_FIELD_NAME"), "x"), False),
        (airtable._typed(http_error(401, "AUTHENTICATION_REQUIRED"), "x"), False),
        (airtable._typed(http_error(404), "x"), False),
        (SheetsError("Sheets: 429", 429), True),
        (SheetsError("Sheets: 500", 500), True),
        (SheetsError("Sheets: no answer"), True),
        (SheetsError("Sheets: 400", 400), False),
        (SheetNotFound("no tab", 404), False),
        (requests.ConnectionError("reset"), True),
        (SlackPostError("chat.postMessage", "ratelimited"), True),
        (SlackPostError("chat.postMessage", "channel_not_found"), False),
        (MissingHeaderError("Directory", ["Organization"], ["Org"]), False),
        (ValueError("a bug"), False),
    ],
)
def test_only_transient_failures_are_retried(exc: BaseException, retry: bool) -> None:
    assert transient_failure(None, None, FailedState(exc)) is retry


def test_airtable_errors_are_typed_by_what_to_do() -> None:
    assert isinstance(
        airtable._typed(http_error(422, "UNKNOWN_FIELD_NAME"), "x"), airtable.AirtableFieldError
    )
    assert isinstance(
        airtable._typed(http_error(403, "INVALID_PERMISSIONS_OR_MODEL_NOT_FOUND"), "x"),
        airtable.AirtableNotFound,
    )
    assert isinstance(
        airtable._typed(http_error(422, "INVALID_FILTER_BY_FORMULA"), "x"),
        airtable.AirtableRequestError,
    )
    assert isinstance(
        airtable._typed(http_error(401, "AUTHENTICATION_REQUIRED"), "x"), airtable.AirtableAuthError
    )


def test_formulas() -> None:
    from datetime import UTC, datetime

    since = datetime(2026, 3, 1, 12, 30, tzinfo=UTC)
    assert airtable.modified_since(since, ["Name", "Phone"]) == (
        "IS_AFTER(LAST_MODIFIED_TIME({Name}, {Phone}), DATETIME_PARSE('2026-03-01T12:30:00.000Z'))"
    )
    assert (
        airtable.record_ids_formula(["recA", "recB"])
        == "OR(RECORD_ID()='recA', RECORD_ID()='recB')"
    )
