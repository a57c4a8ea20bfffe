"""The resource toolkit's `TokenVerifier.verify` per algorithm, beside a raw `cryptography`
signature check of the same bytes and PyJWT's decode of the same tokens.

Tokens: real gatepass access tokens, issued by `AccessTokens` over the live server's own
key ring (same database, same master key), for the server's issuer and default audience.
Keys: every verifier fetches them as a deployment does, from the running `gatepass serve`
(discovery, then /jwks.json), and the baselines are handed the very `cryptography` public
key the verifier fetched. Six cases per algorithm, interleaved (workload.interleaved):

    raw        key.verify(signature, signing input)   the signature alone: ES256's R || S
                                                      converted to DER beforehand
    PyJWT      decode_complete, the key handed in,    alg pinned; iss, aud, exp, iat and the
               typ compared by hand                   RFC 9068 claims required; same leeway
    uncached   verify(token), each token new to the   the full check: shape, header, kid,
               verifier (a cache of 1, 64 tokens)     signature, payload, claims
    cached     verify(token), the same tokens again   a dictionary lookup
    (+ set)    both again with a RevocationSet that a live RedisRevocationFeed keeps current

Each call of an operation verifies BATCH distinct tokens in a loop, so the harness's own
cost per call (a coroutine, two clock reads) is spread over 64 verifications: a cached
verify costs about a microsecond, the same as the harness.
"""

import base64
import logging
import time
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import replace
from typing import Any

import httpx
import jwt as pyjwt
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec, padding
from cryptography.hazmat.primitives.asymmetric.utils import encode_dss_signature

from gatepass.benchmarks.environment import BenchError
from gatepass.benchmarks.server import Server
from gatepass.benchmarks.tokens import REQUIRED, Grant, Timing
from gatepass.benchmarks.workload import Operation, Throughput, interleaved
from gatepass.clock import SystemClock
from gatepass.config import Settings
from gatepass.crypto.keys import ALGORITHMS
from gatepass.keys.ring import KeyRing
from gatepass.resource import (
    JwksCache,
    RedisRevocationFeed,
    RevocationSet,
    TokenVerifier,
)
from gatepass.tokens.access_tokens import TYP
from gatepass.web.app import build_access_tokens

BATCH = 64  # distinct tokens, verified in turn by every call of an operation
CASES = ("raw", "pyjwt", "uncached", "uncached_set", "cached", "cached_set")
SCOPES = ("orders:read",)
FEED_READY_SECONDS = 10.0
# Goals (issue 5): uncached >= these shares of the raw rate, >= 1.5x PyJWT, cached >= 20x raw.
UNCACHED_OF_RAW = {"ES256": 0.90, "RS256": 0.75}
UNCACHED_OVER_PYJWT = 1.5
CACHED_OVER_RAW = 20.0

Check = Callable[[bytes, bytes], None]  # (signature as the library takes it, data); raises


def _raw_check(alg: str, public: Any) -> tuple[Check, Callable[[bytes], bytes]]:
    """The library call alone, and how a JWS signature becomes what it takes."""
    if alg == "RS256":
        pkcs1, sha256 = padding.PKCS1v15(), hashes.SHA256()
        return lambda sig, data: public.verify(sig, data, pkcs1, sha256), lambda sig: sig
    if alg == "ES256":
        ecdsa = ec.ECDSA(hashes.SHA256())

        def der(sig: bytes) -> bytes:  # RFC 7518 §3.4: R || S, 32 bytes each
            return encode_dss_signature(
                int.from_bytes(sig[:32], "big"), int.from_bytes(sig[32:], "big")
            )

        return lambda sig, data: public.verify(sig, data, ecdsa), der
    return lambda sig, data: public.verify(sig, data), lambda sig: sig


def _unbase64url(segment: bytes) -> bytes:
    return base64.urlsafe_b64decode(segment + b"=" * (-len(segment) % 4))


def _raw(alg: str, public: Any, tokens: list[str]) -> Operation:
    check, convert = _raw_check(alg, public)
    items = []
    for token in tokens:
        signing_input, _, signature = token.encode().rpartition(b".")
        items.append((convert(_unbase64url(signature)), signing_input))

    async def verify(i: int) -> bool:
        for signature, signing_input in items:
            check(signature, signing_input)  # InvalidSignature: counted as an error
        return True

    return verify


def _pyjwt(
    alg: str, public: Any, verifier: TokenVerifier, pairs: list[tuple[str, str]]
) -> Operation:
    """PyJWT with what `verifier` checks: its issuer, audience and leeway."""
    issuer, audience, leeway = verifier.issuer, sorted(verifier.audiences)[0], verifier.leeway
    decoder, algorithms = pyjwt.PyJWT(), [alg]
    options: Any = {"require": REQUIRED}

    async def verify(i: int) -> bool:
        for token, jti in pairs:
            decoded = decoder.decode_complete(
                token,
                public,
                algorithms,
                options=options,
                audience=audience,
                issuer=issuer,
                leeway=leeway,
            )
            if decoded["header"].get("typ") != TYP or decoded["payload"]["jti"] != jti:
                return False
        return True

    return verify


def _ours(verifier: TokenVerifier, pairs: list[tuple[str, str]]) -> Operation:
    async def verify(i: int) -> bool:
        check = verifier.verify
        for token, jti in pairs:
            if (await check(token)).jti != jti:
                return False
        return True

    return verify


@asynccontextmanager
async def _quiet_close(feed: RedisRevocationFeed) -> AsyncIterator[RedisRevocationFeed]:
    """The feed, running; closing it tells its set the feed is lost, which the set logs as
    a warning: expected here, so not printed among the progress lines."""
    async with feed:
        try:
            yield feed
        finally:
            quiet = logging.getLogger("gatepass.resource.revocations")
            level, quiet.level = quiet.level, logging.ERROR
            try:
                await feed.aclose()
            finally:
                quiet.setLevel(level)


def _per_verification(t: Throughput) -> dict[str, Any]:
    """A batch's figures as one verification's: rate, CPU time, errors in batches."""
    return {
        "verifications_per_second": t.ops_per_second * BATCH,
        "cpu_us_per_verification": t.cpu_us_per_op / BATCH,
        "verifications": t.ops * BATCH,
        "failed_batches": t.errors,
        # A call verifies BATCH tokens in turn: its latency over BATCH, per verification.
        "p50_us": t.p50_ms * 1000 / BATCH,
        "p99_us": t.p99_ms * 1000 / BATCH,
        "seconds": t.seconds,
        "turns": t.turns,  # (batches, seconds) per turn: the ratio is the same in batches
    }


async def issued_tokens(settings: Settings, ring: KeyRing, alg: str) -> list[tuple[str, str]]:
    """BATCH access tokens of `alg` from the server's own key ring: (token, jti)."""
    clock = SystemClock()
    settings = replace(settings, access_token_alg=alg)
    tokens, grant = build_access_tokens(settings, ring, clock), Grant.new()
    pairs = []
    for _ in range(BATCH):
        issued = await tokens.issue(
            subject=grant.subject,
            client_id=grant.client_id,
            scope=SCOPES,
            auth_time=grant.auth_time,
            grant_id=grant.grant_id,
        )
        pairs.append((issued.token, issued.claims.jti))
    return pairs


async def _algorithm(
    alg: str,
    pairs: list[tuple[str, str]],
    verifiers: dict[str, TokenVerifier],
    jwks: JwksCache,
    timing: Timing,
) -> dict[str, Any]:
    kid = pyjwt.get_unverified_header(pairs[0][0])["kid"]
    key = jwks.cached(kid, time.time())
    if key is None or key.alg != alg:
        raise BenchError(f"the live server's JWKS has no {alg} key {kid!r}")
    public = key.public_key()  # the very object the verifiers fetched
    ops = [
        _raw(alg, public, [token for token, _ in pairs]),
        _pyjwt(alg, public, verifiers["cached"], pairs),
        *(_ours(verifiers[case], pairs) for case in CASES[2:]),
    ]
    run = await interleaved(
        ops,
        concurrency=1,
        items=1,
        seconds=timing.seconds,
        warmup=timing.warmup,
        slices=timing.slices,
    )
    index = {case: n for n, case in enumerate(CASES)}
    ratios = {
        f"{case}_over_{base}": run.paired_ratio(index[case], index[base])
        for case in CASES[2:]
        for base in ("raw", "pyjwt")
    }
    return {
        "cases": {case: _per_verification(t) for case, t in zip(CASES, run.results, strict=True)},
        "ratios": ratios,
        "token_bytes": len(pairs[0][0]),
        "kid": kid,
    }


async def verify_rates(
    settings: Settings,
    ring: KeyRing,
    server: Server,
    timing: Timing,
    progress: Callable[[str], None],
) -> dict[str, Any]:
    """Per algorithm: the six cases, their rates per verification and paired ratios.
    `settings` are the server's (its issuer), `ring` a started ring on its key store."""
    audience = settings.access_token_audience
    if settings.redis_url is None:
        raise BenchError("the revocation feed needs Redis")
    revocations = RevocationSet()
    feed = RedisRevocationFeed(settings.redis_url, revocations, settings.redis_prefix)
    async with httpx.AsyncClient(trust_env=False, timeout=5.0) as http, _quiet_close(feed):
        if not await feed.wait_ready(FEED_READY_SECONDS):
            raise BenchError("the revocation feed did not catch up from Redis")
        jwks = JwksCache(server.url, http=http)  # shared by the verifiers; http is ours
        await jwks.start()  # discovery and /jwks.json from the live server
        verifiers = {
            # A cache of one, 64 tokens in turn: every call misses, then remembers its
            # token, as a verifier with its cache on does for a token it sees first.
            "uncached": TokenVerifier(server.url, audience, jwks=jwks, cache_size=1),
            "uncached_set": TokenVerifier(
                server.url, audience, jwks=jwks, cache_size=1, revocations=revocations
            ),
            "cached": TokenVerifier(server.url, audience, jwks=jwks),
            "cached_set": TokenVerifier(server.url, audience, jwks=jwks, revocations=revocations),
        }
        results: dict[str, Any] = {}
        for alg in ALGORITHMS:
            progress(f"resource toolkit: TokenVerifier.verify, {alg}")
            pairs = await issued_tokens(settings, ring, alg)
            results[alg] = await _algorithm(alg, pairs, verifiers, jwks, timing)
        return {
            "algorithms": results,
            "batch": BATCH,
            "revocations_held": len(revocations),
            "jwks": f"{server.url}/jwks.json (fetched by the verifier, via discovery)",
        }
