"""The sandbox's Open States API v3 over HTTP: search, filters, pages, includes, keys, limits, changes."""

from __future__ import annotations

import time
from typing import Any

import httpx
import pytest

from coalition.settings import settings
from integrations.clients import openstates_base_url

KEY = {"X-API-KEY": "test-key"}


@pytest.fixture
def api(sandbox) -> httpx.Client:
    with httpx.Client(base_url=openstates_base_url(settings()), headers=KEY, timeout=30) as client:
        yield client


@pytest.fixture
def bills(sandbox) -> Any:
    return sandbox.services["openstates"]


def add(bills: Any, identifier: str, title: str, jurisdiction: str = "ca", **extra: Any) -> str:
    return bills.add_bill(
        {"identifier": identifier, "title": title, "jurisdiction": jurisdiction, **extra}
    )


def test_search_by_jurisdiction_returns_the_real_shape(api, bills) -> None:
    bill_id = add(
        bills,
        "AB 1234",
        "Immigrant tenant protections",
        session="20252026",
        actions=[
            {"description": "Introduced", "date": "2025-02-01", "classification": ["introduction"]},
            {"description": "Referred to Judiciary", "date": "2025-02-10"},
        ],
        sponsorships=[{"name": "Ana Ruiz", "classification": "primary", "primary": True}],
    )
    add(bills, "HB 7", "Texas bill", jurisdiction="tx")
    reply = api.get("/bills", params={"jurisdiction": "ca"})
    assert reply.status_code == 200
    body = reply.json()
    assert body["pagination"] == {"per_page": 10, "page": 1, "max_page": 1, "total_items": 1}
    (bill,) = body["results"]
    assert bill["id"] == bill_id and bill_id.startswith("ocd-bill/")
    assert bill["identifier"] == "AB 1234"
    assert bill["session"] == "20252026"
    assert bill["jurisdiction"] == {
        "id": "ocd-jurisdiction/country:us/state:ca/government",
        "name": "California",
        "classification": "state",
    }
    assert bill["latest_action_date"] == "2025-02-10"
    assert bill["latest_action_description"] == "Referred to Judiciary"
    assert bill["first_action_date"] == "2025-02-01"
    assert bill["openstates_url"] == "https://openstates.org/ca/bills/20252026/AB1234/"
    assert bill["updated_at"].endswith("+00:00")
    assert "actions" not in bill and "sponsorships" not in bill


@pytest.mark.parametrize(
    "jurisdiction", ["ca", "CA", "California", "ocd-jurisdiction/country:us/state:ca/government"]
)
def test_jurisdiction_by_abbreviation_name_or_id(api, bills, jurisdiction: str) -> None:
    add(bills, "SB 1", "California bill")
    add(bills, "SB 1", "New York bill", jurisdiction="ny")
    titles = [
        b["title"]
        for b in api.get("/bills", params={"jurisdiction": jurisdiction}).json()["results"]
    ]
    assert titles == ["California bill"]


def test_include_actions_and_sponsorships(api, bills) -> None:
    add(
        bills,
        "AB 1",
        "With history",
        actions=[{"description": "Introduced", "date": "2025-01-05"}],
        sponsorships=[{"name": "Ruiz", "classification": "primary", "primary": True}],
    )
    reply = api.get(
        "/bills",
        params=[("jurisdiction", "ca"), ("include", "actions"), ("include", "sponsorships")],
    )
    (bill,) = reply.json()["results"]
    (action,) = bill["actions"]
    assert action["description"] == "Introduced" and action["date"] == "2025-01-05"
    assert action["order"] == 0 and action["organization"]["classification"] == "lower"
    assert bill["sponsorships"][0]["name"] == "Ruiz"
    assert "votes" not in bill


def test_full_text_and_bill_id_queries(api, bills) -> None:
    add(bills, "AB 12", "Protections for immigrant workers")
    add(
        bills,
        "SB 99",
        "Detention facility oversight",
        abstracts=[{"abstract": "Immigration detention", "note": ""}],
    )
    add(bills, "HB 5", "Highway funding", jurisdiction="tx")

    def found(q: str, **params: str) -> list[str]:
        reply = api.get("/bills", params={"q": q, **params})
        assert reply.status_code == 200, reply.text
        return sorted(b["identifier"] for b in reply.json()["results"])

    assert found("worker") == ["AB 12"]  # stemmed: worker(s)
    assert found("oversight") == ["SB 99"]
    # immigrant(s) and immigration share a stem; one is in a title, the other in an abstract.
    assert found("immigrants") == ["AB 12", "SB 99"]
    assert found('"immigrant workers"') == ["AB 12"]
    assert found("immigrant -workers") == ["SB 99"]
    assert found("highway or detention") == ["HB 5", "SB 99"]
    assert found("ab12") == ["AB 12"]  # looks like a bill id: exact identifier match
    assert found("AB 0012") == ["AB 12"]
    assert found("immigrant", jurisdiction="tx") == []
    assert found("the of") == []


def test_pagination_and_its_limits(api, bills) -> None:
    for n in range(25):
        add(bills, f"AB {n + 1}", f"Bill number {n + 1}")
    first = api.get("/bills", params={"jurisdiction": "ca", "per_page": 20}).json()
    assert first["pagination"] == {"per_page": 20, "page": 1, "max_page": 2, "total_items": 25}
    second = api.get("/bills", params={"jurisdiction": "ca", "per_page": 20, "page": 2}).json()
    ids = {b["id"] for b in first["results"]} | {b["id"] for b in second["results"]}
    assert len(second["results"]) == 5 and len(ids) == 25
    too_many = api.get("/bills", params={"jurisdiction": "ca", "per_page": 21})
    assert too_many.status_code == 400
    assert too_many.json() == {"detail": "invalid per_page, must be in [1, 20]"}
    too_far = api.get("/bills", params={"jurisdiction": "ca", "per_page": 20, "page": 3})
    assert too_far.status_code == 404
    assert too_far.json() == {"detail": "invalid page, must be in [1, 2]"}


def test_parameter_errors(api, bills) -> None:
    neither = api.get("/bills")
    assert (neither.status_code, neither.json()) == (
        400,
        {"detail": "either 'jurisdiction' or 'q' required"},
    )
    session_alone = api.get("/bills", params={"q": "x", "session": "2025"})
    assert session_alone.status_code == 400
    bad = api.get(
        "/bills", params={"jurisdiction": "ca", "include": "everything", "per_page": "many"}
    )
    assert bad.status_code == 422
    locations = [error["loc"] for error in bad.json()["detail"]]
    assert locations == [["query", "per_page"], ["query", "include", 0]]
    assert api.get("/bills", params={"jurisdiction": "ca", "sort": "random"}).status_code == 422


def test_sorting(api, bills) -> None:
    add(bills, "AB 1", "old news", actions=[{"description": "a", "date": "2025-01-01"}])
    add(bills, "AB 2", "fresh", actions=[{"description": "b", "date": "2025-03-01"}])
    add(bills, "AB 3", "no actions yet")

    def order(sort: str) -> list[str]:
        reply = api.get("/bills", params={"jurisdiction": "ca", "sort": sort})
        return [b["identifier"] for b in reply.json()["results"]]

    assert order("latest_action_desc") == ["AB 2", "AB 1", "AB 3"]  # nulls last
    assert order("latest_action_asc") == ["AB 1", "AB 2", "AB 3"]
    assert order("updated_desc") == ["AB 3", "AB 2", "AB 1"]


def test_key_is_required_and_checked(sandbox, bills) -> None:
    base = openstates_base_url(settings())
    missing = httpx.get(f"{base}/bills", params={"jurisdiction": "ca"})
    # openstates/api-v3 answers a missing key with 403 (an unknown key is 401).
    assert missing.status_code == 403
    assert missing.json()["detail"].startswith("Must provide API Key as ?apikey or X-API-KEY")
    assert (
        httpx.get(f"{base}/bills", params={"jurisdiction": "ca", "apikey": "k"}).status_code == 200
    )
    bills.set_api_keys({"good-key"})
    wrong = httpx.get(f"{base}/bills", params={"jurisdiction": "ca"}, headers={"X-API-KEY": "bad"})
    assert wrong.status_code == 401 and wrong.json()["detail"].startswith("Invalid API Key.")
    good = httpx.get(
        f"{base}/bills", params={"jurisdiction": "ca"}, headers={"X-API-KEY": "good-key"}
    )
    assert good.status_code == 200


def test_ten_requests_a_minute(sandbox, api) -> None:
    sandbox.sandbox.limiter.enabled = True
    statuses = [api.get("/bills", params={"jurisdiction": "ca"}).status_code for _ in range(11)]
    assert statuses == [200] * 10 + [429]
    refused = api.get("/bills", params={"jurisdiction": "ca"})
    assert refused.json() == {"detail": "exceeded limit of 10/min: 11"}
    assert "retry-after" not in refused.headers


def test_the_minute_window_slides(sandbox, api) -> None:
    sandbox.sandbox.limiter.enabled = True
    # A documented minute passes in 1 s: long enough for eleven requests on a loaded machine
    # (at 0.1 s the window slid before the eleventh), short enough for a test.
    sandbox.sandbox.clock.scale = 60.0
    for _ in range(10):
        assert api.get("/bills", params={"jurisdiction": "ca"}).status_code == 200
    assert api.get("/bills", params={"jurisdiction": "ca"}).status_code == 429
    time.sleep(1.1)
    assert api.get("/bills", params={"jurisdiction": "ca"}).status_code == 200


def test_bill_detail_by_id_and_by_identifier(api, bills) -> None:
    bill_id = add(
        bills,
        "AB 5",
        "Detail",
        session="2025",
        actions=[{"description": "Filed", "date": "2025-01-02"}],
    )
    by_id = api.get(f"/bills/{bill_id}", params={"include": "actions"})
    assert by_id.status_code == 200 and by_id.json()["actions"][0]["description"] == "Filed"
    by_name = api.get("/bills/ca/2025/AB5")
    assert by_name.json()["id"] == bill_id
    missing = api.get("/bills/ocd-bill/00000000-0000-4000-8000-000000000000")
    assert (missing.status_code, missing.json()) == (404, {"detail": "No such Bill."})


def test_a_touch_moves_updated_at_but_not_the_latest_action(api, bills) -> None:
    bill_id = add(
        bills,
        "AB 7",
        "Due process for all",
        actions=[{"description": "Introduced", "date": "2025-01-10"}],
    )

    def fetch() -> dict[str, Any]:
        (bill,) = api.get("/bills", params={"jurisdiction": "ca", "q": "AB 7"}).json()["results"]
        return bill

    original = fetch()
    bills.update_bill(bill_id, subject=["immigration"])  # a metadata touch, as scrapers do daily
    touched = fetch()
    assert touched["updated_at"] > original["updated_at"]
    assert (touched["latest_action_date"], touched["latest_action_description"]) == (
        original["latest_action_date"],
        original["latest_action_description"],
    )
    bills.update_bill(bill_id)  # no change at all still moves updated_at, as a rescrape does
    assert fetch()["updated_at"] > touched["updated_at"]

    bills.add_action(bill_id, "Passed Assembly", "2025-03-03", ["passage"])
    moved = fetch()
    assert (moved["latest_action_date"], moved["latest_action_description"]) == (
        "2025-03-03",
        "Passed Assembly",
    )
    assert moved["latest_passage_date"] == "2025-03-03"
    actions = api.get(f"/bills/{bill_id}", params={"include": "actions"}).json()["actions"]
    assert [a["description"] for a in actions] == ["Introduced", "Passed Assembly"]

    bills.update_bill(
        bill_id, latest_action_description="Signed by Governor", latest_action_date="2025-04-01"
    )
    assert fetch()["latest_action_description"] == "Signed by Governor"


def test_updated_since_compares_like_postgres_text(api, bills) -> None:
    early = add(bills, "AB 1", "early", updated_at="2025-05-01T08:00:00+00:00")
    late = add(bills, "AB 2", "late", updated_at="2025-05-03T12:30:00.250000+00:00")

    def since(value: str) -> list[str]:
        reply = api.get("/bills", params={"jurisdiction": "ca", "updated_since": value})
        return sorted(b["id"] for b in reply.json()["results"])

    assert since("2025-05-01") == sorted([early, late])
    assert since("2025-05-02") == [late]
    assert since("2025-05-03 12:00") == [late]
    # As on the real server, "T" sorts after " " in the text form: same-day times miss.
    assert since("2025-05-03T12:00:00") == []
    assert since("2025-05-04") == []


def test_model_bills_round_trip_through_snapshot(sandbox, bills) -> None:
    add(bills, "AB 9", "Kept", actions=[{"description": "Introduced", "date": "2025-01-01"}])
    snapshot = bills.snapshot()
    bills.reset()
    assert bills.bills() == []
    bills.restore(snapshot)
    (bill,) = bills.bills()
    assert bill["identifier"] == "AB 9" and bill["actions"][0]["description"] == "Introduced"
    with pytest.raises(ValueError):
        bills.add_bill({"identifier": "AB 1", "title": "x", "jurisdiction": "zz"})
    with pytest.raises(ValueError):
        bills.update_bill(bill["id"], colour="red")
