"""Fixtures for the authorization endpoint: a registered client, a signed-up user, PKCE."""

import secrets
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

import httpx
import pytest

from gatepass.clock import SystemClock
from gatepass.config import Settings
from gatepass.crypto.master_key import load_master_key
from gatepass.oauth.clients import Client, ClientRegistration
from gatepass.oauth.codes import AuthorizationCodes
from gatepass.oauth.pkce import s256
from gatepass.oauth.registry import ClientRegistry
from gatepass.storage.backends import Backends
from tests.support import sign_up

REDIRECT_URI = "https://app.example.com/callback"
EMAIL = "alice@example.com"


@dataclass(frozen=True)
class Pkce:
    verifier: str
    challenge: str


def new_pkce() -> Pkce:
    verifier = secrets.token_urlsafe(48)
    return Pkce(verifier, s256(verifier))


def authorize_url(client: Client, pkce: Pkce, **overrides: str | None) -> str:
    params: dict[str, str | None] = {
        "response_type": "code",
        "client_id": client.client_id,
        "redirect_uri": REDIRECT_URI,
        "scope": "openid profile email",
        "state": "st-" + secrets.token_hex(4),
        "nonce": "n-" + secrets.token_hex(4),
        "code_challenge": pkce.challenge,
        "code_challenge_method": "S256",
        **overrides,
    }
    return "/authorize?" + urlencode({k: v for k, v in params.items() if v is not None})


def redirect_params(response: httpx.Response) -> dict[str, str]:
    """The query of a redirect to the client; asserts it is a 303 to the redirect URI."""
    assert response.status_code == 303, (response.status_code, response.text[:300])
    location = response.headers["location"]
    assert location.startswith(REDIRECT_URI + "?"), location
    return {name: values[0] for name, values in parse_qs(urlsplit(location).query).items()}


MakeClient = Callable[..., Awaitable[Client]]


@pytest.fixture
def registry(settings: Settings, backends: Backends) -> ClientRegistry:
    return ClientRegistry(
        backends.clients, load_master_key(settings).client_secret_key(), SystemClock()
    )


@pytest.fixture
def codes(settings: Settings, backends: Backends) -> AuthorizationCodes:
    return AuthorizationCodes(backends.codes, SystemClock(), ttl_seconds=settings.code_ttl)


@pytest.fixture
def make_client(registry: ClientRegistry) -> MakeClient:
    async def make(**fields: Any) -> Client:
        registration = ClientRegistration(
            name=fields.pop("name", "Photo Printer"),
            redirect_uris=(REDIRECT_URI,),
            public=fields.pop("public", True),
            **fields,
        )
        client, _ = await registry.create(registration)
        return client

    return make


@pytest.fixture
async def oauth_client(make_client: MakeClient) -> Client:
    return await make_client()


@pytest.fixture
async def signed_in(client: httpx.AsyncClient) -> httpx.AsyncClient:
    response = await sign_up(client, EMAIL)
    assert response.status_code == 303
    return client
