"""/userinfo with the access token of a real login: /authorize, consent, /token (OIDC Core
§5.3), on every backend, by GET and by POST."""

from typing import Any

import httpx
import jwt as pyjwt
import pytest

from gatepass.clock import SystemClock
from gatepass.config import Settings
from gatepass.crypto.master_key import load_master_key
from gatepass.oauth.clients import ClientRegistration
from gatepass.oauth.registry import ClientRegistry
from gatepass.storage.backends import Backends
from tests.authorize.conftest import REDIRECT_URI, authorize_url, new_pkce, redirect_params
from tests.authorize.helpers import decide
from tests.support import sign_up
from tests.userinfo.conftest import ask

EMAIL = "grace@example.com"
NAME = "Grace Hopper"


async def log_in_and_authorize(
    client: httpx.AsyncClient, settings: Settings, backends: Backends, scope: str
) -> dict[str, str]:
    """Sign up, authorize a public client with PKCE, consent: the token request's form."""
    registry = ClientRegistry(
        backends.clients, load_master_key(settings).client_secret_key(), SystemClock()
    )
    oauth_client, _ = await registry.create(
        ClientRegistration(name="Photo Printer", redirect_uris=(REDIRECT_URI,), public=True)
    )
    assert (await sign_up(client, EMAIL, name=NAME)).status_code == 303
    pkce = new_pkce()
    page = await client.get(authorize_url(oauth_client, pkce, scope=scope))
    assert page.status_code == 200, page.text[:300]
    return {
        "grant_type": "authorization_code",
        "code": redirect_params(await decide(client, page.text, "allow"))["code"],
        "redirect_uri": REDIRECT_URI,
        "code_verifier": pkce.verifier,
        "client_id": oauth_client.client_id,
    }


async def log_in_and_get_tokens(
    client: httpx.AsyncClient, settings: Settings, backends: Backends, scope: str
) -> dict[str, Any]:
    response = await client.post(
        "/token", data=await log_in_and_authorize(client, settings, backends, scope)
    )
    assert response.status_code == 200, response.text
    tokens: dict[str, Any] = response.json()
    return tokens


@pytest.mark.parametrize("method", ["GET", "POST"])
async def test_a_logged_in_users_token_reads_their_claims__oidc_core_5_3(
    method: str, client: httpx.AsyncClient, settings: Settings, backends: Backends
) -> None:
    tokens = await log_in_and_get_tokens(client, settings, backends, "openid profile email")
    # The browser's session cookie must play no part: only the bearer token counts.
    client.cookies.clear()

    response = await ask(client, method, tokens["access_token"])

    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "application/json"
    id_token = pyjwt.decode(tokens["id_token"], options={"verify_signature": False})
    # Core §5.3.2: the sub MUST exactly match the id token's.
    assert response.json() == {
        "sub": id_token["sub"],
        "email": EMAIL,
        "email_verified": False,
        "name": NAME,
    }


async def test_the_id_token_of_a_real_login_is_refused_as_a_bearer__rfc9068_4(
    client: httpx.AsyncClient, settings: Settings, backends: Backends
) -> None:
    tokens = await log_in_and_get_tokens(client, settings, backends, "openid email")
    response = await ask(client, "GET", tokens["id_token"])
    assert response.status_code == 401
    assert 'error="invalid_token"' in response.headers["www-authenticate"]


async def test_a_second_redemption_of_the_code_revokes_userinfo_access__rfc6749_4_1_2(
    client: httpx.AsyncClient, settings: Settings, backends: Backends
) -> None:
    form = await log_in_and_authorize(client, settings, backends, "openid")
    first = (await client.post("/token", data=form)).json()["access_token"]
    assert (await ask(client, "GET", first)).status_code == 200

    replay = await client.post("/token", data=form)
    assert replay.status_code == 400

    refused = await ask(client, "GET", first)
    assert refused.status_code == 401
    assert 'error="invalid_token"' in refused.headers["www-authenticate"]
    assert refused.json()["error"] == "invalid_token"
