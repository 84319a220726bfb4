"""Helpers of the ledger and operations tests: a fresh ledger on SQLite or on a PostgreSQL database of a test's own."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest

from coalition.ledger import Ledger, open_ledger
from coalition.ledger.db import forget_ledgers


def private_postgres(base_url: str) -> tuple[str, Any]:
    """A database of this test's own, so nothing else running on the server is disturbed."""
    import psycopg
    from sqlalchemy.engine import make_url

    url = make_url(base_url)
    name = f"coalition_ops_{uuid.uuid4().hex[:8]}"
    admin = url.set(drivername="postgresql", database="postgres").render_as_string(False)
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')

    def drop() -> None:
        with psycopg.connect(admin, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')

    return url.set(database=name).render_as_string(False), drop


@contextmanager
def fresh_ledger(kind: str, tmp_path: Path) -> Iterator[Ledger]:
    """A migrated, empty ledger: "sqlite" in tmp_path, or "postgresql" (skipped without COALITION_TEST_DATABASE_URL)."""
    drop = None
    if kind == "sqlite":
        url = f"sqlite:///{tmp_path / 'ledger.sqlite3'}"
    else:
        base = os.environ.get("COALITION_TEST_DATABASE_URL")
        if not base:
            pytest.skip("PostgreSQL ledger tests need COALITION_TEST_DATABASE_URL (CI sets it)")
        url, drop = private_postgres(base)
    forget_ledgers()
    opened = open_ledger(url)
    try:
        yield opened
    finally:
        opened.dispose()
        forget_ledgers()
        if drop:
            drop()
