"""The token endpoint (RFC 6749 §3.2, §5): POST only, a form body, JSON answers.

oauth_endpoint: form, client authentication, errors (web/oauth_endpoint.py)
  └─► grant_for(grant_type)   unsupported_grant_type / unauthorized_client
       └─► grant.handle(...)  the grant module does the rest
"""

from typing import Any

from starlette.requests import Request
from starlette.routing import Route

from gatepass.oauth.clients import Client
from gatepass.oauth.grants import TokenRequest, grant_for, parameters_of
from gatepass.web.oauth_endpoint import oauth_endpoint
from gatepass.web.state import Services


async def _exchange(
    request: Request, gp: Services, client: Client, form: dict[str, str]
) -> tuple[int, Any]:
    grant = grant_for(form.get("grant_type"), client)
    response = await grant.handle(TokenRequest(client, parameters_of(grant, form)), gp.grants)
    return 200, response.body()


routes = [Route("/token", oauth_endpoint(_exchange), methods=["POST"])]
