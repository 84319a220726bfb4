"""The Sheets emulator's grid: copy-on-write transactions and append's table detection."""

from __future__ import annotations

import pytest

from sandbox.sheets.grid import Sheet, Spreadsheet, find_table


def sheet_of(rows: list[list[str | None]]) -> Sheet:
    sheet = Sheet(0, "Sheet1")
    sheet.replace_rows(rows, lambda v: v or None)
    return sheet


def test_a_clone_shares_rows_until_it_writes() -> None:
    original = Spreadsheet("id", "t", [sheet_of([["a", "b"], ["c"]])])
    work = original.clone()
    work.sheets[0].set(0, 1, "changed")
    work.sheets[0].clear(1, 2, 0, 5)
    work.sheets[0].insert_columns(0, 1)
    assert original.sheets[0].rows == [["a", "b"], ["c"]]
    assert work.sheets[0].rows == [[None, "a", "changed"], []]
    assert work.sheets[0].rows[0] is not original.sheets[0].rows[0]
    committed = work.commit()
    committed.sheets[0].set(0, 0, "z")  # committed: owns its rows, writes in place
    assert committed.sheets[0].rows[0][0] == "z"


def test_writes_trim_trailing_empties() -> None:
    sheet = sheet_of([["a", "b", "c"]])
    sheet.set(0, 2, None)
    sheet.set(0, 1, None)
    assert sheet.rows == [["a"]]
    sheet.set(5, 0, None)  # clearing outside the data adds nothing
    assert sheet.rows == [["a"]]


GAPPY = [
    ["h1", "h2", "h3"],  # 1
    ["1", None, "3"],  # 2
    [None, "x"],  # 3: column A empty, still part of the table
    [None, None, None],  # 4: empty row ends the table
    [None, "b5", "c5", "d5"],  # 5
    [None, None, None, None, "e6"],  # 6: touches d5 diagonally
]


@pytest.mark.parametrize(
    ("window", "table"),
    [
        ((0, 1000, 0, 26), (0, 3, 0, 3)),  # whole sheet: the first table
        ((0, 1, 0, 3), (0, 3, 0, 3)),  # header row only: the table under it
        ((1, 2, 0, 1), (0, 3, 0, 3)),  # a cell inside the table: the whole table
        ((3, 1000, 0, 26), (4, 6, 1, 5)),  # after the gap: the second table, diagonal included
        ((3, 4, 0, 26), None),  # an empty window: no table
        ((0, 1000, 5, 26), None),  # columns with nothing in them
    ],
)
def test_find_table(window: tuple[int, int, int, int], table: tuple | None) -> None:
    assert find_table(sheet_of(GAPPY), *window) == table


def test_find_table_on_ten_thousand_rows_is_linear() -> None:
    sheet = sheet_of([[f"r{r}", "x"] for r in range(10_000)])
    assert find_table(sheet, 0, 1000, 0, 26) == (0, 10_000, 0, 2)
