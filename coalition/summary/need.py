"""Unmet legal need from the ledger's rows (pure): cases no partner could take, by county, case type and language.

A case counts when its intake is on the waitlist: routing found no partner, for a
reason it recorded (no partner for the county, the language or the case type, income
over every limit, no capacity). Cases without a county or with an unknown case type
are counted under "not stated", never dropped. Tables are for a month and for the 12
months ending with it, with the monthly trend; every table goes through
coalition/summary/suppression.py, and the totals the tables share (a county's total
appears in both of its tables; a month's total in its table and in the trend) are
withheld together, and a month's table has its 12 months' labels and the same
withheld positions, so no table can be played against another, nor subtracted
from another to give the other 11 months away.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, tzinfo
from functools import lru_cache

from coalition.intake.classify import CASE_TYPES, PROTECTED, PROTECTED_TYPES
from coalition.summary.suppression import THRESHOLD, Table, suppress, suppress_together
from coalition.summary.weeks import local_datetime

NOT_STATED = "not stated"
PROTECTED_LABEL = "Protected categories"
OTHER_COUNTIES = "other counties"
OTHER_TYPES = "other case types"
OTHER_LANGUAGES = "other languages"
WAITLIST = "waitlist"
MAX_COUNTIES, MAX_TYPES, MAX_LANGUAGES = 10, 6, 6
PAIRS = (("tm", "ty"), ("lm", "ly"))  # a month's table and its 12 months' table, withheld alike
REASON_GROUPS = {
    "outside_area": "no partner for the county",
    "no_partners": "no partner for the county",
    "language_unsupported": "no partner for the language",
    "service_not_offered": "no partner for the case type",
    "accreditation_required": "no partner for the case type",
    "lsc_restricted": "no partner for the case type",
    "over_income_limit": "income over every partner's limit",
    "no_capacity": "no partner had capacity",
}
OTHER_REASONS = "other reasons"
REASONS = (*dict.fromkeys(REASON_GROUPS.values()), OTHER_REASONS)
_KNOWN_TYPES = {t.casefold(): t for t in CASE_TYPES}
_UNSTATED_PLACES = {"", "unknown place", "unknown", "n/a", "none"}


@dataclass(frozen=True)
class NeedFact:
    """An intake as the unmet-need figures see it: labels, never answers."""

    intake_id: str
    received_at: datetime | None
    status: str
    category: str | None
    place: str | None
    language: str | None
    reason_code: str | None


@dataclass(frozen=True)
class Case:
    """One waitlisted case as the tables see it: labels only."""

    month: date  # first day of the month it was received, in the org's zone
    county: str
    case_type: str
    language: str
    reason: str


_PROTECTED_KEYS = frozenset({PROTECTED, *(t.casefold() for t in PROTECTED_TYPES)})


# Labels are cached: a year of intakes holds a few dozen distinct values, read 50,000 times.
@lru_cache(maxsize=4096)
def case_type_label(category: str | None) -> str:
    value = (category or "").strip()
    if value.casefold() in _PROTECTED_KEYS or value in {"protected category", PROTECTED_LABEL}:
        return PROTECTED_LABEL
    return _KNOWN_TYPES.get(value.casefold(), NOT_STATED)


@lru_cache(maxsize=4096)
def county_label(place: str | None) -> str:
    value = " ".join((place or "").split())
    return NOT_STATED if value.casefold() in _UNSTATED_PLACES else value[:60]


@lru_cache(maxsize=4096)
def language_label(language: str | None) -> str:
    value = " ".join((language or "").split())
    return value[:40] if value else NOT_STATED


def reason_label(code: str | None) -> str:
    return REASON_GROUPS.get(code or "", OTHER_REASONS)


def month_of(day: date) -> date:
    return day.replace(day=1)


def months_ending(last: date, count: int = 12) -> list[date]:
    """`count` first-of-month dates ending with `last`'s month, oldest first."""
    out, year, month = [], last.year, last.month
    for _ in range(count):
        out.append(date(year, month, 1))
        year, month = (year, month - 1) if month > 1 else (year - 1, 12)
    return out[::-1]


def unmet_cases(rows: Iterable[NeedFact], tz: tzinfo) -> tuple[list[Case], int]:
    """(waitlisted cases, waitlisted intakes without a received time, which no month can hold)."""
    cases, undated = [], 0
    for row in rows:
        if row.status != WAITLIST:
            continue
        received = local_datetime(row.received_at, tz)
        if received is None:
            undated += 1
            continue
        cases.append(
            Case(
                month_of(received.date()),
                county_label(row.place),
                case_type_label(row.category),
                language_label(row.language),
                reason_label(row.reason_code),
            )
        )
    return cases, undated


# ---------------------------------------------------------------- cross tables
def _top(counts: Counter[str], limit: int, last: Sequence[str], other: str) -> list[str]:
    """The `limit` largest labels (ties by name), then `other`, then the fixed `last` ones."""
    regular = sorted((k for k in counts if k not in last), key=lambda k: (-counts[k], k))
    keep = regular[:limit]
    labels = list(keep)
    if len(regular) > limit:
        labels.append(other)
    return labels + [k for k in last if k in counts or k == PROTECTED_LABEL]


def _bucket(value: str, keep: Sequence[str], other: str) -> str:
    return value if value in keep else other


@dataclass(frozen=True)
class CrossCounts:
    rows: list[str]
    columns: list[str]
    cells: list[list[int]]


def cross_counts(
    cases: Sequence[Case], row_of: str, column_of: str, like: CrossCounts | None = None
) -> CrossCounts:
    """Counts by two of a case's labels, long tails folded into "other ..." (the labels of `like` when given)."""
    limits = {"county": (MAX_COUNTIES, OTHER_COUNTIES), "case_type": (MAX_TYPES, OTHER_TYPES),
              "language": (MAX_LANGUAGES, OTHER_LANGUAGES)}  # fmt: skip
    fixed = {"county": [NOT_STATED], "case_type": [PROTECTED_LABEL, NOT_STATED],
             "language": [NOT_STATED]}  # fmt: skip

    def labels(attr: str) -> list[str]:
        limit, other = limits[attr]
        return _top(Counter(getattr(c, attr) for c in cases), limit, fixed[attr], other)

    if like is not None:
        rows, columns = list(like.rows), list(like.columns)
    else:
        rows, columns = labels(row_of), labels(column_of)
    if not rows:
        rows = [NOT_STATED]
    grid = [[0] * len(columns) for _ in rows]
    r_other, c_other = limits[row_of][1], limits[column_of][1]
    for case in cases:
        r = rows.index(_bucket(getattr(case, row_of), rows, r_other))
        c = columns.index(_bucket(getattr(case, column_of), columns, c_other))
        grid[r][c] += 1
    return CrossCounts(rows, columns, grid)


@dataclass(frozen=True)
class Gap:
    """A sentence's worth: a county and case type no partner could serve, with its count."""

    count: int
    county: str
    case_type: str
    language: str | None  # named only when every case in the cell shares it
    reason: str
    reason_shared: bool

    def sentence(self, period: str) -> str:
        language = f" in {self.language}" if self.language else ""
        reason = self.reason if self.reason_shared else f"most often, {self.reason}"
        return (
            f"{self.count:,} people in {self.county} asked for {self.case_type} help{language} "
            f"{period}; {reason}."
        )


@dataclass
class UnmetNeed:
    """The Unmet need section and the dashboard's need tab."""

    month: date
    months: list[date]  # the 12 months, oldest first
    by_type_month: Table
    by_language_month: Table
    by_type_year: Table
    by_language_year: Table
    trend: Table  # one row: a column per month, then the 12-month total
    reasons: Table  # one row: waitlisted this month by reason
    gaps: list[Gap]
    undated: int = 0
    threshold: int = THRESHOLD

    @property
    def empty_month(self) -> bool:
        return self.by_type_month.total == 0

    @property
    def month_label(self) -> str:
        return f"{self.month:%B %Y}"


def unmet_need(
    rows: Iterable[NeedFact], month_day: date, tz: tzinfo, threshold: int = THRESHOLD, top: int = 3
) -> UnmetNeed:
    """The tables for the month holding `month_day` and the 12 months ending with it."""
    cases, undated = unmet_cases(rows, tz)
    months = months_ending(month_day)
    month = months[-1]
    year_cases = [c for c in cases if c.month in set(months)]
    month_cases = [c for c in year_cases if c.month == month]
    # The month's tables use the 12 months' labels, so the two can be withheld alike
    # (coalition/summary/suppression.suppress_together) and never subtracted.
    ty = cross_counts(year_cases, "county", "case_type")
    ly = cross_counts(year_cases, "county", "language")
    counts = {
        "tm": cross_counts(month_cases, "county", "case_type", like=ty),
        "lm": cross_counts(month_cases, "county", "language", like=ly),
        "ty": ty,
        "ly": ly,
    }
    per_month = Counter(c.month for c in year_cases)
    trend_labels = [f"{m:%b %Y}" for m in months]
    by_reason = Counter(c.reason for c in month_cases)
    series = {
        "trend": (trend_labels, [per_month[m] for m in months]),
        "reasons": (list(REASONS), [by_reason[r] for r in REASONS]),
    }
    tables = _linked(counts, series, threshold)
    return UnmetNeed(
        month,
        months,
        tables["tm"],
        tables["lm"],
        tables["ty"],
        tables["ly"],
        tables["trend"],
        tables["reasons"],
        gaps(tables["tm"], month_cases, threshold, top),
        undated,
        threshold,
    )


def _linked(
    counts: dict[str, CrossCounts],
    series: dict[str, tuple[list[str], list[int]]],
    threshold: int,
) -> dict[str, Table]:
    """Suppress every table (a month's with its 12 months' together), then again with each shared
    total withheld wherever any table withholds it."""
    forced: dict[str, set[tuple[int, int]]] = {k: set() for k in (*counts, *series)}
    while True:
        tables: dict[str, Table] = {}
        for month_key, year_key in PAIRS:
            month, year = counts[month_key], counts[year_key]
            rest = [
                [y - m for m, y in zip(m_row, y_row, strict=True)]
                for m_row, y_row in zip(month.cells, year.cells, strict=True)
            ]
            shown_month, _rest, shown_year = suppress_together(
                year.rows,
                year.columns,
                [month.cells, rest],
                protected_columns=[PROTECTED_LABEL],
                threshold=threshold,
                forced=forced[month_key] | forced[year_key],
            )
            tables[month_key], tables[year_key] = shown_month, shown_year
        for key, (labels, values) in series.items():
            tables[key] = suppress(
                ["all"], labels, [values], threshold=threshold, forced=forced[key]
            )
        wanted = _shared_hidden(tables)
        if all(wanted[k] <= set(tables[k].hidden) for k in wanted):
            return tables
        for key in forced:
            forced[key] |= wanted[key]


def _shared_hidden(tables: dict[str, Table]) -> dict[str, set[tuple[int, int]]]:
    """The shared totals each table must withhold because another table withholds them."""
    wanted: dict[str, set[tuple[int, int]]] = {k: set() for k in tables}
    last_month = len(tables["trend"].columns) - 1
    month_total = {"trend": (0, last_month), "reasons": (0, len(tables["reasons"].columns))}
    year_total = {"trend": (0, last_month + 1)}
    for pair, shared in ((("tm", "lm"), month_total), (("ty", "ly"), year_total)):
        a, b = (tables[k] for k in pair)
        # Row totals by county (both tables have the same county rows), and the grand total.
        for i, county in enumerate(a.rows):
            if a.row_total(i) is None or b.row_total(b.rows.index(county)) is None:
                wanted[pair[0]].add((i, len(a.columns)))
                wanted[pair[1]].add((b.rows.index(county), len(b.columns)))
        corner_hidden = (
            a.value(len(a.rows), len(a.columns)) is None
            or b.value(len(b.rows), len(b.columns)) is None
            or any(tables[k].value(*cell) is None for k, cell in shared.items())
        )
        if corner_hidden:
            wanted[pair[0]].add((len(a.rows), len(a.columns)))
            wanted[pair[1]].add((len(b.rows), len(b.columns)))
            for key, cell in shared.items():
                wanted[key].add(cell)
    return wanted


@dataclass
class PeriodNeed:
    """Unmet need over a span of days (the export): the same tables and rule as the Doc's."""

    first: date
    last: date
    months: list[date]
    by_type: Table
    by_language: Table
    trend: Table  # one row: a column per month, then the period's total
    reasons: Table  # one row: waitlisted in the period by reason
    undated: int = 0
    threshold: int = THRESHOLD


def months_between(first: date, last: date) -> list[date]:
    """First-of-month dates from `first`'s month to `last`'s, oldest first."""
    out, month = [], month_of(first)
    while month <= last:
        out.append(month)
        month = date(month.year + month.month // 12, month.month % 12 + 1, 1)
    return out


def need_between(
    rows: Iterable[NeedFact], first: date, last: date, tz: tzinfo, threshold: int = THRESHOLD
) -> PeriodNeed:
    """The waitlist of cases received on the org-calendar days [first, last], suppressed as the Doc's."""
    rows = list(rows)
    _, undated = unmet_cases(rows, tz)

    def inside(row: NeedFact) -> bool:
        received = local_datetime(row.received_at, tz)
        return received is not None and first <= received.date() <= last

    cases, _ = unmet_cases([r for r in rows if inside(r)], tz)
    months = months_between(first, last)
    per_month = Counter(c.month for c in cases)
    by_reason = Counter(c.reason for c in cases)
    counts = {
        "t": cross_counts(cases, "county", "case_type"),
        "l": cross_counts(cases, "county", "language"),
    }
    series = {
        "trend": ([f"{m:%b %Y}" for m in months], [per_month[m] for m in months]),
        "reasons": (list(REASONS), [by_reason[r] for r in REASONS]),
    }
    forced: dict[str, set[tuple[int, int]]] = {k: set() for k in (*counts, *series)}
    while True:
        tables = {
            key: suppress(c.rows, c.columns, c.cells, protected_columns=[PROTECTED_LABEL],
                          threshold=threshold, forced=forced[key])
            for key, c in counts.items()
        }  # fmt: skip
        for key, (labels, values) in series.items():
            tables[key] = suppress(
                ["all"], labels, [values], threshold=threshold, forced=forced[key]
            )
        wanted = _period_shared(tables)
        if all(wanted[k] <= set(tables[k].hidden) for k in wanted):
            break
        for key in forced:
            forced[key] |= wanted[key]
    return PeriodNeed(first, last, months, tables["t"], tables["l"], tables["trend"],
                      tables["reasons"], undated, threshold)  # fmt: skip


def _period_shared(tables: dict[str, Table]) -> dict[str, set[tuple[int, int]]]:
    """County totals (both tables) and the grand total (every table) withheld wherever one withholds them."""
    wanted: dict[str, set[tuple[int, int]]] = {k: set() for k in tables}
    a, b = tables["t"], tables["l"]
    for i, county in enumerate(a.rows):
        k = b.rows.index(county)
        if a.row_total(i) is None or b.row_total(k) is None:
            wanted["t"].add((i, len(a.columns)))
            wanted["l"].add((k, len(b.columns)))
    corners = {key: (len(t.rows), len(t.columns)) for key, t in tables.items()}
    corners["trend"] = (0, len(tables["trend"].columns))
    corners["reasons"] = (0, len(tables["reasons"].columns))
    if any(tables[key].value(*cell) is None for key, cell in corners.items()):
        for key, cell in corners.items():
            wanted[key].add(cell)
    return wanted


def gaps(table: Table, cases: Sequence[Case], threshold: int, top: int) -> list[Gap]:
    """The largest shown cells of the month's county x case type table, in words (never protected)."""
    found = []
    for i, county in enumerate(table.rows):
        for j, kind in enumerate(table.columns):
            value = table.value(i, j)
            if value is None or value < threshold:
                continue
            if NOT_STATED in (county, kind) or kind in {PROTECTED_LABEL, OTHER_TYPES}:
                continue
            if county == OTHER_COUNTIES:
                continue
            mine = [c for c in cases if c.county == county and c.case_type == kind]
            languages = {c.language for c in mine}
            reasons = Counter(c.reason for c in mine)
            language = next(iter(languages)) if len(languages) == 1 else None
            reason, _ = max(reasons.items(), key=lambda kv: (kv[1], kv[0]))
            found.append(
                Gap(
                    value,
                    county,
                    kind,
                    None if language == NOT_STATED else language,
                    reason,
                    len(reasons) == 1,
                )
            )
    found.sort(key=lambda g: (-g.count, g.county, g.case_type))
    return found[:top]


__all__ = [
    "NOT_STATED",
    "PROTECTED_LABEL",
    "REASONS",
    "Case",
    "Gap",
    "PeriodNeed",
    "UnmetNeed",
    "case_type_label",
    "county_label",
    "cross_counts",
    "months_between",
    "months_ending",
    "need_between",
    "unmet_cases",
    "unmet_need",
]
