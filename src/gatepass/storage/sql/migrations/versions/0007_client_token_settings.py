"""Client token settings: a client's own refresh-token lifetimes and default audience.

All nullable: NULL is the server's setting, so existing clients keep what they had.

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-27 07:49:19.285506
"""

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("clients", schema=None) as batch_op:
        batch_op.add_column(sa.Column("refresh_token_idle_ttl", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("refresh_token_absolute_ttl", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("refresh_retry_window", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("default_audience", sa.Text(), nullable=True))


def downgrade() -> None:
    # Never a copy-and-move on SQLite: dropping the old `clients` table, with foreign keys
    # on, would cascade to every consent and token family. SQLite 3.35+ drops a column.
    with op.batch_alter_table("clients", schema=None, recreate="never") as batch_op:
        batch_op.drop_column("default_audience")
        batch_op.drop_column("refresh_retry_window")
        batch_op.drop_column("refresh_token_absolute_ttl")
        batch_op.drop_column("refresh_token_idle_ttl")
