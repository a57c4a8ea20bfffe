"""How sure a ratio of one run is: a bootstrap interval over its interleaved turns.

A pair measured by workload.interleaved ran in n alternating turns, and its headline
ratio is ours over the baseline over all of them (each side's total ops over its total
seconds). On a shared host a burst of other work lands on one side of a turn and not on
the other, so that ratio moves from run to run: on one 2-core VM, single 25 ms turns of
the uncached verify ran at 0.22 to 5.5 times the raw check's rate, and quick runs of one
build put the RS256 ratio anywhere from 0.68 to 0.88 (docs/benchmarks.md).

Resampling the turns with replacement, ours and the baseline's of a turn together, and
computing each resample's ratio the same way gives that ratio's spread; its 2.5th and
97.5th percentiles bound an interval of about 95% (the percentile bootstrap). A goal
inside the interval is not decided by the run: another run of the same code on the same
machine may well land on its other side. With few turns the interval comes out narrower
than the truth, so fewer than MIN_TURNS give none.
"""

import math
import random
from collections.abc import Sequence

MIN_TURNS = 5
RESAMPLES = 1000
COVERAGE = 0.95

Turns = Sequence[tuple[int, float]]  # (ops, seconds) per turn: Throughput.turns


def ratio_interval(ours: Turns, baseline: Turns) -> tuple[float, float] | None:
    """The ratio of rates, ours over the baseline's, at about 95%: (low, high). None with
    fewer than MIN_TURNS paired turns, or a side that did nothing."""
    n = len(ours)
    if n != len(baseline) or n < MIN_TURNS:
        return None
    a_ops, a_seconds = [t[0] for t in ours], [t[1] for t in ours]
    b_ops, b_seconds = [t[0] for t in baseline], [t[1] for t in baseline]
    if min(a_seconds + b_seconds) <= 0 or not sum(b_ops):
        return None
    rng = random.Random(n)  # fixed: the same figures always give the same interval
    turns, ratios = range(n), []
    for _ in range(RESAMPLES):
        picks = rng.choices(turns, k=n)
        ours_rate = sum(a_ops[i] for i in picks) / sum(a_seconds[i] for i in picks)
        base_ops = sum(b_ops[i] for i in picks)
        if base_ops:  # a resample of only the baseline's empty turns has no ratio
            ratios.append(ours_rate * sum(b_seconds[i] for i in picks) / base_ops)
    ratios.sort()
    tail = (1 - COVERAGE) / 2
    low = ratios[int(tail * len(ratios))]
    high = ratios[max(0, math.ceil((1 - tail) * len(ratios)) - 1)]
    return low, high
