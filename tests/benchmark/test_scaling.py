"""The scaling part's memory per session, on the test Redis: what a deployment's keys cost,
whatever prefix the run's own keys carry."""

import math
from pathlib import Path

from gatepass.benchmarks import scaling
from gatepass.benchmarks.environment import (
    SESSIONS_PER_USER,
    Stack,
    argon2_parameters,
    manager_for,
)
from gatepass.benchmarks.redis_probe import DEFAULT_PREFIX
from gatepass.crypto.passwords import PasswordHasher
from tests import support


async def test_memory_per_session_is_weighed_under_the_default_prefix(
    tmp_path: Path, postgres_url: str, redis_prefix: str
) -> None:
    settings = support.settings_for("redis", tmp_path, postgres_url, redis_prefix)
    assert len(redis_prefix) > len(DEFAULT_PREFIX)  # else the test shows nothing
    async with support.test_backends(settings) as backends:
        client = backends.redis
        assert client is not None
        manager = manager_for(settings, backends)
        hasher = PasswordHasher(argon2_parameters(settings))
        stack = Stack("redis", settings, backends, manager, hasher, [], [], [])
        sample: list[tuple[str, str, str]] = []
        await scaling._grow(stack, 2 * SESSIONS_PER_USER, sample)
        measured = await scaling._bytes_per_session(stack, sample)

        # The same keys renamed (not copied) to the default prefix, weighed, then put back.
        expected, records = [], []
        for _, session_id, user in sample:
            sizes = []
            for kind, name in (("s", session_id), ("u", user)):
                ours, theirs = f"{redis_prefix}{kind}:{name}", f"{DEFAULT_PREFIX}{kind}:{name}"
                assert await client.renamenx(ours, theirs)
                try:
                    sizes.append(int(await client.memory_usage(theirs, samples=0) or 0))
                finally:
                    await client.rename(theirs, ours)
            entries = int(await client.hlen(f"{redis_prefix}u:{user}"))
            assert entries == SESSIONS_PER_USER
            expected.append(sizes[0] + sizes[1] / entries)
            records.append(sizes[0])
        assert math.isclose(measured, sum(expected) / len(expected))
        # Under the run's longer prefix the same record weighs more: the figure would be off.
        longer = int(await client.memory_usage(f"{redis_prefix}s:{sample[0][1]}", samples=0) or 0)
        assert longer > records[0]
