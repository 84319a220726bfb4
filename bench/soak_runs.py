"""The soak's processes: a flow run forked from the parent (Prefect and the flows already imported), one Prefect server shared by every run, and jobs forked to run side by side.

Forking spares each run the import of Prefect and the flows (most of a short run
on a loaded machine); one warm server spares each run starting its own; jobs
(the random kills and each kill-point phase) run at once, each with its own
sandbox and ledger, so the soak's wall time is its longest job, not their sum.
"""

from __future__ import annotations

import contextlib
import importlib
import os
import signal
import socket
import subprocess
import sys
import threading
import time
import traceback
import urllib.request
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TextIO

from bench.soak_common import child


class ForkedRun:
    """One run of flows in a child forked from this process, in its own session; its output lines collected."""

    def __init__(
        self,
        env: dict[str, str],
        log: Path,
        only: list[str] | None = None,
        modules: Path | None = None,
    ) -> None:
        self.lines: list[str] = []
        self.log = log.open("a", encoding="utf-8")
        self.returncode: int | None = None
        read_fd, write_fd = os.pipe()
        self.log.flush()
        pid = os.fork()
        if pid == 0:
            os.close(read_fd)
            _forked_child(env, write_fd, str(log), only, modules)  # never returns
        os.close(write_fd)
        self.pid = pid
        self._stream = os.fdopen(read_fd, encoding="utf-8", errors="replace")
        self.reader = threading.Thread(target=self._read, daemon=True)
        self.reader.start()

    def _read(self) -> None:
        for line in self._stream:
            line = line.rstrip()
            self.lines.append(line)
            self.log.write(line + "\n")

    def _reap(self, block: bool) -> bool:
        if self.returncode is not None:
            return True
        pid, status = os.waitpid(self.pid, 0 if block else os.WNOHANG)
        if pid == 0:
            return False
        self.returncode = os.waitstatus_to_exitcode(status)
        return True

    def ended(self) -> bool:
        return self._reap(block=False)

    def wait_for(self, prefix: str, timeout: float) -> bool:
        """True once the run prints a line starting with `prefix`; False if it ends (or time runs out) first."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if any(line.startswith(prefix) for line in list(self.lines)):
                return True
            if self.ended():
                self.reader.join(timeout=5)
                return any(line.startswith(prefix) for line in self.lines)
            time.sleep(0.1)
        return False

    def wait(self, timeout: float) -> int | None:
        """The exit code (negative: killed by that signal), or None after killing a child past `timeout`."""
        deadline = time.monotonic() + timeout
        while not self._reap(block=False):
            if time.monotonic() > deadline:
                self.kill()
                self.reader.join(timeout=5)
                return None
            time.sleep(0.1)
        self.reader.join(timeout=5)
        return self.returncode

    def kill(self) -> None:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.pid, signal.SIGKILL)
        self._reap(block=True)

    def close(self) -> None:
        self.log.close()


def _text_on(fd: int) -> TextIO:
    """A line-buffered text stream on `fd` for the rest of the process (never closes the fd)."""
    return open(fd, "w", buffering=1, closefd=False)


def _forked_child(
    env: dict[str, str], out_fd: int, log: str, only: list[str] | None, modules: Path | None
) -> None:
    code = 1
    before = set(sys.modules)
    try:
        os.setsid()  # its own session: a kill point takes only this run down
        os.dup2(out_fd, 1)
        err = os.open(log, os.O_WRONLY | os.O_APPEND | os.O_CREAT)
        os.dup2(err, 2)
        sys.stdout = _text_on(1)
        sys.stderr = _text_on(2)
        os.environ.clear()
        os.environ.update(env)
        from coalition.ledger import db
        from coalition.settings import reload_settings
        from integrations.slack import forget_channels

        db.forget_ledgers(after_fork=True)
        reload_settings()
        forget_channels()
        code = child(None, only)
        if modules is not None:
            modules.write_text("\n".join(sorted(set(sys.modules) - before)), encoding="utf-8")
    except BaseException:
        traceback.print_exc()
    finally:
        with contextlib.suppress(Exception):
            sys.stdout.flush()
            sys.stderr.flush()
        os._exit(code)


@contextlib.contextmanager
def prefect_server(home: Path) -> Iterator[str]:
    """One Prefect server for every child of the kill points (each would otherwise start its own)."""
    from ops.prefect_env import _ALWAYS, _EPHEMERAL_DEFAULTS

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    api = f"http://127.0.0.1:{port}/api"
    home.mkdir(parents=True, exist_ok=True)
    env = {k: v for k, v in os.environ.items() if not k.startswith("PREFECT_")}
    env.update({**_ALWAYS, **_EPHEMERAL_DEFAULTS, "PREFECT_HOME": str(home)})
    log = (home / "server.log").open("w", encoding="utf-8")
    prefect = Path(sys.executable).with_name("prefect")
    server = subprocess.Popen(
        [str(prefect), "server", "start", "--host", "127.0.0.1", "--port", str(port)],
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    try:
        deadline = time.monotonic() + 300
        while not _healthy(api):
            if time.monotonic() > deadline or server.poll() is not None:
                raise RuntimeError(
                    f"the soak's Prefect server did not start; see {home}/server.log"
                )
            time.sleep(1)
        yield api
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(server.pid, 9)
        server.wait()
        log.close()


def _healthy(api: str) -> bool:
    try:
        with urllib.request.urlopen(f"{api}/health", timeout=2) as reply:
            return reply.status == 200
    except OSError:
        return False


def load_flows(api: str) -> None:
    """Point Prefect at the shared server, then import every flow once, before any fork."""
    os.environ.update({"PREFECT_API_URL": api, "PREFECT_LOGGING_LEVEL": "WARNING"})
    import flows.health  # noqa: F401
    from flows.registry import FLOWS

    for entry in FLOWS.values():
        entry.load()


def warm_imports(modules: Path) -> int:
    """Import here what a run imported as it went (alembic, Prefect's engine...), so every later
    fork starts with them: with PYTHONDONTWRITEBYTECODE each fresh import compiles its source."""
    imported = 0
    for name in modules.read_text(encoding="utf-8").split():
        with contextlib.suppress(Exception):
            importlib.import_module(name)
            imported += 1
    return imported


def mark_crashed(run_id: str, why: str) -> None:
    """Set a killed run's state to Crashed, as Prefect's zombie automation does when its heartbeats stop."""
    from prefect.client.orchestration import get_client
    from prefect.states import Crashed

    with get_client(sync_client=True) as client:
        client.set_flow_run_state(run_id, Crashed(message=why), force=True)


class Job:
    """A part of the soak forked from this process; its output printed as it comes, its exit code kept."""

    def __init__(self, name: str, work: Callable[[], int]) -> None:
        self.name = name
        read_fd, write_fd = os.pipe()
        sys.stdout.flush()
        pid = os.fork()
        if pid == 0:
            os.close(read_fd)
            code = 1
            try:
                os.dup2(write_fd, 1)
                os.close(write_fd)
                sys.stdout = _text_on(1)
                code = work()
            except BaseException:
                traceback.print_exc()
            finally:
                with contextlib.suppress(Exception):
                    sys.stdout.flush()
                os._exit(min(code, 1))
        os.close(write_fd)
        self.pid = pid
        self._stream = os.fdopen(read_fd, encoding="utf-8", errors="replace")
        self.reader = threading.Thread(target=self._relay, daemon=True)
        self.reader.start()

    def _relay(self) -> None:
        for line in self._stream:
            print(line.rstrip(), flush=True)

    def wait(self) -> int:
        _, status = os.waitpid(self.pid, 0)
        self.reader.join(timeout=5)
        return os.waitstatus_to_exitcode(status)


def run_jobs(jobs: list[tuple[str, Callable[[], int]]]) -> int:
    """Every job at once; 0 when each exited 0."""
    started = [Job(name, work) for name, work in jobs]
    codes = [job.wait() for job in started]
    return 1 if any(codes) else 0
