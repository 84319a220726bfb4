"""The bench's arithmetic: rate-limit floors, ratios and the row-by-row extrapolation."""

from __future__ import annotations

import pytest

from bench.baseline import Operation, estimate, floor_of
from bench.limits import LIMITS, flow_floor, ratio, window_floor
from bench.measure import endpoint, is_airtable_list, median


@pytest.mark.parametrize(
    ("service", "requests", "seconds"),
    [
        ("airtable", 5, 0.0),  # the first window's worth goes at once
        ("airtable", 6, 1.0),
        ("airtable", 110, 21.0),  # 10,000 contacts and 1,000 members, 100 a page
        ("sheets", 60, 0.0),
        ("sheets", 61, 60.0),
        ("sheets", 1000, 960.0),  # one values.update per row of 1,000
        ("docs", 2, 0.0),
    ],
)
def test_window_floor(service: str, requests: int, seconds: float) -> None:
    assert window_floor(requests, LIMITS[service]) == seconds


def test_a_flow_waits_for_its_slowest_service_and_busiest_channel() -> None:
    assert flow_floor({"airtable": 11, "sheets": 3}) == 2.0
    assert flow_floor({"airtable": 3}, {"policy": 20, "ref-a": 2}) == 19.0
    assert flow_floor({}) == 0.0


def test_ratio() -> None:
    assert ratio(110, 110) == 1.0
    assert ratio(0, 0) == 1.0
    assert ratio(3, 0) is None


def test_row_by_row_is_extrapolated_but_never_below_its_floor() -> None:
    calls: list[int] = []
    operation = Operation("sheets", "values.update per row", 1000, calls.append, k=10)
    result = estimate(operation, time_scale=1.0)
    assert calls == [10]
    assert result.floor_seconds == 960.0 and result.wall_seconds >= 960.0
    assert result.as_dict()["extrapolated"] is True
    slack = Operation("slack", "post per referral", 1000, calls.append, channels=20)
    assert floor_of(slack) == 49.0  # 50 posts per channel, channels side by side


def test_endpoints_and_lists() -> None:
    listing = {"service": "airtable", "method": "GET", "path": "/v0/appX/Contacts", "status": 200}
    single = {
        "service": "airtable",
        "method": "GET",
        "path": "/v0/appX/Contacts/rec123",
        "status": 200,
    }
    post = {"service": "slack", "method": "POST", "path": "/api/chat.postMessage", "status": 200}
    batch = {
        "service": "sheets",
        "method": "POST",
        "path": "/v4/spreadsheets/abc/values:batchUpdate",
    }
    assert is_airtable_list(listing) and not is_airtable_list(single)
    assert endpoint(listing) == "airtable GET list"
    assert endpoint(post) == "slack POST chat.postMessage"
    assert endpoint(batch) == "sheets POST batchUpdate"
    assert median([3, 1, 2]) == 2 and median([1, 2, 3, 4]) == 2.5 and median([]) == 0.0
