"""`coalition sandbox serve` as an admin runs it: prints its URL, answers, stops cleanly, keeps --state."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from sandbox.runner import free_port

COALITION = str(Path(sys.executable).with_name("coalition"))


def start(*args: str) -> tuple[subprocess.Popen[str], str]:
    port = free_port()
    env = {k: v for k, v in os.environ.items() if k != "COALITION_SANDBOX_URL"}
    proc = subprocess.Popen(
        [COALITION, "sandbox", "serve", "--port", str(port), *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
    )
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"{url}/_sandbox/health", timeout=1).status_code == 200:
                return proc, url
        except httpx.HTTPError:
            time.sleep(0.2)
        if proc.poll() is not None:
            break
    proc.kill()
    pytest.fail(f"sandbox did not start: {proc.stderr.read() if proc.stderr else ''}")


def stop(proc: subprocess.Popen[str]) -> tuple[str, str]:
    proc.send_signal(signal.SIGINT)
    out, err = proc.communicate(timeout=30)
    return out, err


def test_serve_prints_url_and_stops_cleanly_on_ctrl_c() -> None:
    proc, url = start("--seed", "empty")
    out, err = stop(proc)
    assert url in out
    assert proc.returncode == 0
    assert "Traceback" not in out + err and "ERROR" not in out + err


def test_state_file_survives_a_restart(tmp_path: Path) -> None:
    state = tmp_path / "sandbox.json"
    proc, url = start("--seed", "empty", "--state", str(state))
    headers = {"Authorization": "Bearer x"}
    created = httpx.post(
        f"{url}/api/conversations.create", data={"name": "kept-across-restarts"}, headers=headers
    ).json()
    assert created["ok"], created
    stop(proc)
    assert state.exists()
    proc, url = start("--state", str(state))
    try:
        names = [
            c["name"]
            for c in httpx.get(f"{url}/api/conversations.list", headers=headers).json()["channels"]
        ]
        assert "kept-across-restarts" in names
    finally:
        stop(proc)


def test_doctor_reaches_every_service_of_a_demo_sandbox(tmp_path: Path) -> None:
    proc, url = start("--seed", "demo")
    try:
        result = subprocess.run(
            [COALITION, "doctor"],
            capture_output=True,
            text=True,
            timeout=120,
            env={**os.environ, "COALITION_SANDBOX_URL": url, "COALITION_VAR_DIR": str(tmp_path)},
        )
    finally:
        stop(proc)
    out = " ".join(result.stdout.split())
    assert result.returncode == 0, out + result.stderr
    for service in ("ledger", "airtable", "google sheets", "google drive/docs", "slack"):
        assert service in out
    assert "FAIL" not in out
