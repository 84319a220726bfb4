"""Issue 16, findings 1 and 2: a run SIGKILLed at a chosen task boundary strands nothing for good, and nothing waits silently.

The run that dies is a real child process running the real Prefect flow; it kills
itself at a chosen point (flows/steps.py, COALITION_KILL_AFTER): right after `claim
in ledger`, or inside `notify` once its notices are claimed. The reruns run in this
process.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections import Counter
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from intake_helpers import intake_records, seed_partner_directory
from sqlalchemy import func, select

from coalition.ledger import open_ledger, utcnow
from coalition.ledger.leases import Holder, LeaseStore, ident_of
from coalition.ledger.tables.intake import IntakeNotice
from coalition.settings import reload_settings
from flows.intake_routing import intake_routing, run_routing
from integrations.slack import forget_channels

ROOT = Path(__file__).resolve().parents[2]
LEASE = 10.0  # seconds: long enough for the run that waits to finish inside it


@pytest.fixture
def routing_box(demo, monkeypatch):
    monkeypatch.setenv("COALITION_TIME_SCALE", "50")
    monkeypatch.setenv("COALITION_LEASE_SECONDS", str(LEASE))
    reload_settings()
    forget_channels()
    demo.partners = seed_partner_directory(demo)
    return demo


def _killed_run(after: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "COALITION_KILL_AFTER": after, "PYTHONPATH": str(ROOT)}
    return subprocess.run(
        [sys.executable, "-m", "bench.soak", "--child", "--only", "intake-routing"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        start_new_session=True,
    )


BOT_HEADERS = {"Intake ID", "Status", "Partner", "Referral ID", "Routed at", "Routing reason"}


def _answered(handle) -> list[dict[str, str]]:
    """Intake rows with any answer in them (the rows the bot must name and give a status)."""
    return [
        r
        for r in intake_records(handle)
        if any(v.strip() for k, v in r.items() if k not in BOT_HEADERS)
    ]


def _keys_posted(handle) -> Counter:
    return Counter(
        str(m.get("metadata", {}).get("event_payload", {}).get("key"))
        for m in handle.services["slack"].all_messages()
        if m.get("kind") == "message"
    )


def test_an_intake_claimed_by_a_killed_run_is_finished_once_its_lease_lapses(routing_box) -> None:
    done = _killed_run("intake-routing:claim in ledger")
    assert done.returncode == -9 and "KILLED after intake-routing:claim in ledger" in done.stdout
    held = LeaseStore(open_ledger()).outstanding()
    assert Counter(lease.kind for lease in held)["intake"] == 150  # the dead run's claims

    # Within the lease: the rows wait, and the report says so (how much, since, until when).
    waiting = run_routing(publish_report=False)
    kinds = {h.kind: h for h in waiting.held}
    assert kinds["intake"].count == 150 and kinds["referral"].count > 0
    assert kinds["intake"].takeover > kinds["intake"].since
    assert kinds["intake"].takeover - kinds["intake"].since == timedelta(seconds=LEASE)
    assert any(
        line.startswith("waiting: 150 intakes held by another run since")
        for line in waiting.summary_lines()
    )
    assert all(not r["Status"] for r in _answered(routing_box))

    time.sleep(LEASE + 0.5)
    report = run_routing(publish_report=False)
    assert report.counts["taken over from a stopped run"] == 150 and report.held == []
    rows = _answered(routing_box)
    assert len(rows) == 150 and all(r["Intake ID"] and r["Status"] for r in rows)
    keys = _keys_posted(routing_box)
    assert keys and all(n == 1 for n in keys.values()), keys.most_common(3)
    with open_ledger().session() as session:
        unsent = session.scalar(
            select(func.count()).select_from(IntakeNotice).where(IntakeNotice.posted_at.is_(None))
        )
    assert unsent == 0
    assert LeaseStore(open_ledger()).outstanding() == []


def _held_keys(kind: str) -> dict[str, datetime]:
    """The keys of `kind` still leased, and until when."""
    return {
        ident_of(lease.key): lease.until
        for lease in LeaseStore(open_ledger()).outstanding()
        if lease.kind == kind and lease.until is not None
    }


def test_a_notice_owed_by_a_dead_run_is_sent_once_its_lease_lapses(
    routing_box, monkeypatch
) -> None:
    """A run killed right after claiming its notices (none sent): the next run reports them as
    waiting and sends none, and the first run after their lease lapses sends each once."""
    monkeypatch.setenv("COALITION_LEASE_SECONDS", "60")  # the rerun must notify inside it
    reload_settings()
    done = _killed_run("intake-routing:notices claimed")
    assert done.returncode == -9 and "KILLED after intake-routing:notices claimed" in done.stdout
    owed = _held_keys("notice")
    assert owed and not set(owed) & set(_keys_posted(routing_box))  # claimed, none posted

    waiting = run_routing(publish_report=False)
    assert {h.kind: h.count for h in waiting.held}.get("notice") == len(owed)
    assert any(line.startswith("waiting:") for line in waiting.summary_lines())
    assert not set(owed) & set(_keys_posted(routing_box))  # still held: none sent yet

    # The dead run's last leases lapse (its intakes were renewed after its last step, its
    # notices claimed as of its start): the next run takes all of it over.
    last = max(lease.until for lease in LeaseStore(open_ledger()).outstanding() if lease.until)
    time.sleep(max((last - utcnow()).total_seconds(), 0) + 0.5)
    after = run_routing(publish_report=False)
    keys = _keys_posted(routing_box)
    assert set(keys) >= set(owed) and all(n == 1 for n in keys.values()), keys.most_common(3)
    assert after.held == []
    assert LeaseStore(open_ledger()).outstanding() == []


def test_a_run_prefect_marks_crashed_gives_its_work_back_at_once(routing_box, monkeypatch) -> None:
    """Prefect's crashed-run detection (the zombie automation, here its state change) lets a
    dead run's leases lapse at once: the next run takes the work over without waiting."""
    from prefect.client.orchestration import get_client
    from prefect.states import Crashed

    monkeypatch.setenv("COALITION_LEASE_SECONDS", "600")  # without the crash mark: 10 minutes
    reload_settings()
    done = _killed_run("intake-routing:claim in ledger")
    assert done.returncode == -9
    run_id = next(
        line.rsplit(" run ", 1)[1] for line in done.stdout.splitlines() if "KILLED after" in line
    )
    assert {lease.owner for lease in LeaseStore(open_ledger()).outstanding()} == {run_id}

    still = run_routing(publish_report=False)  # the run is not known dead yet: its work waits
    assert {h.kind: h.count for h in still.held}.get("intake") == 150

    with get_client(sync_client=True) as client:
        client.set_flow_run_state(run_id, Crashed(message="heartbeats stopped"), force=True)
    report = intake_routing()  # a run of the flow, as scheduled: it asks Prefect who crashed
    assert report.counts["taken over from a stopped run"] == 150 and report.held == []
    rows = _answered(routing_box)
    assert len(rows) == 150 and all(r["Intake ID"] and r["Status"] for r in rows)
    assert LeaseStore(open_ledger()).outstanding() == []


def test_work_held_past_twice_the_lease_is_told_to_ops_once(routing_box) -> None:
    """A run alive but not finishing (it keeps renewing) holds an intake past twice the lease:
    every run's report says so, and #ops-alerts hears it once."""
    stuck = Holder.new(timedelta(seconds=LEASE))
    leases = LeaseStore(open_ledger())
    leases.claim("intake:I-STUCK1", stuck, utcnow() - timedelta(seconds=3 * LEASE))
    leases.renew(stuck, utcnow())
    for _ in range(2):
        report = run_routing(publish_report=False)
        held = {h.kind: h for h in report.held}
        assert held["intake"].count == 1 and held["intake"].overdue
    told = [
        m
        for m in routing_box.services["slack"].all_messages()
        if m.get("kind") == "message" and "held by one run since" in (m.get("text") or "")
    ]
    assert len(told) == 1
