"""One authorization code flow, end to end: Authlib builds the request, the browser takes
it through the provider's pages, the callback is checked as a careful client would.

    Authlib: create_authorization_url (S256 challenge, state, nonce)
      └─► browser: /authorize ─► login page ─► consent page ─► 303 redirect_uri?code&state&iss
            └─► check state and iss (RFC 9207 §2.4) ─► Authlib: fetch_token(code, verifier)
"""

import secrets
from dataclasses import dataclass
from typing import Any

import httpx

from tests.interop.relying_party import AsyncOAuth2Client, Provider
from tests.interop.user_agent import User, visit

# A web application's callback: the browser never reaches it, the flow stops at the redirect.
WEB_APP_CALLBACK = "https://rp.interop.example/callback"


@dataclass(frozen=True)
class Callback:
    """Where the provider sent the browser back, and what the client had asked with."""

    url: httpx.URL
    state: str
    nonce: str
    code_verifier: str

    @property
    def params(self) -> dict[str, str]:
        query = self.url.params
        assert all(len(query.get_list(name)) == 1 for name in query), f"repeated: {query}"
        return dict(query)


async def authorize(
    rp: AsyncOAuth2Client,
    provider: Provider,
    browser: httpx.AsyncClient,
    user: User | None,
    *,
    decision: str = "allow",
    **extra: Any,
) -> Callback:
    """Run the front channel, `decision` on the consent page if it shows; `extra` goes
    into the authorization request (prompt, max_age, ...)."""
    code_verifier = secrets.token_urlsafe(48)  # RFC 7636 §4.1: 43 to 128 characters
    nonce = secrets.token_urlsafe(16)
    url, state = rp.create_authorization_url(
        provider.endpoint("authorization_endpoint"),
        code_verifier=code_verifier,
        nonce=nonce,
        **extra,
    )
    redirect_uri: str = rp.redirect_uri
    landed = await visit(browser, url, leaving_for=redirect_uri, user=user, decision=decision)
    callback = Callback(landed, state, nonce, code_verifier)
    assert str(landed).split("?")[0] == redirect_uri
    params = callback.params
    # RFC 6749 §4.1.2: state comes back unchanged; RFC 9207 §2: so does the issuer, which
    # the client MUST compare with the one it discovered (§2.4) before using the code.
    assert params["state"] == state
    assert params["iss"] == provider.issuer
    return callback


async def redeem(
    rp: AsyncOAuth2Client, provider: Provider, callback: Callback, **extra: Any
) -> dict[str, Any]:
    """Authlib's token request for the callback's code (it checks `state` again itself)."""
    token: dict[str, Any] = await rp.fetch_token(
        provider.endpoint("token_endpoint"),
        authorization_response=str(callback.url),
        state=callback.state,
        code_verifier=extra.pop("code_verifier", callback.code_verifier),
        **extra,
    )
    return token
