"""Fixtures for upstream login through gatepass's web pages.

The relying party is gatepass in-process (every backend); the upstream is real: an
oidc-provider from npm (`corp`), a GitHub stand-in, or another `gatepass serve`.
"""

import secrets
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from typing import Any

import httpx
import pytest

from gatepass.config import ProviderSettings, Secret, Settings
from gatepass.storage.backends import Backends
from tests.federation import oidc_provider
from tests.federation.harness_fixtures import (  # noqa: F401 - fixtures for this folder
    StartOidcProvider,
    oidc_provider_install,
    start_github_standin,
    start_oidc_provider,
)
from tests.federation.oidc_provider import OidcAccount, OidcClient
from tests.support import ISSUER, test_backends, web_client

CORP = "corp"
CORP_NAME = "Corp SSO"
RP_CLIENT_ID = "gatepass-rp"
# The people the upstream knows: the login typed there is their `sub`.
PEOPLE = {
    "alice": OidcAccount("alice@example.com", True, "Alice Liddell"),
    "bob": OidcAccount("bob@example.com", False, "Bob Unverified"),
    "carol": OidcAccount("carol@example.com", True, "Carol Local"),
}


def callback_of(name: str) -> str:
    return f"{ISSUER}/login/{name}/callback"


def provider_settings(name: str, issuer: str, secret: str, **changes: Any) -> ProviderSettings:
    values: dict[str, Any] = {
        "name": name,
        "kind": "oidc",
        "issuer": issuer,
        "client_id": RP_CLIENT_ID,
        "client_secret": Secret(secret),
        "scopes": ("openid", "email", "profile"),
        "display_name": CORP_NAME,
    }
    return ProviderSettings(**(values | changes))


@dataclass
class RelyingParty:
    """gatepass in-process with the corp provider configured, and its backends."""

    settings: Settings
    backends: Backends
    corp_issuer: str

    def browser(self) -> Any:
        """A new browser (cookie jar) on the relying party; it never follows redirects."""
        return web_client(self.settings, self.backends)


@pytest.fixture
def corp_secret() -> str:
    return secrets.token_urlsafe(32)


@pytest.fixture
def corp(start_oidc_provider: StartOidcProvider, corp_secret: str) -> str:  # noqa: F811
    """A running oidc-provider that knows gatepass as a client; its issuer."""
    client = OidcClient(RP_CLIENT_ID, corp_secret, (callback_of(CORP),))
    return start_oidc_provider([client], PEOPLE)


@pytest.fixture
async def rp(
    make_settings: Callable[..., Settings], corp: str, corp_secret: str
) -> AsyncIterator[RelyingParty]:
    settings = make_settings(providers=(provider_settings(CORP, corp, corp_secret),))
    async with test_backends(settings) as backends:
        yield RelyingParty(settings, backends, corp)


async def upstream_sign_in(
    browser: httpx.AsyncClient, login: str, *, next_path: str = "/account", consent: bool = True
) -> httpx.Response:
    """Click "Continue with Corp SSO", sign in at the upstream as `login` (a fresh upstream
    browser each time), and return gatepass's answer to the callback."""
    start = await browser.get(f"/login/{CORP}", params={"next": next_path})
    assert start.status_code == 303, start.text
    async with httpx.AsyncClient(timeout=30, follow_redirects=False) as upstream:
        back = await oidc_provider.sign_in(
            upstream, start.headers["location"], login, consent=consent
        )
    assert back.startswith(callback_of(CORP)), back
    return await browser.get(back)
