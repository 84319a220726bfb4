"""Small-cell and complementary suppression: no withheld cell can be worked out from what is shown.

The attacker here is independent of the algorithm: it enumerates every table of
non-negative whole numbers that agrees with every shown cell and total, and a
withheld cell is safe only if at least two values are possible for it.
"""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, reject, settings
from hypothesis import strategies as st

from coalition.summary.suppression import WITHHELD, Table, bridges, suppress, suppress_series


class Inconclusive(Exception):
    """The search spent its budget before it could show two values for every withheld cell."""


def completions_differ(
    table: Table, cap: int = 4000, budget: int = 100_000
) -> dict[tuple[int, int], set[int]]:
    """Values each withheld cell takes over tables consistent with what is shown (a bounded search)."""
    grid = table.grid
    n_rows, n_cols = len(grid), len(grid[0])
    unknown = sorted(table.hidden)
    bound = grid[-1][-1] + 2
    lines: list[tuple[list[tuple[int, int]], tuple[int, int]]] = []
    for i in range(n_rows):
        lines.append(([(i, j) for j in range(n_cols - 1)], (i, n_cols - 1)))
    for j in range(n_cols):
        lines.append(([(i, j) for i in range(n_rows - 1)], (n_rows - 1, j)))
    seen: dict[tuple[int, int], set[int]] = {c: set() for c in unknown}
    found = 0
    nodes = 0

    def consistent(values: dict[tuple[int, int], int]) -> bool:
        for parts, total in lines:
            cells = [*parts, total]
            if all(c in values or c not in table.hidden for c in cells):
                get = lambda c: values[c] if c in values else grid[c[0]][c[1]]  # noqa: E731
                if sum(get(c) for c in parts) != get(total):
                    return False
        return True

    def search(index: int, values: dict[tuple[int, int], int]) -> None:
        nonlocal found, nodes
        nodes += 1
        if nodes > budget:
            raise Inconclusive
        if found >= cap or all(len(v) >= 2 for v in seen.values()):
            return
        if index == len(unknown):
            found += 1
            for cell, value in values.items():
                seen[cell].add(value)
            return
        cell = unknown[index]
        for value in range(bound + 1):
            values[cell] = value
            if consistent(values):
                search(index + 1, values)
            del values[cell]

    search(0, {})
    return seen


def _check(table: Table, inconclusive_ok: bool = False) -> None:
    """Every withheld cell has two possible values; a search over budget discards the example
    (hypothesis draws another) where `inconclusive_ok`, and fails otherwise."""
    try:
        found = completions_differ(table)
    except Inconclusive:
        if not inconclusive_ok:
            raise
        reject()
    for cell, values in found.items():
        assert len(values) >= 2, f"withheld cell {cell} can be worked out: {values}"


counts = st.integers(min_value=0, max_value=9)


@st.composite
def tables(draw: st.DrawFn) -> tuple[list[str], list[str], list[list[int]], bool]:
    n_rows = draw(st.integers(1, 3))
    n_cols = draw(st.integers(1, 3))
    cells = [[draw(counts) for _ in range(n_cols)] for _ in range(n_rows)]
    protect = draw(st.booleans())
    return [f"r{i}" for i in range(n_rows)], [f"c{j}" for j in range(n_cols)], cells, protect


@settings(
    max_examples=150,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
)
@given(tables())
def test_no_withheld_cell_can_be_recovered_from_the_totals(case) -> None:
    rows, columns, cells, protect = case
    table = suppress(rows, columns, cells, protected_rows=["r0"] if protect else ())
    for i, row in enumerate(cells):
        for j, value in enumerate(row):
            if 0 < value < 5 or (protect and i == 0 and value < 11):
                assert (i, j) in table.hidden
    assert not bridges(set(table.hidden), len(table.grid))
    _check(table, inconclusive_ok=True)


@settings(max_examples=60, deadline=None)
@given(st.lists(st.integers(0, 12), min_size=1, max_size=5))
def test_a_trend_hides_its_small_points_and_its_total_gives_none_away(values: list[int]) -> None:
    table = suppress_series([f"m{k}" for k in range(len(values))], values)
    for k, v in enumerate(values):
        if 0 < v < 5:
            assert table.value(0, k) is None
    _check(table)


def test_a_single_small_cell_takes_three_more_with_it() -> None:
    """One 2 among large counts: a row mate, a column mate and their corner go too (a 2x2 cycle)."""
    table = suppress(["A", "B"], ["x", "y"], [[2, 30], [40, 50]])
    assert table.value(0, 0) is None
    assert len(table.hidden) == 4
    assert table.text(0, 0) == WITHHELD
    # The totals stay visible: the detour uses inner cells first.
    assert table.row_total(0) == 32 and table.column_total(0) == 42 and table.total == 122


def test_a_cell_of_one_cannot_be_seen_or_derived() -> None:
    """The planted case: one person in a county and case type of their own."""
    table = suppress(["Harris", "Dallas"], ["asylum", "TPS"], [[1, 0], [20, 12]])
    assert table.value(0, 0) is None
    # The Harris row sums to 1, so its total is withheld too, and so is what would close the sums.
    assert table.row_total(0) is None
    _check(table)


def test_protected_cells_are_withheld_below_eleven_even_at_zero() -> None:
    table = suppress(
        ["Harris", "Dallas"],
        ["Asylum", "Protected categories"],
        [[30, 0], [25, 10]],
        protected_columns=["Protected categories"],
    )
    assert table.value(0, 1) is None and table.value(1, 1) is None
    assert table.column_total(1) is None
    _check(table)


def test_forced_cells_are_withheld_and_covered() -> None:
    table = suppress(["A", "B"], ["x", "y"], [[20, 30], [40, 50]], forced=[(0, 2)])
    assert table.row_total(0) is None
    _check(table)


def test_bad_shapes_are_refused() -> None:
    with pytest.raises(ValueError):
        suppress(["A"], ["x", "y"], [[1]])
    with pytest.raises(ValueError):
        suppress(["A"], ["x"], [[-1]])


def test_the_attacker_catches_a_table_left_unprotected() -> None:
    """The check above can fail: a lone withheld cell is recovered from its row total."""
    grid = ((2, 30, 32), (40, 50, 90), (42, 80, 122))
    naive = Table(("A", "B"), ("x", "y"), grid, frozenset({(0, 0)}))
    with pytest.raises(AssertionError, match="can be worked out"):
        _check(naive)


def test_a_zero_total_never_gives_away_its_withheld_zeros() -> None:
    """Found by hypothesis: a protected row of zeros under a shown column total of 0."""
    table = suppress(["r0", "r1"], ["c0"], [[0], [0]], protected_rows=["r0"])
    _check(table)
    assert (2, 0) in table.hidden and (2, 1) in table.hidden
