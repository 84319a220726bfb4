"""Runs whose worker died: the automation `coalition deploy` creates, and the heartbeats every run of ours sends.

The automation itself is checked against a real Prefect server in
tests/e2e/test_prefect_zombies.py; here: its fields, that the server's own schema
accepts it, that creating it twice makes one, and that every way our flows run
sends a heartbeat every HEARTBEAT_SECONDS.
"""

from __future__ import annotations

import io
import os
from datetime import timedelta
from pathlib import Path
from typing import Any
from uuid import UUID, uuid4

import pytest
import yaml
from rich.console import Console

from coalition.settings import PROJECT_ROOT
from flows.serve import (
    HEARTBEAT_ENV,
    HEARTBEAT_SECONDS,
    ZOMBIE_AUTOMATION,
    deploy_all,
    ensure_zombie_automation,
    runner_heartbeat_seconds,
    serve_all,
    zombie_automation,
)

RUN_ENDED = {
    "prefect.flow-run.Completed",
    "prefect.flow-run.Failed",
    "prefect.flow-run.Cancelled",
    "prefect.flow-run.Crashed",
    "prefect.flow-run.TimedOut",
}


# ---------------------------------------------------------------- the automation
def test_the_automation_crashes_a_run_silent_for_three_heartbeats() -> None:
    from prefect.client.schemas.objects import StateType
    from prefect.events.actions import ChangeFlowRunState
    from prefect.events.schemas.automations import EventTrigger, Posture

    automation = zombie_automation()
    assert automation.name == ZOMBIE_AUTOMATION
    assert automation.enabled
    trigger = automation.trigger
    assert isinstance(trigger, EventTrigger)
    assert trigger.posture == Posture.Proactive
    assert trigger.after == {"prefect.flow-run.heartbeat"}
    assert trigger.expect == {"prefect.flow-run.heartbeat", *RUN_ENDED}
    assert trigger.threshold == 1
    assert trigger.within == timedelta(seconds=3 * HEARTBEAT_SECONDS) == timedelta(seconds=90)
    assert trigger.for_each == {"prefect.resource.id"}  # one window per flow run
    assert dict(trigger.match.items()) == {"prefect.resource.id": ["prefect.flow-run.*"]}
    # Only our runs: a run started elsewhere beats every 180 s by Prefect's default.
    assert dict(trigger.match_related.items()) == {
        "prefect.resource.role": ["tag"],
        "prefect.resource.id": ["prefect.tag.coalition"],
    }
    [action] = automation.actions
    assert isinstance(action, ChangeFlowRunState)
    assert action.state == StateType.CRASHED
    assert not action.force
    assert "stopped sending heartbeats" in (action.message or "")
    assert "90 s" in (action.message or "")


def test_the_window_follows_the_heartbeat_or_an_explicit_length() -> None:
    assert zombie_automation(heartbeat_seconds=60).trigger.within == timedelta(seconds=180)
    shorter = zombie_automation(within_seconds=40)
    assert shorter.trigger.within == timedelta(seconds=40)
    assert "40 s" in (shorter.actions[0].message or "")


def test_the_server_schema_accepts_the_automation() -> None:
    from prefect.server.events.schemas.automations import AutomationCore as ServerAutomation

    sent = zombie_automation().model_dump(mode="json")
    accepted = ServerAutomation.model_validate(sent)
    assert accepted.trigger.posture.value == "Proactive"
    assert accepted.trigger.within == timedelta(seconds=90)
    assert accepted.actions[0].type == "change-flow-run-state"


class FakeAutomations:
    """The automation calls of Prefect's sync client, kept in a dict."""

    def __init__(self) -> None:
        self.stored: dict[UUID, Any] = {}
        self.calls: list[str] = []

    def __enter__(self) -> FakeAutomations:
        return self

    def __exit__(self, *_: object) -> None:
        return None

    def read_automations_by_name(self, name: str) -> list[Any]:
        from prefect.events.schemas.automations import Automation

        return [
            Automation(id=key, **core.model_dump())
            for key, core in self.stored.items()
            if core.name == name
        ]

    def create_automation(self, automation: Any) -> UUID:
        self.calls.append("create")
        key = uuid4()
        self.stored[key] = automation
        return key

    def update_automation(self, automation_id: UUID, automation: Any) -> None:
        self.calls.append("update")
        self.stored[automation_id] = automation

    def delete_automation(self, automation_id: UUID) -> None:
        self.calls.append("delete")
        del self.stored[automation_id]


@pytest.fixture
def fake_client(monkeypatch: pytest.MonkeyPatch) -> FakeAutomations:
    import prefect.client.orchestration

    fake = FakeAutomations()
    monkeypatch.setattr(prefect.client.orchestration, "get_client", lambda **_: fake)
    return fake


def test_ensuring_twice_keeps_one_automation(fake_client: FakeAutomations) -> None:
    out = io.StringIO()
    console = Console(file=out, width=200)
    assert ensure_zombie_automation(console) == "created"
    assert ensure_zombie_automation(console) == "unchanged"
    assert len(fake_client.stored) == 1
    assert ensure_zombie_automation(console, within_seconds=40) == "updated"
    [stored] = fake_client.stored.values()
    assert stored.trigger.within == timedelta(seconds=40)
    assert fake_client.calls == ["create", "update"]
    assert f"created automation '{ZOMBIE_AUTOMATION}'" in out.getvalue()


def test_a_duplicate_from_two_deploys_at_once_is_removed(fake_client: FakeAutomations) -> None:
    fake_client.create_automation(zombie_automation())
    fake_client.create_automation(zombie_automation())
    assert ensure_zombie_automation(Console(file=io.StringIO())) == "unchanged"
    assert len(fake_client.stored) == 1


def test_deploy_dry_run_says_it_would_create_the_automation(
    monkeypatch: pytest.MonkeyPatch, env: Path
) -> None:
    monkeypatch.delenv("PREFECT_API_URL", raising=False)
    out = io.StringIO()
    deploy_all("coalition", Console(file=out, width=200), dry_run=True)
    assert (
        f"would create or update automation '{ZOMBIE_AUTOMATION}': a run tagged coalition "
        "with no heartbeat for 90 s is marked Crashed"
    ) in out.getvalue()


# ---------------------------------------------------------------- heartbeats
def test_work_pool_deployments_carry_the_heartbeat_whatever_the_worker() -> None:
    from coalition.settings import load_settings
    from flows.serve import deployment_specs, runner_deployment

    spec = deployment_specs(load_settings(PROJECT_ROOT / "config"), ["roster-sync"])[0]
    pooled = runner_deployment(spec, "coalition")
    assert pooled.job_variables == {"env": {HEARTBEAT_ENV: str(HEARTBEAT_SECONDS)}}
    assert not runner_deployment(spec).job_variables  # served: the runner sets its own


def test_prefect_yaml_deployments_carry_the_same_heartbeat() -> None:
    project = yaml.safe_load((PROJECT_ROOT / "prefect.yaml").read_text(encoding="utf-8"))
    for deployment in project["deployments"]:
        env = deployment["work_pool"]["job_variables"]["env"]
        assert env == {HEARTBEAT_ENV: str(HEARTBEAT_SECONDS)}, deployment["entrypoint"]


@pytest.fixture
def unset_heartbeat(monkeypatch: pytest.MonkeyPatch) -> Any:
    """Prefect's settings as if the operator had set no heartbeat frequency."""
    from prefect.context import SettingsContext, get_settings_context
    from prefect.settings import Settings

    for name in (HEARTBEAT_ENV, "PREFECT_RUNNER_HEARTBEAT_FREQUENCY"):
        monkeypatch.delenv(name, raising=False)
    settings = Settings()
    assert "heartbeat_frequency" not in settings.flows.model_fields_set
    with SettingsContext(profile=get_settings_context().profile, settings=settings):
        yield
    monkeypatch.delenv(HEARTBEAT_ENV, raising=False)


def test_serve_sets_the_heartbeat_when_unset(unset_heartbeat: Any) -> None:
    assert runner_heartbeat_seconds() == HEARTBEAT_SECONDS
    assert os.environ[HEARTBEAT_ENV] == str(HEARTBEAT_SECONDS)  # and its flow runs inherit it


def test_serve_keeps_the_operators_heartbeat_and_warns_when_too_slow() -> None:
    from prefect.settings import PREFECT_FLOWS_HEARTBEAT_FREQUENCY, temporary_settings

    out = io.StringIO()
    with temporary_settings({PREFECT_FLOWS_HEARTBEAT_FREQUENCY: 30}):
        assert runner_heartbeat_seconds(Console(file=out)) == 30
    assert out.getvalue() == ""
    with temporary_settings({PREFECT_FLOWS_HEARTBEAT_FREQUENCY: 120}):
        assert runner_heartbeat_seconds(Console(file=out, width=300)) == 120
    assert f"{HEARTBEAT_ENV}=120" in out.getvalue()
    assert "may mark this machine's runs Crashed" in out.getvalue()


def test_serve_all_gives_its_runner_the_heartbeat(
    unset_heartbeat: Any, monkeypatch: pytest.MonkeyPatch, env: Path
) -> None:
    import flows.serve

    served: dict[str, Any] = {"deployments": []}

    class FakeRunner:
        def add_deployment(self, deployment: Any) -> None:
            served["deployments"].append(deployment)

        async def start(self) -> None:
            return None

    def fake_runner(console: Any, **kwargs: Any) -> FakeRunner:
        served.update(kwargs)
        return FakeRunner()

    monkeypatch.setattr(flows.serve, "bounded_runner", fake_runner)
    monkeypatch.setattr(flows.serve, "require_server", lambda command: "http://test/api")
    monkeypatch.setattr(flows.serve, "warn_missing_secrets", lambda cfg, console: None)
    monkeypatch.setattr(flows.serve, "ensure_shared_budgets", lambda cfg, console: None)
    ensured: list[bool] = []
    monkeypatch.setattr(
        flows.serve, "ensure_zombie_automation", lambda console: ensured.append(True)
    )
    serve_all(Console(file=io.StringIO()))
    assert served["deployments"], "nothing served"
    assert ensured == [True]  # a dead `serve` leaves no run Running either
    assert served["heartbeat_seconds"] == HEARTBEAT_SECONDS
    assert os.environ[HEARTBEAT_ENV] == str(HEARTBEAT_SECONDS)
