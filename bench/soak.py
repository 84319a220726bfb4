"""`make soak`: the flows under faults, killed at random points, then a clean rerun; nothing lost, nothing twice.

The parent serves the demo coalition from an in-process sandbox (no state file)
that answers 20% of requests with 429, 5% with a 5xx, delays some and lets some
time out. The flows run in a child process (`python -m bench.soak --child`, the
same flows `coalition run` runs, through Prefect), which the parent kills with
SIGKILL at a random moment, several times. Then faults go off and a clean child
runs every flow to the end. The parent checks, by reading the sandbox's state and
the ledger directly:

- intake rows lost: a non-empty Intake row without Intake ID, Status or reason,
  or a row missing or added;
- referrals duplicated: an Intake ID in a partner sheet more than its referrals
  allow, or a referral id written twice;
- Slack messages duplicated: the same message twice in one channel;
- documents duplicated: two weekly documents for one week;
- sheet cells the bot does not own overwritten: any form or staff cell of the
  Intake sheet that changed.

Every count must be 0; the command exits non-zero otherwise. Bounded: at most
`--kills` kills, each child has a deadline, and the whole soak stops by itself.

Then the kill points (`--kill-points`, on by default): a traced clean run lists
every task boundary of every flow (flows/steps.py prints `STEP <flow>:<task>`);
for each, a child runs that flow and SIGKILLs itself right after that task
(COALITION_KILL_AFTER), the lease lapses (children run with a 2 s lease, set by
COALITION_LEASE_SECONDS), a clean child runs the flow again, and the checks above
run plus one more: no lease left held. This runs on a SQLite ledger and on
PostgreSQL (`--pg-url`, a database of the soak's own that it empties), then with
two runners at once against one ledger (one killed at the point, one clean). A
table per kill point is printed; any miss fails the command.
"""

from __future__ import annotations

import argparse
import functools
import os
import random
import sys
import time
from collections.abc import Callable
from typing import Any

from bench.soak_common import (
    ROOT,
    SEQUENCE,
    check_invariants,
    child,
    mark_staff_cells,
    own_budgets,
    soak_env,
)
from bench.soak_points import HEADER, run_phase
from bench.soak_runs import ForkedRun, load_flows, prefect_server, run_jobs

KILL_ORDER = ("intake-routing", "alerts", "weekly-summary", "referral-follow-up", "roster-sync")
FAULTS = [
    {"kind": "429", "p": 0.20},
    {"kind": "5xx", "p": 0.05, "status": 503},
    {"kind": "latency", "p": 0.20, "seconds": 0.05},
    {"kind": "timeout", "p": 0.01, "seconds": 1.5},
]


def set_faults(sandbox: Any, on: bool, seed: int) -> None:
    sandbox.faults.clear()
    sandbox.faults.reseed(seed)
    if on:
        for rule in FAULTS:
            sandbox.faults.add(**rule)


# ---------------------------------------------------------------- the soak
def soak(kills: int, seed: int, scale: float, budget_seconds: float) -> int:
    from coalition.settings import reload_settings
    from sandbox.app import Sandbox
    from sandbox.runner import start_in_thread

    rng = random.Random(seed)
    var = ROOT / "var" / "soak"
    var.mkdir(parents=True, exist_ok=True)
    (var / "ledger.sqlite3").unlink(missing_ok=True)
    log = var / "children.log"
    log.unlink(missing_ok=True)
    deadline = time.monotonic() + budget_seconds
    running = start_in_thread(Sandbox(seed="demo", time_scale=scale, rate_limits=True))
    sandbox = running.sandbox
    env = own_budgets(soak_env(running.url, var, scale))
    os.environ.update(
        {
            k: env[k]
            for k in ("COALITION_SANDBOX_URL", "COALITION_DATABASE_URL", "COALITION_VAR_DIR")
        }
    )
    reload_settings()
    print(f"  random kills: faults {FAULTS}; {kills} kills; time scale {scale}")
    landed = 0
    try:
        before = mark_staff_cells(sandbox)
        for n in range(1, kills + 1):
            set_faults(sandbox, True, seed + n)
            # Each kill lands in a different flow; a killed run starts at its target, as the
            # next scheduled run of that flow would, and the clean rerun then runs them all.
            # The first run starts at the beginning, so partners exist before intake routing dies.
            target = KILL_ORDER[(n - 1) % len(KILL_ORDER)]
            run = ForkedRun(
                env, log, only=None if n == 1 else list(SEQUENCE[SEQUENCE.index(target) :])
            )
            delay = rng.uniform(0.5, 12.0)
            reached = run.wait_for(f"START {target}", max(deadline - time.monotonic() - 120, 10))
            finished = run.wait(timeout=delay) is not None if reached else run.ended()
            if not finished:
                run.kill()
                landed += 1
            stage = next(
                (line for line in reversed(run.lines) if line.startswith("START ")), "START ?"
            )[6:]
            what = "finished before the kill" if finished else f"SIGKILL {delay:.1f} s into {stage}"
            print(f"  random kills: run {n}: {what}", flush=True)
            run.close()
        set_faults(sandbox, False, seed)
        print("  random kills: clean rerun, faults off ...")
        clean = ForkedRun(env, log)
        code = clean.wait(timeout=max(deadline - time.monotonic(), 60))
        clean.close()
        for line in clean.lines:
            if line.startswith("DONE"):
                print(f"  random kills:   {line}")
        counts = check_invariants(sandbox, before)
    finally:
        running.stop()
    width = max(len(k) for k in counts)
    for name, value in counts.items():
        print(f"  random kills: {name:<{width}}  {value}")
    print(f"  random kills: {'kills that landed':<{width}}  {landed} of {kills}")
    # A soak whose runs all finished before their kill proved nothing about crashes.
    ok = code == 0 and not any(counts.values()) and landed > 0
    took = budget_seconds - (deadline - time.monotonic())
    verdict = "passed: nothing lost, nothing twice" if ok else f"FAILED; see {log}"
    print(
        f"  random kills {verdict} ({took:.0f} s; clean rerun exit {code}; {landed} kills landed)"
    )
    return 0 if ok else 1


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description="Fault soak: faults, random kills, a clean rerun, zero losses."
    )
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--start", choices=SEQUENCE, help=argparse.SUPPRESS)
    parser.add_argument("--only", help=argparse.SUPPRESS)
    parser.add_argument(
        "--kill-points",
        default="sqlite,postgresql,two-runners",
        help="phases of deterministic kills after every task (comma list; '' for none)",
    )
    parser.add_argument(
        "--pg-url",
        default=os.environ.get(
            "COALITION_SOAK_DATABASE_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/soak"
        ),
        help="a PostgreSQL database of the soak's own (it is emptied)",
    )
    parser.add_argument("--skip-random", action="store_true", help="only the kill points")
    parser.add_argument(
        "--flows", help="kill points of these flows only (comma list; a quick check)"
    )
    parser.add_argument("--kills", type=int, default=5)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--time-scale", type=float, default=20.0)
    parser.add_argument(
        "--budget", type=float, default=570.0, help="seconds the whole soak may take"
    )
    args = parser.parse_args(argv)
    sys.path.insert(0, str(ROOT))
    if args.child:
        return child(args.start, args.only.split(",") if args.only else None)
    from ops.prefect_env import configure_prefect

    configure_prefect()
    started = time.monotonic()
    phases = [p for p in args.kill_points.split(",") if p]
    jobs: list[tuple[str, Callable[[], int]]] = []
    if not args.skip_random:
        jobs.append(
            ("random kills", lambda: soak(args.kills, args.seed, args.time_scale, args.budget))
        )
    for name in phases:
        flows = args.flows.split(",") if args.flows else None
        work = functools.partial(run_phase, name, args.pg_url, args.time_scale, flows)
        jobs.append((name, work))
    # One warm Prefect server for every run of every job; a server home per set of jobs, so
    # two soaks may run side by side.
    home = ROOT / "var" / "soak" / f"prefect-server-{'-'.join(n for n, _ in jobs) or 'none'}"
    with prefect_server(home) as api:
        load_flows(api)  # imported once here: every forked run starts with them loaded
        print(
            f"Soak: {len(jobs)} jobs at once ({', '.join(n for n, _ in jobs)}); one Prefect server"
        )
        if phases:
            print("Kill points: each flow SIGKILLed after each of its tasks, then a clean rerun")
            print(HEADER)
        code = run_jobs(
            [(n, functools.partial(work, api) if n in phases else work) for n, work in jobs]
        )
    verdict = "passed" if code == 0 else "FAILED"
    print(f"Soak {verdict}; total {time.monotonic() - started:.0f} s")
    return code


if __name__ == "__main__":
    sys.exit(main())
