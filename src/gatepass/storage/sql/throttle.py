"""ThrottleStore on SQL: an attempt log per key, serialized per key for exact counts."""

from collections.abc import Sequence

from sqlalchemy import delete, func, insert, select, text

from gatepass.storage.sql.base import SqlStore
from gatepass.storage.sql.tables import throttle_hits
from gatepass.throttle.store import WindowCount, window_count

MAX_WINDOW_SECONDS = 86_400  # the upper bound of GATEPASS_LOGIN_WINDOW_SECONDS


class SqlThrottleStore(SqlStore):
    async def hit(self, key: str, now: float, window_seconds: int, limit: int) -> WindowCount:
        since = now - window_seconds
        async with self._transaction() as conn:
            if conn.dialect.name == "postgresql":
                # Under READ COMMITTED two concurrent hits would each miss the other's
                # insert; a per-key transaction lock makes N hits count exactly N.
                await conn.execute(
                    text("SELECT pg_advisory_xact_lock(hashtextextended(:key, 0))"), {"key": key}
                )
            # SQLite: the INSERT takes the database write lock first, which serializes hits.
            await conn.execute(insert(throttle_hits).values(key=key, at=now))
            await conn.execute(
                delete(throttle_hits).where(throttle_hits.c.key == key, throttle_hits.c.at <= since)
            )
            count = (
                await conn.execute(
                    select(func.count())
                    .select_from(throttle_hits)
                    .where(throttle_hits.c.key == key)
                )
            ).scalar_one()
            retry_after = 0.0
            if count >= limit:
                # The next attempt fits once the (count - limit + 1) oldest have aged out.
                edge = (
                    await conn.execute(
                        select(throttle_hits.c.at)
                        .where(throttle_hits.c.key == key)
                        .order_by(throttle_hits.c.at)
                        .offset(count - limit)
                        .limit(1)
                    )
                ).scalar_one()
                retry_after = max(0.0, edge + window_seconds - now)
        return WindowCount(count=count, retry_after_seconds=retry_after)

    async def peek(
        self, limits: Sequence[tuple[str, int]], now: float, window_seconds: int
    ) -> list[WindowCount]:
        keys = [key for key, _ in limits]
        query = (
            select(throttle_hits.c.key, throttle_hits.c.at)
            .where(throttle_hits.c.key.in_(keys), throttle_hits.c.at > now - window_seconds)
            .order_by(throttle_hits.c.at)
        )
        times: dict[str, list[float]] = {key: [] for key in keys}
        async with self._read() as conn:
            for row in await conn.execute(query):
                times[row.key].append(row.at)
        return [window_count(times[key], limit, window_seconds, now) for key, limit in limits]

    async def clear(self, key: str) -> None:
        async with self._transaction() as conn:
            await conn.execute(delete(throttle_hits).where(throttle_hits.c.key == key))

    async def sweep(self, now: float) -> int:
        """Forget attempts older than the longest window allowed; returns how many went."""
        async with self._transaction() as conn:
            result = await conn.execute(
                delete(throttle_hits).where(throttle_hits.c.at <= now - MAX_WINDOW_SECONDS)
            )
        return result.rowcount
