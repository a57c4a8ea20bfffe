"""A stored signing key and the state its times give it.

published_at      active_at           retired_at          expires_at
     |---- next ----|------ active -----|---- retiring -----|---- expired
     |<------------------- in /jwks.json ------------------>|
"""

import enum
from dataclasses import dataclass


class KeyState(enum.StrEnum):
    NEXT = "next"  # published, not signing yet
    ACTIVE = "active"  # signing (the newest active key of its algorithm does)
    RETIRING = "retiring"  # no longer signing, still published for its tokens
    EXPIRED = "expired"  # every token it signed has expired; out of the JWKS


@dataclass(frozen=True)
class StoredSigningKey:
    kid: str  # RFC 7638 thumbprint
    alg: str
    public_jwk: str  # JSON, public members only
    sealed_private: str  # crypto/sealing.py, under the master key's KEK
    created_at: float
    published_at: float
    active_at: float
    retired_at: float | None = None
    expires_at: float | None = None

    def state(self, now: float) -> KeyState:
        if self.expires_at is not None and now >= self.expires_at:
            return KeyState.EXPIRED
        if self.retired_at is not None and now >= self.retired_at:
            return KeyState.RETIRING
        if now >= self.active_at:
            return KeyState.ACTIVE
        return KeyState.NEXT

    def is_published(self, now: float) -> bool:
        return self.published_at <= now and self.state(now) is not KeyState.EXPIRED

    def __repr__(self) -> str:
        return f"StoredSigningKey(kid={self.kid!r}, alg={self.alg!r})"
