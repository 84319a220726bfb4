"""The shared transport against the sandbox's fault injection: retries, 429 waits, bounded give-up, counts."""

from __future__ import annotations

import time

import pytest
import requests

from integrations.budget import budgets
from integrations.http import BudgetedAdapter, ServiceUnavailable, counting


def session_for(url: str, give_up_after: float = 30.0) -> requests.Session:
    session = requests.Session()
    adapter = BudgetedAdapter(url, give_up_after=give_up_after)
    session.mount("http://", adapter)
    session.mount("https://", adapter)
    return session


@pytest.fixture(autouse=True)
def fast_time():
    budgets.configure(100.0)
    yield
    budgets.configure(1.0)


def test_5xx_is_retried_until_it_succeeds(sandbox) -> None:
    sandbox.sandbox.faults.add(kind="5xx", service="drive", count=2, status=503)
    session = session_for(sandbox.url)
    with counting() as sent:
        response = session.get(
            f"{sandbox.url}/drive/v3/files", headers={"Authorization": "Bearer x"}
        )
    assert response.status_code != 503
    assert sent["drive"] == 3
    assert [e["status"] for e in sandbox.journal("drive")][:2] == [503, 503]


def test_429_waits_and_retries(sandbox) -> None:
    sandbox.sandbox.faults.add(kind="429", service="airtable", count=1)
    session = session_for(sandbox.url)
    started = time.monotonic()
    response = session.get(f"{sandbox.url}/v0/meta/whoami", headers={"Authorization": "Bearer x"})
    assert response.status_code != 429
    # Airtable's documented 30 s lockout, at time scale 100.
    assert time.monotonic() - started >= 0.29


def test_google_hosts_are_sent_to_the_sandbox(sandbox) -> None:
    session = session_for(sandbox.url)
    session.get(
        "https://sheets.googleapis.com/v4/spreadsheets/nope", headers={"Authorization": "Bearer x"}
    )
    assert sandbox.journal("sheets")[-1]["path"] == "/v4/spreadsheets/nope"


def test_gives_up_with_the_services_last_reply(sandbox) -> None:
    sandbox.sandbox.faults.add(kind="5xx", service="drive", p=1.0, status=502)
    session = session_for(sandbox.url, give_up_after=0.5)
    response = session.get(f"{sandbox.url}/drive/v3/files", headers={"Authorization": "Bearer x"})
    assert response.status_code == 502


def test_unreachable_service_is_a_clear_error() -> None:
    session = session_for("http://127.0.0.1:9", give_up_after=0.5)
    with pytest.raises(ServiceUnavailable, match="unavailable"):
        session.get("http://127.0.0.1:9/v0/meta/whoami")


def test_a_post_that_timed_out_is_not_blindly_retried(sandbox) -> None:
    sandbox.sandbox.faults.add(kind="timeout", service="drive", count=1, seconds=1.0)
    session = session_for(sandbox.url)
    with pytest.raises(requests.exceptions.ReadTimeout):
        session.post(
            f"{sandbox.url}/drive/v3/files",
            json={},
            headers={"Authorization": "Bearer x"},
            timeout=0.3,
        )
