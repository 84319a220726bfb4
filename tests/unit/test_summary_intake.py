"""Intake figures from ledger rows: the week's cohort, medians, small counts hidden, survivor types protected."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from hypothesis import given
from hypothesis import strategies as st

from coalition.summary.intake_metrics import (
    PROTECTED_LABEL,
    Case,
    category_label,
    category_rows,
    intake_metrics,
)
from coalition.summary.weeks import IsoWeek

NY = ZoneInfo("America/New_York")
W48 = IsoWeek(2026, 48)
MONDAY = datetime(2026, 11, 23, 14, tzinfo=UTC)  # 9:00 in New York


@dataclass
class Row:
    intake_id: str
    received_at: datetime | None
    status: str
    category: str | None
    routed_at: datetime | None = None


@dataclass
class Ref:
    intake_id: str
    state: str
    decided_at: datetime | None = None


def test_the_weeks_cohort_and_where_it_stands() -> None:
    rows = [
        Row("I1", MONDAY, "referred", "asylum", MONDAY + timedelta(hours=2)),
        Row("I2", MONDAY, "accepted", "asylum", MONDAY + timedelta(hours=4)),
        Row("I3", MONDAY, "waitlist", "asylum"),
        Row("I4", MONDAY, "review", None),
        Row("I5", MONDAY, "triage", "VAWA"),
        Row("I6", MONDAY, "duplicate", "asylum"),
        Row("I7", MONDAY - timedelta(days=1), "referred", "asylum", MONDAY),  # Sunday: week 47
        Row("I8", None, "review", None),
        Row(
            "I9", datetime(2026, 11, 30, 4, 59, tzinfo=UTC), "suggested", "DACA"
        ),  # Sun 23:59 local
    ]
    refs = [
        Ref("I1", "declined", MONDAY + timedelta(hours=5)),
        Ref("I2", "accepted", MONDAY + timedelta(hours=10)),
    ]
    m = intake_metrics(rows, refs, W48, NY)
    assert (m.received, m.duplicates, m.undated) == (6, 1, 1)
    assert (m.routed, m.accepted, m.declined, m.waitlisted, m.needs_staff) == (2, 1, 1, 1, 3)
    assert m.median_hours_to_routing == 3.0
    assert m.median_hours_to_acceptance == 10.0


def test_survivor_categories_only_ever_appear_as_protected() -> None:
    for raw in ("VAWA", "U visa", "T visa", "u-visa", "protected", "Protected category"):
        assert category_label(raw) == PROTECTED_LABEL
    assert category_label(None) == "Unclassified" and category_label("asylum") == "Asylum"
    rows = [Row(f"I{n}", MONDAY, "referred", raw) for n, raw in enumerate(["VAWA", "U visa"] * 4)]
    rows += [Row(f"J{n}", MONDAY, "review", None) for n in range(6)]
    m = intake_metrics(rows, [], W48, NY)
    labels = [r.label for r in m.categories]
    assert PROTECTED_LABEL in labels
    assert not any(word in " ".join(labels) for word in ("VAWA", "U visa", "T visa"))
    protected = next(r for r in m.categories if r.label == PROTECTED_LABEL)
    assert protected.received.text == "8"


def test_protected_row_is_listed_even_when_empty() -> None:
    m = intake_metrics([Row(f"I{n}", MONDAY, "referred", "asylum") for n in range(7)], [], W48, NY)
    rows = {r.label: r for r in m.categories}
    assert rows[PROTECTED_LABEL].received.text == "fewer than 5"
    assert rows["Unclassified"].received.text == "fewer than 5"
    assert rows["Asylum"].received.text == "7"  # two hidden cells: none can be worked out


def test_a_single_hidden_cell_gets_a_withheld_partner() -> None:
    cases = [Case("Asylum", "referred", 1.0, None, False, False)] * 12
    cases += [Case("Removal defense", "referred", 1.0, None, False, False)] * 9
    cases += [Case("Unclassified", "review", None, None, False, False)] * 6
    cases += [Case(PROTECTED_LABEL, "review", None, None, False, False)] * 2
    rows = {r.label: r for r in category_rows(cases, 5)}
    assert rows[PROTECTED_LABEL].received.text == "fewer than 5"
    # 29 received: with only one hidden cell, 29 - 12 - 9 - 6 would give the protected count away.
    assert rows["Unclassified"].received.text == "withheld"
    assert rows["Asylum"].received.text == "12" and rows["Removal defense"].received.text == "9"


def test_small_medians_are_not_shown() -> None:
    cases = [Case("Asylum", "referred", float(h), None, False, False) for h in (1, 2, 3, 4)]
    (row,) = [r for r in category_rows(cases, 5) if r.label == "Asylum"]
    # Issue 17: a bare "fewer than 5" in an hours column reads as "under 5 hours".
    assert row.median_hours_to_routing == "withheld: fewer than 5 cases"
    cases.append(Case("Asylum", "referred", 5.0, None, False, False))
    (row,) = [r for r in category_rows(cases, 5) if r.label == "Asylum"]
    assert row.median_hours_to_routing == "3.0"


@given(
    st.lists(
        st.tuples(
            st.sampled_from(["Asylum", "DACA", "TPS", PROTECTED_LABEL, "Unclassified"]),
            st.booleans(),
        ),
        max_size=60,
    )
)
def test_no_column_ever_hides_exactly_one_cell(cases: list[tuple[str, bool]]) -> None:
    """Whatever the counts, a hidden cell never stands alone in its column (or it could be derived)."""
    rows = category_rows(
        [Case(c, "referred", 1.0 if r else None, None, r, False) for c, r in cases], 5
    )
    for column in ("received", "routed", "accepted"):
        hidden = [getattr(row, column) for row in rows if getattr(row, column).hidden]
        assert len(hidden) != 1
    for row in rows:
        for column in ("received", "routed", "accepted"):
            cell = getattr(row, column)
            if not cell.hidden:
                assert cell.value >= 5 and cell.text == f"{cell.value:,}"
            elif cell.text.startswith("fewer"):
                assert cell.value < 5


def test_an_empty_week() -> None:
    m = intake_metrics([], [], W48, NY)
    assert m.empty and m.median_hours_to_routing is None
    assert [r.label for r in m.categories] == [PROTECTED_LABEL, "Unclassified"]
