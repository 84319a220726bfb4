"""Shared fixtures: a sandbox served over HTTP in this process, settings pointed at it, a fresh ledger."""

from __future__ import annotations

import logging
import os
import tempfile
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")
os.environ.setdefault("DO_NOT_TRACK", "1")

from ops.prefect_env import configure_prefect

# One Prefect home for the whole run, shared by pytest-xdist's workers (they inherit
# the controller's environment) and by the CLI subprocesses tests start.
os.environ.setdefault("COALITION_TEST_PREFECT_HOME", tempfile.mkdtemp(prefix="coalition-prefect-"))
PREFECT_HOME = Path(os.environ["COALITION_TEST_PREFECT_HOME"])
# A warm server some test's `coalition run` starts for itself goes away soon after.
os.environ.setdefault("COALITION_PREFECT_IDLE_MINUTES", "2")

# Before any test module imports prefect: without the session server (below) a patient
# ephemeral server without its background services, as the CLI runs it.
configure_prefect(PREFECT_HOME)

# Prefect logs "Stopping temporary server" from an atexit hook after pytest has closed
# the captured streams; without this, logging prints a spurious traceback at exit.
logging.raiseExceptions = False

from coalition.settings import reload_settings
from sandbox.app import Sandbox
from sandbox.runner import RunningSandbox, start_in_thread

# Slack Web API methods that only read (slack_sdk POSTs them like any other method).
SLACK_READS = frozenset(
    {
        "auth.test",
        "bots.info",
        "chat.getPermalink",
        "conversations.history",
        "conversations.info",
        "conversations.list",
        "conversations.members",
        "conversations.replies",
        "team.info",
        "usergroups.list",
        "usergroups.users.list",
        "users.info",
        "users.list",
        "users.lookupByEmail",
    }
)


class SandboxHandle:
    """A running sandbox plus conveniences for tests: reset, seed, faults, limits, journal."""

    def __init__(self, running: RunningSandbox) -> None:
        self.running = running
        self.sandbox = running.sandbox
        self.url = running.url
        self.http = httpx.Client(base_url=self.url, timeout=30)

    @property
    def services(self) -> dict:
        return self.sandbox.services

    def reset(self, seed: str = "empty") -> None:
        self.sandbox.faults.clear()
        self.sandbox.limiter.enabled = False
        self.sandbox.limiter.reset()
        self.sandbox.clock.scale = 1.0
        self.sandbox.apply_seed(seed)
        self.sandbox.journal.clear()
        from integrations.slack import forget_channels

        forget_channels()  # a reset workspace reuses channel ids for other channels

    def journal(self, service: str | None = None, since: int = 0) -> list[dict]:
        return self.sandbox.journal.as_dicts(since, service)

    def writes(self, since: int = 0) -> list[dict]:
        """Journal entries that changed something (any method but GET), control API excluded.

        Reads sent as POST do not count: Airtable's listRecords, Sheets' batchGet, and
        Slack's read methods (slack_sdk sends every Web API call as a POST).
        """
        return [
            e
            for e in self.journal(since=since)
            if e["method"] not in {"GET", "HEAD"}
            and e["service"] not in {"control", "viewer"}
            and not e["path"].endswith(("listRecords", ":batchGet", "/values:batchGetByDataFilter"))
            and e["path"].removeprefix("/api/") not in SLACK_READS
        ]


def _worker_database(url: str, worker: str) -> str:
    """`url` with `_<worker>` appended to its database, which is created if missing."""
    import psycopg
    from sqlalchemy.engine import make_url

    parsed = make_url(url)
    name = f"{parsed.database}_{worker}"
    admin = parsed.set(drivername="postgresql", database="postgres").render_as_string(False)
    with psycopg.connect(admin, autocommit=True) as conn:
        if not conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (name,)).fetchone():
            conn.execute(f'CREATE DATABASE "{name}"')
    return parsed.set(database=name).render_as_string(False)


# Each pytest-xdist worker gets its own PostgreSQL database (test -> test_gw0, test_gw1):
# tests empty and migrate the ledger schema, so two workers must not share one. Before
# test modules read the variable at import.
if os.environ.get("COALITION_TEST_DATABASE_URL") and os.environ.get("PYTEST_XDIST_WORKER"):
    os.environ["COALITION_TEST_DATABASE_URL"] = _worker_database(
        os.environ["COALITION_TEST_DATABASE_URL"], os.environ["PYTEST_XDIST_WORKER"]
    )


@pytest.fixture(scope="session")
def prefect_api() -> str:
    """One warm Prefect server for the run (ops/prefect_server.py), shared by every worker.

    Flow runs in this process and in the CLI subprocesses tests start (they inherit
    PREFECT_API_URL) go to it, instead of each process starting a temporary server
    (20 to 30 s each). It is marked local, so budgets stay per process as on a
    temporary server. The controller stops it at the end (pytest_unconfigure).
    """
    from integrations.shared_budget import LOCAL_PREFECT_API
    from ops.prefect_server import ensure_server

    url = ensure_server(PREFECT_HOME, idle_minutes=60)
    os.environ["PREFECT_API_URL"] = url
    os.environ[LOCAL_PREFECT_API] = url
    import prefect.context

    prefect.context.refresh_global_settings_context()
    return url


def pytest_unconfigure(config: pytest.Config) -> None:
    if not os.environ.get("PYTEST_XDIST_WORKER"):  # the controller, or a run without xdist
        from ops.prefect_server import stop_server

        stop_server(PREFECT_HOME)


@pytest.fixture(scope="session")
def sandbox_server(prefect_api: str) -> Iterator[RunningSandbox]:
    running = start_in_thread(Sandbox(seed="empty"))
    yield running
    running.stop()


@pytest.fixture
def env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A private var dir and SQLite ledger for one test."""
    from coalition.ledger.db import forget_ledgers

    monkeypatch.setenv("COALITION_VAR_DIR", str(tmp_path / "var"))
    monkeypatch.setenv("COALITION_DATABASE_URL", f"sqlite:///{tmp_path / 'ledger.sqlite3'}")
    forget_ledgers()
    reload_settings()
    yield tmp_path
    forget_ledgers()
    reload_settings()


@pytest.fixture
def sandbox(
    sandbox_server: RunningSandbox, env: Path, monkeypatch: pytest.MonkeyPatch
) -> Iterator[SandboxHandle]:
    """The shared sandbox, reset to an empty workspace, with settings pointing every client at it."""
    handle = SandboxHandle(sandbox_server)
    handle.reset("empty")
    monkeypatch.setenv("COALITION_SANDBOX_URL", sandbox_server.url)
    # The sandbox enforces no limits unless a test turns them on, so the bot's own
    # budgets need not pace requests at real-time rates (60 Sheets requests a minute).
    monkeypatch.setenv("COALITION_TIME_SCALE", os.environ.get("COALITION_TEST_TIME_SCALE", "1000"))
    reload_settings()
    yield handle
    handle.reset("empty")
    monkeypatch.delenv("COALITION_SANDBOX_URL")
    reload_settings()


@pytest.fixture
def demo(sandbox: SandboxHandle) -> SandboxHandle:
    """The shared sandbox seeded with the demo coalition."""
    sandbox.reset("demo")
    return sandbox
