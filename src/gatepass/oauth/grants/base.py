"""What every token-endpoint grant (RFC 6749 §4, §5) takes and returns.

A grant is a module with `GRANT_TYPE`, `PARAMETERS` (the allow-list of form fields it
reads) and `async handle(request, context) -> TokenResponse`; it raises OAuthError
subclasses (`InvalidGrant`, `InvalidRequest`, ...) for the endpoint to render.
"""

from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from typing import Any, Protocol

from gatepass.clock import Clock
from gatepass.oauth.clients import Client
from gatepass.oauth.codes import AuthorizationCodes
from gatepass.oidc.id_tokens import IdTokens
from gatepass.tokens.access_tokens import AccessTokens
from gatepass.tokens.families import FamilyPolicy
from gatepass.tokens.refresh import TokenFamilies
from gatepass.tokens.revocation import Revocations

# The id token's claims about a user that the granted scopes release (OIDC Core §5.4):
# email and email_verified for `email`, name for `profile`.
ReleasedClaims = Callable[[tuple[str, ...]], Mapping[str, Any]]
# A user who may still receive tokens (exists, not disabled), read once: their claims by
# scope; None for a user gone or disabled. accounts is a sibling core, so the web layer
# hands it in.
SignedInUser = Callable[[str], Awaitable[ReleasedClaims | None]]


@dataclass(frozen=True)
class TokenRequest:
    """An authenticated client and the grant's own parameters (allow-listed, none empty)."""

    client: Client
    parameters: Mapping[str, str]


@dataclass(frozen=True)
class TokenResponse:
    """RFC 6749 §5.1 (and OIDC Core §3.1.3.3 for `id_token`)."""

    access_token: str
    expires_in: int
    scope: tuple[str, ...]
    id_token: str | None = None
    refresh_token: str | None = None

    def body(self) -> dict[str, Any]:
        body: dict[str, Any] = {
            "access_token": self.access_token,
            "token_type": "Bearer",  # RFC 6750
            "expires_in": self.expires_in,
            "scope": " ".join(self.scope),
        }
        if self.refresh_token is not None:
            body["refresh_token"] = self.refresh_token
        if self.id_token is not None:
            body["id_token"] = self.id_token
        return body


@dataclass(frozen=True)
class GrantContext:
    """The cores a grant works with: built once in web/app.py."""

    codes: AuthorizationCodes
    access_tokens: AccessTokens
    id_tokens: IdTokens
    families: TokenFamilies
    # The revocation log (tokens, grants, sessions, subjects), read by verifiers
    # (userinfo, introspection) and published to resource servers.
    revocations: Revocations
    signed_in_user: SignedInUser
    clock: Clock
    # The client's refresh-token lifetimes and retry window (its own, or the server's).
    refresh_policy: Callable[[Client], FamilyPolicy]
    # Whether first-party clients get a refresh token without asking for offline_access.
    first_party_refresh: bool

    async def user_may_sign_in(self, user_id: str) -> bool:
        return await self.signed_in_user(user_id) is not None


class Grant(Protocol):
    """The contract every grant module meets (mypy checks modules against it)."""

    GRANT_TYPE: str
    PARAMETERS: frozenset[str]

    async def handle(self, request: TokenRequest, context: GrantContext) -> TokenResponse: ...
