"""A worker host that dies mid-run: Prefect's server marks the run Crashed, through the automation of `coalition deploy`.

Starts `prefect server start` on a fresh PostgreSQL database with the automation
services on (triggers, proactive evaluation and actions; the other e2e test turns
them off), deploys a flow that sleeps ten minutes to a process pool, starts one
worker whose environment does NOT set PREFECT_FLOWS_HEARTBEAT_FREQUENCY (the
deployment's job variables must bring the 30 s heartbeat), and creates the
zombie-run automation with the real `ensure_zombie_automation`. The run must stay
Running past a whole window while its heartbeats come; then the worker and every
process under it are SIGKILLed (a host that dies sends nothing more), and the run
must turn Crashed, with the automation's message, no sooner than one window after
its last heartbeat, and give back its deployment's one-at-a-time slot.

The window is shortened to WITHIN_SECONDS (still more than one heartbeat interval,
30 s, Prefect's minimum) so the test takes about three minutes, not four.

Skipped with a reason when COALITION_TEST_DATABASE_URL is not set (CI sets it).
Every wait is bounded and every process started here is killed at the end.
"""

from __future__ import annotations

import contextlib
import io
import os
import signal
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from uuid import UUID

import httpx
import pytest
from rich.console import Console

from flows.serve import HEARTBEAT_SECONDS
from tests.e2e.test_prefect_server import (
    BIN,
    PG_URL,
    Processes,
    _clean_env,
    prefect_database,  # noqa: F401 (fixture)
    processes,  # noqa: F401 (fixture)
    running_server,
    wait_for,
)

POOL = "coalition-zombies"
WITHIN_SECONDS = 40  # the test's window: one heartbeat interval and a margin
GRANULARITY_SECONDS = 5  # how often the server evaluates proactive triggers (its default)
RUNNING_SECONDS = 120
CRASH_SECONDS = 150

pytestmark = [
    pytest.mark.postgres,
    pytest.mark.slow,
    pytest.mark.timeout(420),
    pytest.mark.skipif(
        not PG_URL,
        reason="the zombie-run test needs PostgreSQL: set COALITION_TEST_DATABASE_URL (CI does)",
    ),
]

# Only what the test needs: no schedules, no late-run marker, but automations on.
AUTOMATION_SERVER = {
    "PREFECT_SERVER_SERVICES_SCHEDULER_ENABLED": "false",
    "PREFECT_SERVER_SERVICES_LATE_RUNS_ENABLED": "false",
    "PREFECT_SERVER_SERVICES_FOREMAN_ENABLED": "false",
    "PREFECT_SERVER_SERVICES_PAUSE_EXPIRATIONS_ENABLED": "false",
    "PREFECT_SERVER_SERVICES_DB_VACUUM_ENABLED": "false",
    # Reactive and proactive triggers and the actions they queue all hang on this one;
    # the event persister (on by default) keeps the heartbeats the test reads back.
    "PREFECT_SERVER_SERVICES_TRIGGERS_ENABLED": "true",
    "PREFECT_SERVER_SERVICES_EVENT_PERSISTER_ENABLED": "true",
    "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
    "PREFECT_UI_ENABLED": "false",
    "DO_NOT_TRACK": "1",
}


@pytest.fixture
def automation_server(
    prefect_database: str,  # noqa: F811
    processes: Processes,  # noqa: F811
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> Iterator[str]:
    """`prefect server start` with automations on; PREFECT_API_URL for this test and its children."""
    with running_server(
        AUTOMATION_SERVER, prefect_database, processes, tmp_path, monkeypatch
    ) as api:
        yield api


# ---------------------------------------------------------------- helpers
def heartbeats(api: str, run_id: UUID) -> list[datetime]:
    """When the server saw the run's heartbeat events (the event persister's copy), oldest first."""
    response = httpx.post(
        f"{api}/events/filter",
        json={
            "filter": {
                "event": {"name": ["prefect.flow-run.heartbeat"]},
                "resource": {"id": [f"prefect.flow-run.{run_id}"]},
                "occurred": {
                    "since": (datetime.now(UTC) - timedelta(hours=1)).isoformat(),
                    "until": (datetime.now(UTC) + timedelta(minutes=5)).isoformat(),
                },
                "order": "ASC",
            },
            "limit": 50,
        },
        timeout=10,
    )
    response.raise_for_status()
    return sorted(datetime.fromisoformat(e["occurred"]) for e in response.json()["events"])


def descendants(pid: int) -> list[int]:
    """Every process below `pid` (read from /proc), whatever its process group."""
    children: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        with contextlib.suppress(OSError):
            stat = (entry / "stat").read_text()
            parent = int(stat.rsplit(")", 1)[1].split()[1])
            children.setdefault(parent, []).append(int(entry.name))
    found, todo = [], [pid]
    while todo:
        for child in children.get(todo.pop(), []):
            found.append(child)
            todo.append(child)
    return found


def alive(pid: int) -> bool:
    """True if the process exists and is not a zombie waiting to be reaped."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    return stat.rsplit(")", 1)[1].split()[0] not in {"Z", "X"}


def kill_host(worker: Any) -> list[int]:
    """SIGKILL the worker's process group and everything under it: the host died. The pids killed."""
    pids = descendants(worker.pid)
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(worker.pid, signal.SIGKILL)
    for pid in pids:  # Prefect starts the flow run in a session of its own
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(os.getpgid(pid), signal.SIGKILL)
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.kill(pid, signal.SIGKILL)
    worker.wait(timeout=10)
    wait_for("the killed processes to go", lambda: not any(alive(p) for p in pids), 10, 0.2)
    return [worker.pid, *pids]


# ---------------------------------------------------------------- the test
def test_a_run_whose_worker_dies_is_marked_crashed(
    automation_server: str,
    processes: Processes,  # noqa: F811
    tmp_path: Path,
) -> None:
    from prefect.client.orchestration import get_client
    from prefect.client.schemas.objects import StateType

    from flows.serve import (
        ZOMBIE_AUTOMATION,
        DeploymentSpec,
        ensure_work_pool,
        ensure_zombie_automation,
        runner_deployment,
    )

    started = time.monotonic()
    api = automation_server

    # 1. The slow probe, deployed as `coalition deploy` deploys (one run at a time, tagged
    #    coalition, heartbeats in its job variables), and one worker polling its pool.
    ensure_work_pool(POOL)
    spec = DeploymentSpec(
        "ops-zombie-probe", "tests.e2e.ops_probe.slow_probe", "0 0 1 1 *",
        "America/New_York", "zombie-run probe", ("coalition", "e2e"),
    )  # fmt: skip
    deployment_id = runner_deployment(spec, POOL).apply()
    worker = processes.start(
        "worker",
        [str(BIN / "prefect"), "worker", "start", "--pool", POOL, "--type", "process",
         "--name", "e2e-zombie-worker"],
        _clean_env(
            {
                "PREFECT_API_URL": api,
                "PREFECT_HOME": str(tmp_path / "worker-home"),
                "PREFECT_WORKER_QUERY_SECONDS": "1",
                "PREFECT_WORKER_PREFETCH_SECONDS": "5",
                "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
                "DO_NOT_TRACK": "1",
                "COALITION_DATABASE_URL": f"sqlite:///{tmp_path / 'ledger.sqlite3'}",
                "COALITION_VAR_DIR": str(tmp_path / "var"),
            }
        ),
    )  # fmt: skip

    # 2. The automation, through the real code: created once, then found by its name.
    console = Console(file=io.StringIO(), width=200)
    assert ensure_zombie_automation(console, within_seconds=WITHIN_SECONDS) == "created"
    assert ensure_zombie_automation(console, within_seconds=WITHIN_SECONDS) == "unchanged"
    assert ensure_zombie_automation(console) == "updated"  # the 90 s window of production
    assert ensure_zombie_automation(console, within_seconds=WITHIN_SECONDS) == "updated"
    with get_client(sync_client=True) as client:
        [automation] = client.read_automations_by_name(ZOMBIE_AUTOMATION)
    assert automation.trigger.within == timedelta(seconds=WITHIN_SECONDS)

    # 3. A run that is Running and sending heartbeats; it stays Running past a whole window.
    with get_client(sync_client=True) as client:
        run_id = client.create_flow_run_from_deployment(deployment_id).id

        def running() -> bool:
            state = client.read_flow_run(run_id).state
            assert state is not None and not state.is_final(), f"{state}\n{_logs(processes)}"
            return state.is_running()

        _wait("the run to be Running", running, RUNNING_SECONDS, processes)
        beats = _wait(
            "two heartbeats", lambda: (b := heartbeats(api, run_id)) and len(b) >= 2 and b,
            HEARTBEAT_SECONDS * 2 + 30, processes,
        )  # fmt: skip
        quiet_until = beats[0] + timedelta(seconds=WITHIN_SECONDS + 2 * GRANULARITY_SECONDS)
        while datetime.now(UTC) < quiet_until:
            time.sleep(1)
        state = client.read_flow_run(run_id).state
        assert state is not None and state.type == StateType.RUNNING, (
            f"a run that sends heartbeats was changed to {state}: the automation fires too early"
        )

        # 4. The host dies: worker, flow-run process, everything.
        assert alive(worker.pid)
        killed = kill_host(worker)
        assert len(killed) >= 2, "no flow-run process under the worker: the test proved nothing"
        killed_at = datetime.now(UTC)

        # 5. The server marks the run Crashed, one window after the last heartbeat.
        def crashed() -> Any:
            run = client.read_flow_run(run_id)
            return run if run.state is not None and run.state.is_final() else None

        try:
            run = wait_for("the run to be marked Crashed", crashed, CRASH_SECONDS, every=2)
        except AssertionError as exc:
            raise AssertionError(f"{exc}\n{_logs(processes)}") from None
        last_beat = heartbeats(api, run_id)[-1]
        deployment = client.read_deployment(deployment_id)

    assert run.state.type == StateType.CRASHED, f"{run.state}: {run.state.message}"
    assert "stopped sending heartbeats" in (run.state.message or "")
    assert last_beat <= killed_at, "a heartbeat came after the kill: something survived"
    silence = (run.state.timestamp - last_beat).total_seconds()
    assert silence >= WITHIN_SECONDS - 1, f"crashed {silence:.0f} s after the last heartbeat"
    # The run's one-at-a-time slot is free again, so the flow's next run is not refused.
    assert deployment.global_concurrency_limit is not None
    assert deployment.global_concurrency_limit.active_slots == 0
    print(
        f"crashed {silence:.0f} s after the last heartbeat, "
        f"{(run.state.timestamp - killed_at).total_seconds():.0f} s after the kill; "
        f"test took {time.monotonic() - started:.0f} s"
    )


def _wait(what: str, check: Any, seconds: float, running: Processes) -> Any:
    try:
        return wait_for(what, check, seconds)
    except AssertionError as exc:
        raise AssertionError(f"{exc}\n{_logs(running)}") from None


def _logs(running: Processes) -> str:
    return "\n".join(
        f"--- {name} ---\n{running.log(name)[-3000:]}" for name in ("worker", "server")
    )
