"""The authorization code grant at the token endpoint (RFC 6749 §4.1.3, §4.1.4; OIDC Core §3.1.3).

    client ── code, redirect_uri, code_verifier ──► redeem (atomic, once)
      ├─ Redeemed ─────────► user still allowed? ─► access token (gid = grant id)
      │                                              + a token family under that id, with a
      │                                                refresh token for offline_access
      │                                              + id token when `openid` was granted
      ├─ AlreadyRedeemed ──► revoke the grant the first redemption issued; invalid_grant
      └─ Invalid ──────────► invalid_grant, nothing revoked

SECURITY.md decision 2 (OAuth 2.1 §7.5.2): only a second *valid* redemption revokes;
a replay with other parameters may be an attacker's and must not end the user's grant.
Revoking the family records the grant as revoked (durably, in SQL); the tokens carry the
grant id as `gid`, and verifiers learn of the revocation through the revocation feed.
"""

from gatepass.oauth.clients import REFRESH_TOKEN, Client
from gatepass.oauth.codes import CODE_REFUSED, AlreadyRedeemed, Invalid
from gatepass.oauth.errors import InvalidGrant, InvalidRequest
from gatepass.oauth.grants.base import GrantContext, TokenRequest, TokenResponse
from gatepass.tokens.refresh import FamilyStart
from gatepass.tokens.revocation_event import TokenFacts

GRANT_TYPE = "authorization_code"
PARAMETERS = frozenset({"code", "redirect_uri", "code_verifier"})


async def handle(request: TokenRequest, context: GrantContext) -> TokenResponse:
    params, client = request.parameters, request.client
    code = params.get("code")
    if code is None:
        raise InvalidRequest("The code parameter is required.")
    result = await context.codes.redeem(
        code,
        client_id=client.client_id,
        # RFC 6749 §4.1.3: REQUIRED, and identical to the authorization request's.
        redirect_uri=params.get("redirect_uri"),
        # RFC 7636 §4.6; OAuth 2.1 §4.1.3: every code carries an S256 challenge.
        code_verifier=params.get("code_verifier"),
    )
    if isinstance(result, AlreadyRedeemed):
        # RFC 6749 §4.1.2: the authorization server SHOULD revoke all tokens
        # previously issued based on that authorization code: its family, refresh included.
        await context.families.revoke(result.grant_id)
        raise result.as_error()
    if isinstance(result, Invalid):
        raise result.as_error()
    record = result.code
    released = await context.signed_in_user(record.user_id)
    if released is None:
        raise InvalidGrant("The resource owner can no longer authorize.", debug="user gone")
    # A code outlives nothing it came from: not the login session that approved it (a
    # logout since), nor a "log out everywhere" or password reset of its user since.
    # (Not its grant: a concurrent replay may have revoked that already, and then the
    # tokens issued here are dead on arrival, but the one valid redemption still answers.)
    issued_under = TokenFacts(
        jti=result.grant_id, sub=record.user_id, iat=record.issued_at, sid=record.session_id
    )
    if not await context.revocations.is_active(issued_under):
        raise InvalidGrant(CODE_REFUSED, debug="session or user revoked since the code was issued")
    access = await context.access_tokens.issue(
        subject=record.user_id,
        client_id=client.client_id,
        scope=record.scopes,
        # RFC 8707; else the client's registered default; else the server's.
        audience=record.resource or client.default_audience,
        auth_time=record.auth_time,
        grant_id=result.grant_id,
    )
    refresh_token = await context.families.start(
        FamilyStart(
            family_id=result.grant_id,
            client_id=client.client_id,
            user_id=record.user_id,
            scopes=record.scopes,
            resource=record.resource,
            auth_time=record.auth_time,
            session_id=record.session_id,
            access_expires_at=access.claims.expires_at,
            amr=record.amr,
            idp=record.idp,
        ),
        context.refresh_policy(client) if _refreshable(client, record.scopes, context) else None,
    )
    id_token = None
    if "openid" in record.scopes:  # OIDC Core §3.1.3.3
        id_token = await context.id_tokens.issue(
            client_id=client.client_id,
            alg=client.id_token_alg,
            subject=record.user_id,
            auth_time=record.auth_time,
            nonce=record.nonce,
            sid=record.session_id,
            access_token=access.token,  # at_hash, Core §3.1.3.6
            amr=record.amr,
            idp=record.idp,
            user_claims=released(record.scopes),
        )
    return TokenResponse(
        access.token, access.expires_in, access.claims.scope, id_token, refresh_token
    )


def _refreshable(client: Client, scopes: tuple[str, ...], context: GrantContext) -> bool:
    """OIDC Core §11: a refresh token for offline_access; first-party clients (the server's
    own apps) may get one without asking, when the operator allows it."""
    if REFRESH_TOKEN not in client.grant_types:
        return False
    return "offline_access" in scopes or (client.first_party and context.first_party_refresh)
