"""The ledger on SQLite always and on PostgreSQL when COALITION_TEST_DATABASE_URL is set."""

from __future__ import annotations

import os
import threading
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import create_engine, inspect, text, update

from coalition.ledger.db import Base, Ledger, forget_ledgers, open_ledger, upgrade
from coalition.ledger.tables import IntakeRecord, Watermark

PG_URL = os.environ.get("COALITION_TEST_DATABASE_URL")


def _reset_postgres(url: str) -> None:
    engine = create_engine(url)
    with engine.begin() as conn:
        conn.execute(text("DROP SCHEMA public CASCADE"))
        conn.execute(text("CREATE SCHEMA public"))
    engine.dispose()


@pytest.fixture(params=["sqlite", "postgresql"])
def ledger(request: pytest.FixtureRequest, tmp_path: Path):
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path / 'ledger.sqlite3'}"
    else:
        if not PG_URL:
            pytest.skip("PostgreSQL ledger tests need COALITION_TEST_DATABASE_URL (CI sets it)")
        url = PG_URL
        _reset_postgres(url)
    forget_ledgers()
    led = open_ledger(url)
    yield led
    led.dispose()
    forget_ledgers()


def test_migrations_create_every_table(ledger: Ledger) -> None:
    tables = set(inspect(ledger.engine).get_table_names())
    assert set(Base.metadata.tables) <= tables
    assert "alembic_version" in tables


def test_migrations_match_the_models(ledger: Ledger) -> None:
    from alembic.autogenerate import compare_metadata
    from alembic.migration import MigrationContext

    import coalition.ledger.tables  # noqa: F401

    with ledger.engine.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn), Base.metadata)
    assert diff == [], "models changed without a migration: run alembic revision --autogenerate"


def test_upgrade_is_idempotent(ledger: Ledger) -> None:
    upgrade(ledger.url)
    upgrade(ledger.url)


def test_times_come_back_aware_in_utc(ledger: Ledger) -> None:
    moment = datetime(2026, 11, 23, 8, 30, tzinfo=UTC) + timedelta(microseconds=0)
    with ledger.session() as s:
        s.add(IntakeRecord(intake_id="IN-1", status="new", received_at=moment))
    with ledger.session() as s:
        got = s.get(IntakeRecord, "IN-1").received_at
    assert got == moment and got.tzinfo is not None


def test_naive_times_are_refused(ledger: Ledger) -> None:
    with pytest.raises(Exception, match="timezone-aware"), ledger.session() as s:
        s.add(IntakeRecord(intake_id="IN-2", status="new", received_at=datetime(2026, 1, 1)))
        s.flush()


def test_failed_transaction_leaves_nothing(ledger: Ledger) -> None:
    with pytest.raises(RuntimeError), ledger.session() as s:
        s.add(Watermark(key="k", value="v"))
        s.flush()
        raise RuntimeError("crash between two steps")
    with ledger.session() as s:
        assert s.get(Watermark, "k") is None


def test_conditional_update_claims_once_under_concurrency(ledger: Ledger) -> None:
    with ledger.session() as s:
        s.add(IntakeRecord(intake_id="IN-3", status="new"))
    wins: list[int] = []

    def claim() -> None:
        with ledger.session() as s:
            result = s.execute(
                update(IntakeRecord)
                .where(IntakeRecord.intake_id == "IN-3", IntakeRecord.status == "new")
                .values(status="claimed")
            )
            wins.append(result.rowcount)

    threads = [threading.Thread(target=claim) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(wins) == [0] * 7 + [1]
