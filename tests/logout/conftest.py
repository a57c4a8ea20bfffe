"""Fixtures for RP-Initiated Logout: clients with post-logout URIs, and real id tokens.

An id token is obtained as a relying party would: /authorize in the signed-in browser,
then /token with the code, so its `sid` names the browser's real session.
"""

from collections.abc import Awaitable, Callable
from typing import Any
from urllib.parse import urlencode

import httpx
import pytest

from gatepass.clock import SystemClock
from gatepass.config import Settings
from gatepass.crypto.master_key import load_master_key
from gatepass.oauth.clients import Client, ClientRegistration
from gatepass.oauth.registry import ClientRegistry
from gatepass.storage.backends import Backends
from tests.authorize.conftest import REDIRECT_URI, authorize_url, new_pkce, redirect_params
from tests.web.conftest import Cores
from tests.web.conftest import second_device as second_device  # another browser
from tests.web.conftest import services as services  # the cores on the same storage

BYE = "https://app.example.com/bye"
OTHER_BYE = "https://app.example.com/see-you"

MakeClient = Callable[..., Awaitable[Client]]


@pytest.fixture
def registry(settings: Settings, backends: Backends) -> ClientRegistry:
    key = load_master_key(settings).client_secret_key()
    return ClientRegistry(backends.clients, key, SystemClock())


@pytest.fixture
def make_client(registry: ClientRegistry) -> MakeClient:
    """A first-party public client (no consent page in the way) with BYE registered."""

    async def make(**fields: Any) -> Client:
        registration = ClientRegistration(
            name=fields.pop("name", "Photo Printer"),
            redirect_uris=(REDIRECT_URI,),
            public=True,
            first_party=True,
            post_logout_redirect_uris=fields.pop("post_logout_redirect_uris", (BYE, OTHER_BYE)),
            **fields,
        )
        client, _ = await registry.create(registration)
        return client

    return make


@pytest.fixture
async def rp(make_client: MakeClient) -> Client:
    return await make_client()


async def tokens_for(http: httpx.AsyncClient, client: Client) -> dict[str, str]:
    """Sign `client` in through the signed-in browser `http`: /authorize, then /token."""
    pkce = new_pkce()
    code = redirect_params(await http.get(authorize_url(client, pkce)))["code"]
    response = await http.post(
        "/token",
        data={
            "grant_type": "authorization_code",
            "code": code,
            "redirect_uri": REDIRECT_URI,
            "code_verifier": pkce.verifier,
            "client_id": client.client_id,
        },
    )
    assert response.status_code == 200, response.text
    tokens: dict[str, str] = response.json()
    return tokens


async def id_token_for(http: httpx.AsyncClient, client: Client) -> str:
    return (await tokens_for(http, client))["id_token"]


def logout_url(**params: str) -> str:
    return "/logout?" + urlencode(params)


__all__ = [
    "BYE",
    "OTHER_BYE",
    "Cores",
    "MakeClient",
    "id_token_for",
    "logout_url",
    "second_device",
    "services",
    "tokens_for",
]
