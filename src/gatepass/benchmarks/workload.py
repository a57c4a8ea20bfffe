"""Closed-loop load: N asyncio tasks in one process, each awaiting one operation after another.

Cases that are compared with each other (the session check and the raw GET) run
interleaved in short alternating slices, so both see the same machine: on a shared
host, load from other processes moves absolute figures but not their ratio.
"""

import asyncio
import statistics
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

Operation = Callable[[int], Awaitable[bool]]  # item index -> True when the answer was right
STRIDE = 7919  # a prime: consecutive ops of one task land on unrelated items


class Exhausted(Exception):
    """Raised by an op whose items are single-use (authorization codes) when none is left:
    the task stops there, and the call is not counted."""


@dataclass(frozen=True)
class Throughput:
    concurrency: int
    ops: int
    errors: int  # exceptions and wrong answers (e.g. a live session not found)
    seconds: float
    ops_per_second: float
    p50_ms: float
    p99_ms: float
    cpu_us_per_op: float  # this process's CPU time per op: what load elsewhere moves least
    # (ops, seconds) of each interleaved turn, in order: what ratio_interval resamples
    turns: tuple[tuple[int, float], ...] = ()

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass
class _Tally:
    samples: list[int] = field(default_factory=list)  # nanoseconds per op
    errors: int = 0
    seconds: float = 0.0
    cpu_seconds: float = 0.0
    turns: list[tuple[int, float]] = field(default_factory=list)

    def result(self, concurrency: int) -> Throughput:
        ordered = sorted(self.samples)
        return Throughput(
            concurrency=concurrency,
            ops=len(ordered),
            errors=self.errors,
            seconds=round(self.seconds, 3),
            ops_per_second=len(ordered) / self.seconds if self.seconds else 0.0,
            p50_ms=percentile(ordered, 0.50),
            p99_ms=percentile(ordered, 0.99),
            cpu_us_per_op=self.cpu_seconds / len(ordered) * 1e6 if ordered else 0.0,
            turns=tuple(self.turns),
        )


def percentile(sorted_ns: Sequence[int], fraction: float) -> float:
    """Nearest-rank percentile of sorted nanosecond samples, in milliseconds."""
    if not sorted_ns:
        return float("nan")
    rank = min(len(sorted_ns) - 1, max(0, round(fraction * len(sorted_ns)) - 1))
    return sorted_ns[rank] / 1e6


async def _worker(op: Operation, index: int, items: int, stop: float, tally: _Tally) -> None:
    clock = time.perf_counter_ns
    while time.perf_counter() < stop:
        began = clock()
        try:
            ok = await op(index % items)
        except Exhausted:
            return
        except Exception:  # a failed call is a result to report, not a crash
            ok = False
        tally.samples.append(clock() - began)
        tally.errors += not ok
        index += STRIDE


async def _slice(
    op: Operation, concurrency: int, items: int, seconds: float, tally: _Tally
) -> None:
    """Run one slice, recorded in `tally` as one turn."""
    began, cpu, done = time.perf_counter(), time.process_time(), len(tally.samples)
    stop = began + seconds
    await asyncio.gather(
        *(_worker(op, k * (items // concurrency), items, stop, tally) for k in range(concurrency))
    )
    elapsed = time.perf_counter() - began
    tally.seconds += elapsed
    tally.cpu_seconds += time.process_time() - cpu
    tally.turns.append((len(tally.samples) - done, elapsed))


@dataclass(frozen=True)
class Interleaved:
    results: list[Throughput]  # one per op, over all its slices, each turn in `turns`

    def paired_ratio(self, a: int, b: int) -> float:
        """Median over turns of rate(a) / rate(b): each pair ran back to back."""
        turns = zip(self.results[a].turns, self.results[b].turns, strict=True)
        return statistics.median((n_a / s_a) / (n_b / s_b) for (n_a, s_a), (n_b, s_b) in turns)


async def interleaved(
    ops: Sequence[Operation],
    *,
    concurrency: int,
    items: int,
    seconds: float,
    warmup: float | Sequence[float],
    slices: int,
) -> Interleaved:
    """Each op for `seconds` in total, in `slices` turns; the order flips every turn (ABBA).
    `warmup`: seconds of unmeasured calls first, for every op or per op."""
    warmups = [warmup] * len(ops) if isinstance(warmup, int | float) else list(warmup)
    if len(warmups) != len(ops):
        raise ValueError("one warm-up per op")
    for op, seconds_warm in zip(ops, warmups, strict=True):  # pools filled, caches hot
        await _slice(op, concurrency, items, seconds_warm, _Tally())
    tallies = [_Tally() for _ in ops]
    for turn in range(slices):
        order = list(range(len(ops)))[:: 1 if turn % 2 == 0 else -1]
        for i in order:
            await _slice(ops[i], concurrency, items, seconds / slices, tallies[i])
    return Interleaved([tally.result(concurrency) for tally in tallies])


async def closed_loop(
    op: Operation, *, concurrency: int, items: int, seconds: float, warmup: float
) -> Throughput:
    """One op alone: warm up, then measure for `seconds`."""
    run = await interleaved(
        [op], concurrency=concurrency, items=items, seconds=seconds, warmup=warmup, slices=1
    )
    return run.results[0]
