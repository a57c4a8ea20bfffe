"""The client credentials grant (RFC 6749 §4.4; RFC 8707 for `resource`).

    confidential client ── scope?, resource? ──► (authenticated by the endpoint)
      ├─ public client ──────────────────────► unauthorized_client
      ├─ scope beyond its API scopes ────────► invalid_scope
      ├─ resource not an absolute URI ───────► invalid_target
      └─ access token: sub = client_id = the client; aud = resource, else the client's
         default audience, else the server's; no gid, no refresh token, no id token

The client acts for itself: no user, so no id token, and OIDC's user-facing scopes
(openid, profile, email, offline_access) are never granted here. `sub` is the client id,
which can never equal a user id (R29: client ids carry the `gpc_` prefix, user ids are
UUIDs). No grant id either: there is no family to revoke, and a token lives only its
short lifetime; the client asks again, which costs one HMAC and one signature.
"""

from gatepass.oauth.clients import STANDARD_SCOPES, Client
from gatepass.oauth.errors import InvalidScope, InvalidTarget, UnauthorizedClient
from gatepass.oauth.grants.base import GrantContext, TokenRequest, TokenResponse
from gatepass.oauth.resource_indicators import is_resource_uri

GRANT_TYPE = "client_credentials"
PARAMETERS = frozenset({"scope", "resource"})
# OIDC scopes name claims about a user (OIDC Core §5.4, §11): there is none in this grant.
USER_SCOPES = frozenset(STANDARD_SCOPES)


async def handle(request: TokenRequest, context: GrantContext) -> TokenResponse:
    params, client = request.parameters, request.client
    # RFC 6749 §4.4: the client credentials grant MUST only be used by confidential
    # clients. Registration refuses it to public ones; this holds even if a record says so.
    if not client.confidential:
        raise UnauthorizedClient("client_credentials is only for confidential clients.")
    scope = _scopes(params.get("scope"), client)
    audience = _audience(params.get("resource"), context.access_tokens.policy.issuer)
    access = await context.access_tokens.issue(
        subject=client.client_id,
        client_id=client.client_id,
        scope=scope,
        # RFC 8707; else the client's registered default; else the server's (None).
        audience=audience or client.default_audience,
    )
    # RFC 6749 §4.4.3: a refresh token SHOULD NOT be included.
    return TokenResponse(access.token, access.expires_in, access.claims.scope)


def _api_scopes(client: Client) -> tuple[str, ...]:
    """The client's registered scopes this grant may give: all but the OIDC user scopes."""
    return tuple(scope for scope in client.scopes if scope not in USER_SCOPES)


def _scopes(requested: str | None, client: Client) -> tuple[str, ...]:
    """RFC 6749 §3.3: the requested scopes, each one the client's; omitted, the server
    uses a pre-defined default: every API scope the client registered. With none
    registered the request fails, as §3.3 allows, rather than mint a token for nothing."""
    allowed = _api_scopes(client)
    if requested is None:
        if not allowed:
            raise InvalidScope("This client has no scopes registered for client_credentials.")
        return allowed
    # RFC 6749 §3.3: a list of space-delimited, case-sensitive strings.
    scopes = tuple(dict.fromkeys(token for token in requested.split(" ") if token))
    if not scopes:
        raise InvalidScope("scope is empty.")
    beyond = [scope for scope in scopes if scope not in allowed]
    if beyond:
        raise InvalidScope(f"Scope not allowed for client_credentials: {beyond[0][:100]}.")
    return scopes


def _audience(resource: str | None, issuer: str) -> str | None:
    """RFC 8707 §2: one absolute URI without a fragment (the form parser refuses a repeated
    field). Never the issuer itself, as for every configured audience (config.py): an
    access token must not pass for an assertion addressed to this server."""
    if resource is None:
        return None
    if not is_resource_uri(resource):
        raise InvalidTarget("resource must be an absolute URI without a fragment.")
    if resource.rstrip("/") == issuer:
        raise InvalidTarget("resource must not be the authorization server itself.")
    return resource
