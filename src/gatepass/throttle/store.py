"""Storage the throttle needs."""

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol


@dataclass(frozen=True)
class WindowCount:
    count: int  # attempts in the window, this one included
    retry_after_seconds: float  # 0 when another attempt would be within the limit


def window_count(
    times: Sequence[float], limit: int, window_seconds: int, now: float
) -> WindowCount:
    """The count of attempts at `times` (oldest first, all within the window) and how long
    until one more would be within `limit`: once the (count - limit + 1) oldest age out."""
    count = len(times)
    retry_after = 0.0
    if count >= limit:
        retry_after = max(0.0, times[count - limit] + window_seconds - now)
    return WindowCount(count=count, retry_after_seconds=retry_after)


class ThrottleStore(Protocol):
    """Sliding-window attempt logs, one per key.

    `hit(key, now, window_seconds, limit)` records one attempt at `now` and, in the
    same atomic step, forgets attempts older than `now - window_seconds` and counts
    the rest: N concurrent hits raise the count by exactly N. `retry_after_seconds`
    is how long until an attempt would again be within `limit`. After
    `clear(key)` the count starts from zero. `peek(limits, now, window_seconds)` counts,
    for each (key, limit) of `limits` and without a round trip per key, the attempts in
    the window without recording one: the count `hit` would report, less the attempt it
    adds.
    """

    async def hit(self, key: str, now: float, window_seconds: int, limit: int) -> WindowCount: ...

    async def peek(
        self, limits: Sequence[tuple[str, int]], now: float, window_seconds: int
    ) -> list[WindowCount]: ...

    async def clear(self, key: str) -> None: ...
