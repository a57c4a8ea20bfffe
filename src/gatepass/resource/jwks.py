"""The issuer's signing keys: discovered, fetched, cached as `Cache-Control` says.

    start()  GET {issuer}/.well-known/openid-configuration   (OIDC Discovery §4)
               issuer must be exactly ours (§4.3, R28); jwks_uri https if the issuer is
             GET {jwks_uri}                                   (RFC 7517 §5)
               each key pinned to its own `alg`: RS256, ES256 or EdDSA; others skipped
               cached for max-age (less Age), within [min_refetch_interval, 1 day]

    key(kid) the cached key; once the cache has expired, still the key it holds, while a
             refetch runs in the background (stale-while-revalidate: no request waits
             for a routine refresh). An unknown `kid` (a rotated-in key: OIDC Core
             §10.1.1) waits for one refetch. Every fetch is at most one per
             `min_refetch_interval`: a flood of tokens with invented kids costs the
             issuer one request per interval, not one per token.

A failed refetch keeps the keys already known (a brief outage of the issuer does not
stop every API), and is retried after the interval. A key dropped from the set is
reported to `on_keys_dropped`, so the verifier forgets the tokens it verified with it.

Keys are read from JWKs with joserfc (its checks on the key material), then held as
`cryptography` objects (fast_jws.py) for the rest of their life.
"""

import asyncio
import json
import logging
from collections.abc import Callable, Mapping
from typing import Any, Final

import httpx
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from joserfc.errors import JoseError
from joserfc.jwk import ECKey, OKPKey, RSAKey

from gatepass.clock import Clock, SystemClock
from gatepass.resource.errors import IssuerUnavailable
from gatepass.resource.fast_jws import EdDSAKey, ES256Key, RS256Key, VerifyingKey

log = logging.getLogger(__name__)

DISCOVERY_PATH: Final = "/.well-known/openid-configuration"
MIN_REFETCH_INTERVAL_SECONDS: Final = 10.0
DEFAULT_MAX_AGE_SECONDS: Final = 300.0  # when the issuer says nothing about caching
MAX_CACHE_SECONDS: Final = 86_400.0  # however long the issuer allows
MAX_DOCUMENT_BYTES: Final = 64 * 1024  # gatepass's JWKS is under 4 KB
MAX_KEYS: Final = 64
TIMEOUT_SECONDS: Final = 5.0
MIN_RSA_BITS: Final = 2048  # RFC 7518 §3.3: a key of size 2048 bits or larger MUST be used
PRIVATE_MEMBERS: Final = frozenset({"d", "p", "q", "dp", "dq", "qi", "oth", "k"})


class UnusableKey(ValueError):
    """A JWK this toolkit will not verify with; the message says why."""


def import_jwk(jwk: Mapping[str, Any]) -> VerifyingKey:
    """A verifying key from a public JWK (RFC 7517 §4) that names its `kid` and `alg`."""
    kid, alg = jwk.get("kid"), jwk.get("alg")
    if not isinstance(kid, str) or not 0 < len(kid) <= 256:
        raise UnusableKey("no usable kid")
    # RFC 7517 §4.2 / §4.3: a key meant for something else than verifying signatures.
    if jwk.get("use", "sig") != "sig" or "verify" not in jwk.get("key_ops", ["verify"]):
        raise UnusableKey(f"key {kid} is not for verifying signatures")
    if not PRIVATE_MEMBERS.isdisjoint(jwk):
        raise UnusableKey(f"key {kid} has private members: it must not be published")
    members = {name: jwk.get(name) for name in ("kty", "crv", "n", "e", "x", "y") if name in jwk}
    try:
        return _pinned(kid, alg, members)
    except (JoseError, ValueError, TypeError) as exc:
        raise UnusableKey(f"key {kid}: {exc}") from None


def _pinned(kid: str, alg: Any, members: dict[str, Any]) -> VerifyingKey:
    kty, crv = members.get("kty"), members.get("crv")
    if alg == "RS256" and kty == "RSA":
        rsa_key = RSAKey.import_key(members).public_key
        if not isinstance(rsa_key, rsa.RSAPublicKey) or rsa_key.key_size < MIN_RSA_BITS:
            raise UnusableKey("an RS256 key of at least 2048 bits")
        return RS256Key(kid, rsa_key)
    if alg == "ES256" and kty == "EC" and crv == "P-256":
        ec_key = ECKey.import_key(members).public_key
        if not isinstance(ec_key, ec.EllipticCurvePublicKey):
            raise UnusableKey("not an EC public key")
        return ES256Key(kid, ec_key)
    if alg == "EdDSA" and kty == "OKP" and crv == "Ed25519":
        ed_key = OKPKey.import_key(members).public_key
        if not isinstance(ed_key, Ed25519PublicKey):
            raise UnusableKey("not an Ed25519 public key")
        return EdDSAKey(kid, ed_key)
    raise UnusableKey(f"alg {str(alg)[:20]!r} with kty {str(kty)[:10]!r} is not accepted")


def keys_of(document: Any) -> dict[str, VerifyingKey]:
    """The usable keys of a JWK Set by kid; unusable ones are skipped (and logged), and a
    kid that names two keys names neither."""
    found = document.get("keys") if isinstance(document, dict) else None
    if not isinstance(found, list):
        raise IssuerUnavailable("the JWKS has no keys array")
    keys: dict[str, VerifyingKey] = {}
    ambiguous: set[str] = set()
    for jwk in found[:MAX_KEYS]:
        try:
            key = import_jwk(jwk if isinstance(jwk, dict) else {})
        except UnusableKey as exc:
            log.warning("JWKS key skipped: %s", exc)
            continue
        if key.kid in keys:
            ambiguous.add(key.kid)
        keys[key.kid] = key
    for kid in ambiguous:
        log.warning("JWKS kid %r names several keys: none is used", kid)
        del keys[kid]
    return keys


def cache_lifetime(headers: Mapping[str, str], *, floor: float) -> float:
    """Seconds a response may be reused (RFC 9111 §4.2.1): `max-age` less `Age`;
    `no-cache` / `no-store` mean as little as allowed; within [floor, 1 day]."""
    directives = [d.strip().lower() for d in headers.get("cache-control", "").split(",")]
    lifetime = DEFAULT_MAX_AGE_SECONDS
    for directive in directives:
        name, _, value = directive.partition("=")
        if name in ("no-cache", "no-store"):
            return floor
        if name == "max-age" and value.strip('"').isdigit():
            lifetime = float(value.strip('"')[:10])
    age = headers.get("age", "").strip()
    if age.isdigit():
        lifetime -= float(age[:10])
    return min(max(lifetime, floor), MAX_CACHE_SECONDS)


class JwksCache:
    """One issuer's published keys, kept fresh; shareable by several verifiers."""

    def __init__(
        self,
        issuer: str,
        *,
        http: httpx.AsyncClient | None = None,
        clock: Clock | None = None,
        min_refetch_interval: float = MIN_REFETCH_INTERVAL_SECONDS,
        jwks_uri: str | None = None,
    ) -> None:
        if min_refetch_interval <= 0:
            raise ValueError("min_refetch_interval must be positive")
        self.issuer = issuer
        self.jwks_uri = jwks_uri
        self.min_refetch_interval = min_refetch_interval
        self._owns_http = http is None
        self._http = http or httpx.AsyncClient(
            timeout=TIMEOUT_SECONDS, follow_redirects=False, trust_env=False
        )
        self._clock = clock or SystemClock()
        # Read by the verifier per token, without a call (tokens.py): the keys by kid, a
        # dict replaced whole by each fetch and never changed in place, and until when
        # it is fresh. Written only here.
        self.by_kid: dict[str, VerifyingKey] = {}
        self.fresh_until = float("-inf")
        self._fetched_at: float | None = None
        self._lock = asyncio.Lock()
        self._listeners: list[Callable[[frozenset[str]], None]] = []
        self._refreshing: asyncio.Task[None] | None = None

    @property
    def kids(self) -> frozenset[str]:
        """The kids of the keys held now."""
        return frozenset(self.by_kid)

    def on_keys_dropped(self, listener: Callable[[frozenset[str]], None]) -> None:
        """Call `listener(kids)` whenever a refetch drops (or changes) keys."""
        self._listeners.append(listener)

    async def start(self) -> None:
        """Discover the JWKS and fetch it; IssuerUnavailable if no key can be had."""
        async with self._lock:
            if not self.by_kid:
                await self._fetch(self._clock.now())
            if not self.by_kid:
                raise IssuerUnavailable("the issuer publishes no usable key")

    async def aclose(self) -> None:
        if self._refreshing is not None:
            self._refreshing.cancel()
            await asyncio.gather(self._refreshing, return_exceptions=True)
        if self._owns_http:
            await self._http.aclose()

    async def settle(self) -> None:
        """Wait for a background refresh in flight, if any (for tests and shutdown)."""
        if self._refreshing is not None:
            await asyncio.gather(self._refreshing, return_exceptions=True)

    def cached(self, kid: str, now: float) -> VerifyingKey | None:
        """The key for `kid` if the cache is fresh and holds it: no I/O, no waiting."""
        if now < self.fresh_until:
            return self.by_kid.get(kid)
        return None

    async def key(self, kid: str) -> VerifyingKey | None:
        """The key for `kid`. A known key is returned at once, the set refreshed behind it
        if stale (no request waits for a routine refresh, nor for an issuer that is slow
        or down); an unknown kid waits for one refetch (rate-limited, shared)."""
        known = self.by_kid.get(kid)
        if known is not None:
            self._refresh_behind(self._clock.now())
            return known
        async with self._lock:  # concurrent misses share one fetch
            now = self._clock.now()
            if kid not in self.by_kid and self._may_fetch(now):
                await self._try_fetch(now)
            if not self.by_kid:  # never had any: the issuer is unreachable, not the token bad
                raise IssuerUnavailable("no keys from the issuer yet")
            return self.by_kid.get(kid)

    def _refresh_behind(self, now: float) -> None:
        busy = self._refreshing is not None and not self._refreshing.done()
        if now >= self.fresh_until and not busy and self._may_fetch(now):
            self._refreshing = asyncio.create_task(self._refresh())

    async def _refresh(self) -> None:
        async with self._lock:
            now = self._clock.now()
            if now >= self.fresh_until and self._may_fetch(now):
                await self._try_fetch(now)

    async def _try_fetch(self, now: float) -> None:
        try:
            await self._fetch(now)
        except IssuerUnavailable as exc:
            log.warning("JWKS refetch failed, keeping %d keys: %s", len(self.by_kid), exc)

    def _may_fetch(self, now: float) -> bool:
        if self._fetched_at is None:
            return True
        since = now - self._fetched_at
        return since < 0 or since >= self.min_refetch_interval  # < 0: the clock went back

    async def _fetch(self, now: float) -> None:
        self._fetched_at = now
        if self.jwks_uri is None:
            self.jwks_uri = await self._discover()
        document, headers = await self._get_json(self.jwks_uri)
        keys = keys_of(document)
        dropped = frozenset(kid for kid, old in self.by_kid.items() if keys.get(kid) != old)
        self.by_kid = keys
        self.fresh_until = now + cache_lifetime(headers, floor=self.min_refetch_interval)
        if dropped:
            for listener in self._listeners:
                listener(dropped)

    async def _discover(self) -> str:
        metadata, _ = await self._get_json(self.issuer.rstrip("/") + DISCOVERY_PATH)
        if not isinstance(metadata, dict) or metadata.get("issuer") != self.issuer:
            # OIDC Discovery §4.3: the issuer MUST be identical, or the document is not its.
            raise IssuerUnavailable("the metadata names another issuer")
        uri = metadata.get("jwks_uri")
        secure = not self.issuer.startswith("https://") or str(uri).startswith("https://")
        if not isinstance(uri, str) or not uri.startswith(("https://", "http://")) or not secure:
            raise IssuerUnavailable("the metadata has no usable jwks_uri")
        return uri

    async def _get_json(self, url: str) -> tuple[Any, httpx.Headers]:
        try:
            async with self._http.stream(
                "GET", url, headers={"Accept": "application/json"}
            ) as response:
                if response.status_code != 200:
                    raise IssuerUnavailable(f"{url} answered {response.status_code}")
                body = bytearray()
                async for chunk in response.aiter_bytes():
                    body += chunk
                    if len(body) > MAX_DOCUMENT_BYTES:
                        raise IssuerUnavailable(f"{url} sent more than {MAX_DOCUMENT_BYTES} bytes")
                headers = response.headers
        except httpx.HTTPError as exc:
            raise IssuerUnavailable(f"{url}: {type(exc).__name__}") from None
        try:
            return json.loads(bytes(body)), headers
        except (ValueError, RecursionError):
            raise IssuerUnavailable(f"{url} sent no JSON") from None
