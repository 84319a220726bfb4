"""Unit tests of the sandbox's Airtable model used directly (seeds, tests): ids, times, links, snapshots."""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

import pytest

from sandbox.airtable.exceptions import AirtableError
from sandbox.airtable.ids import IdFactory, looks_like
from sandbox.airtable.models import Backend, ListQuery
from sandbox.core import Clock, Journal, RateLimiter, SandboxServices

FIELDS: list[dict[str, Any]] = [
    {"name": "Name", "type": "singleLineText"},
    {"name": "Status", "type": "singleSelect", "options": {"choices": ["Draft", "Sent"]}},
    {"name": "Amount", "type": "currency"},
]


class SteppingClock(Clock):
    """A clock whose wall time the test moves by hand."""

    def __init__(self) -> None:
        super().__init__()
        self.wall = dt.datetime(2024, 5, 1, 12, tzinfo=dt.UTC)

    def utcnow(self) -> dt.datetime:
        return self.wall


def make_backend(clock: Clock | None = None) -> Backend:
    clock = clock or Clock()
    return Backend(SandboxServices(clock=clock, limiter=RateLimiter(clock), journal=Journal()))


def build(backend: Backend) -> str:
    base_id = backend.create_base("Coalition")
    backend.create_table(base_id, "Donations", FIELDS)
    backend.create_records(
        base_id,
        "Donations",
        [{"Name": f"gift {i}", "Amount": i, "Status": "Sent"} for i in range(25)],
    )
    return base_id


def test_ids_have_airtable_shapes_and_are_reproducible() -> None:
    first, second = make_backend(), make_backend()
    base_a, base_b = build(first), build(second)
    assert base_a == base_b and looks_like("app", base_a)
    ids_a = [r["id"] for r in first.records(base_a, "Donations")]
    assert ids_a == [r["id"] for r in second.records(base_b, "Donations")]
    assert all(looks_like("rec", i) for i in ids_a)
    assert len(set(ids_a)) == 25
    assert IdFactory("other").new("rec") != IdFactory("airtable").new("rec")


def test_reads_do_not_shift_later_ids() -> None:
    quiet, busy = make_backend(), make_backend()
    base_id = build(quiet)
    build(busy)
    busy.list_records(base_id, "Donations", ListQuery(page_size=5))  # creates an iterator
    new_quiet = quiet.create_records(base_id, "Donations", [{"Name": "x"}])
    new_busy = busy.create_records(base_id, "Donations", [{"Name": "x"}])
    assert new_quiet[0]["id"] == new_busy[0]["id"]


def test_direct_api_has_no_ten_record_limit_but_requests_do() -> None:
    backend = make_backend()
    base_id = build(backend)
    assert len(backend.records(base_id, "Donations")) == 25
    with pytest.raises(AirtableError) as exc:
        backend.create(base_id, "Donations", [{"Name": str(i)} for i in range(11)])
    assert exc.value.type == "INVALID_RECORDS"


def test_find_base_and_pinned_base_id() -> None:
    backend = make_backend()
    pinned = backend.create_base("Coalition", base_id="appCOALITION00001")
    assert backend.find_base("Coalition") == pinned
    assert backend.find_base("Missing") is None
    with pytest.raises(AirtableError):
        backend.create_base("Again", base_id=pinned)


def test_staff_edits_bump_field_and_record_modified_times() -> None:
    clock = SteppingClock()
    backend = make_backend(clock)
    base_id = build(backend)
    record = backend.records(base_id, "Donations")[0]
    clock.wall += dt.timedelta(hours=1)
    backend.update_record_fields(base_id, "Donations", record["id"], {"Status": "Draft"})
    stored = backend.bases[base_id].table("Donations").records[record["id"]]
    table = backend.bases[base_id].table("Donations")
    assert stored.modified[table.field("Status").id] == "2024-05-01T13:00:00.000Z"
    assert stored.modified[table.field("Name").id] == "2024-05-01T12:00:00.000Z"
    assert stored.last_modified() == "2024-05-01T13:00:00.000Z"
    recent = backend.list_records(
        base_id,
        "Donations",
        ListQuery(formula="IS_AFTER(LAST_MODIFIED_TIME(), '2024-05-01T12:30:00Z')"),
    )
    assert [r["id"] for r in recent["records"]] == [record["id"]]


def test_now_in_formulas_follows_the_sandbox_clock() -> None:
    clock = SteppingClock()
    backend = make_backend(clock)
    base_id = build(backend)
    query = ListQuery(formula="IS_SAME(CREATED_TIME(), NOW(), 'day')")
    assert len(backend.list_records(base_id, "Donations", query)["records"]) == 25
    clock.wall += dt.timedelta(days=1)
    assert backend.list_records(base_id, "Donations", query)["records"] == []


def test_delete_record_removes_it_and_links_to_it() -> None:
    backend = make_backend()
    base_id = build(backend)
    backend.create_table(
        base_id,
        "Campaigns",
        [{"name": "Title", "type": "singleLineText"},
         {"name": "Gifts", "type": "multipleRecordLinks", "options": {"linkedTableId": "Donations"}}],
    )  # fmt: skip
    gifts = backend.records(base_id, "Donations")[:2]
    (campaign,) = backend.create_records(
        base_id, "Campaigns", [{"Title": "Spring", "Gifts": [g["id"] for g in gifts]}]
    )
    assert backend.get_record(base_id, "Donations", gifts[0]["id"])["fields"]["Campaigns"] == [
        campaign["id"]
    ]
    backend.delete_record(base_id, "Donations", gifts[0]["id"])
    assert backend.get_record(base_id, "Campaigns", campaign["id"])["fields"]["Gifts"] == [
        gifts[1]["id"]
    ]
    with pytest.raises(AirtableError) as exc:
        backend.get_record(base_id, "Donations", gifts[0]["id"])
    assert exc.value.status == 404


def test_records_returned_are_copies() -> None:
    backend = make_backend()
    base_id = backend.create_base("Coalition")
    backend.create_table(
        base_id,
        "T",
        [{"name": "Name", "type": "singleLineText"}, {"name": "Tags", "type": "multipleSelects"}],
    )
    (record,) = backend.create_records(base_id, "T", [{"Name": "a", "Tags": ["x"]}])
    record["fields"]["Tags"].append("y")
    assert backend.records(base_id, "T")[0]["fields"]["Tags"] == ["x"]


def test_typecast_options_are_not_created_by_a_failing_batch() -> None:
    backend = make_backend()
    base_id = build(backend)
    with pytest.raises(AirtableError):
        backend.create(
            base_id, "Donations", [{"Status": "Pledged"}, {"Amount": "lots"}], typecast=True
        )
    choices = backend.meta_tables(base_id)[0]["fields"][1]["options"]["choices"]
    assert [c["name"] for c in choices] == ["Draft", "Sent"]


def test_snapshot_restore_round_trip_is_json_and_independent() -> None:
    backend = make_backend()
    base_id = build(backend)
    backend.create_table(
        base_id,
        "Campaigns",
        [{"name": "Title", "type": "singleLineText"},
         {"name": "Gifts", "type": "multipleRecordLinks", "options": {"linkedTableId": "Donations"}}],
    )  # fmt: skip
    gift = backend.records(base_id, "Donations")[0]
    backend.create_records(base_id, "Campaigns", [{"Title": "Spring", "Gifts": [gift["id"]]}])
    snapshot = json.loads(json.dumps(backend.snapshot()))

    restored = make_backend()
    restored.restore(snapshot)
    assert restored.snapshot() == snapshot
    assert restored.records(base_id, "Campaigns") == backend.records(base_id, "Campaigns")
    assert restored.meta_tables(base_id) == backend.meta_tables(base_id)
    # the next id continues the same sequence in both
    assert (
        restored.create_records(base_id, "Donations", [{"Name": "n"}])[0]["id"]
        == backend.create_records(base_id, "Donations", [{"Name": "n"}])[0]["id"]
    )
    # changing the restored copy (typecast adds an option) leaves the snapshot alone
    restored.create_records(base_id, "Donations", [{"Status": "Pledged"}])
    choices = snapshot["bases"][0]["tables"][0]["fields"][1]["options"]["choices"]
    assert [c["name"] for c in choices] == ["Draft", "Sent"]
    # links still keep their inverse after a restore
    restored.delete_record(base_id, "Donations", gift["id"])
    assert "Gifts" not in restored.records(base_id, "Campaigns")[0]["fields"]


def test_reset_empties_everything() -> None:
    backend = make_backend()
    build(backend)
    backend.reset()
    assert backend.meta_bases() == []
    assert backend.snapshot()["bases"] == []


def test_views_added_by_a_seed_can_be_listed_through() -> None:
    backend = make_backend()
    base_id = build(backend)
    view_id = backend.add_view(base_id, "Donations", "This week")
    assert (
        len(backend.list_records(base_id, "Donations", ListQuery(view="This week"))["records"])
        == 25
    )
    assert len(backend.list_records(base_id, "Donations", ListQuery(view=view_id))["records"]) == 25
    with pytest.raises(AirtableError) as exc:
        backend.list_records(base_id, "Donations", ListQuery(view="Nope"))
    assert exc.value.type == "VIEW_NAME_NOT_FOUND"
    assert [v["name"] for v in backend.meta_tables(base_id)[0]["views"]] == [
        "Grid view",
        "This week",
    ]
