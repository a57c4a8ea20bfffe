"""ThrottleStore on Redis: a sorted set of attempt times per key, updated in one MULTI."""

from collections.abc import Sequence

from gatepass.crypto.secrets import new_secret
from gatepass.storage.redis.base import RedisStore
from gatepass.throttle.store import WindowCount, window_count


class RedisThrottleStore(RedisStore):
    def _key(self, key: str) -> str:
        return f"{self._prefix}t:{key}"

    async def hit(self, key: str, now: float, window_seconds: int, limit: int) -> WindowCount:
        redis_key = self._key(key)
        member = f"{now:.6f}:{new_secret()[:8]}"  # unique, so equal times all count
        async with self._guard(), self._redis.pipeline(transaction=True) as pipe:
            pipe.zadd(redis_key, {member: now})
            pipe.zremrangebyscore(redis_key, "-inf", now - window_seconds)
            pipe.zcard(redis_key)
            # The element whose ageing-out lets the next attempt fit (see SqlThrottleStore).
            pipe.zrange(redis_key, -limit, -limit, withscores=True)
            pipe.expire(redis_key, window_seconds + 1)
            _, _, count, edge, _ = await pipe.execute()
        retry_after = 0.0
        if count >= limit and edge:
            retry_after = max(0.0, float(edge[0][1]) + window_seconds - now)
        return WindowCount(count=int(count), retry_after_seconds=retry_after)

    async def peek(
        self, limits: Sequence[tuple[str, int]], now: float, window_seconds: int
    ) -> list[WindowCount]:
        since = f"({now - window_seconds}"
        # A key lives only while an attempt is in its window (EXPIRE in `hit`), and most
        # callers have none: one EXISTS answers them at two thirds of a pipeline's cost.
        async with self._guard():
            if not await self._redis.exists(*(self._key(key) for key, _ in limits)):
                return [window_count([], limit, window_seconds, now) for _, limit in limits]
        async with self._guard(), self._redis.pipeline(transaction=False) as pipe:
            for key, _ in limits:
                pipe.zrangebyscore(self._key(key), since, "+inf", withscores=True)
            found = await pipe.execute()
        return [
            window_count([float(at) for _, at in live], limit, window_seconds, now)
            for (_, limit), live in zip(limits, found, strict=True)
        ]

    async def clear(self, key: str) -> None:
        async with self._guard():
            await self._redis.delete(self._key(key))
