"""Access tokens from the app's key ring, verified by PyJWT against /jwks.json, every backend."""

import time
from dataclasses import replace

import httpx
import jwt as pyjwt
import pytest

from gatepass.clock import SystemClock
from gatepass.config import Settings
from gatepass.errors import InvalidToken
from gatepass.storage.backends import Backends
from gatepass.web.app import build_access_tokens, build_id_tokens, build_key_ring

MAX_LIFETIME_SECONDS = 3600


@pytest.mark.parametrize("alg", ["ES256", "RS256", "EdDSA"])
async def test_access_tokens_verify_with_pyjwt_against_the_published_jwks__rfc9068_4(
    alg: str, settings: Settings, backends: Backends, client: httpx.AsyncClient
) -> None:
    ring = build_key_ring(settings, backends, SystemClock())
    await ring.start()  # the app started first: the same keys, no new ones
    core = build_access_tokens(replace(settings, access_token_alg=alg), ring, SystemClock())
    issued = await core.issue(subject="user-1", client_id="gpc_x", scope=["openid"])

    response = await client.get("/jwks.json")
    key_set = pyjwt.PyJWKSet.from_dict(response.json())
    header = pyjwt.get_unverified_header(issued.token)
    assert header["typ"] == "at+jwt"
    assert header["alg"] == alg
    [key] = [k for k in key_set.keys if k.key_id == header["kid"]]
    claims = pyjwt.decode(
        issued.token,
        key.key,
        algorithms=[alg],
        audience=settings.access_token_audience,
        issuer=settings.issuer,
        options={"require": ["iss", "sub", "aud", "exp", "iat", "jti", "client_id"]},
    )
    assert 0 < claims["exp"] - claims["iat"] <= MAX_LIFETIME_SECONDS
    assert claims["exp"] - time.time() <= settings.access_token_ttl + 1
    assert not {"email", "name"} & set(claims)
    assert (await core.verify(issued.token)).jti == claims["jti"]


async def test_an_id_token_from_the_app_ring_is_no_access_token__rfc9068_4(
    settings: Settings, backends: Backends, client: httpx.AsyncClient
) -> None:
    ring = build_key_ring(settings, backends, SystemClock())
    await ring.start()
    ids = build_id_tokens(settings, ring, SystemClock())
    id_token = await ids.issue(
        client_id=settings.access_token_audience,
        alg="RS256",
        subject="user-1",
        auth_time=time.time(),
    )
    with pytest.raises(InvalidToken):
        await build_access_tokens(settings, ring, SystemClock()).verify(id_token)
