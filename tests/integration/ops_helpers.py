"""Helpers of the operations tests: a PostgreSQL database of a test's own."""

from __future__ import annotations

import uuid
from typing import Any


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
