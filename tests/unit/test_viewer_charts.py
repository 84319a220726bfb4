"""The viewer's chart drawing, pure: a Sheets chart spec and its cells in, SVG out."""

from __future__ import annotations

from typing import Any
from xml.etree import ElementTree

import pytest

from coalition.summary.dashboard import ChartPlan, chart_spec
from sandbox.viewer.charts import ChartData, Series, chart_data, draw, nice_ticks

SVG = "{http://www.w3.org/2000/svg}"
GRID: list[list[Any]] = [
    ["Week", "Accepted", "Declined", "Note"],
    ["W1", 4, 1, ""],
    ["W2", None, 2, ""],  # a blank: no mark
    ["W3", 3, "withheld", ""],  # text in a series: no mark either
    ["W4", 5.5, 0, ""],
]


def _read(sheet: int, row: int, col: int) -> Any:
    assert sheet == 7
    if row < len(GRID) and col < len(GRID[row]):
        return None if GRID[row][col] in ("", None) else GRID[row][col]
    return None


def _spec(
    kind: str, first_row: int = 0, stacked: bool = False, title: str = "Outcomes"
) -> dict[str, Any]:
    """The spec the bot sends (coalition/summary/dashboard.py), over GRID on sheet 7."""
    plan = ChartPlan(
        title, "tab", kind, (1, 2), first_row, len(GRID), ("Week", "Referrals"), stacked
    )
    return chart_spec(plan, 7)


def _parse(svg: str) -> ElementTree.Element:
    return ElementTree.fromstring(svg)


def _all(root: ElementTree.Element, tag: str, css: str) -> list[ElementTree.Element]:
    return [e for e in root.iter(SVG + tag) if css in (e.get("class") or "").split()]


def _number(element: ElementTree.Element, name: str) -> float:
    return float(element.get(name) or "nan")


# ---------------------------------------------------------------- spec -> data
def test_series_take_their_names_from_the_header_and_blanks_or_text_give_no_value() -> None:
    data = chart_data(_spec("LINE"), _read)
    assert data.labels == ("W1", "W2", "W3", "W4")
    assert data.series == (
        Series("Accepted", (4.0, None, 3.0, 5.5)),
        Series("Declined", (1.0, 2.0, None, 0.0)),
    )
    assert (data.domain_title, data.value_title, data.title) == ("Week", "Referrals", "Outcomes")
    assert data.marks == 6


def test_a_chart_of_the_last_rows_joins_the_header_row_to_them() -> None:
    """Two sources per range: the header cell, then the rows shown (as the dashboard's 12 weeks)."""
    data = chart_data(_spec("COLUMN", first_row=2, stacked=True), _read)
    assert data.labels == ("W3", "W4")
    assert [s.name for s in data.series] == ["Accepted", "Declined"]
    assert data.series[0].values == (3.0, 5.5) and data.stacked


def test_bars_swap_the_axes_titles() -> None:
    data = chart_data(_spec("BAR"), _read)
    assert (data.domain_title, data.value_title) == ("Week", "Referrals")


def test_a_chart_type_the_sandbox_does_not_draw_says_so() -> None:
    svg = draw(chart_data({"title": "Share", "pieChart": {"legendPosition": "NO_LEGEND"}}, _read))
    root = _parse(svg)
    assert root.get("data-kind") == "pieChart" and root.get("data-marks") == "0"
    assert "(pieChart: not drawn by the sandbox)" in "".join(root.itertext())


# ---------------------------------------------------------------- scale
@pytest.mark.parametrize(
    ("low", "high", "ticks"),
    [
        (0, 8, [0, 2, 4, 6, 8]),
        (0, 12, [0, 2.5, 5, 7.5, 10, 12.5]),
        (3, 7, [0, 2, 4, 6, 8]),  # zero is always on the scale
        (0, 0, [0, 0.2, 0.4, 0.6, 0.8, 1]),
        (-3, 4, [-4, -2, 0, 2, 4]),
        (0, 8600, [0, 2000, 4000, 6000, 8000, 10000]),
    ],
)
def test_ticks_are_round_and_cover_the_values(low: float, high: float, ticks: list[float]) -> None:
    assert nice_ticks(low, high) == ticks


# ---------------------------------------------------------------- data -> SVG
def test_a_line_has_one_point_per_value_and_breaks_at_a_gap() -> None:
    root = _parse(draw(chart_data(_spec("LINE"), _read)))
    points = _all(root, "circle", "point")
    assert len(points) == 6 and root.get("data-marks") == "6"
    accepted = _all(root, "path", "line")[0].get("d") or ""
    assert accepted.count("M") == 2  # W1, then a new stroke after the blank W2
    # Higher values sit higher on the page, on one scale: 5.5 above 4 above 3.
    y = {p.findtext(SVG + "title"): _number(p, "cy") for p in points}
    assert y["Accepted, W4: 5.5"] < y["Accepted, W1: 4"] < y["Accepted, W3: 3"]
    assert y["Declined, W4: 0"] == max(y.values())


def test_stacked_columns_sit_on_each_other() -> None:
    root = _parse(draw(chart_data(_spec("COLUMN", stacked=True), _read)))
    bars = {b.findtext(SVG + "title"): b for b in _all(root, "rect", "bar")}
    assert len(bars) == 6
    below, above = bars["Accepted, W1: 4"], bars["Declined, W1: 1"]
    assert _number(above, "y") + _number(above, "height") == pytest.approx(
        _number(below, "y"), abs=0.2
    )
    assert _number(above, "x") == _number(below, "x")
    # Heights are proportional to the values.
    assert _number(below, "height") == pytest.approx(4 * _number(above, "height"), abs=0.5)


def test_bars_run_from_the_axis_side_by_side() -> None:
    root = _parse(draw(chart_data(_spec("BAR"), _read)))
    bars = {b.findtext(SVG + "title"): b for b in _all(root, "rect", "bar")}
    first, second = bars["Accepted, W1: 4"], bars["Declined, W1: 1"]
    assert _number(first, "x") == _number(second, "x")  # both start at zero
    assert _number(first, "width") == pytest.approx(4 * _number(second, "width"), abs=0.5)
    assert _number(second, "y") == pytest.approx(
        _number(first, "y") + _number(first, "height"), abs=0.2
    )
    # Categories run down the page in sheet order.
    assert _number(bars["Accepted, W4: 5.5"], "y") > _number(first, "y")


def test_title_axes_and_legend_are_drawn_and_escaped() -> None:
    root = _parse(draw(chart_data(_spec("LINE", title="<script>alert(1)</script>"), _read)))
    texts = {e.get("class"): [] for e in root.iter(SVG + "text")}
    for e in root.iter(SVG + "text"):
        texts[e.get("class")].append("".join(e.itertext()))
    assert texts["chart-title"] == ["<script>alert(1)</script>"]  # text, never a tag
    assert not list(root.iter(SVG + "script"))
    assert texts["axis-title"] == ["Week", "Referrals"]
    assert [" ".join(g.itertext()) for g in _all(root, "g", "legend-item")] == [
        "Accepted",
        "Declined",
    ]
    assert texts["category"] == ["W1", "W2", "W3", "W4"]
    assert texts["tick"] == ["0", "2", "4", "6"]  # values up to 5.5


def test_many_categories_are_labelled_sparsely_but_all_drawn() -> None:
    labels = tuple(f"2026-W{n:02d}" for n in range(1, 53))
    chart = ChartData(
        "Giving", "LINE", labels, (Series("Raised", tuple(float(n) for n in range(52))),)
    )
    root = _parse(draw(chart))
    assert len(_all(root, "circle", "point")) == 52
    shown = [e for e in root.iter(SVG + "text") if e.get("class") == "category"]
    assert 4 <= len(shown) <= 12 and "".join(shown[0].itertext()) == "2026-W01"
