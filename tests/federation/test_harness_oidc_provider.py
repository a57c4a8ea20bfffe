"""The oidc-provider harness works: discovery, code + PKCE by hand, id token, userinfo.

Plain httpx and joserfc against a running oidc-provider, so a federation test that fails
later fails because of gatepass, not because the upstream provider was set up wrong.
"""

import base64
import hashlib
import secrets
from collections.abc import AsyncIterator, Iterator
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

import httpx
import pytest
from joserfc import jwt
from joserfc.jwk import KeySet, RSAKey

from tests.federation import oidc_provider
from tests.federation.harness_fixtures import (  # noqa: F401
    StartOidcProvider,
    oidc_provider_install,
    start_oidc_provider,
)
from tests.federation.oidc_provider import InstalledProvider, OidcAccount, OidcClient
from tests.live_server import free_port

CALLBACK = "http://127.0.0.1:9/login/upstream/callback"  # never requested
BASIC = OidcClient("gatepass-basic", "basic-secret-" + "x" * 32, (CALLBACK,))
POST = OidcClient("gatepass-post", "post-secret-" + "y" * 32, (CALLBACK,), "client_secret_post")
ALICE = OidcAccount("alice@example.com", True, "Alice Liddell")


@pytest.fixture(scope="module")
def issuer(oidc_provider_install: InstalledProvider) -> Iterator[str]:  # noqa: F811
    port = free_port()
    with oidc_provider.running(oidc_provider_install, port, [BASIC, POST], {"alice": ALICE}) as url:
        yield url


@pytest.fixture
async def browser() -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(follow_redirects=False, timeout=30) as client:
        yield client


@pytest.fixture
async def metadata(issuer: str) -> dict[str, Any]:
    async with httpx.AsyncClient(timeout=30) as client:
        response = await client.get(f"{issuer}/.well-known/openid-configuration")
    assert response.status_code == 200
    document: dict[str, Any] = response.json()
    return document


def pkce_pair() -> tuple[str, str]:
    verifier = secrets.token_urlsafe(48)
    digest = hashlib.sha256(verifier.encode()).digest()
    return verifier, base64.urlsafe_b64encode(digest).rstrip(b"=").decode()


def authorization_url(
    metadata: dict[str, Any], client: OidcClient, state: str, nonce: str, challenge: str | None
) -> str:
    query = {
        "response_type": "code",
        "client_id": client.client_id,
        "redirect_uri": CALLBACK,
        "scope": "openid email profile",
        "state": state,
        "nonce": nonce,
    }
    if challenge is not None:
        query |= {"code_challenge": challenge, "code_challenge_method": "S256"}
    return f"{metadata['authorization_endpoint']}?{urlencode(query)}"


def callback_params(url: str) -> dict[str, str]:
    assert url.startswith(CALLBACK + "?"), url
    return {name: values[0] for name, values in parse_qs(urlsplit(url).query).items()}


async def redeem(
    metadata: dict[str, Any], client: OidcClient, code: str, verifier: str
) -> httpx.Response:
    form = {
        "grant_type": "authorization_code",
        "code": code,
        "redirect_uri": CALLBACK,
        "code_verifier": verifier,
    }
    async with httpx.AsyncClient(timeout=30) as rp:
        if client.token_endpoint_auth_method == "client_secret_post":
            form |= {"client_id": client.client_id, "client_secret": client.client_secret}
            return await rp.post(metadata["token_endpoint"], data=form)
        auth = (client.client_id, client.client_secret)
        return await rp.post(metadata["token_endpoint"], data=form, auth=auth)


async def signed_in_code(
    browser: httpx.AsyncClient, metadata: dict[str, Any], client: OidcClient, login: str
) -> tuple[dict[str, str], str, str]:
    """Callback parameters, PKCE verifier and nonce of a completed sign-in."""
    verifier, challenge = pkce_pair()
    state, nonce = secrets.token_urlsafe(16), secrets.token_urlsafe(16)
    url = authorization_url(metadata, client, state, nonce, challenge)
    params = callback_params(await oidc_provider.sign_in(browser, url, login))
    assert params["state"] == state
    return params, verifier, nonce


async def test_discovery_advertises_what_federation_relies_on(
    issuer: str, metadata: dict[str, Any]
) -> None:
    assert issuer.startswith("http://127.0.0.1:")
    assert metadata["issuer"] == issuer
    assert metadata["code_challenge_methods_supported"] == ["S256"]
    assert metadata["authorization_response_iss_parameter_supported"] is True
    assert metadata["userinfo_endpoint"].startswith(issuer)
    assert metadata["id_token_signing_alg_values_supported"] == ["RS256"]
    async with httpx.AsyncClient(timeout=30) as client:
        jwks = (await client.get(metadata["jwks_uri"])).json()
    assert [(key["kty"], key["alg"]) for key in jwks["keys"]] == [("RSA", "RS256")]
    assert all("d" not in key for key in jwks["keys"])


@pytest.mark.parametrize("client", [BASIC, POST], ids=["client_secret_basic", "client_secret_post"])
async def test_code_flow_with_pkce_yields_verified_id_token_and_userinfo(
    issuer: str, metadata: dict[str, Any], browser: httpx.AsyncClient, client: OidcClient
) -> None:
    params, verifier, nonce = await signed_in_code(browser, metadata, client, "alice")
    assert params["iss"] == issuer  # RFC 9207
    response = await redeem(metadata, client, params["code"], verifier)
    assert response.status_code == 200, response.text
    tokens = response.json()
    async with httpx.AsyncClient(timeout=30) as rp:
        keys = KeySet.import_key_set((await rp.get(metadata["jwks_uri"])).json())
        token = jwt.decode(tokens["id_token"], keys, algorithms=["RS256"])
        info = await rp.get(
            metadata["userinfo_endpoint"],
            headers={"Authorization": f"Bearer {tokens['access_token']}"},
        )
    claims = token.claims
    assert (claims["iss"], claims["aud"], claims["sub"]) == (issuer, client.client_id, "alice")
    assert claims["nonce"] == nonce
    assert info.status_code == 200
    assert info.json() == {
        "sub": "alice",
        "email": "alice@example.com",
        "email_verified": True,
        "name": "Alice Liddell",
    }


async def test_unknown_login_signs_in_without_email(
    metadata: dict[str, Any], browser: httpx.AsyncClient
) -> None:
    params, verifier, _ = await signed_in_code(browser, metadata, BASIC, "nobody-declared")
    tokens = (await redeem(metadata, BASIC, params["code"], verifier)).json()
    async with httpx.AsyncClient(timeout=30) as rp:
        info = await rp.get(
            metadata["userinfo_endpoint"],
            headers={"Authorization": f"Bearer {tokens['access_token']}"},
        )
    assert info.json() == {"sub": "nobody-declared"}


async def test_code_is_single_use(metadata: dict[str, Any], browser: httpx.AsyncClient) -> None:
    params, verifier, _ = await signed_in_code(browser, metadata, BASIC, "alice")
    first = await redeem(metadata, BASIC, params["code"], verifier)
    again = await redeem(metadata, BASIC, params["code"], verifier)
    assert first.status_code == 200
    assert (again.status_code, again.json()["error"]) == (400, "invalid_grant")


async def test_pkce_mismatch_is_refused(
    metadata: dict[str, Any], browser: httpx.AsyncClient
) -> None:
    params, _, _ = await signed_in_code(browser, metadata, BASIC, "alice")
    other_verifier, _ = pkce_pair()
    response = await redeem(metadata, BASIC, params["code"], other_verifier)
    assert (response.status_code, response.json()["error"]) == (400, "invalid_grant")


async def test_pkce_is_required_even_of_confidential_clients(
    metadata: dict[str, Any], browser: httpx.AsyncClient
) -> None:
    url = authorization_url(metadata, BASIC, "s", "n", challenge=None)
    response = await browser.get(url)
    assert response.is_redirect
    params = callback_params(response.headers["location"])
    assert params["error"] == "invalid_request"
    assert "PKCE" in params["error_description"]


async def test_denied_consent_returns_access_denied(
    issuer: str, metadata: dict[str, Any], browser: httpx.AsyncClient
) -> None:
    _, challenge = pkce_pair()
    url = authorization_url(metadata, BASIC, "st4te", "n0nce", challenge)
    params = callback_params(await oidc_provider.sign_in(browser, url, "alice", consent=False))
    assert params["error"] == "access_denied"
    assert (params["state"], params["iss"]) == ("st4te", issuer)
    assert "code" not in params


async def test_factory_starts_a_provider_signing_with_the_given_key(
    start_oidc_provider: StartOidcProvider,  # noqa: F811
) -> None:
    key = RSAKey.generate_key(2048, {"kid": "pinned-1", "alg": "RS256", "use": "sig"})
    issuer = start_oidc_provider([BASIC], {}, jwks={"keys": [key.as_dict(private=True)]})
    async with httpx.AsyncClient(timeout=30) as client:
        metadata = (await client.get(f"{issuer}/.well-known/openid-configuration")).json()
        published = (await client.get(metadata["jwks_uri"])).json()["keys"]
    assert metadata["issuer"] == issuer
    assert [k["kid"] for k in published] == ["pinned-1"]
    assert published[0]["n"] == key.as_dict()["n"]
    assert "d" not in published[0]
