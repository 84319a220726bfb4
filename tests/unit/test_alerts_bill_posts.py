"""What a run does with each bill decision: quiet-hold vs post, change counters, thread choice, reminder pruning, ledger state (pure)."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from coalition.alerts.bill_posts import (
    Step,
    error_update,
    pending_reminders,
    plan_posts,
    records_silently,
    silent_state,
    step,
    thread_for,
)
from coalition.alerts.bills import Bill, BillDecision, Known, Reminder, decide, tracked_values
from coalition.alerts.bills import fingerprint as digest

TODAY = date(2026, 11, 20)
CHANNEL = "C0POLICY01"


def bill(**changes: str) -> Bill:
    fields = {
        "record_id": "recBILL0000000001",
        "bill": "HB 2417",
        "jurisdiction": "Texas",
        "position": "Support",
        "status": "Passed House",
        "last_action": "Passed on third reading",
        "last_action_date": (TODAY - timedelta(days=1)).isoformat(),
    }
    fields.update(changes)
    return Bill(**fields)


def known(**changes) -> Known:
    before = bill(status="In committee", last_action="Referred")
    state = {
        "fingerprint": digest(tracked_values(before)),
        "values": tracked_values(before),
        "changes": 2,
        "channel": CHANNEL,
        "thread_ts": "1700000000.000100",
        "reminders_sent": ("2026-11-01:1", f"{TODAY.isoformat()}:1", "2026-11-25:3"),
    }
    state.update(changes)
    return Known(**state)


def changed() -> BillDecision:
    return decide(bill(), known(), TODAY, [3, 1])


def reminder(days: int = 1) -> Reminder:
    return Reminder(TODAY + timedelta(days=days), days, days)


# ---------------------------------------------------------------- the step
@pytest.mark.parametrize(
    ("decision", "quiet", "expected", "silent"),
    [
        (BillDecision(bill(), error="no Bill number"), False, Step.REPORT, False),
        (BillDecision(bill(), error="no Bill number"), True, Step.REPORT, False),
        (BillDecision(bill(), fingerprint="f", record=True), False, Step.NOTHING, True),
        (BillDecision(bill(), fingerprint="f", record=False), True, Step.NOTHING, False),
        (changed(), False, Step.POST, False),
        # A held change keeps the old fingerprint: the next run after quiet hours still alerts.
        (changed(), True, Step.HOLD, False),
        # A reminder held overnight while the fingerprint moved silently: the move is recorded.
        (BillDecision(bill(), fingerprint="f", record=True, reminder=reminder()), True, Step.HOLD, True),
        (BillDecision(bill(), fingerprint="f", record=True, reminder=reminder()), False, Step.POST, False),
    ],
)  # fmt: skip
def test_step_and_silent_recording(
    decision: BillDecision, quiet: bool, expected: Step, silent: bool
) -> None:
    chosen = step(decision, quiet)
    assert chosen is expected
    assert records_silently(decision, chosen) is silent


@given(
    error=st.sampled_from(["", "no Bill number"]),
    alert=st.booleans(),
    remind=st.booleans(),
    record=st.booleans(),
    quiet=st.booleans(),
)
def test_quiet_hours_never_post_and_errors_never_post(
    error: str, alert: bool, remind: bool, record: bool, quiet: bool
) -> None:
    decision = changed() if alert else BillDecision(bill(), fingerprint="f")
    decision = BillDecision(
        decision.bill,
        decision.values,
        decision.fingerprint,
        decision.changes,
        reminder=reminder() if remind else None,
        record=record,
        error=error,
    )
    chosen = step(decision, quiet)
    if error:
        assert chosen is Step.REPORT
    elif quiet:
        assert chosen is not Step.POST
    # A change alert's fingerprint is only recorded with its post, never silently.
    assert not (alert and not error and records_silently(decision, chosen))


# ---------------------------------------------------------------- the plan
def test_a_change_is_numbered_after_the_last_and_goes_into_the_bills_thread() -> None:
    plan = plan_posts(changed(), known(), CHANNEL, TODAY)
    assert [p.key for p in plan.posts] == ["bill:recBILL0000000001:change:3"]
    assert plan.changes == 3 and plan.thread_ts == "1700000000.000100"
    state = plan.state(plan.thread_ts)
    assert state.changes == 3 and state.moved and state.channel == CHANNEL
    assert state.fingerprint == changed().fingerprint


def test_a_bill_moved_to_another_channel_starts_a_new_thread() -> None:
    plan = plan_posts(changed(), known(), "C0OTHER001", TODAY)
    assert plan.thread_ts is None
    assert plan.state("1800000000.000200").thread_ts == "1800000000.000200"


def test_change_then_reminder_in_order_and_past_reminders_pruned() -> None:
    decision = BillDecision(
        changed().bill, changed().values, changed().fingerprint, changed().changes,
        reminder=reminder(3), record=True,
    )  # fmt: skip
    plan = plan_posts(decision, known(), CHANNEL, TODAY)
    assert [p.kind for p in plan.posts] == ["change", "reminder"]
    assert plan.posts[1].key == f"bill:recBILL0000000001:hearing:{reminder(3).tag}"
    # 2026-11-01 is past; today's and later ones are kept; the new one is added.
    assert plan.reminders == (f"{TODAY.isoformat()}:1", "2026-11-25:3", reminder(3).tag)


def test_a_reminder_alone_keeps_the_change_counter() -> None:
    decision = BillDecision(bill(), fingerprint="f", reminder=reminder())
    plan = plan_posts(decision, known(), CHANNEL, TODAY)
    assert [p.kind for p in plan.posts] == ["reminder"] and plan.changes == 2
    assert not plan.state(None).moved


def test_first_sight_starts_at_change_one_without_a_thread() -> None:
    plan = plan_posts(changed(), None, CHANNEL, TODAY)
    assert plan.posts[0].key.endswith(":change:1") and plan.thread_ts is None
    assert plan.reminders == ()


def test_silent_state_keeps_counters_thread_and_reminders() -> None:
    before = known()
    state = silent_state(changed(), before)
    assert (state.changes, state.channel, state.thread_ts) == (2, CHANNEL, before.thread_ts)
    assert state.reminders_sent == before.reminders_sent and not state.moved
    assert silent_state(changed(), None).changes == 0


@given(
    tags=st.lists(
        st.tuples(st.integers(-40, 40), st.integers(1, 7)).map(
            lambda t: f"{(TODAY + timedelta(days=t[0])).isoformat()}:{t[1]}"
        ),
        max_size=12,
    )
)
def test_pending_reminders_keep_exactly_today_and_later(tags: list[str]) -> None:
    kept = pending_reminders(tuple(tags), TODAY)
    assert kept == [t for t in tags if date.fromisoformat(t[:10]) >= TODAY]


@given(channel=st.sampled_from([CHANNEL, "C0OTHER001"]), ts=st.sampled_from([None, "", "1.2"]))
def test_thread_only_in_the_same_channel(channel: str, ts: str | None) -> None:
    found = thread_for(known(thread_ts=ts), channel)
    assert found == (ts or None if channel == CHANNEL else None)
    assert thread_for(None, channel) is None


@pytest.mark.parametrize(
    ("current", "problem", "expected"),
    [
        ("", None, {}),
        (None, "", {}),
        ("Bad date", "Bad date", {}),
        ("Bad date", None, {"Error": None}),
        ("", "no Bill number", {"Error": "no Bill number"}),
    ],
)
def test_error_field_written_only_when_it_changes(
    current: str | None, problem: str | None, expected: dict
) -> None:
    assert error_update(current, problem) == expected
