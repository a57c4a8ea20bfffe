"""How the session check grows with the number of live sessions in Redis (10^3 -> 10^6),
Redis memory per session at each size, and how long a revoked session stays usable.

Live sessions are started through `SessionManager.start` (the records a login writes: the
hot `s:` string and the per-user `u:` index), six per user, in concurrent batches, into the
run's own key prefix. At each size the check runs on a sample of them, and the memory of a
sample of records and indexes is read with MEMORY USAGE (exact, SAMPLES 0), as named under
the default key prefix (redis_probe.usage_as_default): the run's own prefix is longer, and
the name is part of what a key costs.
"""

import asyncio
import statistics
import time
import uuid
from collections.abc import Callable
from typing import Any

from gatepass.benchmarks.environment import (
    ADDRESS,
    SESSIONS_PER_USER,
    USER_AGENT,
    BenchError,
    Stack,
)
from gatepass.benchmarks.redis_probe import usage_as_default
from gatepass.benchmarks.session_checks import session_check
from gatepass.benchmarks.tokens import Timing
from gatepass.benchmarks.workload import closed_loop, percentile

BATCH = 32  # sessions started concurrently: within the store's connection pool
SAMPLE = 256  # sessions the check cycles through at each size
MEMORY_SAMPLE = 32


async def _grow(stack: Stack, count: int, sample: list[tuple[str, str, str]]) -> None:
    """Start `count` more sessions; keep (secret, session id, user id) of the first few."""
    users = [str(uuid.uuid4()) for _ in range(-(-count // SESSIONS_PER_USER))]

    async def one(n: int) -> None:
        user = users[n // SESSIONS_PER_USER]
        started = await stack.manager.start(user, ADDRESS, USER_AGENT)
        if len(sample) < SAMPLE:
            sample.append((started.secret, started.session.id, user))

    for start in range(0, count, BATCH):
        await asyncio.gather(*(one(n) for n in range(start, min(count, start + BATCH))))


async def _bytes_per_session(stack: Stack, sample: list[tuple[str, str, str]]) -> float:
    """MEMORY USAGE of the hot record, plus the user's index shared by its sessions, both
    as a deployment with the default prefix would hold them."""
    client, prefix = stack.backends.redis, stack.settings.redis_prefix
    assert client is not None
    sizes = []
    for _, session_id, user in sample[:MEMORY_SAMPLE]:
        record = await usage_as_default(client, f"{prefix}s:{session_id}", prefix)
        index_key = f"{prefix}u:{user}"
        index = await usage_as_default(client, index_key, prefix)
        sizes.append(record + index / max(1, int(await client.hlen(index_key))))
    return statistics.fmean(sizes)


async def live_sessions(
    stack: Stack,
    counts: tuple[int, ...],
    timing: Timing,
    concurrency: int,
    progress: Callable[[str], None],
) -> dict[int, dict[str, Any]]:
    """{live sessions: {"check": Throughput, "bytes_per_session": B}} at each size."""
    sample: list[tuple[str, str, str]] = []
    live, out = len(stack.secrets), {}
    for count in counts:
        progress(f"live sessions in redis: {count:,}")
        if count > live:
            await _grow(stack, count - live, sample)
            live = count
        probe = Stack(**{**vars(stack), "secrets": [s for s, _, _ in sample]})
        check = await closed_loop(
            session_check(probe),
            concurrency=concurrency,
            items=len(sample),
            seconds=timing.seconds,
            warmup=timing.warmup,
        )
        out[count] = {"check": check, "bytes_per_session": await _bytes_per_session(stack, sample)}
    return out


async def session_revocation(stack: Stack, rounds: int) -> dict[str, Any]:
    """From `SessionManager.end` to the first refused check: the end, then one check."""
    delays = []
    for secret in stack.secrets[-rounds:]:
        began = time.perf_counter_ns()
        await stack.manager.end(secret)
        if await stack.manager.resume(secret) is not None:
            raise BenchError("a session ended but was still accepted")
        delays.append(time.perf_counter_ns() - began)
    stack.secrets[-rounds:] = []  # ended: no later case may pick them
    stack.session_ids[-rounds:] = []
    ordered = sorted(delays)
    return {
        "rounds": rounds,
        "p50_ms": percentile(ordered, 0.50),
        "p99_ms": percentile(ordered, 0.99),
    }
