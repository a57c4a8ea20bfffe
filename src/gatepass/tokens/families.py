"""Token families: every token issued under one authorization, and its refresh token.

A family starts when an authorization code is redeemed (its id is the `gid` claim of
every access token it issues) and ends when it expires or is revoked; revoking it
revokes every token it issued. A family may carry a refresh token (RFC 6749 §6), which
rotates on every use (RFC 9700 §4.14.2). The exact rule, as in docs/refresh-tokens.md:

    presented token of generation g, family at generation n, same client, family live:
      g == n                                   rotate: the family moves to n + 1 (atomic
                                               compare-and-set); the successor is returned
      g == n - 1, within the retry window      a retry (lost response, two tabs, a second
        since the rotation                     process): the *same* successor again
      otherwise (older, or outside the window) reuse of a rotated token: theft. The family
                                               is revoked, its newest token included.

The successor of a token is an HMAC of that token under a server key, so a retry can
recompute it without anything secret being stored in clear, and two processes rotating
the same token at once derive the same successor: whichever wins the compare-and-set,
the other hands out the very same token, so the family never forks.
"""

import base64
import hashlib
import hmac
from collections.abc import Callable
from dataclasses import dataclass, replace

from gatepass.crypto.secrets import digest, looks_like_secret, new_secret

_SUCCESSOR_PURPOSE = b"gatepass/refresh-successor/v1\x00"


@dataclass(frozen=True)
class FamilyPolicy:
    """How long a family's refresh token lives; per client, defaults from the settings."""

    idle_ttl: int  # sliding: each refresh restarts it
    absolute_ttl: int  # from the login that started the family
    retry_window: int  # seconds a just-rotated token still yields its successor; 0 = strict


@dataclass(frozen=True)
class TokenFamily:
    """One authorization's tokens. `refreshable` families carry a refresh token."""

    id: str  # the grant id: `gid` in every access token of the family
    client_id: str
    user_id: str
    scopes: tuple[str, ...]
    resource: str | None
    auth_time: float
    session_id: str | None
    created_at: float
    last_used_at: float
    expires_at: float  # absolute end; without a refresh token, its access token's expiry
    idle_ttl: int  # 0: no refresh token
    retry_window: int
    generation: int
    rotated_at: float | None
    revoked_at: float | None
    amr: tuple[str, ...] = ("pwd",)  # how the user authenticated: id tokens repeat it
    idp: str | None = None

    @property
    def refreshable(self) -> bool:
        return self.idle_ttl > 0

    def ends_at(self) -> float:
        """When the family stops being usable if nothing happens: idle or absolute end."""
        if not self.refreshable:
            return self.expires_at
        return min(self.expires_at, self.last_used_at + self.idle_ttl)

    def live(self, now: float) -> bool:
        return self.revoked_at is None and now < self.ends_at()

    def rotated(self, now: float) -> "TokenFamily":
        return replace(self, generation=self.generation + 1, rotated_at=now, last_used_at=now)


@dataclass(frozen=True)
class Presented:
    """A refresh token found in the store: its family and the generation it belongs to."""

    family: TokenFamily
    generation: int


class RefreshTokenSecrets:
    """Refresh token values: fresh for generation 0, derived for every later one."""

    def __init__(self, key: Callable[[], bytes]) -> None:
        self._key = key  # read on first use (the master key may live in a file)

    @staticmethod
    def first() -> str:
        return new_secret()

    def successor(self, token: str) -> str:
        """HMAC-SHA256 of the token under the server key: 43 URL-safe characters, shaped
        like any other secret, unpredictable without the key."""
        mac = hmac.new(self._key(), _SUCCESSOR_PURPOSE + token.encode("ascii"), hashlib.sha256)
        return base64.urlsafe_b64encode(mac.digest()).rstrip(b"=").decode("ascii")

    @staticmethod
    def digest(token: str) -> str:
        return digest(token)

    @staticmethod
    def well_formed(token: str) -> bool:
        return looks_like_secret(token)
