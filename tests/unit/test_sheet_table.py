"""SheetTable and A1 helpers: columns by header, rows by id, minimal ranges, bottom-up deletions."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from coalition.sheet_table import (
    DuplicateHeaderError,
    MissingHeaderError,
    SheetTable,
    a1_cell,
    a1_range,
    cell_text,
    column_index,
    column_letter,
    delete_rows_requests,
    parse_a1,
    quote_tab,
    ranges_for,
    same_cell,
)


@pytest.mark.parametrize(
    ("index", "letters"),
    [
        (0, "A"),
        (1, "B"),
        (25, "Z"),
        (26, "AA"),
        (27, "AB"),
        (51, "AZ"),
        (52, "BA"),
        (701, "ZZ"),
        (702, "AAA"),
    ],
)
def test_column_letters(index: int, letters: str) -> None:
    assert column_letter(index) == letters
    assert column_index(letters) == index
    assert column_index(letters.lower()) == index


@given(st.integers(min_value=0, max_value=18_277))
def test_column_letters_round_trip(index: int) -> None:
    assert column_index(column_letter(index)) == index


@pytest.mark.parametrize("bad", ["", "A1", "Ä", "-"])
def test_column_index_refuses_non_letters(bad: str) -> None:
    with pytest.raises(ValueError):
        column_index(bad)


@pytest.mark.parametrize(
    ("name", "quoted"),
    [
        ("Directory", "Directory"),
        ("Sheet_1", "Sheet_1"),
        ("Member Directory", "'Member Directory'"),
        ("It's", "'It''s'"),
        ("A1", "'A1'"),
        ("R1C1", "'R1C1'"),
        ("Données", "'Données'"),
        ("2026", "'2026'"),
    ],
)
def test_quote_tab(name: str, quoted: str) -> None:
    assert quote_tab(name) == quoted


def test_a1_cell_and_range() -> None:
    assert a1_cell("Directory", 7, 1) == "Directory!B7"
    assert a1_range("Staff view", 3, 0, 3) == "'Staff view'!A3:D3"
    assert a1_range("Directory", 3, 2, 2) == "Directory!C3"
    assert a1_range("Directory", 1, 0, 2, last_row=9) == "Directory!A1:C9"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Directory!A1:D4", ("Directory", 1, 0, 4, 3)),
        ("'Member Directory'!B2", ("Member Directory", 2, 1, 2, 1)),
        ("'It''s'!A:C", ("It's", None, 0, None, 2)),
        ("A5", (None, 5, 0, 5, 0)),
        ("'Odd!name'!C3:C", ("Odd!name", 3, 2, None, 2)),
    ],
)
def test_parse_a1(text: str, expected: tuple) -> None:
    got = parse_a1(text)
    assert (got.tab, got.first_row, got.first_col, got.last_row, got.last_col) == expected


@given(
    st.text(min_size=1, max_size=20).filter(lambda s: s.strip() and "\n" not in s),
    st.integers(1, 5000),
    st.integers(0, 200),
    st.integers(0, 200),
)
def test_a1_round_trip(tab: str, row: int, first: int, extra: int) -> None:
    parsed = parse_a1(a1_range(tab, row, first, first + extra))
    assert (parsed.tab, parsed.first_row, parsed.first_col, parsed.last_col) == (
        tab,
        row,
        first,
        first + extra,
    )


@pytest.mark.parametrize(
    ("a", "b"), [("5", 5), (5.0, "5"), ("", None), ("Yes", "Yes"), (True, "TRUE")]
)
def test_same_cell_across_render_options(a: object, b: object) -> None:
    assert same_cell(a, b)


def test_cell_text_keeps_formulas_as_text() -> None:
    assert cell_text("=IMPORTXML(1)") == "=IMPORTXML(1)"
    assert not same_cell("5", 6)


# ---------------------------------------------------------------- the table
HEADERS = ["Organization", "State"]


def _table(values: list[list]) -> SheetTable:
    return SheetTable.from_values("Directory", values, HEADERS, "Member ID")


def test_columns_found_by_header_wherever_they_are() -> None:
    values = [
        ["Staff notes", " state ", "Member ID", "ORGANIZATION"],
        ["call back", "MA", "rec1", "Casa"],
        [],
        ["", "TX", "rec2", "Centro"],
        ["only staff"],
    ]
    table = _table(values)
    assert table.columns == {"Member ID": 2, "Organization": 3, "State": 1}
    assert table.rows_by_id == {"rec1": [2], "rec2": [4]}
    assert table.cell(4, "State") == "TX"
    assert table.cell(5, "State") == ""  # short row
    assert table.cell(99, "State") == ""


def test_missing_header_names_it_and_what_is_there() -> None:
    with pytest.raises(MissingHeaderError) as caught:
        _table([["Member ID", "Org name", "State"]])
    message = str(caught.value)
    assert "'Organization'" in message and "'Org name'" in message
    assert "Nothing was written" in message
    assert caught.value.missing == ["Organization"]


def test_duplicate_bot_header_is_refused() -> None:
    with pytest.raises(DuplicateHeaderError, match="columns B and D"):
        _table([["Member ID", "State", "Organization", "state"]])


def test_empty_tab_gets_a_header() -> None:
    table = _table([])
    assert not table.has_header
    ranges = table.header_cells(HEADERS)
    assert ranges == [
        {"range": "Directory!A1:C1", "values": [["Member ID", "Organization", "State"]]}
    ]
    assert table.columns == {"Member ID": 0, "Organization": 1, "State": 2}


def test_duplicate_ids_are_reported() -> None:
    table = _table([["Member ID", "Organization", "State"], ["rec1", "A"], ["rec1", "A copy"]])
    assert table.duplicate_ids == {"rec1": [2, 3]}


def test_changed_cells_only_the_differences() -> None:
    table = _table([["State", "Notes", "Member ID", "Organization"], ["MA", "x", "rec1", "Casa"]])
    assert table.changed_cells(2, {"Organization": "Casa", "State": "MA"}) == {}
    assert table.changed_cells(2, {"Organization": "Casa Nueva", "State": "MA"}) == {
        (2, 3): "Casa Nueva"
    }


def test_append_row_leaves_staff_columns_empty() -> None:
    table = _table([["State", "Notes", "Member ID", "Organization", "More notes"]])
    row = table.append_row({"Member ID": "rec9", "Organization": "New", "State": "VT"})
    assert row == ["VT", "", "rec9", "New"]


def test_ranges_merge_adjacent_columns_only() -> None:
    changes = {(2, 0): "a", (2, 1): "b", (2, 3): "d", (5, 2): 7, (3, 0): "x"}
    assert ranges_for("Directory", changes) == [
        {"range": "Directory!A2:B2", "values": [["a", "b"]]},
        {"range": "Directory!D2", "values": [["d"]]},
        {"range": "Directory!A3", "values": [["x"]]},
        {"range": "Directory!C5", "values": [[7]]},
    ]


def test_deletions_go_bottom_up_in_blocks() -> None:
    requests = delete_rows_requests(42, [3, 4, 9, 5, 12])
    spans = [
        (r["deleteDimension"]["range"]["startIndex"], r["deleteDimension"]["range"]["endIndex"])
        for r in requests
    ]
    assert spans == [(11, 12), (8, 9), (2, 5)]
    assert all(r["deleteDimension"]["range"]["sheetId"] == 42 for r in requests)
    assert all(r["deleteDimension"]["range"]["dimension"] == "ROWS" for r in requests)


@given(st.sets(st.integers(2, 60), max_size=25))
def test_deleting_blocks_removes_exactly_those_rows(rows: set[int]) -> None:
    sheet = list(range(1, 61))
    for request in delete_rows_requests(0, rows):
        span = request["deleteDimension"]["range"]
        del sheet[span["startIndex"] : span["endIndex"]]
    assert sheet == [r for r in range(1, 61) if r not in rows]
