"""Single reads run outside a transaction, writes inside one (storage/sql/base.py): a lone
SELECT needs no BEGIN and COMMIT, two round trips of the three it would otherwise cost
(the token endpoint's client lookup, a session list, the revocation feed's catch-up)."""

from collections.abc import AsyncIterator

import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from gatepass.errors import StoreUnavailable
from gatepass.storage.sql.base import SqlStore
from gatepass.storage.sql.engine import create_engine


@pytest.fixture
async def engine(postgres_url: str) -> AsyncIterator[AsyncEngine]:
    engine = create_engine(postgres_url)
    yield engine
    await engine.dispose()


class Probe(SqlStore):
    """Says whether PostgreSQL holds a transaction open for the connection it was given."""

    async def read_in_transaction(self) -> bool:
        async with self._read() as conn:
            await conn.execute(text("SELECT 1"))
            return await _open_on_server(conn)

    async def write_in_transaction(self) -> bool:
        async with self._transaction() as conn:
            await conn.execute(text("SELECT 1"))
            return await _open_on_server(conn)


async def _open_on_server(conn: AsyncConnection) -> bool:
    driver = (await conn.get_raw_connection()).driver_connection  # asyncpg's connection
    assert driver is not None
    in_transaction: bool = driver.is_in_transaction()
    return in_transaction


async def test_a_single_read_opens_no_transaction_and_a_write_does(engine: AsyncEngine) -> None:
    probe = Probe(engine)
    assert await probe.read_in_transaction() is False
    assert await probe.write_in_transaction() is True
    # The same pool serves both: a read after a write finds no transaction left behind.
    assert await probe.read_in_transaction() is False


async def test_a_read_on_a_lost_database_is_unavailable_not_an_error() -> None:
    engine = create_engine("postgresql://postgres@127.0.0.1:1/none")  # nothing listens
    try:
        with pytest.raises(StoreUnavailable):
            await Probe(engine).read_in_transaction()
    finally:
        await engine.dispose()
