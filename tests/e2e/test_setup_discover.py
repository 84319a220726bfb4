"""`coalition setup discover` through the CLI against the sandbox: exit codes, nothing personal out, and day one on the foreign seed."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

from coalition.settings import PROJECT_ROOT
from sandbox.seed import foreign
from sandbox.seed.apply import personal_values

COALITION = str(Path(sys.executable).with_name("coalition"))


def _config(tmp_path: Path, name: str = "config") -> Path:
    folder = tmp_path / name
    shutil.copytree(PROJECT_ROOT / "config", folder)
    return folder


def cli(url: str, config: Path, var: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {
        **os.environ,
        "COALITION_SANDBOX_URL": url,
        "COALITION_CONFIG_DIR": str(config),
        "COALITION_VAR_DIR": str(var),
        "COALITION_DATABASE_URL": f"sqlite:///{var / 'ledger.sqlite3'}",
        "COALITION_TIME_SCALE": "1000",
        # One Prefect home per test, so each run's temporary server finds its database
        # migrated; a loaded machine may take minutes to start that server.
        "PREFECT_HOME": str(var.parent / "prefect"),
        "PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS": "600",
    }
    var.mkdir(parents=True, exist_ok=True)
    return subprocess.run(
        [COALITION, *args], capture_output=True, text=True, env=env, timeout=600, cwd=PROJECT_ROOT
    )


def _intake(sandbox: Any, tab: str) -> tuple[str, list[list[str]]]:
    sheets = sandbox.services["sheets"]
    sheet_id = sheets.find_by_title("Intake")
    return sheet_id, sheets.get_values(sheet_id, tab)


def test_discover_finds_every_name_of_the_foreign_workspace(sandbox: Any, tmp_path: Path) -> None:
    sandbox.reset("foreign")
    config = _config(tmp_path)
    result = cli(sandbox.url, config, tmp_path / "var", "setup", "discover", "--write")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "Every name the bot needs was found." in result.stdout
    fields = yaml.safe_load((config / "fields.yaml").read_text())
    assert fields["airtable"]["members"]["table"] == "Organizations"
    assert fields["airtable"]["members"]["fields"]["referral_sheet"] == "Referral spreadsheet"
    assert fields["intake"]["form"]["name"][0] == "Full name / Nombre completo"
    services = (config / "services.yaml").read_text()
    assert yaml.safe_load(services)["sheets"]["intake_tab"] == foreign.INTAKE_TAB
    assert "# Names of the things the bot reads and writes" in services  # the rest kept
    # Discover only reads.
    assert sandbox.writes() == []


def test_an_unmappable_need_exits_2_and_names_it(sandbox: Any, tmp_path: Path) -> None:
    sandbox.reset("foreign")
    sheet_id, rows = _intake(sandbox, foreign.INTAKE_TAB)
    header = [("Emergency contact" if h == foreign.FORM["Full name"] else h) for h in rows[0]]
    sandbox.services["sheets"].set_values(sheet_id, foreign.INTAKE_TAB, [header, *rows[1:]])
    result = cli(sandbox.url, _config(tmp_path), tmp_path / "var", "setup", "discover")
    assert result.returncode == 2, result.stdout + result.stderr
    assert "needed name(s) not found" in result.stdout and "form · Full name" in result.stdout
    assert "Traceback" not in result.stderr


def test_discover_prints_logs_and_writes_no_personal_value(sandbox: Any, tmp_path: Path) -> None:
    sandbox.reset("foreign")
    sheet_id, rows = _intake(sandbox, foreign.INTAKE_TAB)
    planted = {
        "name": "Quillonberry Zantafaxe",
        "phone": "(713) 555-0187",
        "email": "zantafaxe.quillon@example.net",
        "help": "Necesito ayuda con mi caso Xylomorphic",
    }
    header = rows[0]
    row = [""] * len(header)
    for key, value in planted.items():
        design = {"name": "Full name", "phone": "Phone", "email": "Email", "help": "Help needed"}[
            key
        ]
        row[header.index(foreign.FORM[design])] = value
    sandbox.services["sheets"].set_values(sheet_id, foreign.INTAKE_TAB, [header, row, *rows[1:]])
    config, var = _config(tmp_path), tmp_path / "var"
    result = cli(sandbox.url, config, var, "setup", "discover", "--write")
    assert result.returncode == 0, result.stdout + result.stderr
    outputs = {"stdout": result.stdout, "stderr": result.stderr}
    for path in [*config.glob("*.yaml"), *var.rglob("*")]:
        if path.is_file() and path.suffix in {".yaml", ".log", ".txt", ".json", ""}:
            outputs[str(path)] = path.read_text(errors="replace")
    values = set(planted.values()) | personal_values(sandbox.sandbox)
    assert len(values) > 500  # the seed's people, contacts and donors are all looked for
    leaks = [
        (where, value)
        for value in values
        for where, text in outputs.items()
        if value.casefold() in text.casefold()
    ]
    assert leaks == []
    # The planted row was there to be read, in the tab discover read the header of.
    assert planted["name"] in _intake(sandbox, foreign.INTAKE_TAB)[1][1]
    assert f"{foreign.INTAKE_TAB}" in (config / "services.yaml").read_text()


def _outcomes(sandbox: Any, tab: str, status: str, partner: str) -> list[tuple[str, str]]:
    _, rows = _intake(sandbox, tab)
    header = rows[0]
    s, p = header.index(status), header.index(partner)
    return [(row[s] if s < len(row) else "", row[p] if p < len(row) else "") for row in rows[1:]]


@pytest.mark.timeout(1800)
def test_day_one_on_the_foreign_seed_routes_every_row_as_the_demo_does(
    sandbox: Any, tmp_path: Path
) -> None:
    sandbox.reset("demo")
    demo_config, demo_var = _config(tmp_path, "demo-config"), tmp_path / "demo-var"
    for flow in ("roster-sync", "intake-routing"):
        result = cli(sandbox.url, demo_config, demo_var, "run", flow)
        assert result.returncode == 0, result.stdout + result.stderr
    expected = _outcomes(sandbox, "Form Responses", "Status", "Partner")
    assert len(expected) == 150 and all(status for status, _ in expected)

    sandbox.reset("foreign")
    config, var = _config(tmp_path), tmp_path / "var"
    result = cli(sandbox.url, config, var, "setup", "discover", "--write")
    assert result.returncode == 0, result.stdout + result.stderr
    for flow in ("roster-sync", "intake-routing"):
        result = cli(sandbox.url, config, var, "run", flow)
        assert result.returncode == 0, result.stdout + result.stderr
    got = _outcomes(sandbox, foreign.INTAKE_TAB, "Status", "Partner")
    assert got == expected
    assert not any(status == "Routing" for status, _ in got)


@pytest.mark.timeout(1500)
def test_demo_with_the_foreign_seed_rehearses_day_one(tmp_path: Path, prefect_api: str) -> None:
    env = {
        **os.environ,
        "COALITION_VAR_DIR": str(tmp_path / "var"),
        "COALITION_TIME_SCALE": "1000",
        "PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS": "600",
    }
    for key in ("COALITION_SANDBOX_URL", "COALITION_CONFIG_DIR", "COALITION_DATABASE_URL"):
        env.pop(key, None)
    result = subprocess.run(
        [COALITION, "demo", "--seed", "foreign"],
        capture_output=True,
        text=True,
        env=env,
        timeout=1400,
        cwd=PROJECT_ROOT,
    )
    out = result.stdout
    assert result.returncode == 0, out[-4000:] + result.stderr[-4000:]
    assert "Every name the bot needs was found." in out
    assert "without a final status: 0" in out
    assert "FAILED" not in out and "Traceback" not in result.stderr
    # The copy of config/ was written, config/ itself untouched.
    written = yaml.safe_load((tmp_path / "var" / "demo" / "config" / "fields.yaml").read_text())
    assert written["airtable"]["members"]["table"] == "Organizations"
    assert "Organizations" not in (PROJECT_ROOT / "config" / "fields.yaml").read_text()


def test_an_unknown_base_is_one_clear_line(sandbox: Any, tmp_path: Path) -> None:
    sandbox.reset("foreign")
    config = _config(tmp_path)
    services = (config / "services.yaml").read_text().replace("base: Coalition", "base: Coalitoin")
    (config / "services.yaml").write_text(services)
    result = cli(sandbox.url, config, tmp_path / "var", "setup", "discover", "--write")
    assert result.returncode == 2
    assert "Coalitoin" in result.stderr and "Traceback" not in result.stderr + result.stdout
    assert (config / "fields.yaml").read_text() == (
        PROJECT_ROOT / "config" / "fields.yaml"
    ).read_text()
