"""Differencing: a month's table and its 12 months' table, published together, give nothing away by subtraction.

The attacker is independent of the suppression: it writes every shown count of
both tables (cells and totals) as a linear equation over the unknown counts (this
month's cells and the other 11 months' cells), and works out, by exact Gaussian
elimination, every quantity any combination of those equations fixes. A count
that must not be seen (under 5; a protected one under 11) must not be among them,
whether it is this month's, the 12 months' or the difference between the two.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, date, datetime
from fractions import Fraction
from zoneinfo import ZoneInfo

from hypothesis import given, settings
from hypothesis import strategies as st
from linear_attack import Attacker

from coalition.summary.need import PROTECTED_LABEL, NeedFact, unmet_need
from coalition.summary.suppression import (
    PROTECTED_THRESHOLD,
    THRESHOLD,
    Table,
    suppress,
    suppress_together,
)

Vector = dict[tuple[str, int, int], Fraction]  # an unknown count -> its coefficient
NY = ZoneInfo("America/New_York")


def position(layers: Sequence[str], n_rows: int, n_cols: int, i: int, j: int) -> Vector:
    """The unknowns a position of the extended grid adds up (i == n_rows: a column total...)."""
    rows = range(n_rows) if i == n_rows else [i]
    cols = range(n_cols) if j == n_cols else [j]
    return {(layer, r, c): Fraction(1) for layer in layers for r in rows for c in cols}


def attack(month: Table, year: Table) -> Attacker:
    """What someone holding both published tables can work out."""
    n_rows, n_cols = len(year.rows), len(year.columns)
    attacker = Attacker()
    for table, layers in ((month, ("month",)), (year, ("month", "rest"))):
        for i in range(n_rows + 1):
            for j in range(n_cols + 1):
                if table.value(i, j) is not None:
                    attacker.learn(position(layers, n_rows, n_cols, i, j))
    return attacker


def exposed(month: Table, year: Table, protected: set[int]) -> list[str]:
    """Counts that must not be seen which the attacker knows: this month's, the rest's, the year's."""
    attacker = attack(month, year)
    n_rows, n_cols = len(year.rows), len(year.columns)
    found = []
    for i in range(n_rows + 1):
        for j in range(n_cols + 1):
            m, y = month.grid[i][j], year.grid[i][j]
            for name, layers, value in (
                ("month", ("month",), m),
                ("rest", ("rest",), y - m),
                ("year", ("month", "rest"), y),
            ):
                small = value < PROTECTED_THRESHOLD if j in protected else 0 < value < THRESHOLD
                if small and attacker.knows(position(layers, n_rows, n_cols, i, j)):
                    found.append(f"{name} ({i}, {j}) = {value}")
    return found


def grids(draw: st.DrawFn) -> tuple[list[list[int]], list[list[int]], bool]:
    n_rows, n_cols = draw(st.integers(2, 4)), draw(st.integers(2, 4))
    cell = st.integers(0, 14)
    month = [[draw(cell) for _ in range(n_cols)] for _ in range(n_rows)]
    rest = [[draw(cell) for _ in range(n_cols)] for _ in range(n_rows)]
    return month, rest, draw(st.booleans())


@st.composite
def pairs(draw: st.DrawFn) -> tuple[list[list[int]], list[list[int]], bool]:
    return grids(draw)


def labels(n_rows: int, n_cols: int, protected: bool) -> tuple[list[str], list[str]]:
    columns = [f"type {j}" for j in range(n_cols)]
    if protected:
        columns[-1] = PROTECTED_LABEL
    return [f"county {i}" for i in range(n_rows)], columns


@settings(max_examples=300, deadline=None)
@given(pairs())
def test_no_small_count_survives_subtracting_the_month_from_the_year(
    drawn: tuple[list[list[int]], list[list[int]], bool],
) -> None:
    month_cells, rest_cells, protected = drawn
    rows, columns = labels(len(month_cells), len(month_cells[0]), protected)
    month, rest, year = suppress_together(
        rows, columns, [month_cells, rest_cells], protected_columns=[PROTECTED_LABEL]
    )
    assert month.hidden == rest.hidden == year.hidden
    guarded = {len(columns) - 1} if protected else set()
    assert exposed(month, year, guarded) == []


def test_the_attack_finds_a_planted_case_when_each_table_is_suppressed_alone() -> None:
    """One case in the 11 earlier months beside 5 this month: each table alone shows 5 and 6."""
    rows, columns = ["Harris County", "Dallas County"], ["asylum", "work permit"]
    month_cells = [[5, 9], [7, 8]]
    year_cells = [[6, 9], [7, 8]]  # the rest of the year: a cell of 1 at (0, 0)
    alone_month = suppress(rows, columns, month_cells)
    alone_year = suppress(rows, columns, year_cells)
    found = exposed(alone_month, alone_year, set())
    assert "rest (0, 0) = 1" in found and "rest (2, 2) = 1" in found  # the cell and the grand total
    rest_cells = [[1, 0], [0, 0]]
    month, _, year = suppress_together(rows, columns, [month_cells, rest_cells])
    assert exposed(month, year, set()) == []
    assert month.value(0, 0) is None and year.value(0, 0) is None


def test_a_planted_case_in_the_unmet_need_tables_cannot_be_derived() -> None:
    """Through unmet_need: one waitlisted case in March, five like it in November."""

    def fact(n: int, month: int, place: str, category: str) -> NeedFact:
        received = datetime(2026, month, 10, 15, tzinfo=UTC)
        return NeedFact(
            f"INT-{n:010d}", received, "waitlist", category, place, "Spanish", "no_capacity"
        )

    rows = [fact(n, 11, "Harris County", "asylum") for n in range(5)]
    rows += [fact(100 + n, 11, "Dallas County", "work permit") for n in range(9)]
    rows += [fact(200 + n, 6, "Dallas County", "work permit") for n in range(7)]
    rows += [fact(300 + n, 11, "Travis County", "asylum") for n in range(6)]
    rows += [fact(400 + n, 5, "Travis County", "asylum") for n in range(8)]
    rows.append(fact(999, 3, "Harris County", "asylum"))  # the planted case
    need = unmet_need(rows, date(2026, 11, 29), NY)
    for month, year in ((need.by_type_month, need.by_type_year),
                        (need.by_language_month, need.by_language_year)):  # fmt: skip
        assert month.rows == year.rows and month.columns == year.columns
        guarded = {j for j, c in enumerate(year.columns) if c == PROTECTED_LABEL}
        assert exposed(month, year, guarded) == []
    harris = need.by_type_year.rows.index("Harris County")
    asylum = need.by_type_year.columns.index("asylum")
    assert need.by_type_month.value(harris, asylum) is None
