"""A warm local Prefect server for hand runs: started on first use, its state under var/prefect, stopped when idle.

`coalition run` without PREFECT_API_URL used to start a temporary Prefect server for
each run (20 to 30 s on a small machine) and stop it at exit. Instead the first run
starts this server as a detached process and every later run finds it through
`server.json` in its home folder and pays one health check. The server stops itself
after `COALITION_PREFECT_IDLE_MINUTES` (15) without a request, so nothing lingers; its
SQLite database stays in the same folder, so the dashboard keeps the run history.
`COALITION_PREFECT_IDLE_MINUTES=0` keeps no server warm: each run starts a temporary one.

Run as `python -m ops.prefect_server HOME IDLE_SECONDS` (what `ensure_server` does).
"""

from __future__ import annotations

import asyncio
import contextlib
import fcntl
import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

STATE_FILE = "server.json"
LOG_FILE = "server.log"
LOCK_FILE = "server.lock"
IDLE_MINUTES = 15.0
START_SECONDS = 180.0  # a cold start on a loaded 2-core machine (migrations included) fits
CHECK_EVERY_SECONDS = 5.0

# A server for one operator's hand runs needs the API and the dashboard, none of the
# background services (no schedules, no workers, no automations).
SERVER_ENV = {
    "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
    "DO_NOT_TRACK": "1",
    "PREFECT_UI_ENABLED": "true",
    "PREFECT_SERVER_LOGGING_LEVEL": "WARNING",
    "PREFECT_SERVER_DATABASE_TIMEOUT": "60",
    "PREFECT_SERVER_DATABASE_CONNECTION_TIMEOUT": "60",
}


# ---------------------------------------------------------------- the client side
def ensure_server(home: Path, idle_minutes: float | None = None) -> str:
    """The API URL of this home's warm server, started (and waited for) if none answers."""
    home.mkdir(parents=True, exist_ok=True)
    with _locked(home / LOCK_FILE):
        url = running_url(home)
        if url:
            return url
        return _start(home, idle_minutes if idle_minutes is not None else idle_minutes_setting())


def running_url(home: Path) -> str | None:
    """The recorded server's API URL if it answers its health check, else None."""
    state = read_state(home)
    if state and _pid_alive(state.get("pid", 0)) and healthy(state.get("api_url", "")):
        return state["api_url"]
    return None


def read_state(home: Path) -> dict[str, Any] | None:
    try:
        return json.loads((home / STATE_FILE).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None


def stop_server(home: Path, seconds: float = 20.0) -> bool:
    """Stop this home's server if it runs (SIGTERM, then SIGKILL); True if one was stopped."""
    state = read_state(home)
    pid = int(state.get("pid", 0)) if state else 0
    if not _pid_alive(pid):
        return False
    with contextlib.suppress(ProcessLookupError):
        os.kill(pid, signal.SIGTERM)
    deadline = time.monotonic() + seconds
    while _pid_alive(pid) and time.monotonic() < deadline:
        time.sleep(0.1)
    if _pid_alive(pid):
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGKILL)
    return True


def healthy(api_url: str, timeout: float = 2.0) -> bool:
    if not api_url:
        return False
    try:
        with urllib.request.urlopen(f"{api_url}/health", timeout=timeout) as response:
            return response.status == 200
    except (OSError, ValueError):
        return False


def idle_minutes_setting() -> float:
    raw = os.environ.get("COALITION_PREFECT_IDLE_MINUTES", "")
    try:
        return float(raw) if raw else IDLE_MINUTES
    except ValueError:
        return IDLE_MINUTES


def _start(home: Path, idle_minutes: float) -> str:
    (home / STATE_FILE).unlink(missing_ok=True)
    env = {k: v for k, v in os.environ.items() if k != "PREFECT_API_URL"}
    env.update(SERVER_ENV)
    env["PREFECT_HOME"] = str(home)
    with (home / LOG_FILE).open("ab") as log:
        process = subprocess.Popen(
            [sys.executable, "-m", "ops.prefect_server", str(home), str(idle_minutes * 60)],
            env=env, stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT,
            start_new_session=True,  # outlives this command; Ctrl-C here does not reach it
            cwd=Path(__file__).resolve().parents[1],
        )  # fmt: skip
    deadline = time.monotonic() + START_SECONDS
    while time.monotonic() < deadline:
        if process.poll() is not None:
            tail = (home / LOG_FILE).read_text(errors="replace")[-2000:]
            raise RuntimeError(f"the local Prefect server stopped at start:\n{tail}")
        state = read_state(home)
        if state and state.get("pid") == process.pid and healthy(state["api_url"]):
            return state["api_url"]
        time.sleep(0.2)
    process.kill()
    raise RuntimeError(f"the local Prefect server did not answer within {START_SECONDS:.0f} s")


@contextlib.contextmanager
def _locked(path: Path) -> Iterator[None]:
    """One process at a time checks and starts the server (two runs at once share one)."""
    with path.open("a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def _pid_alive(pid: int) -> bool:
    if pid <= 0:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


# ---------------------------------------------------------------- the server side
class IdleWatch:
    """ASGI wrapper that knows how long the app has had no request (an open dashboard counts)."""

    def __init__(self, app: Any) -> None:
        self.app = app
        self.active = 0
        self.last = time.monotonic()

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] not in {"http", "websocket"}:
            await self.app(scope, receive, send)
            return
        self.active += 1
        try:
            await self.app(scope, receive, send)
        finally:
            self.active -= 1
            self.last = time.monotonic()

    def idle_seconds(self) -> float:
        return 0.0 if self.active else time.monotonic() - self.last


async def _serve(home: Path, idle_seconds: float) -> None:
    import uvicorn
    from prefect.server.api.server import create_app

    sock = socket.socket()
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    watch = IdleWatch(create_app(final=True, webserver_only=True))
    config = uvicorn.Config(watch, log_level="error", lifespan="on", timeout_keep_alive=5)
    server = uvicorn.Server(config)

    async def record_then_watch() -> None:
        while not server.started:
            if server.should_exit:
                return
            await asyncio.sleep(0.05)
        state = {
            "pid": os.getpid(),
            "api_url": f"http://127.0.0.1:{port}/api",
            "ui_url": f"http://127.0.0.1:{port}",
            "idle_minutes": idle_seconds / 60,
        }
        (home / STATE_FILE).write_text(json.dumps(state), encoding="utf-8")
        while not server.should_exit:
            await asyncio.sleep(min(CHECK_EVERY_SECONDS, max(idle_seconds / 4, 0.2)))
            if watch.idle_seconds() >= idle_seconds:
                server.should_exit = True

    try:
        await asyncio.gather(server.serve(sockets=[sock]), record_then_watch())
    finally:
        state = read_state(home)
        if state and state.get("pid") == os.getpid():
            (home / STATE_FILE).unlink(missing_ok=True)


def main(argv: list[str]) -> None:
    home, idle_seconds = Path(argv[0]), float(argv[1])
    asyncio.run(_serve(home, idle_seconds))


if __name__ == "__main__":
    main(sys.argv[1:])
