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

import os
import time
from pathlib import Path
from typing import Any

from bench.soak_common import (
    BOT_COLUMNS,
    LEASE_SECONDS,
    ROOT,
    STAFF_MARK,
    check_invariants,
    intake_table,
    mark_staff_cells,
    own_budgets,
    soak_env,
)
from bench.soak_runs import ForkedRun, mark_crashed, warm_imports

KILL_ENV = "COALITION_KILL_AFTER"  # read by flows/steps.py (imported only once Prefect is set up)
TRACE_ENV = "COALITION_STEP_TRACE"

CHILD_DEADLINE = 300.0
NEW_ROWS = 6


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
    """A traced clean run of every flow: the task boundaries, in order, once each.

    What that run imported as it went is then imported here, for every later run to inherit.
    """
    modules = log.with_name("modules.txt")
    run = ForkedRun({**env, TRACE_ENV: "1"}, log, modules=modules)
    code = run.wait(timeout=CHILD_DEADLINE * 2)
    run.close()
    if modules.exists():
        warm_imports(modules)
    points = list(dict.fromkeys(line[5:] for line in run.lines if line.startswith("STEP ")))
    return points, code


def one_point(
    point: str, env: dict[str, str], log: Path, sandbox: Any, two: bool
) -> dict[str, Any]:
    """Kill a run of the point's flow there, let its work go free, rerun it clean, and check."""
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
        killed.wait_for("STEP ", 120)
        other = ForkedRun(env, log, only=[flow])
    killed.wait(timeout=CHILD_DEADLINE)
    if other is not None:
        other.wait(timeout=CHILD_DEADLINE)
        other.close()
    killed.close()
    death = next((line for line in killed.lines if line.startswith("KILLED after")), None)
    # With two runners, the one meant to die may find the other holding the flow's lease
    # (alerts runs one at a time) and stand aside before reaching its kill point.
    aside = any(line.startswith("STOOD ASIDE") for line in killed.lines)
    freed = "-"
    if death is not None and not two:
        # One runner: Prefect is told the run crashed (its heartbeats stopped, as the zombie
        # automation would conclude), and the rerun lets the dead run's leases lapse at once.
        mark_crashed(death.rsplit(" run ", 1)[1], f"soak: SIGKILL at {point}")
        freed = "crashed"
    elif death is not None:
        time.sleep(LEASE_SECONDS + 0.5)  # two runners: the dead run's leases lapse on their own
        freed = "lapsed"
    clean = ForkedRun(env, log, only=[flow])
    code = clean.wait(timeout=CHILD_DEADLINE)
    clean.close()
    counts = check_invariants(sandbox, before)
    counts["leases left held"] = leases_left()
    return {
        "point": point,
        "killed": death is not None,
        "stood aside": aside and death is None,
        "freed": freed,
        "rerun exit": code,
        "misses": sum(counts.values()),
        "counts": counts,
        "seconds": time.monotonic() - started,
    }


def phase(
    name: str, pg_url: str, scale: float, api: str, flows: list[str] | None = None
) -> list[dict[str, Any]]:
    """One phase on its own sandbox and ledger: discover the points, then kill at each."""
    from coalition.ledger import open_ledger
    from coalition.ledger.db import forget_ledgers, reset_schema
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
        reset_schema(pg_url)
    running = start_in_thread(Sandbox(seed="demo", time_scale=scale, rate_limits=True))
    sandbox = running.sandbox
    env = {**soak_env(running.url, var, scale, database_url), "PREFECT_API_URL": api}
    if name != "two-runners":  # two runners against one sandbox share its budget
        env = own_budgets(env)
    keys = ("COALITION_SANDBOX_URL", "COALITION_DATABASE_URL", "COALITION_VAR_DIR")
    os.environ.update({k: env[k] for k in keys})
    forget_ledgers()
    reload_settings()
    open_ledger()  # migrated once here; each run then only checks it is at the newest schema
    rows: list[dict[str, Any]] = []
    try:
        mark_staff_cells(sandbox)
        points, code = discover(env, log)
        print(f"  {name}: {len(points)} kill points found by a traced clean run (exit {code})")
        if flows:
            points = [p for p in points if p.split(":", 1)[0] in flows]
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
        f"  {phase_name:<11} {row['point']:<52} {killed:<11} {row['freed']:<7} "
        f"rerun {row['rerun exit']!s:<4} misses: {missed} ({row['seconds']:.0f} s)"
    )


HEADER = (
    f"  {'phase':<11} {'kill point (flow:task)':<52} {'kill':<11} {'leases':<7} "
    "rerun      checks after the rerun"
)


def run_phase(name: str, pg_url: str, scale: float, flows: list[str] | None, api: str) -> int:
    """One phase, its lines and its verdict; 0 when every point was reached and nothing missed."""
    started = time.monotonic()
    rows = phase(name, pg_url, scale, api, flows)
    reached = [r for r in rows if r["killed"] or r["stood aside"]]
    bad = [r for r in rows if r not in reached or r["rerun exit"] != 0 or r["misses"]]
    print(
        f"  {name}: {len(rows)} kill points, {len(reached)} reached, {len(bad)} with a miss "
        f"({time.monotonic() - started:.0f} s)",
        flush=True,
    )
    return 1 if bad or not rows else 0
