"""The refresh token grant (RFC 6749 §6; OIDC Core §12; RFC 9700 §4.14.2).

    client ── refresh_token, scope? ──► families.refresh (rotation, tokens/refresh.py)
      ├─ Rotated ─► user still allowed? ─► access token (gid = family id), the family's
      │                                    current refresh token, an id token for `openid`
      ├─ Reused ──► the family was revoked as stolen ─► invalid_grant
      └─ Refused ─► invalid_grant, nothing changed

The refreshed access token's scope is the requested one, which must be within the
family's (RFC 6749 §6); the refresh token keeps the family's whole scope (R11). One
description answers every refusal, so a caller cannot tell which check failed.
"""

from gatepass.oauth.errors import InvalidGrant, InvalidRequest, InvalidScope, InvalidTarget
from gatepass.oauth.grants.base import GrantContext, TokenRequest, TokenResponse
from gatepass.tokens.refresh import Refused, Reused

GRANT_TYPE = "refresh_token"
PARAMETERS = frozenset({"refresh_token", "scope", "resource"})
_REFUSED = "The refresh token is invalid, expired or revoked."


async def handle(request: TokenRequest, context: GrantContext) -> TokenResponse:
    params, client = request.parameters, request.client
    token = params.get("refresh_token")
    if token is None:
        raise InvalidRequest("The refresh_token parameter is required.")
    result = await context.families.refresh(token, client.client_id)
    if isinstance(result, Reused):
        raise InvalidGrant(
            _REFUSED, debug=f"rotated token reused; family {result.family_id} revoked"
        )
    if isinstance(result, Refused):
        raise InvalidGrant(_REFUSED, debug=result.reason)
    family = result.family
    released = await context.signed_in_user(family.user_id)
    if released is None:
        await context.families.revoke(family.id)
        raise InvalidGrant(_REFUSED, debug="user gone or disabled; family revoked")
    scope = _narrowed(params.get("scope"), family.scopes)
    # RFC 8707 §2.2: a refresh may name the resource again, never a new one.
    resource = params.get("resource")
    if resource is not None and resource != family.resource:
        raise InvalidTarget("The resource is not one this grant was issued for.")
    access = await context.access_tokens.issue(
        subject=family.user_id,
        client_id=client.client_id,
        scope=scope,
        audience=family.resource or client.default_audience,
        auth_time=family.auth_time,
        grant_id=family.id,
    )
    id_token = None
    if "openid" in scope:
        # OIDC Core §12.2: same iss, sub, aud and auth_time as the first one; no nonce.
        id_token = await context.id_tokens.issue(
            client_id=client.client_id,
            alg=client.id_token_alg,
            subject=family.user_id,
            auth_time=family.auth_time,
            sid=family.session_id,
            access_token=access.token,
            amr=family.amr,
            idp=family.idp,
            user_claims=released(scope),
        )
    return TokenResponse(
        access.token, access.expires_in, access.claims.scope, id_token, result.refresh_token
    )


def _narrowed(requested: str | None, granted: tuple[str, ...]) -> tuple[str, ...]:
    """RFC 6749 §6: the requested scope MUST NOT include any scope not originally granted;
    omitted, it is the original scope."""
    if requested is None:
        return granted
    scopes = tuple(dict.fromkeys(requested.split()))
    beyond = [scope for scope in scopes if scope not in granted]
    if beyond:
        raise InvalidScope(f"Scope {beyond[0]!r} was not granted to this refresh token.")
    return scopes
