"""Bearer token usage (RFC 6750): read the token from `Authorization`, answer with a challenge.

    parse_bearer(header values, token_elsewhere)        BearerError.challenge(realm)
      no header, or another scheme ──► BearerMissing      401  Bearer realm="..."
      malformed, several, both ways ─► BearerInvalidRequest 400  ..., error="invalid_request"
      "Bearer <token68>" ────────────► the token          (then the caller verifies it)
                                       BearerInvalidToken   401  ..., error="invalid_token"
                                       BearerInsufficientScope 403 ..., error="insufficient_scope",
                                                                      scope="..."

Only the header is a transmission method here: OAuth 2.1 §5.1 and RFC 9700 §2 drop
the query parameter (RFC 6750 §2.3) and the form body (§2.2) leaks less but still ends
up in logs, so a token found there is never used (SECURITY.md R23). A request that
carries one there *and* a header uses two methods, which RFC 6750 §2 forbids: refused.

Framework-free, so the identity server's endpoints and the resource toolkit's adapters
share it: they hand in the header values and render the error's `(status, headers, body)`.
"""

import re
from collections.abc import Sequence
from typing import ClassVar

from gatepass.errors import GatepassError

SCHEME = "bearer"  # RFC 9110 §11.1: the auth-scheme is case-insensitive
# Far above any token gatepass issues (under 1.5 KB with RSA-4096), far below the header cap.
MAX_TOKEN_CHARS = 8192
# RFC 6750 §2.1: b64token = 1*( ALPHA / DIGIT / "-" / "." / "_" / "~" / "+" / "/" ) *"="
_TOKEN68 = re.compile(r"[A-Za-z0-9\-._~+/]+=*")
# RFC 9110 §5.6.2: token = 1*tchar, what an auth-scheme is made of.
_SCHEME_TOKEN = re.compile(r"[!#$%&'*+\-.^_`|~0-9A-Za-z]+")
# RFC 6750 §3: error_description and scope values are limited to %x20-21 / %x23-5B / %x5D-7E.
_DESCRIPTION = re.compile(r"[\x20\x21\x23-\x5b\x5d-\x7e]*")
_SCOPE_TOKEN = re.compile(r"[\x21\x23-\x5b\x5d-\x7e]+")
# RFC 9110 §5.6.4: what a quoted-string may carry (obs-text aside); " and \ are escaped.
_QDTEXT = re.compile(r"[\t\x20-\x7e]*")
NO_STORE = {"Cache-Control": "no-store", "Pragma": "no-cache"}


class BearerError(GatepassError):
    """A protected resource refused the request (RFC 6750 §3).

    `error` is the RFC 6750 §3.1 code, None when the request carried no credentials.
    `description` is rendered (as `error_description`); `debug` is for logs only.
    """

    error: ClassVar[str | None] = None
    status_code: ClassVar[int] = 401

    def __init__(self, description: str = "", *, debug: str = "") -> None:
        if not _DESCRIPTION.fullmatch(description):
            raise ValueError('error_description must be printable ASCII without " or \\')
        super().__init__(description or "no credentials")
        self.description = description
        self.debug = debug

    def challenge_params(self) -> dict[str, str]:
        """The auth-params after the realm, in order."""
        if self.error is None:
            return {}
        params = {"error": self.error}
        if self.description:
            params["error_description"] = self.description
        return params

    def challenge(self, realm: str | None = None) -> str:
        """The `WWW-Authenticate` value: `Bearer realm="...", error="...", ...`."""
        params = {} if realm is None else {"realm": realm}
        params |= self.challenge_params()
        if not params:
            return "Bearer"
        return "Bearer " + ", ".join(f"{name}={_quoted(value)}" for name, value in params.items())

    def body(self) -> dict[str, str]:
        """A JSON body with the same members (RFC 6750 only defines the header); empty
        for a request without credentials."""
        return self.challenge_params()

    def as_response(self, realm: str | None = None) -> tuple[int, dict[str, str], dict[str, str]]:
        headers = {**NO_STORE, "WWW-Authenticate": self.challenge(realm)}
        return self.status_code, headers, self.body()


class BearerMissing(BearerError):
    """RFC 6750 §3.1: a request without any authentication information (or with another
    scheme) gets a bare challenge: it SHOULD NOT include an error code."""


class BearerInvalidRequest(BearerError):
    """RFC 6750 §3.1: malformed, several credentials, or more than one method."""

    error = "invalid_request"
    status_code = 400


class BearerInvalidToken(BearerError):
    """RFC 6750 §3.1: expired, revoked, malformed or otherwise not acceptable."""

    error = "invalid_token"
    status_code = 401


class BearerInsufficientScope(BearerError):
    """RFC 6750 §3.1: the token is good, its scope too narrow; `scope` names what is needed."""

    error = "insufficient_scope"
    status_code = 403

    def __init__(self, description: str, *, scope: Sequence[str], debug: str = "") -> None:
        super().__init__(description, debug=debug)
        if isinstance(scope, str) or not scope:
            raise TypeError("scope is a non-empty sequence of scope tokens")
        if not all(_SCOPE_TOKEN.fullmatch(token) for token in scope):
            raise ValueError("a scope token has a character RFC 6749 §3.3 does not allow")
        self.scope = tuple(scope)

    def challenge_params(self) -> dict[str, str]:
        # RFC 6750 §3: the scope attribute names the scope needed to access the resource.
        return super().challenge_params() | {"scope": " ".join(self.scope)}


def parse_bearer(header_values: Sequence[str], *, token_elsewhere: bool = False) -> str:
    """The bearer token of a request, given every `Authorization` header value it carried.

    `token_elsewhere` says the request also has an `access_token` in its query or form
    body: never used (R23), and refused alongside a header (RFC 6750 §2, one method).
    """
    if not header_values:
        where = "in the query or body only" if token_elsewhere else "absent"
        raise BearerMissing(debug=f"no Authorization header; token {where}")
    if len(header_values) > 1:
        raise BearerInvalidRequest("Send one Authorization header.", debug="several headers")
    token = _parse_credentials(header_values[0])
    if token_elsewhere:
        raise BearerInvalidRequest(
            "Send the access token in the Authorization header only.", debug="two methods"
        )
    return token


def _parse_credentials(value: str) -> str:
    # RFC 9110 §11.4: credentials = auth-scheme [ 1*SP ( token68 / #auth-param ) ]
    value = value.strip(" \t")
    if len(value) > len("Bearer ") + MAX_TOKEN_CHARS:
        raise BearerInvalidRequest("The Authorization header is too large.", debug="oversized")
    scheme, _, rest = value.partition(" ")
    if not _SCHEME_TOKEN.fullmatch(scheme):
        raise BearerInvalidRequest("The Authorization header is malformed.", debug="scheme")
    if scheme.lower() != SCHEME:
        raise BearerMissing(debug=f"scheme {scheme[:20]!r}")  # RFC 6750 §3.1: unsupported
    token = rest.lstrip(" ")
    if not _TOKEN68.fullmatch(token):
        raise BearerInvalidRequest(
            "The Authorization header must be Bearer and one access token.", debug="token68"
        )
    return token


def _quoted(value: str) -> str:
    """An RFC 9110 §5.6.4 quoted-string."""
    if not _QDTEXT.fullmatch(value):
        raise ValueError("a challenge parameter has a control or non-ASCII character")
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'
