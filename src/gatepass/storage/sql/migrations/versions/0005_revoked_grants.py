"""Revoked grants: a reused authorization code revokes what it issued (SECURITY.md decision 2).

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-27 06:00:00.000000
"""

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
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


def downgrade() -> None:
    with op.batch_alter_table("revoked_grants", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_revoked_grants_expires_at"))
    op.drop_table("revoked_grants")
