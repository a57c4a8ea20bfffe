"""Token revocation (RFC 7009): a client ends one of its own tokens.

refresh token ─► its family ─► revoked: every refresh and access token of the grant
                               (RFC 7009 §2.1: SHOULD also invalidate access tokens
                               of the same grant)
access token ──► its jti, until its exp (the revocation log; verifiers learn of it
                 from the feed)
unknown, malformed, expired, of another issuer ─► nothing to do: 200 all the same
                 (§2.2: the client could do nothing sensible with an error)
another client's token ─► unauthorized_client, nothing revoked (§2.1)
"""

from gatepass.oauth.clients import Client
from gatepass.oauth.errors import UnauthorizedClient
from gatepass.oauth.grants.base import GrantContext
from gatepass.oauth.presented_tokens import access_token_of

_NOT_YOURS = "The token was not issued to this client."


async def revoke(token: str, client: Client, context: GrantContext) -> None:
    family = await context.families.owner_of(token)
    if family is not None:
        if family.client_id != client.client_id:
            raise UnauthorizedClient(_NOT_YOURS, debug="refresh token of another client")
        await context.families.revoke(family.id)
        return
    claims = await access_token_of(token, context)
    if claims is None:
        return
    if claims.client_id != client.client_id:
        raise UnauthorizedClient(_NOT_YOURS, debug="access token of another client")
    await context.revocations.revoke_token(claims.jti, until=claims.expires_at)
