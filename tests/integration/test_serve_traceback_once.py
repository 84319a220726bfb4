"""Issue 17: `coalition serve` printed each failed run's traceback twice.

Serve's runner executes each scheduled run as `python -m prefect.engine <run id>`
in a process of its own, whose output is what serve prints. This runs a real run of
a real deployment (as `coalition serve` makes it) that way, with the sandbox's
Airtable failing every request, and counts the tracebacks in what it printed.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.timeout(600)

ROOT = Path(__file__).resolve().parents[2]
TRACEBACK = "Traceback (most recent call last)"


def test_a_failed_run_under_serve_prints_its_traceback_once(demo, monkeypatch) -> None:
    from prefect.client.orchestration import get_client

    from coalition.settings import reload_settings, settings
    from flows.serve import deployment_specs, runner_deployment

    monkeypatch.setenv("COALITION_TIME_SCALE", "50")  # retries of the 500s pass quickly
    reload_settings()
    (spec,) = deployment_specs(settings(), ["weekly-summary"])
    deployment_id = runner_deployment(spec).apply()
    with get_client(sync_client=True) as client:
        run = client.create_flow_run_from_deployment(deployment_id)
    demo.sandbox.faults.add(kind="5xx", service="airtable", p=1.0, status=500)
    try:
        done = subprocess.run(
            [sys.executable, "-m", "prefect.engine", str(run.id)],
            cwd=ROOT,
            env={**os.environ, "PYTHONPATH": str(ROOT), "PREFECT_LOGGING_LEVEL": "INFO"},
            capture_output=True,
            text=True,
            timeout=500,
        )
    finally:
        demo.sandbox.faults.clear()
    printed = done.stdout + done.stderr
    with get_client(sync_client=True) as client:
        state = client.read_flow_run(run.id).state
    assert state is not None and state.is_failed(), printed[-2000:]
    lines = printed.splitlines()
    before = [lines[i - 1] for i, line in enumerate(lines) if TRACEBACK in line]
    assert len(before) == 1, before  # each traceback's log line says who printed it
