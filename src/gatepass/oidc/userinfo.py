"""The UserInfo endpoint's core (OpenID Connect Core §5.3): claims about the token's user.

    bearer token ─► AccessTokens.verify   typ at+jwt, pinned alg, iss, exp, and
                                          aud = the configured default audience
                 ─► revoked?              invalid_token: its jti, its grant (gid), or
                                          its user since it was issued (not-before)
                 ─► user gone or disabled invalid_token
                 ─► `openid` granted?     insufficient_scope, scope="openid"
                 ─► claims by scope       sub; email: email, email_verified; profile: name

Audience: /userinfo is a resource of this server, reached with the tokens issued for
the default audience. A token issued for another resource (RFC 8707 `resource`) was
meant for that API alone, so it is refused here as invalid_token, as node-oidc-provider
does (its userinfo refuses tokens bound to a resource server): an API that received a
token cannot replay it here to read the user's e-mail address.

An id token (`typ: JWT`) is no access token (RFC 9068 §4, RFC 8725 §3.11): refused.
Errors are tokens/bearer.py's RFC 6750 ones; StoreUnavailable passes through (fail closed).
"""

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from gatepass.errors import InvalidToken
from gatepass.tokens.access_tokens import AccessTokenClaims, AccessTokens
from gatepass.tokens.bearer import BearerInsufficientScope, BearerInvalidToken
from gatepass.tokens.revocation import Revocations, facts_of

OPENID = "openid"
# One description for every reason a token is refused: which check failed is for the log.
INVALID = "The access token is invalid, expired or revoked."


@dataclass(frozen=True)
class UserProfile:
    """What /userinfo may tell of a user; accounts is a sibling core, so the web layer
    hands in a lookup that returns this (or None for no such user)."""

    subject: str
    email: str
    name: str
    disabled: bool
    email_verified: bool = False


ProfileLookup = Callable[[str], Awaitable[UserProfile | None]]


@dataclass(frozen=True)
class UserInfoClaims:
    """OIDC Core §5.3.2: the claims the token's scopes grant; None means not released."""

    sub: str
    email: str | None = None
    email_verified: bool | None = None
    name: str | None = None

    def as_json(self) -> dict[str, Any]:
        # Core §5.3.2: a claim without a value is omitted, not null or an empty string.
        members = {
            "sub": self.sub,
            "email": self.email,
            "email_verified": self.email_verified,
            "name": self.name,
        }
        return {name: value for name, value in members.items() if value not in (None, "")}


class UserInfo:
    def __init__(
        self,
        access_tokens: AccessTokens,
        revocations: Revocations,
        profiles: ProfileLookup,
    ) -> None:
        self._access_tokens = access_tokens
        self._revocations = revocations
        self._profiles = profiles

    async def claims(self, token: str) -> UserInfoClaims:
        """The claims for a bearer token; BearerInvalidToken or BearerInsufficientScope."""
        access = await self._verified(token)
        await self._check_revoked(access)
        profile = await self._check_user(access)
        if OPENID not in access.scope:
            # Core §5.3: the token was obtained through an OpenID Connect request.
            raise BearerInsufficientScope(
                "The access token was not granted the openid scope.",
                scope=(OPENID,),
                debug=f"scope {' '.join(access.scope)!r}",
            )
        return claims_for(profile, access.scope)

    async def _verified(self, token: str) -> AccessTokenClaims:
        try:
            # No audience given: the configured default one (see the module docstring).
            return await self._access_tokens.verify(token)
        except InvalidToken as exc:
            raise BearerInvalidToken(INVALID, debug=exc.debug) from None

    async def _check_revoked(self, access: AccessTokenClaims) -> None:
        event = await self._revocations.revocation_of(facts_of(access))
        if event is not None:
            raise BearerInvalidToken(INVALID, debug=f"{event.kind} {event.id} revoked")

    async def _check_user(self, access: AccessTokenClaims) -> UserProfile:
        profile = await self._profiles(access.subject)
        if profile is None or profile.disabled or profile.subject != access.subject:
            # A deleted or disabled user's tokens stop working here at once (ASVS 7.4.2).
            raise BearerInvalidToken(INVALID, debug="user gone or disabled")
        return profile


def claims_for(profile: UserProfile, scope: tuple[str, ...]) -> UserInfoClaims:
    """OIDC Core §5.4: each scope releases its claims; `sub` is always returned (§5.3.2)."""
    email = "email" in scope
    return UserInfoClaims(
        sub=profile.subject,
        email=profile.email if email else None,
        # True only once the address was proven (a delivered link, or an upstream provider
        # that says so): a client must not take an unproven address as the person's.
        email_verified=profile.email_verified if email else None,
        name=profile.name if "profile" in scope else None,
    )
