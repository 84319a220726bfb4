"""summary weeks keep each week's giving totals for the dashboard

The weekly summary records the raised amount (in cents) and the number of gifts of
each week it reads, so the dashboard's 52-week giving chart needs no extra Airtable
read. Sums and counts only.

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-07 20:00:00
"""

import sqlalchemy as sa
from alembic import op

import coalition.ledger.db

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "summary_weeks",
        sa.Column("week", sa.String(length=10), nullable=False),
        sa.Column("raised_cents", sa.BigInteger(), nullable=False),
        sa.Column("gifts", sa.Integer(), nullable=False),
        sa.Column("updated_at", coalition.ledger.db.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("week"),
    )


def downgrade() -> None:
    op.drop_table("summary_weeks")
