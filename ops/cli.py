"""The `coalition` command: run flows, serve the sandbox and the Slack app, rehearse the demo, check set-up."""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Annotated, Any, TypeVar

import typer
from rich.console import Console
from rich.table import Table

from coalition.settings import ConfigError

console = Console(highlight=False)
err_console = Console(stderr=True, highlight=False, soft_wrap=True)

app = typer.Typer(
    help="Automation bot of the coalition: Airtable, Google Sheets/Docs and Slack, joined by Prefect flows.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    rich_markup_mode="rich",
)
sandbox_app = typer.Typer(
    help="The local emulator of Airtable, Sheets, Drive, Docs and Slack.", no_args_is_help=True
)
slack_app = typer.Typer(help="The Slack app (/coalition command, buttons).", no_args_is_help=True)
setup_app = typer.Typer(
    help="Find (discover) or create what the bot needs in Airtable, Google Sheets and Slack.",
    no_args_is_help=True,
)
app.add_typer(sandbox_app, name="sandbox")
app.add_typer(slack_app, name="slack")
report_app = typer.Typer(
    help="Aggregates for publication (research briefs, testimony), suppressed.",
    no_args_is_help=True,
)
app.add_typer(setup_app, name="setup")
app.add_typer(report_app, name="report")

T = TypeVar("T")


def fail(message: str, code: int = 2) -> typer.Exit:
    from rich.markup import escape

    err_console.print(f"[bold red]error:[/] {escape(message)}")
    return typer.Exit(code)


def guarded(action: Callable[[], T]) -> T:
    """Run `action`, turning the errors a person can fix into one clear line and exit code 2."""
    from integrations.http import ServiceUnavailable
    from integrations.sheets import SheetsError

    try:
        return action()
    except (ConfigError, SheetsError) as exc:  # a sheet missing or not shared: say which
        raise fail(str(exc)) from None
    except ServiceUnavailable as exc:
        raise fail(
            f"{exc}. Is the service reachable and the sandbox or credentials set? Try `coalition doctor`."
        ) from None


def prepare_runtime(hand_run: bool = False) -> None:
    """Prefect's environment, logging with redaction, settings validated: before any flow runs.

    A hand run (`run`, `demo`) without PREFECT_API_URL goes to the warm local Prefect
    server under var/prefect, started on first use, so the dashboard shows it and the
    next run does not wait for a server to start.
    """
    from coalition.settings import settings
    from ops.logging_setup import setup_logging
    from ops.prefect_env import configure_prefect

    cfg = guarded(settings)
    home = Path(cfg.secrets.coalition_var_dir) / "prefect"
    if hand_run:
        _hand_run_server(home)
    configure_prefect(home)
    setup_logging()


def _hand_run_server(home: Path) -> None:
    """The operator's server if PREFECT_API_URL is set and answers, else the warm local one."""
    from ops.prefect_env import use_local_server
    from ops.prefect_server import healthy, idle_minutes_setting

    configured = os.environ.get("PREFECT_API_URL")
    if configured:
        if not healthy(configured, timeout=5):
            raise fail(
                f"the Prefect server at PREFECT_API_URL={configured} does not answer; start it "
                "(`prefect server start`) or unset PREFECT_API_URL to use a local one"
            )
        return
    if idle_minutes_setting() <= 0:  # asked for no warm server: a temporary one, as before
        return
    try:
        url = use_local_server(home)
    except (OSError, RuntimeError) as exc:  # still runs: on a temporary server, as before
        err_console.print(f"Local Prefect server unavailable ({exc}); using a temporary one.")
        return
    if url:
        err_console.print(
            f"Prefect: runs at {url.removesuffix('/api')}/runs (local server under {home}, "
            f"stops after {idle_minutes_setting():g} idle minutes)"
        )


# ---------------------------------------------------------------------- run
@app.command()
def run(
    flow: Annotated[
        str,
        typer.Argument(
            help="roster-sync, intake-routing, referral-follow-up, alerts, weekly-summary"
        ),
    ],
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="Read everything, write nothing, print the plan")
    ] = False,
    week: Annotated[
        str | None, typer.Option(help="weekly-summary: ISO week such as 2026-W48")
    ] = None,
    out: Annotated[
        Path | None,
        typer.Option(help="weekly-summary: render a local .html or .md preview instead of the Doc"),
    ] = None,
    full: Annotated[
        bool, typer.Option("--full", help="roster-sync: a full pass (also detects deletions)")
    ] = False,
) -> None:
    """Run one flow once, now, and print its report."""
    from flows.registry import FLOWS

    entry = FLOWS.get(flow)
    if entry is None:
        raise fail(f"unknown flow {flow!r}; expected one of: {', '.join(FLOWS)}")
    prepare_runtime(hand_run=True)
    params: dict[str, Any] = {"dry_run": dry_run}
    if flow == "weekly-summary":
        params.update(week=week, out=str(out) if out else None)
    if flow == "roster-sync" and full:
        params["full"] = True
    report = guarded(lambda: entry.load()(**params))
    print_report(flow, report)


def print_report(flow: str, report: Any) -> None:
    data = report.model_dump(mode="json") if hasattr(report, "model_dump") else report
    if hasattr(report, "summary_lines"):
        for line in report.summary_lines():
            console.print(line)
    elif isinstance(data, dict):
        table = Table(title=f"{flow} report", show_header=False)
        for key, value in data.items():
            table.add_row(
                str(key), json.dumps(value, default=str) if not isinstance(value, str) else value
            )
        console.print(table)
    else:
        console.print(str(data))


# ---------------------------------------------------------------------- sandbox
@sandbox_app.command("serve")
def sandbox_serve(
    host: str = "127.0.0.1",
    port: int = 8787,
    seed: Annotated[
        str, typer.Option(help="demo, foreign (the demo under a real coalition's names) or empty")
    ] = "demo",
    state: Annotated[
        Path | None, typer.Option(help="Keep state in this JSON file across restarts")
    ] = None,
    rate_limits: Annotated[
        bool,
        typer.Option("--rate-limits/--no-rate-limits", help="Enforce the documented rate limits"),
    ] = False,
    time_scale: Annotated[
        float, typer.Option(help="Rate windows pass this many times faster")
    ] = 1.0,
) -> None:
    """Serve the sandbox until Ctrl-C."""
    from sandbox.app import Sandbox
    from sandbox.runner import serve_forever
    from sandbox.seed.apply import SEEDS

    if seed not in SEEDS:
        raise fail(f"--seed must be one of {', '.join(SEEDS)}, not {seed!r}")
    box = Sandbox(seed=seed, state_file=state, time_scale=time_scale, rate_limits=rate_limits)
    console.print(
        f"Sandbox at [bold]http://{host}:{port}[/] (viewer at /). Set COALITION_SANDBOX_URL=http://{host}:{port}. Ctrl-C stops."
    )
    serve_forever(box, host, port)
    console.print("Sandbox stopped.")


def _sandbox_url(url: str | None) -> str:
    url = url or os.environ.get("COALITION_SANDBOX_URL")
    if not url:
        raise fail("no sandbox: pass --sandbox-url or set COALITION_SANDBOX_URL")
    return url.rstrip("/")


def _post_control(url: str, path: str, body: dict[str, Any]) -> dict[str, Any]:
    import httpx

    try:
        response = httpx.post(f"{url}{path}", json=body, timeout=60)
    except httpx.HTTPError as exc:
        raise fail(f"sandbox at {url} unreachable: {type(exc).__name__}") from None
    if response.status_code >= 400:
        raise fail(f"sandbox refused: HTTP {response.status_code} {response.text[:200]}")
    return response.json()


# The demo seed's intake coordinator (config/access.yaml lists the id as staff).
DEMO_STAFF_USER = "U0DEMOSTF01"


def _get_control(url: str, path: str) -> dict[str, Any]:
    import httpx

    try:
        response = httpx.get(f"{url}{path}", timeout=30)
    except httpx.HTTPError as exc:
        raise fail(f"sandbox at {url} unreachable: {type(exc).__name__}") from None
    if response.status_code >= 400:
        raise fail(f"sandbox refused: HTTP {response.status_code} {response.text[:200]}")
    return response.json()


def message_words(message: dict[str, Any]) -> list[str]:
    """What a person reads in a message: its blocks' texts (or its text when it has no blocks)."""
    found: list[str] = []

    def walk(value: Any) -> None:
        if isinstance(value, dict):
            if isinstance(value.get("text"), str):
                found.append(value["text"])
            for key, item in value.items():
                if not (key == "text" and isinstance(item, str)):
                    walk(item)
        elif isinstance(value, list):
            for item in value:
                walk(item)

    walk(message.get("blocks") or [])
    return found or [str(message.get("text") or "")]


def _answers(url: str, channel: str, user: str) -> dict[str, dict[str, Any]]:
    """Messages of a channel the user sees (ephemeral ones meant for them included), by ts."""
    path = f"/_sandbox/slack/channels/{channel}/messages?include_ephemeral=1"
    return {
        m["ts"]: m
        for m in _get_control(url, path).get("messages", [])
        if not m.get("is_ephemeral") or m.get("visible_to") == user
    }


@sandbox_app.command("slash")
def sandbox_slash(
    text: Annotated[str, typer.Argument(help='The command as typed, e.g. "/coalition help"')],
    app_url: Annotated[
        str, typer.Option(help="The bot's Slack endpoint, e.g. http://127.0.0.1:3000/slack/events")
    ],
    sandbox_url: Annotated[str | None, typer.Option(help="Default: COALITION_SANDBOX_URL")] = None,
    user: Annotated[
        str,
        typer.Option(help="Slack user id of the sender (default: the demo's intake coordinator)"),
    ] = DEMO_STAFF_USER,
    channel: Annotated[
        str, typer.Option(help="Channel name or id it is typed in")
    ] = "intake-triage",
    wait: Annotated[float, typer.Option(help="Seconds to wait for the answer")] = 10.0,
) -> None:
    """Send a signed slash command to the bot, as Slack would, and print the answer the person sees."""
    import time

    url = _sandbox_url(sandbox_url)
    command, _, rest = text.strip().partition(" ")
    if not command.startswith("/"):
        command, rest = "/coalition", text.strip()
    before = set(_answers(url, channel, user))
    reply = _post_control(
        url,
        "/_sandbox/slack/command",
        {"app_url": app_url, "command": command, "text": rest, "user": user, "channel": channel},
    )
    if not reply.get("ok"):
        raise fail(f"the bot did not take the command: {reply.get('error') or reply.get('status')}")
    # The acknowledgement comes first; the answer follows through response_url or the Web API.
    deadline = time.monotonic() + wait
    fresh: list[dict[str, Any]] = []
    while time.monotonic() < deadline and not fresh:
        time.sleep(0.2)
        fresh = [m for ts, m in sorted(_answers(url, channel, user).items()) if ts not in before]
    if not fresh:
        raise fail(f"no answer shown to {user} in #{channel} within {wait:g} s")
    time.sleep(0.5)  # an answer in several messages: let the rest arrive
    fresh = [m for ts, m in sorted(_answers(url, channel, user).items()) if ts not in before]
    console.print("\n".join(line for m in fresh for line in message_words(m)), markup=False)


@sandbox_app.command("click")
def sandbox_click(
    action_id: Annotated[str, typer.Argument(help="The button's action_id")],
    message_ts: Annotated[str, typer.Option(help="ts of the message holding the button")],
    channel: Annotated[str, typer.Option(help="Channel name or id of that message")],
    app_url: Annotated[str, typer.Option(help="The bot's Slack endpoint")],
    value: Annotated[
        str | None, typer.Option(help="The button's value (default: as in the message)")
    ] = None,
    sandbox_url: Annotated[str | None, typer.Option(help="Default: COALITION_SANDBOX_URL")] = None,
    user: Annotated[
        str,
        typer.Option(help="Slack user id of the clicker (default: the demo's intake coordinator)"),
    ] = DEMO_STAFF_USER,
) -> None:
    """Click a button of a message, as Slack would send it to the bot."""
    body = {
        "app_url": app_url,
        "user": user,
        "channel": channel,
        "message_ts": message_ts,
        "action_id": action_id,
    }
    if value is not None:
        body["value"] = value
    console.print_json(
        data=_post_control(_sandbox_url(sandbox_url), "/_sandbox/slack/action", body)
    )


# ---------------------------------------------------------------------- demo
@app.command()
def demo(
    keep_serving: Annotated[
        bool, typer.Option("--keep-serving", help="Leave the sandbox up afterwards to browse it")
    ] = False,
    port: Annotated[int, typer.Option(help="Sandbox port (0: any free port)")] = 0,
    seed: Annotated[
        str,
        typer.Option(
            help="demo (the design's names) or foreign (a real coalition's own names: "
            "discover, doctor, then every flow)"
        ),
    ] = "demo",
) -> None:
    """Rehearse the whole bot on the embedded sandbox with the demo coalition."""
    from ops.demo import run_demo

    if seed not in {"demo", "foreign"}:
        raise fail(f"--seed must be demo or foreign, not {seed!r}")
    prepare_runtime(hand_run=True)
    code = guarded(lambda: run_demo(console, keep_serving=keep_serving, port=port, seed=seed))
    raise typer.Exit(code)


# ---------------------------------------------------------------------- slack app
@slack_app.command("serve")
def slack_serve(
    port: int = 3000,
    host: Annotated[
        str, typer.Option(help="Address to listen on; 0.0.0.0 exposes it to the network")
    ] = "127.0.0.1",
) -> None:
    """Serve the Slack app at /slack/events (Socket Mode when SLACK_APP_TOKEN is set)."""
    prepare_runtime()
    from bot.server import serve

    guarded(lambda: serve(host=host, port=port))


# ---------------------------------------------------------------------- ops
@app.command()
def serve() -> None:
    """Run every flow on its schedule in this process (Prefect serve)."""
    prepare_runtime()
    from flows.serve import serve_all

    guarded(serve_all)


# ---------------------------------------------------------------------- deploy (issue 9)
@app.command()
def deploy(
    pool: Annotated[str, typer.Option(help="Process work pool the workers poll")] = "coalition",
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="Print the deployments, change nothing")
    ] = False,
) -> None:
    """Create or update a deployment per flow on the Prefect server (schedules from config/)."""
    prepare_runtime()
    from flows.serve import deploy_all

    guarded(lambda: deploy_all(work_pool=pool, console=console, dry_run=dry_run))


@app.command()
def doctor() -> None:
    """Check the settings and reach every configured service; one row per check with what to fix."""
    from ops.doctor import run_checks

    checks = run_checks()
    table = Table(title="coalition doctor")
    table.add_column("check")
    table.add_column("result")
    table.add_column("what to do")
    for check in checks:
        mark = "[green]ok[/]" if check.ok else "[red]FAIL[/]"
        table.add_row(check.name, f"{mark} {check.detail}", check.fix or "")
    console.print(table)
    if not all(c.ok for c in checks):
        raise typer.Exit(2)


@setup_app.command("airtable")
def setup_airtable(dry_run: Annotated[bool, typer.Option("--dry-run")] = False) -> None:
    """Create the missing tables and fields of the design in an existing base."""
    prepare_runtime()
    from ops.setup_tasks import setup_airtable as action

    guarded(lambda: action(dry_run=dry_run, console=console))


@setup_app.command("sheets")
def setup_sheets(dry_run: Annotated[bool, typer.Option("--dry-run")] = False) -> None:
    """Create the Intake, Member Directory and partner referral sheets with their headers."""
    prepare_runtime()
    from ops.setup_tasks import setup_sheets as action

    guarded(lambda: action(dry_run=dry_run, console=console))


@setup_app.command("discover")
def setup_discover(
    write: Annotated[
        bool,
        typer.Option("--write", help="Write fields.yaml and the tab names in services.yaml"),
    ] = False,
) -> None:
    """Find every table, field, column, tab and channel the bot needs in your workspace (names only)."""
    prepare_runtime()
    from ops.setup_discover import run_discover

    raise typer.Exit(guarded(lambda: run_discover(write=write, console=console)))


@app.command()
def purge(
    dry_run: Annotated[
        bool, typer.Option("--dry-run/--apply", help="Show what would go (default) or do it")
    ] = True,
    intake_personal_fields: Annotated[
        bool, typer.Option(help="Also blank personal fields of old closed intake rows")
    ] = False,
) -> None:
    """Remove ledger history past the configured retention."""
    prepare_runtime()
    from ops.retention import purge as action

    guarded(
        lambda: action(
            dry_run=dry_run, intake_personal_fields=intake_personal_fields, console=console
        )
    )


@report_app.command("needs")
def report_needs(
    first: Annotated[str, typer.Option("--from", help="First day, YYYY-MM-DD")],
    last: Annotated[str, typer.Option("--to", help="Last day, YYYY-MM-DD (included)")],
    out: Annotated[Path, typer.Option("--out", help="needs.csv or needs.md")],
) -> None:
    """Unmet legal need over the days asked, suppressed as in the weekly Doc, with its definitions."""
    from coalition.privacy import PIIError
    from ops.report_needs import ReportError, write_needs_report

    try:
        need, _ = guarded(lambda: write_needs_report(first, last, out))
    except (ReportError, PIIError) as exc:
        raise fail(str(exc)) from None
    total = need.trend.value(0, len(need.trend.columns))
    shown = "withheld" if total is None else f"{total:,}"
    console.print(
        f"Wrote {out}: unmet need {need.first} to {need.last}, {shown} people waitlisted, "
        f"{len(need.by_type.hidden)} cells withheld in the county x case type table."
    )


def main() -> None:  # pragma: no cover - console entry
    sys.exit(app())


if __name__ == "__main__":  # pragma: no cover
    main()
