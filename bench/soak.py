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
import contextlib
import json
import os
import random
import signal
import subprocess
import sys
import threading
import time
from collections import Counter
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
SEQUENCE = ("roster-sync", "intake-routing", "alerts", "weekly-summary", "referral-follow-up")
KILL_ORDER = ("intake-routing", "alerts", "weekly-summary", "referral-follow-up", "roster-sync")
FAULTS = [
    {"kind": "429", "p": 0.20},
    {"kind": "5xx", "p": 0.05, "status": 503},
    {"kind": "latency", "p": 0.20, "seconds": 0.05},
    {"kind": "timeout", "p": 0.01, "seconds": 1.5},
]
BOT_COLUMNS = ("Intake ID", "Status", "Partner", "Referral ID", "Routed at", "Routing reason")
STAFF_MARK = "Staff notes"
LEASE_SECONDS = 2.0  # the children's lease (schedules.yaml says 5 minutes for real runs)


# ---------------------------------------------------------------- the child: run the flows
def child(start: str | None = None, only: list[str] | None = None) -> int:
    """Run every built flow once, in order (from `start`, or just `only`), saying when each starts and how it ended."""
    from ops.prefect_env import configure_prefect

    configure_prefect(Path(os.environ["COALITION_VAR_DIR"]) / "prefect")
    from flows.registry import FLOWS

    failed = 0
    names = only or SEQUENCE[SEQUENCE.index(start) if start else 0 :]
    for name in names:
        entry = FLOWS[name]
        print(f"START {name}", flush=True)
        state = entry.load()(return_state=True)
        print(f"DONE {name} {state.type.value} {state.message or ''}"[:300], flush=True)
        if _stood_aside(state):
            print(f"STOOD ASIDE {name}", flush=True)  # another run held the flow's lease
        failed += 0 if state.is_completed() else 1
    return 1 if failed else 0


def _stood_aside(state: Any) -> bool:
    try:
        return bool(getattr(state.result(raise_on_failure=False), "stood_aside", False))
    except Exception:  # no result kept: it did not stand aside as far as we can tell
        return False


# ---------------------------------------------------------------- the parent
class ChildRun:
    """One child process in its own process group, its output lines collected by a thread."""

    def __init__(
        self,
        env: dict[str, str],
        log: Path,
        start: str | None = None,
        only: list[str] | None = None,
    ) -> None:
        self.lines: list[str] = []
        self.started = threading.Event()
        self.flow_started = {name: threading.Event() for name in SEQUENCE}
        self.log = log.open("a", encoding="utf-8")
        self.proc = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "bench.soak",
                "--child",
                *(["--start", start] if start else []),
                *(["--only", ",".join(only)] if only else []),
            ],
            cwd=ROOT,
            env=env,
            stdout=subprocess.PIPE,
            stderr=self.log,
            text=True,
            start_new_session=True,  # so a kill takes Prefect's server subprocess with it
        )
        self.reader = threading.Thread(target=self._read, daemon=True)
        self.reader.start()

    def _read(self) -> None:
        assert self.proc.stdout is not None
        for line in self.proc.stdout:
            line = line.rstrip()
            self.lines.append(line)
            self.log.write(line + "\n")
            if line.startswith("START "):
                self.started.set()
                self.flow_started.get(line[6:].strip(), threading.Event()).set()

    def wait_for_flow(self, name: str, timeout: float) -> bool:
        """True once the child starts `name`; False if it ends (or time runs out) first."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.flow_started[name].wait(0.2):
                return True
            if self.proc.poll() is not None:
                return False
        return False

    def kill(self) -> None:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.proc.pid, signal.SIGKILL)
        self.proc.wait()

    def wait(self, timeout: float) -> int | None:
        try:
            return self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            self.kill()
            return None
        finally:
            self.reader.join(timeout=5)

    def close(self) -> None:
        self.log.close()


def soak_env(url: str, var: Path, scale: float, database_url: str | None = None) -> dict[str, str]:
    env = dict(os.environ)
    env.update(
        {
            "COALITION_SANDBOX_URL": url,
            "COALITION_VAR_DIR": str(var),
            "COALITION_DATABASE_URL": database_url or f"sqlite:///{var / 'ledger.sqlite3'}",
            "COALITION_TIME_SCALE": str(scale),
            # A killed run's claims lapse in seconds, so the reruns take its work over at once.
            "COALITION_LEASE_SECONDS": str(LEASE_SECONDS),
            "PREFECT_LOGGING_LEVEL": "WARNING",
            "PYTHONPATH": str(ROOT),
        }
    )
    return env


def set_faults(sandbox: Any, on: bool, seed: int) -> None:
    sandbox.faults.clear()
    sandbox.faults.reseed(seed)
    if on:
        for rule in FAULTS:
            sandbox.faults.add(**rule)


# ---------------------------------------------------------------- reading what people see
def intake_table(sandbox: Any) -> tuple[list[str], list[list[str]]]:
    from coalition.settings import settings

    names = settings().services.sheets
    sheets = sandbox.services["sheets"]
    header, *rows = sheets.get_values(sheets.find_by_title(names.intake), names.intake_tab)
    return header, [row + [""] * (len(header) - len(row)) for row in rows]


def mark_staff_cells(sandbox: Any) -> dict[str, list[str]]:
    """Give every Intake row a unique staff note (to find it again) and return its non-bot cells."""
    from coalition.settings import settings

    names = settings().services.sheets
    sheets = sandbox.services["sheets"]
    header, rows = intake_table(sandbox)
    mark = header.index(STAFF_MARK)
    for i, row in enumerate(rows):
        row[mark] = f"soak-row-{i:04d}"
    sheets.set_values(sheets.find_by_title(names.intake), names.intake_tab, [header, *rows])
    return {row[mark]: _not_bot(header, row) for row in rows}


def _not_bot(header: list[str], row: list[str]) -> list[str]:
    return [cell for name, cell in zip(header, row, strict=True) if name not in BOT_COLUMNS]


def check_invariants(sandbox: Any, before: dict[str, list[str]]) -> dict[str, int]:
    header, rows = intake_table(sandbox)
    mark = header.index(STAFF_MARK)
    col = {name: header.index(name) for name in BOT_COLUMNS}
    seen = {row[mark]: row for row in rows if row[mark]}
    lost = len(set(before) ^ set(seen)) + (len(rows) - len(seen))
    overwritten = 0
    for key, cells in before.items():
        row = seen.get(key)
        if row is None:
            continue
        overwritten += sum(1 for a, b in zip(cells, _not_bot(header, row), strict=True) if a != b)
        answered = any(
            cell.strip()
            for name, cell in zip(header, row, strict=True)
            if name not in (*BOT_COLUMNS, STAFF_MARK, "Timestamp")
        )
        if answered and not (
            row[col["Intake ID"]] and row[col["Status"]] and row[col["Routing reason"]]
        ):
            lost += 1
    return {
        "intake rows lost": lost,
        "referrals duplicated": referral_duplicates(sandbox),
        "Slack messages duplicated": slack_duplicates(sandbox),
        "documents duplicated": document_duplicates(sandbox),
        "sheet cells overwritten that the bot does not own": overwritten,
    }


def referral_duplicates(sandbox: Any) -> int:
    """Partner-sheet rows beyond one per referral (by referral id and by intake per partner)."""
    from coalition.ledger import open_ledger
    from coalition.ledger.referrals import STATES, ReferralStore
    from coalition.ledger.roster_store import PartnerDirectory

    sheets = sandbox.services["sheets"]
    ledger = open_ledger()
    partner_sheets = {
        p["member_id"]: p["referral_sheet"]
        for p in PartnerDirectory(ledger).partners()
        if p["referral_sheet"]
    }
    attempts = Counter(
        (r.partner_id, r.intake_id) for r in ReferralStore(ledger).referrals_in(STATES)
    )
    extra = 0
    for partner_id, sheet_id in partner_sheets.items():
        if not sheets.exists(sheet_id):
            continue
        header, *rows = sheets.get_values(sheet_id, sheets.tabs(sheet_id)[0]) or [[]]
        if "Intake ID" not in header:
            continue
        ids = Counter(row[header.index("Referral ID")] for row in rows if row)
        extra += sum(n - 1 for n in ids.values() if n > 1)
        intakes = Counter(row[header.index("Intake ID")] for row in rows if len(row) > 1)
        extra += sum(
            max(n - attempts.get((partner_id, i), 0), 0) for i, n in intakes.items() if n > 1
        )
    return extra


def slack_duplicates(sandbox: Any) -> int:
    """The same content posted more than once in one channel (edits in place do not count)."""
    posts = Counter()
    for message in sandbox.services["slack"].all_messages():
        if message["kind"] != "message":
            continue
        body = json.dumps(
            [message.get("text"), message.get("blocks"), message.get("attachments")], sort_keys=True
        )
        posts[(message["channel"], body)] += 1
    return sum(n - 1 for n in posts.values() if n > 1)


def document_duplicates(sandbox: Any) -> int:
    titles = Counter(d.get("title") for d in sandbox.services["docs"].list_documents())
    return sum(n - 1 for n in titles.values() if n > 1)


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
    env = soak_env(running.url, var, scale)
    os.environ.update(
        {
            k: env[k]
            for k in ("COALITION_SANDBOX_URL", "COALITION_DATABASE_URL", "COALITION_VAR_DIR")
        }
    )
    reload_settings()
    print(
        f"Soak: demo coalition at {running.url}; faults {FAULTS}; {kills} kills; time scale {scale}"
    )
    landed = 0
    try:
        before = mark_staff_cells(sandbox)
        for n in range(1, kills + 1):
            set_faults(sandbox, True, seed + n)
            # Each kill lands in a different flow; a killed run starts at its target, as the
            # next scheduled run of that flow would, and the clean rerun then runs them all.
            # The first run starts at the beginning, so partners exist before intake routing dies.
            target = KILL_ORDER[(n - 1) % len(KILL_ORDER)]
            run = ChildRun(env, log, start=None if n == 1 else target)
            delay = rng.uniform(0.5, 12.0)
            reached = run.wait_for_flow(target, max(deadline - time.monotonic() - 120, 10))
            finished = (
                run.wait(timeout=delay) is not None if reached else run.proc.poll() is not None
            )
            if not finished:
                run.kill()
                landed += 1
            stage = next(
                (line for line in reversed(run.lines) if line.startswith("START ")), "START ?"
            )[6:]
            what = "finished before the kill" if finished else f"SIGKILL {delay:.1f} s into {stage}"
            print(f"  run {n}: {what}", flush=True)
            run.close()
        set_faults(sandbox, False, seed)
        print("  clean rerun, faults off ...")
        clean = ChildRun(env, log)
        code = clean.wait(timeout=max(deadline - time.monotonic(), 60))
        clean.close()
        for line in clean.lines:
            if line.startswith("DONE"):
                print(f"    {line}")
        counts = check_invariants(sandbox, before)
    finally:
        running.stop()
    width = max(len(k) for k in counts)
    for name, value in counts.items():
        print(f"  {name:<{width}}  {value}")
    print(f"  {'kills that landed':<{width}}  {landed} of {kills}")
    # A soak whose runs all finished before their kill proved nothing about crashes.
    ok = code == 0 and not any(counts.values()) and landed > 0
    took = budget_seconds - (deadline - time.monotonic())
    verdict = "Soak passed: nothing lost, nothing twice." if ok else f"Soak FAILED; see {log}"
    print(f"{verdict} ({took:.0f} s; clean rerun exit code {code}; {landed} kills landed)")
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

    configure_prefect(ROOT / "var" / "soak" / "prefect")
    started = time.monotonic()
    code = 0 if args.skip_random else soak(args.kills, args.seed, args.time_scale, args.budget)
    phases = [p for p in args.kill_points.split(",") if p]
    if phases:
        from bench.soak_points import kill_points

        code |= kill_points(phases, args.pg_url, args.time_scale)
    print(f"Soak total: {time.monotonic() - started:.0f} s")
    return code


if __name__ == "__main__":
    sys.exit(main())
