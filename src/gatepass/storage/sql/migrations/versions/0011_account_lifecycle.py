"""Account lifecycle: verified e-mail addresses and single-use account links (issue 10).

`users.email_verified` says whether the address was proven by a delivered link (or by
an upstream provider that says so). `account_links` holds the links mailed for e-mail
verification, password reset and e-mail change: only the digest of the token is kept,
each is bound to one user and to the address it was sent to, expires, and is used once.

Revision ID: 0011
Revises: 0010
Create Date: 2026-11-27 14:40:00.000000
"""

import sqlalchemy as sa
from alembic import op

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # ADD COLUMN, never a copy-and-move on SQLite (see 0009): `users` is referenced by
    # cascading foreign keys.
    with op.batch_alter_table("users", recreate="never") as batch:
        batch.add_column(
            sa.Column("email_verified", sa.Boolean(), server_default=sa.false(), nullable=False)
        )
    op.create_table(
        "account_links",
        sa.Column("id", sa.String(length=43), nullable=False),
        sa.Column("purpose", sa.String(length=32), nullable=False),
        sa.Column("user_id", sa.String(length=36), nullable=False),
        sa.Column("email", sa.String(length=254), nullable=False),
        sa.Column("created_at", sa.Float(), nullable=False),
        sa.Column("expires_at", sa.Float(), nullable=False),
        sa.Column("used_at", sa.Float(), nullable=True),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["users.id"],
            name=op.f("fk_account_links_user_id_users"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_account_links")),
    )
    with op.batch_alter_table("account_links", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_account_links_user_id"), ["user_id"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_account_links_expires_at"), ["expires_at"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("account_links", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_account_links_expires_at"))
        batch_op.drop_index(batch_op.f("ix_account_links_user_id"))
    op.drop_table("account_links")
    with op.batch_alter_table("users", recreate="never") as batch:
        batch.drop_column("email_verified")
