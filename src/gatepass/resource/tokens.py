"""Verifying JWT access tokens (RFC 9068) at a resource server, with no I/O per request.

    verify(token)
      ├─ seen before, before its exp? ─► the same VerifiedToken (a dict lookup)
      └─ otherwise ─► Reader.open           in one frame: shape, header (alg, kid, typ
                                            at+jwt, no crit/jku/...), the published key of
                                            that kid if the JWKS cache holds it fresh, the
                                            key's own alg, the signature, a JSON object
                      (no key at hand)      read, jwks.key (a stale set refreshed behind
                                            it; an unknown kid refetched, rate-limited),
                                            verified_payload: the same checks, two steps
                      claims                iss, aud, exp, nbf, iat (leeway <= 60 s), sub,
                                            client_id, jti (RFC 9068 §4), scope, gid
      then, every time, cached or not ─► revocations: a RevocationSet `vouches` for the token
                                         (a few dict lookups; for a cached token, nothing if
                                         the set's generation is the one that vouched), or
                                         its `check` decides; another RevocationCheck:
                                         `kills`? ─► TokenRejected (a RevocationSet whose feed
                                         is lost: FeedUnavailable, unless its fallback vouches
                                         for the token)

The cache is keyed by the whole token string, holds only tokens that passed every check,
is bounded (least recently used leaves first) and never serves a token past its `exp`:
after that the full check runs again, leeway included, and refuses it soon after. It
forgets every token of a key the issuer stops publishing. Revocation is not cached, but
for what cannot change: a RevocationSet's `generation` moves with every event, loss or
catch-up of its feed, and a token it vouched for is asked again once it has moved, so a
token revoked a moment ago is refused on its next use (docs/revocation.md).
"""

import math
import time
from collections import OrderedDict
from collections.abc import Callable, Iterable, Mapping
from operator import itemgetter
from types import MappingProxyType, TracebackType
from typing import Any, Final, NamedTuple, Protocol, Self, TypeGuard

import httpx

from gatepass.clock import Clock, SystemClock
from gatepass.resource.errors import FeedUnavailable, ScopeMissing, TokenRejected
from gatepass.resource.fast_jws import KeyOf, Reader, VerifyingKey, verified_payload
from gatepass.resource.jwks import MIN_REFETCH_INTERVAL_SECONDS, JwksCache
from gatepass.resource.revocations import RevocationSet, Verdict
from gatepass.tokens.revocation_event import TokenFacts

TYP: Final = "at+jwt"  # RFC 9068 §2.1
MAX_LEEWAY_SECONDS: Final = 60
DEFAULT_LEEWAY_SECONDS: Final = 30
DEFAULT_CACHE_SIZE: Final = 10_000
_SCOPE_CACHE_SIZE: Final = 256
_NO_KEY: Final[KeyOf] = dict[str, VerifyingKey]().get  # a stale set holds no key at hand
# RFC 9068 §2.2's required claims (client_id included), fetched in one call.
_REQUIRED: Final = itemgetter("iss", "aud", "exp", "iat", "sub", "client_id", "jti")

# (jti, sub, iat, gid, sid, now) -> True if no revocation can touch the token: as
# RevocationSet.vouches; False sends the token to the full check.
Vouches = Callable[[str, str, float, str | None, str | None, float], bool]


class RevocationCheck(Protocol):
    """What the verifier asks of a revocation set: revocations.py's RevocationSet, or any
    object with the same synchronous `kills`."""

    def kills(self, facts: TokenFacts, now: float) -> bool:
        """Whether a known revocation makes the token with these facts unacceptable."""
        ...


class VerifiedToken(NamedTuple):
    """An access token that passed every check: immutable, and shared by every request
    that presents the same token (its claims are a read-only view). A NamedTuple rather
    than a dataclass because one is built per token verified: a tenth of the cost."""

    token_claims: Mapping[str, Any]
    subject: str
    client_id: str
    scopes: frozenset[str]
    audience: tuple[str, ...]
    expires_at: float
    issued_at: float
    jti: str
    grant_id: str | None

    def has_scope(self, scope: str) -> bool:
        return scope in self.scopes

    def require_scope(self, *scopes: str) -> None:
        """ScopeMissing (403 insufficient_scope) unless every one of `scopes` was granted."""
        if not scopes:
            raise TypeError("name at least one scope")
        if not self.scopes.issuperset(scopes):
            raise ScopeMissing(*scopes)


# A cache entry: (serve until, the result, its sid, the vouching generation or -1).
_Entry = tuple[float, VerifiedToken, str | None, int]


class TokenVerifier:
    """Verifies one issuer's access tokens for one resource server (one or more audiences).

    `async with TokenVerifier(...)` (or `await start()` / `await aclose()`) fetches the
    keys before the first request; without it the first `verify` does.
    """

    def __init__(
        self,
        issuer: str,
        audience: str | Iterable[str],
        *,
        leeway: int = DEFAULT_LEEWAY_SECONDS,
        cache_size: int = DEFAULT_CACHE_SIZE,
        http: httpx.AsyncClient | None = None,
        jwks: JwksCache | None = None,
        revocations: RevocationCheck | None = None,
        clock: Clock | None = None,
        min_refetch_interval: float = MIN_REFETCH_INTERVAL_SECONDS,
    ) -> None:
        if not isinstance(leeway, int) or not 0 <= leeway <= MAX_LEEWAY_SECONDS:
            raise ValueError(f"leeway is 0 to {MAX_LEEWAY_SECONDS} seconds")  # SECURITY.md
        if cache_size < 0:
            raise ValueError("cache_size is 0 (no cache) or more")
        audiences = frozenset([audience] if isinstance(audience, str) else audience)
        if not audiences or not all(isinstance(a, str) and a for a in audiences):
            raise ValueError("audience: this resource server's identifier(s)")
        if jwks is not None and jwks.issuer != issuer:
            raise ValueError("the JWKS cache belongs to another issuer")
        self.issuer = issuer
        self.audiences = audiences
        self.leeway = leeway
        self._clock = clock or SystemClock()
        # SystemClock.now is time.time behind a Python frame: a tenth of a cached verify.
        self._now = time.time if type(self._clock) is SystemClock else self._clock.now
        self._owns_jwks = jwks is None
        self._jwks = jwks or JwksCache(
            issuer, http=http, clock=self._clock, min_refetch_interval=min_refetch_interval
        )
        self._jwks.on_keys_dropped(self._forget_keys)
        self._revocations = revocations
        self._vouches = _vouches_of(revocations)
        # A RevocationSet tells by its generation whether it changed since it vouched.
        self._revset = revocations if isinstance(revocations, RevocationSet) else None
        self._reader = Reader(TYP)
        self._open = self._reader.open  # bound once
        self._cache_size = cache_size
        # token -> (serve from the cache until, the result, its `sid` for revocation checks,
        # the RevocationSet's generation when it vouched for the token, else -1)
        self._cache: OrderedDict[str, _Entry] = OrderedDict()
        self._scopes: dict[str, frozenset[str]] = {}  # scope claim -> its scopes (they repeat)

    @property
    def jwks(self) -> JwksCache:
        """The issuer's keys this verifier uses."""
        return self._jwks

    async def start(self) -> None:
        """Fetch the issuer's keys now; IssuerUnavailable if none can be had."""
        await self._jwks.start()

    async def aclose(self) -> None:
        if self._owns_jwks:
            await self._jwks.aclose()

    async def __aenter__(self) -> Self:
        await self.start()
        return self

    async def __aexit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self.aclose()

    async def verify(self, token: str) -> VerifiedToken:
        """The verified token, or TokenRejected (FeedUnavailable / IssuerUnavailable when it
        cannot be decided now)."""
        # One flat function: this runs per request, and every call and object counts.
        now = self._now()
        if type(token) is not str:
            raise TokenRejected("not a string")
        vouches, revset = self._vouches, self._revset
        hit = self._cache.get(token)
        if hit is not None and now < hit[0]:
            self._cache.move_to_end(token)
            # Nothing to ask, or a RevocationSet unchanged since it vouched for the token.
            if vouches is None or (revset is not None and hit[3] == revset.generation):
                return hit[1]
            verified, sid = hit[1], hit[2]
        else:
            # The published key at hand (the usual case): one frame from token to claims.
            # JwksCache.cached(kid, now), without its frame: 0.4 µs of an uncached verify.
            jwks = self._jwks
            claims = self._open(token, jwks.by_kid.get if now < jwks.fresh_until else _NO_KEY)
            if claims is None:  # the kid's key is not at hand: fetched, or none
                claims = await self._fetched_and_verified(token)
            verified = self._checked(claims, now)
            sid = None
            if vouches is not None:  # the login session behind the token, if named
                sid = claims.get("sid")
                if type(sid) is not str or not sid:
                    sid = None
        generation = -1
        if vouches is not None:
            jti, sub, gid = verified.jti, verified.subject, verified.grant_id
            if not vouches(jti, sub, verified.issued_at, gid, sid, now):
                facts = TokenFacts(jti, sub, verified.issued_at, gid, sid)
                await self._second_opinion(token, facts, now)  # raises unless it passes
            elif revset is not None:
                generation = revset.generation
        if self._cache_size:
            # Served from the cache until exp, never after: past it, the full check.
            cache = self._cache
            cache[token] = (verified.expires_at, verified, sid, generation)
            if len(cache) > self._cache_size:
                cache.popitem(last=False)
        return verified

    async def _fetched_and_verified(self, token: str) -> dict[str, Any]:
        """The payload of `token`, whose key the JWKS cache does not hold fresh: a known key
        (the set refreshed behind it), or one refetch for an unknown kid (rate-limited)."""
        signed = self._reader.read(token)
        key = await self._jwks.key(signed.kid)
        if key is None:
            raise TokenRejected(f"unknown kid {signed.kid[:64]!r}")
        return verified_payload(signed, key)

    async def _second_opinion(self, token: str, facts: TokenFacts, now: float) -> None:
        """The revocations could not vouch for the token. A RevocationSet tells revoked
        from cannot-vouch (its feed is lost: 503, fail closed), and may ask its fallback
        about the latter; returns only if the token is acceptable after all."""
        revocations = self._revocations
        if isinstance(revocations, RevocationSet):
            verdict = await revocations.check(facts, now, token)
            if verdict is Verdict.ACCEPT:
                return
            if verdict is Verdict.FEED_UNAVAILABLE:
                raise FeedUnavailable("the revocation feed cannot vouch for this token")
        raise TokenRejected("revoked")

    def _checked(self, claims: dict[str, Any], now: float) -> VerifiedToken:
        """RFC 9068 §4 and RFC 7519 §4.1: the claims a resource server must check."""
        try:
            iss, aud, exp, iat, sub, client_id, jti = _REQUIRED(claims)
        except KeyError:  # RFC 9068 §2.2: each one REQUIRED
            raise TokenRejected("a required claim is missing") from None
        get, leeway = claims.get, self.leeway
        nbf, scope, gid = get("nbf"), get("scope", ""), get("gid")
        # NumericDate (RFC 7519 §2): a finite JSON number; a boolean is none. (_is_time,
        # inline for the usual int.)
        if not (type(exp) is int or _is_time(exp)) or not (type(iat) is int or _is_time(iat)):
            raise TokenRejected("exp and iat are required numbers")
        if now >= exp + leeway:
            raise TokenRejected("expired")
        if iat > now + leeway:
            raise TokenRejected("issued in the future")
        if nbf is not None and not (_is_time(nbf) and nbf <= now + leeway):
            raise TokenRejected("not yet valid")
        if iss != self.issuer:
            raise TokenRejected("wrong issuer")
        # RFC 7519 §4.1.3: one string, or an array of strings. R24: refuse tokens meant
        # elsewhere.
        if type(aud) is str:
            if aud not in self.audiences:
                raise TokenRejected("not for this audience")
            audience: tuple[str, ...] = (aud,)
        else:
            audience = _audience_list(aud)
            if self.audiences.isdisjoint(audience):
                raise TokenRejected("not for this audience")
        if not (type(sub) is str and type(client_id) is str and type(jti) is str):
            raise TokenRejected("sub, client_id and jti are required strings")
        if not (sub and client_id and jti):
            raise TokenRejected("sub, client_id and jti are required strings")
        if type(scope) is not str or not (gid is None or (type(gid) is str and gid)):
            raise TokenRejected("scope or gid malformed")
        scopes = self._scopes.get(scope) or self._scopes_of(scope)
        fields = (MappingProxyType(claims), sub, client_id, scopes, audience, exp, iat, jti, gid)
        return tuple.__new__(VerifiedToken, fields)  # VerifiedToken(*fields), a frame less

    def _scopes_of(self, scope: str) -> frozenset[str]:
        scopes = frozenset(scope.split())
        if len(self._scopes) >= _SCOPE_CACHE_SIZE:
            self._scopes.clear()  # a flood of distinct scopes costs splitting, not memory
        self._scopes[scope] = scopes
        return scopes

    def _forget_keys(self, kids: frozenset[str]) -> None:
        """The issuer stopped publishing (or changed) these keys: tokens they verified go."""
        del kids  # the cache does not record which key verified what: forget everything
        self._cache.clear()


def _is_time(value: Any) -> TypeGuard[float]:
    kind = type(value)
    return kind is int or (kind is float and math.isfinite(value))


def _vouches_of(revocations: RevocationCheck | None) -> Vouches | None:
    """A RevocationSet's own `vouches`; for another RevocationCheck, `not kills`."""
    if revocations is None:
        return None
    if isinstance(revocations, RevocationSet):
        return revocations.vouches
    kills = revocations.kills

    def vouches(
        jti: str, sub: str, iat: float, gid: str | None, sid: str | None, now: float
    ) -> bool:
        return not kills(TokenFacts(jti, sub, iat, gid, sid), now)

    return vouches


def _is_name(value: Any) -> TypeGuard[str]:
    return type(value) is str and value != ""


def _audience_list(aud: Any) -> tuple[str, ...]:
    if type(aud) is list and aud and all(_is_name(a) for a in aud):
        return tuple(aud)
    raise TokenRejected("aud missing or malformed")
