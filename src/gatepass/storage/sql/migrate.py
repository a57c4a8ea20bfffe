"""Apply Alembic migrations on a live async engine (from the CLI or at server start)."""

from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Connection, text
from sqlalchemy.ext.asyncio import AsyncEngine

from gatepass.errors import ConfigError

MIGRATIONS = Path(__file__).with_name("migrations")
MIGRATION_LOCK = 0x6761746570617373  # "gatepass": an arbitrary, fixed advisory-lock key


def alembic_config() -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    return config


async def upgrade(engine: AsyncEngine) -> None:
    """Bring the schema to the newest revision; a no-op when it is there already."""

    def run(connection: Connection) -> None:
        if connection.dialect.name == "postgresql":
            # Several hosts starting at once: one migrates, the others wait, then see head.
            connection.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": MIGRATION_LOCK})
        config = alembic_config()
        _refuse_unknown_revision(connection, ScriptDirectory.from_config(config))
        config.attributes["connection"] = connection
        command.upgrade(config, "head")

    async with engine.begin() as conn:
        await conn.run_sync(run)


async def pending(engine: AsyncEngine) -> bool:
    """True while the database lags the newest revision."""

    def check(connection: Connection) -> bool:
        script = ScriptDirectory.from_config(alembic_config())
        current = _refuse_unknown_revision(connection, script)
        return current != script.get_current_head()

    async with engine.connect() as conn:
        return await conn.run_sync(check)


def _refuse_unknown_revision(connection: Connection, script: ScriptDirectory) -> str | None:
    """The database's revision; ConfigError when this gatepass does not know it: the
    schema was migrated by a newer version (an upgrade rolled back, an old process
    started), and neither migrating nor serving could be right."""
    current = MigrationContext.configure(connection).get_current_revision()
    known = {revision.revision for revision in script.walk_revisions()}
    if current is not None and current not in known:
        raise ConfigError(
            "database_url",
            f"the schema is at revision {current}, newer than this gatepass knows "
            f"(up to {script.get_current_head()}): run the newer gatepass, or upgrade this one",
        )
    return current
