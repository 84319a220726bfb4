"""Claims respect partners' weekly capacity as the ledger counts it at claim time, on SQLite and PostgreSQL.

Two routing runs may read the counts and decide before either claims (a scheduled run
and one started from Slack): the claim counts again under the claim lock and holds
back what would take a partner past its capacity, for the next run to decide again.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from ops_helpers import fresh_ledger
from sqlalchemy import text

from coalition.intake.capacity import CapacityLimits
from coalition.intake.models import STAFF_CHOICE
from coalition.ledger.db import Ledger
from coalition.ledger.intakes import IntakeStore, IntakeWrite

NOW = datetime(2026, 11, 25, 15, tzinfo=UTC)
MONDAY = datetime(2026, 11, 23, 5, tzinfo=UTC)


@pytest.fixture(params=["sqlite", "postgresql"])
def ledger(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Ledger]:
    with fresh_ledger(request.param, tmp_path) as opened:
        yield opened


def routed(intake: str, partner: str, attempt: int = 1, **extra) -> IntakeWrite:
    return IntakeWrite(
        intake_id=intake,
        status="referred",
        referral_id=f"REF-{intake}-{attempt}",
        partner_id=partner,
        attempt=attempt,
        **extra,
    )


def test_a_claim_holds_what_would_overfill_a_partner(ledger: Ledger) -> None:
    limits = CapacityLimits(MONDAY, {"P": 1, "Q": 5})
    first = IntakeStore(ledger).claim([routed("I-1", "P")], NOW, limits)
    assert first.won == {"I-1"} and first.held == []
    later = IntakeStore(ledger).claim(
        [
            routed("I-2", "P"),
            routed("I-3", "Q"),
            IntakeWrite("I-4", "suggested", suggested_partner="P"),  # a suggestion takes a slot too
            IntakeWrite("I-5", "triage"),  # no partner: never held
        ],
        NOW,
        limits,
    )
    assert later.won == {"I-3", "I-5"} and later.held == ["I-2", "I-4"]


def test_a_partner_chosen_by_staff_takes_the_case_past_capacity(ledger: Ledger) -> None:
    limits = CapacityLimits(MONDAY, {"P": 1})
    IntakeStore(ledger).claim([routed("I-1", "P")], NOW, limits)
    chosen = routed("I-2", "P", reason_code=STAFF_CHOICE)
    assert IntakeStore(ledger).claim([chosen], NOW, limits).won == {"I-2"}


def test_last_weeks_and_closed_referrals_free_their_slots(ledger: Ledger) -> None:
    limits = CapacityLimits(MONDAY, {"P": 1})
    IntakeStore(ledger).claim([routed("OLD", "P")], MONDAY - timedelta(days=2), limits)
    assert IntakeStore(ledger).claim([routed("I-1", "P")], NOW, limits).won == {"I-1"}
    store = IntakeStore(ledger)
    with ledger.session() as session:
        session.execute(text("UPDATE referrals SET state = 'declined' WHERE intake_id = 'I-1'"))
    assert store.claim([routed("I-2", "P")], NOW, limits).won == {"I-2"}


def test_a_suggestion_decided_again_holds_no_extra_slot(ledger: Ledger) -> None:
    limits = CapacityLimits(MONDAY, {"P": 1})
    IntakeStore(ledger).claim([IntakeWrite("I-1", "suggested", suggested_partner="P")], NOW, limits)
    approved = routed("I-1", "P", expected_status=("suggested",), suggested_partner="P")
    result = IntakeStore(ledger).claim([approved], NOW, limits)
    assert result.won == {"I-1"} and result.held == []


def test_claims_racing_for_the_last_slots_fill_a_partner_exactly(ledger: Ledger) -> None:
    limits = CapacityLimits(MONDAY, {"P": 3})
    start = threading.Barrier(8, timeout=60)
    won: list[str] = []
    errors: list[BaseException] = []

    def run(n: int) -> None:
        try:
            store = IntakeStore(ledger)
            start.wait()
            won.extend(store.claim([routed(f"I-{n}", "P")], NOW, limits).won)
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=run, args=(n,)) for n in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    assert not errors and len(won) == 3
