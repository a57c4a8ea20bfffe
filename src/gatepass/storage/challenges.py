"""ChallengeRegister (mfa/passkey_store.py) on whatever holds the login throttle.

The throttle store's `hit` already counts attempts per key atomically, with expiry, on
SQL and on Redis: a challenge's first answer is the one that counts 1.
"""

from gatepass.throttle.store import ThrottleStore

PREFIX = "answered:"


class ThrottleChallengeRegister:
    def __init__(self, store: ThrottleStore) -> None:
        self._store = store

    async def first_use(self, key: str, now: float, ttl_seconds: int) -> bool:
        counted = await self._store.hit(PREFIX + key, now, ttl_seconds, 1)
        return counted.count == 1
