"""JWT access tokens (RFC 9068) straight from the core: claims, lifetime, hostile tokens."""

import hashlib
import hmac
from typing import Any

import jwt as pyjwt
import pytest

from gatepass.clock import FixedClock
from gatepass.crypto import jwt
from gatepass.crypto.keys import ALGORITHMS, generate_signing_key
from gatepass.errors import InvalidToken
from gatepass.oidc.id_tokens import IdTokenPolicy, IdTokens
from gatepass.tokens.access_tokens import (
    VERIFY_LEEWAY_SECONDS,
    AccessTokenPolicy,
    AccessTokens,
)
from tests.tokens.support import (
    AUDIENCE,
    ISSUER,
    KEYS,
    NOW,
    StaticKeys,
    b64,
    independent_decode,
    payload_of,
    pem,
)

CLIENT_ID = "gpc_client"
REQUIRED = {"iss", "sub", "aud", "exp", "iat", "jti", "client_id"}  # RFC 9068 §2.2


def tokens(alg: str = "ES256", clock: FixedClock | None = None, **policy: Any) -> AccessTokens:
    options: dict[str, Any] = {
        "issuer": ISSUER,
        "alg": alg,
        "ttl_seconds": 900,
        "default_audience": AUDIENCE,
    }
    return AccessTokens(
        StaticKeys(KEYS), AccessTokenPolicy(**(options | policy)), clock or FixedClock(NOW)
    )


async def issue(core: AccessTokens | None = None, **changes: Any) -> str:
    args = {"subject": "user-1", "client_id": CLIENT_ID, "scope": ["openid", "profile"]}
    issued = await (core or tokens()).issue(**(args | changes))
    return issued.token


@pytest.mark.parametrize("alg", ALGORITHMS)
async def test_an_access_token_is_typed_at_jwt_with_every_required_claim__rfc9068_2(
    alg: str,
) -> None:
    core = tokens(alg)
    issued = await core.issue(
        subject="user-1", client_id=CLIENT_ID, scope=["openid", "email"], auth_time=NOW - 5
    )
    assert pyjwt.get_unverified_header(issued.token) == {
        "alg": alg,
        "kid": KEYS[alg].kid,
        "typ": "at+jwt",
    }
    claims = independent_decode(
        issued.token, KEYS[alg].verification_key().public_jwk(), audience=AUDIENCE
    )
    assert set(claims) == REQUIRED | {"scope", "auth_time"}
    assert claims["iss"] == ISSUER
    assert claims["sub"] == "user-1"
    assert claims["aud"] == AUDIENCE
    assert claims["client_id"] == CLIENT_ID
    assert claims["scope"] == "openid email"
    assert claims["auth_time"] == NOW - 5
    assert (claims["iat"], claims["exp"]) == (NOW, NOW + 900)
    assert issued.expires_in == 900
    assert await core.verify(issued.token) == issued.claims


async def test_an_access_token_carries_no_personal_data__rfc9068_6() -> None:
    claims = payload_of(await issue())
    assert set(claims) <= REQUIRED | {"scope", "auth_time"}
    assert not {"email", "email_verified", "name", "given_name", "family_name"} & set(claims)


async def test_the_grant_id_travels_as_gid_and_reads_back__rfc7519_4_3() -> None:
    core = tokens()
    token = await issue(core, grant_id="353d62f1d7e640beb789ad58572afa41")
    # A random identifier, not personal data: verifiers revoke by it (revocation feed).
    assert payload_of(token)["gid"] == "353d62f1d7e640beb789ad58572afa41"
    assert (await core.verify(token)).grant_id == "353d62f1d7e640beb789ad58572afa41"
    assert "gid" not in payload_of(await issue(core))


async def test_jti_is_unique_and_unguessable__rfc9068_2_2() -> None:
    jtis = {payload_of(await issue())["jti"] for _ in range(20)}
    assert len(jtis) == 20
    assert all(len(jti) >= 22 for jti in jtis)  # 128 random bits, base64url


async def test_the_audience_is_the_resource_when_one_is_named__rfc8707() -> None:
    core = tokens()
    token = await issue(core, audience=["https://a.example", "https://b.example"])
    assert payload_of(token)["aud"] == ["https://a.example", "https://b.example"]
    assert (await core.verify(token, audience="https://b.example")).subject == "user-1"
    with pytest.raises(InvalidToken):
        await core.verify(token)  # not for the default audience


async def test_a_token_signed_before_a_rotation_verifies_after_it() -> None:
    old = generate_signing_key("ES256")
    before = AccessTokens(
        StaticKeys({"ES256": old}),
        AccessTokenPolicy(ISSUER, "ES256", 900, AUDIENCE),
        FixedClock(NOW),
    )
    token = await issue(before)
    after = AccessTokens(
        StaticKeys(KEYS, old), AccessTokenPolicy(ISSUER, "ES256", 900, AUDIENCE), FixedClock(NOW)
    )
    assert (await after.verify(token)).subject == "user-1"
    assert payload_of(await issue(after)) != payload_of(token)


async def test_an_expired_token_is_refused_after_the_leeway__rfc9068_4() -> None:
    clock = FixedClock(NOW)
    core = tokens(clock=clock)
    token = await issue(core)
    clock.advance(900 + VERIFY_LEEWAY_SECONDS - 1)
    assert await core.verify(token)
    clock.advance(1)
    with pytest.raises(InvalidToken):
        await core.verify(token)


def _unsigned(header: dict[str, Any], claims: dict[str, Any]) -> str:
    return f"{b64(header)}.{b64(claims)}."


def _hs256_with_public_key(claims: dict[str, Any]) -> str:
    key = KEYS["RS256"]
    header = {"alg": "HS256", "kid": key.kid, "typ": "at+jwt"}
    signing_input = f"{b64(header)}.{b64(claims)}"
    mac = hmac.new(pem(key, private=False), signing_input.encode(), hashlib.sha256).digest()
    return f"{signing_input}.{b64(mac)}"


def _tampered(token: str) -> str:
    header, _, signature = token.split(".")
    claims = payload_of(token) | {"sub": "admin"}
    return f"{header}.{b64(claims)}.{signature}"


async def _hostile(case: str) -> tuple[str, dict[str, Any]]:
    """A hostile token and the verify arguments it is presented with."""
    good = await issue()
    claims = payload_of(good)
    key = KEYS["ES256"]
    if case == "id token":
        ids = IdTokens(StaticKeys(KEYS), IdTokenPolicy(ISSUER, 300), FixedClock(NOW))
        # Even an id token whose audience happens to be the API's is no access token.
        token = await ids.issue(client_id=AUDIENCE, alg="ES256", subject="user-1", auth_time=NOW)
        return token, {}
    if case == "alg none":
        return _unsigned({"alg": "none", "kid": key.kid, "typ": "at+jwt"}, claims), {}
    if case == "HS256 with the public key":
        return _hs256_with_public_key(claims), {}
    if case == "tampered payload":
        return _tampered(good), {}
    if case == "wrong audience":
        return good, {"audience": "https://other.example/api"}
    if case == "wrong issuer":
        return jwt.sign(claims | {"iss": "https://evil.example"}, key, "at+jwt"), {}
    if case == "wrong typ":
        return jwt.sign(claims, key, "JWT"), {}
    if case == "no client_id":
        return jwt.sign({k: v for k, v in claims.items() if k != "client_id"}, key, "at+jwt"), {}
    if case == "unknown key":
        return jwt.sign(claims, generate_signing_key("ES256"), "at+jwt"), {}
    if case == "not yet valid":
        return jwt.sign(claims | {"nbf": NOW + 3600}, key, "at+jwt"), {}
    raise AssertionError(case)


HOSTILE = [
    "id token",
    "alg none",
    "HS256 with the public key",
    "tampered payload",
    "wrong audience",
    "wrong issuer",
    "wrong typ",
    "no client_id",
    "unknown key",
    "not yet valid",
]


@pytest.mark.parametrize("case", HOSTILE)
async def test_a_hostile_token_is_refused_with_invalid_token__rfc9068_4(case: str) -> None:
    token, kwargs = await _hostile(case)
    with pytest.raises(InvalidToken):
        await tokens().verify(token, **kwargs)


async def test_a_scope_given_as_one_string_is_a_programming_error() -> None:
    with pytest.raises(TypeError):
        await issue(scope="openid profile")
