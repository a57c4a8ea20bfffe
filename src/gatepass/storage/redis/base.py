"""What every Redis store shares: the client, the key prefix, one way to report an outage."""

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from redis.asyncio import Redis
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError

from gatepass.errors import StoreUnavailable

# What a lost or stalled Redis raises; callers turn it into StoreUnavailable.
REDIS_DOWN = (RedisConnectionError, RedisTimeoutError, OSError)


def unavailable(exc: BaseException) -> StoreUnavailable:
    return StoreUnavailable(f"redis: {exc}"[:200])


class RedisStore:
    def __init__(self, client: "Redis", prefix: str) -> None:
        self._redis = client
        self._prefix = prefix

    @asynccontextmanager
    async def _guard(self) -> AsyncIterator[None]:
        """A Redis outage becomes StoreUnavailable: callers fail closed, never open."""
        try:
            yield
        except REDIS_DOWN as exc:
            raise unavailable(exc) from exc
