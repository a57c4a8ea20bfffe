"""UserInfo (OIDC Core §5.3) as Authlib's client calls it: the discovered endpoint, the
access token from the code flow as a Bearer token."""

import httpx
import pytest

from tests.interop.flow import WEB_APP_CALLBACK, authorize, redeem
from tests.interop.jose_checks import verify_id_token
from tests.interop.relying_party import OAuthError, Provider, relying_party
from tests.interop.support import RegisterClient
from tests.interop.user_agent import User


async def test_userinfo_names_the_id_tokens_subject_with_email_and_name__oidc_core_5_3(
    provider: Provider,
    register_client: RegisterClient,
    browser: httpx.AsyncClient,
    account: User,
) -> None:
    client = register_client(WEB_APP_CALLBACK)
    async with relying_party(client) as rp:
        callback = await authorize(rp, provider, browser, account)
        token = await redeem(rp, provider, callback)
        # Authlib keeps the token from fetch_token and sends it as `Authorization: Bearer`.
        response = await rp.get(provider.endpoint("userinfo_endpoint"))

    assert response.request.headers["authorization"] == f"Bearer {token['access_token']}"
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("application/json")
    id_token = await verify_id_token(
        provider,
        token["id_token"],
        client_id=client.client_id,
        nonce=callback.nonce,
        access_token=token["access_token"],
    )
    claims = response.json()
    # OIDC Core §5.3.2: sub MUST match the id token's, else the response MUST NOT be used.
    assert claims["sub"] == id_token.claims["sub"]
    assert claims["email"] == account.email  # the `email` scope
    assert claims["name"] == account.name  # the `profile` scope


async def test_code_redeemed_twice_revokes_the_first_access_token__rfc6749_4_1_2(
    provider: Provider,
    register_client: RegisterClient,
    browser: httpx.AsyncClient,
    account: User,
) -> None:
    """SECURITY.md decision 2: a second valid redemption revokes what the first issued."""
    client = register_client(WEB_APP_CALLBACK)
    async with relying_party(client) as rp:
        callback = await authorize(rp, provider, browser, account)
        await redeem(rp, provider, callback)
        userinfo = provider.endpoint("userinfo_endpoint")
        assert (await rp.get(userinfo)).status_code == 200
        with pytest.raises(OAuthError) as refused:
            await redeem(rp, provider, callback)
        # Authlib still holds the first token: it is refused now.
        response = await rp.get(userinfo)

    assert refused.value.error == "invalid_grant"
    assert response.status_code == 401
    # RFC 6750 §3.1: the error travels in WWW-Authenticate.
    assert 'error="invalid_token"' in response.headers["www-authenticate"]
