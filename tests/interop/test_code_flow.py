"""The authorization code flow with PKCE, run by Authlib against a live `gatepass serve`;
every JWT verified by PyJWT against the discovered `/jwks.json`.

Each test runs against both servers (SQLite; PostgreSQL + Redis), see conftest.py.
"""

import httpx
import pytest

from tests.interop.flow import WEB_APP_CALLBACK, authorize, redeem
from tests.interop.jose_checks import verify_access_token, verify_id_token
from tests.interop.relying_party import SCOPE, OAuthError, Provider, TokenResponses, relying_party
from tests.interop.support import Gatepass, RegisterClient
from tests.interop.user_agent import User

# A native app registers its loopback redirect without a port and listens on any
# (RFC 8252 §7.3); the port here stands for the one its listener happened to get.
NATIVE_REGISTERED = "http://127.0.0.1/callback"
NATIVE_CALLBACK = "http://127.0.0.1:53682/callback"


def _no_store(response: httpx.Response) -> bool:
    return "no-store" in response.headers.get("cache-control", "")


async def test_discovery_advertises_what_the_flow_needs(
    provider: Provider, gatepass: Gatepass
) -> None:
    metadata = provider.metadata
    assert metadata["issuer"] == gatepass.issuer
    for name in ("authorization_endpoint", "token_endpoint", "jwks_uri"):
        assert provider.endpoint(name).startswith(gatepass.issuer + "/")
    assert "code" in metadata["response_types_supported"]
    assert metadata["code_challenge_methods_supported"] == ["S256"]
    assert metadata["authorization_response_iss_parameter_supported"] is True
    assert "RS256" in metadata["id_token_signing_alg_values_supported"]
    for method in ("client_secret_basic", "none"):
        assert method in metadata["token_endpoint_auth_methods_supported"]


async def test_confidential_client_signs_in_and_every_jwt_verifies__oidc_core_3_1(
    gatepass: Gatepass,
    provider: Provider,
    register_client: RegisterClient,
    browser: httpx.AsyncClient,
    account: User,
) -> None:
    client = register_client(WEB_APP_CALLBACK)
    assert client.token_endpoint_auth_method == "client_secret_basic"
    responses = TokenResponses()
    async with relying_party(client) as rp:
        rp.register_compliance_hook("access_token_response", responses.hook)
        callback = await authorize(rp, provider, browser, account)
        token = await redeem(rp, provider, callback)

    (response,) = responses.seen
    assert response.status_code == 200
    assert response.request.headers["authorization"].startswith("Basic ")
    assert _no_store(response)  # RFC 6749 §5.1, R13
    assert token["token_type"].lower() == "bearer"
    assert token["expires_in"] == gatepass.variant.access_token_ttl
    assert token["scope"] == SCOPE
    id_token = await verify_id_token(
        provider,
        token["id_token"],
        client_id=client.client_id,
        nonce=callback.nonce,
        access_token=token["access_token"],
    )
    access = await verify_access_token(
        provider,
        token["access_token"],
        alg=gatepass.variant.access_token_alg,
        audience=gatepass.access_token_audience,
        client_id=client.client_id,
        scope=SCOPE,
        ttl_seconds=gatepass.variant.access_token_ttl,
    )
    assert access.claims["sub"] == id_token.claims["sub"]
    assert access.claims["auth_time"] == id_token.claims["auth_time"]
    # The session handle in the id token is not the browser's session cookie.
    assert id_token.claims["sid"] not in {cookie.value for cookie in browser.cookies.jar}


async def test_public_client_uses_pkce_without_a_secret_on_any_loopback_port__rfc8252(
    gatepass: Gatepass,
    provider: Provider,
    register_client: RegisterClient,
    browser: httpx.AsyncClient,
    account: User,
) -> None:
    client = register_client(NATIVE_REGISTERED, public=True)
    assert client.client_secret is None
    assert client.token_endpoint_auth_method == "none"
    responses = TokenResponses()
    async with relying_party(client, redirect_uri=NATIVE_CALLBACK) as rp:
        rp.register_compliance_hook("access_token_response", responses.hook)
        callback = await authorize(rp, provider, browser, account)
        token = await redeem(rp, provider, callback)

    (response,) = responses.seen
    # `none` (RFC 7591 §2): no credentials, the client_id in the body.
    assert "authorization" not in response.request.headers
    assert f"client_id={client.client_id}".encode() in response.request.content
    assert _no_store(response)
    await verify_id_token(
        provider,
        token["id_token"],
        client_id=client.client_id,
        nonce=callback.nonce,
        access_token=token["access_token"],
    )
    await verify_access_token(
        provider,
        token["access_token"],
        alg=gatepass.variant.access_token_alg,
        audience=gatepass.access_token_audience,
        client_id=client.client_id,
        scope=SCOPE,
        ttl_seconds=gatepass.variant.access_token_ttl,
    )


async def test_second_sign_in_reuses_the_session_and_consent_with_fresh_tokens(
    provider: Provider,
    register_client: RegisterClient,
    browser: httpx.AsyncClient,
    account: User,
) -> None:
    client = register_client(WEB_APP_CALLBACK)
    async with relying_party(client) as rp:
        first = await authorize(rp, provider, browser, account)
        first_token = await redeem(rp, provider, first)
        # No user this time: a login or consent page would fail the visit.
        second = await authorize(rp, provider, browser, None)
        second_token = await redeem(rp, provider, second)

    one, two = [
        (
            await verify_id_token(
                provider,
                token["id_token"],
                client_id=client.client_id,
                nonce=callback.nonce,
                access_token=token["access_token"],
            )
        ).claims
        for callback, token in ((first, first_token), (second, second_token))
    ]
    assert one["sub"] == two["sub"]
    assert one["sid"] == two["sid"]  # one session at the provider
    assert first_token["access_token"] != second_token["access_token"]


async def test_code_redeemed_twice_is_invalid_grant__rfc6749_4_1_2(
    provider: Provider,
    register_client: RegisterClient,
    browser: httpx.AsyncClient,
    account: User,
) -> None:
    client = register_client(WEB_APP_CALLBACK)
    responses = TokenResponses()
    async with relying_party(client) as rp:
        rp.register_compliance_hook("access_token_response", responses.hook)
        callback = await authorize(rp, provider, browser, account)
        await redeem(rp, provider, callback)
        with pytest.raises(OAuthError) as refused:
            await redeem(rp, provider, callback)

    assert refused.value.error == "invalid_grant"
    first, second = responses.seen
    assert (first.status_code, second.status_code) == (200, 400)
    assert _no_store(second)


async def test_wrong_code_verifier_is_invalid_grant__rfc7636_4_6(
    provider: Provider,
    register_client: RegisterClient,
    browser: httpx.AsyncClient,
    account: User,
) -> None:
    client = register_client(NATIVE_REGISTERED, public=True)
    responses = TokenResponses()
    async with relying_party(client, redirect_uri=NATIVE_CALLBACK) as rp:
        rp.register_compliance_hook("access_token_response", responses.hook)
        callback = await authorize(rp, provider, browser, account)
        other_verifier = callback.code_verifier[::-1]
        with pytest.raises(OAuthError) as refused:
            await redeem(rp, provider, callback, code_verifier=other_verifier)

    assert refused.value.error == "invalid_grant"
    (response,) = responses.seen
    assert response.status_code == 400
    assert _no_store(response)
    assert "access_token" not in response.json()


async def test_denied_consent_comes_back_as_access_denied_with_state_and_iss__rfc9207(
    provider: Provider,
    register_client: RegisterClient,
    browser: httpx.AsyncClient,
    account: User,
) -> None:
    client = register_client(WEB_APP_CALLBACK)
    async with relying_party(client) as rp:
        # authorize() checks that state and iss came back, error or not (RFC 9207 §2).
        callback = await authorize(rp, provider, browser, account, decision="deny")

    assert callback.params["error"] == "access_denied"
    assert "code" not in callback.params
