"""Cell values of the Sheets emulator: RAW vs USER_ENTERED storage and the three render options."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from sandbox.sheets.cells import (
    Formula,
    Number,
    formatted,
    formula,
    from_json,
    store_raw,
    store_user_entered,
    to_json,
    unformatted,
)


@pytest.mark.parametrize(
    ("typed", "raw_value", "shown"),
    [
        ("hello", "hello", "hello"),
        ("42", 42, "42"),
        ("-3.5", -3.5, "-3.5"),
        ("1,200", 1200, "1,200"),
        ("$100", 100, "$100.00"),
        ("$1,234.5", 1234.5, "$1,234.50"),
        ("-$5", -5, "-$5.00"),
        ("12%", 0.12, "12%"),
        ("TRUE", True, "TRUE"),
        ("false", False, "FALSE"),
        ("02139", 2139, "2139"),  # a typed zip code loses its zero, as in Sheets
        ("'02139", "02139", "02139"),  # unless a leading apostrophe forces text
        ("2024-01-31", 45322, "2024-01-31"),
        ("1/31/2024", 45322, "1/31/2024"),
        ("555-1234", "555-1234", "555-1234"),
        ("1,2", "1,2", "1,2"),
        ("=1+2", 3, "3"),
        ("=(2+3)*4^2", 80, "80"),
        ("=1/0", "#DIV/0!", "#DIV/0!"),
        ('=IMPORTXML("https://x.example","//a")', "#NAME?", "#NAME?"),
        ("= 1 / 1024", 0.0009765625, "0.0009765625"),
        ("=\t( 1 +\n 2 )", 3, "3"),
        ("=-2^2", 4, "4"),  # unary minus binds tighter than ^, as in Sheets
        ("=2^3^2", 64, "64"),  # ^ is left-associative
        ("=50%", 0.5, "0.5"),
        ("=0.1+0.2", 0.3, "0.3"),
        ("=1 2", "#ERROR!", "#ERROR!"),
        ("=1/0 +", "#ERROR!", "#ERROR!"),  # a parse error wins over the division
        ("=(-8)^0.5", "#NUM!", "#NUM!"),
        ("9:15 PM", 0.885416666666667, "9:15 PM"),
        ("2024-01-31 12:00", 45322.5, "2024-01-31 12:00"),
        ("25:00", "25:00", "25:00"),
    ],
)
def test_user_entered_parses_like_typing(typed: str, raw_value: object, shown: str) -> None:
    stored = store_user_entered(typed)
    assert unformatted(stored) == raw_value
    assert formatted(stored) == shown


def test_formulas_keep_their_text() -> None:
    stored = store_user_entered("=SUM(A1:A4)")
    assert isinstance(stored, Formula)
    assert formula(stored) == "=SUM(A1:A4)"
    assert formatted(stored) == "#NAME?"


@pytest.mark.parametrize(
    "text",
    ["=1+2", '=IMPORTXML("https://evil.example","//a")', "$100", "12%", "TRUE", "'x", "0012"],
)
def test_raw_keeps_text_exactly(text: str) -> None:
    stored = store_raw(text)
    assert stored == text
    assert formatted(stored) == text
    assert formula(stored) == text  # even FORMULA rendering shows text, not a formula


def test_raw_keeps_json_types_and_empties() -> None:
    assert store_raw(7) == 7
    assert store_raw(True) is True
    assert store_raw("") is None
    assert store_raw(None) is None
    assert formatted(1.5) == "1.5"
    assert formatted(2.0) == "2"
    assert formatted(1e20) == "1E+20"
    assert unformatted(2.0) == 2


def test_persistence_round_trip() -> None:
    dated = Number(45322, "2024-01-31", date=True)
    for stored in ["x", 3, 2.5, True, None, Formula("=1+1", 2), Number(0.5, "50%"), dated]:
        assert from_json(to_json(stored)) == stored


@given(st.text(max_size=60))
def test_raw_never_makes_a_formula(text: str) -> None:
    assert not isinstance(store_raw(text), Formula)
    assert formatted(store_raw(text)) == text


_ARITHMETIC = st.recursive(
    st.integers(min_value=0, max_value=999).map(str),
    lambda inner: st.one_of(
        st.tuples(inner, st.sampled_from("+-*"), inner).map(" ".join),
        inner.map(lambda e: f"({e})"),
    ),
    max_leaves=8,
)


@given(_ARITHMETIC, st.sampled_from([" ", "  ", "\t", "\n"]))
def test_whitespace_between_tokens_never_changes_a_formula(expression: str, space: str) -> None:
    tight = store_user_entered("=" + expression.replace(" ", ""))
    spaced = store_user_entered("=" + space + expression.replace(" ", space) + space)
    assert unformatted(spaced) == unformatted(tight)
    assert not isinstance(unformatted(spaced), str)
