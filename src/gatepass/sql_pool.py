"""Pooled SQL connections checked before use only when they may have gone stale: the
server's stores (storage/sql/engine.py) and the resource toolkit's session reader
(resource/session_sql.py) share it.

SQLAlchemy's `pool_pre_ping` pings on every checkout: on asyncpg one round trip (";"),
or three (BEGIN, ";", ROLLBACK) for a connection that is not in autocommit mode, before
every statement or transaction. That took about a quarter of a token refresh's CPU
(docs/benchmarks.md).

A connection that was used a moment ago is as good as a ping would find it. So here a
connection is pinged only when it comes back to work after more than `idle_seconds` in
the pool: after a quiet spell, when a restarted database, an idle timeout or a firewall
may have dropped it. A ping that fails makes the pool drop that connection and take
another (SQLAlchemy's documented pessimistic-disconnect recipe, with a DisconnectionError).

Under load no connection idles that long; if the database goes away then, the statement
in flight fails (the store answers 503) and SQLAlchemy, recognising a disconnect,
retires every connection opened before it, so the next requests reconnect.
"""

import time
from typing import Any

from sqlalchemy import event
from sqlalchemy.exc import DisconnectionError
from sqlalchemy.ext.asyncio import AsyncEngine

IDLE_SECONDS = 1.0
_RETURNED_AT = "gatepass_returned_at"  # in the connection record's `info`


def ping_when_idle(engine: AsyncEngine, idle_seconds: float = IDLE_SECONDS) -> None:
    """Ping each connection at checkout if it sat in the pool over `idle_seconds`."""
    sync_engine = engine.sync_engine
    dialect = sync_engine.dialect

    def returned(_dbapi_connection: Any, record: Any) -> None:
        record.info[_RETURNED_AT] = time.monotonic()

    def checked_out(dbapi_connection: Any, record: Any, _proxy: Any) -> None:
        returned_at = record.info.get(_RETURNED_AT)
        if returned_at is None or time.monotonic() - returned_at <= idle_seconds:
            return  # new, or back from work a moment ago
        try:
            dialect.do_ping(dbapi_connection)
        except Exception as exc:
            # The pool drops this connection and checks out another (three tries).
            raise DisconnectionError("stale pooled connection") from exc

    event.listen(sync_engine, "checkin", returned)
    event.listen(sync_engine, "checkout", checked_out)
