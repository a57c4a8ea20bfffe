"""workload.interleaved: the warm-up, for every op or per op (gatepass beside a JIT peer)."""

import asyncio
from collections import Counter

import pytest

from gatepass.benchmarks.workload import Operation, Throughput, interleaved


def counted(calls: Counter[str], name: str) -> Operation:
    async def op(i: int) -> bool:
        calls[name] += 1
        await asyncio.sleep(0.001)
        return True

    return op


async def measured(
    calls: Counter[str], names: tuple[str, ...], warmup: float | list[float]
) -> list[Throughput]:
    ops = [counted(calls, name) for name in names]
    run = await interleaved(ops, concurrency=1, items=1, seconds=0.02, warmup=warmup, slices=2)
    return run.results


async def test_each_op_is_warmed_up_for_its_own_seconds() -> None:
    calls: Counter[str] = Counter()
    ours, peer = await measured(calls, ("ours", "peer"), [0.0, 0.05])
    assert calls["ours"] == ours.ops  # no call before the measured turns
    assert calls["peer"] > peer.ops  # the warm-up's calls, not counted
    assert ours.ops > 0
    assert peer.ops > 0


async def test_one_warm_up_is_every_op_s() -> None:
    calls: Counter[str] = Counter()
    for name, result in zip("ab", await measured(calls, ("a", "b"), 0.03), strict=True):
        assert calls[name] > result.ops


async def test_a_warm_up_per_op_or_none() -> None:
    with pytest.raises(ValueError, match="one warm-up per op"):
        await interleaved(
            [counted(Counter(), "a")], concurrency=1, items=1, seconds=0.01, warmup=[0, 0], slices=1
        )
