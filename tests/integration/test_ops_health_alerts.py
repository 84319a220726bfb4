"""Failure alerts for real: a flow run with Airtable down tells #ops-alerts once, and once again when it recovers.

The ledger side (one alert per failure streak, exactly once even when two runs fail
together) runs on SQLite and, when COALITION_TEST_DATABASE_URL is set, on a
PostgreSQL database of its own.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from ops_helpers import fresh_ledger

from coalition.ledger import Ledger
from coalition.ledger.flow_health import (
    HEALTHY,
    Streak,
    mark_failing,
    mark_healthy,
    record_alert,
)
from coalition.ledger.tables.common import FlowHealth
from coalition.privacy import guard
from flows.health import with_health_hooks

PG_URL = os.environ.get("COALITION_TEST_DATABASE_URL")
T0 = datetime(2026, 11, 23, 14, 0, tzinfo=UTC)


# ---------------------------------------------------------------- the ledger side
@pytest.fixture(params=["sqlite", "postgresql"])
def ledger(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Ledger]:
    with fresh_ledger(request.param, tmp_path) as opened:
        yield opened


def test_a_failure_streak_is_announced_once_and_its_end_once(ledger: Ledger) -> None:
    assert mark_healthy(ledger, "alerts", T0) is None  # first sight: healthy, nothing to say
    streak = mark_failing(ledger, "alerts", T0)
    assert streak == Streak(T0)
    record_alert(ledger, "alerts", streak, "1700000000.000100")
    assert mark_failing(ledger, "alerts", T0 + timedelta(minutes=5)) is None
    assert mark_failing(ledger, "alerts", T0 + timedelta(minutes=10)) is None
    ended = mark_healthy(ledger, "alerts", T0 + timedelta(minutes=15))
    assert ended == Streak(T0, "1700000000.000100")
    assert mark_healthy(ledger, "alerts", T0 + timedelta(minutes=20)) is None
    with ledger.session() as session:
        row = session.get(FlowHealth, "alerts")
        assert (row.state, row.failing_since, row.alert_ts) == (HEALTHY, None, None)
    later = T0 + timedelta(hours=1)
    assert mark_failing(ledger, "alerts", later) == Streak(later)  # a new streak, a new alert


def test_an_alert_that_could_not_be_posted_is_owed_not_forgotten(ledger: Ledger) -> None:
    first = mark_failing(ledger, "weekly-summary", T0)
    assert first == Streak(T0)
    # Slack was down too: the next failure tries the same alert (same key) again.
    assert mark_failing(ledger, "weekly-summary", T0 + timedelta(hours=1)) == Streak(T0)
    # Nobody heard it broke, so nobody is told it mended.
    assert mark_healthy(ledger, "weekly-summary", T0 + timedelta(hours=2)) is None


def test_flows_are_tracked_separately(ledger: Ledger) -> None:
    assert mark_failing(ledger, "alerts", T0) is not None
    assert mark_failing(ledger, "roster-sync", T0) is not None
    assert mark_healthy(ledger, "roster-sync", T0) is None  # its alert was never recorded


def test_two_runs_failing_at_once_start_one_streak(ledger: Ledger) -> None:
    mark_healthy(ledger, "intake-routing", T0)
    results: list[Streak | None] = []
    barrier = threading.Barrier(4)

    def fail() -> None:
        barrier.wait()
        results.append(mark_failing(ledger, "intake-routing", datetime.now(UTC)))

    threads = [threading.Thread(target=fail) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert len(results) == 4
    assert len([r for r in results if r is not None]) == 1, results


# ---------------------------------------------------------------- real flow runs
def _probe() -> Any:
    from prefect import flow

    from coalition.settings import settings
    from integrations.airtable import open_base
    from integrations.clients import airtable_api

    @flow(name="ops-health-probe", persist_result=False)
    def ops_health_probe() -> str:
        cfg = settings()
        return open_base(airtable_api(cfg), cfg.services.airtable.base).id

    return with_health_hooks(ops_health_probe)


def _artifacts_of(flow_run_id: Any) -> tuple[Any, Any]:
    """(markdown report, counts table) a flow run left."""
    from prefect.client.orchestration import get_client
    from prefect.client.schemas.filters import ArtifactFilter, ArtifactFilterFlowRunId

    with get_client(sync_client=True) as client:
        found = client.read_artifacts(
            artifact_filter=ArtifactFilter(flow_run_id=ArtifactFilterFlowRunId(any_=[flow_run_id]))
        )
    by_type = {a.type: a for a in found}
    return by_type["markdown"], by_type["table"]


def _ops_messages(sandbox: Any) -> list[dict[str, Any]]:
    slack = sandbox.services["slack"]
    channel = slack.channel_by_name("ops-alerts")
    return slack.messages(channel["id"]) if channel else []


def test_a_failed_run_alerts_once_and_the_recovery_once(demo: Any, prefect_api: str) -> None:
    probe = _probe()
    demo.sandbox.faults.add(kind="5xx", service="airtable", p=1.0)

    first = probe(return_state=True)
    assert first.is_failed()
    [alert] = _ops_messages(demo)
    text = alert["text"]
    assert "*ops-health-probe* failed" in text
    assert "`AirtableUnavailable`" in text
    assert "What to try:" in text and "next scheduled run" in text
    assert "503" not in text and "Coalition" not in text  # nothing of the exception's text
    guard.check_slack_message(text, alert.get("blocks"))

    # Issue 17: the failed run ends with its report artifact in the dashboard: error, what to try.
    report, counts = _artifacts_of(first.state_details.flow_run_id)
    assert report.key == "ops-health-probe-report" and counts.key == "ops-health-probe-counts"
    assert report.data.startswith("# ops-health-probe — failed")
    assert "**Error:** `AirtableUnavailable`" in report.data
    assert "## What to try\nA service was down" in report.data and "503" not in report.data

    second = probe(return_state=True)
    assert second.is_failed()
    assert len(_ops_messages(demo)) == 1, "a failure streak alerts once"
    assert _artifacts_of(second.state_details.flow_run_id)[0].data == report.data  # every run

    demo.sandbox.faults.clear()
    third = probe(return_state=True)
    assert third.is_completed()
    messages = _ops_messages(demo)
    assert len(messages) == 2
    recovery = messages[-1]["text"] if "recovered" in messages[-1]["text"] else messages[0]["text"]
    assert "*ops-health-probe* recovered" in recovery and "failing since" in recovery
    guard.check_slack_message(recovery, None)

    assert probe(return_state=True).is_completed()
    assert len(_ops_messages(demo)) == 2, "a healthy flow says nothing"


def test_a_run_that_stood_aside_does_not_announce_a_recovery(demo: Any, prefect_api: str) -> None:
    """An alerts run that found another holding the lease did nothing: the streak goes on."""
    from prefect import flow

    from flows.reporting import RunReport

    probe = _probe()
    demo.sandbox.faults.add(kind="5xx", service="airtable", p=1.0)
    assert probe(return_state=True).is_failed()
    demo.sandbox.faults.clear()

    @flow(name="ops-health-probe", persist_result=False)
    def stood_aside() -> RunReport:
        return RunReport(flow="ops-health-probe", stood_aside=True)

    assert with_health_hooks(stood_aside)(return_state=True).is_completed()
    assert len(_ops_messages(demo)) == 1, "no recovery: nothing ran"
    assert probe(return_state=True).is_completed()
    assert len(_ops_messages(demo)) == 2  # the real recovery


def test_an_alert_carries_no_personal_data_even_when_the_exception_does(
    demo: Any, prefect_api: str
) -> None:
    from prefect import flow

    person = _a_demo_contact(demo.services["airtable"])

    @flow(name="ops-leaky-probe", persist_result=False)
    def leaky() -> None:
        raise LookupError(f"no partner for {person['Name']} <{person['Email']}>")

    state = with_health_hooks(leaky)(return_state=True)
    assert state.is_failed()
    [alert] = [m for m in _ops_messages(demo) if "ops-leaky-probe" in m["text"]]
    assert person["Name"] not in alert["text"] and person["Email"] not in alert["text"]
    assert "`LookupError`" in alert["text"]


def _a_demo_contact(airtable: Any) -> dict[str, str]:
    """A seeded contact's name and email, read from the sandbox's Airtable model."""
    for base in airtable.bases.values():
        for table in base.tables.values():
            if table.name != "Contacts":
                continue
            name_id, email_id = table.by_name["Name"], table.by_name["Email"]
            for record in table.records.values():
                if record.fields.get(name_id) and record.fields.get(email_id):
                    return {"Name": record.fields[name_id], "Email": record.fields[email_id]}
    raise AssertionError("the demo seed has no contact with a name and an email")
