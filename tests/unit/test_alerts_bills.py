"""Bill decisions: fingerprints, change lines, first sight, flip-flops, hearing reminders, wording (pure)."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from coalition.alerts.bills import (
    Bill,
    Change,
    Known,
    change_key,
    changes_between,
    decide,
    due_reminder,
    fingerprint,
    headline,
    hearing_day,
    next_step,
    parse_bill,
    problems,
    reminder_headline,
    reminder_key,
    tracked_values,
)
from coalition.outgoing import check_mentions
from coalition.templating import render_message, validate_blocks

TODAY = date(2026, 11, 20)
OFFSETS = [3, 1]


def bill(**changes) -> Bill:
    fields = {
        "record_id": "recBILL0000000001",
        "bill": "HB 2417",
        "jurisdiction": "Texas",
        "title": "Notario fraud protections",
        "position": "Support",
        "status": "In committee",
        "last_action": "Referred to State Affairs",
        "last_action_date": (TODAY - timedelta(days=20)).isoformat(),
        "next_hearing": "",
    }
    fields.update(changes)
    return Bill(**fields)


def known_for(b: Bill, **changes) -> Known:
    values = tracked_values(b)
    state = {"fingerprint": fingerprint(values), "values": values}
    state.update(changes)
    return Known(**state)


# ---------------------------------------------------------------- records
def test_parse_bill_reads_fields_and_strips_the_channel_hash() -> None:
    parsed = parse_bill(
        {
            "id": "recB",
            "fields": {
                "Bill": "SB 412",
                "Jurisdiction": "Texas",
                "Position": "Oppose",
                "Channel": "#organizing-southwest",
                "Next hearing": "2026-11-23",
            },
        }
    )
    assert parsed.label == "Texas SB 412"
    assert parsed.channel == "organizing-southwest"
    assert parsed.next_hearing == "2026-11-23" and parsed.status == ""


@pytest.mark.parametrize(
    ("changes", "problem"),
    [
        ({}, ""),
        ({"position": ""}, ""),  # awaiting review is not a problem
        ({"bill": ""}, "Bill is empty"),
        ({"position": "Maybe"}, "Position must be Support, Oppose or Watch"),
        ({"next_hearing": "next week"}, "Next hearing is not a date"),
        ({"last_action_date": "2026-13-45"}, "Last action date is not a date"),
    ],
)
def test_problems(changes, problem) -> None:
    found = problems(bill(**changes))
    assert (problem in found) if problem else found == ""


# ---------------------------------------------------------------- changes
def test_a_change_is_described_field_by_field() -> None:
    before = tracked_values(bill())
    after = tracked_values(bill(status="Passed House", next_hearing="2026-12-01"))
    lines = [c.line() for c in changes_between(before, after)]
    assert lines == ["Status: In committee -> Passed House", "Next hearing: (none) -> 2026-12-01"]


def test_first_sight_lines_show_where_the_bill_stands() -> None:
    lines = [c.line() for c in changes_between(None, tracked_values(bill()))]
    assert lines[0] == "Status: In committee"
    assert all("->" not in line for line in lines)
    assert Change("Next hearing", "2026-12-01", "").line() == "Next hearing: 2026-12-01 -> (none)"


@given(
    a=st.dictionaries(st.sampled_from(["Status", "Last action"]), st.text(max_size=5)),
    b=st.dictionaries(st.sampled_from(["Status", "Last action"]), st.text(max_size=5)),
)
def test_fingerprints_differ_exactly_when_there_are_changes(a: dict, b: dict) -> None:
    assert (fingerprint(a) != fingerprint(b)) == bool(changes_between(a, b))


# ---------------------------------------------------------------- decisions
def test_a_changed_bill_alerts_with_its_changes() -> None:
    old = bill()
    decision = decide(bill(status="Passed House"), known_for(old), TODAY, OFFSETS)
    assert decision.alert and decision.record and not decision.first_sight
    assert [c.line() for c in decision.changes] == ["Status: In committee -> Passed House"]


def test_an_unchanged_bill_does_nothing() -> None:
    decision = decide(bill(), known_for(bill()), TODAY, OFFSETS)
    assert not decision.alert and not decision.record and decision.reminder is None


@pytest.mark.parametrize(
    ("days_ago", "alert"),
    [(0, True), (1, True), (7, True), (8, False), (35, False), (-2, False)],
)
def test_first_sight_is_recorded_silently_unless_the_last_action_is_this_week(
    days_ago: int, alert: bool
) -> None:
    fresh = bill(last_action_date=(TODAY - timedelta(days=days_ago)).isoformat())
    decision = decide(fresh, None, TODAY, OFFSETS)
    assert decision.record
    assert decision.alert is alert
    assert decision.first_sight is alert


def test_first_sight_after_the_poller_moved_it_shows_the_change_from_the_record() -> None:
    before = bill()
    polled = bill(last_action="Placed on calendar", last_action_date="2026-11-19")
    decision = decide(polled, None, TODAY, OFFSETS, baseline=tracked_values(before))
    assert not decision.first_sight
    assert [c.line() for c in decision.changes] == [
        "Last action: Referred to State Affairs -> Placed on calendar",
        f"Last action date: {before.last_action_date} -> 2026-11-19",
    ]


def test_a_bill_flipping_back_and_forth_alerts_each_change_under_a_new_key() -> None:
    a, b = bill(), bill(status="Passed House")
    known = known_for(a)
    keys = []
    for current in (b, a, b):
        decision = decide(current, known, TODAY, OFFSETS)
        assert decision.alert
        keys.append(change_key(current.record_id, known.changes + 1))
        known = known_for(current, changes=known.changes + 1)
    assert len(set(keys)) == 3
    assert keys[0].endswith(":change:1") and keys[2].endswith(":change:3")


def test_a_bill_without_position_is_tracked_silently() -> None:
    review = bill(position="", last_action_date=TODAY.isoformat(), next_hearing="2026-11-21")
    decision = decide(review, None, TODAY, OFFSETS)
    assert decision.record and not decision.alert and decision.reminder is None


def test_a_malformed_bill_is_an_error_and_records_nothing() -> None:
    decision = decide(bill(bill=""), None, TODAY, OFFSETS)
    assert decision.error and not decision.record and not decision.alert


# ---------------------------------------------------------------- reminders
@pytest.mark.parametrize(
    ("days", "sent", "offset"),
    [
        (5, [], None),
        (4, [], None),
        (3, [], 3),
        (2, [], 3),  # the 3-day reminder, late
        (1, [], 1),
        (1, ["3"], 1),
        (3, ["3"], None),  # once
        (2, ["3"], None),
        (1, ["1"], None),
        (2, ["1"], None),  # never a "3 days" after the "1 day"
        (0, [], None),  # the hearing is today
        (-4, [], None),  # a past hearing
    ],
)
def test_due_reminder(days: int, sent: list[str], offset: int | None) -> None:
    hearing = TODAY + timedelta(days=days)
    tags = [f"{hearing.isoformat()}:{o}" for o in sent]
    found = due_reminder(hearing, TODAY, OFFSETS, tags)
    assert (found.offset if found else None) == offset
    if found:
        assert found.days == days


def test_a_moved_hearing_gets_its_own_reminders() -> None:
    old = TODAY + timedelta(days=1)
    new = TODAY + timedelta(days=3)
    assert due_reminder(new, TODAY, OFFSETS, [f"{old.isoformat()}:1"]).offset == 3


def test_reminders_come_with_decisions_even_without_a_change() -> None:
    upcoming = bill(next_hearing=(TODAY + timedelta(days=1)).isoformat())
    decision = decide(upcoming, known_for(upcoming), TODAY, OFFSETS)
    assert not decision.alert and decision.reminder.offset == 1
    assert reminder_key(upcoming.record_id, decision.reminder) == (
        f"bill:recBILL0000000001:hearing:{upcoming.next_hearing}:1"
    )
    done = known_for(upcoming, reminders_sent=(decision.reminder.tag,))
    assert decide(upcoming, done, TODAY, OFFSETS).reminder is None


# ---------------------------------------------------------------- words
@pytest.mark.parametrize(
    ("position", "words", "step"),
    [
        ("Support", "Texas HB 2417 moved: a bill we support", "help it pass"),
        ("Oppose", "Texas HB 2417 moved: a bill we oppose", "stop it"),
        ("Watch", "Texas HB 2417 changed: a bill we are watching", "no action"),
    ],
)
def test_wording_follows_the_position(position: str, words: str, step: str) -> None:
    b = bill(position=position)
    assert headline(b) == words
    assert step in next_step(b)
    assert "now" in headline(b, first_sight=True)


def test_reminder_words() -> None:
    reminder = due_reminder(TODAY + timedelta(days=1), TODAY, OFFSETS, [])
    assert reminder_headline(bill(position="Oppose"), reminder) == (
        "Hearing tomorrow: Texas HB 2417, a bill we oppose"
    )
    later = due_reminder(TODAY + timedelta(days=3), TODAY, OFFSETS, [])
    assert reminder_headline(bill(), later).startswith("Hearing in 3 days:")
    assert hearing_day(date(2026, 12, 3)) == "Thursday, December 3"


def test_templates_escape_bill_text_and_stay_within_limits() -> None:
    hostile = bill(title="<!channel> & <@U1> " + "x" * 4000, status="<b>", last_action="a > b")
    decision = decide(hostile, known_for(bill()), TODAY, OFFSETS)
    text, blocks = render_message(
        "slack/bill_change.json.j2",
        bill=hostile,
        headline=headline(hostile),
        lines=[c.line() for c in decision.changes],
        next_step=next_step(hostile),
        source_url="https://openstates.org/tx/bills/89/HB2417/",
    )
    validate_blocks(blocks)
    check_mentions(text, blocks)
    assert "Status: In committee -&gt; &lt;b&gt;" in blocks[1]["text"]["text"]
    reminder = due_reminder(TODAY + timedelta(days=3), TODAY, OFFSETS, [])
    text, blocks = render_message(
        "slack/hearing_reminder.json.j2",
        bill=hostile,
        headline=reminder_headline(hostile, reminder),
        hearing_day=hearing_day(reminder.hearing),
        next_step=next_step(hostile),
        source_url=None,
    )
    validate_blocks(blocks)
    check_mentions(text, blocks)
