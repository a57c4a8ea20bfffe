"""What every SQL store shares: the engine and one way to report an outage."""

import asyncio
import contextvars
import weakref
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from sqlalchemy.exc import DBAPIError, OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeout
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from gatepass.errors import StoreUnavailable

# SQLSTATE classes that say "the server cannot serve now", not "this statement is wrong":
# 08 connection exception, 53 insufficient resources (too many connections), 57P operator
# intervention (shutting down; "cannot connect now" while it starts or recovers from a
# crash). asyncpg raises these as plain DBAPI errors, not OperationalError.
UNAVAILABLE_SQLSTATES = ("08", "53", "57P")


# SQLite allows one writer at a time; a second connection that wants to write sleeps in
# SQLite's busy handler, in steps of up to 100 ms, and tries again. So within a process
# the writers queue here instead: one lock per SQLite engine (and event loop), shared by
# its stores. (Across processes, busy_timeout still decides; PostgreSQL needs neither.)
_LocksByLoop = weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, asyncio.Lock]
_SQLITE_WRITERS: weakref.WeakKeyDictionary[object, _LocksByLoop] = weakref.WeakKeyDictionary()
# The lock this task (or the task that started it) holds: a transaction opened inside
# another one, or by a task it awaits, goes ahead rather than waiting for itself.
_HOLDING: contextvars.ContextVar[asyncio.Lock | None] = contextvars.ContextVar(
    "gatepass_sqlite_writer", default=None
)


class SqlStore:
    def __init__(self, engine: AsyncEngine) -> None:
        self._engine = engine
        self._sqlite = engine.dialect.name == "sqlite"
        # The same pool, without BEGIN and COMMIT: a lone SELECT sees one snapshot anyway,
        # and the two round trips it saves are most of a read's cost (/token, a session check).
        self._autocommit = engine.execution_options(isolation_level="AUTOCOMMIT")

    @asynccontextmanager
    async def _transaction(self) -> AsyncIterator[AsyncConnection]:
        """One transaction; a lost database becomes StoreUnavailable (fail closed)."""
        async with (
            self._writer_turn(),
            self._unavailable_as_error(),
            self._engine.begin() as conn,
        ):
            yield conn

    @asynccontextmanager
    async def _writer_turn(self) -> AsyncIterator[None]:
        """On SQLite, this process's turn to write (see _SQLITE_WRITERS); elsewhere, or
        inside a turn this task already holds, nothing to wait for."""
        lock = self._writer_lock() if self._sqlite else None
        if lock is None or _HOLDING.get() is lock:
            yield
            return
        async with lock:
            holding = _HOLDING.set(lock)
            try:
                yield
            finally:
                _HOLDING.reset(holding)

    def _writer_lock(self) -> asyncio.Lock:
        by_loop = _SQLITE_WRITERS.get(self._engine.sync_engine)
        if by_loop is None:
            by_loop = _SQLITE_WRITERS[self._engine.sync_engine] = weakref.WeakKeyDictionary()
        loop = asyncio.get_running_loop()
        lock = by_loop.get(loop)
        if lock is None:
            lock = by_loop[loop] = asyncio.Lock()
        return lock

    @asynccontextmanager
    async def _read(self) -> AsyncIterator[AsyncConnection]:
        """A connection for ONE read statement, outside a transaction (autocommit).
        Anything that writes, or reads twice and needs both to agree, uses _transaction."""
        async with self._unavailable_as_error(), self._autocommit.connect() as conn:
            yield conn

    @staticmethod
    @asynccontextmanager
    async def _unavailable_as_error() -> AsyncIterator[None]:
        """A lost database becomes StoreUnavailable (fail closed)."""
        try:
            yield
        except (OperationalError, PoolTimeout, OSError, ConnectionError) as exc:
            raise StoreUnavailable(str(exc).splitlines()[0][:200]) from exc
        except DBAPIError as exc:
            if exc.connection_invalidated:
                raise StoreUnavailable("database connection lost") from exc
            if _server_unavailable(exc):
                raise StoreUnavailable(str(exc.orig).splitlines()[0][:200]) from exc
            raise


def _server_unavailable(exc: DBAPIError) -> bool:
    sqlstate = getattr(exc.orig, "sqlstate", None)
    return isinstance(sqlstate, str) and sqlstate.startswith(UNAVAILABLE_SQLSTATES)
