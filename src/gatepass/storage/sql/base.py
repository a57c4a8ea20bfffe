"""What every SQL store shares: the engine and one way to report an outage."""

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from sqlalchemy.exc import DBAPIError, OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeout
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from gatepass.errors import StoreUnavailable


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
            raise
