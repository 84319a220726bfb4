"""`make bench`: every flow against the sandbox with the real rate limits on, beside the same work done row by row.

For each flow: requests per service against the least the API allows for the job
(ratio), wall time against the rate-limit floor (ratio), Prefect task runs and peak
memory; beside them, a row-by-row baseline (one request per record, extrapolated
from a measured sample), so each gain is a measured ratio. Then the Slack app's
acknowledgement latency (`coalition slack serve` in a child process) under 50 signed
commands at once and a burst of 500, and the sandbox's own
overhead. One table on stdout; everything in bench/results.json.

Sizes: 1,000 members and 10,000 contacts, 1,000 intake rows for 20 partners,
200 bills of which 20 change, 50,000 donations. Rate windows run at
`--time-scale` (default 1: real time, so a wall/floor ratio means what it says;
the row-by-row samples run at the same scale).
"""

from __future__ import annotations

import argparse
import json
import logging
import math
import os
import sys
import time
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
RESULTS = Path(__file__).resolve().parent / "results.json"
SIZES = {"members": 1000, "contacts": 10_000, "intake_rows": 1000, "partners": 20,
         "bills": 200, "bills_changed": 20, "donations": 50_000, "slack_commands": 50,
         "slack_burst": 500, "evidence_weeks": 52, "evidence_per_week": 1000}  # fmt: skip
# Slack bounds are the messages a person must see plus one conversations.list to find the
# channels' ids; anything more (e.g. history reads that make posting exactly-once) shows in the ratio.
SLACK_LOOKUP = 1
QUICK = {"members": 120, "contacts": 600, "intake_rows": 120, "partners": 6,
         "bills": 40, "bills_changed": 5, "donations": 3000, "slack_commands": 5,
         "slack_burst": 50, "evidence_weeks": 52, "evidence_per_week": 50}  # fmt: skip


# ---------------------------------------------------------------- results
@dataclass
class ServiceFigures:
    requests: int
    bound: int | None
    baseline: int | None = None
    note: str = ""

    def as_dict(self) -> dict[str, Any]:
        return {
            "requests": self.requests,
            "bound": self.bound,
            "ratio": _ratio(self.requests, self.bound),
            "row_by_row_requests": self.baseline,
            "gain": _ratio(self.baseline, self.requests),
            "note": self.note,
        }


@dataclass
class FlowResult:
    flow: str
    size: str
    status: str = "ok"
    time_scale: float = 1.0
    services: dict[str, ServiceFigures] = field(default_factory=dict)
    wall_seconds: float | None = None
    floor_seconds: float | None = None  # documented seconds
    baseline_wall_seconds: float | None = None
    baseline_label: str = ""
    task_runs: int | None = None
    peak_memory_mb: float | None = None
    checks: dict[str, Any] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)
    breakdown: dict[str, int] = field(default_factory=dict)

    @property
    def floor_real(self) -> float | None:
        return None if self.floor_seconds is None else self.floor_seconds / self.time_scale

    def as_dict(self) -> dict[str, Any]:
        return {
            "flow": self.flow,
            "size": self.size,
            "status": self.status,
            "time_scale": self.time_scale,
            "services": {k: v.as_dict() for k, v in self.services.items()},
            "wall_seconds": self.wall_seconds,
            "floor_seconds_documented": self.floor_seconds,
            "floor_seconds_real": None if self.floor_real is None else round(self.floor_real, 2),
            "wall_over_floor": _wall_ratio(self.wall_seconds, self.floor_real),
            "row_by_row_wall_seconds": _round(self.baseline_wall_seconds),
            "row_by_row": self.baseline_label,
            "wall_gain": _ratio(self.baseline_wall_seconds, self.wall_seconds),
            "task_runs": self.task_runs,
            "peak_memory_mb": self.peak_memory_mb,
            "checks": self.checks,
            "notes": self.notes,
            "requests_by_endpoint": self.breakdown,
        }


def _round(value: float | None, digits: int = 1) -> float | None:
    return None if value is None else round(value, digits)


def _ratio(a: float | None, b: float | None) -> float | None:
    if a is None or b is None:
        return None
    if b == 0:
        return 1.0 if a == 0 else None
    return round(a / b, 2)


def _wall_ratio(wall: float | None, floor: float | None) -> float | None:
    # Under one second of floor there is nothing the limits force: the ratio would only measure CPU.
    if wall is None or floor is None or floor < 1.0:
        return None
    return round(wall / floor, 2)


# ---------------------------------------------------------------- environment
def prepare_environment(var: Path) -> None:
    """A private var dir, Prefect home and quiet logs; must run before prefect is imported."""
    var.mkdir(parents=True, exist_ok=True)
    os.environ["COALITION_VAR_DIR"] = str(var)
    os.environ.setdefault("PREFECT_LOGGING_LEVEL", "WARNING")
    os.environ.setdefault("PREFECT_LOGGING_TO_API_ENABLED", "false")
    sys.path.insert(0, str(ROOT))
    from ops.prefect_env import configure_prefect

    configure_prefect(var / "prefect")
    logging.basicConfig(level=logging.WARNING)


class Bench:
    """One in-process sandbox with limits on, re-seeded per flow, and a fresh ledger per flow."""

    def __init__(self, var: Path, time_scale: float, sizes: dict[str, int]) -> None:
        from sandbox.app import Sandbox
        from sandbox.runner import start_in_thread

        self.var = var
        self.time_scale = time_scale
        self.sizes = sizes
        self.running = start_in_thread(Sandbox(seed="empty"))
        self.sandbox = self.running.sandbox
        os.environ["COALITION_SANDBOX_URL"] = self.running.url
        self.durations: list[float] = []
        self.pg_url: str | None = None  # the evidence bench's PostgreSQL ledger, if any
        warm_up_prefect()

    def stop(self) -> None:
        self.running.stop()

    @contextmanager
    def limits(self, scale: float, name: str, keep_ledger: bool = False) -> Iterator[None]:
        """Settings, ledger, budgets and sandbox limits for one flow's runs at `scale`."""
        from coalition.ledger.db import forget_ledgers
        from coalition.settings import reload_settings
        from integrations.budget import budgets
        from integrations.slack import forget_channels

        os.environ["COALITION_TIME_SCALE"] = str(scale)
        os.environ["COALITION_DATABASE_URL"] = f"sqlite:///{self.var / (name + '.sqlite3')}"
        if not keep_ledger:
            (self.var / f"{name}.sqlite3").unlink(missing_ok=True)
        forget_ledgers()
        reload_settings()
        forget_channels()
        # A scale no client uses: the first client of the run reconfigures, which empties
        # every budget, so no run inherits another's sliding windows.
        budgets.configure(-1.0)
        self.sandbox.clock.scale = scale
        self.sandbox.limiter.reset()
        self.sandbox.limiter.enabled = True
        try:
            yield
        finally:
            self.durations += [
                e["duration_ms"]
                for e in self.sandbox.journal.as_dicts()
                if e["service"] not in {"control", "viewer"}
            ]

    def flow(self, name: str) -> Any:
        from flows.registry import FLOWS

        return FLOWS[name].load()


def warm_up_prefect() -> None:
    """Start Prefect's local API (and migrate its database on first use) before anything is timed."""
    from prefect import flow

    @flow(name="bench-warm-up")
    def warm_up() -> None:
        return None

    warm_up()


def _safe(
    bench_fn: Callable[[Bench], FlowResult], bench: Bench, name: str, size: str
) -> FlowResult:
    try:
        return bench_fn(bench)
    except Exception as exc:  # one broken flow must not hide the others' figures
        logging.getLogger("bench").exception("bench of %s failed", name)
        return FlowResult(name, size, status=f"failed: {type(exc).__name__}: {str(exc)[:200]}")


# ---------------------------------------------------------------- roster sync
def bench_roster(bench: Bench) -> FlowResult:
    from bench import baseline as bl
    from bench import datasets
    from bench.limits import flow_floor
    from bench.measure import measuring, run_flow
    from coalition.settings import settings

    n_members, n_contacts = bench.sizes["members"], bench.sizes["contacts"]
    result = FlowResult(
        "roster-sync",
        f"{n_members:,} members, {n_contacts:,} contacts",
        time_scale=bench.time_scale,
    )
    flow = bench.flow("roster-sync")
    datasets.roster(bench.sandbox, n_members, n_contacts)
    airtable = bench.sandbox.services["airtable"]
    base = datasets._base(bench.sandbox)
    tables = settings().services.airtable.tables
    before = {t: _fields(airtable, base, t) for t in (tables.members, tables.contacts)}
    with bench.limits(bench.time_scale, "roster"):
        with measuring(bench.sandbox) as first:
            _, first.task_runs, first.error = run_flow(flow, full=True)
        after = {t: _fields(airtable, base, t) for t in before}
        changed = {t: sum(1 for k, v in after[t].items() if before[t].get(k) != v) for t in before}
        with measuring(bench.sandbox) as second:
            _, second.task_runs, second.error = run_flow(flow)
        lists = math.ceil(n_members / 100) + math.ceil(n_contacts / 100)
        airtable_bound = lists + sum(math.ceil(c / 10) for c in changed.values())
        member_ids = list(after[tables.members])
        contact_ids = list(after[tables.contacts])
        base_line = bl.run_baseline(
            [
                bl.Operation("airtable", "get per member and contact", n_members + n_contacts,
                             bl.airtable_gets(tables.contacts, contact_ids), k=20),
                bl.Operation("airtable", "update per record with data issues", sum(changed.values()),
                             bl.airtable_updates(tables.members, member_ids, {"Weekly capacity": 3}), k=5),
                bl.Operation("sheets", "values.update per member row", n_members,
                             bl.sheet_row_updates(settings().services.sheets.member_directory,
                                                  settings().services.sheets.member_directory_tab, 3), k=10),
                bl.Operation("slack", "post per new member", n_members,
                             bl.slack_posts([settings().services.slack.channels.membership]), k=3),
            ],
            bench.time_scale,
        )  # fmt: skip
    _fill(
        result,
        first,
        base_line,
        {"airtable": airtable_bound, "sheets": 2, "slack": 1 + SLACK_LOOKUP},
    )
    result.floor_seconds = flow_floor({"airtable": airtable_bound, "sheets": 2}, {"membership": 1})
    result.services["airtable"].note = (
        f"list requests {first.airtable_lists} vs ceil(n/100) per table = {lists}; "
        f"records changed {sum(changed.values())}"
    )
    result.checks = {
        "airtable list requests": first.airtable_lists,
        "airtable list bound": lists,
        "sheets write requests (target <= 3)": first.writes.get("sheets", 0),
        "second run write requests (target 0)": sum(second.writes.values()),
        "second run requests": second.requests,
        "429 answers": first.rate_limited,
    }
    _errors(result, first, second)
    return result


def _fields(airtable: Any, base: str, table: str) -> dict[str, Any]:
    return {r["id"]: json.dumps(r["fields"], sort_keys=True) for r in airtable.records(base, table)}


# ---------------------------------------------------------------- intake routing
def bench_intake(bench: Bench) -> FlowResult:
    from bench import baseline as bl
    from bench import datasets
    from bench.limits import flow_floor
    from bench.measure import measuring, run_flow
    from coalition.ledger import open_ledger, roster_store
    from coalition.settings import settings

    rows, n_partners = bench.sizes["intake_rows"], bench.sizes["partners"]
    result = FlowResult(
        "intake-routing", f"{rows:,} new rows, {n_partners} partners", time_scale=bench.time_scale
    )
    flow = bench.flow("intake-routing")
    data = datasets.intake(bench.sandbox, rows, n_partners)
    sheets = bench.sandbox.services["sheets"]
    with bench.limits(bench.time_scale, "intake"):
        with open_ledger().session() as session:
            roster_store.put_partners(session, data.partners)
            # As a completed roster sync leaves it: routing waits for a directory built once.
            roster_store.save_watermarks(session, datetime.now(UTC), True, "bench", False)
        with measuring(bench.sandbox) as run:
            _, run.task_runs, run.error = run_flow(flow)
        delivered = {
            p["referral_sheet"]: len(sheets.get_values(p["referral_sheet"], "Referrals")) - 1
            for p in data.partners
        }
        with_cases = sum(1 for n in delivered.values() if n > 0)
        referred = sum(delivered.values())
        with measuring(bench.sandbox) as rerun:
            _, rerun.task_runs, rerun.error = run_flow(flow)
        names = settings().services
        staff_posts = rows - referred
        base_line = bl.run_baseline(
            [
                bl.Operation("sheets", "values.update per intake row", rows,
                             bl.sheet_row_updates(names.sheets.intake, names.sheets.intake_tab, 1), k=10),
                bl.Operation("sheets", "append per referral", referred,
                             bl.sheet_appends([p["referral_sheet"] for p in data.partners], "Referrals"), k=10),
                bl.Operation("slack", "post per referral", referred,
                             bl.slack_posts([p["referral_channel"] for p in data.partners]), k=4, channels=n_partners),
                bl.Operation("slack", "post per case for staff", staff_posts,
                             bl.slack_posts([names.slack.channels.intake_triage]), k=2),
            ],
            bench.time_scale,
        )  # fmt: skip
    # Read the sheet, read it again just before writing (staff may have sorted it), write the
    # status column; per partner its referral tab's header (rows go under the partner's own
    # columns) and one append.
    sheets_bound = 3 + 2 * with_cases
    slack_bound = with_cases + SLACK_LOOKUP  # one message per partner with new cases
    _fill(result, run, base_line, {"sheets": sheets_bound, "slack": slack_bound})
    result.floor_seconds = flow_floor(
        {"sheets": sheets_bound}, {f"p{i}": 1 for i in range(with_cases)}
    )
    result.checks = {
        "rows referred": referred,
        "partners with new cases": with_cases,
        "sheets requests (target <= 3 + 2 x partners)": run.requests.get("sheets", 0),
        "slack messages": run.slack_posts,
        "task runs (no task per row)": run.task_runs,
        "rerun write requests": sum(rerun.writes.values()),
        "429 answers": run.rate_limited,
    }
    _errors(result, run, rerun)
    return result


# ---------------------------------------------------------------- referral follow-up
def bench_follow_up(bench: Bench) -> FlowResult:
    """Right after the intake bench: its referrals made 50 hours old, so every partner is owed a reminder."""
    from bench import baseline as bl
    from bench.limits import flow_floor
    from bench.measure import measuring, run_flow
    from coalition.ledger import open_ledger
    from coalition.ledger.referrals import STATES, ReferralStore

    result = FlowResult(
        "referral-follow-up",
        "the intake bench's referrals, 50 h silent",
        time_scale=bench.time_scale,
    )
    flow = bench.flow("referral-follow-up")
    with bench.limits(bench.time_scale, "intake", keep_ledger=True):
        ago = datetime.now(UTC) - timedelta(hours=50)
        referrals = ReferralStore(open_ledger())
        referrals.backdate(ago)
        waiting = Counter(r.partner_id for r in referrals.referrals_in(STATES))
        with measuring(bench.sandbox) as run:
            _, run.task_runs, run.error = run_flow(flow)
        channels = [
            c["name"]
            for c in bench.sandbox.services["slack"].channels.values()
            if c["name"].startswith("ref-bench-")
        ]
        base_line = bl.run_baseline(
            [bl.Operation("slack", "reminder per referral", sum(waiting.values()), bl.slack_posts(channels), k=4,
                          channels=len(waiting))],
            bench.time_scale,
        )  # fmt: skip
    # One read of each waiting partner's sheet (their answers), one reminder in each channel.
    _fill(result, run, base_line, {"sheets": len(waiting), "slack": len(waiting) + SLACK_LOOKUP})
    result.floor_seconds = flow_floor({}, run.slack_posts_per_channel)
    result.checks = {
        "referrals waiting": sum(waiting.values()),
        "partners waiting": len(waiting),
        "reminders posted": run.slack_posts,
        "reminders per channel (target 1)": max(run.slack_posts_per_channel.values(), default=0),
    }
    _errors(result, run)
    return result


# ---------------------------------------------------------------- alerts
def bench_alerts(bench: Bench) -> FlowResult:
    from bench import baseline as bl
    from bench import datasets
    from bench.limits import flow_floor
    from bench.measure import measuring, run_flow
    from coalition.settings import settings

    n_bills, n_changed = bench.sizes["bills"], bench.sizes["bills_changed"]
    result = FlowResult(
        "alerts", f"{n_bills} bills, {n_changed} changed", time_scale=bench.time_scale
    )
    flow = bench.flow("alerts")
    datasets.bills(bench.sandbox, n_bills)
    with at_org_noon(), bench.limits(50.0, "alerts"):  # first sight of every bill: setup
        _, _, error = run_flow(flow)
        if error:
            result.notes.append(f"setup run: {error}")
    changed = datasets.change_bills(bench.sandbox, n_changed)
    airtable_model = bench.sandbox.services["airtable"]
    bills_table = settings().services.airtable.tables.bills
    bills_before = _fields(airtable_model, datasets._base(bench.sandbox), bills_table)
    with at_org_noon(), bench.limits(bench.time_scale, "alerts-measured"):
        # The setup run's ledger is the one that knows the bills: keep using it.
        os.environ["COALITION_DATABASE_URL"] = f"sqlite:///{bench.var / 'alerts.sqlite3'}"
        from coalition.ledger.db import forget_ledgers
        from coalition.settings import reload_settings

        forget_ledgers()
        reload_settings()
        with measuring(bench.sandbox) as run:
            _, run.task_runs, run.error = run_flow(flow)
        bills_after = _fields(airtable_model, datasets._base(bench.sandbox), bills_table)
        written = sum(1 for k, v in bills_after.items() if bills_before.get(k) != v)
        tables = settings().services.airtable.tables
        base_line = bl.run_baseline(
            [
                bl.Operation("airtable", "get per bill", n_bills, bl.airtable_gets(tables.bills, changed), k=10),
                bl.Operation("airtable", "update per changed bill", n_changed,
                             bl.airtable_updates(tables.bills, changed, {"Error": ""}), k=5),
                bl.Operation("slack", "post per changed bill", n_changed,
                             bl.slack_posts([settings().services.slack.channels.policy]), k=3),
            ],
            bench.time_scale,
        )  # fmt: skip
    campaigns = len(
        bench.sandbox.services["airtable"].records(datasets._base(bench.sandbox), tables.campaigns)
    )
    # Every bill record the run lists: the 200 tracked plus the matches the setup run's
    # Open States poll added for review (a page per 100 of them all).
    lists = math.ceil(max(len(bills_before), 1) / 100) + math.ceil(max(campaigns, 1) / 100)
    airtable_bound = lists + math.ceil(written / 10)
    _fill(result, run, base_line, {"airtable": airtable_bound, "slack": n_changed + SLACK_LOOKUP})
    result.floor_seconds = flow_floor({"airtable": airtable_bound}, run.slack_posts_per_channel)
    result.checks = {
        "airtable list requests (bills + campaigns)": run.airtable_lists,
        "airtable write requests (target ceil(changed/10))": run.writes.get("airtable", 0),
        "airtable records the run changed": written,
        "slack posts (target 20)": run.slack_posts,
        "slack posts per channel": run.slack_posts_per_channel,
        "slack 429 answers (target 0)": run.rate_limited.get("slack", 0),
    }
    _errors(result, run)
    return result


@contextmanager
def at_org_noon() -> Iterator[None]:
    """Alerts run as if at noon in the org's zone, time still passing: quiet hours would hold the posts.

    At night the flow holds non-urgent posts until morning (by design), which would
    leave nothing to measure; the bench measures the daytime run whatever its hour.
    """
    from zoneinfo import ZoneInfo

    import flows.alerts as alerts
    from coalition.settings import settings

    tz = ZoneInfo(settings().services.timezone)
    started = datetime.now(UTC)
    today = started.astimezone(tz).date()
    noon = datetime(today.year, today.month, today.day, 12, tzinfo=tz).astimezone(UTC)
    real = alerts.current_time
    alerts.current_time = lambda: noon + (datetime.now(UTC) - started)
    try:
        yield
    finally:
        alerts.current_time = real


# ---------------------------------------------------------------- weekly summary
def bench_weekly(bench: Bench) -> FlowResult:
    from bench import baseline as bl
    from bench import datasets
    from bench.limits import flow_floor
    from bench.measure import measuring, run_flow
    from coalition.settings import settings

    n = bench.sizes["donations"]
    result = FlowResult("weekly-summary", f"{n:,} donations", time_scale=bench.time_scale)
    flow = bench.flow("weekly-summary")
    datasets.donations(bench.sandbox, n)
    in_window = _donations_in_window(bench.sandbox)
    with bench.limits(bench.time_scale, "weekly"):
        # The first run ever reads the donor history (every earlier gift) once: last
        # week's Monday run. The run measured is this week's, as every Monday after.
        with measuring(bench.sandbox) as first:
            _, _, first.error = run_flow(flow, week=_last_week_but_one().label)
        with measuring(bench.sandbox) as run:
            _, run.task_runs, run.error = run_flow(flow)
        docs = bench.sandbox.services["docs"]
        paragraphs = sum(
            docs.plain_text(d.get("documentId") or d.get("id")).count("\n")
            for d in docs.list_documents()
        )
        tables = settings().services.airtable.tables
        gift_ids = [
            r["id"]
            for r in bench.sandbox.services["airtable"].records(
                datasets._base(bench.sandbox), tables.donations
            )[:50]
        ]
        base_line = bl.run_baseline(
            [
                bl.Operation("airtable", "get per gift of the 5 weeks", in_window, bl.airtable_gets(tables.donations, gift_ids), k=10),
                bl.Operation("docs", "batchUpdate per paragraph", max(paragraphs, 1), bl.doc_paragraph_writes("baseline"), k=5),
                bl.Operation("slack", "post of the link", 1, bl.slack_posts([settings().services.slack.channels.leadership]), k=1),
            ],
            bench.time_scale,
        )  # fmt: skip
    donation_pages = math.ceil(in_window / 100)
    airtable_bound = donation_pages + 2  # the week's activities and bills: a page each
    docs_bound = 2  # create the document, write it in one batchUpdate
    _fill(
        result,
        run,
        base_line,
        {"airtable": airtable_bound, "docs": docs_bound, "slack": 1 + SLACK_LOOKUP},
    )
    result.floor_seconds = flow_floor(
        {"airtable": airtable_bound, "docs": docs_bound}, {"leadership": 1}
    )
    first_floor = flow_floor({"airtable": first.requests.get("airtable", 0)})
    result.checks = {
        "gifts in the 5 weeks read": in_window,
        "airtable list requests": run.airtable_lists,
        "docs batchUpdate requests (target <= 2)": run.count("docs", ":batchUpdate"),
        "drive requests": run.requests.get("drive", 0),
        "first run ever: airtable requests (reads the donor history once)": first.requests.get("airtable", 0),
        "first run ever: wall seconds": first.wall_seconds,
        "first run ever: airtable floor seconds": first_floor,
    }  # fmt: skip
    result.notes.append(
        "Measured: a weekly run after the first. The first run ever also lists every "
        "earlier gift once (a page per 100) to learn each donor's first gift; see checks."
    )
    _errors(result, first, run)
    return result


def _last_week_but_one() -> Any:
    """The ISO week before the last complete one: the week a first run a week ago summarized."""
    from zoneinfo import ZoneInfo

    from coalition.settings import settings
    from coalition.summary.weeks import last_complete_week

    tz = ZoneInfo(settings().services.timezone)
    return last_complete_week(datetime.now(UTC), tz).shift(-1)


def _donations_in_window(sandbox: Any) -> int:
    """Gifts dated in the last complete ISO week and the four before it (the reads the figures need)."""
    from zoneinfo import ZoneInfo

    from bench import datasets
    from coalition.settings import settings

    today = datetime.now(UTC).astimezone(ZoneInfo(settings().services.timezone)).date()
    end = today - timedelta(days=today.isoweekday())  # last Sunday
    start = end - timedelta(days=34)
    records = sandbox.services["airtable"].records(
        datasets._base(sandbox), settings().services.airtable.tables.donations
    )
    return sum(
        1
        for r in records
        if start.isoformat() <= str(r["fields"].get("Date", "")) <= end.isoformat()
    )


# ---------------------------------------------------------------- evidence (issue 20)
EVIDENCE_TARGET_SECONDS = 2.0
EVIDENCE_SHEETS_BOUND = 3  # one read, one batchUpdate of tabs and charts, one values write


def bench_evidence(bench: Bench) -> dict[str, Any]:
    """52 weeks of 1,000 intakes from the ledger into the figures and the dashboard's tabs
    (SQLite, and PostgreSQL with --pg-url), then the dashboard written twice to the sandbox."""
    from bench.evidence import compute, fill_ledger, now_utc
    from bench.measure import measuring
    from flows.weekly_summary import Board, write_dashboard
    from integrations.clients import sheets_client

    now = now_utc()
    weeks, per_week = (
        bench.sizes.get("evidence_weeks", 52),
        bench.sizes.get("evidence_per_week", 1000),
    )
    out: dict[str, Any] = {"status": "ok", "size": f"{weeks} weeks x {per_week:,} intakes"}
    urls = {"sqlite": None, "postgresql": bench.pg_url}
    board = None
    with bench.limits(bench.time_scale, "evidence"):
        for name, url in urls.items():
            if name == "postgresql" and not url:
                out["postgresql"] = "not run (--pg-url)"
                continue
            target = url or os.environ["COALITION_DATABASE_URL"]
            filled = fill_ledger(target, now, weeks, per_week)
            runs = []
            for _ in range(3):
                seconds, board = compute(target, now)
                runs.append(seconds)
            out[name] = {
                "intakes": filled.intakes,
                "referrals": filled.referrals,
                "seconds": sorted(runs)[1],  # the median of three
                "runs": runs,
                "under_target": sorted(runs)[1] < EVIDENCE_TARGET_SECONDS,
            }
        client = sheets_client()
        spreadsheet = client.create(_dashboard_name())
        sent = []
        # The first run adds the tabs and charts, the second only rewrites values; no new
        # weeks of giving to record (the ledger's are the evidence bench's own).
        for _ in range(2):
            with measuring(bench.sandbox) as run:
                write_dashboard.fn(Board(spreadsheet.id), board, {})
            sent.append(run.requests.get("sheets", 0))
        out["dashboard_sheets_requests"] = sent
        out["dashboard_within_bound"] = max(sent) <= EVIDENCE_SHEETS_BOUND
    return out


def _dashboard_name() -> str:
    from coalition.settings import settings

    return settings().services.sheets.dashboard


# ---------------------------------------------------------------- Slack app and sandbox
def bench_slack_app(bench: Bench) -> dict[str, Any]:
    """Acks of `coalition slack serve` (a child process, uvicorn) to signed commands fired at once.

    First a burst of the concurrent size on the fresh process (it pays lazy imports and
    thread start-up: shown as `cold`), then the concurrent burst and the large burst.
    Each command has a response_url the sandbox issued, so its answer after the ack
    goes where Slack's would; the bench waits until every one was answered.
    """
    from bench import datasets
    from bench.latency import fire_in_child, requests_for, served_app
    from bot.runtime import SANDBOX_SIGNING_SECRET
    from integrations.serving import free_port

    datasets.fresh_demo(bench.sandbox)
    slack = bench.sandbox.services["slack"]
    channel = slack.channel_by_name(LATENCY_CHANNEL)["id"]
    issued: list[str] = []

    def hook(_: int) -> str:
        issued.append(slack.issue_response_url(channel, LATENCY_USER))
        return f"{bench.running.url}/hooks/commands/{issued[-1]}"

    def burst(count: int) -> dict[str, Any]:
        before = len(issued)
        requests = requests_for(app.url, count, text="help", user=LATENCY_USER, channel_id=channel,
                                channel=LATENCY_CHANNEL, secret=SANDBOX_SIGNING_SECRET, response_url=hook)  # fmt: skip
        cpu = app.cpu_seconds()
        stats = fire_in_child(app.url, requests)
        answered = _answered(slack, issued[before:], timeout=max(60.0, count * 0.2))
        return {**asdict(stats), "answered": answered,
                "app_cpu_ms_per_command": round((app.cpu_seconds() - cpu) * 1000 / count, 1)}  # fmt: skip

    concurrent, large = bench.sizes["slack_commands"], bench.sizes["slack_burst"]
    with bench.limits(bench.time_scale, "slack-app"):
        bench.sandbox.limiter.enabled = False  # latency of the app, not of Slack's limits
        with served_app(free_port(), bench.var / "slack-app.log") as app:
            cold = burst(concurrent)
            warm = burst(concurrent)
            big = burst(large)
            problems = app.log_problems()
    return {
        "status": "ok",
        "served_by": "coalition slack serve (uvicorn, child process); client in another process",
        "commands": warm["count"],
        "p50_ms": round(warm["p50_ms"], 1),
        "p99_ms": round(warm["p99_ms"], 1),
        "max_ms": round(warm["max_ms"], 1),
        "failures": warm["failures"],
        "concurrent": _rounded(warm),
        "burst": _rounded(big),
        "cold": _rounded(cold),
        "load_average_1min": round(os.getloadavg()[0], 1),
        "app_log_problems": problems[:5],
        "p99_under_100_ms": warm["p99_ms"] < 100,
        "no_failures": warm["failures"] == 0 and big["failures"] == 0 and cold["failures"] == 0,
        "all_answered": all(b["answered"] == b["count"] for b in (cold, warm, big)),
    }


LATENCY_USER = "U0DEMOSTF01"  # a staff member of the demo coalition
LATENCY_CHANNEL = "intake-triage"


def _rounded(figures: dict[str, Any]) -> dict[str, Any]:
    return {k: round(v, 1) if isinstance(v, float) else v for k, v in figures.items()}


def _answered(slack: Any, tokens: list[str], timeout: float) -> int:
    """How many of these response URLs the app has answered through, waiting up to `timeout` for all."""
    deadline = time.monotonic() + timeout
    while True:
        done = sum(1 for t in tokens if slack.hooks.get(t, {}).get("uses", 0) > 0)
        if done == len(tokens) or time.monotonic() > deadline:
            return done
        time.sleep(0.2)


def bench_hand_run(bench: Bench) -> dict[str, Any]:
    """`coalition run referral-follow-up` in a child: what it adds to the flow's own time."""
    from bench import datasets
    from bench.hand_run import measure

    datasets.fresh_demo(bench.sandbox)
    with bench.limits(bench.time_scale, "hand-run"):
        return measure(bench.running.url, bench.var / "hand-run")


def print_hand_run(hand_run: dict[str, Any]) -> None:
    if hand_run.get("status") != "ok":
        print(f"coalition run by hand: {hand_run.get('status')}")
        return
    walls = ", ".join(f"{r['wall_seconds']} s" for r in hand_run["warm_runs"])
    print(
        f"coalition run {hand_run['flow']} by hand: {hand_run['extra_seconds']} s beyond the flow's own "
        f"time on the warm local Prefect server (walls {walls}), of which imports "
        f"{hand_run['imports_seconds']} s and Prefect {hand_run['prefect_extra_seconds']} s; "
        f"on a temporary server {hand_run['temporary_server']['extra_seconds']} s; "
        f"the warm server's first start {hand_run['warm_server_cold_start']['extra_seconds']} s."
    )


def bench_sandbox(bench: Bench) -> dict[str, Any]:
    """The emulator's own cost: median handling time per request; paging 10,000 records; a 10,000-row sheet."""
    from bench import datasets
    from bench.measure import median
    from coalition.settings import settings
    from integrations.clients import airtable_api, sheets_client

    durations = sorted(bench.durations)
    datasets.roster(bench.sandbox, 100, 10_000)
    sheets = bench.sandbox.services["sheets"]
    header = [f"Column {i}" for i in range(16)]
    rows = [header] + [[f"r{r}c{c}" for c in range(16)] for r in range(10_000)]
    sheet_id = sheets.create_spreadsheet("Bench 10k rows", {"Data": rows})
    # A scale so large that no budget ever waits: this times the emulator, not the limits.
    with bench.limits(10_000.0, "sandbox"):
        bench.sandbox.limiter.enabled = False
        bench.sandbox.clock.scale = 1.0  # list offsets expire on the emulator's clock
        cfg = settings().services.airtable
        api = airtable_api()
        base = next(b for b in api.bases(force=True) if b.name == cfg.base)
        started = time.perf_counter()
        records = api.table(base.id, cfg.tables.contacts).all()
        paging = time.perf_counter() - started
        client = sheets_client()
        started = time.perf_counter()
        values = client.open_by_key(sheet_id).worksheet("Data").get_all_values()
        reading = time.perf_counter() - started
    return {
        "requests_measured": len(durations),
        "median_overhead_ms": round(median(durations), 2),
        "p99_overhead_ms": round(durations[int(len(durations) * 0.99)] if durations else 0.0, 2),
        "median_under_5_ms": median(durations) < 5,
        "airtable_records_paged": len(records),
        "airtable_paging_seconds": round(paging, 3),
        "sheet_rows_read": len(values) - 1,
        "sheet_read_seconds": round(reading, 3),
    }


# ---------------------------------------------------------------- shared filling
def _fill(result: FlowResult, run: Any, base_line: Any, bounds: dict[str, int]) -> None:
    baseline_requests = base_line.requests
    for service in sorted(set(run.requests) | set(bounds)):
        result.services[service] = ServiceFigures(
            run.requests.get(service, 0), bounds.get(service), baseline_requests.get(service)
        )
    result.wall_seconds = run.wall_seconds
    result.breakdown = run.breakdown
    result.task_runs = run.task_runs
    result.peak_memory_mb = run.peak_memory_mb
    result.baseline_wall_seconds = base_line.wall_seconds
    result.baseline_label = base_line.label() + (
        f"; error: {base_line.error}" if base_line.error else ""
    )


MEMORY_LIMIT_MB = 300


def _errors(result: FlowResult, *runs: Any) -> None:
    """The flow's status: failed when a run failed, its memory was not measured or went over the limit."""
    errors = [r.error for r in runs if r.error]
    peak = result.peak_memory_mb
    if peak is None or peak <= 0:  # a Prefect flow run allocates megabytes: 0 means not measured
        errors.append("peak memory not measured")
    elif peak >= MEMORY_LIMIT_MB:
        errors.append(f"peak memory {peak} MB, over {MEMORY_LIMIT_MB} MB")
    result.checks[f"peak memory under {MEMORY_LIMIT_MB} MB"] = (
        peak is not None and 0 < peak < MEMORY_LIMIT_MB
    )
    if errors:
        result.status = "failed: " + "; ".join(errors)[:300]


# ---------------------------------------------------------------- output
def _fmt(value: Any, suffix: str = "") -> str:
    if value is None:
        return "—"
    if isinstance(value, float):
        return f"{value:,.2f}{suffix}" if value < 100 else f"{value:,.0f}{suffix}"
    return f"{value:,}{suffix}" if isinstance(value, int) else str(value)


def print_table(
    flows: list[FlowResult], slack_app: dict[str, Any], sandbox: dict[str, Any]
) -> None:
    from rich.console import Console
    from rich.table import Table

    table = Table(
        title="make bench: the bot against the same work done row by row (real rate limits)"
    )
    for column in ("flow", "service", "requests", "bound", "ratio", "row by row", "gain",
                   "wall s", "floor s", "wall/floor", "row by row s", "gain", "task runs", "peak MB"):  # fmt: skip
        table.add_column(column, justify="left" if column in {"flow", "service"} else "right")
    for flow in flows:
        d = flow.as_dict()
        if flow.status != "ok" and not flow.services:
            table.add_row(f"{flow.flow}\n{flow.size}", flow.status, *[""] * 12)
            continue
        first = True
        for service, figures in d["services"].items():
            timing = (
                [_fmt(d["wall_seconds"]), _fmt(d["floor_seconds_real"]), _fmt(d["wall_over_floor"]),
                 _fmt(d["row_by_row_wall_seconds"]), _fmt(d["wall_gain"], "x"), _fmt(d["task_runs"]),
                 _fmt(d["peak_memory_mb"])]
                if first else [""] * 7
            )  # fmt: skip
            label = (
                f"{flow.flow}\n{flow.size}" + ("" if flow.status == "ok" else f"\n{flow.status}")
                if first
                else ""
            )
            table.add_row(
                label, service, _fmt(figures["requests"]), _fmt(figures["bound"]), _fmt(figures["ratio"]),
                _fmt(figures["row_by_row_requests"]), _fmt(figures["gain"], "x"), *timing,
            )  # fmt: skip
            first = False
        table.add_section()
    if slack_app.get("status") == "ok":
        big = slack_app["burst"]
        line = (
            f"{slack_app['commands']} at once: p50 {slack_app['p50_ms']} ms, p99 {slack_app['p99_ms']} ms, "
            f"max {slack_app['max_ms']} ms, {slack_app['failures']} failed; {big['count']} at once: "
            f"p50 {big['p50_ms']} ms, p99 {big['p99_ms']} ms, max {big['max_ms']} ms, {big['failures']} failed"
        )
    else:
        line = slack_app.get("status", "not run")
    table.add_row("Slack app\nack latency", "slack", line, *[""] * 11)
    table.add_row(
        "sandbox",
        "all",
        f"median {sandbox.get('median_overhead_ms')} ms/request",
        f"10k records {sandbox.get('airtable_paging_seconds')} s",
        f"10k rows {sandbox.get('sheet_read_seconds')} s",
        *[""] * 9,
    )
    Console(width=200).print(table)
    print(
        "Floors in real seconds at the time scale; documented seconds and every check are in bench/results.json."
    )
    for flow in flows:
        if flow.baseline_label:
            print(f"  {flow.flow} row by row: {flow.baseline_label}")


def print_evidence(evidence: dict[str, Any]) -> None:
    if evidence.get("status") != "ok":
        print(f"evidence figures: {evidence.get('status')}")
        return
    for name in ("sqlite", "postgresql"):
        figures = evidence.get(name)
        if isinstance(figures, dict):
            print(
                f"evidence figures ({evidence['size']}, {name}): {figures['seconds']} s from the "
                f"ledger to the dashboard's tabs (target < {EVIDENCE_TARGET_SECONDS} s; runs {figures['runs']})"
            )
        else:
            print(f"evidence figures ({name}): {figures}")
    print(
        f"dashboard: Sheets requests per run {evidence['dashboard_sheets_requests']} "
        f"(bound {EVIDENCE_SHEETS_BOUND}, whatever the number of charts)"
    )


# ---------------------------------------------------------------- main
FLOW_BENCHES: dict[str, Callable[[Bench], FlowResult]] = {
    "roster-sync": bench_roster,
    "intake-routing": bench_intake,
    "referral-follow-up": bench_follow_up,  # uses the intake bench's ledger and sandbox
    "alerts": bench_alerts,
    "weekly-summary": bench_weekly,
}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument(
        "--time-scale", type=float, default=1.0, help="rate windows run this much faster"
    )
    parser.add_argument("--only", action="append", help="bench only these flows (repeatable)")
    parser.add_argument(
        "--quick", action="store_true", help="small sizes (a smoke test of the bench itself)"
    )
    parser.add_argument(
        "--out",
        type=Path,
        help="where to write the results JSON (default bench/results.json for a full real-time "
        "run, var/bench/results.json for --quick or another --time-scale)",
    )
    parser.add_argument(
        "--pg-url",
        help="also measure the evidence figures on this PostgreSQL ledger (it is emptied first)",
    )
    args = parser.parse_args(argv)
    var = ROOT / "var" / "bench"
    prepare_environment(var)
    sizes = QUICK if args.quick else SIZES
    started = time.perf_counter()
    bench = Bench(var, args.time_scale, sizes)
    bench.pg_url = args.pg_url
    try:
        flows = [
            _safe(fn, bench, name, name)
            for name, fn in FLOW_BENCHES.items()
            if not args.only or name in args.only
        ]
        slack_app = (
            _guarded(bench_slack_app, bench)
            if not args.only or "slack-app" in args.only
            else {"status": "not run"}
        )
        evidence = (
            _guarded(bench_evidence, bench)
            if not args.only or "evidence" in args.only
            else {"status": "not run"}
        )
        hand_run = (
            _guarded(bench_hand_run, bench)
            if not args.only or "hand-run" in args.only
            else {"status": "not run"}
        )
        sandbox = _guarded(bench_sandbox, bench)
    finally:
        bench.stop()
    results = {
        "generated_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "machine": f"{os.cpu_count()} cores",
        "time_scale": args.time_scale,
        "sizes": sizes,
        "seconds": round(time.perf_counter() - started, 1),
        "flows": [f.as_dict() for f in flows],
        "slack_app": slack_app,
        "evidence": evidence,
        "hand_run": hand_run,
        "sandbox": sandbox,
    }
    if args.out is None:  # the committed figures come only from a full run at real time
        real = not args.quick and args.time_scale == 1.0
        args.out = RESULTS if real else var / "results.json"
    args.out.write_text(json.dumps(results, indent=2, default=str) + "\n", encoding="utf-8")
    print_table(flows, slack_app, sandbox)
    print_evidence(evidence)
    print_hand_run(hand_run)
    print(f"Results written to {args.out} in {results['seconds']} s.")
    return 0 if all(f.status == "ok" for f in flows) else 1


def _guarded(fn: Callable[[Bench], dict[str, Any]], bench: Bench) -> dict[str, Any]:
    try:
        return fn(bench)
    except Exception as exc:
        logging.getLogger("bench").exception("bench step failed")
        return {"status": f"failed: {type(exc).__name__}: {exc}"}


if __name__ == "__main__":
    sys.exit(main())
