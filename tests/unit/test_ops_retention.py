"""Which Intake cells `coalition purge --intake-personal-fields` blanks: personal answers of old closed rows only."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from hypothesis import given
from hypothesis import strategies as st

from coalition.setup_plan import INTAKE_FORM_COLUMNS
from ops.retention import CLOSED_STATUSES, plan_blanking

NOW = datetime(2027, 6, 1, 12, 0, tzinfo=UTC)
BOT = ["Intake ID", "Status", "Partner", "Referral ID", "Routed at", "Routing reason"]
HEADER = [*INTAKE_FORM_COLUMNS, *BOT, "Staff notes"]
KEPT = {"Timestamp", "Preferred language", "County", "State", "Consent to share", *BOT}
KEPT.add("Staff notes")  # staff's own column: the bot never writes it


def row(stamp: str, status: str, intake_id: str = "IN-1") -> list[str]:
    values = {name: f"{name} value" for name in HEADER}
    values.update({"Timestamp": stamp, "Status": status, "Intake ID": intake_id})
    return [values[name] for name in HEADER]


def blanked_columns(cells: list[str]) -> set[str]:
    letters = {cell.split("!")[1].rstrip("0123456789") for cell in cells}
    from coalition.sheet_table import column_index

    return {HEADER[column_index(letter)] for letter in letters}


def test_old_closed_rows_lose_their_personal_answers_only() -> None:
    values = [HEADER, row("3/14/2026 10:22:01", "Accepted", "IN-OLD")]
    plan = plan_blanking(values, "Form Responses", NOW, 30, "America/New_York")
    assert plan.intake_ids == ["IN-OLD"]
    assert blanked_columns(plan.cells) == set(HEADER) - KEPT
    assert all(cell.startswith("'Form Responses'!") and cell.endswith("2") for cell in plan.cells)


@pytest.mark.parametrize(
    ("stamp", "status", "blanked"),
    [
        ("3/14/2026 10:22:01", "Accepted", True),
        ("2026-03-14 10:22", "Duplicate", True),
        ("3/14/2026", " closed ", True),  # staff closed it by hand
        ("3/14/2026", "Referred", False),  # still with a partner
        ("3/14/2026", "Staff triage", False),
        ("3/14/2026", "", False),
        ("5/20/2027 09:00", "Accepted", False),  # newer than the retention
        ("not a date", "Accepted", False),
    ],
)
def test_which_rows_are_blanked(stamp: str, status: str, blanked: bool) -> None:
    plan = plan_blanking([HEADER, row(stamp, status)], "Form Responses", NOW, 30, "UTC")
    assert bool(plan.cells) is blanked


def test_undated_closed_rows_are_counted_not_touched() -> None:
    plan = plan_blanking([HEADER, row("", "Accepted")], "Form Responses", NOW, 30, "UTC")
    assert plan.cells == [] and plan.skipped_undated == 1


def test_already_blank_rows_are_not_written_again() -> None:
    empty = row("3/14/2026", "Accepted")
    empty = [cell if HEADER[i] in KEPT else "" for i, cell in enumerate(empty)]
    assert plan_blanking([HEADER, empty], "Form Responses", NOW, 30, "UTC").cells == []


def test_columns_are_found_by_header_wherever_staff_moved_them() -> None:
    moved = list(reversed(HEADER))
    values = [moved, list(reversed(row("3/14/2026", "Accepted")))]
    plan = plan_blanking(values, "Form Responses", NOW, 30, "UTC")
    assert len(plan.cells) == len(set(HEADER) - KEPT)


def test_a_sheet_without_a_status_column_is_left_alone() -> None:
    header = [h for h in HEADER if h != "Status"]
    plan = plan_blanking([header, ["3/14/2026"] * len(header)], "Form Responses", NOW, 30, "UTC")
    assert plan.cells == []


@given(st.sampled_from(sorted(CLOSED_STATUSES)), st.integers(min_value=0, max_value=2000))
def test_the_cutoff_is_exactly_n_days(status: str, days: int) -> None:
    stamp = "3/14/2026 10:22:01"
    received = datetime(2026, 3, 14, 10, 22, 1)
    plan = plan_blanking([HEADER, row(stamp, status.title())], "T", NOW, days, "UTC")
    age_days = (NOW.replace(tzinfo=None) - received).total_seconds() / 86400
    assert bool(plan.cells) is (age_days > days)
