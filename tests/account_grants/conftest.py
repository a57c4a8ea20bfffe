"""Grants won through the real flow: sign up in a browser, /authorize, consent, /token.

`photo_app` is a public client registered for the code and refresh grants, so a grant
asking for `offline_access` carries a refresh token; `tokens` runs the whole flow and
`refresh` and `userinfo` say whether the tokens it returned still work.
"""

from dataclasses import dataclass
from typing import Any

import httpx
import jwt as pyjwt
import pytest

from gatepass.clock import SystemClock
from gatepass.config import Settings
from gatepass.crypto.master_key import load_master_key
from gatepass.oauth.clients import Client, ClientRegistration
from gatepass.oauth.registry import ClientRegistry
from gatepass.storage.backends import Backends
from tests.authorize.conftest import (
    REDIRECT_URI,
    MakeClient,
    authorize_url,
    new_pkce,
    redirect_params,
)
from tests.authorize.helpers import decide
from tests.support import sign_up

EMAIL = "ada@example.com"
OFFLINE = "openid email offline_access"
REFRESHING = ("authorization_code", "refresh_token")


@dataclass(frozen=True)
class Tokens:
    """What /token answered: the tokens and the family (grant) they belong to."""

    client_id: str
    access_token: str
    refresh_token: str | None

    @property
    def family_id(self) -> str:
        gid: str = self.claims["gid"]
        return gid

    @property
    def claims(self) -> dict[str, Any]:
        claims: dict[str, Any] = pyjwt.decode(
            self.access_token, options={"verify_signature": False}
        )
        return claims


@pytest.fixture
def make_app(settings: Settings, backends: Backends) -> MakeClient:
    registry = ClientRegistry(
        backends.clients, load_master_key(settings).client_secret_key(), SystemClock()
    )

    async def make(name: str = "Photo Printer") -> Client:
        client, _ = await registry.create(
            ClientRegistration(
                name=name, redirect_uris=(REDIRECT_URI,), public=True, grant_types=REFRESHING
            )
        )
        return client

    return make


@pytest.fixture
async def photo_app(make_app: MakeClient) -> Client:
    return await make_app()


@pytest.fixture
async def browser(client: httpx.AsyncClient) -> httpx.AsyncClient:
    """Ada, signed up and signed in."""
    response = await sign_up(client, EMAIL)
    assert response.status_code == 303, response.text
    return client


async def tokens(browser: httpx.AsyncClient, app: Client, scope: str = OFFLINE) -> Tokens:
    """Authorize `app` as the signed-in browser (consenting when asked), redeem the code."""
    pkce = new_pkce()
    page = await browser.get(authorize_url(app, pkce, scope=scope))
    # The consent page the first time; a remembered consent redirects straight back.
    answer = await decide(browser, page.text, "allow") if page.status_code == 200 else page
    code = redirect_params(answer)["code"]
    response = await browser.post(
        "/token",
        data={
            "grant_type": "authorization_code",
            "code": code,
            "redirect_uri": REDIRECT_URI,
            "code_verifier": pkce.verifier,
            "client_id": app.client_id,
        },
    )
    assert response.status_code == 200, response.text
    body = response.json()
    return Tokens(app.client_id, body["access_token"], body.get("refresh_token"))


async def refresh(http: httpx.AsyncClient, issued: Tokens) -> httpx.Response:
    assert issued.refresh_token is not None
    return await http.post(
        "/token",
        data={
            "grant_type": "refresh_token",
            "refresh_token": issued.refresh_token,
            "client_id": issued.client_id,
        },
    )


async def userinfo(http: httpx.AsyncClient, issued: Tokens) -> httpx.Response:
    return await http.get("/userinfo", headers={"Authorization": f"Bearer {issued.access_token}"})


async def assert_alive(http: httpx.AsyncClient, issued: Tokens) -> None:
    """The access token still reads /userinfo. (The refresh token is not tried: using it
    rotates it, and presenting it again later would be a reuse, refused whatever else
    happened; each test uses a refresh token once, at the end.)"""
    assert (await userinfo(http, issued)).status_code == 200


async def assert_dead(http: httpx.AsyncClient, issued: Tokens) -> None:
    """RFC 6749 §5.2 invalid_grant for the refresh token; RFC 6750 §3.1 invalid_token for
    the access token at /userinfo."""
    refused = await refresh(http, issued)
    assert refused.status_code == 400, refused.text
    assert refused.json()["error"] == "invalid_grant"
    answer = await userinfo(http, issued)
    assert answer.status_code == 401, answer.text
    assert 'error="invalid_token"' in answer.headers["www-authenticate"]
