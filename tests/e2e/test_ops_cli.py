"""The operations commands as an admin types them: serve, deploy, setup, purge; clear refusals with exit code 2."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from coalition.settings import PROJECT_ROOT

COALITION = str(Path(sys.executable).with_name("coalition"))


def run(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    full = {k: v for k, v in os.environ.items() if k != "PREFECT_API_URL"}
    full.update({"COLUMNS": "250", **(env or {})})
    return subprocess.run(
        [COALITION, *args], capture_output=True, text=True, env=full, timeout=180, cwd=PROJECT_ROOT
    )


@pytest.mark.parametrize("command", [["deploy"], ["serve"], ["purge"]])
def test_help(command: list[str]) -> None:
    result = run(*command, "--help")
    assert result.returncode == 0 and "Usage:" in result.stdout


def test_serve_without_a_prefect_server_explains_how_to_start_one(tmp_path: Path) -> None:
    result = run("serve", env={"COALITION_VAR_DIR": str(tmp_path)})
    assert result.returncode == 2
    assert "prefect server start" in result.stderr and "PREFECT_API_URL" in result.stderr
    assert "Traceback" not in result.stderr


def test_deploy_to_a_server_that_is_not_there_is_a_clear_error(tmp_path: Path) -> None:
    result = run(
        "deploy",
        env={"COALITION_VAR_DIR": str(tmp_path), "PREFECT_API_URL": "http://127.0.0.1:9/api"},
    )
    assert result.returncode == 2, result.stderr
    assert "does not answer" in result.stderr and "Traceback" not in result.stderr


def test_deploy_dry_run_lists_the_deployments(tmp_path: Path) -> None:
    result = run("deploy", "--dry-run", env={"COALITION_VAR_DIR": str(tmp_path)})
    assert result.returncode == 0, result.stderr
    lines = [line for line in result.stdout.splitlines() if line.startswith("would deploy")]
    skipped = [line for line in result.stdout.splitlines() if line.startswith("skipped")]
    assert len(lines) + len(skipped) == 5
    assert all("America/New_York" in line and "pool 'coalition'" in line for line in lines)


def test_a_schedule_that_does_not_parse_stops_deploy_and_serve(tmp_path: Path) -> None:
    config = tmp_path / "config"
    shutil.copytree(PROJECT_ROOT / "config", config)
    (config / "schedules.yaml").write_text('alerts: "every 5 minutes"\n', encoding="utf-8")
    env = {"COALITION_CONFIG_DIR": str(config), "COALITION_VAR_DIR": str(tmp_path)}
    for command in (["deploy", "--dry-run"], ["serve"]):
        result = run(*command, env=env)
        assert result.returncode == 2
        assert "schedules.yaml: key 'alerts'" in result.stderr and "cron" in result.stderr


def test_setup_airtable_dry_run_against_the_sandbox(sandbox: Any, tmp_path: Path) -> None:
    from coalition.settings import settings

    sandbox.services["airtable"].create_base(settings().services.airtable.base)
    env = {"COALITION_SANDBOX_URL": sandbox.url, "COALITION_VAR_DIR": str(tmp_path)}
    result = run("setup", "airtable", "--dry-run", env=env)
    assert result.returncode == 0, result.stderr
    assert "would create table 'Members'" in result.stdout
    assert "Dry run: nothing changed." in result.stdout
    assert sandbox.writes() == []


def test_purge_is_a_dry_run_unless_told(tmp_path: Path) -> None:
    env = {
        "COALITION_VAR_DIR": str(tmp_path),
        "COALITION_DATABASE_URL": f"sqlite:///{tmp_path / 'ledger.sqlite3'}",
    }
    result = run("purge", env=env)
    assert result.returncode == 0, result.stderr
    assert "would remove" in result.stdout and "Dry run: nothing changed." in result.stdout
