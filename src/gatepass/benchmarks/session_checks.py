"""The request path of a session: `SessionManager.resume` per backend, beside the raw read
of the same record (a redis-py GET of the key; a SQL SELECT of the row by primary key).

The check and its baseline run interleaved (workload.interleaved), so both see the same
machine; on Redis a raw GETEX with the idle timeout runs too: the sliding expiry alone.
"""

from typing import Any

from sqlalchemy import text

from gatepass.benchmarks import redis_probe
from gatepass.benchmarks.environment import Stack
from gatepass.benchmarks.tokens import Timing
from gatepass.benchmarks.workload import Operation, interleaved
from gatepass.redis_connect import RedisClient
from gatepass.storage.backends import open_redis

SELECT = text("SELECT user_id, absolute_expires_at, idle_expires_at FROM sessions WHERE id = :id")


def session_check(stack: Stack) -> Operation:
    manager, cookies = stack.manager, stack.secrets

    async def check(i: int) -> bool:
        return await manager.resume(cookies[i]) is not None

    return check


def raw_get(client: RedisClient, stack: Stack) -> Operation:
    prefix = stack.settings.redis_prefix
    keys = [f"{prefix}s:{session_id}" for session_id in stack.session_ids]

    async def get(i: int) -> bool:
        return await client.get(keys[i]) is not None

    return get


def raw_getex(client: RedisClient, stack: Stack) -> Operation:
    """GETEX with the idle timeout: the sliding expiry alone, without gatepass around it."""
    prefix, idle = stack.settings.redis_prefix, stack.settings.session_idle_ttl
    keys = [f"{prefix}s:{session_id}" for session_id in stack.session_ids]

    async def getex(i: int) -> bool:
        return await client.getex(keys[i], ex=idle) is not None

    return getex


def raw_select(stack: Stack) -> Operation:
    """The session's row by primary key, on the store's own engine (same pool)."""
    engine, ids = stack.backends.engine, stack.session_ids

    async def select(i: int) -> bool:
        async with engine.connect() as conn:
            row = (await conn.execute(SELECT, {"id": ids[i]})).first()
        return row is not None

    return select


async def sql_checks(stack: Stack, timing: Timing, levels: list[int]) -> dict[str, Any]:
    checks, selects = {}, {}
    for c in levels:
        run = await interleaved(
            [session_check(stack), raw_select(stack)],
            concurrency=c,
            items=len(stack.secrets),
            seconds=timing.seconds,
            warmup=timing.warmup,
            slices=timing.slices,
        )
        checks[c], selects[c] = run.results
    return {"session_check": checks, "raw_select": selects}


async def redis_checks(
    stack: Stack, timing: Timing, levels: list[int], round_trip_checks: int
) -> dict[str, Any]:
    """The session check, raw GETs and raw GETEXs of the same keys, interleaved.

    The raw client is built by gatepass's own `open_redis`, so it has the same
    settings (redis.asyncio, hiredis parser, timeouts, health checks) as the store's.
    """
    assert stack.settings.redis_url is not None
    raw = open_redis(stack.settings.redis_url)
    checks, gets, getexes, ratios, parts = {}, {}, {}, {}, {}
    try:
        for c in levels:
            run = await interleaved(
                [session_check(stack), raw_get(raw, stack), raw_getex(raw, stack)],
                concurrency=c,
                items=len(stack.secrets),
                seconds=timing.seconds,
                warmup=timing.warmup,
                slices=timing.slices,
            )
            checks[c], gets[c], getexes[c] = run.results
            ratios[c] = run.paired_ratio(0, 1)
            # Where the gap comes from: the sliding expiry itself, then gatepass around it.
            parts[c] = {
                "getex_over_get": run.paired_ratio(2, 1),
                "check_over_getex": run.paired_ratio(0, 2),
            }
    finally:
        await raw.aclose()
    return {
        "session_check": checks,
        "raw_get": gets,
        "raw_getex": getexes,
        "paired_ratio": ratios,
        "paired_ratio_parts": parts,
        "round_trips": await redis_probe.round_trips(stack, round_trip_checks),
        "memory": await redis_probe.memory(stack),
    }
