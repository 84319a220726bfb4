"""The `Coalition dashboard` spreadsheet (pure): one tab of aggregates per measure, and its native charts.

What the weekly run writes there: 52 weeks of giving, 52 weeks of referral outcomes,
time to answer by partner over 12 weeks, unmet need by county over 12 months (and
its trend and cross tables), each as an aggregate table, plus an "About" tab with
the definitions. Withheld cells are written as blank cells with "withheld" beside
them, never as numbers. Four charts (weekly giving, referrals by outcome, time to
answer by partner, unmet need by county) live beside their data.

`plan` turns the spreadsheet's metadata (one spreadsheets.get) into one
spreadsheets.batchUpdate (missing tabs with chosen ids, then `addChart` for a chart
not there yet, `updateChartSpec` for one whose spec differs, `deleteEmbeddedObject`
for a second copy of a bot chart) and one values:batchUpdate: three Sheets requests
whatever the number of charts.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from coalition.summary.need import UnmetNeed
from coalition.summary.outcomes import ReferralOutcomes
from coalition.summary.suppression import Table
from coalition.summary.weeks import IsoWeek, Window

ABOUT = "About"
GIVING = "Weekly giving"
OUTCOMES = "Referral outcomes"
ANSWER = "Time to answer"
NEED = "Unmet need by county"
TREND = "Unmet need trend"
NEED_TYPES = "Unmet need by case type"
NEED_LANGUAGES = "Unmet need by language"
TAB_ORDER = (ABOUT, GIVING, OUTCOMES, ANSWER, NEED, TREND, NEED_TYPES, NEED_LANGUAGES)
PAD_ROWS = 60  # every tab is written this deep, so rows left over from a longer table are blanked
PAD_COLUMNS = 12
CHART_WEEKS = 12
NOTE = "withheld"


@dataclass(frozen=True)
class ChartPlan:
    """A native chart over columns of its tab: the first column is the domain."""

    title: str
    tab: str
    kind: str  # LINE, COLUMN, BAR
    series: tuple[int, ...]  # column indexes
    first_row: int  # data follows this row to `end_row` (exclusive); the header is row 0
    end_row: int
    axis: tuple[str, str]  # (domain title, value title)
    stacked: bool = False
    anchor_column: int = 6


@dataclass
class TabData:
    title: str
    rows: list[list[Any]]
    chart: ChartPlan | None = None


@dataclass
class Dashboard:
    tabs: list[TabData]
    updated: str

    @property
    def charts(self) -> list[ChartPlan]:
        return [t.chart for t in self.tabs if t.chart is not None]


def _cell(value: int | None) -> Any:
    return "" if value is None else value


def _hours(value: float | None) -> Any:
    return "" if value is None else round(value, 1)


# ---------------------------------------------------------------- the tabs
def giving_tab(week: IsoWeek, giving: Mapping[str, tuple[int, int]], weeks: int = 52) -> TabData:
    rows: list[list[Any]] = [["Week", "Week starting", "Raised ($)", "Gifts"]]
    for k in range(weeks):
        w = week.shift(k - weeks + 1)
        recorded = giving.get(w.label)
        raised = "" if recorded is None else float(Decimal(recorded[0]) / 100)
        rows.append(
            [w.label, w.monday.isoformat(), raised, "" if recorded is None else recorded[1]]
        )
    chart = ChartPlan(
        "Weekly giving (52 weeks)", GIVING, "LINE", (2,), 0, len(rows), ("Week", "Raised ($)")
    )
    return TabData(GIVING, rows, chart)


def outcomes_tab(outcomes: ReferralOutcomes) -> TabData:
    header = ["Week", "Accepted", "Declined", "Expired", "Unreachable", "Awaiting answer",
              "Sent", "Re-routed", "Median hours to answer", "90th percentile hours",
              "Placed within 7 days (%)"]  # fmt: skip
    rows: list[list[Any]] = [header]
    for w in outcomes.weeks:
        t, p = w.tally, w.placement
        share = "" if p.share is None else round(100 * p.share, 1)
        rows.append([w.week.label, t.accepted, t.declined, t.expired, t.unreachable, t.awaiting,
                     t.sent, t.rerouted, _hours(t.median_hours), _hours(t.p90_hours), share])  # fmt: skip
    # The chart shows the last 12 weeks: its range starts 12 rows above the end.
    start = max(0, len(rows) - CHART_WEEKS - 1)
    chart = ChartPlan(
        f"Referrals by outcome ({CHART_WEEKS} weeks)", OUTCOMES, "COLUMN", (1, 2, 3, 4, 5),
        start, len(rows), ("Week", "Referrals"), stacked=True, anchor_column=12,
    )  # fmt: skip
    return TabData(OUTCOMES, rows, chart)


def answer_tab(outcomes: ReferralOutcomes) -> TabData:
    rows: list[list[Any]] = [
        ["Partner", "Median hours to answer", "90th percentile hours", "Referrals sent", "Answered"]
    ]
    for p in outcomes.partners:
        t = p.tally
        rows.append([p.name, _hours(t.median_hours), _hours(t.p90_hours), t.sent, len(t.hours)])
    chart = ChartPlan(
        f"Time to answer by partner ({outcomes.partner_weeks} weeks)", ANSWER, "BAR", (1, 2),
        0, max(len(rows), 2), ("Partner", "Hours"),
    )  # fmt: skip
    return TabData(ANSWER, rows, chart)


def need_tab(need: UnmetNeed) -> TabData:
    table = need.by_type_year
    rows: list[list[Any]] = [["County", "Waitlisted (12 months)", "Note"]]
    for i, county in enumerate(table.rows):
        value = table.row_total(i)
        rows.append([county, _cell(value), NOTE if value is None else ""])
    total = table.value(len(table.rows), len(table.columns))
    rows.append(["All counties", _cell(total), NOTE if total is None else ""])
    chart = ChartPlan(
        f"Unmet need by county ({_months(need)})", NEED, "BAR", (1,), 0, len(rows) - 1,
        ("County", "People waitlisted"), anchor_column=4,
    )  # fmt: skip
    return TabData(NEED, rows, chart)


def trend_tab(need: UnmetNeed) -> TabData:
    rows: list[list[Any]] = [["Month", "Waitlisted", "Note"]]
    for j, label in enumerate(need.trend.columns):
        value = need.trend.value(0, j)
        rows.append([label, _cell(value), NOTE if value is None else ""])
    return TabData(TREND, rows)


def cross_tab(title: str, table: Table, corner: str) -> TabData:
    rows: list[list[Any]] = [[corner, *table.columns, "All"]]
    for i, name in enumerate([*table.rows, "All"]):
        rows.append([name, *(table.text(i, j) for j in range(len(table.columns) + 1))])
    return TabData(title, rows)


def about_tab(updated: str, week: IsoWeek, need: UnmetNeed, threshold: int) -> TabData:
    rows = [
        ["Coalition dashboard", f"Figures to week {week.label} ({week.range_label()}), written by the coalition bot."],
        ["Only aggregates are written here: counts, sums, medians. Nobody's details."],
        [GIVING, "Sum of gifts with a positive amount, and their number, per ISO week; "
                 "weeks before the bot's first summary are blank."],
        [OUTCOMES, "Referrals by the week they were sent to a partner, by what became of them; "
                   "re-routed: sent after an earlier partner declined, stayed silent or was "
                   "unreachable; placed within 7 days: requests received that week that a partner "
                   "accepted within 7 days, as a share of all of them."],
        [ANSWER, "Hours from a referral to the partner's accept or decline, over the last 12 "
                 "weeks; partners with fewer than 5 referrals are pooled as 'Other partners'."],
        [NEED, f"People on the waitlist (no partner could take the case) over {_months(need)}, "
               "by the county they gave ('not stated' when none)."],
        [TREND, "The same, per month."],
        [NEED_TYPES, "The same by county and case type; survivor-based cases only as "
                     "'Protected categories'."],
        [NEED_LANGUAGES, "The same by county and language."],
        ["withheld", f"A count under {threshold} (under 11 for protected categories, zero "
                     "included) is withheld, and so are the cells needed so that no withheld "
                     "count can be worked out from the totals."],
    ]  # fmt: skip
    return TabData(ABOUT, [list(r) for r in rows])


def _months(need: UnmetNeed) -> str:
    return f"{need.months[0]:%b %Y} to {need.months[-1]:%b %Y}"


def build(
    week: IsoWeek,
    giving: Mapping[str, tuple[int, int]],
    outcomes: ReferralOutcomes,
    need: UnmetNeed,
    updated: datetime,
    threshold: int,
) -> Dashboard:
    label = f"{updated:%Y-%m-%d}"
    tabs = [
        about_tab(label, week, need, threshold),
        giving_tab(week, giving),
        outcomes_tab(outcomes),
        answer_tab(outcomes),
        need_tab(need),
        trend_tab(need),
        cross_tab(NEED_TYPES, need.by_type_year, "County"),
        cross_tab(NEED_LANGUAGES, need.by_language_year, "County"),
    ]
    return Dashboard(tabs, label)


# ---------------------------------------------------------------- the requests
def grid_range(sheet_id: int, r0: int, r1: int, c0: int, c1: int) -> dict[str, int]:
    return {
        "sheetId": sheet_id,
        "startRowIndex": r0,
        "endRowIndex": r1,
        "startColumnIndex": c0,
        "endColumnIndex": c1,
    }


def chart_spec(chart: ChartPlan, sheet_id: int) -> dict[str, Any]:
    """The ChartSpec of the Sheets API: a basic chart, the tab's first column as its domain."""

    def source(col: int) -> dict[str, Any]:
        # headerCount 1 names each series from the first row of its range, so a chart of
        # the last weeks joins the tab's header row to them (the API's multi-source range).
        if chart.first_row == 0:
            return {"sources": [grid_range(sheet_id, 0, chart.end_row, col, col + 1)]}
        header = grid_range(sheet_id, 0, 1, col, col + 1)
        data = grid_range(sheet_id, chart.first_row + 1, chart.end_row, col, col + 1)
        return {"sources": [header, data]}

    value_axis = "BOTTOM_AXIS" if chart.kind == "BAR" else "LEFT_AXIS"
    domain_axis = "LEFT_AXIS" if chart.kind == "BAR" else "BOTTOM_AXIS"
    basic: dict[str, Any] = {
        "chartType": chart.kind,
        "legendPosition": "BOTTOM_LEGEND",
        "axis": [
            {"position": domain_axis, "title": chart.axis[0]},
            {"position": value_axis, "title": chart.axis[1]},
        ],
        "domains": [{"domain": {"sourceRange": source(0)}}],
        "series": [
            {"series": {"sourceRange": source(col)}, "targetAxis": value_axis}
            for col in chart.series
        ],
        "headerCount": 1,
    }
    if chart.stacked:
        basic["stackedType"] = "STACKED"
    return {"title": chart.title, "basicChart": basic}


@dataclass
class Plan:
    """What one run sends: the structural batch, the values, and counts for the run report."""

    requests: list[dict[str, Any]] = field(default_factory=list)
    values: list[dict[str, Any]] = field(default_factory=list)
    counts: dict[str, int] = field(default_factory=dict)


def _existing(meta: Mapping[str, Any]) -> tuple[dict[str, int], dict[str, list[dict[str, Any]]]]:
    """(tab title -> sheet id, chart title -> the charts of that title in sheet order)."""
    tabs: dict[str, int] = {}
    charts: dict[str, list[dict[str, Any]]] = {}
    for sheet in meta.get("sheets") or []:
        props = sheet.get("properties") or {}
        tabs[str(props.get("title"))] = int(props.get("sheetId", 0))
        for chart in sheet.get("charts") or []:
            title = str((chart.get("spec") or {}).get("title") or "")
            charts.setdefault(title, []).append(chart)
    return tabs, charts


def plan(meta: Mapping[str, Any], dashboard: Dashboard) -> Plan:
    """The requests that bring the spreadsheet to `dashboard`, given what spreadsheets.get said."""
    tabs, charts = _existing(meta)
    result = Plan(counts={"tabs added": 0, "charts added": 0, "charts updated": 0,
                          "charts deleted": 0, "charts unchanged": 0})  # fmt: skip
    next_id = max([*tabs.values(), 0]) + 1
    for tab in dashboard.tabs:
        if tab.title in tabs:
            continue
        tabs[tab.title] = next_id
        next_id += 1
        result.requests.append(
            {
                "addSheet": {
                    "properties": {
                        "sheetId": tabs[tab.title],
                        "title": tab.title,
                        "index": TAB_ORDER.index(tab.title) if tab.title in TAB_ORDER else None,
                        "gridProperties": {
                            "rowCount": max(PAD_ROWS, len(tab.rows) + 1),
                            "columnCount": 26,
                        },
                    }
                }
            }
        )
        result.counts["tabs added"] += 1
    for chart in dashboard.charts:
        spec = chart_spec(chart, tabs[chart.tab])
        found = charts.get(chart.title) or []
        if not found:
            position = {"overlayPosition": {"anchorCell": {
                "sheetId": tabs[chart.tab], "rowIndex": 1, "columnIndex": chart.anchor_column}}}  # fmt: skip
            result.requests.append({"addChart": {"chart": {"spec": spec, "position": position}}})
            result.counts["charts added"] += 1
            continue
        first, *extra = found
        if first.get("spec") != spec:
            result.requests.append({"updateChartSpec": {"chartId": first["chartId"], "spec": spec}})
            result.counts["charts updated"] += 1
        else:
            result.counts["charts unchanged"] += 1
        for twin in extra:  # a second copy (a person duplicated it): the bot keeps one
            result.requests.append({"deleteEmbeddedObject": {"objectId": twin["chartId"]}})
            result.counts["charts deleted"] += 1
    for request in result.requests:
        props = request.get("addSheet", {}).get("properties")
        if props and props.get("index") is None:
            props.pop("index")
    current = current_values(meta)
    changed = [t for t in dashboard.tabs if _trimmed(t.rows) != current.get(t.title, [])]
    result.values = [{"range": f"{quote(t.title)}!A1", "values": padded(t.rows)} for t in changed]
    result.counts["tabs rewritten"] = len(changed)
    return result


def current_values(meta: Mapping[str, Any]) -> dict[str, list[list[Any]]]:
    """Each tab's values as spreadsheets.get (includeGridData) gave them, trimmed like `_trimmed`."""
    out: dict[str, list[list[Any]]] = {}
    for sheet in meta.get("sheets") or []:
        title = str((sheet.get("properties") or {}).get("title"))
        rows: list[list[Any]] = []
        for block in sheet.get("data") or []:
            for row in block.get("rowData") or []:
                rows.append([_entered(cell) for cell in row.get("values") or []])
        out[title] = _trimmed(rows)
    return out


def _entered(cell: Mapping[str, Any]) -> Any:
    value = cell.get("userEnteredValue") or {}
    if "numberValue" in value:
        return float(value["numberValue"])
    if "boolValue" in value:
        return value["boolValue"]
    if "formulaValue" in value:
        return value["formulaValue"]
    return value.get("stringValue", "")


def _trimmed(rows: Sequence[Sequence[Any]]) -> list[list[Any]]:
    """Rows with numbers as floats, trailing blanks dropped, trailing empty rows dropped."""
    out = []
    for row in rows:
        values = [
            float(v) if isinstance(v, int | float) and not isinstance(v, bool) else v for v in row
        ]
        while values and values[-1] in ("", None):
            values.pop()
        out.append(values)
    while out and not out[-1]:
        out.pop()
    return out


def padded(rows: Sequence[Sequence[Any]]) -> list[list[Any]]:
    """The rows, each PAD_COLUMNS wide and PAD_ROWS deep with blanks, so nothing stale stays below or beside."""
    width = max(PAD_COLUMNS, *(len(r) for r in rows)) if rows else PAD_COLUMNS
    out = [[*r, *([""] * (width - len(r)))] for r in rows]
    out += [[""] * width for _ in range(max(0, PAD_ROWS - len(out)))]
    return out


def quote(title: str) -> str:
    return "'" + title.replace("'", "''") + "'"


def aggregate_values(dashboard: Dashboard) -> list[Any]:
    """Every value written to the spreadsheet (what the leak scan reads)."""
    return [v for tab in dashboard.tabs for row in tab.rows for v in row]


def weekly_giving(
    tallies: Mapping[IsoWeek, Any], window: Window, whole_history: bool, weeks: int = 52
) -> dict[str, tuple[int, int]]:
    """(raised in cents, gifts) of the weeks a listing read whole: the window's five, or 52 on a rebuild."""
    if whole_history:
        span = [window.target.shift(k - weeks + 1) for k in range(weeks)]
    else:
        span = list(window.weeks)
    out: dict[str, tuple[int, int]] = {}
    for week in span:
        tally = tallies.get(week)
        amount = Decimal(tally.amount) if tally is not None else Decimal(0)
        out[week.label] = (int((amount * 100).to_integral_value()), tally.gifts if tally else 0)
    return out


def month_day(week: IsoWeek) -> date:
    """The day whose month the Unmet need section reports: the week's Sunday."""
    return week.sunday


__all__ = [
    "ABOUT",
    "TAB_ORDER",
    "ChartPlan",
    "Dashboard",
    "Plan",
    "TabData",
    "build",
    "chart_spec",
    "month_day",
    "plan",
    "weekly_giving",
]
