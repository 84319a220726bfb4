"""Small-cell and complementary suppression of a count table with its totals (pure).

A published table of counts (rows x columns, with row totals, column totals and a
grand total) must not let anyone see, or work out, a small count: a cell below the
threshold (5; 11 in any row or column of survivor cases, zero included, so that
even their absence is not shown) is withheld, and then more cells are withheld
until no withheld cell can be computed from the totals.

Why the test is a graph test: flip the sign of the totals and every line (each row
with its total, each column with its total) sums to zero, so the table is a
complete bipartite graph, lines as nodes and cells as edges, with zero sums at every
node. Withheld cells are unknowns; an unknown is fixed by the others exactly when
its edge is a bridge of the graph of unknowns (on a cycle, +t/-t around the cycle
keeps every sum). So: while some withheld cell is a bridge, withhold the cheapest
path around it (small inner cells first, totals last, zeros only if nothing else
works). Every withheld cell shows the same word, so nobody can tell a small count
from a complementary one, and each withheld non-zero cell can move by at least one
either way.
"""

from __future__ import annotations

import heapq
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

WITHHELD = "withheld"
THRESHOLD = 5
PROTECTED_THRESHOLD = 11
MARGIN_COST = 10_000  # withhold a total only when no inner cell can do
ZERO_COST = 1_000_000  # a withheld zero narrows the range of its cycle: a last resort

Cell = tuple[int, int]


@dataclass(frozen=True)
class Table:
    """A count table with its totals, cells withheld where needed.

    `grid` is (rows + 1) x (columns + 1): the last row holds the column totals, the
    last column the row totals, the corner the grand total. `hidden` are positions
    in `grid` that must not be shown.
    """

    rows: tuple[str, ...]
    columns: tuple[str, ...]
    grid: tuple[tuple[int, ...], ...]
    hidden: frozenset[Cell]

    @property
    def total(self) -> int:
        return self.grid[-1][-1]

    def value(self, i: int, j: int) -> int | None:
        """The count to show at (i, j) (i == len(rows) is the totals row), or None when withheld."""
        return None if (i, j) in self.hidden else self.grid[i][j]

    def text(self, i: int, j: int) -> str:
        shown = self.value(i, j)
        return WITHHELD if shown is None else f"{shown:,}"

    def row_total(self, i: int) -> int | None:
        return self.value(i, len(self.columns))

    def column_total(self, j: int) -> int | None:
        return self.value(len(self.rows), j)


def extended(cells: Sequence[Sequence[int]]) -> list[list[int]]:
    """The cells with their row totals, column totals and grand total appended."""
    width = len(cells[0]) if cells else 0
    grid = [[*row, sum(row)] for row in cells]
    grid.append([sum(row[j] for row in grid) for j in range(width + 1)])
    return grid


def suppress(
    rows: Sequence[str],
    columns: Sequence[str],
    cells: Sequence[Sequence[int]],
    protected_rows: Iterable[str] = (),
    protected_columns: Iterable[str] = (),
    threshold: int = THRESHOLD,
    protected_threshold: int = PROTECTED_THRESHOLD,
    forced: Iterable[Cell] = (),
) -> Table:
    """The table with small cells withheld and enough others that none can be worked out.

    `forced` are positions to withhold whatever their count (a total another table
    withholds, so the two tables cannot be played against each other).
    """
    if len(cells) != len(rows) or any(len(r) != len(columns) for r in cells):
        raise ValueError("cells must have one row per row label and one value per column label")
    if any(v < 0 for r in cells for v in r):
        raise ValueError("counts cannot be negative")
    grid = extended(cells)
    guarded_rows = {i for i, name in enumerate(rows) if name in set(protected_rows)}
    guarded_cols = {j for j, name in enumerate(columns) if name in set(protected_columns)}
    hidden = small_cells(grid, guarded_rows, guarded_cols, threshold, protected_threshold)
    hidden |= set(forced)
    while True:
        hidden = complete(grid, hidden)
        giving_away = zero_sum_totals(grid, hidden)
        if not giving_away:
            break
        hidden |= giving_away
    return Table(tuple(rows), tuple(columns), tuple(tuple(r) for r in grid), frozenset(hidden))


def small_cells(
    grid: Sequence[Sequence[int]],
    guarded_rows: set[int],
    guarded_cols: set[int],
    threshold: int,
    protected_threshold: int,
) -> set[Cell]:
    """Positions whose count may not be shown: small ones, and any protected one under its threshold."""

    def sensitive(i: int, j: int) -> bool:
        value = grid[i][j]
        if i in guarded_rows or j in guarded_cols:
            return value < protected_threshold
        return 0 < value < threshold

    return {(i, j) for i in range(len(grid)) for j in range(len(grid[0])) if sensitive(i, j)}


def suppress_together(
    rows: Sequence[str],
    columns: Sequence[str],
    parts: Sequence[Sequence[Sequence[int]]],
    protected_columns: Iterable[str] = (),
    threshold: int = THRESHOLD,
    protected_threshold: int = PROTECTED_THRESHOLD,
    forced: Iterable[Cell] = (),
) -> list[Table]:
    """Tables of the same labels that add up (this month, the rest of the year) and their sum, withheld alike.

    Publishing the month and the 12 months gives the other 11 months away by
    subtraction. So every part and the sum are judged together: a position is
    withheld in all of them when it is small in any (the difference included), and
    the one shared pattern of withheld positions is completed as one table's would
    be. With the same positions withheld everywhere, what the tables show is the
    same as showing each part on its own (the sum's shown cells are sums of the
    parts' shown cells), and in each part no withheld cell is a bridge: nothing can
    be worked out from any table, nor from one table minus another.
    Returns one Table per part, then the sum's.
    """
    if not parts:
        raise ValueError("at least one part is needed")
    total = [[sum(p[i][j] for p in parts) for j in range(len(columns))] for i in range(len(rows))]
    grids = [extended(p) for p in parts] + [extended(total)]
    guarded = {j for j, name in enumerate(columns) if name in set(protected_columns)}
    hidden: set[Cell] = set(forced)
    for grid in grids:
        hidden |= small_cells(grid, set(), guarded, threshold, protected_threshold)
    # Detours are priced by the sum's counts, a position that is zero in any part as a zero:
    # a withheld zero keeps its cycle from moving one way, in that part.
    prices = [
        [0 if any(g[i][j] == 0 for g in grids) else grids[-1][i][j] for j in range(len(row))]
        for i, row in enumerate(grids[-1])
    ]
    while True:
        hidden = complete(prices, hidden)
        giving_away: set[Cell] = set()
        for grid in grids:
            giving_away |= zero_sum_totals(grid, hidden)
        if not giving_away:
            break
        hidden |= giving_away
    frozen = frozenset(hidden)
    return [
        Table(tuple(rows), tuple(columns), tuple(tuple(r) for r in grid), frozen) for grid in grids
    ]


def complete(grid: Sequence[Sequence[int]], hidden: set[Cell]) -> set[Cell]:
    """Withhold more cells until no withheld cell is a bridge (one the totals would give away)."""
    hidden = set(hidden)
    n_rows, n_cols = len(grid), len(grid[0]) if grid else 0
    if n_rows < 2 or n_cols < 2:
        return hidden
    while True:
        lone = bridges(hidden, n_rows)
        if not lone:
            return hidden
        i, j = min(lone)
        hidden |= _cheapest_detour(grid, hidden, i, j)


def zero_sum_totals(grid: Sequence[Sequence[int]], hidden: set[Cell]) -> set[Cell]:
    """Shown totals whose withheld parts add up to 0: counts are never negative, so such a
    total would give every one of those parts away as 0 (a protected zero included)."""
    n_rows, n_cols = len(grid), len(grid[0]) if grid else 0
    lines = [([(i, j) for j in range(n_cols - 1)], (i, n_cols - 1)) for i in range(n_rows)]
    lines += [([(i, j) for i in range(n_rows - 1)], (n_rows - 1, j)) for j in range(n_cols)]
    found: set[Cell] = set()
    for parts, total in lines:
        withheld = [c for c in parts if c in hidden]
        if total not in hidden and withheld and sum(grid[i][j] for i, j in withheld) == 0:
            found.add(total)
    return found


def _cost(grid: Sequence[Sequence[int]], hidden: set[Cell], i: int, j: int) -> int:
    if (i, j) in hidden:
        return 0
    value = grid[i][j]
    margin = i == len(grid) - 1 or j == len(grid[0]) - 1
    return (ZERO_COST if value == 0 else value) + (MARGIN_COST if margin else 0)


def _cheapest_detour(grid: Sequence[Sequence[int]], hidden: set[Cell], i: int, j: int) -> set[Cell]:
    """The cells of the cheapest path from row i to column j that avoids cell (i, j)."""
    n_rows, n_cols = len(grid), len(grid[0])
    # Nodes: ("r", k) for rows, ("c", k) for columns.
    start, goal = ("r", i), ("c", j)
    best: dict[tuple[str, int], int] = {start: 0}
    back: dict[tuple[str, int], tuple[tuple[str, int], Cell]] = {}
    queue: list[tuple[int, tuple[str, int]]] = [(0, start)]
    while queue:
        dist, node = heapq.heappop(queue)
        if node == goal:
            break
        if dist > best.get(node, dist):
            continue
        kind, k = node
        others = range(n_cols) if kind == "r" else range(n_rows)
        for m in others:
            cell = (k, m) if kind == "r" else (m, k)
            if cell == (i, j):
                continue
            nxt = ("c", m) if kind == "r" else ("r", m)
            step = dist + _cost(grid, hidden, *cell)
            if step < best.get(nxt, step + 1):
                best[nxt] = step
                back[nxt] = (node, cell)
                heapq.heappush(queue, (step, nxt))
    path: set[Cell] = set()
    node = goal
    while node != start:
        node, cell = back[node]
        path.add(cell)
    return path


def bridges(hidden: set[Cell], n_rows: int) -> set[Cell]:
    """Withheld cells whose edge is a bridge of the row/column graph of withheld cells."""
    adjacency: dict[tuple[str, int], list[tuple[tuple[str, int], Cell]]] = {}
    for i, j in hidden:
        adjacency.setdefault(("r", i), []).append((("c", j), (i, j)))
        adjacency.setdefault(("c", j), []).append((("r", i), (i, j)))
    order: dict[tuple[str, int], int] = {}
    low: dict[tuple[str, int], int] = {}
    found: set[Cell] = set()
    counter = 0
    for root in sorted(adjacency):
        if root in order:
            continue
        # Iterative DFS (tables can be long); each frame: node, the edge it came by, neighbour index.
        order[root] = low[root] = counter
        counter += 1
        stack: list[tuple[tuple[str, int], Cell | None, int]] = [(root, None, 0)]
        while stack:
            node, via, index = stack[-1]
            if index < len(adjacency[node]):
                stack[-1] = (node, via, index + 1)
                nxt, edge = adjacency[node][index]
                if edge == via:
                    continue
                if nxt in order:
                    low[node] = min(low[node], order[nxt])
                else:
                    order[nxt] = low[nxt] = counter
                    counter += 1
                    stack.append((nxt, edge, 0))
                continue
            stack.pop()
            if stack and via is not None:
                parent = stack[-1][0]
                low[parent] = min(low[parent], low[node])
                if low[node] > order[parent]:
                    found.add(via)
    return found


def suppress_series(
    labels: Sequence[str],
    values: Sequence[int],
    threshold: int = THRESHOLD,
    forced: Iterable[int] = (),
) -> Table:
    """A one-row table (a trend) with its total: the same rule, so the total gives nothing away."""
    return suppress(
        ["all"], labels, [list(values)], threshold=threshold, forced=[(0, j) for j in forced]
    )


__all__ = [
    "WITHHELD",
    "Table",
    "bridges",
    "complete",
    "extended",
    "suppress",
    "suppress_series",
    "suppress_together",
]
