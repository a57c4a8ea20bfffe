"""Errors of the resource toolkit, each rendered as an RFC 6750 answer.

    ResourceError                  challenge(realm) -> (status, headers, JSON body)
    ├── NoToken            401    WWW-Authenticate: Bearer realm="..."   (§3.1: no error code)
    ├── MalformedRequest   400    ..., error="invalid_request"
    ├── TokenRejected      401    ..., error="invalid_token"
    ├── ScopeMissing       403    ..., error="insufficient_scope", scope="..."
    ├── FeedUnavailable    503    Retry-After: the revocation feed is lost, fail closed
    └── IssuerUnavailable  503    Retry-After: the issuer's keys cannot be had

The headers come from gatepass.tokens.bearer, the same code that answers at the
identity server's own endpoints, so an API and /userinfo challenge alike.

`TokenRejected` is opaque: every reason a token is refused (bad signature, unknown key,
expired, wrong audience, revoked...) renders the same description, so a caller cannot
probe which check failed. The reason is in `reason`, for logs only.
"""

from abc import ABCMeta, abstractmethod
from collections.abc import Sequence

from gatepass.errors import GatepassError
from gatepass.tokens.bearer import (
    NO_STORE,
    BearerError,
    BearerInsufficientScope,
    BearerInvalidRequest,
    BearerInvalidToken,
    BearerMissing,
    parse_bearer,
)

Challenge = tuple[int, dict[str, str], dict[str, str]]

# One description for every reason a token is refused (the identity server says the same).
INVALID = "The access token is invalid, expired or revoked."
RETRY_AFTER_SECONDS = 5


class ResourceError(GatepassError, metaclass=ABCMeta):
    """A protected resource refuses the request; `challenge` renders the answer."""

    @abstractmethod
    def challenge(self, realm: str | None = None) -> Challenge:
        """The response as `(status, headers, JSON body)`."""


class _BearerBacked(ResourceError):
    """An error whose answer is one of tokens/bearer.py's RFC 6750 errors."""

    def __init__(self, bearer: BearerError) -> None:
        super().__init__(str(bearer))
        self.bearer = bearer

    def challenge(self, realm: str | None = None) -> Challenge:
        return self.bearer.as_response(realm)


class NoToken(_BearerBacked):
    """RFC 6750 §3.1: the request carried no credentials (or another scheme): a bare
    challenge, without an error code."""

    def __init__(self, reason: str = "no bearer token") -> None:
        super().__init__(BearerMissing(debug=reason))
        self.reason = reason


class MalformedRequest(_BearerBacked):
    """RFC 6750 §3.1 invalid_request: several credentials, two methods, a broken header."""

    def __init__(self, bearer: BearerInvalidRequest) -> None:
        super().__init__(bearer)
        self.reason = bearer.debug


class TokenRejected(_BearerBacked):
    """RFC 6750 §3.1 invalid_token: the token is not acceptable; `reason` is for logs."""

    def __init__(self, reason: str) -> None:
        super().__init__(BearerInvalidToken(INVALID, debug=reason))
        self.reason = reason

    def __repr__(self) -> str:
        return f"TokenRejected({self.reason!r})"


class ScopeMissing(_BearerBacked):
    """RFC 6750 §3.1 insufficient_scope: a good token without a scope the resource needs.
    §3: the `scope` attribute names the scope necessary to access the resource."""

    def __init__(self, *scopes: str) -> None:
        # BearerInsufficientScope checks each is a scope token (RFC 6749 §3.3).
        super().__init__(
            BearerInsufficientScope("The access token lacks a required scope.", scope=scopes)
        )
        self.scopes = scopes


class _Unavailable(ResourceError):
    """Cannot decide now: 503 with Retry-After, never a guess (fail closed)."""

    description = "The service cannot check credentials right now."

    def __init__(self, reason: str, *, retry_after_seconds: int = RETRY_AFTER_SECONDS) -> None:
        super().__init__(reason)
        self.reason = reason
        self.retry_after_seconds = retry_after_seconds

    def challenge(self, realm: str | None = None) -> Challenge:
        headers = {**NO_STORE, "Retry-After": str(self.retry_after_seconds)}
        # RFC 6749 §4.1.2.1's code for a server that cannot answer now.
        body = {"error": "temporarily_unavailable", "error_description": self.description}
        return 503, headers, body


class FeedUnavailable(_Unavailable):
    """The revocation feed is lost for too long: a token it could have revoked is refused
    until the feed is back (docs/revocation.md)."""


class IssuerUnavailable(_Unavailable):
    """The issuer's metadata or JWKS cannot be fetched (or is unusable) and no keys are
    known yet."""


def token_from_headers(authorization: Sequence[str], *, token_elsewhere: bool = False) -> str:
    """The bearer token of a request, given every `Authorization` header value it carried
    (RFC 6750 §2.1); NoToken or MalformedRequest otherwise. `token_elsewhere`: the
    request also has an `access_token` query or form parameter (never used, R23)."""
    try:
        return parse_bearer(authorization, token_elsewhere=token_elsewhere)
    except BearerMissing as exc:
        raise NoToken(exc.debug) from None
    except BearerInvalidRequest as exc:
        raise MalformedRequest(exc) from None
