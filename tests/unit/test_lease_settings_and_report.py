"""Lease lengths come from config (short by default); run reports say what waits in another run's hands."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from coalition.ledger.leases import HeldWork
from coalition.settings import PROJECT_ROOT, ConfigError, load_settings
from flows.reporting import RunReport, held_lines

SINCE = datetime(2026, 12, 7, 19, 52, 3, tzinfo=UTC)


def test_the_shipped_lease_is_a_run_s_deadline_not_a_quarter_hour() -> None:
    cfg = load_settings(PROJECT_ROOT / "config")
    assert cfg.schedules.leases.minutes == 5
    assert cfg.lease_length == timedelta(minutes=5)


def test_a_machine_may_shorten_the_lease(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("COALITION_LEASE_SECONDS", "2")
    assert load_settings(PROJECT_ROOT / "config").lease_length == timedelta(seconds=2)


def test_a_lease_that_is_not_a_positive_number_of_minutes_is_refused(tmp_path: Path) -> None:
    for name in PROJECT_ROOT.joinpath("config").iterdir():
        (tmp_path / name.name).write_bytes(name.read_bytes())
    (tmp_path / "schedules.yaml").write_text("leases: {minutes: 0}\n")
    with pytest.raises(ConfigError, match=r"leases\.minutes"):
        load_settings(tmp_path)


def test_a_report_says_how_much_waits_since_when_and_until_when() -> None:
    report = RunReport(flow="intake-routing")
    report.held = held_lines(
        [
            HeldWork("intake", 150, SINCE, SINCE + timedelta(minutes=5), False),
            HeldWork("notice", 1, SINCE, SINCE + timedelta(minutes=5), True),
        ]
    )
    lines = report.summary_lines()
    assert (
        "waiting: 150 intakes held by another run since 2026-12-07 19:52:03 UTC, "
        "taken over from 2026-12-07 19:57:03 UTC"
    ) in lines
    assert any(line.endswith("held past twice the lease, #ops-alerts told") for line in lines)
    assert "## Waiting on another run" in report.markdown()
    assert [r["name"] for r in report.table() if r["kind"] == "held"] == ["intake", "notice"]


def test_a_report_with_nothing_held_says_nothing_about_it() -> None:
    report = RunReport(flow="alerts")
    assert not any(line.startswith("waiting:") for line in report.summary_lines())
    assert "Waiting" not in report.markdown()
