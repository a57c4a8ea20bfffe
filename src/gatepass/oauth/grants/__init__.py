"""Token-endpoint grants (RFC 6749 §4, §5.2): a registry from `grant_type` to its module.

Adding a grant adds a module (GRANT_TYPE, PARAMETERS, handle; see base.py) and a line
in GRANTS: the endpoint never branches on the grant type.
"""

from types import MappingProxyType

from gatepass.oauth.clients import REFUSED_GRANT_TYPES, Client
from gatepass.oauth.errors import InvalidRequest, UnauthorizedClient, UnsupportedGrantType
from gatepass.oauth.grants import authorization_code, client_credentials, refresh_token
from gatepass.oauth.grants.base import (
    Grant,
    GrantContext,
    ReleasedClaims,
    TokenRequest,
    TokenResponse,
)

__all__ = [
    "GRANTS",
    "Grant",
    "GrantContext",
    "ReleasedClaims",
    "TokenRequest",
    "TokenResponse",
    "grant_for",
    "parameters_of",
]


def _registry(*grants: Grant) -> MappingProxyType[str, Grant]:
    return MappingProxyType({grant.GRANT_TYPE: grant for grant in grants})


GRANTS = _registry(authorization_code, refresh_token, client_credentials)


def grant_for(grant_type: str | None, client: Client) -> Grant:
    """The grant `client` asks for; raises the RFC 6749 §5.2 error when it may not use it."""
    if not grant_type:
        raise InvalidRequest("The grant_type parameter is required.")
    grant = GRANTS.get(grant_type)
    if grant is None:
        # RFC 9700 §2.4, §2.1.2: password and implicit are never served.
        hint = REFUSED_GRANT_TYPES.get(grant_type, "this grant type is not supported")
        raise UnsupportedGrantType(hint[0].upper() + hint[1:] + ".")
    if grant_type not in client.grant_types:
        raise UnauthorizedClient("This client is not registered for this grant type.")
    return grant


def parameters_of(grant: Grant, form: dict[str, str]) -> dict[str, str]:
    """The grant's own parameters; RFC 6749 §3.1: empty ones count as omitted, unknown
    ones are ignored."""
    return {name: form[name] for name in grant.PARAMETERS if form.get(name)}
