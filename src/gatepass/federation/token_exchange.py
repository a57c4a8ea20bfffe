"""The code exchange (RFC 6749 §4.1.3), server-side, with the PKCE verifier (RFC 7636 §4.5).

Client authentication is client_secret_basic (RFC 6749 §2.3.1: id and secret form-encoded,
then Basic) unless the provider accepts only client_secret_post; GitHub takes post.
"""

import base64
from dataclasses import dataclass
from urllib.parse import quote_plus

import httpx

from gatepass.federation.http import call
from gatepass.federation.metadata import POST
from gatepass.federation.model import UpstreamError, UpstreamProvider

MAX_TOKEN_CHARS = 16_384


@dataclass(frozen=True)
class TokenResponse:
    access_token: str
    id_token: str | None


async def exchange_code(
    http: httpx.AsyncClient,
    provider: UpstreamProvider,
    token_endpoint: str,
    *,
    auth_method: str,
    code: str,
    code_verifier: str,
    redirect_uri: str,
) -> TokenResponse:
    data = {
        "grant_type": "authorization_code",
        "code": code,
        "redirect_uri": redirect_uri,
        "code_verifier": code_verifier,
    }
    headers: dict[str, str] = {}
    if auth_method == POST:
        data |= {"client_id": provider.client_id, "client_secret": provider.client_secret}
    else:
        pair = f"{quote_plus(provider.client_id)}:{quote_plus(provider.client_secret)}"
        headers["Authorization"] = "Basic " + base64.b64encode(pair.encode()).decode("ascii")
    answer = await call(http, "POST", token_endpoint, headers=headers, data=data)
    if answer.status >= 500:
        raise UpstreamError("unavailable", f"token endpoint answered HTTP {answer.status}")
    body = answer.json()
    if not isinstance(body, dict):
        raise UpstreamError("unavailable", "token response is not a JSON object")
    # GitHub answers errors with 200 and an `error` member; RFC 6749 §5.2 with 400 or 401.
    if answer.status != 200 or "error" in body:
        error = str(body.get("error", ""))[:100]
        raise UpstreamError("exchange_failed", f"HTTP {answer.status} error={error!r}")
    return _tokens(body)


def _tokens(body: dict[str, object]) -> TokenResponse:
    access_token, id_token = body.get("access_token"), body.get("id_token")
    token_type = body.get("token_type")
    if not isinstance(access_token, str) or not 0 < len(access_token) <= MAX_TOKEN_CHARS:
        raise UpstreamError("exchange_failed", "token response without an access token")
    if not isinstance(token_type, str) or token_type.lower() != "bearer":
        raise UpstreamError("exchange_failed", f"token type {str(token_type)[:40]!r}")
    if id_token is not None and not isinstance(id_token, str):
        raise UpstreamError("invalid_id_token", "id_token is not a string")
    return TokenResponse(access_token, id_token)
