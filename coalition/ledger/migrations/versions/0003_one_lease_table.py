"""every claim is a lease in one table

Claims used to live in three places: `claim_token`/`lease_until` columns on intakes
(no expiry at all), referrals and intake notices, a watermark row for the alerts run,
and watermark rows for campaigns approved in Slack. They all move to `leases`
(coalition/ledger/leases.py), each with an owner and an expiry. Claims in flight at
the upgrade are carried over already lapsed (intakes) or with their own expiry, so
the next run takes them over.

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-07 20:10:00
"""

from datetime import UTC, datetime

import sqlalchemy as sa
from alembic import op

import coalition.ledger.db

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

CAMPAIGN = "bot:campaign-approved:"


def _when(value) -> datetime:
    if value is None:
        return datetime.now(UTC)
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    return value if value.tzinfo else value.replace(tzinfo=UTC)


def upgrade() -> None:
    leases = op.create_table(
        "leases",
        sa.Column("key", sa.String(length=200), nullable=False),
        sa.Column("kind", sa.String(length=40), nullable=False),
        sa.Column("owner", sa.String(length=80), nullable=False),
        sa.Column("since", coalition.ledger.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("until", coalition.ledger.db.UTCDateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("key"),
    )
    with op.batch_alter_table("leases", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_leases_kind"), ["kind"], unique=False)
        batch_op.create_index(batch_op.f("ix_leases_owner"), ["owner"], unique=False)
        batch_op.create_index(batch_op.f("ix_leases_until"), ["until"], unique=False)

    bind = op.get_bind()
    rows: list[dict] = []
    claimed = bind.execute(
        sa.text(
            "SELECT intake_id, claim_token, updated_at FROM intakes WHERE claim_token IS NOT NULL"
        )
    )
    for intake_id, owner, at in claimed:
        # Intake claims had no expiry: carried over lapsed, the next run takes them over.
        rows.append(_row(f"intake:{intake_id}", "intake", owner, _when(at), _when(at)))
    for table, key, kind, at in (
        ("referrals", "referral_id", "referral", "updated_at"),
        ("intake_notices", "key", "notice", "created_at"),
    ):
        claimed = bind.execute(
            sa.text(
                f"SELECT {key}, claim_token, {at}, lease_until FROM {table} "
                "WHERE claim_token IS NOT NULL"
            )
        )
        for ident, owner, since, until in claimed:
            rows.append(_row(f"{kind}:{ident}", kind, owner, _when(since), _when(until or since)))
    approved = bind.execute(
        sa.text("SELECT key, value FROM watermarks WHERE key LIKE :prefix"),
        {"prefix": CAMPAIGN + "%"},
    )
    for key, value in approved:
        who, _, when = str(value).partition("|")
        try:
            since = _when(when)
        except ValueError:
            since = _when(None)
        record = key[len(CAMPAIGN) :]
        rows.append(_row(f"campaign-approved:{record}", "campaign-approved", who, since, None))
    if rows:
        op.bulk_insert(leases, rows)
    bind.execute(
        sa.text("DELETE FROM watermarks WHERE key LIKE :prefix OR key = 'alerts:run-lease'"),
        {"prefix": CAMPAIGN + "%"},
    )

    with op.batch_alter_table("intakes", schema=None) as batch_op:
        batch_op.drop_column("claim_token")
    for table in ("referrals", "intake_notices"):
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.drop_column("lease_until")
            batch_op.drop_column("claim_token")


def _row(key: str, kind: str, owner: str, since: datetime, until: datetime | None) -> dict:
    return {"key": key[:200], "kind": kind, "owner": owner[:80], "since": since, "until": until}


def downgrade() -> None:
    for table in ("referrals", "intake_notices"):
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.add_column(sa.Column("claim_token", sa.String(length=40), nullable=True))
            batch_op.add_column(
                sa.Column(
                    "lease_until", coalition.ledger.db.UTCDateTime(timezone=True), nullable=True
                )
            )
    with op.batch_alter_table("intakes", schema=None) as batch_op:
        batch_op.add_column(sa.Column("claim_token", sa.String(length=40), nullable=True))
    with op.batch_alter_table("leases", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_leases_until"))
        batch_op.drop_index(batch_op.f("ix_leases_owner"))
        batch_op.drop_index(batch_op.f("ix_leases_kind"))
    op.drop_table("leases")
