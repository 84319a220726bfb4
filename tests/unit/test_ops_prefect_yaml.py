"""prefect.yaml and `coalition deploy` describe the same deployments, both taken from config/."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from coalition.settings import PROJECT_ROOT, ConfigError, load_settings
from flows.registry import FLOWS
from flows.serve import (
    DEPLOYMENT_NAME,
    ONE_AT_A_TIME,
    WORK_POOL,
    DeploymentSpec,
    deployment_specs,
    schedule_of,
)

PREFECT_YAML = PROJECT_ROOT / "prefect.yaml"


def _yaml() -> dict:
    return yaml.safe_load(PREFECT_YAML.read_text(encoding="utf-8"))


def _by_entrypoint() -> dict[str, dict]:
    return {d["entrypoint"]: d for d in _yaml()["deployments"]}


@pytest.fixture(scope="module")
def specs() -> list[DeploymentSpec]:
    return deployment_specs(load_settings(PROJECT_ROOT / "config"))


def test_every_flow_has_exactly_one_deployment() -> None:
    entrypoints = [d["entrypoint"] for d in _yaml()["deployments"]]
    assert sorted(entrypoints) == sorted(f"flows.deployed.{e.attribute}" for e in FLOWS.values())


def test_schedules_and_timezone_match_config(specs: list[DeploymentSpec]) -> None:
    deployed = _by_entrypoint()
    for spec in specs:
        [schedule] = deployed[spec.entrypoint]["schedules"]
        assert (schedule["cron"], schedule["timezone"]) == (spec.cron, spec.timezone), spec.flow


def test_the_issue_defaults_hold(specs: list[DeploymentSpec]) -> None:
    crons = {s.flow: (s.cron, s.timezone) for s in specs}
    assert crons == {
        "roster-sync": ("*/15 * * * *", "America/New_York"),
        "intake-routing": ("*/5 * * * *", "America/New_York"),
        "alerts": ("*/5 * * * *", "America/New_York"),
        "referral-follow-up": ("0 * * * *", "America/New_York"),
        "weekly-summary": ("0 8 * * 1", "America/New_York"),
    }


def test_names_tags_pool_and_one_run_at_a_time_match(specs: list[DeploymentSpec]) -> None:
    deployed = _by_entrypoint()
    for spec in specs:
        entry = deployed[spec.entrypoint]
        assert entry["name"] == DEPLOYMENT_NAME
        assert entry["work_pool"]["name"] == WORK_POOL
        assert entry["concurrency_limit"] == ONE_AT_A_TIME
        assert tuple(entry["tags"]) == spec.tags
        assert entry["description"] == spec.description


def test_workers_import_the_installed_project() -> None:
    from flows.deployed import PULL_STEP
    from flows.serve import runner_deployment

    data = _yaml()
    assert data["pull"] == [PULL_STEP] and data["build"] is None and data["push"] is None
    spec = deployment_specs(load_settings(PROJECT_ROOT / "config"), ["roster-sync"])[0]
    assert runner_deployment(spec).storage.to_pull_step() == [PULL_STEP]
    # Module paths (no ':'): nothing to download, the hooks come with the import.
    assert all(":" not in d["entrypoint"] for d in data["deployments"])


def test_deployed_entrypoints_carry_the_alert_hooks() -> None:
    import flows.deployed
    from flows.health import notify_failure, notify_recovery

    for entry in FLOWS.values():
        flow = getattr(flows.deployed, entry.attribute)
        assert flow.name == entry.name
        assert notify_failure in flow.on_failure_hooks
        assert notify_failure in flow.on_crashed_hooks
        assert notify_recovery in flow.on_completion_hooks


def test_unknown_entrypoint_is_an_attribute_error() -> None:
    import flows.deployed

    with pytest.raises(AttributeError):
        _ = flows.deployed.no_such_flow


def _config_with(tmp_path: Path, schedules: str, timezone: str = "America/Chicago") -> Path:
    folder = tmp_path / "config"
    folder.mkdir()
    (folder / "schedules.yaml").write_text(schedules, encoding="utf-8")
    (folder / "services.yaml").write_text(f"timezone: {timezone}\n", encoding="utf-8")
    return folder


def test_specs_follow_an_edited_config(tmp_path: Path) -> None:
    cfg = load_settings(_config_with(tmp_path, 'roster-sync: "*/30 * * * *"\n'))
    spec = next(s for s in deployment_specs(cfg) if s.flow == "roster-sync")
    assert (spec.cron, spec.timezone) == ("*/30 * * * *", "America/Chicago")
    schedule = schedule_of(spec)
    assert (schedule.cron, schedule.timezone) == ("*/30 * * * *", "America/Chicago")


def test_a_schedule_that_does_not_parse_is_named_with_its_file(tmp_path: Path) -> None:
    with pytest.raises(ConfigError) as caught:
        load_settings(_config_with(tmp_path, 'alerts: "every five minutes"\n'))
    message = str(caught.value)
    assert "schedules.yaml" in message and "alerts" in message and "cron" in message


@pytest.mark.parametrize("cron", ["61 * * * *", "* * * *", "*/5 * * * * * * *"])
def test_prefect_refusing_a_schedule_is_a_config_error(cron: str) -> None:
    spec = DeploymentSpec("alerts", "flows.deployed.alerts", cron, "America/New_York", "", ())
    with pytest.raises(ConfigError, match=r"schedules\.yaml: key 'alerts'"):
        schedule_of(spec)


def test_the_pull_step_moves_into_the_project(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    from flows.deployed import enter_project

    monkeypatch.chdir(tmp_path)
    assert enter_project() == {"directory": str(PROJECT_ROOT)}
    assert Path.cwd() == PROJECT_ROOT
