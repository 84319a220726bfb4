"""The bot's ledger: ids, hashes, statuses, times and Slack timestamps; never a person's details.

SQLite under var/ by default, PostgreSQL when COALITION_DATABASE_URL says so. The
schema is owned by Alembic (coalition/ledger/migrations); `open_ledger` brings a
database up to date before handing out sessions.
"""

from __future__ import annotations

from coalition.ledger.db import Base, Ledger, open_ledger, utcnow

__all__ = ["Base", "Ledger", "open_ledger", "utcnow"]
