"""The `coalition` command as a person runs it: help everywhere, clear errors with exit code 2."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from coalition.settings import PROJECT_ROOT

COALITION = str(Path(sys.executable).with_name("coalition"))

COMMANDS = [
    [],
    ["run"],
    ["demo"],
    ["doctor"],
    ["serve"],
    ["purge"],
    ["sandbox"],
    ["sandbox", "serve"],
    ["sandbox", "slash"],
    ["sandbox", "click"],
    ["slack"],
    ["slack", "serve"],
    ["setup"],
    ["setup", "airtable"],
    ["setup", "sheets"],
    ["setup", "discover"],
    ["report"],
    ["report", "needs"],
]


def cli(
    *args: str, env: dict[str, str] | None = None, timeout: float = 120
) -> subprocess.CompletedProcess[str]:
    full_env = {**os.environ, **(env or {})}
    full_env.pop("COALITION_SANDBOX_URL", None)
    return subprocess.run(
        [COALITION, *args],
        capture_output=True,
        text=True,
        env=full_env,
        timeout=timeout,
        cwd=PROJECT_ROOT,
    )


@pytest.mark.parametrize("command", COMMANDS, ids=lambda c: " ".join(c) or "coalition")
def test_every_command_has_help(command: list[str]) -> None:
    result = cli(*command, "--help")
    assert result.returncode == 0, result.stderr
    assert "Usage:" in result.stdout


def test_unknown_flow_is_a_clear_error() -> None:
    result = cli("run", "no-such-flow")
    assert result.returncode == 2
    assert "unknown flow 'no-such-flow'" in result.stderr
    assert "Traceback" not in result.stderr + result.stdout


@pytest.mark.parametrize(
    ("file", "text", "needle"),
    [
        ("routing.yaml", "mode: sometimes\n", "key 'mode' has 'sometimes'"),
        ("services.yaml", "slack: [not, a, mapping]\n", "services.yaml"),
        ("schedules.yaml", "alerts: '61 * * * *'\n", "cron"),
    ],
)
def test_bad_config_exits_2_naming_file_and_key(
    tmp_path: Path, file: str, text: str, needle: str
) -> None:
    config = tmp_path / "config"
    shutil.copytree(PROJECT_ROOT / "config", config)
    (config / file).write_text(text)
    result = cli("run", "roster-sync", env={"COALITION_CONFIG_DIR": str(config)})
    assert result.returncode == 2
    assert needle in " ".join(result.stderr.split())
    assert "Traceback" not in result.stderr + result.stdout


def test_doctor_with_no_credentials_says_what_to_fix(tmp_path: Path) -> None:
    result = cli(
        "doctor",
        env={
            "COALITION_VAR_DIR": str(tmp_path),
            "AIRTABLE_TOKEN": "",
            "SLACK_BOT_TOKEN": "",
            "GOOGLE_SERVICE_ACCOUNT": "",
        },
    )
    assert result.returncode == 2
    out = " ".join(result.stdout.split())
    assert "AIRTABLE_TOKEN" in out
    assert "Traceback" not in result.stdout + result.stderr
