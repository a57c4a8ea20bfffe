"""Migration 0008: every revoked grant survives the move to the revocation log, and back.

A revoked grant that a migration dropped would bring its tokens back to life
(SECURITY.md decision 6), so the copy is checked on SQLite and PostgreSQL both.
"""

import secrets
from collections.abc import AsyncIterator
from pathlib import Path

import asyncpg
import pytest
from alembic import command
from sqlalchemy import Connection, text
from sqlalchemy.ext.asyncio import AsyncEngine

from gatepass.storage.sql.engine import create_engine
from gatepass.storage.sql.migrate import alembic_config
from tests.support import POSTGRES_ADMIN_URL

GRANTS = [("gid-old", 100.0, 3700.0), ("gid-new", 200.0, 3800.0)]


async def _admin(statement: str) -> None:
    conn = await asyncpg.connect(POSTGRES_ADMIN_URL)
    try:
        await conn.execute(statement)
    finally:
        await conn.close()


@pytest.fixture(params=("sqlite", "postgres"))
async def engine(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[AsyncEngine]:
    """An empty database of the test's own."""
    if request.param == "sqlite":
        created = create_engine(f"sqlite:///{tmp_path}/migrate.db")
        yield created
        await created.dispose()
        return
    name = f"gatepass_migrate_{secrets.token_hex(6)}"
    await _admin(f'CREATE DATABASE "{name}"')
    created = create_engine(POSTGRES_ADMIN_URL.rsplit("/", 1)[0] + f"/{name}")
    try:
        yield created
    finally:
        await created.dispose()
        await _admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


async def migrate(engine: AsyncEngine, revision: str, *, down: bool = False) -> None:
    def run(connection: Connection) -> None:
        config = alembic_config()
        config.attributes["connection"] = connection
        (command.downgrade if down else command.upgrade)(config, revision)

    async with engine.begin() as conn:
        await conn.run_sync(run)


async def rows(engine: AsyncEngine, query: str) -> list[tuple[object, ...]]:
    async with engine.connect() as conn:
        return [tuple(row) for row in await conn.execute(text(query))]


async def test_revoked_grants_become_grant_revocations_and_come_back_on_downgrade(
    engine: AsyncEngine,
) -> None:
    await migrate(engine, "0007")
    async with engine.begin() as conn:
        for grant_id, revoked_at, expires_at in reversed(GRANTS):
            await conn.execute(
                text("INSERT INTO revoked_grants VALUES (:g, :r, :e)"),
                {"g": grant_id, "r": revoked_at, "e": expires_at},
            )

    await migrate(engine, "0008")
    copied = await rows(
        engine, "SELECT seq, kind, value, revoked_at, expires_at FROM revocations ORDER BY seq"
    )
    # Oldest revocation first, so `seq` follows the order things were revoked in.
    assert [row[1:] for row in copied] == [("grant", *grant) for grant in GRANTS]
    assert copied[0][0] < copied[1][0]

    async with engine.begin() as conn:
        await conn.execute(
            text(
                "INSERT INTO revocations (kind, value, revoked_at, expires_at) "
                "VALUES ('token', 'jti-1', 300, 1200)"
            )
        )
    await migrate(engine, "0007", down=True)
    back = await rows(engine, "SELECT grant_id, revoked_at, expires_at FROM revoked_grants")
    assert sorted(back) == sorted(GRANTS)
