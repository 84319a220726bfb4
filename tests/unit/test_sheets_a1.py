"""A1 notation of the Sheets emulator: parsing, formatting, and round trips of awkward sheet names."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from sandbox.sheets.a1 import (
    A1Error,
    A1Range,
    column_index,
    column_letters,
    format_a1,
    format_range,
    parse,
    quote_sheet,
)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("A1", A1Range(None, 0, 1, 0, 1)),
        ("b7", A1Range(None, 6, 7, 1, 2)),
        ("$A$1:$B$2", A1Range(None, 0, 2, 0, 2)),
        ("A1:D5", A1Range(None, 0, 5, 0, 4)),
        ("D5:A1", A1Range(None, 0, 5, 0, 4)),  # reversed corners are normalised
        ("A:C", A1Range(None, None, None, 0, 3)),
        ("2:5", A1Range(None, 1, 5, None, None)),
        ("A2:C", A1Range(None, 1, None, 0, 3)),
        ("A5:A", A1Range(None, 4, None, 0, 1)),
        ("AA10:AB11", A1Range(None, 9, 11, 26, 28)),
        ("Sheet1", A1Range("Sheet1")),
        ("Sheet1!A1:B2", A1Range("Sheet1", 0, 2, 0, 2)),
        ("'Form Responses 1'!A:V", A1Range("Form Responses 1", None, None, 0, 22)),
        ("'Form Responses 1'", A1Range("Form Responses 1")),
        ("'It''s here'!B3", A1Range("It's here", 2, 3, 1, 2)),
        ("'''quoted'''!A1", A1Range("'quoted'", 0, 1, 0, 1)),
        ("'a!b'!C4", A1Range("a!b", 3, 4, 2, 3)),
        ("Form Responses 1!A1", A1Range("Form Responses 1", 0, 1, 0, 1)),
        ("x!y!A1", A1Range("x!y", 0, 1, 0, 1)),  # unquoted: the last ! splits
        ("'A1'", A1Range("A1")),  # a quoted cell-like name is a sheet
    ],
)
def test_parse(text: str, expected: A1Range) -> None:
    assert parse(text) == expected


@pytest.mark.parametrize(
    "text",
    [
        "'unterminated!A1",
        "''!A1",  # empty quoted name
        "'Sheet1'A1",  # no ! after the quoted name
        "'Sheet1'!",
        "Sheet1!",
        "!A1",
        "Sheet1!A1:B2:C3",
        "Sheet1!A:5",  # a bare column with a bare row
        "Sheet1!5:A",
        "Sheet1!A",  # one bare column is not a range
        "Sheet1!5",
        "Sheet1!ABCD1",  # past column ZZZ
        "Sheet1!A0",
        "",
    ],
)
def test_parse_rejects(text: str) -> None:
    with pytest.raises(A1Error):
        parse(text)


def test_a_bare_name_that_is_not_a_cell_is_a_sheet() -> None:
    assert parse("Intake") == A1Range("Intake")
    assert parse("A:5") == A1Range("A:5")  # not a range, so possibly a sheet's name


@pytest.mark.parametrize(
    ("index", "letters"),
    [
        (0, "A"),
        (25, "Z"),
        (26, "AA"),
        (51, "AZ"),
        (52, "BA"),
        (701, "ZZ"),
        (702, "AAA"),
        (18277, "ZZZ"),
    ],
)
def test_column_letters(index: int, letters: str) -> None:
    assert column_letters(index) == letters
    assert column_index(letters) == index
    assert column_index(letters.lower()) == index


@pytest.mark.parametrize(
    ("name", "quoted"),
    [
        ("Sheet1", "Sheet1"),
        ("Intake", "Intake"),
        ("Form Responses 1", "'Form Responses 1'"),
        ("It's", "'It''s'"),
        ("A1", "'A1'"),  # would read as a cell
        ("R1C1", "'R1C1'"),
        ("2024", "'2024'"),
        ("Año", "'Año'"),
    ],
)
def test_quote_sheet(name: str, quoted: str) -> None:
    assert quote_sheet(name) == quoted


def test_format_range_collapses_single_cells() -> None:
    assert format_range("Sheet1", 0, 1, 0, 1) == "Sheet1!A1"
    assert format_range("Sheet1", 0, 4, 0, 4) == "Sheet1!A1:D4"
    assert format_range("My tab", 4, 5, 0, 10) == "'My tab'!A5:J5"


def test_bounded_closes_open_sides_with_the_grid() -> None:
    assert parse("A2:C").bounded(1000, 26) == (1, 1000, 0, 3)
    assert parse("2:5").bounded(1000, 26) == (1, 5, 0, 26)
    assert parse("Sheet1").bounded(50, 8) == (0, 50, 0, 8)


sheet_names = st.text(
    alphabet=st.characters(blacklist_categories=("Cs", "Cc")), min_size=1, max_size=40
).filter(lambda s: s.strip() != "")
rows = st.integers(min_value=0, max_value=99_999)
cols = st.integers(min_value=0, max_value=18_277)


@given(name=sheet_names, r0=rows, height=st.integers(1, 500), c0=cols, width=st.integers(1, 30))
def test_round_trip_of_any_sheet_name(name: str, r0: int, height: int, c0: int, width: int) -> None:
    c1 = min(c0 + width, 18_278)
    text = format_range(name, r0, r0 + height, c0, c1)
    assert parse(text) == A1Range(name, r0, r0 + height, c0, c1)


@given(name=sheet_names)
def test_round_trip_of_whole_sheets(name: str) -> None:
    assert parse(quote_sheet(name)) == A1Range(name)


@given(
    name=st.one_of(st.none(), sheet_names),
    r0=st.one_of(st.none(), rows),
    c0=st.one_of(st.none(), cols),
)
def test_round_trip_of_open_ranges(name: str | None, r0: int | None, c0: int | None) -> None:
    """`A2:C`, `2:5`, `A:C` survive format -> parse."""
    if r0 is None and c0 is None:
        rng = A1Range(name, None, None, 0, 3)
    elif c0 is None:
        rng = A1Range(name, r0, r0 + 4, None, None)
    else:
        rng = A1Range(name, r0, None, c0, c0 + 1)
    assert parse(format_a1(rng)) == rng
