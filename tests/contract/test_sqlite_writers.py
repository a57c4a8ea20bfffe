"""SQLite's writers queue in the process (storage/sql/base.py), instead of meeting in
SQLite's busy handler, which sleeps up to 100 ms at a time between tries: a session
check is a write (it slides the idle expiry), so 16 concurrent checks used to wait
there for hundreds of milliseconds."""

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import event, text
from sqlalchemy.ext.asyncio import AsyncEngine

from gatepass.storage.sql.base import SqlStore
from gatepass.storage.sql.engine import create_engine

WRITERS = 16
NESTED_SECONDS = 10.0  # a deadlock fails the test instead of hanging it


class Probe(SqlStore):
    async def write(self, n: int) -> None:
        async with self._transaction() as conn:
            await conn.execute(text("INSERT INTO notes (n) VALUES (:n)"), {"n": n})
            await asyncio.sleep(0.001)  # others get the loop while this one holds the write

    async def write_around_a_transaction(self, other: "Probe") -> int:
        async with self._transaction() as conn:
            await conn.execute(text("INSERT INTO notes (n) VALUES (-1)"))
            # A transaction of another store on the same engine, in the same task: it
            # must not wait for the lock its own task holds. (It only reads: SQLite itself
            # refuses a second writer while the first is open.)
            return await other.count_in_transaction()

    async def count_in_transaction(self) -> int:
        async with self._transaction() as conn:
            return int((await conn.execute(text("SELECT count(*) FROM notes"))).scalar_one())

    async def count(self) -> int:
        async with self._read() as conn:
            return int((await conn.execute(text("SELECT count(*) FROM notes"))).scalar_one())


@pytest.fixture
async def sqlite(tmp_path: Path) -> AsyncIterator[AsyncEngine]:
    engine = create_engine(f"sqlite:///{tmp_path}/writers.db")
    async with engine.begin() as conn:
        await conn.execute(text("CREATE TABLE notes (n INTEGER)"))
    yield engine
    await engine.dispose()


def _open_transactions(engine: AsyncEngine) -> list[int]:
    """[open now, most at once]: transactions begun and not yet ended on `engine`."""
    tally = [0, 0]

    def begun(*_: Any) -> None:
        tally[0] += 1
        tally[1] = max(tally)

    def ended(*_: Any) -> None:
        tally[0] -= 1

    event.listen(engine.sync_engine, "begin", begun)
    event.listen(engine.sync_engine, "commit", ended)
    event.listen(engine.sync_engine, "rollback", ended)
    return tally


async def test_concurrent_writers_take_turns_and_every_write_lands(sqlite: AsyncEngine) -> None:
    probe = Probe(sqlite)
    tally = _open_transactions(sqlite)
    await asyncio.gather(*(probe.write(n) for n in range(WRITERS)))
    assert tally[1] == 1  # never two write transactions open at once
    assert await probe.count() == WRITERS


async def test_a_transaction_inside_another_on_the_same_engine_goes_ahead(
    sqlite: AsyncEngine,
) -> None:
    one, other = Probe(sqlite), Probe(sqlite)
    inner = await asyncio.wait_for(one.write_around_a_transaction(other), NESTED_SECONDS)
    assert inner == 0  # its own snapshot: the outer insert is not committed yet
    await asyncio.wait_for(one.write(0), NESTED_SECONDS)  # the lock was given back
    assert await one.count() == 2


async def test_postgres_writers_do_not_queue(postgres_url: str) -> None:
    engine = create_engine(postgres_url)
    try:
        async with engine.begin() as conn:
            await conn.execute(text("CREATE TEMP TABLE IF NOT EXISTS probe_writers (n int)"))
        tally = _open_transactions(engine)

        class Concurrent(SqlStore):
            async def hold(self) -> None:
                async with self._transaction() as conn:
                    await conn.execute(text("SELECT 1"))
                    await asyncio.sleep(0.05)

        store = Concurrent(engine)
        await asyncio.gather(*(store.hold() for _ in range(4)))
        assert tally[1] == 4  # PostgreSQL runs them side by side
    finally:
        await engine.dispose()
