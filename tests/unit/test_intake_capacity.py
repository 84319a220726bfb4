"""Partners' weekly capacity: which decided intakes fit, given the slots the ledger counts as taken."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

import pytest

from coalition.intake.capacity import CapacityLimits, slot_partner, within_capacity
from coalition.intake.models import STAFF_CHOICE

MONDAY = datetime(2026, 11, 30, tzinfo=UTC)


@dataclass(frozen=True)
class W:
    intake_id: str
    status: str = "routing"
    partner_id: str | None = None
    suggested_partner: str | None = None
    reason_code: str | None = "best_fit"


@pytest.mark.parametrize(
    ("write", "partner"),
    [
        (W("I", partner_id="P"), "P"),
        (W("I", status="suggested", suggested_partner="S"), "S"),
        (W("I", status="approved", suggested_partner="S"), "S"),
        (W("I", status="waitlist", suggested_partner="S"), None),  # no slot held
        (W("I", status="triage"), None),
        (W("I", status="approved", partner_id="P", suggested_partner="S"), "P"),
    ],
)
def test_the_partner_whose_slot_a_decision_takes(write: W, partner: str | None) -> None:
    assert slot_partner(write) == partner


@pytest.mark.parametrize(
    ("used", "weekly", "writes", "kept", "held"),
    [
        ({}, {"P": 2}, ["P", "P", "P"], ["1", "2"], ["3"]),
        ({"P": 2}, {"P": 2}, ["P"], [], ["1"]),
        ({"P": 1}, {"P": 2}, ["P", "Q", "P"], ["1", "2"], ["3"]),  # Q has no limit
        ({}, {"P": 0}, [None, "P"], ["1"], ["2"]),  # no partner: never held
    ],
)
def test_writes_past_a_partners_capacity_are_held_back_in_order(
    used: dict[str, int], weekly: dict[str, int], writes: list, kept: list, held: list
) -> None:
    batch = [W(str(n), partner_id=p) for n, p in enumerate(writes, start=1)]
    fit, back = within_capacity(batch, used, CapacityLimits(MONDAY, weekly))
    assert [w.intake_id for w in fit] == kept
    assert back == held


def test_staff_may_send_a_case_past_capacity_and_it_still_uses_a_slot() -> None:
    limits = CapacityLimits(MONDAY, {"P": 1})
    batch = [
        W("1", partner_id="P"),
        W("2", partner_id="P", reason_code=STAFF_CHOICE),
        W("3", partner_id="P"),
    ]
    fit, back = within_capacity(batch, {}, limits)
    assert [w.intake_id for w in fit] == ["1", "2"]
    assert back == ["3"]


def test_a_waiting_suggestion_takes_its_partners_slot() -> None:
    limits = CapacityLimits(MONDAY, {"S": 1})
    batch = [W("1", status="suggested", suggested_partner="S"), W("2", partner_id="S")]
    fit, back = within_capacity(batch, {}, limits)
    assert [w.intake_id for w in fit] == ["1"] and back == ["2"]


def test_the_counts_given_are_not_changed() -> None:
    used = {"P": 0}
    within_capacity([W("1", partner_id="P")], used, CapacityLimits(MONDAY, {"P": 5}))
    assert used == {"P": 0}
