"""JWT access tokens (RFC 9068): `typ: at+jwt`, short-lived, no personal data.

    issue(subject, client_id, scope, audience)          verify(token, audience)
        claims: iss sub aud exp iat jti client_id            typ == at+jwt, alg pinned by kid,
                scope (when granted)                         iss, aud, exp, nbf, iat (30 s leeway),
                auth_time (when known)                       every required claim well-formed
        signed by the active key of the policy's alg     against every published key

A JWT payload is only base64url: anyone who holds the token reads it. So it
carries identifiers and nothing personal (no email, no name); a resource server
that needs those asks /userinfo or its own records (RFC 9068 §6).

`gid` (a private claim, RFC 7519 §4.3) names the grant the token was issued under: a
random identifier, not personal data. Revoking a grant (a reused code, later a refresh
family) revokes every token carrying its `gid`; verifiers learn of it from the
revocation feed (DESIGN.md), so a check stays a signature check plus a set lookup.
"""

import secrets
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from gatepass.clock import Clock
from gatepass.crypto import jwt
from gatepass.errors import InvalidToken
from gatepass.tokens.signing import KeySource, sign_jwt

# RFC 9068 §2.1: the header's typ MUST be "at+jwt" (or "application/at+jwt").
TYP = "at+jwt"
JTI_BYTES = 16  # 128 random bits: unique without coordination (RFC 7519 §4.1.7)
# Issuer and resource servers keep NTP time; 30 s absorbs drift, well inside the 60 s cap.
VERIFY_LEEWAY_SECONDS = 30


@dataclass(frozen=True)
class AccessTokenPolicy:
    """The slice of the settings access tokens need."""

    issuer: str
    alg: str
    ttl_seconds: int
    default_audience: str


@dataclass(frozen=True)
class AccessTokenClaims:
    """The claims of an access token (RFC 9068 §2.2), typed."""

    issuer: str
    subject: str
    audience: tuple[str, ...]
    client_id: str
    scope: tuple[str, ...]
    jti: str
    issued_at: int
    expires_at: int
    auth_time: int | None = None
    grant_id: str | None = None

    def as_jwt_claims(self) -> dict[str, Any]:
        claims: dict[str, Any] = {
            "iss": self.issuer,
            "sub": self.subject,
            # RFC 7519 §4.1.3: a single audience may be a plain string.
            "aud": self.audience[0] if len(self.audience) == 1 else list(self.audience),
            "exp": self.expires_at,
            "iat": self.issued_at,
            "jti": self.jti,
            "client_id": self.client_id,
        }
        if self.scope:
            claims["scope"] = " ".join(self.scope)  # RFC 9068 §2.2.3, RFC 8693 §4.2
        if self.auth_time is not None:
            claims["auth_time"] = self.auth_time  # RFC 9068 §2.2.1
        if self.grant_id is not None:
            claims["gid"] = self.grant_id
        return claims


@dataclass(frozen=True)
class IssuedAccessToken:
    token: str
    claims: AccessTokenClaims

    @property
    def expires_in(self) -> int:
        """For the token response (RFC 6749 §5.1)."""
        return self.claims.expires_at - self.claims.issued_at


class AccessTokens:
    def __init__(self, keys: KeySource, policy: AccessTokenPolicy, clock: Clock) -> None:
        self._keys = keys
        self.policy = policy
        self._clock = clock

    async def issue(
        self,
        *,
        subject: str,
        client_id: str,
        scope: Sequence[str],
        audience: str | Sequence[str] | None = None,
        auth_time: float | None = None,
        grant_id: str | None = None,
    ) -> IssuedAccessToken:
        """A signed access token; `audience` None means the configured default."""
        now = int(self._clock.now())
        claims = AccessTokenClaims(
            issuer=self.policy.issuer,
            subject=_identifier("subject", subject),
            audience=_audiences(audience or self.policy.default_audience),
            client_id=_identifier("client_id", client_id),
            scope=_scopes(scope),
            jti=secrets.token_urlsafe(JTI_BYTES),
            issued_at=now,
            expires_at=now + self.policy.ttl_seconds,
            auth_time=None if auth_time is None else int(auth_time),
            grant_id=None if grant_id is None else _identifier("grant_id", grant_id),
        )
        key = await self._keys.signing_key(self.policy.alg)
        return IssuedAccessToken(await sign_jwt(claims.as_jwt_claims(), key, TYP), claims)

    async def verify(self, token: str | bytes, *, audience: str | None = None) -> AccessTokenClaims:
        """The claims if `token` is an access token from this issuer for `audience` (default:
        the configured one); otherwise InvalidToken. RFC 9068 §4 lists the checks."""
        raw = jwt.verify(
            token,
            await self._keys.verification_keys(),
            issuer=self.policy.issuer,
            audience=audience or self.policy.default_audience,
            typ=TYP,
            now=self._clock.now(),
            leeway=VERIFY_LEEWAY_SECONDS,
        )
        return _parse(raw)

    async def read(self, token: str | bytes, *, allow_expired: bool = False) -> AccessTokenClaims:
        """The claims if `token` is an access token this issuer signed, whatever its
        audience: for the authorization server's own endpoints (revocation, RFC 7009;
        introspection, RFC 7662), which answer for every audience. Never for a resource
        server, which must check that the token is meant for it (`verify`)."""
        raw = jwt.verify(
            token,
            await self._keys.verification_keys(),
            issuer=self.policy.issuer,
            audience=None,
            typ=TYP,
            now=self._clock.now(),
            leeway=VERIFY_LEEWAY_SECONDS,
            allow_expired=allow_expired,
        )
        return _parse(raw)


def _parse(raw: Mapping[str, Any]) -> AccessTokenClaims:
    """Typed claims; RFC 9068 §2.2 makes iss exp aud sub client_id iat jti REQUIRED."""
    aud, scope, auth_time = raw["aud"], raw.get("scope", ""), raw.get("auth_time")
    grant_id = raw.get("gid")
    strings = [raw.get(name) for name in ("iss", "sub", "client_id", "jti")]
    if not all(isinstance(value, str) and value for value in strings):
        raise InvalidToken("a required claim is missing or not a string")
    if not isinstance(scope, str) or not _is_time(auth_time, optional=True):
        raise InvalidToken("scope or auth_time malformed")
    if grant_id is not None and not (isinstance(grant_id, str) and grant_id):
        raise InvalidToken("gid malformed")
    return AccessTokenClaims(
        issuer=raw["iss"],
        subject=raw["sub"],
        audience=(aud,) if isinstance(aud, str) else tuple(aud),
        client_id=raw["client_id"],
        scope=tuple(scope.split()),
        jti=raw["jti"],
        issued_at=int(raw["iat"]),
        expires_at=int(raw["exp"]),
        auth_time=None if auth_time is None else int(auth_time),
        grant_id=grant_id,
    )


def _is_time(value: Any, *, optional: bool = False) -> bool:
    if value is None:
        return optional
    return isinstance(value, int | float) and not isinstance(value, bool)


def _identifier(name: str, value: str) -> str:
    # str.split() cuts at every character str.isspace() names: one piece, the value
    # itself, means non-empty and no white space anywhere.
    if value.split() != [value]:
        raise ValueError(f"{name} must be a non-empty string without white space")
    return value


def _audiences(audience: str | Sequence[str]) -> tuple[str, ...]:
    values = (audience,) if isinstance(audience, str) else tuple(dict.fromkeys(audience))
    if not values:
        raise ValueError("an access token needs an audience")
    return tuple(_identifier("audience", value) for value in values)


def _scopes(scope: Sequence[str]) -> tuple[str, ...]:
    if isinstance(scope, str):  # a common slip: "openid profile" as one string
        raise TypeError("scope is a sequence of scope tokens, not a string")
    return tuple(_identifier("scope", value) for value in dict.fromkeys(scope))
