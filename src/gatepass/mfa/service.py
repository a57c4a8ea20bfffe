"""The second factors of a user: TOTP enrolment and checks, recovery codes (docs/mfa.md).

Web routes decide *when* a factor is asked for (web/second_factor.py); this core decides
whether what was typed is right, and makes every success single use.
"""

from collections.abc import Callable, Sequence
from typing import Protocol

from gatepass.clock import Clock
from gatepass.crypto.secret_box import SecretUnsealError
from gatepass.mfa import recovery, totp
from gatepass.mfa.store import FactorSource, RecoveryCodeStore, TotpStore


class Sealer(Protocol):
    def seal(self, secret: str, *, bound_to: str) -> str: ...

    def open(self, sealed: str, *, bound_to: str) -> str: ...


class SecondFactors:
    def __init__(
        self,
        totps: TotpStore,
        codes: RecoveryCodeStore,
        sealer: Sealer,
        recovery_key: Callable[[], bytes],
        clock: Clock,
        extra_sources: Sequence[FactorSource] = (),
    ) -> None:
        self._totps = totps
        self._codes = codes
        self._sealer = sealer
        self._recovery_key = recovery_key  # read on first use (the master key may be a file)
        self._clock = clock
        # Other factors (passkeys) that count when deciding whether one is due.
        self.extra_sources: list[FactorSource] = list(extra_sources)

    async def has_factor(self, user_id: str) -> bool:
        """A confirmed TOTP or any other factor (recovery codes alone are no factor:
        they stand in for one)."""
        if await self.totp_enrolled(user_id):
            return True
        for source in self.extra_sources:
            if await source.has_factor(user_id):
                return True
        return False

    async def totp_enrolled(self, user_id: str) -> bool:
        factor = await self._totps.get(user_id)
        return factor is not None and factor.confirmed_at is not None

    async def begin_totp(self, user_id: str) -> str | None:
        """A new secret for the user to enrol (replacing an unconfirmed one); None when a
        confirmed TOTP exists (remove it first)."""
        secret = totp.new_secret()
        sealed = self._sealer.seal(secret, bound_to=_bound(user_id))
        return secret if await self._totps.begin(user_id, sealed, self._clock.now()) else None

    async def unconfirmed_totp(self, user_id: str) -> str | None:
        """The secret of an enrolment started and not yet confirmed (to show it again)."""
        factor = await self._totps.get(user_id)
        if factor is None or factor.confirmed_at is not None:
            return None
        return self._open(factor.sealed_secret, user_id)

    async def confirm_totp(self, user_id: str, code: str) -> bool:
        """The first code confirms the enrolment (and is then used up)."""
        factor = await self._totps.get(user_id)
        if factor is None or factor.confirmed_at is not None:
            return False
        secret = self._open(factor.sealed_secret, user_id)
        now = self._clock.now()
        step = totp.matching_step(secret, code, now, factor.last_used_step) if secret else None
        return step is not None and await self._totps.confirm(user_id, step, now)

    async def verify_totp(self, user_id: str, code: str) -> bool:
        """True once per time step for the right code of a confirmed factor."""
        factor = await self._totps.get(user_id)
        if factor is None or factor.confirmed_at is None:
            return False
        secret = self._open(factor.sealed_secret, user_id)
        now = self._clock.now()
        step = totp.matching_step(secret, code, now, factor.last_used_step) if secret else None
        return step is not None and await self._totps.use_step(user_id, step)

    async def remove_totp(self, user_id: str) -> bool:
        return await self._totps.delete(user_id)

    async def new_recovery_codes(self, user_id: str) -> list[str]:
        """Ten new codes, replacing all the user had; shown once, stored as digests."""
        codes = recovery.new_codes()
        key = self._recovery_key()
        digests = [recovery.digest(key, user_id, recovery.normalize(c) or "") for c in codes]
        await self._codes.replace(user_id, digests, self._clock.now())
        return codes

    async def use_recovery_code(self, user_id: str, code: str) -> bool:
        plain = recovery.normalize(code)
        if plain is None:
            return False
        digest = recovery.digest(self._recovery_key(), user_id, plain)
        return await self._codes.use(user_id, digest, self._clock.now())

    async def recovery_codes_left(self, user_id: str) -> int:
        return await self._codes.remaining(user_id)

    async def reset(self, user_id: str) -> int:
        """Forget every factor and recovery code of the user (an administrator's
        reset-mfa); how many things went."""
        removed = int(await self._totps.delete(user_id))
        removed += await self._codes.delete_all(user_id)
        for source in self.extra_sources:
            removed += await source.delete_all(user_id)
        return removed

    def _open(self, sealed: str, user_id: str) -> str | None:
        try:
            return self._sealer.open(sealed, bound_to=_bound(user_id))
        except SecretUnsealError:
            return None  # another master key: the factor cannot be used, never a 500


def _bound(user_id: str) -> str:
    return f"totp:{user_id}"
