"""Token introspection (RFC 7662): is this token active, and what does it say?

Only confidential clients may ask (a resource server registers as one): introspection
tells who a token belongs to, and a public client proves nothing about itself.

    access token ─► signature, issuer, typ, exp (any audience: the asker may be any API)
                    ─► not revoked (jti, grant, the user's not-before) ─► user still allowed
    refresh token ─► the live family's *current* token, asked by the client it belongs to
    anything else: {"active": false} and nothing more (§2.2), whatever the reason
"""

from typing import Any

from gatepass.oauth.clients import Client
from gatepass.oauth.errors import InvalidClient
from gatepass.oauth.grants.base import GrantContext
from gatepass.oauth.presented_tokens import access_token_of, is_user_token
from gatepass.tokens.access_tokens import AccessTokenClaims
from gatepass.tokens.families import TokenFamily
from gatepass.tokens.revocation import facts_of

INACTIVE: dict[str, Any] = {"active": False}


async def introspect(token: str, client: Client, context: GrantContext) -> dict[str, Any]:
    if not client.confidential:
        raise InvalidClient("Introspection is for confidential clients.", debug="public client")
    family = await context.families.find(token)
    if family is not None:
        return await _refresh_token(family, client, context)
    claims = await access_token_of(token, context)
    if claims is None:
        return INACTIVE
    return await _access_token(claims, context)


async def _access_token(claims: AccessTokenClaims, context: GrantContext) -> dict[str, Any]:
    if not await context.revocations.is_active(facts_of(claims)):
        return INACTIVE
    if is_user_token(claims) and not await context.user_may_sign_in(claims.subject):
        return INACTIVE
    body = claims.as_jwt_claims()
    body.pop("gid", None)  # gatepass's own bookkeeping, not for resource servers
    return {"active": True, "token_type": "Bearer", **body}


async def _refresh_token(
    family: TokenFamily, client: Client, context: GrantContext
) -> dict[str, Any]:
    # A refresh token is its client's business alone (RFC 7662 §4: the server decides
    # who may learn what); another asker learns nothing, not even that it exists.
    if family.client_id != client.client_id:
        return INACTIVE
    if not await context.user_may_sign_in(family.user_id):
        return INACTIVE
    return {
        "active": True,
        "token_type": "refresh_token",
        "client_id": family.client_id,
        "sub": family.user_id,
        "scope": " ".join(family.scopes),
        "iss": context.access_tokens.policy.issuer,
        "iat": int(family.rotated_at or family.created_at),
        "exp": int(family.ends_at()),
    }
