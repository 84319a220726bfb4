"""`make soak`'s kill points: every flow SIGKILLed right after each of its tasks, then a clean rerun; nothing lost, nothing twice, no lease left.

Phases: `sqlite` and `postgresql` (a fresh demo coalition and ledger each), and
`two-runners` (on SQLite: at each point a second, clean runner of the same flow
runs at the same time as the one that dies). Before each intake-routing point a
few new form rows arrive, so every point has fresh work to strand.

Each run is a child forked from this process once it has imported Prefect and the
flows (a fresh interpreter spends most of a kill point importing them); the child
starts its own session, runs the flow through Prefect against one server shared
by every child, and dies at its kill point like a separate process would.
"""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import threading
import time
import traceback
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from bench.soak_common import (
    BOT_COLUMNS,
    LEASE_SECONDS,
    ROOT,
    STAFF_MARK,
    check_invariants,
    child,
    intake_table,
    mark_staff_cells,
    soak_env,
)

KILL_ENV = "COALITION_KILL_AFTER"  # read by flows/steps.py (imported only once Prefect is set up)
TRACE_ENV = "COALITION_STEP_TRACE"

CHILD_DEADLINE = 300.0
NEW_ROWS = 6


class ForkedRun:
    """One run of flows in a child forked from this process, in its own session; its output lines collected."""

    def __init__(self, env: dict[str, str], log: Path, only: list[str] | None = None) -> None:
        self.lines: list[str] = []
        self.log = log.open("a", encoding="utf-8")
        self.returncode: int | None = None
        read_fd, write_fd = os.pipe()
        self.log.flush()
        pid = os.fork()
        if pid == 0:
            os.close(read_fd)
            _forked_child(env, write_fd, str(log), only)  # never returns
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


def _forked_child(env: dict[str, str], out_fd: int, log: str, only: list[str] | None) -> None:
    code = 1
    try:
        os.setsid()  # its own session: a kill point takes only this run down
        os.dup2(out_fd, 1)
        err = os.open(log, os.O_WRONLY | os.O_APPEND | os.O_CREAT)
        os.dup2(err, 2)
        sys.stdout = os.fdopen(1, "w", buffering=1)
        sys.stderr = os.fdopen(2, "w", buffering=1)
        os.environ.clear()
        os.environ.update(env)
        from coalition.ledger import db
        from coalition.settings import reload_settings
        from integrations.slack import forget_channels

        db.forget_ledgers(after_fork=True)
        reload_settings()
        forget_channels()
        code = child(None, only)
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


def _reset_postgres(url: str) -> None:
    from sqlalchemy import create_engine, text

    engine = create_engine(url)
    with engine.begin() as conn:
        conn.execute(text("DROP SCHEMA public CASCADE"))
        conn.execute(text("CREATE SCHEMA public"))
    engine.dispose()


def add_intake_rows(sandbox: Any, n: int, tag: str) -> None:
    """New form answers: copies of routed rows with the bot's cells empty and a distinct phone and e-mail."""
    from coalition.settings import settings

    names = settings().services.sheets
    sheets = sandbox.services["sheets"]
    header, rows = intake_table(sandbox)
    filled = [r for r in rows if r[header.index("Intake ID")]][:n]
    fresh = []
    for i, row in enumerate(filled):
        copy = list(row)
        for column in BOT_COLUMNS:
            copy[header.index(column)] = ""
        copy[header.index(STAFF_MARK)] = ""
        if "Phone" in header:
            copy[header.index("Phone")] = f"(555) 01{i:02d}-{len(rows) % 10000:04d}"
        if "Email" in header:
            copy[header.index("Email")] = f"soak.{tag}.{i}@example.org"
        fresh.append(copy)
    sheets.set_values(sheets.find_by_title(names.intake), names.intake_tab, [header, *rows, *fresh])


def leases_left() -> int:
    from coalition.ledger import open_ledger
    from coalition.ledger.leases import LeaseStore

    return len(LeaseStore(open_ledger()).outstanding())


def discover(env: dict[str, str], log: Path) -> tuple[list[str], int | None]:
    """A traced clean run of every flow: the task boundaries, in order, once each."""
    run = ForkedRun({**env, TRACE_ENV: "1"}, log)
    code = run.wait(timeout=CHILD_DEADLINE * 2)
    run.close()
    points = list(dict.fromkeys(line[5:] for line in run.lines if line.startswith("STEP ")))
    return points, code


def one_point(
    point: str, env: dict[str, str], log: Path, sandbox: Any, two: bool
) -> dict[str, Any]:
    flow = point.split(":", 1)[0]
    if flow == "intake-routing":
        add_intake_rows(sandbox, NEW_ROWS, point.split(":", 1)[1].replace(" ", "-"))
    before = mark_staff_cells(sandbox)
    started = time.monotonic()
    killed = ForkedRun({**env, KILL_ENV: point, TRACE_ENV: "1"}, log, only=[flow])
    other = None
    if two:
        # The second runner starts once the first has passed its first task: the first holds
        # the flow's lease by then (alerts runs one at a time), so it still reaches its point.
        deadline = time.monotonic() + 120
        while not any(line.startswith("STEP ") for line in killed.lines):
            if time.monotonic() > deadline or killed.ended():
                break
            time.sleep(0.2)
        other = ForkedRun(env, log, only=[flow])
    killed.wait(timeout=CHILD_DEADLINE)
    if other is not None:
        other.wait(timeout=CHILD_DEADLINE)
        other.close()
    killed.close()
    landed = any(line.startswith("KILLED after") for line in killed.lines)
    # With two runners, the one meant to die may find the other holding the flow's lease
    # (alerts runs one at a time) and stand aside before reaching its kill point.
    aside = any(line.startswith("STOOD ASIDE") for line in killed.lines)
    time.sleep(LEASE_SECONDS + 0.5)  # the dead run's leases lapse
    clean = ForkedRun(env, log, only=[flow])
    code = clean.wait(timeout=CHILD_DEADLINE)
    clean.close()
    counts = check_invariants(sandbox, before)
    counts["leases left held"] = leases_left()
    return {
        "point": point,
        "killed": landed,
        "stood aside": aside and not landed,
        "rerun exit": code,
        "misses": sum(counts.values()),
        "counts": counts,
        "seconds": time.monotonic() - started,
    }


def phase(name: str, pg_url: str, scale: float, api: str) -> list[dict[str, Any]]:
    from coalition.ledger.db import forget_ledgers
    from coalition.settings import reload_settings
    from sandbox.app import Sandbox
    from sandbox.runner import start_in_thread

    var = ROOT / "var" / "soak" / name
    var.mkdir(parents=True, exist_ok=True)
    (var / "ledger.sqlite3").unlink(missing_ok=True)
    log = var / "children.log"
    log.unlink(missing_ok=True)
    database_url = None
    if name == "postgresql":
        database_url = pg_url
        _reset_postgres(pg_url)
    running = start_in_thread(Sandbox(seed="demo", time_scale=scale, rate_limits=True))
    sandbox = running.sandbox
    env = {**soak_env(running.url, var, scale, database_url), "PREFECT_API_URL": api}
    keys = ("COALITION_SANDBOX_URL", "COALITION_DATABASE_URL", "COALITION_VAR_DIR")
    os.environ.update({k: env[k] for k in keys})
    forget_ledgers()
    reload_settings()
    rows: list[dict[str, Any]] = []
    try:
        mark_staff_cells(sandbox)
        points, code = discover(env, log)
        print(f"  {name}: {len(points)} kill points found by a traced clean run (exit {code})")
        for point in points:
            row = one_point(point, env, log, sandbox, two=name == "two-runners")
            rows.append(row)
            print(_line(name, row), flush=True)
    finally:
        running.stop()
        forget_ledgers()
    return rows


def _line(phase_name: str, row: dict[str, Any]) -> str:
    missed = ", ".join(f"{k} {v}" for k, v in row["counts"].items() if v) or "none"
    killed = "killed" if row["killed"] else "stood aside" if row["stood aside"] else "NOT REACHED"
    return (
        f"  {phase_name:<11} {row['point']:<52} {killed:<11} rerun {row['rerun exit']!s:<4} "
        f"misses: {missed} ({row['seconds']:.0f} s)"
    )


def kill_points(phases: list[str], pg_url: str, scale: float) -> int:
    """Every phase asked for; 0 when every point was reached and nothing was lost, twice or left held."""
    print("Kill points: each flow SIGKILLed after each of its tasks, then a clean rerun")
    print(
        f"  {'phase':<11} {'kill point (flow:task)':<52} {'kill':<11} rerun      checks after the rerun"
    )
    failed = 0
    total = 0
    # One server home per set of phases, so two soaks may run side by side.
    home = ROOT / "var" / "soak" / f"prefect-server-{'-'.join(phases)}"
    with prefect_server(home) as api:
        # Prefect reads its settings when imported: point it at the shared server first, then
        # import the flows once here, so that every forked child starts with them loaded.
        os.environ.update({"PREFECT_API_URL": api, "PREFECT_LOGGING_LEVEL": "WARNING"})
        import flows.health  # noqa: F401
        from flows.registry import FLOWS

        for entry in FLOWS.values():
            entry.load()
        for name in phases:
            ran, missed = _run_phase(name, pg_url, scale, api)
            total, failed = total + ran, failed + missed
    verdict = "passed" if not failed else f"FAILED ({failed} kill points with a miss)"
    print(f"Kill points {verdict}: {total} kills over {', '.join(phases)}")
    return 0 if not failed else 1


def _run_phase(name: str, pg_url: str, scale: float, api: str) -> tuple[int, int]:
    """(kill points run, kill points with a miss) of one phase; a phase that found none is a miss."""
    started = time.monotonic()
    rows = phase(name, pg_url, scale, api)
    reached = [r for r in rows if r["killed"] or r["stood aside"]]
    bad = [r for r in rows if r not in reached or r["rerun exit"] != 0 or r["misses"]]
    print(
        f"  {name}: {len(rows)} kill points, {len(bad)} with a miss "
        f"({time.monotonic() - started:.0f} s)",
        flush=True,
    )
    return len(rows), len(bad) + (0 if rows else 1)
