"""Apply Alembic migrations on a live async engine (from the CLI or at server start).

Every start of a server worker and every CLI command asks `pending` whether the schema
lags the code; only `gatepass migrate` (and `gatepass serve` without `--no-migrate`)
needs Alembic itself. So `pending` reads the database's revision with one SELECT and
knows this gatepass's revisions by the migration files' names (`versions/NNNN_*.py`,
each named after its revision, in one line of descent), not by importing Alembic and
parsing every script: that took 240-280 ms of each start (docs/operations.md).
tests/cli/test_migrate.py holds the names to Alembic's own view of the scripts.
"""

import re
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sqlalchemy import Connection, Select, column, inspect, select, table, text
from sqlalchemy.ext.asyncio import AsyncEngine

from gatepass.errors import ConfigError

if TYPE_CHECKING:
    from alembic.config import Config

MIGRATIONS = Path(__file__).with_name("migrations")
MIGRATION_LOCK = 0x6761746570617373  # "gatepass": an arbitrary, fixed advisory-lock key
VERSION_TABLE = "alembic_version"  # Alembic's default, which env.py keeps
_CURRENT: "Select[Any]" = select(column("version_num")).select_from(table(VERSION_TABLE))
_REVISION_FILE = re.compile(r"(\d{4})_\w+\.py")


def alembic_config() -> "Config":
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    return config


@cache
def known_revisions() -> tuple[str, ...]:
    """This gatepass's schema revisions, oldest first; the last is the head."""
    names = (_REVISION_FILE.fullmatch(p.name) for p in (MIGRATIONS / "versions").iterdir())
    return tuple(sorted(match.group(1) for match in names if match))


async def upgrade(engine: AsyncEngine) -> None:
    """Bring the schema to the newest revision; a no-op when it is there already."""
    from alembic import command

    def run(connection: Connection) -> None:
        if connection.dialect.name == "postgresql":
            # Several hosts starting at once: one migrates, the others wait, then see head.
            connection.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": MIGRATION_LOCK})
        _known_revision(connection)
        config = alembic_config()
        config.attributes["connection"] = connection
        command.upgrade(config, "head")

    async with engine.begin() as conn:
        await conn.run_sync(run)


async def pending(engine: AsyncEngine) -> bool:
    """True while the database lags the newest revision."""
    async with engine.connect() as conn:
        current = await conn.run_sync(_known_revision)
    return current != known_revisions()[-1]


def _known_revision(connection: Connection) -> str | None:
    """The database's revision (None before the first migration); ConfigError when this
    gatepass does not know it: the schema was migrated by a newer version (an upgrade
    rolled back, an old process started), and neither migrating nor serving could be
    right."""
    if not inspect(connection).has_table(VERSION_TABLE):
        return None
    rows = connection.execute(_CURRENT).scalars().all()
    known = known_revisions()
    if len(rows) > 1 or (rows and rows[0] not in known):
        raise ConfigError(
            "database_url",
            f"the schema is at revision {', '.join(rows)}, newer than this gatepass knows "
            f"(up to {known[-1]}): run the newer gatepass, or upgrade this one",
        )
    return rows[0] if rows else None
