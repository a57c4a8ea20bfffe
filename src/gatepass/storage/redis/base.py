"""What every Redis store shares: the client, the key prefix, one way to report an outage."""

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from redis.exceptions import ClusterError, ReadOnlyError, RedisClusterException, TryAgainError
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError

from gatepass.errors import StoreUnavailable
from gatepass.redis_connect import RedisClient

# What a lost or stalled Redis raises; callers turn it into StoreUnavailable. A cluster
# adds its own: a slot without a master (ClusterError, RedisClusterException) or in
# migration (TryAgainError); a master demoted by a failover answers ReadOnlyError.
REDIS_DOWN = (
    RedisConnectionError,
    RedisTimeoutError,
    OSError,
    ClusterError,
    RedisClusterException,
    TryAgainError,
    ReadOnlyError,
)


def unavailable(exc: BaseException) -> StoreUnavailable:
    return StoreUnavailable(f"redis: {exc}"[:200])


class RedisStore:
    def __init__(self, client: RedisClient, prefix: str) -> None:
        self._redis = client
        self._prefix = prefix

    @asynccontextmanager
    async def _guard(self) -> AsyncIterator[None]:
        """A Redis outage becomes StoreUnavailable: callers fail closed, never open."""
        try:
            yield
        except REDIS_DOWN as exc:
            raise unavailable(exc) from exc
