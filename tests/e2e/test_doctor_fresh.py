"""`coalition doctor` on a fresh checkout (no var/ yet), through the CLI: it makes what the ledger
needs and passes; with a name the workspace lacks it names file, key and name and exits 2."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

from coalition.settings import PROJECT_ROOT

COALITION = str(Path(sys.executable).with_name("coalition"))


def doctor(sandbox: Any, var: Path, config: Path | None = None) -> subprocess.CompletedProcess[str]:
    env = {
        k: v
        for k, v in os.environ.items()
        if k not in {"PREFECT_API_URL", "COALITION_DATABASE_URL", "COALITION_CONFIG_DIR"}
    }
    env.update(
        COLUMNS="1000", COALITION_SANDBOX_URL=sandbox.url, COALITION_VAR_DIR=str(var / "var")
    )
    if config is not None:
        env["COALITION_CONFIG_DIR"] = str(config)
    return subprocess.run(
        [COALITION, "doctor"],
        capture_output=True,
        text=True,
        env=env,
        timeout=300,
        cwd=PROJECT_ROOT,
    )


def test_doctor_on_a_fresh_checkout_makes_the_ledger_folder_and_passes(
    demo: Any, tmp_path: Path
) -> None:
    checkout = tmp_path / "fresh"  # var/ does not exist, nor does its parent
    result = doctor(demo, checkout)
    out = " ".join(result.stdout.split())
    assert "unable to open database file" not in out + result.stderr
    assert result.returncode == 0, result.stdout + result.stderr
    assert (checkout / "var" / "ledger.sqlite3").is_file()
    assert "every table, field and column the flows need" in out
    assert "Traceback" not in result.stdout + result.stderr


def test_doctor_names_a_field_the_base_lacks(demo: Any, tmp_path: Path) -> None:
    config = tmp_path / "config"
    shutil.copytree(PROJECT_ROOT / "config", config)
    (config / "fields.yaml").write_text(
        "airtable:\n  members:\n    fields: {capacity: Weekly slots}\n"
        'intake:\n  form:\n    help: ["What do you need help with?"]\n'
    )
    result = doctor(demo, tmp_path, config)
    out = " ".join(result.stdout.split())
    assert result.returncode == 2
    assert (
        f"{config / 'fields.yaml'} airtable.members.fields.capacity: "
        "the Members table has no field 'Weekly slots'"
    ) in out
    assert (
        "intake.form.help: the Intake header ('Intake' tab 'Form Responses') has no column for "
        "the help needed (looked for 'What do you need help with?')"
    ) in out
    assert "Traceback" not in result.stdout + result.stderr
