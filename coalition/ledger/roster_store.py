"""The roster sync's ledger: watermarks, the index of what the last sync saw, and the partner directory.

Only what `coalition.ledger.tables.roster` allows is stored: record ids,
organization data, dates, finding codes and keyed hashes. The sync's functions take
a session so the caller decides the transaction (one per run's save);
`PartnerDirectory` is how everyone else reads the directory.
"""

from __future__ import annotations

import secrets
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import delete, insert, select
from sqlalchemy.orm import Session

from coalition.ledger.db import Ledger
from coalition.ledger.tables.common import Watermark
from coalition.ledger.tables.roster import ContactState, MemberState, Partner
from coalition.roster.directory import PartnerChanges
from coalition.roster.models import ContactIndex, MemberIndex, RosterIndex

SINCE = "roster-sync:since"
LAST_FULL = "roster-sync:last-full"
HASH_KEY = "roster-sync:hash-key"
PARTNER_COLUMNS = (
    "name", "services", "counties", "states", "languages", "remote", "interpreter", "accepting",
    "weekly_capacity", "income_limit_percent", "lsc_funded", "accreditation", "referral_channel",
    "referral_sheet", "active", "slack_users",
)  # fmt: skip


@dataclass(frozen=True)
class SyncState:
    """What a run starts from."""

    since: datetime | None
    last_full: datetime | None
    secret: str
    secret_is_new: bool
    index: RosterIndex
    partners: dict[str, dict[str, Any]]


# ---------------------------------------------------------------- reading
def load_state(session: Session) -> SyncState:
    marks = {
        w.key: w.value
        for w in session.scalars(select(Watermark).where(Watermark.key.like("roster-sync:%")))
    }
    secret = marks.get(HASH_KEY)
    return SyncState(
        since=_time(marks.get(SINCE)),
        last_full=_time(marks.get(LAST_FULL)),
        secret=secret or secrets.token_hex(32),
        secret_is_new=secret is None,
        index=load_index(session),
        partners=load_partners(session),
    )


def load_index(session: Session) -> RosterIndex:
    members = {
        row.member_id: MemberIndex(
            id=row.member_id,
            name=row.name,
            status=row.membership_status,
            dues_paid_through=row.dues_paid_through,
            last_verified=row.last_verified,
            finding_keys=tuple(row.finding_keys or ()),
            row_hash=row.row_hash,
            removed=row.removed_at is not None,
        )
        for row in session.scalars(select(MemberState))
    }
    contacts = {
        row.contact_id: ContactIndex(
            id=row.contact_id,
            member_ids=tuple(row.member_ids or ()),
            email_key=row.email_key,
            phone_key=row.phone_key,
            finding_keys=tuple(row.finding_keys or ()),
            slack_user=row.slack_user,
        )
        for row in session.scalars(select(ContactState))
    }
    return RosterIndex(members, contacts)


def load_partners(session: Session) -> dict[str, dict[str, Any]]:
    return {
        row.member_id: {"member_id": row.member_id, **{c: getattr(row, c) for c in PARTNER_COLUMNS}}
        for row in session.scalars(select(Partner))
    }


def _time(value: str | None) -> datetime | None:
    return datetime.fromisoformat(value) if value else None


# ---------------------------------------------------------------- writing
def save_watermarks(
    session: Session, since: datetime, full: bool, secret: str, secret_is_new: bool
) -> None:
    _set(session, SINCE, since.isoformat())
    if full:
        _set(session, LAST_FULL, since.isoformat())
    if secret_is_new:
        _set(session, HASH_KEY, secret)


def _set(session: Session, key: str, value: str) -> None:
    row = session.get(Watermark, key)
    if row is None:
        session.add(Watermark(key=key, value=value))
    else:
        row.value = value


def save_index(session: Session, before: RosterIndex, after: RosterIndex, now: datetime) -> int:
    """Write the entries of `after` that differ from `before`; drop contacts no longer there. Rows written."""
    members = {k: v for k, v in after.members.items() if before.members.get(k) != v}
    existing = _rows(session, MemberState, MemberState.member_id, members)
    fresh: list[dict[str, Any]] = []
    for member_id, entry in members.items():
        values = _member_values(entry, now)
        row = existing.get(member_id)
        if row is None:
            fresh.append({"member_id": member_id, "first_seen": now, "updated_at": now, **values})
            continue
        if row.removed_at is not None and entry.removed:
            values["removed_at"] = row.removed_at  # keep when it left, not when we last looked
        for column, value in values.items():
            setattr(row, column, value)
    _insert(session, MemberState, fresh)
    contacts = {k: v for k, v in after.contacts.items() if before.contacts.get(k) != v}
    existing = _rows(session, ContactState, ContactState.contact_id, contacts)
    fresh = []
    for contact_id, entry in contacts.items():
        values = {
            "member_ids": list(entry.member_ids),
            "email_key": entry.email_key,
            "phone_key": entry.phone_key,
            "finding_keys": list(entry.finding_keys),
            "slack_user": entry.slack_user,
        }
        row = existing.get(contact_id)
        if row is None:
            fresh.append({"contact_id": contact_id, "updated_at": now, **values})
            continue
        for column, value in values.items():
            setattr(row, column, value)
    _insert(session, ContactState, fresh)
    gone = sorted(set(before.contacts) - set(after.contacts))
    for start in range(0, len(gone), 500):
        chunk = gone[start : start + 500]
        session.execute(delete(ContactState).where(ContactState.contact_id.in_(chunk)))
    return len(members) + len(contacts) + len(gone)


def _member_values(entry: MemberIndex, now: datetime) -> dict[str, Any]:
    return {
        "name": entry.name[:300],
        "content_hash": entry.row_hash or "",
        "row_hash": entry.row_hash,
        "membership_status": entry.status[:40] if entry.status else None,
        "dues_paid_through": entry.dues_paid_through,
        "last_verified": entry.last_verified,
        "finding_keys": list(entry.finding_keys),
        "removed_at": now if entry.removed else None,
    }


def _insert(session: Session, table: Any, rows: list[dict[str, Any]]) -> None:
    # One executemany per 1,000 rows: a first sync of 10,000 contacts is a second, not a minute.
    for start in range(0, len(rows), 1000):
        session.execute(insert(table), rows[start : start + 1000])


def _rows(session: Session, table: Any, key: Any, wanted: Mapping[str, Any]) -> dict[str, Any]:
    if not wanted:
        return {}
    ids = sorted(wanted)
    found: dict[str, Any] = {}
    for start in range(0, len(ids), 500):
        for row in session.scalars(select(table).where(key.in_(ids[start : start + 500]))):
            found[getattr(row, key.key)] = row
    return found


def save_partners(session: Session, changes: PartnerChanges) -> int:
    """Upsert changed partner entries and mark departed ones inactive. Rows written."""
    wanted = {r.member_id: r for r in changes.upserts} | dict.fromkeys(changes.deactivate)
    existing = _rows(session, Partner, Partner.member_id, wanted)
    fresh: list[dict[str, Any]] = []
    for record in changes.upserts:
        row = existing.get(record.member_id)
        if row is None:
            fresh.append(record.as_row())
            continue
        for column, value in record.as_row().items():
            setattr(row, column, value)
    _insert(session, Partner, fresh)
    for member_id in changes.deactivate:
        row = existing.get(member_id)
        if row is not None:
            row.active = False
    return changes.count


def put_partners(session: Session, rows: list[dict[str, Any]]) -> None:
    """Write directory rows as given, new or not (the bench sets up a directory without a sync)."""
    for row in rows:
        session.merge(Partner(**row))


# ---------------------------------------------------------------- the directory, for everyone else
class PartnerDirectory:
    """The partner directory roster sync wrote, as routing, the Slack app and the doctor read it."""

    def __init__(self, ledger: Ledger) -> None:
        self.ledger = ledger

    def partners(self) -> list[dict[str, Any]]:
        """Every partner, active or not (organisation data only)."""
        columns = [c.name for c in Partner.__table__.columns]
        with self.ledger.session() as session:
            rows = session.scalars(select(Partner).order_by(Partner.member_id))
            return [{c: getattr(r, c) for c in columns} for r in rows]

    def active(self) -> list[dict[str, Any]]:
        return [p for p in self.partners() if p["active"]]

    def built_at(self) -> datetime | None:
        """When the last roster sync that wrote the directory completed its run (None: never)."""
        with self.ledger.session() as session:
            row = session.get(Watermark, SINCE)  # a sync moves it only after every write
        if row is None or not row.value:
            return None
        built = datetime.fromisoformat(row.value)
        return built if built.tzinfo else built.replace(tzinfo=UTC)
