"""Fuzz target: the parsers of request parameters and bodies (see fuzz/README.md)."""

import asyncio
import contextlib
import sys
from urllib.parse import parse_qs

import atheris

with atheris.instrument_imports(include=["gatepass"]):
    from starlette.requests import Request

    from gatepass.oauth.authorization_response import AuthorizationError, NoRedirectError
    from gatepass.oauth.authorize import parse_authorization_request
    from gatepass.oauth.client_auth import parse_client_credentials
    from gatepass.oauth.clients import Client
    from gatepass.oauth.errors import OAuthError
    from gatepass.oidc.logout import InvalidLogoutRequest, parse_logout_parameters
    from gatepass.web.errors import BadRequest
    from gatepass.web.forms import parse_form

ISSUER = "https://id.gatepass.test"
CLIENT = Client(
    client_id="app",
    name="App",
    secret_digest=None,
    redirect_uris=("https://app.example/cb", "http://127.0.0.1/cb"),
    post_logout_redirect_uris=(),
    grant_types=("authorization_code", "refresh_token"),
    scopes=("openid", "profile", "email", "offline_access"),
    first_party=False,
    id_token_alg="RS256",  # noqa: S106 - an algorithm name
    created_at=0.0,
    updated_at=0.0,
)
KINDS = ("application/x-www-form-urlencoded", "application/x-www-form-urlencoded; charset=x", "")


def _form(body: bytes, content_type: str) -> dict[str, str] | None:
    async def receive() -> dict[str, object]:
        return {"type": "http.request", "body": body, "more_body": False}

    headers = [(b"content-type", content_type.encode("latin-1"))]
    scope = {"type": "http", "method": "POST", "path": "/", "headers": headers}
    try:
        return asyncio.run(parse_form(Request(scope, receive)))
    except BadRequest:
        return None


def test_one_input(data: bytes) -> None:
    fdp = atheris.FuzzedDataProvider(data)
    content_type = KINDS[fdp.ConsumeIntInRange(0, len(KINDS) - 1)]
    authorization = fdp.ConsumeUnicodeNoSurrogates(fdp.ConsumeIntInRange(0, 200))
    body = fdp.ConsumeBytes(fdp.remaining_bytes())
    form = _form(body, content_type)
    query = parse_qs(body.decode("latin-1"), keep_blank_values=True)
    with contextlib.suppress(NoRedirectError, AuthorizationError):
        parse_authorization_request(query, CLIENT, issuer=ISSUER)
    with contextlib.suppress(OAuthError):
        parse_client_credentials(authorization or None, form or {})
    with contextlib.suppress(InvalidLogoutRequest):
        parse_logout_parameters(query)


if __name__ == "__main__":
    atheris.Setup(sys.argv, test_one_input)
    atheris.Fuzz()
