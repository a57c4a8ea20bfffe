"""The schema the migrations build is the one the stores are written for (tables.py), on
SQLite and PostgreSQL: every table, column, index and key, so a migration that forgets a
column fails here and not in production."""

from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import Connection

from gatepass.storage.backends import Backends
from gatepass.storage.sql.tables import metadata
from tests.federation.core_fixtures import sql_backend, sql_backends, sql_settings

__all__ = ["sql_backend", "sql_backends", "sql_settings"]


async def test_the_migrated_schema_matches_the_tables(sql_backends: Backends) -> None:
    def differences(connection: Connection) -> list[object]:
        return list(compare_metadata(MigrationContext.configure(connection), metadata))

    async with sql_backends.engine.connect() as conn:
        assert await conn.run_sync(differences) == []
