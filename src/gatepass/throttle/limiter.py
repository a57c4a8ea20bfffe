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


# How long this process trusts a peek that found (scope, account, address) under its
# limits. A client calling /token a thousand times a second then costs one store round
# trip a second, not one per request; a failure seen here forgets the verdict at once,
# one seen by another process counts here within this time (its guesses are refused all
# the same: `check` records and refuses every failure).
UNDER_LIMIT_TRUST_SECONDS = 1.0
_TRUSTED_VERDICTS = 4096  # at most this many remembered: a flood of ids costs peeks


class LoginThrottle:
    def __init__(self, store: ThrottleStore, limits: ThrottleLimits, clock: Clock) -> None:
        self._store = store
        self._limits = limits
        self._clock = clock
        self._under_limit_until: dict[tuple[str, str, str], float] = {}

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
        its secret is checked, so guessing on stops paying off. An "under the limits"
        verdict is trusted for UNDER_LIMIT_TRUST_SECONDS (`failed` forgets it).
        """
        now, key = self._clock.now(), (scope, account, address)
        if now < self._under_limit_until.get(key, now):
            return
        verdicts = await self._store.peek(
            [
                (f"{scope}:addr:{address}", self._limits.per_address),
                (f"{scope}:acct:{account}", self._limits.per_account),
            ],
            now,
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
        if len(self._under_limit_until) >= _TRUSTED_VERDICTS:
            self._under_limit_until.clear()
        self._under_limit_until[key] = now + UNDER_LIMIT_TRUST_SECONDS

    async def failed(self, scope: str, account: str, address: str) -> None:
        """`check` for a caller of `refuse_if_over`: records the failure (raising Throttled
        over a limit) and stops trusting this process's last verdict for the pair."""
        self._under_limit_until.pop((scope, account, address), None)
        await self.check(scope, account, address)

    async def succeeded(self, scope: str, account: str) -> None:
        await self._store.clear(f"{scope}:acct:{account}")
