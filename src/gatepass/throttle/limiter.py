"""Login throttling per account and per client address (ASVS 6.3.1, NIST 800-63B §5.2.2).

Every attempt is recorded before the password is checked, so a burst of parallel
guesses cannot slip past the limit. A success clears the account's log. The lock
is never permanent: it lifts one window after the attempts stop.
"""

import math
from dataclasses import dataclass

from gatepass.clock import Clock
from gatepass.errors import GatepassError
from gatepass.throttle.store import ThrottleStore


@dataclass(frozen=True)
class ThrottleLimits:
    per_account: int
    per_address: int
    window_seconds: int


class Throttled(GatepassError):
    def __init__(self, retry_after_seconds: int) -> None:
        super().__init__(f"too many attempts; retry after {retry_after_seconds} s")
        self.retry_after_seconds = retry_after_seconds


class LoginThrottle:
    def __init__(self, store: ThrottleStore, limits: ThrottleLimits, clock: Clock) -> None:
        self._store = store
        self._limits = limits
        self._clock = clock

    async def check(self, scope: str, account: str, address: str) -> None:
        """Record one attempt; raise Throttled when either window is over its limit."""
        now = self._clock.now()
        window = self._limits.window_seconds
        by_address = await self._store.hit(
            f"{scope}:addr:{address}", now, window, self._limits.per_address
        )
        by_account = await self._store.hit(
            f"{scope}:acct:{account}", now, window, self._limits.per_account
        )
        waits = [
            verdict.retry_after_seconds
            for verdict, limit in (
                (by_address, self._limits.per_address),
                (by_account, self._limits.per_account),
            )
            if verdict.count > limit
        ]
        if waits:
            raise Throttled(max(1, math.ceil(max(waits))))

    async def refuse_if_over(self, scope: str, account: str, address: str) -> None:
        """Raise Throttled, recording nothing, when one more attempt would be over a limit.

        For callers that record failures only (`check` after a failure): a client whose
        secret is right must not be counted, but once over the limit it is refused before
        its secret is checked, so guessing on stops paying off.
        """
        verdicts = await self._store.peek(
            [
                (f"{scope}:addr:{address}", self._limits.per_address),
                (f"{scope}:acct:{account}", self._limits.per_account),
            ],
            self._clock.now(),
            self._limits.window_seconds,
        )
        limits = (self._limits.per_address, self._limits.per_account)
        waits = [
            verdict.retry_after_seconds
            for verdict, limit in zip(verdicts, limits, strict=True)
            if verdict.count >= limit
        ]
        if waits:
            raise Throttled(max(1, math.ceil(max(waits))))

    async def succeeded(self, scope: str, account: str) -> None:
        await self._store.clear(f"{scope}:acct:{account}")
