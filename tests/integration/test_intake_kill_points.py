"""Issue 16, findings 1 and 2: a run SIGKILLed at a chosen task boundary strands nothing for good, and nothing waits silently.

The run that dies is a real child process running the real Prefect flow; it kills
itself right after `claim in ledger` (flows/steps.py, COALITION_KILL_AFTER). The
reruns run in this process.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections import Counter
from datetime import timedelta
from pathlib import Path

import pytest
from intake_helpers import intake_records, seed_partner_directory
from sqlalchemy import func, select

from coalition.ledger import open_ledger, utcnow
from coalition.ledger.leases import Holder, LeaseStore
from coalition.ledger.outbox import NoticeOutbox
from coalition.ledger.tables.intake import IntakeNotice
from coalition.settings import reload_settings
from flows.intake_routing import run_routing
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


def test_a_notice_owed_by_a_dead_run_is_sent_once_its_lease_lapses(routing_box) -> None:
    """A run that died while sending (it had claimed the notices, posted none): the next run
    reports them as waiting, and the first run after the lease lapses sends each once."""
    done = _killed_run("intake-routing:write intake status")
    assert done.returncode == -9
    dead = NoticeOutbox(open_ledger(), Holder.new(timedelta(seconds=LEASE)))
    time.sleep(LEASE + 0.5)  # the killed run's intakes and referrals lapse; its notices are next
    owed = dead.claim_notices(utcnow())  # what the dead run's `notify` had claimed
    assert owed

    waiting = run_routing(publish_report=False)
    assert {h.kind: h.count for h in waiting.held}.get("notice") == len(owed)
    assert not {n.key for n in owed} & set(_keys_posted(routing_box))  # held: none sent yet

    time.sleep(LEASE + 0.5)
    run_routing(publish_report=False)
    keys = _keys_posted(routing_box)
    assert set(keys) >= {n.key for n in owed} and all(n == 1 for n in keys.values())
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
