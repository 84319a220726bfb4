"""Flow runs from Slack: local runs report back, deployment runs are named and followed, status has a source."""

from __future__ import annotations

import threading
import uuid
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from types import SimpleNamespace
from typing import Any

import pytest

from bot.flowruns import FlowRunner, FlowStartError, RunOutcome, report_lines, run_url
from coalition.ledger import open_ledger, utcnow
from coalition.ledger.tables.common import FlowHealth


@dataclass
class Entry:
    function: Any
    broken: bool = False

    def load(self) -> Any:
        if self.broken:
            raise ImportError("flows.weekly_summary")
        return self.function


class Report:
    def summary_lines(self) -> list[str]:
        return ["roster-sync: 3 changes"]


def runner(**entries: Any) -> FlowRunner:
    return FlowRunner(registry=entries, api_url="", executor=ThreadPoolExecutor(2))


def run_local(flows: FlowRunner, name: str, params: dict) -> RunOutcome:
    outcomes: list[RunOutcome] = []
    done = threading.Event()
    started = flows.start(name, params, lambda o: (outcomes.append(o), done.set()))
    assert started.mode == "local" and done.wait(10)
    return outcomes[0]


def test_a_local_run_reports_its_summary() -> None:
    calls = []
    flows = runner(**{"roster-sync": Entry(lambda **p: (calls.append(p), Report())[1])})
    outcome = run_local(flows, "roster-sync", {"full": True})
    assert (outcome.ok, outcome.state, outcome.lines) == (
        True,
        "Completed",
        ("roster-sync: 3 changes",),
    )
    assert calls == [{"full": True}]


def test_a_failed_local_run_names_only_the_error_class() -> None:
    def broken() -> None:
        raise RuntimeError("record recXYZ: Jane Doe's phone is wrong")

    outcome = run_local(runner(alerts=Entry(broken)), "alerts", {})
    assert (outcome.ok, outcome.state) == (False, "Failed (RuntimeError)")
    assert "Jane" not in repr(outcome)


def test_unknown_and_unloadable_flows_cannot_start() -> None:
    flows = runner(**{"weekly-summary": Entry(None, broken=True)})
    with pytest.raises(FlowStartError, match="unknown flow"):
        flows.start("nope", {}, lambda o: None)
    with pytest.raises(FlowStartError, match="could not be loaded"):
        flows.start("weekly-summary", {}, lambda o: None)


def test_status_without_prefect_shows_own_runs_and_ledger_health(tmp_path: Any) -> None:
    ledger = open_ledger(f"sqlite:///{tmp_path / 'ledger.sqlite3'}")
    with ledger.session() as session:
        session.add(
            FlowHealth(flow="alerts", state="failing", failing_since=utcnow(), updated_at=utcnow())
        )
    flows = runner(
        **{
            "roster-sync": Entry(lambda: Report()),
            "alerts": Entry(None),
            "weekly-summary": Entry(None),
        }
    )
    run_local(flows, "roster-sync", {})
    rows, source = flows.last_runs(ledger)
    states = {r.flow: r.state for r in rows}
    assert states == {
        "roster-sync": "Completed",
        "alerts": "failing since",
        "weekly-summary": "no run yet",
    }
    assert "no Prefect API configured" in source


class FakeState:
    def __init__(self, name: str) -> None:
        self.name = name

    def is_final(self) -> bool:
        return self.name in {"Completed", "Failed"}

    def is_completed(self) -> bool:
        return self.name == "Completed"


class FakeClient:
    def __init__(self, states: list[str]) -> None:
        self.states = states

    def __enter__(self) -> FakeClient:
        return self

    def __exit__(self, *exc: Any) -> None:
        return None

    def read_flow_run(self, flow_run_id: Any) -> Any:
        return SimpleNamespace(state=FakeState(self.states.pop(0)))


def test_a_deployment_run_is_started_by_name_and_followed(monkeypatch: pytest.MonkeyPatch) -> None:
    import prefect.client.orchestration as orchestration
    import prefect.deployments as deployments

    run_id = uuid.uuid4()
    started: list[tuple] = []

    def fake_run_deployment(name: str, **kwargs: Any) -> Any:
        started.append((name, kwargs))
        return SimpleNamespace(id=run_id, name="brave-otter")

    monkeypatch.setattr(deployments, "run_deployment", fake_run_deployment)
    monkeypatch.setattr(
        orchestration, "get_client", lambda sync_client: FakeClient(["Running", "Completed"])
    )
    flow = SimpleNamespace(name="weekly-summary")
    flows = FlowRunner(
        registry={"weekly-summary": Entry(flow)},
        api_url="http://prefect:4200/api",
        executor=ThreadPoolExecutor(1),
        poll_seconds=0.01,
    )
    outcomes: list[RunOutcome] = []
    done = threading.Event()
    result = flows.start(
        "weekly-summary", {"week": "2026-W09"}, lambda o: (outcomes.append(o), done.set())
    )
    assert done.wait(10)
    assert started == [
        (
            "weekly-summary/coalition",
            {"parameters": {"week": "2026-W09"}, "timeout": 0, "as_subflow": False},
        )
    ]
    assert (result.mode, result.name, result.url) == (
        "deployment",
        "brave-otter",
        f"http://prefect:4200/runs/flow-run/{run_id}",
    )
    assert (outcomes[0].ok, outcomes[0].state) == (True, "Completed")


def test_a_deployment_prefect_refuses_is_a_clear_error(monkeypatch: pytest.MonkeyPatch) -> None:
    import prefect.deployments as deployments

    def refuse(name: str, **kwargs: Any) -> Any:
        raise ValueError("Deployment not found")

    monkeypatch.setattr(deployments, "run_deployment", refuse)
    flows = FlowRunner(
        registry={"alerts": Entry(SimpleNamespace(name="alerts"))}, api_url="http://p/api"
    )
    with pytest.raises(FlowStartError, match="coalition deploy"):
        flows.start("alerts", {}, lambda o: None)


def test_run_urls(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("PREFECT_UI_URL", raising=False)
    assert run_url("abc", "http://127.0.0.1:4200/api") == "http://127.0.0.1:4200/runs/flow-run/abc"
    monkeypatch.setenv("PREFECT_UI_URL", "https://prefect.example.org/")
    assert run_url("abc", "http://x/api") == "https://prefect.example.org/runs/flow-run/abc"
    monkeypatch.delenv("PREFECT_UI_URL")
    monkeypatch.delenv("PREFECT_API_URL", raising=False)
    assert run_url("abc") == ""


def test_report_lines_tolerate_odd_results() -> None:
    assert report_lines(None) == ()
    assert report_lines(Report()) == ("roster-sync: 3 changes",)
