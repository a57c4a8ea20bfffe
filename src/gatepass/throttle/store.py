"""Storage the throttle needs."""

from dataclasses import dataclass
from typing import Protocol


@dataclass(frozen=True)
class WindowCount:
    count: int  # attempts in the window, this one included
    retry_after_seconds: float  # 0 when another attempt would be within the limit


class ThrottleStore(Protocol):
    """Sliding-window attempt logs, one per key.

    `hit(key, now, window_seconds, limit)` records one attempt at `now` and, in the
    same atomic step, forgets attempts older than `now - window_seconds` and counts
    the rest: N concurrent hits raise the count by exactly N. `retry_after_seconds`
    is how long until an attempt would again be within `limit`. After
    `clear(key)` the count starts from zero. `peek(key, now, window_seconds, limit)`
    counts the attempts in the window without recording one: the count `hit` would
    report, less the attempt it adds.
    """

    async def hit(self, key: str, now: float, window_seconds: int, limit: int) -> WindowCount: ...

    async def peek(self, key: str, now: float, window_seconds: int, limit: int) -> WindowCount: ...

    async def clear(self, key: str) -> None: ...
