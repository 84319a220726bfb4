"""The donor history's plan (pure): what each run lists, and that runs in any order keep every first gift exact."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

from hypothesis import given, settings
from hypothesis import strategies as st

from coalition.summary.history import (
    CLOCK_SKEW,
    HistoryRead,
    HistoryState,
    after_read,
    plan_history_read,
)
from coalition.summary.weeks import IsoWeek, Window

W48 = Window.ending(IsoWeek(2026, 48))
NOW = datetime(2026, 11, 30, 13, tzinfo=UTC)
QUARTER = timedelta(days=90)


def test_no_history_is_read_from_scratch() -> None:
    assert plan_history_read(HistoryState(), W48, NOW, QUARTER) == HistoryRead(rebuild=True)


def test_a_kept_history_reads_only_what_changed_before_the_window() -> None:
    state = HistoryState(date(2026, 11, 23), NOW - timedelta(days=7), NOW - timedelta(days=30))
    plan = plan_history_read(state, W48, NOW, QUARTER)
    assert plan == HistoryRead(False, W48.first.monday, state.read_at, date(2026, 11, 23))
    after = after_read(state, plan, W48, NOW)
    assert after == HistoryState(date(2026, 11, 30), NOW - CLOCK_SKEW, state.built_at)


def test_a_history_that_stops_before_the_window_reads_the_gap() -> None:
    state = HistoryState(date(2026, 6, 1), NOW - timedelta(days=7), NOW - timedelta(days=30))
    assert plan_history_read(state, W48, NOW, QUARTER).read_from == date(2026, 6, 1)


def test_an_old_history_is_rebuilt() -> None:
    state = HistoryState(date(2026, 11, 23), NOW - timedelta(days=7), NOW - QUARTER)
    plan = plan_history_read(state, W48, NOW, QUARTER)
    assert plan.rebuild
    assert after_read(state, plan, W48, NOW).built_at == NOW


def test_rerunning_an_old_week_keeps_the_history_complete_to_its_later_end() -> None:
    state = HistoryState(date(2026, 11, 30), NOW - timedelta(days=1), NOW - timedelta(days=3))
    old = Window.ending(IsoWeek(2026, 30))
    plan = plan_history_read(state, old, NOW, QUARTER)
    assert not plan.rebuild and plan.changed_before == date(2026, 11, 30)
    assert after_read(state, plan, old, NOW).complete_before == date(2026, 11, 30)


# ---------------------------------------------------------------- runs in any order, gifts typed in late
@dataclass(frozen=True)
class Gift:
    donor: int
    day: date
    typed: int  # the hour it was typed into Airtable


def _listing(plan: HistoryRead, window: Window, gifts: list[Gift], at: int) -> list[Gift]:
    """What Airtable returns for the plan at hour `at`, as the formula says (queries.py)."""
    end = window.target.sunday + timedelta(days=1)
    seen = [g for g in gifts if g.typed <= at]
    if plan.rebuild:
        return [g for g in seen if g.day < end]
    lower = min(window.first.monday, plan.read_from or window.first.monday)
    since = _hour(plan.changed_since) if plan.changed_since else None
    return [
        g
        for g in seen
        if lower <= g.day < end
        or (since is not None and g.typed > since and g.day < (plan.changed_before or end))
    ]


def _hour(moment: datetime) -> float:
    return (moment - NOW).total_seconds() / 3600


gifts_typed = st.lists(
    st.builds(
        Gift,
        st.integers(0, 5),
        st.dates(date(2026, 1, 1), date(2026, 12, 31)),
        st.integers(0, 50),
    ),
    max_size=40,
)


@settings(max_examples=200, deadline=None)
@given(
    gifts=gifts_typed,
    runs=st.lists(st.tuples(st.integers(1, 52), st.integers(0, 50)), min_size=1, max_size=8),
)
def test_every_run_knows_each_window_donors_first_gift(
    gifts: list[Gift], runs: list[tuple[int, int]]
) -> None:
    """Runs for any weeks, at any hours, with gifts typed in late for any date: first gifts stay exact."""
    state, kept = HistoryState(), {}
    for week, hour in sorted(runs, key=lambda r: r[1]):
        window = Window.ending(IsoWeek(2026, week))
        now = NOW + timedelta(hours=hour) + CLOCK_SKEW
        plan = plan_history_read(state, window, now, QUARTER)
        # A listing taken at `now`: every gift typed up to this hour is in Airtable.
        listed = _listing(plan, window, gifts, hour)
        if plan.rebuild:
            kept = {}
        for g in listed:
            kept[g.donor] = min(kept.get(g.donor, g.day), g.day)
        state = after_read(state, plan, window, now)
        typed = [g for g in gifts if g.typed <= hour]
        for g in typed:
            if window.first.monday <= g.day <= window.target.sunday:
                truth = min(x.day for x in typed if x.donor == g.donor)
                assert kept[g.donor] == truth
