"""workload.interleaved: the warm-up, for every op or per op (gatepass beside a JIT peer)."""

import asyncio
from collections import Counter

import pytest

from gatepass.benchmarks.workload import Operation, interleaved


def counted(calls: Counter[str], name: str) -> Operation:
    async def op(i: int) -> bool:
        calls[name] += 1
        await asyncio.sleep(0.001)
        return True

    return op


async def test_each_op_is_warmed_up_for_its_own_seconds() -> None:
    calls: Counter[str] = Counter()
    run = await interleaved(
        [counted(calls, "ours"), counted(calls, "peer")],
        concurrency=1,
        items=1,
        seconds=0.02,
        warmup=[0.0, 0.05],
        slices=2,
    )
    ours, peer = run.results
    assert calls["ours"] == ours.ops  # no call before the measured turns
    assert calls["peer"] > peer.ops  # the warm-up's calls, not counted
    assert ours.ops > 0
    assert peer.ops > 0


async def test_one_warm_up_is_every_op_s() -> None:
    calls: Counter[str] = Counter()
    run = await interleaved(
        [counted(calls, "a"), counted(calls, "b")],
        concurrency=1,
        items=1,
        seconds=0.02,
        warmup=0.03,
        slices=1,
    )
    for name, result in zip("ab", run.results, strict=True):
        assert calls[name] > result.ops


async def test_a_warm_up_per_op_or_none() -> None:
    with pytest.raises(ValueError, match="one warm-up per op"):
        await interleaved(
            [counted(Counter(), "a")], concurrency=1, items=1, seconds=0.01, warmup=[0, 0], slices=1
        )
