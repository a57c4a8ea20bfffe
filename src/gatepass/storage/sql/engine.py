"""Engines from configuration URLs, with SQLite set up for several processes (WAL)."""

from typing import Any
from urllib.parse import urlsplit

from sqlalchemy import event, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine

from gatepass.errors import ConfigError
from gatepass.sql_pool import ping_when_idle

SETTING = "GATEPASS_DATABASE_URL"
SQLITE_BUSY_TIMEOUT_MS = 5000


def async_url(url: str) -> str:
    """Map the documented URL forms to SQLAlchemy's async drivers."""
    scheme, _, rest = url.partition("://")
    base = scheme.split("+")[0]
    if base == "sqlite":
        return f"sqlite+aiosqlite://{rest}"
    if base in ("postgresql", "postgres"):
        return f"postgresql+asyncpg://{rest}"
    raise ConfigError(SETTING, f"unsupported scheme {scheme!r}")


def create_engine(url: str) -> AsyncEngine:
    try:
        sa_url = make_url(async_url(url))
    except Exception as exc:  # SQLAlchemy raises ArgumentError and ValueError alike
        raise ConfigError(SETTING, f"malformed URL ({exc.__class__.__name__})") from None
    if sa_url.get_backend_name() == "sqlite":
        engine = create_async_engine(
            sa_url, connect_args={"timeout": SQLITE_BUSY_TIMEOUT_MS / 1000}
        )
        event.listen(engine.sync_engine, "connect", _sqlite_pragmas)
        return engine
    engine = create_async_engine(sa_url, pool_size=10, max_overflow=10)
    ping_when_idle(engine)  # instead of a ping per checkout (sql_pool.py)
    return engine


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")  # readers never block the writer
    cursor.execute("PRAGMA synchronous=NORMAL")  # durable across app crashes in WAL mode
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
    cursor.close()


async def check_connection(engine: AsyncEngine, url: str) -> None:
    """Fail at start with one line naming the setting when the database is unreachable."""
    try:
        async with engine.connect() as conn:
            await conn.execute(text("SELECT 1"))
    except (SQLAlchemyError, OSError) as exc:
        where = urlsplit(url).hostname or url.partition("://")[2] or url
        reason = str(getattr(exc, "orig", None) or exc).splitlines()[0][:200]
        raise ConfigError(SETTING, f"cannot connect to {where}: {reason}") from None
