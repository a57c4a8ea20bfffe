"""The revocation log: every revoked token, grant, session and subject, in `seq` order.

`revocations` takes over from `revoked_grants`: each revoked grant is copied as a row of
kind `grant`, oldest first, so nothing revoked comes back (SECURITY.md decision 6).
Downgrading copies the grants back; token, session and subject rows have no place in
the old table and are lost with it.

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-27 08:02:00.622342
"""

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "revocations",
        sa.Column("seq", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("value", sa.String(length=128), nullable=False),
        sa.Column("revoked_at", sa.Float(), nullable=False),
        sa.Column("expires_at", sa.Float(), nullable=False),
        sa.PrimaryKeyConstraint("seq", name=op.f("pk_revocations")),
        sa.UniqueConstraint("kind", "value", name=op.f("uq_revocations_kind_value")),
        sqlite_autoincrement=True,
    )
    with op.batch_alter_table("revocations", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_revocations_expires_at"), ["expires_at"], unique=False)

    op.execute(
        "INSERT INTO revocations (kind, value, revoked_at, expires_at) "
        "SELECT 'grant', grant_id, revoked_at, expires_at FROM revoked_grants "
        "ORDER BY revoked_at, grant_id"
    )

    with op.batch_alter_table("revoked_grants", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_revoked_grants_expires_at"))
    op.drop_table("revoked_grants")


def downgrade() -> None:
    op.create_table(
        "revoked_grants",
        sa.Column("grant_id", sa.String(length=64), nullable=False),
        sa.Column("revoked_at", sa.Float(), nullable=False),
        sa.Column("expires_at", sa.Float(), nullable=False),
        sa.PrimaryKeyConstraint("grant_id", name=op.f("pk_revoked_grants")),
    )
    with op.batch_alter_table("revoked_grants", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_revoked_grants_expires_at"), ["expires_at"], unique=False
        )

    op.execute(
        "INSERT INTO revoked_grants (grant_id, revoked_at, expires_at) "
        "SELECT value, revoked_at, expires_at FROM revocations "
        "WHERE kind = 'grant' AND length(value) <= 64"
    )

    with op.batch_alter_table("revocations", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_revocations_expires_at"))
    op.drop_table("revocations")
