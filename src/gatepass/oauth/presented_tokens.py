"""Which token a client presents at /revoke or /introspect: one of ours, and of which kind.

The two kinds cannot be confused by shape: an access token is a JWT (three dot-separated
parts), a refresh token 43 URL-safe characters without a dot. So the `token_type_hint`
(RFC 7009 §2.1, RFC 7662 §2.1) is read as what it is, a hint: it never decides.
"""

from gatepass.errors import InvalidToken
from gatepass.oauth.grants.base import GrantContext
from gatepass.tokens.access_tokens import AccessTokenClaims

MAX_TOKEN_LENGTH = 8192  # a JWT of ours is under 2 KiB; anything far larger is not one


async def access_token_of(
    token: str, context: GrantContext, *, allow_expired: bool = False
) -> AccessTokenClaims | None:
    """The claims of an access token this issuer signed (any audience), or None."""
    if "." not in token or len(token) > MAX_TOKEN_LENGTH:
        return None
    try:
        return await context.access_tokens.read(token, allow_expired=allow_expired)
    except InvalidToken:
        return None


def is_user_token(claims: AccessTokenClaims) -> bool:
    """Issued for a user (under a grant), not to a client for itself (client_credentials)."""
    return claims.grant_id is not None
