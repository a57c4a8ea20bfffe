"""The relying party: Authlib's httpx OAuth 2.0 client, driven as an application would.

Everything it needs from the provider comes from discovery; the only path written
here is the well-known one, which OIDC Discovery §4 fixes.
"""

import warnings
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any

import httpx

# Authlib 1.9 prefers the `httpx2` fork and warns, once at import, when it falls back to
# httpx, which gatepass's tests use everywhere (the fallback is the same client). Its
# warning module puts an "always" filter first when imported, so it is imported before
# the "ignore" filter goes in front of it.
with warnings.catch_warnings():
    from authlib.deprecate import AuthlibDeprecationWarning

    warnings.filterwarnings("ignore", "The httpx module is deprecated", AuthlibDeprecationWarning)
    from authlib.integrations.httpx_client import AsyncOAuth2Client, OAuthError

OPENID_CONFIGURATION = "/.well-known/openid-configuration"
SCOPE = "openid profile email"
CLIENT_TIMEOUT_SECONDS = 30

__all__ = [
    "OPENID_CONFIGURATION",
    "SCOPE",
    "AsyncOAuth2Client",
    "OAuthError",
    "Provider",
    "RegisteredClient",
    "TokenResponses",
    "discover",
    "relying_party",
]


@dataclass(frozen=True)
class RegisteredClient:
    """What `gatepass client create --json` told the operator."""

    client_id: str
    client_secret: str | None
    redirect_uri: str
    token_endpoint_auth_method: str
    post_logout_redirect_uri: str | None = None


@dataclass(frozen=True)
class Provider:
    """The discovered metadata (OIDC Discovery §3)."""

    metadata: dict[str, Any]

    @property
    def issuer(self) -> str:
        issuer: str = self.metadata["issuer"]
        return issuer

    def endpoint(self, name: str) -> str:
        """An endpoint's URL from the metadata; a clear failure when it is not advertised."""
        url = self.metadata.get(name)
        assert isinstance(url, str), f"discovery does not advertise {name}"
        return url


@dataclass
class TokenResponses:
    """Every token-endpoint response Authlib received, seen through its compliance hook."""

    seen: list[httpx.Response] = field(default_factory=list)

    def hook(self, response: httpx.Response) -> httpx.Response:
        self.seen.append(response)
        return response


@asynccontextmanager
async def relying_party(
    client: RegisteredClient | None = None, **kwargs: Any
) -> AsyncIterator[AsyncOAuth2Client]:
    """Authlib's client for `client` (or an anonymous one, for discovery): S256 PKCE,
    the client's registered auth method (client_secret_basic, or none for a public one);
    `kwargs` override any of that (a loopback redirect URI with a port, say)."""
    settings: dict[str, Any] = {"timeout": CLIENT_TIMEOUT_SECONDS}
    if client is not None:
        settings |= {
            "client_id": client.client_id,
            "client_secret": client.client_secret,
            "token_endpoint_auth_method": client.token_endpoint_auth_method,
            "redirect_uri": client.redirect_uri,
            "scope": SCOPE,
            "code_challenge_method": "S256",
        }
    async with AsyncOAuth2Client(**(settings | kwargs)) as rp:
        yield rp


async def discover(rp: AsyncOAuth2Client, issuer: str) -> Provider:
    # `get` cannot say withhold_token; Authlib refuses a tokenless request without it.
    response = await rp.request("GET", issuer + OPENID_CONFIGURATION, withhold_token=True)
    assert response.status_code == 200, response.text
    provider = Provider(response.json())
    # OIDC Discovery §4.3: the issuer MUST be identical to the URL discovery was built from.
    assert provider.issuer == issuer
    return provider
