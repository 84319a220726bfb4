"""`coalition demo`: the whole bot rehearsed on the embedded sandbox seeded with a fictional coalition."""

from __future__ import annotations

import os
import shutil
import time
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.table import Table

from coalition.settings import reload_settings, settings

DEMO_ORDER = ("roster-sync", "intake-routing", "alerts", "weekly-summary", "referral-follow-up")


def _fresh_demo_env() -> Path:
    """A clean var/demo for this rehearsal: its own ledger, so reruns of the demo start alike."""
    var = Path(settings().secrets.coalition_var_dir) / "demo"
    shutil.rmtree(var, ignore_errors=True)
    var.mkdir(parents=True)
    os.environ["COALITION_DATABASE_URL"] = f"sqlite:///{var / 'ledger.sqlite3'}"
    return var


def run_demo(
    console: Console, keep_serving: bool = False, port: int = 0, seed: str = "demo"
) -> int:
    """Start the sandbox, run every built flow in order (twice, to show the rerun writes nothing).

    `seed="foreign"` rehearses day one of a real install: the demo's data under the
    coalition's own names, found by `setup discover --write` into a copy of config/,
    then `doctor`, then the flows, and every intake row must end with a status.
    """
    from flows.registry import FLOWS
    from sandbox.app import Sandbox
    from sandbox.runner import start_in_thread

    var = _fresh_demo_env()
    running = start_in_thread(Sandbox(seed=seed), port=port or None)
    os.environ["COALITION_SANDBOX_URL"] = running.url
    reload_settings()
    from coalition.ledger.db import forget_ledgers

    forget_ledgers()
    console.print(
        f"Sandbox with the {seed} coalition at [bold]{running.url}[/] (open it in a browser to look around)"
    )
    results: list[tuple[str, str, str, float]] = []
    failed = False
    try:
        if seed == "foreign" and not _day_one(console, var):
            return 1
        for name in DEMO_ORDER:
            entry = FLOWS[name]
            for attempt in ("first run", "rerun"):
                started = time.perf_counter()
                before = running.sandbox.journal.last_seq
                try:
                    report = entry.load()()
                    outcome = _one_line(report)
                except Exception as exc:
                    failed = True
                    outcome = f"FAILED: {type(exc).__name__}: {exc}"
                writes = _writes_since(running.sandbox, before)
                results.append(
                    (
                        name,
                        attempt,
                        f"{outcome}; {writes} write requests",
                        time.perf_counter() - started,
                    )
                )
        _print_results(console, results)
        if seed == "foreign" and not _every_row_routed(console, running.sandbox):
            failed = True
        if not _slack_app_conversation(console, running):
            failed = True
        _print_workspace(console, running.sandbox)
        if keep_serving:
            console.print(f"Sandbox still serving at {running.url}; Ctrl-C to stop.")
            try:
                while True:
                    time.sleep(3600)
            except KeyboardInterrupt:
                pass
    finally:
        running.stop()
    return 1 if failed else 0


def _day_one(console: Console, var: Path) -> bool:
    """Discover the workspace's names into a copy of config/, then doctor: as ops would on day one."""
    from ops.doctor import run_checks
    from ops.setup_discover import run_discover

    config = var / "config"
    shutil.copytree(settings().config_dir, config)
    os.environ["COALITION_CONFIG_DIR"] = str(config)
    reload_settings()
    console.print(f"Day one: [bold]coalition setup discover --write[/] into {config}")
    if run_discover(write=True, console=console) != 0:
        console.print("[red]discover left needed names unmapped; the rehearsal stops here[/]")
        return False
    reload_settings()
    checks = run_checks()
    table = Table(title="coalition doctor")
    for column in ("check", "result"):
        table.add_column(column)
    for check in checks:
        table.add_row(check.name, ("ok " if check.ok else "FAIL ") + check.detail)
    console.print(table)
    if not all(check.ok for check in checks):
        console.print("[red]doctor found problems; the rehearsal stops here[/]")
        return False
    return True


def _every_row_routed(console: Console, sandbox: Any) -> bool:
    """Every intake row ends with a status, none left in "Routing"; counts by status."""
    from collections import Counter

    cfg = settings()
    sheets = sandbox.services["sheets"]
    sheet_id = sheets.find_by_title(cfg.services.sheets.intake)
    rows = sheets.get_values(sheet_id, cfg.services.sheets.intake_tab) if sheet_id else []
    if not rows:
        console.print("[red]the Intake tab could not be read[/]")
        return False
    status = cfg.fields.intake.bot.status
    index = rows[0].index(status) if status in rows[0] else None
    statuses = Counter(
        (row[index] if index is not None and index < len(row) else "") or "(none)"
        for row in rows[1:]
    )
    stuck = statuses.get("Routing", 0) + statuses.get("(none)", 0)
    shown = ", ".join(f"{name} {count}" for name, count in sorted(statuses.items()))
    console.print(f"Intake rows: {len(rows) - 1} ({shown}); without a final status: {stuck}")
    return stuck == 0


def _slack_app_conversation(console: Console, running: Any) -> bool:
    """The Slack app's part, once it is built: people using /coalition and the buttons."""
    try:
        from bot.demo import rehearse
    except ImportError:
        return True
    return rehearse(running.sandbox, running.url, console)


def _writes_since(sandbox: Any, seq: int) -> int:
    read_paths = ("listRecords", ":batchGet")
    return sum(
        1
        for e in sandbox.journal.entries(since=seq)
        if e.method not in {"GET", "HEAD"}
        and e.service not in {"control", "viewer"}
        and not e.path.endswith(read_paths)
    )


def _one_line(report: Any) -> str:
    if hasattr(report, "summary_lines"):
        return " | ".join(report.summary_lines())
    if hasattr(report, "model_dump"):
        data = report.model_dump(mode="json")
        return ", ".join(f"{k}={v}" for k, v in data.items() if isinstance(v, int | float | str))[
            :300
        ]
    return str(report)[:300]


def _print_results(console: Console, results: list[tuple[str, str, str, float]]) -> None:
    table = Table(title="Demo: flows on the sandbox")
    for column in ("flow", "run", "outcome", "seconds"):
        table.add_column(column)
    for name, attempt, outcome, seconds in results:
        table.add_row(name, attempt, outcome, f"{seconds:.1f}")
    console.print(table)


def _print_workspace(console: Console, sandbox: Any) -> None:
    slack = sandbox.services["slack"]
    table = Table(title="What staff would now see in Slack")
    table.add_column("channel")
    table.add_column("messages")
    table.add_column("thread replies")
    table.add_column("latest message reads")
    for channel in sorted(slack.channels.values(), key=lambda c: c["name"]):
        messages = slack.messages(channel["id"], include_ephemeral=True)
        if not messages:
            continue
        replies = sum(
            max(len(slack.replies(channel["id"], m["ts"])) - 1, 0)
            for m in messages
            if m.get("reply_count")
        )
        table.add_row(
            f"#{channel['name']}", str(len(messages)), str(replies), _first_line(messages[-1])
        )
    console.print(table)
    _print_intake_reasons(console, sandbox)


def _first_line(message: dict[str, Any]) -> str:
    """The first line a person reads in a message (its header or first section)."""
    for block in message.get("blocks") or []:
        text = block.get("text")
        if isinstance(text, dict) and text.get("text"):
            return str(text["text"]).splitlines()[0][:90]
    return str(message.get("text") or "").splitlines()[0][:90] if message.get("text") else ""


def _print_intake_reasons(console: Console, sandbox: Any, limit: int = 10) -> None:
    """The Intake sheet's most frequent statuses and routing reasons (no personal data in them)."""
    from collections import Counter

    cfg = settings().services.sheets
    sheets = sandbox.services["sheets"]
    sheet_id = sheets.find_by_title(cfg.intake)
    values = sheets.get_values(sheet_id, cfg.intake_tab) if sheet_id else []
    if not values:
        return
    header = values[0]
    if "Status" not in header or "Routing reason" not in header:
        return
    status, reason = header.index("Status"), header.index("Routing reason")
    seen = Counter(
        (row[status], row[reason])
        for row in values[1:]
        if len(row) > reason and row[status] and row[status] != "Referred"
    )
    table = Table(title="What the Intake sheet tells staff (besides Referred)")
    for column in ("status", "routing reason", "rows"):
        table.add_column(column)
    for (shown, why), n in seen.most_common(limit):
        table.add_row(shown, why, str(n))
    console.print(table)
