"""Prefect hygiene: quiet, private, telemetry-free local runs; a real server when PREFECT_API_URL is set.

Must run before `prefect` is imported, because Prefect reads its settings at import.
Without PREFECT_API_URL a flow runs on a temporary local server, or, for the hand runs
of `coalition run` and `coalition demo`, on the warm local server of
`ops/prefect_server.py` (`use_local_server`). On a small machine the background
services of a temporary server (scheduler, late-run marker, foreman...) contend for
its SQLite file and print `database is locked` tracebacks, and none of them is needed
for a one-off run, so they are turned off here.
"""

from __future__ import annotations

import os
from pathlib import Path

from integrations.shared_budget import LOCAL_PREFECT_API

_EPHEMERAL_DEFAULTS = {
    "PREFECT_SERVER_SERVICES_CANCELLATION_CLEANUP_ENABLED": "false",
    "PREFECT_SERVER_SERVICES_FOREMAN_ENABLED": "false",
    "PREFECT_SERVER_SERVICES_LATE_RUNS_ENABLED": "false",
    "PREFECT_SERVER_SERVICES_PAUSE_EXPIRATIONS_ENABLED": "false",
    "PREFECT_SERVER_SERVICES_REPOSSESSOR_ENABLED": "false",
    "PREFECT_SERVER_SERVICES_SCHEDULER_ENABLED": "false",
    "PREFECT_SERVER_SERVICES_TRIGGERS_ENABLED": "false",
    "PREFECT_SERVER_SERVICES_CLEANUP_RECONCILER_ENABLED": "false",
    "PREFECT_SERVER_SERVICES_DB_VACUUM_ENABLED": "false",
    "PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS": "120",
    "PREFECT_SERVER_DATABASE_TIMEOUT": "60",
    "PREFECT_SERVER_DATABASE_CONNECTION_TIMEOUT": "60",
}

_ALWAYS = {
    "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
    "DO_NOT_TRACK": "1",
    "PREFECT_RESULTS_PERSIST_BY_DEFAULT": "false",
    "PREFECT_UI_ENABLED": os.environ.get("PREFECT_UI_ENABLED", "true"),
}


def configure_prefect(home: Path | None = None) -> None:
    """Set Prefect's environment defaults (an operator's own settings always win)."""
    for key, value in _ALWAYS.items():
        os.environ.setdefault(key, value)
    if os.environ.get("PREFECT_API_URL"):
        return
    for key, value in _EPHEMERAL_DEFAULTS.items():
        os.environ.setdefault(key, value)
    if home is not None:
        home.mkdir(parents=True, exist_ok=True)
        os.environ.setdefault("PREFECT_HOME", str(home))


def use_local_server(home: Path) -> str | None:
    """Point Prefect at this checkout's warm local server (started if none answers); its URL.

    Does nothing (None) when PREFECT_API_URL names the operator's own server. The local
    server is marked as such (LOCAL_PREFECT_API), so the run behaves as on a temporary
    server: rate budgets stay in this process and no Secret block is looked up there.
    Raises RuntimeError if the server cannot start.
    """
    if os.environ.get("PREFECT_API_URL"):
        return None
    from ops.prefect_server import ensure_server

    url = ensure_server(home)
    os.environ["PREFECT_API_URL"] = url
    os.environ[LOCAL_PREFECT_API] = url
    return url
