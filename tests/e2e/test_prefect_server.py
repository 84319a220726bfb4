"""Beyond one machine: a Prefect server on PostgreSQL, deployments, two workers, and one Airtable budget for all.

Starts `prefect server start` on a fresh PostgreSQL database, deploys the flows the
way an admin does (`coalition deploy` and `prefect deploy` from prefect.yaml), then
runs several flow runs of a small Airtable probe at once through two process
workers against the sandbox with Airtable's rate limits on. Every run must complete,
and the sandbox must have seen at most 5 Airtable requests in any second per base:
without the shared budget two workers send up to 10 a second and earn 429s.

Skipped with a reason when COALITION_TEST_DATABASE_URL is not set (CI sets it).
Every wait is bounded and every process started here is killed at the end.
"""

from __future__ import annotations

import contextlib
import os
import re
import signal
import subprocess
import sys
import time
import uuid
from collections import defaultdict
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest

from coalition.settings import PROJECT_ROOT, reload_settings, settings
from sandbox.runner import free_port

PG_URL = os.environ.get("COALITION_TEST_DATABASE_URL")
BIN = Path(sys.executable).parent
POOL = "coalition-e2e"
RUNS = 4
READS = 10
SERVER_START_SECONDS = 150
RUNS_SECONDS = 150

pytestmark = [
    pytest.mark.postgres,
    pytest.mark.slow,
    pytest.mark.timeout(420),
    pytest.mark.skipif(
        not PG_URL,
        reason="the multi-worker test needs PostgreSQL: set COALITION_TEST_DATABASE_URL (CI does)",
    ),
]

# Background services a test server does not need (no schedules are due, nothing runs late).
QUIET_SERVER = {
    "PREFECT_SERVER_SERVICES_SCHEDULER_ENABLED": "false",
    "PREFECT_SERVER_SERVICES_LATE_RUNS_ENABLED": "false",
    "PREFECT_SERVER_SERVICES_FOREMAN_ENABLED": "false",
    "PREFECT_SERVER_SERVICES_PAUSE_EXPIRATIONS_ENABLED": "false",
    "PREFECT_SERVER_SERVICES_TRIGGERS_ENABLED": "false",
    "PREFECT_SERVER_SERVICES_DB_VACUUM_ENABLED": "false",
    "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
    "PREFECT_UI_ENABLED": "false",
    "DO_NOT_TRACK": "1",
}


# ---------------------------------------------------------------- processes
class Processes:
    """Everything this test starts, each in its own process group, killed at the end."""

    def __init__(self, logs: Path) -> None:
        self.logs = logs
        self.started: list[tuple[str, subprocess.Popen[bytes]]] = []

    def start(self, name: str, args: list[str], env: dict[str, str]) -> subprocess.Popen[bytes]:
        log = (self.logs / f"{name}.log").open("wb")
        process = subprocess.Popen(
            args, env=env, cwd=PROJECT_ROOT, stdout=log, stderr=subprocess.STDOUT,
            start_new_session=True,
        )  # fmt: skip
        self.started.append((name, process))
        return process

    def log(self, name: str) -> str:
        path = self.logs / f"{name}.log"
        return path.read_text(errors="replace") if path.exists() else ""

    def stop_all(self) -> None:
        for _, process in reversed(self.started):
            _signal_group(process, signal.SIGTERM)
        deadline = time.monotonic() + 20
        for _, process in self.started:
            try:
                process.wait(timeout=max(deadline - time.monotonic(), 0.1))
            except subprocess.TimeoutExpired:
                _signal_group(process, signal.SIGKILL)
                process.wait(timeout=10)
        for _, process in self.started:
            _signal_group(process, signal.SIGKILL)  # stragglers: flow-run subprocesses


def _signal_group(process: subprocess.Popen[bytes], sig: int) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(process.pid, sig)


def wait_for(what: str, check: Callable[[], Any], seconds: float, every: float = 1.0) -> Any:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        result = check()
        if result:
            return result
        time.sleep(every)
    raise AssertionError(f"gave up after {seconds:.0f} s waiting for {what}")


# ---------------------------------------------------------------- fixtures
@pytest.fixture
def prefect_database() -> Iterator[str]:
    """A fresh PostgreSQL database for the Prefect server, dropped afterwards; its asyncpg URL."""
    import psycopg
    from sqlalchemy.engine import make_url

    url = make_url(PG_URL or "")
    name = f"coalition_prefect_e2e_{uuid.uuid4().hex[:8]}"
    admin = url.set(drivername="postgresql", database="postgres").render_as_string(False)
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    try:
        yield url.set(drivername="postgresql+asyncpg", database=name).render_as_string(False)
    finally:
        with psycopg.connect(admin, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture
def processes(tmp_path: Path) -> Iterator[Processes]:
    running = Processes(tmp_path)
    yield running
    running.stop_all()


@pytest.fixture
def prefect_server(
    prefect_database: str, processes: Processes, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Iterator[str]:
    """`prefect server start` on the fresh database; PREFECT_API_URL for this test and its children."""
    with running_server(QUIET_SERVER, prefect_database, processes, tmp_path, monkeypatch) as api:
        yield api


@contextmanager
def running_server(
    services: dict[str, str],
    database: str,
    processes: Processes,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> Iterator[str]:
    """A Prefect server with these service settings, healthy; PREFECT_API_URL set while it runs."""
    from prefect.settings import PREFECT_API_URL, temporary_settings

    port = free_port()
    api = f"http://127.0.0.1:{port}/api"
    env = _clean_env(
        {
            **services,
            "PREFECT_HOME": str(tmp_path / "server-home"),
            "PREFECT_API_DATABASE_CONNECTION_URL": database,
        }
    )
    server = processes.start(
        "server", [str(BIN / "prefect"), "server", "start", "--host", "127.0.0.1", "--port",
                   str(port)], env,
    )  # fmt: skip

    def healthy() -> bool:
        if server.poll() is not None:
            raise AssertionError(f"prefect server exited:\n{processes.log('server')[-3000:]}")
        try:
            return httpx.get(f"{api}/health", timeout=2).status_code == 200
        except httpx.HTTPError:
            return False

    wait_for("the Prefect server", healthy, SERVER_START_SECONDS)
    monkeypatch.setenv("PREFECT_API_URL", api)
    with temporary_settings({PREFECT_API_URL: api}):
        yield api


def _clean_env(extra: dict[str, str]) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PREFECT_", "PYTEST_"))}
    env.update(extra)
    return env


# ---------------------------------------------------------------- checks on the journal
def arrivals_by_base(entries: list[dict[str, Any]]) -> dict[str, list[float]]:
    """When each Airtable request reached the sandbox (its reply time less its duration), per base."""
    times: dict[str, list[float]] = defaultdict(list)
    for entry in entries:
        match = re.match(r"/v0/(?:meta/bases/)?(app[A-Za-z0-9]+)", entry["path"])
        scope = match.group(1) if match else "meta"
        done = datetime.fromisoformat(entry["at"])
        arrived = done - timedelta(milliseconds=entry["duration_ms"])
        times[scope].append(arrived.timestamp())
    return {scope: sorted(values) for scope, values in times.items()}


def busiest_second(times: list[float]) -> int:
    """The most requests that arrived within any one second."""
    most, start = 0, 0
    for end, moment in enumerate(times):
        while moment - times[start] >= 1.0:
            start += 1
        most = max(most, end - start + 1)
    return most


def test_busiest_second_counts_a_sliding_window() -> None:
    assert busiest_second([]) == 0
    assert busiest_second([0.0, 0.2, 0.4, 0.6, 0.8, 1.0]) == 5
    assert busiest_second([0.0, 0.1, 0.2, 0.3, 0.4, 0.5]) == 6
    assert busiest_second([0.0, 0.99, 1.98]) == 2


def max_concurrent(runs: list[Any]) -> int:
    edges = sorted(
        [(r.start_time.timestamp(), 1) for r in runs] + [(r.end_time.timestamp(), -1) for r in runs]
    )
    now = most = 0
    for _, step in edges:
        now += step
        most = max(most, now)
    return most


# ---------------------------------------------------------------- the test
def test_two_workers_on_postgres_share_the_airtable_budget(
    prefect_server: str,
    processes: Processes,
    demo: Any,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from prefect.client.orchestration import get_client

    from flows.serve import DeploymentSpec, deploy_all, ensure_work_pool, runner_deployment
    from integrations.shared_budget import airtable_limit, forget_ensured

    # Real time on both sides: the sandbox's 1 s windows are what Airtable enforces.
    monkeypatch.setenv("COALITION_TIME_SCALE", "1")
    demo.sandbox.clock.scale = 1.0
    forget_ensured()
    reload_settings()
    base_id = next(iter(demo.services["airtable"].bases))

    # 1. Two workers polling the probe's pool start first: they take the longest to come up.
    ensure_work_pool(POOL)
    spec = DeploymentSpec(
        "ops-budget-probe", "tests.e2e.ops_probe.airtable_probe", "0 0 1 1 *",
        "America/New_York", "multi-worker probe", ("coalition", "e2e"),
    )  # fmt: skip
    deployment_id = runner_deployment(spec, POOL, one_at_a_time=False).apply()
    worker_env = _clean_env(
        {
            "PREFECT_API_URL": prefect_server,
            "PREFECT_HOME": str(tmp_path / "worker-home"),
            "PREFECT_WORKER_QUERY_SECONDS": "1",
            "PREFECT_WORKER_PREFETCH_SECONDS": "5",
            "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
            "DO_NOT_TRACK": "1",
            "COALITION_SANDBOX_URL": demo.url,
            "COALITION_TIME_SCALE": "1",
            "COALITION_DATABASE_URL": f"sqlite:///{tmp_path / 'ledger.sqlite3'}",
            "COALITION_VAR_DIR": str(tmp_path / "var"),
        }
    )
    for number in (1, 2):
        processes.start(
            f"worker-{number}",
            [str(BIN / "prefect"), "worker", "start", "--pool", POOL, "--type", "process",
             "--name", f"e2e-worker-{number}"],
            worker_env,
        )  # fmt: skip

    # 2. Meanwhile, deploy as an admin does: prefect.yaml and `coalition deploy`, both from config.
    from_yaml = _prefect_deploy_from_yaml(prefect_server, tmp_path, processes)
    deployed = deploy_all("coalition", _quiet_console())
    _check_deployments(deployed)
    if from_yaml is not None:
        process, names = from_yaml
        assert process.wait(timeout=240) == 0, processes.log("prefect-deploy")[-3000:]
        _check_deployments(names)
    with get_client(sync_client=True) as client:
        wait_for(
            "both workers to poll",
            lambda: len([w for w in client.read_workers_for_work_pool(POOL)]) >= 2,
            90,
        )

    # 3. Airtable's limits on, then several runs at once.
    demo.sandbox.limiter.enabled = True
    demo.sandbox.limiter.reset()
    since = demo.sandbox.journal.last_seq
    with get_client(sync_client=True) as client:
        ids = [
            client.create_flow_run_from_deployment(deployment_id, parameters={"reads": READS}).id
            for _ in range(RUNS)
        ]

        def finished() -> list[Any] | None:
            runs = [client.read_flow_run(run_id) for run_id in ids]
            return runs if all(r.state and r.state.is_final() for r in runs) else None

        try:
            runs = wait_for("the flow runs to finish", finished, RUNS_SECONDS, every=2)
        except AssertionError as exc:
            raise AssertionError(f"{exc}\n{_worker_logs(processes)}") from None
        limit = client.read_global_concurrency_limit_by_name(f"airtable-{base_id}")

    entries = demo.journal("airtable", since=since)
    by_base = arrivals_by_base(entries)
    seen = _journal_summary(entries, by_base)
    states = [r.state.type.value for r in runs]
    assert states == ["COMPLETED"] * RUNS, f"{states}; {seen}\n{_worker_logs(processes)}"
    assert max_concurrent(runs) >= 2, "the runs did not overlap: the test proved nothing"

    # 4. The budget held: no 429, at most 5 a second per base, everything asked was sent.
    assert [e for e in entries if e["status"] == 429] == [], seen
    assert len(by_base[base_id]) >= RUNS * (READS + 1)
    for scope, times in by_base.items():
        assert busiest_second(times) <= 5, f"{scope}: {busiest_second(times)} requests in 1 s"
    expected = airtable_limit(base_id, settings().time_scale)
    assert (limit.limit, limit.slot_decay_per_second) == (expected.slots, expected.decay)


def _journal_summary(entries: list[dict[str, Any]], by_base: dict[str, list[float]]) -> str:
    refused = sum(1 for e in entries if e["status"] == 429)
    busiest = {scope: busiest_second(times) for scope, times in by_base.items()}
    return f"sandbox saw {len(entries)} Airtable requests, {refused} refused (429), busiest second {busiest}"


def _quiet_console() -> Any:
    import io

    from rich.console import Console

    return Console(file=io.StringIO(), width=200)


def _check_deployments(names: list[str]) -> None:
    """Each deployment on the server: schedule and timezone from config, one run at a time."""
    from prefect.client.orchestration import get_client

    cfg = settings()
    with get_client(sync_client=True) as client:
        for name in names:
            deployment = client.read_deployment_by_name(name)
            flow = name.split("/")[0]
            [schedule] = deployment.schedules
            assert schedule.schedule.cron == cfg.schedules.for_flow(flow)
            assert schedule.schedule.timezone == cfg.services.timezone
            assert schedule.active
            assert deployment.global_concurrency_limit is not None
            assert deployment.global_concurrency_limit.limit == 1
            assert deployment.concurrency_options.collision_strategy.value == "CANCEL_NEW"
            assert deployment.entrypoint.startswith("flows.deployed.")
            assert "coalition" in deployment.tags


def _prefect_deploy_from_yaml(
    api: str, tmp_path: Path, processes: Processes
) -> tuple[subprocess.Popen[bytes], list[str]] | None:
    """Start `prefect deploy --all` with prefect.yaml (only its built flows while some are being written)."""
    import yaml

    from flows.registry import FLOWS

    built = {f"flows.deployed.{e.attribute}": e.name for e in FLOWS.values()}
    project = yaml.safe_load((PROJECT_ROOT / "prefect.yaml").read_text(encoding="utf-8"))
    project["deployments"] = [d for d in project["deployments"] if d["entrypoint"] in built]
    prefect_file = tmp_path / "prefect.yaml"
    prefect_file.write_text(yaml.safe_dump(project), encoding="utf-8")
    env = _clean_env({"PREFECT_API_URL": api, "PREFECT_HOME": str(tmp_path / "deploy-home")})
    process = processes.start(
        "prefect-deploy",
        [str(BIN / "prefect"), "--no-prompt", "deploy", "--all", "--prefect-file",
         str(prefect_file)],
        env,
    )  # fmt: skip
    return process, [f"{name}/coalition" for name in built.values()]


def _worker_logs(processes: Processes) -> str:
    return "\n".join(
        f"--- {name} ---\n{processes.log(name)[-2500:]}" for name in ("worker-1", "worker-2")
    )
