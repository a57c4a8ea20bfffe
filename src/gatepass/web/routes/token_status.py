"""`POST /revoke` (RFC 7009) and `POST /introspect` (RFC 7662): the authorization server
answering about its own tokens, to authenticated clients, never cached."""

from typing import Any

from starlette.requests import Request
from starlette.routing import Route

from gatepass.oauth.clients import Client
from gatepass.oauth.errors import InvalidRequest
from gatepass.oauth.introspection import introspect
from gatepass.oauth.revocation import revoke
from gatepass.web.oauth_endpoint import oauth_endpoint
from gatepass.web.state import Services


def _token(form: dict[str, str]) -> str:
    # RFC 7009 §2.1, RFC 7662 §2.1: REQUIRED. `token_type_hint` is read by nobody: the
    # token's shape tells its kind (oauth/presented_tokens.py).
    token = form.get("token")
    if not token:
        raise InvalidRequest("The token parameter is required.")
    return token


async def _revoke(
    request: Request, gp: Services, client: Client, form: dict[str, str]
) -> tuple[int, Any]:
    await revoke(_token(form), client, gp.grants)
    return 200, None  # §2.2: 200 whether or not there was anything to revoke


async def _introspect(
    request: Request, gp: Services, client: Client, form: dict[str, str]
) -> tuple[int, Any]:
    return 200, await introspect(_token(form), client, gp.grants)


routes = [
    Route("/revoke", oauth_endpoint(_revoke), methods=["POST"]),
    Route("/introspect", oauth_endpoint(_introspect), methods=["POST"]),
]
