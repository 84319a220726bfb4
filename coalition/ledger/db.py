"""Engine, sessions and schema upgrades for the ledger."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import DateTime, Engine, create_engine, event, text
from sqlalchemy.orm import DeclarativeBase, Session, sessionmaker
from sqlalchemy.types import TypeDecorator

MIGRATIONS = Path(__file__).with_name("migrations")


def utcnow() -> datetime:
    return datetime.now(UTC)


class UTCDateTime(TypeDecorator[datetime]):
    """Timezone-aware UTC datetimes on SQLite and PostgreSQL alike."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("ledger times must be timezone-aware")
        return value.astimezone(UTC)

    def process_result_value(self, value: datetime | None, dialect) -> datetime | None:
        if value is not None and value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value


class Base(DeclarativeBase):
    type_annotation_map = {datetime: UTCDateTime()}


def make_folder(url: str) -> None:
    """The folder of a SQLite file (var/ on a fresh checkout): SQLite creates the file, not its folder."""
    if url.startswith("sqlite"):
        path = url.split("///", 1)[-1].split("?", 1)[0]
        if path and path != ":memory:" and not path.startswith("file:"):
            Path(path).parent.mkdir(parents=True, exist_ok=True)


def _engine(url: str) -> Engine:
    if url.startswith("sqlite"):
        make_folder(url)
        engine = create_engine(url, connect_args={"timeout": 30, "check_same_thread": False})

        @event.listens_for(engine, "connect")
        def _pragmas(dbapi_connection, _record) -> None:
            # pysqlite's own implicit BEGIN is turned off so ours (IMMEDIATE) is the only one.
            dbapi_connection.isolation_level = None
            cursor = dbapi_connection.cursor()
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute("PRAGMA busy_timeout=30000")
            cursor.execute("PRAGMA foreign_keys=ON")
            cursor.close()

        # Serialise SQLite writers explicitly so concurrent runs queue instead of failing.
        @event.listens_for(engine, "begin")
        def _begin(conn) -> None:
            conn.exec_driver_sql("BEGIN IMMEDIATE")

        return engine
    return create_engine(url, pool_pre_ping=True)


def insert_ignoring_conflicts(session: Session, table: Any, rows: list[dict[str, Any]]) -> None:
    """INSERT ... ON CONFLICT DO NOTHING on SQLite and PostgreSQL."""
    if not rows:
        return
    if session.get_bind().dialect.name == "postgresql":
        from sqlalchemy.dialects.postgresql import insert
    else:
        from sqlalchemy.dialects.sqlite import insert
    session.execute(insert(table).on_conflict_do_nothing(), rows)


def upgrade(url: str) -> None:
    """Bring the database at `url` to the newest schema."""
    from alembic import command
    from alembic.config import Config

    make_folder(url)  # the migration opens the file first
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    command.upgrade(config, "head")


class Ledger:
    """Sessions on one ledger database."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.engine = _engine(url)
        self._sessions = sessionmaker(self.engine, expire_on_commit=False)

    @contextmanager
    def session(self) -> Iterator[Session]:
        """One transaction: committed on success, rolled back on error."""
        with self._sessions() as session, session.begin():
            yield session

    def ping(self) -> str:
        """One round trip (the database answers); where it is, without the password."""
        with self.session() as session:
            session.execute(text("SELECT 1"))
        return self.engine.url.render_as_string(hide_password=True)

    def dispose(self) -> None:
        self.engine.dispose()


_lock = threading.Lock()
_ledgers: dict[str, Ledger] = {}


def open_ledger(url: str | None = None) -> Ledger:
    """The process's ledger for `url` (default: from settings), migrated to the newest schema."""
    if url is None:
        from coalition.settings import settings

        url = settings().database_url
    with _lock:
        if url not in _ledgers:
            upgrade(url)
            _ledgers[url] = Ledger(url)
        return _ledgers[url]


def reset_schema(url: str) -> None:
    """Drop every table of the PostgreSQL database at `url` (the soak starts each run from nothing)."""
    engine = create_engine(url)
    with engine.begin() as conn:
        conn.execute(text("DROP SCHEMA public CASCADE"))
        conn.execute(text("CREATE SCHEMA public"))
    engine.dispose()


def forget_ledgers(after_fork: bool = False) -> None:
    """Drop cached ledgers (tests switch databases; a forked child lets go of its parent's connections)."""
    with _lock:
        if after_fork:
            for ledger in _ledgers.values():
                ledger.engine.dispose(close=False)  # the parent's connections are not ours to close
        _ledgers.clear()
