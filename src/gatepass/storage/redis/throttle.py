"""ThrottleStore on Redis: a sorted set of attempt times per key, updated in one MULTI."""

from gatepass.crypto.secrets import new_secret
from gatepass.storage.redis.base import RedisStore
from gatepass.throttle.store import WindowCount


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

    async def peek(self, key: str, now: float, window_seconds: int, limit: int) -> WindowCount:
        redis_key = self._key(key)
        async with self._guard(), self._redis.pipeline(transaction=True) as pipe:
            pipe.zcount(redis_key, f"({now - window_seconds}", "+inf")
            pipe.zrangebyscore(redis_key, f"({now - window_seconds}", "+inf", withscores=True)
            count, live = await pipe.execute()
        retry_after = 0.0
        if count >= limit and live:
            # The next attempt fits once the (count - limit + 1) oldest have aged out.
            retry_after = max(0.0, float(live[count - limit][1]) + window_seconds - now)
        return WindowCount(count=int(count), retry_after_seconds=retry_after)

    async def clear(self, key: str) -> None:
        async with self._guard():
            await self._redis.delete(self._key(key))
