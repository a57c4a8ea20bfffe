"""The account page lists the applications a user allowed, and revokes them."""

import httpx

from gatepass.config import Settings
from gatepass.oauth.clients import Client
from tests.authorize.conftest import authorize_url, new_pkce, redirect_params
from tests.authorize.helpers import decide
from tests.support import post_form, sign_up
from tests.web.conftest import AppClient


async def _allow(client: httpx.AsyncClient, oauth_client: Client) -> None:
    page = await client.get(authorize_url(oauth_client, new_pkce()))
    assert "code" in redirect_params(await decide(client, page.text, "allow"))


async def test_the_account_page_lists_consents(
    signed_in: httpx.AsyncClient, oauth_client: Client
) -> None:
    await _allow(signed_in, oauth_client)
    account = await signed_in.get("/account")
    assert "Photo Printer" in account.text
    assert "Your e-mail address" in account.text
    assert 'action="/account/consents/revoke"' in account.text


async def test_revoking_a_consent_brings_the_consent_page_back(
    signed_in: httpx.AsyncClient, oauth_client: Client
) -> None:
    await _allow(signed_in, oauth_client)
    response = await post_form(
        signed_in,
        "/account/consents/revoke",
        {"client_id": oauth_client.client_id},
        page="/account",
    )
    assert response.status_code == 303
    assert response.headers["location"] == "/account?notice=consent-revoked"
    assert "Photo Printer" not in (await signed_in.get("/account")).text
    again = await signed_in.get(authorize_url(oauth_client, new_pkce()))
    assert again.status_code == 200
    assert 'value="allow"' in again.text


async def test_revoking_needs_the_csrf_token(
    signed_in: httpx.AsyncClient, oauth_client: Client
) -> None:
    await _allow(signed_in, oauth_client)
    response = await signed_in.post(
        "/account/consents/revoke", data={"client_id": oauth_client.client_id}
    )
    assert response.status_code == 403
    assert "Photo Printer" in (await signed_in.get("/account")).text


async def test_one_user_cannot_revoke_anothers_consent(
    signed_in: httpx.AsyncClient, oauth_client: Client, app_client: AppClient, settings: Settings
) -> None:
    await _allow(signed_in, oauth_client)
    async with app_client(settings) as other:
        await sign_up(other, "mallory@example.com")
        response = await post_form(
            other,
            "/account/consents/revoke",
            {"client_id": oauth_client.client_id},
            page="/account",
        )
        assert response.headers["location"] == "/account?notice=consent-not-found"
    assert "Photo Printer" in (await signed_in.get("/account")).text
