"""Pure chart drawing for the viewer: a Sheets `basicChart` spec plus its cells, as inline SVG.

`chart_data` reads what a chart shows from its spec (domain and series source ranges,
`headerCount`, axis titles, stacking) through a cell reader, and `draw` turns that into
SVG with the chart's title, both axes with ticks and titles, the series legend, and one
mark per value: a `circle.point` on a line, a `rect.bar` for a column or a bar. A blank
or text cell in a series is no value: a line breaks there and no bar is drawn, as
Sheets does. Every piece of text is escaped (titles and labels come from the sheet).

Not drawn: pie, bubble, candlestick, org, histogram, waterfall, treemap and scorecard
charts (shown as a note naming the type), AREA/SCATTER/COMBO/STEPPED_AREA types (drawn as
lines or columns), a right axis, `stackedType: PERCENT_STACKED` (drawn stacked), colours
and styles from the spec (Sheets' default palette is used), and open-ended ranges
(a GridRange without an end index is read as one row or column).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from markupsafe import Markup

# Sheets' default series colours, in order.
PALETTE = ("#4285f4", "#ea4335", "#fbbc04", "#34a853", "#ff6d01", "#46bdc6", "#7baaf7", "#f07b72")
WIDTH, HEIGHT = 640, 380
TOP, RIGHT, BOTTOM_AXIS, LEGEND = 40, 20, 46, 26
CellReader = Callable[[int, int, int], Any]  # (sheetId, row, column) -> number, text or None
LINES = frozenset({"LINE", "AREA", "SCATTER"})
DRAWN = LINES | {"COLUMN", "BAR", "STEPPED_AREA", "COMBO"}
LABEL_CHARACTERS = 28  # a bar chart's category labels are cut here, and its margin fits them


@dataclass(frozen=True)
class Series:
    name: str
    values: tuple[float | None, ...]


@dataclass(frozen=True)
class ChartData:
    """What one chart shows, independent of how it is drawn."""

    title: str
    kind: str  # LINE, COLUMN, BAR, or the spec's other chart type
    labels: tuple[str, ...]
    series: tuple[Series, ...]
    domain_title: str = ""
    value_title: str = ""
    stacked: bool = False

    @property
    def marks(self) -> int:
        """How many points or bars are drawn: one per value."""
        return sum(v is not None for s in self.series for v in s.values)


# ---------------------------------------------------------------- spec -> data
def _sources(part: Any) -> list[dict[str, Any]]:
    sources = ((part or {}).get("sourceRange") or {}).get("sources") or []
    return [s for s in sources if isinstance(s, dict)]


def _cells(sources: list[dict[str, Any]], read: CellReader) -> list[Any]:
    """The cells of a domain's or series' ranges, each one column (or one row), joined in order."""
    out: list[Any] = []
    for source in sources:
        sheet = int(source.get("sheetId", 0) or 0)
        r0 = int(source.get("startRowIndex", 0) or 0)
        c0 = int(source.get("startColumnIndex", 0) or 0)
        r1 = int(source.get("endRowIndex", r0 + 1))
        c1 = int(source.get("endColumnIndex", c0 + 1))
        if r1 - r0 == 1 and c1 - c0 > 1:  # a series laid out along a row
            out += [read(sheet, r0, c) for c in range(c0, c1)]
        else:
            out += [read(sheet, r, c0) for r in range(r0, r1)]
    return out


def number(value: Any) -> float | None:
    """A cell's value as a number on the chart, or None (blank, text, a boolean)."""
    if isinstance(value, bool) or value is None:
        return None
    if isinstance(value, int | float):
        return float(value) if math.isfinite(value) else None
    return None


def label(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def chart_data(spec: dict[str, Any], read: CellReader) -> ChartData:
    """The chart a spec describes, its values read from the sheet through `read`."""
    title = str(spec.get("title") or "")
    basic = spec.get("basicChart")
    if not isinstance(basic, dict):
        other = next((k for k, v in spec.items() if k.endswith("Chart") and v), "chart")
        return ChartData(title, other, (), ())
    headers = int(basic.get("headerCount") or 0)
    domains = basic.get("domains") or [{}]
    domain = _cells(_sources(domains[0].get("domain")), read)
    labels = tuple(label(v) for v in domain[headers:])
    series: list[Series] = []
    for i, item in enumerate(basic.get("series") or []):
        cells = _cells(_sources(item.get("series")), read)
        name = label(cells[0]) if headers and cells else f"Series {i + 1}"
        values = [number(v) for v in cells[headers:]]
        values += [None] * (len(labels) - len(values))
        series.append(Series(name, tuple(values[: len(labels)])))
    kind = str(basic.get("chartType") or "LINE")
    titles = {a.get("position"): str(a.get("title") or "") for a in basic.get("axis") or []}
    domain_axis, value_axis = ("LEFT_AXIS", "BOTTOM_AXIS") if kind == "BAR" else ("BOTTOM_AXIS", "LEFT_AXIS")  # fmt: skip
    stacked = basic.get("stackedType") in {"STACKED", "PERCENT_STACKED"}
    return ChartData(
        title, kind, labels, tuple(series), titles.get(domain_axis, ""), titles.get(value_axis, ""),
        stacked,
    )  # fmt: skip


# ---------------------------------------------------------------- scale
def nice_ticks(low: float, high: float, count: int = 5) -> list[float]:
    """Round tick values covering [low, high] (0 included), about `count` of them."""
    low, high = min(low, 0.0), max(high, 0.0)
    if high == low:
        high = low + 1
    raw = (high - low) / count
    magnitude = 10 ** math.floor(math.log10(raw))
    step = next(m * magnitude for m in (1, 2, 2.5, 5, 10) if m * magnitude >= raw)
    first = math.floor(low / step) * step
    ticks = [first]
    while ticks[-1] < high - 1e-9:
        ticks.append(ticks[-1] + step)
    return [float(round(t, 10)) for t in ticks]


def tick_label(value: float) -> str:
    if abs(value) >= 1000 and value.is_integer():
        return f"{value:,.0f}"
    return f"{value:g}"


def _extent(chart: ChartData) -> tuple[float, float]:
    if chart.stacked and chart.kind != "LINE":
        tops, bottoms = [], []
        for i in range(len(chart.labels)):
            values = [s.values[i] for s in chart.series if s.values[i] is not None]
            tops.append(sum(v for v in values if v > 0))
            bottoms.append(sum(v for v in values if v < 0))
        return min(bottoms, default=0.0), max(tops, default=0.0)
    values = [v for s in chart.series for v in s.values if v is not None]
    return min(values, default=0.0), max(values, default=0.0)


# ---------------------------------------------------------------- data -> SVG
def _text(
    x: float, y: float, content: str, css: str, anchor: str = "middle", extra: str = ""
) -> Markup:
    return Markup('<text class="{}" x="{:.1f}" y="{:.1f}" text-anchor="{}"{}>{}</text>').format(
        css, x, y, anchor, Markup(extra), content
    )


def _mark_title(series: Series, category: str, value: float) -> Markup:
    return Markup("<title>{}, {}: {}</title>").format(series.name, category, label(value))


@dataclass(frozen=True)
class _Frame:
    """The plot area and the value scale."""

    left: float
    top: float
    right: float
    bottom: float
    ticks: tuple[float, ...]
    horizontal: bool  # bars: values run left to right

    def at(self, value: float) -> float:
        lo, hi = self.ticks[0], self.ticks[-1]
        share = (value - lo) / (hi - lo)
        if self.horizontal:
            return self.left + share * (self.right - self.left)
        return self.bottom - share * (self.bottom - self.top)

    def band(self, index: int, count: int) -> tuple[float, float]:
        """Start and size of category `index`'s slot along the domain axis."""
        span = (self.bottom - self.top) if self.horizontal else (self.right - self.left)
        size = span / max(count, 1)
        return (self.top if self.horizontal else self.left) + index * size, size


def _frame(chart: ChartData) -> _Frame:
    horizontal = chart.kind == "BAR"
    longest = max((len(x) for x in chart.labels), default=0)
    left = 64 + (min(longest, LABEL_CHARACTERS) * 6.2 if horizontal else 0)
    bottom = HEIGHT - BOTTOM_AXIS - LEGEND
    ticks = tuple(nice_ticks(*_extent(chart)))
    return _Frame(left, TOP, WIDTH - RIGHT, bottom, ticks, horizontal)


def _axes(chart: ChartData, frame: _Frame) -> list[Markup]:
    out: list[Markup] = []
    for tick in frame.ticks:  # value gridlines and their labels
        p = frame.at(tick)
        if frame.horizontal:
            out.append(Markup('<line class="grid" x1="{0:.1f}" x2="{0:.1f}" y1="{1:.1f}" y2="{2:.1f}"/>').format(p, frame.top, frame.bottom))  # fmt: skip
            out.append(_text(p, frame.bottom + 16, tick_label(tick), "tick"))
        else:
            out.append(Markup('<line class="grid" x1="{1:.1f}" x2="{2:.1f}" y1="{0:.1f}" y2="{0:.1f}"/>').format(p, frame.left, frame.right))  # fmt: skip
            out.append(_text(frame.left - 6, p + 4, tick_label(tick), "tick", "end"))
    out.append(Markup('<line class="axis" x1="{0:.1f}" x2="{0:.1f}" y1="{1:.1f}" y2="{2:.1f}"/>').format(frame.left, frame.top, frame.bottom))  # fmt: skip
    out.append(Markup('<line class="axis" x1="{0:.1f}" x2="{1:.1f}" y1="{2:.1f}" y2="{2:.1f}"/>').format(frame.left, frame.right, frame.bottom))  # fmt: skip
    count = len(chart.labels)
    every = 1 if frame.horizontal else max(1, math.ceil(count * 56 / (frame.right - frame.left)))
    for i, name in enumerate(chart.labels):  # category labels, thinned when they would overlap
        if i % every:
            continue
        start, size = frame.band(i, count)
        if frame.horizontal:
            out.append(
                _text(
                    frame.left - 6, start + size / 2 + 4, name[:LABEL_CHARACTERS], "category", "end"
                )
            )
        else:
            out.append(_text(start + size / 2, frame.bottom + 16, name[:12], "category"))
    middle_x = (frame.left + frame.right) / 2
    middle_y = (frame.top + frame.bottom) / 2
    bottom_title, left_title = (
        (chart.value_title, chart.domain_title) if frame.horizontal else (chart.domain_title, chart.value_title)
    )  # fmt: skip
    if bottom_title:
        out.append(_text(middle_x, frame.bottom + 36, bottom_title, "axis-title"))
    if left_title:
        extra = f' transform="rotate(-90 14 {middle_y:.1f})"'
        out.append(_text(14, middle_y, left_title, "axis-title", extra=extra))
    return out


def _line_marks(chart: ChartData, frame: _Frame) -> list[Markup]:
    out: list[Markup] = []
    count = len(chart.labels)
    for k, series in enumerate(chart.series):
        colour = PALETTE[k % len(PALETTE)]
        path: list[str] = []
        points: list[Markup] = []
        pen_up = True
        for i, value in enumerate(series.values):
            if value is None:  # a gap in the data breaks the line
                pen_up = True
                continue
            start, size = frame.band(i, count)
            x, y = start + size / 2, frame.at(value)
            path.append(f"{'M' if pen_up else 'L'}{x:.1f},{y:.1f}")
            pen_up = False
            points.append(
                Markup('<circle class="point" cx="{:.1f}" cy="{:.1f}" r="2.5" fill="{}">{}</circle>').format(
                    x, y, colour, _mark_title(series, chart.labels[i], value)
                )
            )  # fmt: skip
        if path:
            out.append(
                Markup('<path class="line" d="{}" stroke="{}"/>').format(" ".join(path), colour)
            )
        out.extend(points)
    return out


def _bar_marks(chart: ChartData, frame: _Frame) -> list[Markup]:
    out: list[Markup] = []
    count, groups = len(chart.labels), len(chart.series)
    zero = frame.at(0.0)
    for i, category in enumerate(chart.labels):
        start, size = frame.band(i, count)
        inner = size * 0.7
        offset = start + size * 0.15
        up = down = 0.0  # stacked totals so far, above and below zero
        for k, series in enumerate(chart.series):
            value = series.values[i]
            if value is None:
                continue
            if chart.stacked:
                base = up if value >= 0 else down
                lo, hi = frame.at(base), frame.at(base + value)
                if value >= 0:
                    up += value
                else:
                    down += value
                slot, thick = offset, inner
            else:
                lo, hi = zero, frame.at(value)
                thick = inner / groups
                slot = offset + k * thick
            a, b = sorted((lo, hi))
            if frame.horizontal:
                x, y, w, h = a, slot, b - a, thick
            else:
                x, y, w, h = slot, a, thick, b - a
            out.append(
                Markup('<rect class="bar" x="{:.1f}" y="{:.1f}" width="{:.1f}" height="{:.1f}" fill="{}">{}</rect>').format(
                    x, y, w, h, PALETTE[k % len(PALETTE)], _mark_title(series, category, value)
                )
            )  # fmt: skip
    return out


def _legend(chart: ChartData) -> list[Markup]:
    out: list[Markup] = []
    x, y = 64.0, HEIGHT - LEGEND + 6
    for k, series in enumerate(chart.series):
        colour = PALETTE[k % len(PALETTE)]
        out.append(
            Markup('<g class="legend-item"><rect x="{:.1f}" y="{:.1f}" width="12" height="12" fill="{}"/>{}</g>').format(
                x, y, colour, _text(x + 16, y + 10, series.name, "legend", "start")
            )
        )  # fmt: skip
        x += 28 + 7 * len(series.name)
    return out


STYLE = Markup(
    "<style>"
    ".chart-svg text{font:11px system-ui,sans-serif;fill:#444}"
    ".chart-svg .chart-title{font-size:14px;font-weight:600;fill:#222}"
    ".chart-svg .axis-title{font-size:12px;fill:#222}"
    ".chart-svg .grid{stroke:#e5e5e5}.chart-svg .axis{stroke:#888}"
    ".chart-svg .line{fill:none;stroke-width:2}"
    "</style>"
)


def draw(chart: ChartData) -> Markup:
    """The chart as one inline <svg> element."""
    head = Markup(
        '<svg class="chart-svg" xmlns="http://www.w3.org/2000/svg" width="{w}" height="{h}" '
        'viewBox="0 0 {w} {h}" role="img" aria-label="{title}" data-kind="{kind}" data-marks="{marks}">'
    ).format(w=WIDTH, h=HEIGHT, title=chart.title, kind=chart.kind, marks=chart.marks)
    parts: list[Markup] = [head, STYLE, _text(WIDTH / 2, 22, chart.title, "chart-title")]
    if chart.kind not in DRAWN or not chart.series:
        note = (
            f"({chart.kind}: not drawn by the sandbox)" if chart.kind not in DRAWN else "(no data)"
        )
        parts.append(_text(WIDTH / 2, HEIGHT / 2, note, "note"))
        return Markup("").join([*parts, Markup("</svg>")])
    frame = _frame(chart)
    parts += _axes(chart, frame)
    marks = _line_marks if chart.kind in LINES else _bar_marks
    parts += marks(chart, frame)
    parts += _legend(chart)
    return Markup("").join([*parts, Markup("</svg>")])


def draw_spec(spec: dict[str, Any], read: CellReader) -> Markup:
    """The chart a spec describes, drawn from the cells `read` gives."""
    return draw(chart_data(spec, read))


__all__ = ["ChartData", "Series", "chart_data", "draw", "draw_spec", "nice_ticks"]
