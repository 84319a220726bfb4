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

# Before any test module imports prefect: a patient ephemeral server without its
# background services, as the CLI runs it (a loaded machine starts it slowly), with
# its database private to this test session.
configure_prefect(Path(tempfile.mkdtemp(prefix="coalition-prefect-")))

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


@pytest.fixture(scope="session")
def sandbox_server() -> Iterator[RunningSandbox]:
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
