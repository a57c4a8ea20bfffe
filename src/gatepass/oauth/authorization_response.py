"""Authorization responses (RFC 6749 §4.1.2, §4.1.2.1; RFC 9207 §2): where each answer goes.

An error about the client or its redirect URI is shown on a page (NoRedirectError);
any other is sent to the verified redirect URI (AuthorizationError), as is success.
Either redirect carries `state` and `iss` (RFC 9207: against mix-up attacks).
"""

from collections.abc import Mapping
from typing import ClassVar
from urllib.parse import urlencode

from gatepass.errors import GatepassError
from gatepass.oauth.errors import NO_STORE, OAuthError


class NoRedirectError(OAuthError):
    """RFC 6749 §4.1.2.1: the client or redirect URI is missing, unknown or mismatched,
    so the user is told on a page and MUST NOT be redirected (RFC 9700 §4.11.2)."""

    error = "invalid_request"
    status_code = 400


class AuthorizationError(GatepassError):
    """An error answered at the client's redirect URI (RFC 6749 §4.1.2.1, RFC 9207 §2).

    Raised only once the client and its redirect URI are verified; `error` is the
    RFC-coded cause, `redirect_url()` where to send the browser.
    """

    status_code: ClassVar[int] = 303  # RFC 9700 §4.12: never 307

    def __init__(self, error: OAuthError, *, redirect_uri: str, state: str | None, issuer: str):
        super().__init__(error.description)
        self.error = error
        self.redirect_uri = redirect_uri
        self.state = state
        self.issuer = issuer

    def redirect_url(self) -> str:
        return redirect_with(
            self.redirect_uri, {**self.error.body(), "state": self.state, "iss": self.issuer}
        )

    def as_response(self) -> tuple[int, dict[str, str], dict[str, str]]:
        return self.status_code, {**NO_STORE, "Location": self.redirect_url()}, {}


def redirect_with(uri: str, params: Mapping[str, str | None]) -> str:
    """`uri` with `params` added to its query (RFC 6749 §3.1.2: an existing query MUST be
    retained); None values are left out."""
    query = urlencode({name: value for name, value in params.items() if value is not None})
    if "?" not in uri:
        return f"{uri}?{query}"
    return f"{uri}{query}" if uri.endswith(("?", "&")) else f"{uri}&{query}"
