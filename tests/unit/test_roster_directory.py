"""Directory plan: rows found by Member ID, only bot cells written, staff columns kept with their rows."""

from __future__ import annotations

from datetime import date

import pytest

from coalition.roster.directory import (
    REMOVED_MARK,
    cell_value,
    directory_row,
    mark_column,
    partner_from,
    plan_directory,
    plan_partners,
    row_hash,
)
from coalition.roster.models import Contact, Member
from coalition.sheet_table import SheetTable

COLUMNS = {
    "Member ID": "id",
    "Organization": "Name",
    "State": "State",
    "Services": "Services",
    "Accepting referrals": "Accepting referrals",
    "Weekly capacity": "Weekly capacity",
    "Membership status": "Membership status",
    "Dues paid through": "Dues paid through",
    "Primary contact": "primary_contact",
    "Data issues": "data_issues",
}
HEADER = ["Staff notes", *COLUMNS]


def m(mid: str, name: str, **kw: object) -> Member:
    kw.setdefault("status", "Active")
    return Member(id=mid, name=name, **kw)  # type: ignore[arg-type]


def row(member: Member, primary: str | None = "Ana Ruiz", issues: str = "") -> dict:
    contact = Contact(id="c", name=primary) if primary else None
    return directory_row(member, COLUMNS, contact, issues)


def table(rows: list[list]) -> SheetTable:
    return SheetTable.from_values("Directory", [HEADER, *rows], list(COLUMNS), "Member ID")


def sheet_row(note: str, cells: dict) -> list:
    return [note, *[cells[h] for h in COLUMNS]]


def test_cells_render_like_staff_read_them() -> None:
    member = m(
        "rec1",
        "Casa",
        state="MA",
        services=["asylum", "DACA"],
        accepting=True,
        capacity=5,
        dues_paid_through=date(2026, 12, 31),
    )
    cells = row(member, issues="• one\n• two")
    assert cells == {
        "Member ID": "rec1",
        "Organization": "Casa",
        "State": "MA",
        "Services": "asylum, DACA",
        "Accepting referrals": "Yes",
        "Weekly capacity": 5,
        "Membership status": "Active",
        "Dues paid through": "2026-12-31",
        "Primary contact": "Ana Ruiz",
        "Data issues": "• one; • two",
    }
    assert cell_value(None) == "" and cell_value(2.0) == 2 and cell_value(False) == "No"


def test_unchanged_sheet_means_empty_plan() -> None:
    a, b = m("rec1", "Casa"), m("rec2", "Centro")
    desired = {"rec1": row(a), "rec2": row(b)}
    sheet = table([sheet_row("note b", desired["rec2"]), sheet_row("note a", desired["rec1"])])
    plan = plan_directory(sheet, desired, {"rec1", "rec2"})
    assert plan.empty and plan.write_requests == 0 and plan.value_ranges == []


def test_changed_cell_is_the_only_write_even_after_a_sort() -> None:
    a, b = m("rec1", "Casa"), m("rec2", "Centro")
    before = {"rec1": row(a), "rec2": row(b)}
    # Staff sorted by name descending and wrote notes; then Centro's status changed in Airtable.
    sheet = table([sheet_row("note b", before["rec2"]), sheet_row("note a", before["rec1"])])
    b.status = "Lapsed"
    plan = plan_directory(sheet, {"rec1": row(a), "rec2": row(b)}, {"rec1", "rec2"})
    assert plan.value_ranges == [{"range": "Directory!H2", "values": [["Lapsed"]]}]
    assert plan.rows_updated == 1 and not plan.appends and not plan.delete_rows


def test_new_member_appended_with_staff_columns_empty() -> None:
    a, b = m("rec1", "Casa"), m("rec2", "Centro")
    sheet = table([sheet_row("note a", row(a))])
    plan = plan_directory(sheet, {"rec1": row(a), "rec2": row(b)}, {"rec1", "rec2"})
    assert plan.appends == [["", *row(b).values()]]
    assert plan.write_requests == 1


def test_appends_sorted_by_name() -> None:
    sheet = table([])
    members = [m("rec3", "Zeta"), m("rec1", "alpha"), m("rec2", "Beta")]
    desired = {x.id: row(x) for x in members}
    plan = plan_directory(sheet, desired, set(desired), names={x.id: x.name for x in members})
    assert [r[2] for r in plan.appends] == ["alpha", "Beta", "Zeta"]


def test_removed_member_row_deleted_whole() -> None:
    a = m("rec1", "Casa")
    gone = m("rec2", "Gone")
    sheet = table([sheet_row("", row(gone)), sheet_row("keep", row(a)), ["staff only row"]])
    plan = plan_directory(sheet, {"rec1": row(a)}, {"rec1"})
    assert plan.delete_rows == [2]
    assert plan.delete_requests(7)[0]["deleteDimension"]["range"] == {
        "sheetId": 7,
        "dimension": "ROWS",
        "startIndex": 1,
        "endIndex": 2,
    }


def test_removed_member_marked_when_configured() -> None:
    gone = m("rec2", "Gone")
    sheet = table([sheet_row("", row(gone))])
    plan = plan_directory(sheet, {}, set(), "mark", mark_column(COLUMNS))
    assert plan.value_ranges == [{"range": "Directory!H2", "values": [[REMOVED_MARK]]}]
    assert plan.rows_marked == 1 and not plan.delete_rows
    marked = table([[*sheet_row("", row(gone))[:7], REMOVED_MARK, *sheet_row("", row(gone))[8:]]])
    assert plan_directory(marked, {}, set(), "mark", "Membership status").empty


def test_unaffected_active_rows_are_left_alone() -> None:
    a = m("rec1", "Casa")
    sheet = table([sheet_row("", {**row(a), "Organization": "stale but not read"})])
    plan = plan_directory(sheet, {}, {"rec1"})
    assert plan.empty


def test_mass_removal_is_refused() -> None:
    members = [m(f"rec{i}", f"Org {i}") for i in range(10)]
    sheet = table([sheet_row("", row(x)) for x in members])
    plan = plan_directory(sheet, {}, set())
    assert plan.delete_rows == [] and "refused to delete 10 of 10 rows" in plan.warnings[0]


def test_empty_tab_gets_header_and_rows() -> None:
    empty = SheetTable.from_values("Directory", [], list(COLUMNS), "Member ID")
    a = m("rec1", "Casa")
    plan = plan_directory(empty, {"rec1": row(a)}, {"rec1"}, headers=list(COLUMNS))
    assert plan.value_ranges[0]["values"] == [list(COLUMNS)]
    assert plan.appends == [list(row(a).values())]
    assert plan.write_requests == 2


def test_duplicate_member_id_rows_both_updated_and_reported() -> None:
    a = m("rec1", "Casa")
    old = {**row(a), "Organization": "Old"}
    sheet = table([sheet_row("x", old), sheet_row("y", old)])
    plan = plan_directory(sheet, {"rec1": row(a)}, {"rec1"})
    assert len(plan.value_ranges) == 2 and "1 extra row(s)" in plan.warnings[0]


def test_row_hash_matches_sheet_cells() -> None:
    a = m("rec1", "Casa", capacity=3)
    desired = row(a)
    sheet = table([sheet_row("", {**desired, "Weekly capacity": "3"})])
    assert row_hash(sheet.row_cells(2), COLUMNS) == row_hash(desired, COLUMNS)
    assert row_hash({**desired, "State": "XX"}, COLUMNS) != row_hash(desired, COLUMNS)


@pytest.mark.parametrize(
    ("services", "is_partner"),
    [
        (["asylum"], True),
        (["know your rights"], False),
        ([], False),
        (["know your rights", "DACA"], True),
    ],
)
def test_partners_are_legal_service_members(services: list[str], is_partner: bool) -> None:
    assert (partner_from(m("rec1", "Casa", services=services)) is not None) == is_partner


def test_partner_changes() -> None:
    legal = m("rec1", "Casa", services=["asylum"], state="MA", capacity=4, accepting=True)
    record = partner_from(legal)
    assert record is not None
    assert record.states == ("MA",) and record.weekly_capacity == 4
    fresh = plan_partners([legal], [], {})
    assert [p.member_id for p in fresh.upserts] == ["rec1"]
    same = plan_partners([legal], [], {"rec1": record.as_row()})
    assert same.count == 0
    kyr = m("rec1", "Casa", services=["know your rights"])
    assert plan_partners([kyr], [], {"rec1": record.as_row()}).deactivate == ["rec1"]
    assert plan_partners([], ["rec1"], {"rec1": record.as_row()}).deactivate == ["rec1"]
    assert plan_partners([], ["rec1"], {"rec1": {**record.as_row(), "active": False}}).count == 0


def test_inactive_member_is_an_inactive_partner() -> None:
    record = partner_from(m("rec1", "Casa", services=["asylum"], status="Former"))
    assert record is not None and not record.active
