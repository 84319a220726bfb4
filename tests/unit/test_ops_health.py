"""Failure and recovery alerts: what they say, and that they never say what an exception said."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from coalition.privacy import guard
from flows.health import (
    ADVICE,
    CRASHED,
    RunRef,
    advice_for,
    error_class,
    failure_text,
    recovery_text,
    with_health_hooks,
)


class AirtableUnavailable(Exception):
    pass


@dataclass
class FakeState:
    """The parts of a Prefect state the hooks read."""

    outcome: Any = None
    message: str | None = None
    crashed: bool = False
    calls: list[str] = field(default_factory=list)

    def is_crashed(self) -> bool:
        return self.crashed

    def result(self, raise_on_failure: bool = True) -> Any:
        if isinstance(self.outcome, Exception) and raise_on_failure:
            raise self.outcome
        return self.outcome


RUN = RunRef("roster-sync", "sly-otter", "http://127.0.0.1:4200/runs/flow-run/1f0e")


@pytest.mark.parametrize(
    ("error", "expected"),
    [
        ("ConfigError", ADVICE["ConfigError"]),
        ("AirtableUnavailable", ADVICE["ServiceUnavailable"]),
        ("ServiceUnavailable", ADVICE["ServiceUnavailable"]),
        ("SheetNotFound", "renamed"),
        ("AirtableFieldError", "renamed"),
        ("ChannelNotFound", "renamed"),
        ("AirtableAuthError", "credentials"),
        ("PIIError", "privacy guard"),
        ("integrations.slack.SlackPostError", "Slack refused"),
        (CRASHED, "process died"),
        ("KeyError", "coalition run roster-sync --dry-run"),
    ],
)
def test_advice_by_error_class(error: str, expected: str) -> None:
    assert expected in advice_for(error, "roster-sync")


def test_failure_message_names_flow_run_error_and_advice() -> None:
    text = failure_text(RUN, "AirtableUnavailable")
    assert "*roster-sync* failed" in text
    assert "<http://127.0.0.1:4200/runs/flow-run/1f0e|sly-otter>" in text
    assert "`AirtableUnavailable`" in text
    assert "What to try:" in text and "next scheduled run" in text
    guard.check_slack_message(text, None)


def test_failure_message_without_a_dashboard_link() -> None:
    text = failure_text(RunRef("alerts", "brave-fox"), "ConfigError")
    assert "(run brave-fox)" in text and "<" not in text.split("\n")[0]


def test_recovery_message_says_since_when_in_the_org_timezone() -> None:
    since = datetime(2026, 11, 23, 14, 5, tzinfo=UTC)
    text = recovery_text(RUN, since, "America/New_York")
    assert "*roster-sync* recovered" in text
    assert "2026-11-23 09:05 EST" in text
    guard.check_slack_message(text, None)


def test_error_class_is_the_exception_class_never_its_message() -> None:
    state = FakeState(AirtableUnavailable("Rosa Mendez rosa@example.org 555-201-3344"))
    assert error_class(state) == "AirtableUnavailable"


def test_error_class_falls_back_to_the_state_message_class_only() -> None:
    state = FakeState(
        None, "Flow run encountered an exception: integrations.http.ServiceUnavailable: x@y.org"
    )
    assert error_class(state) == "ServiceUnavailable"


def test_error_class_of_a_crash() -> None:
    state = FakeState(None, "Flow run infrastructure exited with non-zero status code -9", True)
    assert error_class(state) == CRASHED


def test_error_class_when_nothing_is_known() -> None:
    assert error_class(FakeState(None, None)) == "unknown error"


@given(st.text(min_size=1, max_size=200))
def test_no_exception_text_ever_reaches_the_alert(secret: str) -> None:
    state = FakeState(AirtableUnavailable(secret), f"encountered an exception: {secret}")
    # Whatever the exception said, the alert is word for word the same.
    assert failure_text(RUN, error_class(state)) == failure_text(RUN, "AirtableUnavailable")


@given(st.text(max_size=120))
def test_run_names_cannot_inject_slack_markup(name: str) -> None:
    text = failure_text(RunRef("alerts", name, None), "ConfigError")
    first_line = text.split("\n")[0]
    assert "<" not in first_line and ">" not in first_line and "!" not in first_line


def test_hooks_are_attached_once() -> None:
    from prefect import flow

    @flow(name="ops-probe")
    def probe() -> int:
        return 1

    hooked = with_health_hooks(with_health_hooks(probe))
    assert len(hooked.on_failure_hooks) == 1
    # a crashed run gives its leases back, then ops hear of it: each hook once
    assert [h.__name__ for h in hooked.on_crashed_hooks] == ["release_on_crash", "notify_failure"]
    assert len(hooked.on_completion_hooks) == 1
    assert hooked.name == "ops-probe"
    assert probe.on_failure_hooks == []  # the original is left alone
