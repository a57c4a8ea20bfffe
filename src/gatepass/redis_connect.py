"""Redis clients for the URLs of redis_url.py (docs/redis.md): one server, the master
Sentinel names, or a Redis Cluster; the server's stores and the resource toolkit use them.
"""

from typing import Any

from redis.asyncio import Redis, RedisCluster, Sentinel
from redis.asyncio.cluster import ClusterNode
from redis.asyncio.sentinel import SentinelConnectionPool
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import RedisClusterException
from redis.maint_notifications import MaintNotificationsConfig

from gatepass.redis_url import RedisTarget, parse_redis_url

__all__ = ["RedisClient", "close_client", "open_client", "parse_redis_url", "primary_for_key"]

# Both expose the commands the stores use; RedisCluster routes each key to its slot.
RedisClient = Redis | RedisCluster


def open_client(url: str, **kwargs: Any) -> RedisClient:
    """A client for the URL's target; `kwargs` are connection options (timeouts, ...).

    Connections are made on first use: a wrong address shows at the first command.
    """
    target = parse_redis_url(url)
    if target.kind == "standalone":
        # redis-py's default maintenance notifications ("auto", a Redis Enterprise
        # feature) make its pool skip the check that a pooled connection is still open:
        # after a Redis restart each connection idle in the pool failed its next command
        # (a 503 with Redis back). They never arrive over RESP2: off, and the pool
        # reconnects a closed connection before handing it out.
        no_notifications = MaintNotificationsConfig(enabled=False)
        return Redis.from_url(url, maint_notifications_config=no_notifications, **kwargs)
    if target.max_connections is not None:
        kwargs["max_connections"] = target.max_connections
    if target.kind == "cluster":
        nodes = [ClusterNode(host, port) for host, port in target.hosts]
        return RedisCluster(startup_nodes=nodes, **target.node_kwargs(), **kwargs)
    master: Redis = _sentinel(target, kwargs).master_for(
        target.service, redis_class=Redis, db=target.db, **target.node_kwargs(), **kwargs
    )
    return master


def _sentinel(target: RedisTarget, kwargs: dict[str, Any]) -> Sentinel:
    timeouts = {k: v for k, v in kwargs.items() if k.startswith("socket_")}
    auth = {"password": target.sentinel_password, "ssl": target.ssl}
    return Sentinel(list(target.hosts), sentinel_kwargs={**timeouts, **auth})  # type: ignore[no-untyped-call]


async def close_client(client: RedisClient) -> None:
    """Close the client and, for Sentinel, the connections to the sentinels too."""
    pool = getattr(client, "connection_pool", None)
    await client.aclose()
    if isinstance(pool, SentinelConnectionPool):
        await pool.sentinel_manager.aclose()


async def primary_for_key(url: str, key: str, **kwargs: Any) -> Redis:
    """A plain client to the one server that holds `key` now: the server itself, the
    master Sentinel names, or the cluster node serving the key's slot.

    For what needs one connection to one server, like a subscription that also reads
    a stream (a cluster broadcasts PUBLISH to every node). After a failover or a
    resharding, call again: the answer may have moved.
    """
    target = parse_redis_url(url)
    if target.kind == "standalone":
        return Redis.from_url(url, **kwargs)
    if target.kind == "sentinel":
        sentinel = _sentinel(target, kwargs)
        try:
            host, port = await sentinel.discover_master(target.service)
        finally:
            await sentinel.aclose()
        return Redis(host=host, port=port, db=target.db, **target.node_kwargs(), **kwargs)
    timeouts = {k: v for k, v in kwargs.items() if k.startswith("socket_")}
    cluster = RedisCluster(
        startup_nodes=[ClusterNode(h, p) for h, p in target.hosts],
        **target.node_kwargs(),
        **timeouts,
    )
    try:
        await cluster.initialize()
        node = cluster.get_node_from_key(key)
    except RedisClusterException as exc:  # not a RedisError: callers expect one
        raise RedisConnectionError(f"redis cluster: {exc}") from exc
    finally:
        await cluster.aclose()
    if node is None:
        raise RedisConnectionError("redis cluster: no node serves the key's slot")
    return Redis(host=node.host, port=int(node.port), **target.node_kwargs(), **kwargs)
