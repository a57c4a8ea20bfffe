"""What every adapter shares, framework-free: a request's credentials in, a verified token
or a `ResourceError` out.

Only the `Authorization` header carries a token (RFC 6750 §2.1). A token in the query
string is never used (OAuth 2.1 §5.1, SECURITY.md R23): alone it counts as no
credentials (401 with a bare challenge), next to a header it is a second method, which
RFC 6750 §2 forbids (400 invalid_request). Form bodies are not read at all, so a token
there is ignored too.
"""

import logging
import re
from collections.abc import Collection, Sequence
from typing import Protocol
from urllib.parse import parse_qsl

from gatepass.resource.errors import Challenge, NoToken, ResourceError, token_from_headers
from gatepass.resource.tokens import VerifiedToken

log = logging.getLogger("gatepass.resource.adapters")

TOKEN_PARAMETER = "access_token"  # noqa: S105 - a parameter name (RFC 6750 §2.3)
# RFC 6749 §3.3: scope-token = 1*( %x21 / %x23-5B / %x5D-7E )
_SCOPE_TOKEN = re.compile(r"[\x21\x23-\x5b\x5d-\x7e]+")


class Verifier(Protocol):
    """What the adapters need of a token verifier: resource/tokens.py's TokenVerifier."""

    async def verify(self, token: str) -> VerifiedToken: ...


def token_in_query(query: str | bytes) -> bool:
    """Whether a raw query string carries an `access_token` (never used, only noticed).
    RFC 6749 §3.1 (SECURITY.md R22): a parameter sent without a value counts as omitted."""
    text = query.decode("latin-1") if isinstance(query, bytes) else query
    if TOKEN_PARAMETER not in text:
        return False  # the common case costs a substring search, not a parse
    return any(k == TOKEN_PARAMETER and v for k, v in parse_qsl(text, keep_blank_values=True))


async def authenticate(
    verifier: Verifier,
    authorization: Sequence[str],
    *,
    token_elsewhere: bool = False,
    required: bool = True,
) -> VerifiedToken | None:
    """The verified bearer token of a request, given its `Authorization` header values.

    Without credentials: NoToken when `required`, else None (the endpoint decides). A
    token that is presented is always verified: a bad one is refused either way.
    """
    try:
        token = token_from_headers(authorization, token_elsewhere=token_elsewhere)
    except NoToken:
        if required:
            raise
        return None
    return await verifier.verify(token)


def authorize(token: VerifiedToken | None, scopes: Collection[str]) -> VerifiedToken:
    """The token, if there is one and it carries every one of `scopes`; else NoToken or
    ScopeMissing (403 insufficient_scope, naming the scopes needed)."""
    if token is None:
        raise NoToken("no bearer token for an endpoint that needs one")
    if scopes:
        token.require_scope(*scopes)
    return token


def scopes_of(scopes: str | Collection[str]) -> tuple[str, ...]:
    """`"orders:read"` or `["orders:read", "orders:write"]`, checked once, at decoration."""
    names = (scopes,) if isinstance(scopes, str) else tuple(scopes)
    if not all(isinstance(s, str) and _SCOPE_TOKEN.fullmatch(s) for s in names):
        raise ValueError(f"not scope tokens (RFC 6749 §3.3): {names!r}")
    return names


def refusal(error: ResourceError, realm: str | None = None) -> Challenge:
    """The answer to a refused request, `(status, headers, JSON body)`; the reason, which
    the answer never shows, goes to the log."""
    status, headers, body = error.challenge(realm)
    log.debug("refused with %d: %s", status, getattr(error, "reason", type(error).__name__))
    return status, headers, body
