"""`/coalition needs` and `outcomes`: parsing, months, and which rows a county or a state selects (pure)."""

from __future__ import annotations

from datetime import date

import pytest

from bot.commands import parse
from bot.figures import matching_rows, resolve_month
from coalition.summary.suppression import suppress


@pytest.mark.parametrize(
    ("text", "place", "month", "problem"),
    [
        ("needs", None, None, None),
        ("needs Harris County", "Harris County", None, None),
        ("needs TX 2026-11", "TX", "2026-11", None),
        ("needs harris november 2026", "harris", "2026-11", None),
        ("needs Nov", None, "0000-11", None),
        ("needs Harris 2026-13", None, None, "needs_month"),
        ("outcomes", None, None, None),
    ],
)
def test_needs_and_outcomes_parse(
    text: str, place: str | None, month: str | None, problem: str | None
) -> None:
    command = parse(text)
    assert command.problem == problem
    if problem is None:
        assert (command.arg, command.month) == (place, month)


def test_the_audit_keeps_the_month_never_the_place_typed() -> None:
    assert parse("needs Maria Lopez 2026-11").audit_target == "2026-11"
    assert parse("needs Maria Lopez").audit_target is None
    assert parse("outcomes Maria Lopez").audit_target is None


@pytest.mark.parametrize(
    ("month", "expected"),
    [(None, date(2026, 12, 1)), ("2026-11", date(2026, 11, 1)), ("0000-11", date(2026, 11, 1)),
     ("0000-12", date(2026, 12, 1)), ("2027-01", None)],
)  # fmt: skip
def test_months_resolve_to_this_or_an_earlier_one(month: str | None, expected: date | None) -> None:
    assert resolve_month(month, date(2026, 12, 7)) == expected


def test_a_county_or_a_state_selects_rows_and_nothing_else() -> None:
    table = suppress(
        ["Harris County", "Dallas County", "Cook County", "Texas"],
        ["asylum"],
        [[6], [9], [7], [5]],
    )
    states = {"harris": frozenset({"TX"}), "dallas": frozenset({"TX"}), "cook": frozenset({"IL"})}
    assert matching_rows(table, None, states) == [0, 1, 2, 3, 4]  # every row and the totals
    assert matching_rows(table, "harris co.", states) == [0]
    assert matching_rows(table, "Texas", states) == [0, 1, 3]
    assert matching_rows(table, "IL", states) == [2]
    assert matching_rows(table, "Nowhere", states) == []
