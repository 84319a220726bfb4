"""The sandbox's Airtable Web API, driven over HTTP by the real pyairtable client, one test per behaviour."""

from __future__ import annotations

import datetime as dt
import time
from typing import Any

import httpx
import pytest
import requests
from pyairtable import Api
from pyairtable import formulas as F

UTC = dt.UTC
MEMBER_FIELDS: list[dict[str, Any]] = [
    {"name": "Name", "type": "singleLineText"},
    {"name": "State", "type": "singleSelect", "options": {"choices": ["CA", "NY", "TX"]}},
    {
        "name": "Services",
        "type": "multipleSelects",
        "options": {"choices": ["asylum", "DACA", "TPS"]},
    },
    {"name": "Accepting referrals", "type": "checkbox"},
    {"name": "Weekly capacity", "type": "number"},
    {"name": "Dues", "type": "currency"},
    {"name": "Notes", "type": "multilineText"},
    {"name": "Email", "type": "email"},
    {"name": "Phone", "type": "phoneNumber"},
    {"name": "Website", "type": "url"},
    {"name": "Last verified", "type": "date"},
    {"name": "Updated at", "type": "dateTime"},
]


@pytest.fixture
def coalition(sandbox) -> dict[str, Any]:
    """A base with a Members table (made through the model) and a pyairtable client on the sandbox."""
    model = sandbox.services["airtable"]
    base_id = model.create_base("Coalition")
    model.create_table(base_id, "Members", MEMBER_FIELDS)
    api = Api("sandbox-token", endpoint_url=sandbox.url, retry_strategy=False)
    return {
        "model": model,
        "base_id": base_id,
        "api": api,
        "members": api.table(base_id, "Members"),
        "sandbox": sandbox,
    }


def error_of(exc: pytest.ExceptionInfo[requests.HTTPError]) -> tuple[int, dict[str, Any]]:
    response = exc.value.response
    return response.status_code, response.json()["error"]


def seed_members(coalition: dict[str, Any], count: int) -> list[dict[str, Any]]:
    return coalition["model"].create_records(
        coalition["base_id"],
        "Members",
        [
            {
                "Name": f"Org {i:04d}",
                "State": ["CA", "NY", "TX"][i % 3],
                "Weekly capacity": i % 7,
                "Accepting referrals": i % 2 == 0,
            }
            for i in range(count)
        ],
    )


def airtable_requests(sandbox, since: int, expected: int) -> list[dict[str, Any]]:
    """The journal's Airtable entries since `since`, once `expected` of them have landed.

    The middleware journals a request just after its reply is sent, so the client can
    get there first; poll briefly rather than race it.
    """
    deadline = time.monotonic() + 2
    while True:
        entries = sandbox.journal(service="airtable", since=since)
        if len(entries) >= expected or time.monotonic() > deadline:
            return entries
        time.sleep(0.01)


# ------------------------------------------------------------------ listing
def test_pagination_follows_offsets_page_by_page(coalition) -> None:
    seeded = seed_members(coalition, 250)
    sandbox = coalition["sandbox"]
    start = sandbox.sandbox.journal.last_seq
    pages = list(coalition["members"].iterate(page_size=100))
    assert [len(p) for p in pages] == [100, 100, 50]
    assert [r["id"] for p in pages for r in p] == [r["id"] for r in seeded]
    calls = airtable_requests(sandbox, start, 3)
    assert len(calls) == 3
    assert "offset=itr" in calls[1]["query"]


def test_default_page_size_is_100_and_last_page_has_no_offset(coalition) -> None:
    seed_members(coalition, 101)
    reply = coalition["api"].request("GET", coalition["members"].urls.records)
    assert len(reply["records"]) == 100
    assert reply["offset"].startswith("itr")
    following = coalition["api"].request(
        "GET", coalition["members"].urls.records, params={"offset": reply["offset"]}
    )
    assert len(following["records"]) == 1
    assert "offset" not in following


def test_page_size_over_100_is_refused(coalition) -> None:
    with pytest.raises(requests.HTTPError) as exc:
        coalition["members"].all(page_size=101)
    assert error_of(exc)[0] == 422


def test_unknown_or_stale_offset_gives_iterator_not_available(coalition) -> None:
    seed_members(coalition, 30)
    url = coalition["members"].urls.records
    api = coalition["api"]
    with pytest.raises(requests.HTTPError) as exc:
        api.request("GET", url, params={"offset": "itrAAAAAAAAAAAAAA/recAAAAAAAAAAAAAA"})
    assert error_of(exc) == (
        422,
        {
            "type": "LIST_RECORDS_ITERATOR_NOT_AVAILABLE",
            "message": error_of(exc)[1]["message"],
        },
    )
    with pytest.raises(requests.HTTPError) as exc:
        api.request("GET", url, params={"offset": "garbage"})
    assert error_of(exc)[1]["type"] == "INVALID_OFFSET_VALUE"

    clock = coalition["sandbox"].sandbox.clock
    clock.scale = 100_000  # the iterator's 5-minute idle timeout now lasts 3 ms
    first = api.request("GET", url, params={"pageSize": 10})
    time.sleep(0.05)
    with pytest.raises(requests.HTTPError) as exc:
        api.request("GET", url, params={"offset": first["offset"]})
    assert error_of(exc)[1]["type"] == "LIST_RECORDS_ITERATOR_NOT_AVAILABLE"


def test_offset_from_another_table_is_not_available(coalition) -> None:
    seed_members(coalition, 20)
    model = coalition["model"]
    model.create_table(coalition["base_id"], "Other", [{"name": "Name", "type": "singleLineText"}])
    api = coalition["api"]
    first = api.request("GET", coalition["members"].urls.records, params={"pageSize": 5})
    with pytest.raises(requests.HTTPError) as exc:
        api.request(
            "GET",
            api.table(coalition["base_id"], "Other").urls.records,
            params={"offset": first["offset"]},
        )
    assert error_of(exc)[1]["type"] == "LIST_RECORDS_ITERATOR_NOT_AVAILABLE"


def test_records_deleted_between_pages_are_skipped(coalition) -> None:
    seeded = seed_members(coalition, 20)
    api, url = coalition["api"], coalition["members"].urls.records
    first = api.request("GET", url, params={"pageSize": 10})
    coalition["model"].delete_record(coalition["base_id"], "Members", seeded[15]["id"])
    second = api.request("GET", url, params={"pageSize": 10, "offset": first["offset"]})
    assert [r["id"] for r in second["records"]] == [
        r["id"] for r in seeded[10:20] if r is not seeded[15]
    ]


def test_fields_parameter_limits_the_fields_returned(coalition) -> None:
    seed_members(coalition, 3)
    records = coalition["members"].all(fields=["Name", "State"])
    assert all(set(r["fields"]) <= {"Name", "State"} for r in records)
    assert all("Name" in r["fields"] for r in records)
    with pytest.raises(requests.HTTPError) as exc:
        coalition["members"].all(fields=["Nope"])
    assert error_of(exc) == (
        422,
        {"type": "UNKNOWN_FIELD_NAME", "message": 'Unknown field name: "Nope"'},
    )


def test_sort_orders_by_fields_and_directions(coalition) -> None:
    seed_members(coalition, 12)
    members = coalition["members"]
    by_capacity = members.all(sort=["-Weekly capacity", "Name"])
    keys = [(-r["fields"].get("Weekly capacity", 0), r["fields"]["Name"]) for r in by_capacity]
    assert keys == sorted(keys)
    # single selects sort by the order of their options, not alphabetically
    coalition["model"].update_record_fields(
        coalition["base_id"], "Members", by_capacity[0]["id"], {"State": "TX"}
    )
    states = [r["fields"]["State"] for r in members.all(sort=["State"])]
    assert states == sorted(states, key=["CA", "NY", "TX"].index)
    with pytest.raises(requests.HTTPError) as exc:
        members.api.request(
            "GET",
            members.urls.records,
            params={"sort[0][field]": "Name", "sort[0][direction]": "up"},
        )
    assert error_of(exc)[0] == 422


def test_blank_values_sort_first_ascending(coalition) -> None:
    model, base_id = coalition["model"], coalition["base_id"]
    model.create_records(
        base_id,
        "Members",
        [{"Name": "b", "Weekly capacity": 2}, {"Name": "a"}, {"Name": "c", "Weekly capacity": 1}],
    )
    names = [r["fields"]["Name"] for r in coalition["members"].all(sort=["Weekly capacity"])]
    assert names == ["a", "c", "b"]
    names = [r["fields"]["Name"] for r in coalition["members"].all(sort=["-Weekly capacity"])]
    assert names == ["b", "c", "a"]


def test_max_records_caps_the_whole_listing(coalition) -> None:
    seed_members(coalition, 250)
    records = coalition["members"].all(max_records=150, page_size=100)
    assert len(records) == 150
    assert coalition["members"].first()["fields"]["Name"] == "Org 0000"


def test_view_name_is_accepted_and_unknown_view_refused(coalition) -> None:
    seed_members(coalition, 5)
    assert len(coalition["members"].all(view="Grid view")) == 5
    with pytest.raises(requests.HTTPError) as exc:
        coalition["members"].all(view="Nope")
    assert error_of(exc)[1]["type"] == "VIEW_NAME_NOT_FOUND"


def test_return_fields_by_field_id(coalition) -> None:
    seed_members(coalition, 2)
    schema = coalition["api"].base(coalition["base_id"]).schema().table("Members")
    name_id = schema.field("Name").id
    records = coalition["members"].all(use_field_ids=True)
    assert all(name_id in r["fields"] and "Name" not in r["fields"] for r in records)
    record = coalition["members"].get(records[0]["id"], use_field_ids=True)
    assert name_id in record["fields"]


def test_cell_format_string_needs_time_zone_and_locale(coalition) -> None:
    coalition["model"].create_records(
        coalition["base_id"],
        "Members",
        [{"Name": "a", "Dues": 1234.5, "Services": ["asylum", "TPS"], "Accepting referrals": True}],
    )
    members = coalition["members"]
    with pytest.raises(requests.HTTPError) as exc:
        members.all(cell_format="string")
    assert error_of(exc)[0] == 422
    (record,) = members.all(cell_format="string", time_zone="UTC", user_locale="en-us")
    assert record["fields"]["Dues"] == "$1,234.50"
    assert record["fields"]["Services"] == "asylum, TPS"
    assert record["fields"]["Accepting referrals"] == "checked"


def test_unknown_query_parameter_is_refused(coalition) -> None:
    with pytest.raises(requests.HTTPError) as exc:
        coalition["api"].request("GET", coalition["members"].urls.records, params={"pagesize": 5})
    assert error_of(exc)[1]["type"] == "INVALID_REQUEST_UNKNOWN"


def test_long_formulas_switch_to_post_list_records(coalition) -> None:
    seeded = seed_members(coalition, 150)
    wanted = [r["fields"]["Name"] for r in seeded[::2]]
    formula = F.OR(
        *[F.EQ(F.Field("Name"), name) for name in wanted], F.EQ(F.Field("Notes"), "x" * 15_000)
    )
    sandbox = coalition["sandbox"]
    start = sandbox.sandbox.journal.last_seq
    records = coalition["members"].all(
        formula=formula, page_size=50, fields=["Name"], sort=["-Name"]
    )
    assert [r["fields"]["Name"] for r in records] == sorted(wanted, reverse=True)
    calls = airtable_requests(sandbox, start, 2)
    assert [c["method"] for c in calls] == ["POST", "POST"]
    assert all(c["path"].endswith("/listRecords") for c in calls)


# ------------------------------------------------------------------ formulas
def test_filter_by_formula_with_pyairtable_builders(coalition) -> None:
    model, base_id = coalition["model"], coalition["base_id"]
    model.create_records(
        base_id,
        "Members",
        [
            {
                "Name": "Casa Legal",
                "State": "CA",
                "Services": ["asylum", "DACA"],
                "Accepting referrals": True,
                "Weekly capacity": 5,
                "Last verified": "2024-05-01",
            },
            {
                "Name": "Justicia NY",
                "State": "NY",
                "Services": ["TPS"],
                "Accepting referrals": True,
                "Weekly capacity": 0,
            },
            {
                "Name": "O'Brien & Partners",
                "State": "TX",
                "Weekly capacity": 2,
                "Last verified": "2023-01-15",
            },
        ],
    )
    members = coalition["members"]

    def names(formula: Any) -> list[str]:
        return [r["fields"]["Name"] for r in members.all(formula=formula)]

    assert names(F.match({"State": "CA"})) == ["Casa Legal"]
    assert names(F.match({"Accepting referrals": True, "Weekly capacity": (">", 0)})) == [
        "Casa Legal"
    ]
    assert names(F.match({"Name": "O'Brien & Partners"})) == ["O'Brien & Partners"]
    assert names(F.match({"State": "CA", "Weekly capacity": 2}, match_any=True)) == [
        "Casa Legal",
        "O'Brien & Partners",
    ]
    assert names(F.NOT(F.match({"Accepting referrals": True}))) == ["O'Brien & Partners"]
    assert names(F.FIND("DACA", F.Field("Services"))) == ["Casa Legal"]
    assert names(
        F.AND(F.GTE(F.Field("Last verified"), dt.date(2024, 1, 1)), F.Field("Accepting referrals"))
    ) == ["Casa Legal"]
    assert names(F.IS_BEFORE(F.Field("Last verified"), dt.date(2024, 1, 1))) == [
        "O'Brien & Partners"
    ]
    assert names(F.EQ(F.Field("Last verified"), F.BLANK())) == ["Justicia NY"]
    assert names(F.EQ(F.LOWER(F.Field("State")), "ny")) == ["Justicia NY"]
    assert names("{Weekly capacity}") == ["Casa Legal", "O'Brien & Partners"]  # 0 is dropped
    assert names("{Notes}") == []  # blank is dropped
    assert names("1/{Weekly capacity} > 0") == ["Casa Legal", "O'Brien & Partners"]  # errors drop


def test_formula_sees_linked_records_by_their_primary_field(coalition) -> None:
    model, base_id = coalition["model"], coalition["base_id"]
    model.create_table(
        base_id,
        "Contacts",
        [
            {"name": "Name", "type": "singleLineText"},
            {
                "name": "Organization",
                "type": "multipleRecordLinks",
                "options": {"linkedTableId": "Members"},
            },
        ],
    )
    org = model.create_records(base_id, "Members", [{"Name": "Casa Legal"}])[0]
    model.create_records(
        base_id, "Contacts", [{"Name": "Ana", "Organization": [org["id"]]}, {"Name": "Ben"}]
    )
    contacts = coalition["api"].table(base_id, "Contacts")
    assert [
        r["fields"]["Name"] for r in contacts.all(formula=F.match({"Organization": "Casa Legal"}))
    ] == ["Ana"]


def test_last_modified_time_drives_incremental_reads(coalition) -> None:
    model, base_id, members = coalition["model"], coalition["base_id"], coalition["members"]
    seeded = seed_members(coalition, 5)
    time.sleep(0.01)
    cutoff = dt.datetime.now(UTC)
    time.sleep(0.01)
    # a staff member edits one record's Notes in Airtable after the last sync
    model.update_record_fields(base_id, "Members", seeded[3]["id"], {"Notes": "called back"})
    changed = members.all(formula=F.IS_AFTER(F.LAST_MODIFIED_TIME(), cutoff))
    assert [r["id"] for r in changed] == [seeded[3]["id"]]
    by_field = members.all(formula=F.IS_AFTER(F.LAST_MODIFIED_TIME(F.Field("Name")), cutoff))
    assert by_field == []
    notes = members.all(formula=F.IS_AFTER(F.LAST_MODIFIED_TIME(F.Field("Notes")), cutoff))
    assert [r["id"] for r in notes] == [seeded[3]["id"]]
    # writing the value a field already holds is no change
    members.update(seeded[0]["id"], {"Name": seeded[0]["fields"]["Name"]})
    assert len(members.all(formula=F.IS_AFTER(F.LAST_MODIFIED_TIME(), cutoff))) == 1
    members.update(seeded[0]["id"], {"Name": "Renamed"})
    assert len(members.all(formula=F.IS_AFTER(F.LAST_MODIFIED_TIME(), cutoff))) == 2


def test_created_time_and_record_id_in_formulas(coalition) -> None:
    seeded = seed_members(coalition, 3)
    members = coalition["members"]
    assert [r["id"] for r in members.all(formula=F.EQ(F.RECORD_ID(), seeded[1]["id"]))] == [
        seeded[1]["id"]
    ]
    created = dt.datetime.fromisoformat(seeded[0]["createdTime"])
    assert len(members.all(formula=F.IS_SAME(F.CREATED_TIME(), created, "second"))) == 3


@pytest.mark.parametrize(
    ("formula", "detail"),
    [
        ("AND({Name}='x'", "Invalid formula"),
        ("NOPE({Name})", "Unknown function: NOPE"),
        ("{Missing} = 1", "Unknown field names: Missing"),
        ("LEN()", "Wrong number of arguments"),
    ],
)
def test_bad_formulas_are_422(coalition, formula: str, detail: str) -> None:
    with pytest.raises(requests.HTTPError) as exc:
        coalition["members"].all(formula=formula)
    status, error = error_of(exc)
    assert status == 422
    assert error["type"] == "INVALID_FILTER_BY_FORMULA"
    assert error["message"].startswith("The formula for filtering records is invalid: ")
    assert detail in error["message"]


def test_deeply_chained_pyairtable_or_still_works(coalition) -> None:
    seed_members(coalition, 3)
    formula: F.Formula = F.EQ(F.Field("Name"), "Org 0001")
    for index in range(150):
        formula = formula | F.EQ(F.Field("Name"), f"none {index}")
    assert [r["fields"]["Name"] for r in coalition["members"].all(formula=formula)] == ["Org 0001"]


# ------------------------------------------------------------------ writes
def test_create_replies_with_records_and_omits_empty_fields(coalition) -> None:
    members = coalition["members"]
    record = members.create(
        {
            "Name": "Casa",
            "Notes": "",
            "Services": [],
            "Accepting referrals": False,
            "Weekly capacity": 0,
        }
    )
    assert record["id"].startswith("rec") and len(record["id"]) == 17
    assert record["fields"] == {"Name": "Casa", "Weekly capacity": 0}
    assert dt.datetime.fromisoformat(record["createdTime"]).tzinfo is not None
    assert members.get(record["id"])["fields"] == {"Name": "Casa", "Weekly capacity": 0}
    cleared = members.update(record["id"], {"Weekly capacity": None, "Name": ""})
    assert cleared["fields"] == {}


def test_writes_take_at_most_ten_records(coalition) -> None:
    api, url = coalition["api"], coalition["members"].urls.records
    eleven = [{"fields": {"Name": f"n{i}"}} for i in range(11)]
    with pytest.raises(requests.HTTPError) as exc:
        api.request("POST", url, json={"records": eleven})
    assert error_of(exc) == (
        422,
        {
            "type": "INVALID_RECORDS",
            "message": "A maximum of 10 records can be created per request but you have provided 11.",
        },
    )
    created = coalition["members"].batch_create([{"Name": f"n{i}"} for i in range(25)])
    assert len(created) == 25
    ids = [r["id"] for r in created]
    with pytest.raises(requests.HTTPError) as exc:
        api.request(
            "PATCH", url, json={"records": [{"id": i, "fields": {"Notes": "x"}} for i in ids[:11]]}
        )
    assert error_of(exc)[1]["type"] == "INVALID_RECORDS"
    with pytest.raises(requests.HTTPError) as exc:
        api.request("DELETE", url, params={"records[]": ids[:11]})
    assert error_of(exc)[1]["type"] == "INVALID_RECORDS"
    assert len(coalition["members"].all()) == 25  # nothing happened


def test_a_bad_record_fails_the_whole_batch(coalition) -> None:
    with pytest.raises(requests.HTTPError) as exc:
        coalition["members"].batch_create(
            [{"Name": "ok"}, {"Name": "bad", "Weekly capacity": "many"}]
        )
    assert error_of(exc) == (
        422,
        {"type": "INVALID_VALUE_FOR_COLUMN", "message": error_of(exc)[1]["message"]},
    )
    assert '"Weekly capacity"' in error_of(exc)[1]["message"]
    assert coalition["members"].all() == []


def test_patch_merges_and_put_replaces(coalition) -> None:
    members = coalition["members"]
    record = members.create({"Name": "Casa", "State": "CA", "Notes": "keep?"})
    merged = members.update(record["id"], {"State": "NY"})
    assert merged["fields"] == {"Name": "Casa", "State": "NY", "Notes": "keep?"}
    replaced = members.update(record["id"], {"Name": "Casa"}, replace=True)
    assert replaced["fields"] == {"Name": "Casa"}
    (batch,) = members.batch_update([{"id": record["id"], "fields": {"Notes": "again"}}])
    assert batch["fields"] == {"Name": "Casa", "Notes": "again"}
    (batch,) = members.batch_update([{"id": record["id"], "fields": {"State": "TX"}}], replace=True)
    assert batch["fields"] == {"State": "TX"}


def test_upsert_creates_updates_and_reports_which(coalition) -> None:
    members = coalition["members"]
    existing = members.create({"Name": "Casa", "State": "CA", "Notes": "old"})
    reply = members.batch_upsert(
        [
            {"fields": {"Name": "Casa", "Weekly capacity": 4}},
            {"fields": {"Name": "Nueva", "State": "NY"}},
        ],
        key_fields=["Name"],
    )
    assert reply["updatedRecords"] == [existing["id"]]
    assert len(reply["createdRecords"]) == 1
    assert [r["fields"]["Name"] for r in reply["records"]] == ["Casa", "Nueva"]
    assert reply["records"][0]["fields"] == {
        "Name": "Casa",
        "State": "CA",
        "Notes": "old",
        "Weekly capacity": 4,
    }
    replaced = members.batch_upsert(
        [{"fields": {"Name": "Casa", "State": "TX"}}], key_fields=["Name"], replace=True
    )
    assert replaced["records"][0]["fields"] == {"Name": "Casa", "State": "TX"}
    again = members.batch_upsert(
        [{"fields": {"Name": "Nueva", "State": "NY"}}], key_fields=["Name", "State"]
    )
    assert again["createdRecords"] == [] and again["updatedRecords"] == reply["createdRecords"]
    assert len(members.all()) == 2


def test_upsert_with_several_matches_fails(coalition) -> None:
    members = coalition["members"]
    members.batch_create([{"Name": "Twin"}, {"Name": "Twin"}])
    with pytest.raises(requests.HTTPError) as exc:
        members.batch_upsert([{"fields": {"Name": "Twin", "Notes": "x"}}], key_fields=["Name"])
    assert error_of(exc)[0] == 422
    assert members.all(formula=F.match({"Notes": "x"})) == []


def test_upsert_merge_fields_are_checked(coalition) -> None:
    api, url = coalition["api"], coalition["members"].urls.records
    record = {"fields": {"Name": "a", "State": "CA", "Notes": "n", "Email": "e@example.org"}}
    for merge_on in ([], ["Name", "State", "Notes", "Email"], ["Services"]):
        with pytest.raises(requests.HTTPError) as exc:
            api.request(
                "PATCH",
                url,
                json={"records": [record], "performUpsert": {"fieldsToMergeOn": merge_on}},
            )
        assert error_of(exc)[0] == 422
    with pytest.raises(requests.HTTPError) as exc:
        api.request(
            "PATCH", url, json={"records": [record], "performUpsert": {"fieldsToMergeOn": ["Nope"]}}
        )
    assert error_of(exc)[1]["type"] == "UNKNOWN_FIELD_NAME"


def test_upsert_in_many_batches_matches_each_time(coalition) -> None:
    members = coalition["members"]
    rows = [{"fields": {"Name": f"Org {i}", "Weekly capacity": i}} for i in range(35)]
    first = members.batch_upsert(rows, key_fields=["Name"])
    assert len(first["createdRecords"]) == 35
    rows = [{"fields": {"Name": f"Org {i}", "Weekly capacity": i + 1}} for i in range(40)]
    second = members.batch_upsert(rows, key_fields=["Name"])
    assert len(second["updatedRecords"]) == 35 and len(second["createdRecords"]) == 5
    assert len(members.all()) == 40


def test_delete_one_and_many(coalition) -> None:
    members = coalition["members"]
    created = members.batch_create([{"Name": f"n{i}"} for i in range(4)])
    assert members.delete(created[0]["id"]) == {"id": created[0]["id"], "deleted": True}
    deleted = members.batch_delete([r["id"] for r in created[1:3]])
    assert deleted == [{"id": r["id"], "deleted": True} for r in created[1:3]]
    assert [r["id"] for r in members.all()] == [created[3]["id"]]


def test_unknown_base_table_record_and_field(coalition) -> None:
    api, base_id, members = coalition["api"], coalition["base_id"], coalition["members"]
    for table in (api.table("appNOPENOPENOPENO", "Members"), api.table(base_id, "Nope")):
        with pytest.raises(requests.HTTPError) as exc:
            table.all()
        assert error_of(exc)[0] == 403
        assert error_of(exc)[1]["type"] == "INVALID_PERMISSIONS_OR_MODEL_NOT_FOUND"
    for call in (lambda: members.get("recNOPENOPENOPENO"), lambda: members.delete("recNOPENOPENOPENO"),
                 lambda: members.update("recNOPENOPENOPENO", {"Name": "x"})):  # fmt: skip
        with pytest.raises(requests.HTTPError) as exc:
            call()
        assert error_of(exc)[0] == 404
        assert error_of(exc)[1]["type"] == "NOT_FOUND"
    with pytest.raises(requests.HTTPError) as exc:
        members.batch_update([{"id": "recNOPENOPENOPENO", "fields": {"Name": "x"}}])
    assert error_of(exc)[1]["type"] == "ROW_DOES_NOT_EXIST"
    with pytest.raises(requests.HTTPError) as exc:
        members.create({"Nmae": "typo"})
    assert error_of(exc) == (
        422,
        {"type": "UNKNOWN_FIELD_NAME", "message": 'Unknown field name: "Nmae"'},
    )


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("Name", 12),
        ("Weekly capacity", "12"),
        ("Weekly capacity", True),
        ("Accepting referrals", "yes"),
        ("Last verified", "May 1st"),
        ("Updated at", 1714521600),
        ("Services", "asylum"),
        ("State", ["CA"]),
    ],
)
def test_values_are_validated_per_field_type(coalition, field: str, value: Any) -> None:
    with pytest.raises(requests.HTTPError) as exc:
        coalition["members"].create({field: value})
    status, error = error_of(exc)
    assert (status, error["type"]) == (422, "INVALID_VALUE_FOR_COLUMN")
    assert f'"{field}"' in error["message"]


def test_unknown_select_option_needs_typecast(coalition) -> None:
    members = coalition["members"]
    with pytest.raises(requests.HTTPError) as exc:
        members.create({"State": "WA"})
    assert error_of(exc)[1]["type"] == "INVALID_MULTIPLE_CHOICE_OPTIONS"
    record = members.create({"State": "WA", "Services": "asylum, U visa"}, typecast=True)
    assert record["fields"] == {"State": "WA", "Services": ["asylum", "U visa"]}
    schema = coalition["api"].base(coalition["base_id"]).schema(force=True).table("Members")
    assert "WA" in [c.name for c in schema.field("State").options.choices]
    assert "U visa" in [c.name for c in schema.field("Services").options.choices]


def test_typecast_converts_strings(coalition) -> None:
    record = coalition["members"].create(
        {
            "Weekly capacity": "12",
            "Dues": "$1,200.50",
            "Accepting referrals": "true",
            "Last verified": "May 1, 2024",
            "Updated at": "2024-05-01 09:30",
            "Name": 42,
        },
        typecast=True,
    )
    assert record["fields"] == {
        "Weekly capacity": 12,
        "Dues": 1200.5,
        "Accepting referrals": True,
        "Last verified": "2024-05-01",
        "Updated at": "2024-05-01T09:30:00.000Z",
        "Name": "42",
    }


def test_dates_and_times_are_normalised(coalition) -> None:
    record = coalition["members"].create(
        {"Last verified": "2024-05-01T23:00:00-05:00", "Updated at": "2024-05-01T12:00:00+02:00"}
    )
    assert record["fields"] == {
        "Last verified": "2024-05-02",
        "Updated at": "2024-05-01T10:00:00.000Z",
    }


def test_links_keep_their_inverse_in_step(coalition) -> None:
    api, base_id = coalition["api"], coalition["base_id"]
    contacts_table = api.base(base_id).create_table(
        "Contacts",
        [
            {"name": "Name", "type": "singleLineText"},
            {
                "name": "Organization",
                "type": "multipleRecordLinks",
                "options": {"linkedTableId": api.base(base_id).schema().table("Members").id},
            },
        ],
    )
    members = coalition["members"]
    org = members.create({"Name": "Casa"})
    ana = contacts_table.create({"Name": "Ana", "Organization": [org["id"]]})
    assert members.get(org["id"])["fields"]["Contacts"] == [ana["id"]]
    ben = contacts_table.create({"Name": "Ben", "Organization": ["Nueva Org"]}, typecast=True)
    (nueva,) = members.all(formula=F.match({"Name": "Nueva Org"}))
    assert ben["fields"]["Organization"] == [nueva["id"]]
    with pytest.raises(requests.HTTPError) as exc:
        contacts_table.create({"Name": "Cy", "Organization": ["recNOPENOPENOPENO"]})
    assert error_of(exc)[1]["type"] == "ROW_DOES_NOT_EXIST"
    members.delete(org["id"])
    assert "Organization" not in contacts_table.get(ana["id"])["fields"]
    contacts_table.update(ben["id"], {"Organization": []})
    assert "Contacts" not in members.get(nueva["id"])["fields"]


def test_invalid_json_and_unknown_body_keys(coalition) -> None:
    sandbox, base_id = coalition["sandbox"], coalition["base_id"]
    headers = {"Authorization": "Bearer x", "Content-Type": "application/json"}
    reply = sandbox.http.post(f"/v0/{base_id}/Members", content=b"{not json", headers=headers)
    assert reply.status_code == 400
    assert reply.json()["error"]["type"] == "INVALID_REQUEST_BODY"
    reply = sandbox.http.post(f"/v0/{base_id}/Members", json={"record": []}, headers=headers)
    assert reply.status_code == 422
    assert reply.json()["error"]["type"] == "INVALID_REQUEST_UNKNOWN"


# ------------------------------------------------------------------ auth and limits
def test_missing_token_is_401(coalition) -> None:
    sandbox, base_id = coalition["sandbox"], coalition["base_id"]
    for headers in ({}, {"Authorization": "Basic abc"}, {"Authorization": "Bearer"}):
        reply = sandbox.http.get(f"/v0/{base_id}/Members", headers=headers)
        assert reply.status_code == 401
        assert reply.json() == {
            "error": {"type": "AUTHENTICATION_REQUIRED", "message": "Authentication required"}
        }


def test_rate_limit_429_body_and_lockout(coalition) -> None:
    sandbox, base_id = coalition["sandbox"], coalition["base_id"]
    sandbox.sandbox.limiter.enabled = True
    sandbox.sandbox.clock.scale = 10  # the 1 s window is 100 ms and the 30 s lockout 3 s
    headers = {"Authorization": "Bearer x"}
    with httpx.Client(base_url=sandbox.url, headers=headers) as http:
        # A burst until the sliding window overflows (a slow machine may need a few more than 6).
        statuses: list[int] = []
        while 429 not in statuses and len(statuses) < 60:
            statuses.append(http.get(f"/v0/{base_id}/Members").status_code)
        assert statuses[-1] == 429
        assert statuses[:5] == [200] * 5 and set(statuses[:-1]) == {200}
        locked = http.get(f"/v0/{base_id}/Members")
        assert locked.status_code == 429
        assert locked.json() == {
            "error": {
                "type": "RATE_LIMIT_REACHED",
                "message": "Rate limit exceeded. Please try again later",
            }
        }
        assert "retry-after" not in locked.headers
        # another base is not locked
        other = sandbox.services["airtable"].create_base("Other")
        assert http.get(f"/v0/meta/bases/{other}/tables").status_code == 200
        time.sleep(0.25)  # the window has passed, but the lockout has not
        assert http.get(f"/v0/{base_id}/Members").status_code == 429
        time.sleep(3.0)
        assert http.get(f"/v0/{base_id}/Members").status_code == 200
    with pytest.raises(requests.HTTPError) as exc:  # pyairtable without retries surfaces the 429
        for _ in range(60):
            coalition["members"].all()
    assert error_of(exc)[0] == 429


def test_injected_faults_use_airtable_shapes(coalition) -> None:
    sandbox = coalition["sandbox"]
    sandbox.sandbox.faults.add(kind="5xx", service="airtable", count=1, status=503)
    reply = sandbox.http.get(
        f"/v0/{coalition['base_id']}/Members", headers={"Authorization": "Bearer x"}
    )
    assert reply.status_code == 503
    assert reply.json()["error"]["type"] == "SERVICE_UNAVAILABLE"
    sandbox.sandbox.faults.add(kind="429", service="airtable", count=1)
    reply = sandbox.http.get(
        f"/v0/{coalition['base_id']}/Members", headers={"Authorization": "Bearer x"}
    )
    assert reply.status_code == 429
    assert reply.json()["error"]["type"] == "RATE_LIMIT_REACHED"


# ------------------------------------------------------------------ meta API
def test_meta_api_lists_bases_and_schemas(coalition) -> None:
    api, base_id = coalition["api"], coalition["base_id"]
    (base,) = api.bases()
    assert (base.id, base.name) == (base_id, "Coalition")
    schema = api.base(base_id).schema()
    members = schema.table("Members")
    assert members.primary_field_id == members.fields[0].id
    assert [f.name for f in members.fields] == [f["name"] for f in MEMBER_FIELDS]
    assert all(f.id.startswith("fld") and len(f.id) == 17 for f in members.fields)
    state = members.field("State")
    assert state.type == "singleSelect"
    assert [c.name for c in state.options.choices] == ["CA", "NY", "TX"]
    assert all(c.id.startswith("sel") for c in state.options.choices)
    assert members.views[0].name == "Grid view"
    assert members.field("Dues").options.symbol == "$"
    assert members.field("Updated at").options.time_zone == "utc"


def test_meta_api_creates_tables_and_fields(coalition) -> None:
    api, base_id = coalition["api"], coalition["base_id"]
    base = api.base(base_id)
    table = base.create_table(
        "Campaigns",
        [
            {"name": "Title", "type": "singleLineText"},
            {
                "name": "Status",
                "type": "singleSelect",
                "options": {"choices": [{"name": "Draft"}, {"name": "Ready"}]},
            },
        ],
        description="Alerts to send",
    )
    assert table.schema().description == "Alerts to send"
    field = table.create_field("Send at", "dateTime")
    assert field.id.startswith("fld")
    record = table.create({"Title": "Rally", "Status": "Ready", "Send at": "2024-05-01T12:00:00Z"})
    assert record["fields"]["Send at"] == "2024-05-01T12:00:00.000Z"
    field.name = "Send time"
    field.save()
    assert table.get(record["id"])["fields"]["Send time"] == "2024-05-01T12:00:00.000Z"
    with pytest.raises(requests.HTTPError) as exc:
        base.create_table("Campaigns", [{"name": "Title", "type": "singleLineText"}])
    assert error_of(exc)[0] == 422
    with pytest.raises(requests.HTTPError) as exc:
        table.create_field("Attachments", "multipleAttachments")
    assert error_of(exc)[0] == 422
    with pytest.raises(requests.HTTPError) as exc:
        table.create_field("Title", "singleLineText")
    assert error_of(exc)[1]["type"] == "DUPLICATE_OR_EMPTY_FIELD_NAME"


def test_whoami(coalition) -> None:
    me = coalition["api"].whoami()
    assert me["id"].startswith("usr")
    assert "data.records:read" in me["scopes"]


def test_unknown_route_is_404(coalition) -> None:
    reply = coalition["sandbox"].http.get("/v0/a/b/c/d", headers={"Authorization": "Bearer x"})
    assert reply.status_code == 404
    assert reply.json() == {"error": "NOT_FOUND"}


def test_overhead_per_request_is_small(coalition) -> None:
    seed_members(coalition, 2000)
    sandbox = coalition["sandbox"]
    start = sandbox.sandbox.journal.last_seq
    assert len(coalition["members"].all()) == 2000
    durations = sorted(e["duration_ms"] for e in airtable_requests(sandbox, start, 20))
    assert (
        durations[len(durations) // 2] < 25
    )  # the benchmark's 5 ms target, with room for a busy CI box


# ------------------------------------------------------------------ documented details (issue 21)
def test_record_writes_answer_with_field_ids_when_asked(coalition) -> None:
    """returnFieldsByFieldId=true keys the answer of every write by field id, PATCH included."""
    members = coalition["members"]
    ids = {f["name"]: f["id"] for f in members.schema().model_dump()["fields"]}
    created = members.create({"Name": "Org A", "Weekly capacity": 3}, use_field_ids=True)
    assert created["fields"] == {ids["Name"]: "Org A", ids["Weekly capacity"]: 3}
    patched = members.update(created["id"], {"Weekly capacity": 4}, use_field_ids=True)
    assert patched["fields"] == {ids["Name"]: "Org A", ids["Weekly capacity"]: 4}
    replaced = members.update(created["id"], {"Name": "Org B"}, replace=True, use_field_ids=True)
    assert replaced["fields"] == {ids["Name"]: "Org B"}
    (batch,) = members.batch_update(
        [{"id": created["id"], "fields": {"State": "CA"}}], use_field_ids=True
    )
    assert batch["fields"] == {ids["Name"]: "Org B", ids["State"]: "CA"}
    by_name = members.update(created["id"], {"State": "NY"})
    assert by_name["fields"] == {"Name": "Org B", "State": "NY"}


def test_cell_format_string_shows_every_field_as_the_grid_does(coalition) -> None:
    """cellFormat=string: text as the UI shows it, dates in the field's format and time zone."""
    model, base_id = coalition["model"], coalition["base_id"]
    model.create_table(
        base_id,
        "Events",
        [
            {"name": "Title", "type": "singleLineText"},
            {"name": "Day", "type": "date", "options": {"dateFormat": {"name": "us", "format": "M/D/YYYY"}}},
            {"name": "Local day", "type": "date", "options": {"dateFormat": {"name": "local", "format": "l"}}},
            {"name": "Friendly", "type": "date", "options": {"dateFormat": {"name": "friendly", "format": "LL"}}},
            {
                "name": "Starts",
                "type": "dateTime",
                "options": {
                    "timeZone": "client",
                    "dateFormat": {"name": "us", "format": "M/D/YYYY"},
                    "timeFormat": {"name": "12hour", "format": "h:mma"},
                },
            },
            {
                "name": "Starts UTC",
                "type": "dateTime",
                "options": {
                    "timeZone": "utc",
                    "dateFormat": {"name": "iso", "format": "YYYY-MM-DD"},
                    "timeFormat": {"name": "24hour", "format": "HH:mm"},
                },
            },
            {"name": "Seats", "type": "number", "options": {"precision": 1}},
        ],
    )  # fmt: skip
    (stored,) = model.create_records(
        base_id,
        "Events",
        [
            {
                "Title": "Know your rights",
                "Day": "2026-03-05",
                "Local day": "2026-03-05",
                "Friendly": "2026-03-05",
                "Starts": "2026-03-05T23:30:00.000Z",
                "Starts UTC": "2026-03-05T23:30:00.000Z",
                "Seats": 40,
            }
        ],
    )
    events = coalition["api"].table(base_id, "Events")
    options = {"cell_format": "string", "time_zone": "America/Los_Angeles", "user_locale": "en-gb"}
    (listed,) = events.all(**options)
    got = events.get(stored["id"], **options)
    for record in (listed, got):
        assert record["fields"] == {
            "Title": "Know your rights",
            "Day": "3/5/2026",
            "Local day": "05/03/2026",
            "Friendly": "March 5, 2026",
            "Starts": "3/5/2026 3:30pm",
            "Starts UTC": "2026-03-05 23:30",
            "Seats": "40.0",
        }
    assert events.get(stored["id"])["fields"]["Starts"] == "2026-03-05T23:30:00.000Z"
    for bad in [{"cell_format": "string"}, {**options, "time_zone": "Mars/Olympus"}]:
        with pytest.raises(requests.HTTPError) as exc:
            events.get(stored["id"], **bad)
        assert error_of(exc) == (
            422,
            {"type": "INVALID_REQUEST_UNKNOWN", "message": error_of(exc)[1]["message"]},
        )
    with pytest.raises(requests.HTTPError) as exc:
        coalition["api"].request("GET", events.urls.record(stored["id"]), params={"pagesize": 5})
    assert error_of(exc)[1]["type"] == "INVALID_REQUEST_UNKNOWN"


def test_urls_of_16000_characters_or_more_are_refused_with_414(coalition) -> None:
    """Airtable only accepts URLs shorter than 16,000 characters; pyairtable switches to POST before."""
    seed_members(coalition, 3)
    members, api = coalition["members"], coalition["api"]
    base = str(members.urls.records)
    params = {"filterByFormula": ""}
    params["filterByFormula"] = "x" * (16_000 - len(base) - len("?filterByFormula="))
    with pytest.raises(requests.HTTPError) as exc:
        api.request("GET", members.urls.records, params=params)
    assert error_of(exc)[0] == 414
    params["filterByFormula"] = params["filterByFormula"][:-1]
    with pytest.raises(requests.HTTPError) as exc:  # one character shorter: the formula is read
        api.request("GET", members.urls.records, params=params)
    assert error_of(exc)[1]["type"] == "INVALID_FILTER_BY_FORMULA"
