"""`coalition serve` and `coalition deploy` before any server: clear refusals, one serve per machine, dry runs."""

from __future__ import annotations

import io
import os
import subprocess
import sys
from pathlib import Path

import pytest
from rich.console import Console

from coalition.settings import ConfigError, reload_settings
from flows.serve import DEPLOYMENT_NAME, deploy_all, missing_secrets, serve_all, single_instance


def test_a_second_serve_on_the_same_machine_is_refused(tmp_path: Path) -> None:
    lock = tmp_path / "serve.lock"
    with single_instance(lock):
        with pytest.raises(ConfigError) as caught, single_instance(lock):
            pass
        assert f"pid {os.getpid()}" in str(caught.value)
        assert "already running" in str(caught.value)
    with single_instance(lock):  # released on exit: a restart works
        pass


def test_a_serve_in_another_process_holds_the_lock(tmp_path: Path) -> None:
    lock = tmp_path / "serve.lock"
    holder = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import sys, time; from pathlib import Path; from flows.serve import single_instance\n"
            f"with single_instance(Path({str(lock)!r})):\n"
            "    print('held', flush=True); time.sleep(30)",
        ],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "held"
        with pytest.raises(ConfigError, match=f"pid {holder.pid}"), single_instance(lock):
            pass
    finally:
        holder.kill()
        holder.wait(timeout=10)
    with single_instance(lock):  # a crashed holder leaves no stale lock behind
        pass


def test_serve_without_a_prefect_server_says_how_to_start_one(
    monkeypatch: pytest.MonkeyPatch, env: Path
) -> None:
    monkeypatch.delenv("PREFECT_API_URL", raising=False)
    with pytest.raises(ConfigError) as caught:
        serve_all(Console(file=io.StringIO()))
    assert "prefect server start" in str(caught.value)
    assert "PREFECT_API_URL" in str(caught.value)


def test_deploy_dry_run_prints_every_built_flow_and_changes_nothing(
    monkeypatch: pytest.MonkeyPatch, env: Path
) -> None:
    monkeypatch.delenv("PREFECT_API_URL", raising=False)
    out = io.StringIO()
    names = deploy_all("coalition", Console(file=out, width=200), dry_run=True)
    text = out.getvalue()
    for name in names:
        flow = name.split("/")[0]
        assert name == f"{flow}/{DEPLOYMENT_NAME}"
        assert f"would deploy {flow}/{DEPLOYMENT_NAME} to pool 'coalition'" in text
    assert "America/New_York" in text or not names


def test_missing_secrets_are_listed_outside_the_sandbox(
    monkeypatch: pytest.MonkeyPatch, env: Path
) -> None:
    monkeypatch.delenv("PREFECT_API_URL", raising=False)
    monkeypatch.delenv("COALITION_SANDBOX_URL", raising=False)
    for name in (
        "AIRTABLE_TOKEN",
        "GOOGLE_SERVICE_ACCOUNT",
        "SLACK_BOT_TOKEN",
        "OPENSTATES_API_KEY",
    ):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("SLACK_BOT_TOKEN", "xoxb-test")
    monkeypatch.chdir(env)  # no .env here
    cfg = reload_settings()
    poller = ["openstates_api_key"] if cfg.services.openstates.enabled else []
    assert missing_secrets(cfg) == ["airtable_token", "google_service_account", *poller]
    monkeypatch.setenv("COALITION_SANDBOX_URL", "http://127.0.0.1:1")
    assert missing_secrets(reload_settings()) == []


def test_ctrl_c_gives_a_gone_prefect_server_a_few_seconds_then_says_so(monkeypatch) -> None:
    """Issue 17: shutdown used to hang at "Pausing all deployments" when the server was gone."""
    import asyncio
    import io
    import time
    import uuid

    from rich.console import Console

    from flows import serve as serve_module

    monkeypatch.setattr(serve_module, "PAUSE_SECONDS", 0.5)
    out = io.StringIO()
    runner = serve_module.bounded_runner(Console(file=out, width=200), pause_on_shutdown=True)
    ids = [uuid.uuid4()]

    class Gone:
        async def pause_deployment(self, deployment_id: uuid.UUID) -> None:
            await asyncio.sleep(60)  # Prefect's client retrying a server that is not there

    class Registry:
        def get_deployment_ids(self) -> list[uuid.UUID]:
            return ids

    runner._client = Gone()
    runner._deployment_registry = Registry()
    started = time.monotonic()
    asyncio.run(runner._pause_schedules())
    assert time.monotonic() - started < 5
    assert "The Prefect server did not answer within 0.5 s: deployments were not paused" in (
        " ".join(out.getvalue().split())
    )


def test_a_failed_runs_traceback_is_logged_once() -> None:
    """Issue 17: the engine's exit message no longer repeats the flow's traceback."""
    import logging
    import sys

    from flows.deployed import traceback_once

    assert traceback_once in logging.getLogger("prefect.engine").filters  # installed on import
    try:
        raise RuntimeError("boom")
    except RuntimeError:
        info = sys.exc_info()
    exit_record = logging.LogRecord(
        "prefect.engine", logging.ERROR, __file__, 1,
        "Execution of flow run 'abc' exited with unexpected exception", None, info,
    )  # fmt: skip
    assert traceback_once(exit_record) and exit_record.exc_info is None
    assert exit_record.getMessage().endswith("(traceback above)")
    other = logging.LogRecord(
        "prefect.engine",
        logging.ERROR,
        __file__,
        1,
        "Unexpected exception loading flow",
        None,
        info,
    )
    assert traceback_once(other) and other.exc_info is info  # a load failure keeps its only one
