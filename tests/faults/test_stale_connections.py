"""Pooled PostgreSQL connections are checked before use only after sitting idle
(gatepass/sql_pool.py): one that the server dropped while it idled is replaced without
a failure; one in steady use is never pinged."""

import asyncio
from collections.abc import AsyncIterator
from dataclasses import dataclass

import asyncpg
import pytest
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncEngine

from gatepass.sql_pool import IDLE_SECONDS
from gatepass.storage.sql.engine import create_engine
from tests.support import POSTGRES_ADMIN_URL


@dataclass
class Pool:
    engine: AsyncEngine
    pings: int = 0


@pytest.fixture
async def pool() -> AsyncIterator[Pool]:
    """The server's own engine (storage/sql/engine.py), its pings counted."""
    pool = Pool(create_engine(POSTGRES_ADMIN_URL))
    dialect = pool.engine.sync_engine.dialect
    ping = dialect.do_ping

    def counted(dbapi_connection: object) -> bool:
        pool.pings += 1
        return ping(dbapi_connection)

    dialect.do_ping = counted  # type: ignore[method-assign]
    try:
        yield pool
    finally:
        await pool.engine.dispose()


async def _backend_pid(engine: AsyncEngine) -> int:
    async with engine.connect() as conn:
        return int((await conn.execute(text("SELECT pg_backend_pid()"))).scalar_one())


async def _terminate(pid: int) -> None:
    admin = await asyncpg.connect(POSTGRES_ADMIN_URL)
    try:
        assert await admin.fetchval("SELECT pg_terminate_backend($1)", pid)
    finally:
        await admin.close()


async def test_a_connection_in_steady_use_is_never_pinged(pool: Pool) -> None:
    pid = await _backend_pid(pool.engine)
    for _ in range(50):
        assert await _backend_pid(pool.engine) == pid  # the same pooled connection
    assert pool.pings == 0


async def test_a_connection_back_after_idling_is_pinged_once(pool: Pool) -> None:
    pid = await _backend_pid(pool.engine)
    await asyncio.sleep(IDLE_SECONDS + 0.2)
    assert await _backend_pid(pool.engine) == pid
    assert pool.pings == 1
    assert await _backend_pid(pool.engine) == pid
    assert pool.pings == 1  # used a moment ago: no ping


async def test_a_connection_dropped_while_idle_is_replaced_without_a_failure(pool: Pool) -> None:
    pid = await _backend_pid(pool.engine)
    await _terminate(pid)
    await asyncio.sleep(IDLE_SECONDS + 0.2)
    replaced = await _backend_pid(pool.engine)  # no error: the ping found it dead
    assert replaced != pid
    assert pool.pings == 1
    assert await _backend_pid(pool.engine) == replaced


async def test_a_connection_dropped_in_steady_use_fails_once_then_the_pool_recovers(
    pool: Pool,
) -> None:
    """The trade-off (sql_pool.py): no ping a moment after use, so the statement in
    flight fails (a store answers 503); SQLAlchemy then retires the pool's connections."""
    engine, pids = pool.engine, set()
    async with engine.connect() as a, engine.connect() as b:  # two pooled connections
        for conn in (a, b):
            pids.add(int((await conn.execute(text("SELECT pg_backend_pid()"))).scalar_one()))
    for pid in pids:
        await _terminate(pid)
    with pytest.raises(DBAPIError) as failed:
        await _backend_pid(engine)
    assert failed.value.connection_invalidated
    fresh = await _backend_pid(engine)
    assert fresh not in pids
