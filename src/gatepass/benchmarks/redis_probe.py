"""What one session check costs Redis: round trips, commands, and memory per session."""

from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from redis.asyncio.connection import AbstractConnection

from gatepass.benchmarks.environment import Stack
from gatepass.redis_connect import RedisClient

DEFAULT_PREFIX = "gp:"  # the production default, for the memory figure of a real deployment


@contextmanager
def counting_round_trips() -> Iterator[Counter[str]]:
    """Count socket writes ("round trips") and replies read by every redis.asyncio connection.

    A pipeline is one write however many commands it carries, so writes are round trips.
    """
    counts: Counter[str] = Counter()
    send, read = AbstractConnection.send_packed_command, AbstractConnection.read_response

    async def counted_send(self: AbstractConnection, *args: Any, **kwargs: Any) -> None:
        counts["writes"] += 1
        await send(self, *args, **kwargs)

    async def counted_read(self: AbstractConnection, *args: Any, **kwargs: Any) -> Any:
        counts["replies"] += 1
        return await read(self, *args, **kwargs)

    AbstractConnection.send_packed_command = counted_send  # type: ignore[method-assign]
    AbstractConnection.read_response = counted_read  # type: ignore[method-assign]
    try:
        yield counts
    finally:
        AbstractConnection.send_packed_command = send  # type: ignore[method-assign]
        AbstractConnection.read_response = read  # type: ignore[method-assign]


async def command_stats(client: RedisClient) -> dict[str, int]:
    info = await client.info("commandstats")
    return {name.removeprefix("cmdstat_"): int(v["calls"]) for name, v in info.items()}


async def round_trips(stack: Stack, checks: int) -> dict[str, Any]:
    """Client-side writes and replies, and server-side commands, per session check."""
    assert stack.backends.redis is not None
    client = stack.backends.redis
    before = await command_stats(client)
    with counting_round_trips() as counts:
        for n in range(checks):
            assert await stack.manager.resume(stack.secrets[n % len(stack.secrets)]) is not None
    after = await command_stats(client)
    # The server counts every client's commands: our own INFO is dropped, and anything
    # another client ran meanwhile would show up here (it is reported, not hidden).
    delta = {
        name: (after[name] - before.get(name, 0)) / checks
        for name in after
        if name != "info" and after[name] != before.get(name, 0)
    }
    return {
        "checks": checks,
        "round_trips_per_check": counts["writes"] / checks,
        "replies_per_check": counts["replies"] / checks,
        "server_commands_per_check": delta,
    }


async def _usage(client: RedisClient, key: str) -> int:
    return int(await client.memory_usage(key, samples=0) or 0)


async def usage_as_default(client: RedisClient, key: str, prefix: str) -> int:
    """MEMORY USAGE of a copy named with the default prefix, deleted at once.

    The key name is part of the record, and this run's unique prefix is longer than `gp:`.
    The copy's name holds a 256-bit digest or a random UUID, so it collides with nothing.
    """
    copy = DEFAULT_PREFIX + key.removeprefix(prefix)
    if not await client.copy(key, copy):  # keeps TTL and encoding; refuses to overwrite
        return -1
    try:
        return await _usage(client, copy)
    finally:
        await client.delete(copy)


async def memory(stack: Stack) -> dict[str, Any]:
    """MEMORY USAGE (SAMPLES 0, exact) of one session record and of its user's index."""
    assert stack.backends.redis is not None
    client, prefix = stack.backends.redis, stack.settings.redis_prefix
    session_key = f"{prefix}s:{stack.session_ids[0]}"
    index_key = f"{prefix}u:{stack.user_ids[0]}"
    entries = int(await client.hlen(index_key))
    index_bytes = await usage_as_default(client, index_key, prefix)
    record_bytes = await usage_as_default(client, session_key, prefix)
    return {
        "key_prefix": DEFAULT_PREFIX,
        "session_record_bytes": record_bytes,
        "session_record_bytes_with_run_prefix": await _usage(client, session_key),
        "session_value_bytes": int(await client.strlen(session_key)),
        "session_encoding": _text(await client.object("encoding", session_key)),
        "index_bytes": index_bytes,
        "index_entries": entries,
        "index_bytes_per_session": index_bytes / entries,
        "index_encoding": _text(await client.object("encoding", index_key)),
        "index_entry_value_bytes": len(await client.hget(index_key, stack.session_ids[0]) or b""),
        "total_bytes_per_session": record_bytes + index_bytes / entries,
        "run_prefix": prefix,
        # Above this many bytes per value, Redis stores a hash as a hashtable, not a listpack.
        "hash_max_listpack_value": int(
            (await client.config_get("hash-max-listpack-value"))["hash-max-listpack-value"] or 0
        ),
    }


def _text(value: Any) -> str:
    return value.decode() if isinstance(value, bytes) else str(value)
