"""The lease store (coalition/ledger/leases.py) on SQLite always and on PostgreSQL when COALITION_TEST_DATABASE_URL is set."""

from __future__ import annotations

import os
import threading
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text

from coalition.ledger.db import Ledger, forget_ledgers, open_ledger
from coalition.ledger.leases import Holder, LeaseStore, lease_key

PG_URL = os.environ.get("COALITION_TEST_DATABASE_URL")
NOW = datetime(2026, 12, 7, 20, 0, tzinfo=UTC)
MINUTE = timedelta(minutes=1)


@pytest.fixture(params=["sqlite", "postgresql"])
def ledger(request: pytest.FixtureRequest, tmp_path: Path):
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path / 'ledger.sqlite3'}"
    else:
        if not PG_URL:
            pytest.skip("PostgreSQL ledger tests need COALITION_TEST_DATABASE_URL (CI sets it)")
        url = PG_URL
        engine = create_engine(url)
        with engine.begin() as conn:
            conn.execute(text("DROP SCHEMA public CASCADE"))
            conn.execute(text("CREATE SCHEMA public"))
        engine.dispose()
    forget_ledgers()
    led = open_ledger(url)
    yield led
    led.dispose()
    forget_ledgers()


def test_a_claim_is_held_until_it_lapses_then_taken_over(ledger: Ledger) -> None:
    store = LeaseStore(ledger)
    first, second = Holder.new(5 * MINUTE), Holder.new(5 * MINUTE)
    key = lease_key("intake", "I-1")
    taken = store.claim(key, first, NOW)
    assert (taken.owner, taken.since, taken.until) == (first.owner, NOW, NOW + 5 * MINUTE)
    assert store.claim(key, second, NOW + 4 * MINUTE).owner == first.owner  # still held
    later = store.claim(key, second, NOW + 5 * MINUTE)  # lapsed: taken over
    assert (later.owner, later.since) == (second.owner, NOW + 5 * MINUTE)
    assert store.claim(key, first, NOW + 6 * MINUTE).owner == second.owner


def test_renewing_keeps_a_live_run_s_claims(ledger: Ledger) -> None:
    store = LeaseStore(ledger)
    alive, other = Holder.new(5 * MINUTE), Holder.new(5 * MINUTE)
    store.claim_many(["intake:I-1", "referral:R-1"], alive, NOW)
    assert store.renew(alive, NOW + 4 * MINUTE) == 2
    assert store.claim_many(["intake:I-1", "referral:R-1"], other, NOW + 6 * MINUTE) == set()
    lease = store.lease("intake:I-1")
    assert lease is not None and lease.since == NOW and lease.until == NOW + 9 * MINUTE


def test_release_hands_back_only_the_holder_s_claims(ledger: Ledger) -> None:
    store = LeaseStore(ledger)
    mine, theirs = Holder.new(MINUTE), Holder.new(MINUTE)
    store.claim_many(["intake:I-1", "intake:I-2"], mine, NOW)
    store.claim("intake:I-3", theirs, NOW)
    store.claim_once("campaign-approved:rec1", "U1", NOW)
    assert store.release(mine) == 2
    assert [lease.key for lease in store.outstanding()] == ["intake:I-3"]
    assert store.lease("campaign-approved:rec1") is not None  # a claim for good stays


def test_reclaim_expired_takes_over_only_lapsed_claims_of_a_kind(ledger: Ledger) -> None:
    store = LeaseStore(ledger)
    dead, live, me = Holder.new(MINUTE), Holder.new(10 * MINUTE), Holder.new(MINUTE)
    store.claim_many(["intake:I-1", "intake:I-2", "notice:n-1"], dead, NOW)
    store.claim("intake:I-3", live, NOW)
    assert store.reclaim_expired("intake", me, NOW + 2 * MINUTE) == ["I-1", "I-2"]
    assert store.lease("notice:n-1").owner == dead.owner  # another kind: not touched
    assert store.lease("intake:I-3").owner == live.owner


def test_held_says_how_much_since_when_and_when_it_is_taken_over(ledger: Ledger) -> None:
    store = LeaseStore(ledger)
    other, me = Holder.new(5 * MINUTE), Holder.new(5 * MINUTE)
    store.claim_many([f"intake:I-{i}" for i in range(3)], other, NOW)
    store.claim("referral:R-1", other, NOW + MINUTE)
    store.claim("intake:I-9", me, NOW)
    held = store.held(["intake", "referral", "notice"], me, NOW + 2 * MINUTE, 5 * MINUTE)
    assert [(h.kind, h.count, h.since, h.takeover, h.overdue) for h in held] == [
        ("intake", 3, NOW, NOW + 5 * MINUTE, False),
        ("referral", 1, NOW + MINUTE, NOW + 6 * MINUTE, False),
    ]
    store.renew(other, NOW + 10 * MINUTE)  # alive but not finishing
    late = store.held(["intake"], me, NOW + 11 * MINUTE, 5 * MINUTE)
    assert late[0].overdue
    # A dead run's lease that lapsed is not "stuck": the next run takes it over.
    dead = store.held(["referral"], me, NOW + 20 * MINUTE, 5 * MINUTE)
    assert dead[0].count == 1 and not dead[0].overdue


def test_claim_once_names_the_first_claimant(ledger: Ledger) -> None:
    store = LeaseStore(ledger)
    assert store.claim_once("campaign-approved:rec1", "U1", NOW) is None
    earlier = store.claim_once("campaign-approved:rec1", "U2", NOW + MINUTE)
    assert earlier is not None and (earlier.owner, earlier.since, earlier.until) == (
        "U1",
        NOW,
        None,
    )
    store.unclaim("campaign-approved:rec1")
    assert store.claim_once("campaign-approved:rec1", "U2", NOW + MINUTE) is None


def test_racing_runs_each_claim_a_key_once(ledger: Ledger) -> None:
    """Eight threads race for 40 lapsed and 40 free keys: each key ends with exactly one owner."""
    store = LeaseStore(ledger)
    dead = Holder.new(MINUTE)
    keys = [f"intake:I-{i}" for i in range(80)]
    store.claim_many(keys[:40], dead, NOW - 2 * MINUTE)
    holders = [Holder.new(5 * MINUTE) for _ in range(8)]
    won: dict[str, set[str]] = {}
    barrier = threading.Barrier(len(holders))

    def race(holder: Holder) -> None:
        barrier.wait()
        won[holder.owner] = store.claim_many(keys, holder, NOW)

    threads = [threading.Thread(target=race, args=(h,)) for h in holders]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    counted = [k for mine in won.values() for k in mine]
    assert sorted(counted) == sorted(keys)  # every key won, none twice


def test_the_upgrade_carries_claims_in_flight_into_leases(tmp_path: Path) -> None:
    """A ledger at revision 0002 with a stranded intake claim, a leased notice, the alerts run's
    watermark lease and a campaign approved in Slack: after the upgrade each is a lease, the
    stranded intake already lapsed (the next run takes it over), the approval held for good."""
    from alembic import command
    from alembic.config import Config

    from coalition.ledger.db import MIGRATIONS, upgrade

    url = f"sqlite:///{tmp_path / 'old.sqlite3'}"
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.set_main_option("sqlalchemy.url", url)
    command.upgrade(config, "0002")
    engine = create_engine(url)
    at = "2026-12-01 10:00:00.000000"
    with engine.begin() as conn:
        conn.execute(
            text(
                "INSERT INTO intakes (intake_id, status, urgent, claim_token, created_at, updated_at) "
                "VALUES ('I-1', 'routing', 0, 'dead-run', :at, :at)"
            ),
            {"at": at},
        )
        conn.execute(
            text(
                "INSERT INTO intake_notices (key, kind, channel, payload, created_at, attempts, "
                "claim_token, lease_until) VALUES ('n-1', 'k', 'c', '{}', :at, 0, 'dead-run', :at)"
            ),
            {"at": at},
        )
        conn.execute(
            text("INSERT INTO watermarks (key, value, updated_at) VALUES (:k, :v, :at)"),
            [
                {"k": "bot:campaign-approved:rec1", "v": "U1|2026-12-01T10:00:00+00:00", "at": at},
                {"k": "alerts:run-lease", "v": "2026-12-01T10:10:00+00:00 abc", "at": at},
            ],
        )
    engine.dispose()
    upgrade(url)
    forget_ledgers()
    store = LeaseStore(open_ledger(url))
    intake = store.lease("intake:I-1")
    assert intake is not None and intake.owner == "dead-run" and intake.lapsed(NOW)
    assert store.lease("notice:n-1").owner == "dead-run"
    approved = store.lease("campaign-approved:rec1")
    assert approved is not None and (approved.owner, approved.until) == ("U1", None)
    assert approved.since == datetime(2026, 12, 1, 10, 0, tzinfo=UTC)
    assert store.reclaim_expired("intake", Holder.new(MINUTE), NOW) == ["I-1"]
    with open_ledger(url).session() as session:
        left = session.execute(text("SELECT key FROM watermarks")).scalars().all()
    assert left == []
    forget_ledgers()


def test_a_crashed_run_s_leases_lapse_at_once_and_only_its_own(ledger: Ledger) -> None:
    store = LeaseStore(ledger)
    dead, alive = Holder.new(MINUTE, "run-dead"), Holder.new(MINUTE, "run-alive")
    store.claim_many(["intake:I-1", "notice:N-1"], dead, NOW)
    store.claim_many(["intake:I-2"], alive, NOW)
    assert store.owners() == ["run-alive", "run-dead"]

    assert store.lapse_owners(["run-dead"], NOW + timedelta(seconds=1)) == 2
    later = NOW + timedelta(seconds=2)  # long before the minute is up
    taker = Holder.new(MINUTE)
    assert store.reclaim_expired("intake", taker, later) == ["I-1"]
    assert store.claim("intake:I-2", taker, later).owner == "run-alive"


def test_the_on_crashed_hook_lets_the_run_s_leases_lapse(tmp_path: Path, monkeypatch) -> None:
    """flows/steps.release_on_crash, as Prefect calls it when it marks a run Crashed."""
    from types import SimpleNamespace
    from uuid import uuid4

    from coalition.ledger import utcnow
    from flows.steps import release_on_crash

    url = f"sqlite:///{tmp_path / 'ledger.sqlite3'}"
    monkeypatch.setenv("COALITION_DATABASE_URL", url)
    from coalition.settings import reload_settings

    reload_settings()
    forget_ledgers()
    run = SimpleNamespace(id=uuid4())
    store = LeaseStore(open_ledger(url))
    store.claim("intake:I-9", Holder.new(timedelta(hours=1), str(run.id)), utcnow())
    release_on_crash(None, run, None)
    assert store.lease("intake:I-9").lapsed(utcnow())
    forget_ledgers()
