"""How the user authenticated: `amr` and `idp` on sessions, codes and token families.

A session remembers whether its user typed a password or signed in at an upstream
provider (and which one); the authorization code and the token family it leads to keep
that, so the id tokens of the first exchange and of every refresh say the same (OIDC
Core §2 `amr`). Rows from before this revision were password logins.

Revision ID: 0009
Revises: 0008
Create Date: 2026-11-27 11:10:00.000000
"""

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None

TABLES = ("sessions", "authorization_codes", "token_families")


def upgrade() -> None:
    # Never a copy-and-move on SQLite (see 0007): recreating `token_families` with foreign
    # keys on would cascade to its refresh tokens. ALTER TABLE ADD COLUMN suffices.
    for table in TABLES:
        with op.batch_alter_table(table, recreate="never") as batch:
            batch.add_column(
                sa.Column("amr", sa.String(length=64), server_default="pwd", nullable=False)
            )
            batch.add_column(sa.Column("idp", sa.String(length=64), nullable=True))


def downgrade() -> None:
    for table in TABLES:
        with op.batch_alter_table(table, recreate="never") as batch:
            batch.drop_column("idp")
            batch.drop_column("amr")
