"""`GET /jwks.json` on every backend: public keys only, cacheable, precomputed, no session."""

import json

import httpx
import jwt as pyjwt
import pytest

from gatepass.crypto.keys import PRIVATE_MEMBERS
from gatepass.storage.backends import Backends


async def test_jwks_publishes_one_public_key_per_algorithm_with_cache_control(
    client: httpx.AsyncClient,
) -> None:
    response = await client.get("/jwks.json")
    assert response.status_code == 200
    assert response.headers["cache-control"] == "public, max-age=3600"
    assert response.headers["content-type"].startswith("application/jwk-set+json")
    assert "set-cookie" not in response.headers
    keys = response.json()["keys"]
    assert sorted(k["alg"] for k in keys) == ["ES256", "EdDSA", "RS256"]
    for key in keys:
        assert {"kid", "kty", "alg", "use"} <= set(key)
        assert key["use"] == "sig"
        assert PRIVATE_MEMBERS.isdisjoint(key), key
    # An independent library reads the set as it is.
    assert len(pyjwt.PyJWKSet.from_dict(response.json()).keys) == 3


async def test_jwks_max_age_follows_the_setting(
    make_settings: object, backends: Backends, app_client: object
) -> None:
    settings = make_settings(jwks_max_age=120)  # type: ignore[operator]
    async with app_client(settings) as other:  # type: ignore[operator]
        response = await other.get("/jwks.json")
    assert response.headers["cache-control"] == "public, max-age=120"


async def test_jwks_is_served_without_reading_storage_per_request(
    client: httpx.AsyncClient, backends: Backends, monkeypatch: pytest.MonkeyPatch
) -> None:
    first = await client.get("/jwks.json")

    async def refuse() -> None:
        raise AssertionError("the JWKS was rebuilt for a request")

    monkeypatch.setattr(backends.signing_keys, "list_all", refuse)
    for _ in range(5):
        again = await client.get("/jwks.json")
        assert again.content == first.content


async def test_jwks_ignores_a_session_cookie(client: httpx.AsyncClient) -> None:
    client.cookies.set("gp_session", "x" * 43)
    response = await client.get("/jwks.json")
    assert response.status_code == 200
    assert json.loads(response.content)["keys"]
