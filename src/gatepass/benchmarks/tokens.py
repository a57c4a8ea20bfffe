"""Token rates per algorithm: gatepass's AccessTokens and IdTokens beside PyJWT and joserfc.

Every case signs or verifies with the same key, opened by a real KeyRing (keys created
by the ring, sealed under the run's master key, in a SQLite file of the run's own):

    issue   AccessTokens.issue          ours: claims, jti, key lookup, sign (RS256 in a thread)
            joserfc jwt.encode          the JOSE library gatepass is built on, called directly
            PyJWT jwt.encode            an independent library, same claims, same key
    verify  AccessTokens.verify         ours: kid lookup, pinned alg, typ, iss aud exp iat...
            joserfc decode + registry   the same checks with joserfc's own claims registry
            PyJWT decode_complete       the same checks with PyJWT's options, typ compared
    id      IdTokens.issue              nonce, sid and at_hash, as the code exchange issues it

The three cases of one question run interleaved (workload.interleaved), so the ratios
printed compare back-to-back turns on the same machine. One task (concurrency 1): a
signature is CPU work, and one process has one interpreter lock to do it with.
"""

import secrets
import time
import uuid
import warnings
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, replace
from importlib.metadata import version
from pathlib import Path
from typing import Any

import jwt as pyjwt
from joserfc import jwt as joserfc_jwt
from joserfc.errors import SecurityWarning

from gatepass.benchmarks.environment import master_key
from gatepass.benchmarks.workload import Operation, closed_loop, interleaved
from gatepass.clock import SystemClock
from gatepass.config import Settings
from gatepass.crypto.keys import ALGORITHMS, SigningKey
from gatepass.keys.ring import KeyRing
from gatepass.oauth.clients import new_client_id
from gatepass.oidc.id_tokens import IdTokens
from gatepass.storage.backends import open_backends
from gatepass.tokens.access_tokens import (
    TYP,
    VERIFY_LEEWAY_SECONDS,
    AccessTokens,
    IssuedAccessToken,
)
from gatepass.web.app import build_access_tokens, build_id_tokens, build_key_ring

ISSUER = "https://id.bench.example"
SCOPES = ("openid", "profile")
SAMPLES = 64  # distinct tokens each verify case cycles through
NONCE = "n-0S6_WzA2Mj"
SID = "s" * 43  # a session id's length (a SHA-256 digest, base64url)
REQUIRED = ["exp", "iat", "iss", "aud", "sub", "jti", "client_id"]  # RFC 9068 §2.2
CASES = ("gatepass", "joserfc", "pyjwt")

# joserfc warns on every "EdDSA" since RFC 9864; gatepass pins the name on purpose
# (crypto/jwt.py), and the warning is not part of what the direct baseline costs.
warnings.filterwarnings("ignore", message="EdDSA is deprecated", category=SecurityWarning)


@dataclass(frozen=True)
class Timing:
    seconds: float  # measured per case
    warmup: float
    slices: int


def versions() -> dict[str, str]:
    return {name: version(name) for name in ("joserfc", "PyJWT", "cryptography")}


@asynccontextmanager
async def key_ring(workdir: Path) -> AsyncIterator[tuple[Settings, KeyRing]]:
    """gatepass's own KeyRing (web/app.py build_key_ring) on a SQLite file of its own."""
    settings = Settings(
        issuer=ISSUER, database_url=f"sqlite:///{workdir}/keys.db", secret_key=master_key()
    )
    backends = await open_backends(settings, migrate=True)
    try:
        ring = build_key_ring(settings, backends, SystemClock())
        await ring.start()  # an active key per algorithm, made by the ring
        yield settings, ring
    finally:
        await backends.close()


@dataclass(frozen=True)
class Grant:
    """What the code exchange puts in a token: ids only (RFC 9068 §6), as in production."""

    subject: str
    client_id: str
    grant_id: str
    auth_time: float

    @classmethod
    def new(cls) -> "Grant":
        return cls(str(uuid.uuid4()), new_client_id(), str(uuid.uuid4()), time.time())


def _issue_ours(tokens: AccessTokens, grant: Grant) -> Operation:
    async def issue(i: int) -> bool:
        return bool((await _access(tokens, grant)).token)

    return issue


def _fresh(template: dict[str, Any], ttl: int) -> dict[str, Any]:
    """The template's claims with what every token needs anew: jti, iat and exp."""
    now = int(time.time())
    return {**template, "jti": secrets.token_urlsafe(16), "iat": now, "exp": now + ttl}


def _issue_joserfc(template: dict[str, Any], key: SigningKey, ttl: int) -> Operation:
    header = {"alg": key.alg, "kid": key.kid, "typ": TYP}
    algorithms = [key.alg]

    async def issue(i: int) -> bool:
        return bool(joserfc_jwt.encode(header, _fresh(template, ttl), key.jwk, algorithms))

    return issue


def _issue_pyjwt(template: dict[str, Any], key: SigningKey, ttl: int) -> Operation:
    private: Any = key.jwk.private_key  # the pyca/cryptography key itself
    header = {"kid": key.kid, "typ": TYP}

    async def issue(i: int) -> bool:
        return bool(pyjwt.encode(_fresh(template, ttl), private, key.alg, headers=header))

    return issue


def _verify_ours(tokens: AccessTokens, samples: list[str], jtis: list[str]) -> Operation:
    async def verify(i: int) -> bool:
        return (await tokens.verify(samples[i])).jti == jtis[i]

    return verify


def _verify_joserfc(
    settings: Settings, key: SigningKey, samples: list[str], jtis: list[str]
) -> Operation:
    public, algorithms = key.verification_key().jwk, [key.alg]
    essential: joserfc_jwt.ClaimsOption = {"essential": True}
    claims = joserfc_jwt.JWTClaimsRegistry(
        leeway=VERIFY_LEEWAY_SECONDS,
        iss={"essential": True, "value": settings.issuer},
        aud={"essential": True, "value": settings.access_token_audience},
        exp=essential,
        iat=essential,
        sub=essential,
        jti=essential,
        client_id=essential,
    )

    async def verify(i: int) -> bool:
        token = joserfc_jwt.decode(samples[i], public, algorithms)
        claims.validate(token.claims)
        return token.header.get("typ") == TYP and token.claims["jti"] == jtis[i]

    return verify


def _verify_pyjwt(
    settings: Settings, key: SigningKey, samples: list[str], jtis: list[str]
) -> Operation:
    public: Any = key.jwk.public_key
    algorithms = [key.alg]
    decoder = pyjwt.PyJWT()

    async def verify(i: int) -> bool:
        decoded = decoder.decode_complete(
            samples[i],
            public,
            algorithms,
            options={"require": REQUIRED},
            audience=settings.access_token_audience,
            issuer=settings.issuer,
            leeway=VERIFY_LEEWAY_SECONDS,
        )
        return bool(decoded["header"].get("typ") == TYP and decoded["payload"]["jti"] == jtis[i])

    return verify


def _issue_id(id_tokens: IdTokens, grant: Grant, alg: str, access_token: str) -> Operation:
    async def issue(i: int) -> bool:
        return bool(await _id_token(id_tokens, grant, alg, access_token))

    return issue


async def _three(ops: list[Operation], timing: Timing) -> dict[str, Any]:
    """gatepass, joserfc and PyJWT interleaved; ratios are medians of back-to-back turns."""
    run = await interleaved(
        ops,
        concurrency=1,
        items=SAMPLES,
        seconds=timing.seconds,
        warmup=timing.warmup,
        slices=timing.slices,
    )
    return {
        **dict(zip(CASES, run.results, strict=True)),
        "gatepass_over_pyjwt": run.paired_ratio(0, 2),
        "gatepass_over_joserfc": run.paired_ratio(0, 1),
        "joserfc_over_pyjwt": run.paired_ratio(1, 2),
    }


async def _access(tokens: AccessTokens, grant: Grant) -> IssuedAccessToken:
    return await tokens.issue(
        subject=grant.subject,
        client_id=grant.client_id,
        scope=SCOPES,
        auth_time=grant.auth_time,
        grant_id=grant.grant_id,
    )


async def _id_token(id_tokens: IdTokens, grant: Grant, alg: str, access_token: str) -> str:
    return await id_tokens.issue(
        client_id=grant.client_id,
        alg=alg,
        subject=grant.subject,
        auth_time=grant.auth_time,
        nonce=NONCE,
        sid=SID,
        access_token=access_token,
    )


async def algorithm_rates(
    settings: Settings, ring: KeyRing, alg: str, timing: Timing
) -> dict[str, Any]:
    clock, grant = SystemClock(), Grant.new()
    settings = replace(settings, access_token_alg=alg)
    tokens, key = build_access_tokens(settings, ring, clock), await ring.signing_key(alg)
    ttl = settings.access_token_ttl
    first = await _access(tokens, grant)
    template = first.claims.as_jwt_claims()
    issuers = [
        _issue_ours(tokens, grant),
        _issue_joserfc(template, key, ttl),
        _issue_pyjwt(template, key, ttl),
    ]
    issue = await _three(issuers, timing)
    samples = [await _access(tokens, grant) for _ in range(SAMPLES)]
    texts, jtis = [s.token for s in samples], [s.claims.jti for s in samples]
    verifiers = [
        _verify_ours(tokens, texts, jtis),
        _verify_joserfc(settings, key, texts, jtis),
        _verify_pyjwt(settings, key, texts, jtis),
    ]
    verify = await _three(verifiers, timing)
    id_tokens = build_id_tokens(settings, ring, clock)
    id_rate = await closed_loop(
        _issue_id(id_tokens, grant, alg, first.token),
        concurrency=1,
        items=SAMPLES,
        seconds=timing.seconds,
        warmup=timing.warmup,
    )
    id_token = await _id_token(id_tokens, grant, alg, first.token)
    return {
        "issue": issue,
        "verify": verify,
        "id_token_issue": id_rate,
        "bytes": {"access_token": len(first.token), "id_token": len(id_token)},
    }


async def token_rates(
    workdir: Path, timing: Timing, progress: Callable[[str], None]
) -> dict[str, Any]:
    results: dict[str, Any] = {}
    async with key_ring(workdir) as (settings, ring):
        for alg in ALGORITHMS:
            progress(f"token issue and verify, {alg}")
            results[alg] = await algorithm_rates(settings, ring, alg, timing)
    return results
