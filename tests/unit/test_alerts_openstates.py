"""Open States results to Bills updates (pure), and the thin client's requests, pacing and errors."""

from __future__ import annotations

from datetime import UTC, datetime
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
from hypothesis import given
from hypothesis import strategies as st

from coalition.alerts.bills import Bill
from coalition.alerts.openstates import (
    REVIEW_STATUS,
    OpenStatesBill,
    Target,
    next_watermark,
    normalise_identifier,
    parse_result,
    pg_text,
    plan_poll,
    targets,
    update_for,
    updated_since,
)
from integrations.budget import budgets
from integrations.openstates import (
    OpenStatesAuthError,
    OpenStatesClient,
    OpenStatesError,
    OpenStatesRateLimited,
)

URL = "https://openstates.org/tx/bills/89/SB412/"


def found(**changes) -> OpenStatesBill:
    fields = {
        "id": "ocd-bill/1",
        "identifier": "SB 412",
        "jurisdiction": "Texas",
        "title": "Detainers",
        "session": "89",
        "latest_action_date": "2026-11-19",
        "latest_action_description": "Placed on House calendar",
        "updated_at": "2026-11-19T18:00:00+00:00",
        "url": URL,
    }
    fields.update(changes)
    return OpenStatesBill(**fields)


def tracked(**changes) -> Bill:
    fields = {
        "record_id": "recSB412",
        "bill": "SB 412",
        "jurisdiction": "Texas",
        "position": "Oppose",
        "last_action": "Reported favorably from committee",
        "last_action_date": "2026-11-14",
        "source_url": URL,
    }
    fields.update(changes)
    return Bill(**fields)


# ---------------------------------------------------------------- targets and parsing
def test_targets_cross_jurisdictions_with_queries_or_use_either_alone() -> None:
    assert targets(["tx", "ca"], ["immigration"]) == [
        Target("tx", "immigration"),
        Target("ca", "immigration"),
    ]
    assert targets(["tx"], []) == [Target(jurisdiction="tx")]
    assert targets([], ["asylum", " "]) == [Target(q="asylum")]
    assert targets([], []) == []
    assert Target("tx").adds_matches is False and Target(q="x").adds_matches is True
    assert Target("tx", "a").watermark_key != Target("tx", "b").watermark_key
    long = [Target(q="asylum " * 100), Target(q="asylum " * 101)]
    assert all(len(t.watermark_key) <= 200 for t in long)  # the ledger's column
    assert long[0].watermark_key != long[1].watermark_key


def test_parse_result_reads_the_api_shape() -> None:
    result = {
        "id": "ocd-bill/9",
        "identifier": "HB 12",
        "jurisdiction": {"id": "ocd-jurisdiction/...", "name": "Texas"},
        "latest_action_date": "2026-11-19T00:00:00",
        "latest_action_description": " Filed ",
        "updated_at": "2026-11-19T18:00:00+00:00",
        "openstates_url": "https://openstates.org/tx/bills/89/HB12/",
    }
    parsed = parse_result(result)
    assert (parsed.jurisdiction, parsed.latest_action_date) == ("Texas", "2026-11-19")
    assert parsed.latest_action_description == "Filed"


@pytest.mark.parametrize(
    ("a", "b"),
    [("HB 0012", "hb12"), ("H.R. 6120", "HR 6120"), ("SB 26-088", "SB26-088"), ("A 5102", "A5102")],
)
def test_identifiers_normalise_alike(a: str, b: str) -> None:
    assert normalise_identifier(a) == normalise_identifier(b)
    assert normalise_identifier("HB 12") != normalise_identifier("HB 120")


# ---------------------------------------------------------------- what to write
def test_a_new_latest_action_updates_the_record() -> None:
    assert update_for(found(), tracked()) == {
        "Last action": "Placed on House calendar",
        "Last action date": "2026-11-19",
    }


def test_updated_at_alone_never_updates() -> None:
    same = tracked(last_action="Placed on House calendar", last_action_date="2026-11-19")
    assert update_for(found(updated_at="2026-11-20T09:00:00+00:00"), same) is None


def test_a_newer_action_typed_by_staff_is_not_overwritten_with_an_older_one() -> None:
    newer = tracked(last_action="Passed House", last_action_date="2026-11-20")
    assert update_for(found(), newer) is None
    assert update_for(found(latest_action_date="", latest_action_description=""), tracked()) is None


def test_plan_poll_matches_by_url_then_by_number_and_adds_query_matches_for_review() -> None:
    by_url = tracked()
    by_number = Bill("recNY", bill="S 3318", jurisdiction="New York", position="Support")
    twins = [
        Bill("recA1", bill="HB 9", jurisdiction="Ohio", position="Watch"),
        Bill("recA2", bill="HB 9", jurisdiction="Ohio", position="Watch"),
    ]
    query, place = Target(q="immigration"), Target(jurisdiction="tx")
    results = [
        (place, found()),
        (query, found(identifier="S 3318", jurisdiction="New York", url="", id="ocd-bill/2")),
        (query, found(identifier="HB 9", jurisdiction="Ohio", url="", id="ocd-bill/3")),
        (query, found(identifier="HB 77", url="https://os/tx/HB77", id="ocd-bill/4")),
        (query, found(identifier="HB 77", url="https://os/tx/HB77", id="ocd-bill/4")),  # again
        (place, found(identifier="HB 78", url="https://os/tx/HB78", id="ocd-bill/5")),
    ]
    plan = plan_poll(results, [by_url, by_number, *twins])
    assert set(plan.updates) == {"recSB412", "recNY"}  # the Ohio twins are ambiguous
    assert plan.baselines["recSB412"]["Last action"] == "Reported favorably from committee"
    assert plan.new_records == [
        {
            "Bill": "HB 77",
            "Jurisdiction": "Texas",
            "Title": "Detainers",
            "Status": REVIEW_STATUS,
            "Last action": "Placed on House calendar",
            "Last action date": "2026-11-19",
            "Source URL": "https://os/tx/HB77",
        }
    ]
    assert plan.seen == 6


# ---------------------------------------------------------------- where to resume
def test_pg_text_is_the_servers_text_form() -> None:
    assert pg_text("2026-11-28T18:00:00.500000+00:00") == "2026-11-28 18:00:00.5+00"
    assert pg_text("2026-11-28T13:00:00-05:00") == "2026-11-28 18:00:00+00"
    assert pg_text("not a time") is None


def test_first_poll_looks_back_a_week_by_date_then_resumes_from_the_watermark() -> None:
    now = datetime(2026, 11, 20, 3, 0, tzinfo=UTC)
    assert updated_since(None, now) == "2026-11-13"
    assert updated_since("2026-11-19 18:00:00+00", now) == "2026-11-19 18:00:00+00"


def test_next_watermark_is_the_newest_updated_at_seen() -> None:
    seen = [
        found(updated_at="2026-11-19T18:00:00.25+00:00"),
        found(updated_at="2026-11-19T18:00:00+00:00"),
        found(updated_at="2026-11-19T09:00:00+00:00"),
    ]
    assert next_watermark("2026-11-13", seen) == "2026-11-19 18:00:00.25+00"
    assert next_watermark("2026-11-19 18:00:00.5+00", seen) == "2026-11-19 18:00:00.5+00"
    assert next_watermark(None, []) is None


@given(
    st.datetimes(min_value=datetime(2000, 1, 1), max_value=datetime(2100, 1, 1)),
    st.datetimes(min_value=datetime(2000, 1, 1), max_value=datetime(2100, 1, 1)),
)
def test_text_order_is_time_order(a: datetime, b: datetime) -> None:
    """The server compares these strings; they must sort like the times they stand for."""
    ta = pg_text(a.replace(tzinfo=UTC).isoformat())
    tb = pg_text(b.replace(tzinfo=UTC).isoformat())
    assert (ta < tb) == (a < b)
    assert ta >= a.date().isoformat()  # a date sent as updated_since includes that whole day


# ---------------------------------------------------------------- the client
def _client(handler) -> tuple[OpenStatesClient, list[httpx.Request]]:
    seen: list[httpx.Request] = []

    def record(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return handler(request, len(seen))

    http = httpx.Client(transport=httpx.MockTransport(record))
    return OpenStatesClient("https://os.test", "k3y", http=http, sleep=lambda s: None), seen


@pytest.fixture(autouse=True)
def fast_budgets():
    budgets.configure(10_000.0)  # a minute of rate window passes in 6 ms
    yield
    budgets.configure(1.0)


def test_search_sends_the_documented_parameters_and_the_key_header() -> None:
    client, seen = _client(lambda r, n: httpx.Response(200, json={"results": [], "pagination": {}}))
    client.search_bills(jurisdiction="tx", q="immigration", updated_since="2026-11-13", page=2)
    [request] = seen
    query = parse_qs(urlsplit(str(request.url)).query)
    assert request.url.path == "/bills"
    assert request.headers["X-API-KEY"] == "k3y"
    assert query == {
        "include": ["actions"],
        "per_page": ["20"],
        "page": ["2"],
        "sort": ["updated_asc"],
        "jurisdiction": ["tx"],
        "q": ["immigration"],
        "updated_since": ["2026-11-13"],
    }


def test_pages_are_followed_up_to_the_cap() -> None:
    def pages(request: httpx.Request, n: int) -> httpx.Response:
        page = int(request.url.params["page"])
        return httpx.Response(
            200, json={"results": [{"id": page}], "pagination": {"page": page, "max_page": 9}}
        )

    client, seen = _client(pages)
    got = list(client.updated_bills(jurisdiction="tx", q=None, updated_since="x", max_pages=3))
    assert got == [[{"id": 1}], [{"id": 2}], [{"id": 3}]]
    assert len(seen) == 3


def test_a_429_waits_and_tries_again_and_a_daily_limit_stops() -> None:
    limited = {"detail": "exceeded limit of 10/min: 11"}
    client, seen = _client(
        lambda r, n: httpx.Response(429, json=limited) if n == 1 else httpx.Response(200, json={})
    )
    assert client.search_bills(q="x") == {}
    assert len(seen) == 2

    daily = {"detail": "exceeded limit of 250/day: 251"}
    client, seen = _client(lambda r, n: httpx.Response(429, json=daily))
    with pytest.raises(OpenStatesRateLimited) as caught:
        client.search_bills(q="x")
    assert caught.value.daily and len(seen) == 1


@pytest.mark.parametrize("status", [401, 403])
def test_a_missing_or_unknown_key_is_an_auth_error(status: int) -> None:
    client, _ = _client(lambda r, n: httpx.Response(status, json={"detail": "Invalid API Key."}))
    with pytest.raises(OpenStatesAuthError):
        client.search_bills(q="x")


def test_server_errors_are_retried_then_reported() -> None:
    client, seen = _client(lambda r, n: httpx.Response(503, text="unavailable"))
    with pytest.raises(OpenStatesError) as caught:
        client.search_bills(q="x")
    assert caught.value.status == 503 and len(seen) == 3
