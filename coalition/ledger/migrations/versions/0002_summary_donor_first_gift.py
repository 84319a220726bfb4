"""summary donors keep their first gift date

The weekly summary now keeps a complete donor history (coalition/summary/history.py):
`summary_donors.gave_by` ("gave on or before") becomes `first_gift`. Rows written
before this revision are rebuilt by the next summary run, which finds no history
watermark and reads the history from scratch.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-29 03:20:00
"""

from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("summary_donors", schema=None) as batch_op:
        batch_op.alter_column("gave_by", new_column_name="first_gift")


def downgrade() -> None:
    with op.batch_alter_table("summary_donors", schema=None) as batch_op:
        batch_op.alter_column("first_gift", new_column_name="gave_by")
