"""The SQL read path of `SessionVerifier` (sessions.py): the server's `sessions` table,
read and slid in one statement. Its own module, imported only when a verifier is given a
`database_url`, so that importing gatepass.resource never loads SQLAlchemy."""

from typing import Any

from sqlalchemy import Float, String, column, delete, table, update
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError, SQLAlchemyError
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine

from gatepass.errors import ConfigError
from gatepass.resource.sessions import (
    SQLITE_BUSY_TIMEOUT_SECONDS,
    STORE_TIMEOUT_SECONDS,
    Record,
    unavailable,
)
from gatepass.sql_pool import ping_when_idle

# Down, timing out, or not gatepass's store (no table): 503 and a log line (sessions.py).
_SQL_DOWN = (SQLAlchemyError, OSError)

# Only the columns read and written here; the server's storage/sql/tables.py owns the table.
_sessions = table(
    "sessions",
    column("id", String),
    column("user_id", String),
    column("created_at", Float),
    column("last_seen_at", Float),
    column("idle_expires_at", Float),
    column("absolute_expires_at", Float),
)


class SqlReader:
    """The `sessions` table: a row is live while `idle_expires_at > now`."""

    def __init__(self, url: str) -> None:
        self._engine = engine(url)

    async def touch(self, session_id: str, now: float, idle_seconds: int) -> Record | None:
        # Check and slide in one statement, as SqlSessionStore.touch does.
        statement = (
            update(_sessions)
            .where(_sessions.c.id == session_id, _sessions.c.idle_expires_at > now)
            .values(last_seen_at=now, idle_expires_at=now + idle_seconds)
            .returning(_sessions.c.user_id, _sessions.c.created_at, _sessions.c.absolute_expires_at)
        )
        row = await self._run(statement)
        return None if row is None else Record(row[0], float(row[1]), float(row[2]))

    async def delete(self, session_id: str, user_id: str) -> None:
        await self._run(delete(_sessions).where(_sessions.c.id == session_id))

    async def _run(self, statement: Any) -> Any:
        try:
            async with self._engine.begin() as conn:
                result = await conn.execute(statement)
                return result.first() if result.returns_rows else None
        except _SQL_DOWN as exc:
            raise unavailable("database", exc) from exc

    async def aclose(self) -> None:
        await self._engine.dispose()


def engine(url: str) -> AsyncEngine:
    """The documented URL forms (`sqlite:///...`, `postgresql://...`) on async drivers."""
    scheme, _, rest = url.partition("://")
    base = scheme.split("+")[0]
    drivers = {"sqlite": "sqlite+aiosqlite", "postgresql": "postgresql+asyncpg"}
    driver = drivers.get("postgresql" if base == "postgres" else base)
    if driver is None or not rest:
        raise ConfigError("database_url", f"unsupported URL scheme {scheme!r}")
    try:
        sa_url = make_url(f"{driver}://{rest}")
    except (ArgumentError, ValueError) as exc:
        raise ConfigError("database_url", f"malformed URL ({exc.__class__.__name__})") from None
    if base == "sqlite":
        # The server put the file in WAL mode; waiting on its writers is all a reader needs.
        return create_async_engine(sa_url, connect_args={"timeout": SQLITE_BUSY_TIMEOUT_SECONDS})
    created = create_async_engine(
        sa_url,
        connect_args={"timeout": STORE_TIMEOUT_SECONDS, "command_timeout": STORE_TIMEOUT_SECONDS},
    )
    ping_when_idle(created)  # instead of a ping per checkout (gatepass/sql_pool.py)
    return created
