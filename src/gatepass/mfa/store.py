"""What the second factors need from storage (implementations: storage/sql/second_factors.py).

Every "use" is one atomic conditional update, so two requests racing with the same code
cannot both succeed (RFC 6238 §5.2, NIST 800-63B §5.1.2.2 / §5.1.4.2 single use).
"""

from dataclasses import dataclass
from typing import Protocol


@dataclass(frozen=True)
class TotpFactor:
    user_id: str
    sealed_secret: str  # crypto/secret_box.py, bound to the user id
    confirmed_at: float | None  # None: enrolment started, not confirmed (does not count)
    last_used_step: int  # the last time step whose code was accepted (0: none)
    created_at: float


class TotpStore(Protocol):
    async def get(self, user_id: str) -> TotpFactor | None: ...

    async def begin(self, user_id: str, sealed_secret: str, now: float) -> bool:
        """Store an unconfirmed factor, replacing an unconfirmed one; False (nothing
        changed) when the user has a confirmed factor already."""
        ...

    async def confirm(self, user_id: str, step: int, now: float) -> bool:
        """Mark the unconfirmed factor confirmed, its first code's step used; False when
        there is no unconfirmed factor (or it was confirmed meanwhile)."""
        ...

    async def use_step(self, user_id: str, step: int) -> bool:
        """Record `step` as used only if the factor is confirmed and `step` is later than
        the last one used: True for exactly one of any number of racing callers."""
        ...

    async def delete(self, user_id: str) -> bool: ...


class RecoveryCodeStore(Protocol):
    async def replace(self, user_id: str, digests: list[str], now: float) -> None:
        """The user's codes become exactly these (all unused); the old ones are gone."""
        ...

    async def use(self, user_id: str, digest: str, now: float) -> bool:
        """Mark the code used if it is the user's and unused: True at most once."""
        ...

    async def remaining(self, user_id: str) -> int: ...

    async def delete_all(self, user_id: str) -> int: ...


class FactorSource(Protocol):
    """Another kind of second factor (passkeys): whether a user has one, and forgetting
    all of a user's (an administrator's reset-mfa); `delete_all` says how many went."""

    async def has_factor(self, user_id: str) -> bool: ...

    async def delete_all(self, user_id: str) -> int: ...
