"""ID tokens (OpenID Connect Core §2, §3.1.3.6): issue, and read back as a logout hint.

Claims: iss sub aud exp iat auth_time amr acr, nonce and sid when known, idp after an
upstream login, at_hash when an access token is issued with it, azp when there is
more than one audience. The
header's `typ` is "JWT", so neither kind of token passes for the other: an
access token says "at+jwt" (RFC 9068 §2.1, RFC 8725 §3.11).
"""

import base64
import hashlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from gatepass.clock import Clock
from gatepass.crypto import jwt
from gatepass.errors import InvalidToken
from gatepass.oidc.acr import acr_for
from gatepass.tokens.signing import KeySource, sign_jwt

TYP = "JWT"
VERIFY_LEEWAY_SECONDS = 30
# OIDC Core §3.1.3.6: at_hash uses "the hash algorithm used in the alg Header Parameter";
# for EdDSA with Ed25519 that is SHA-512 (RFC 8032 §5.1), as other providers do.
AT_HASH_ALGORITHMS = {"RS256": "sha256", "ES256": "sha256", "EdDSA": "sha512"}


@dataclass(frozen=True)
class IdTokenPolicy:
    issuer: str
    ttl_seconds: int


@dataclass(frozen=True)
class IdTokenHint:
    """What an id_token_hint tells the logout endpoint, once verified."""

    subject: str
    audience: tuple[str, ...]
    client_id: str  # azp, or the sole audience
    sid: str | None
    issued_at: int


def at_hash(access_token: str, alg: str) -> str:
    """OIDC Core §3.1.3.6: base64url of the left-most half of the hash of the ASCII token."""
    try:
        digest = hashlib.new(AT_HASH_ALGORITHMS[alg], access_token.encode("ascii")).digest()
    except KeyError:
        raise ValueError(f"no at_hash rule for {alg!r}") from None
    return base64.urlsafe_b64encode(digest[: len(digest) // 2]).rstrip(b"=").decode("ascii")


class IdTokens:
    def __init__(self, keys: KeySource, policy: IdTokenPolicy, clock: Clock) -> None:
        self._keys = keys
        self.policy = policy
        self._clock = clock

    async def issue(
        self,
        *,
        client_id: str,
        alg: str,
        subject: str,
        auth_time: float,
        nonce: str | None = None,
        sid: str | None = None,
        access_token: str | None = None,
        extra_audiences: Sequence[str] = (),
        amr: Sequence[str] = (),
        idp: str | None = None,
        user_claims: Mapping[str, Any] | None = None,
    ) -> str:
        """An id token for `client_id`, signed with `alg` (the client's id_token_alg).

        `user_claims` are the claims the granted scopes release (Core §5.4: email,
        email_verified, name); they never replace a claim set here."""
        now = int(self._clock.now())
        audience = tuple(dict.fromkeys((client_id, *extra_audiences)))
        claims: dict[str, Any] = {
            "iss": self.policy.issuer,
            "sub": subject,
            "aud": client_id if len(audience) == 1 else list(audience),
            "exp": now + self.policy.ttl_seconds,
            "iat": now,
            # Always present: cheap, and required whenever max_age was asked (Core §2).
            "auth_time": int(auth_time),
        }
        if len(audience) > 1:
            claims["azp"] = client_id  # Core §2: azp when the token has several audiences
        if nonce is not None:
            claims["nonce"] = nonce  # Core §3.1.3.6: the request's value, unmodified
        if sid is not None:
            claims["sid"] = sid  # Front/Back-Channel Logout: the session at the OP
        if access_token is not None:
            claims["at_hash"] = at_hash(access_token, alg)
        if amr:
            claims["amr"] = list(amr)  # Core §2, RFC 8176 values
            claims["acr"] = acr_for(amr)  # Core §2; the levels: oidc/acr.py
        if idp is not None:
            # The upstream provider the user signed in at (the name gatepass knows it by);
            # absent for a login at gatepass itself.
            claims["idp"] = idp
        for name, value in (user_claims or {}).items():
            claims.setdefault(name, value)
        key = await self._keys.signing_key(alg)
        return await sign_jwt(claims, key, TYP)

    async def verify_id_token_hint(
        self, token: str | bytes, *, client_id: str | None = None
    ) -> IdTokenHint:
        """An id token this issuer signed, for logout: signature, `iss` and `aud` checked,
        `exp` may be past (RP-Initiated Logout §2: the OP SHOULD accept expired hints).

        With `client_id`, the hint must have been issued to it: RP-Initiated Logout §2 says
        the OP MUST verify that the client_id matches the one used when issuing the token.
        Any failure is InvalidToken.
        """
        raw = jwt.verify(
            token,
            await self._keys.verification_keys(),
            issuer=self.policy.issuer,
            audience=client_id,  # None: any audience, checked below
            typ=TYP,
            now=self._clock.now(),
            leeway=VERIFY_LEEWAY_SECONDS,
            allow_expired=True,
        )
        return _hint(raw, client_id)


def _hint(raw: Mapping[str, Any], client_id: str | None) -> IdTokenHint:
    aud, azp, sid, sub = raw["aud"], raw.get("azp"), raw.get("sid"), raw.get("sub")
    audience = (aud,) if isinstance(aud, str) else tuple(aud)
    if not isinstance(sub, str) or not sub:
        raise InvalidToken("id token without sub")
    if sid is not None and not isinstance(sid, str):
        raise InvalidToken("sid is not a string")
    if azp is None and len(audience) != 1:
        raise InvalidToken("several audiences and no azp")
    owner = azp if azp is not None else audience[0]
    if not isinstance(owner, str) or owner not in audience:
        raise InvalidToken("azp is not an audience")
    if client_id is not None and owner != client_id:
        raise InvalidToken("issued to another client")
    return IdTokenHint(sub, audience, owner, sid, int(raw["iat"]))
