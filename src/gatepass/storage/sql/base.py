"""What every SQL store shares: the engine and one way to report an outage."""

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


class SqlStore:
    def __init__(self, engine: AsyncEngine) -> None:
        self._engine = engine

    @asynccontextmanager
    async def _transaction(self) -> AsyncIterator[AsyncConnection]:
        """One transaction; a lost database becomes StoreUnavailable (fail closed)."""
        try:
            async with self._engine.begin() as conn:
                yield conn
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
