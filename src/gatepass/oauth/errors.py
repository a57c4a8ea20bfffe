"""OAuth 2.0 errors (RFC 6749 §5.2, RFC 7591 §3.2.2): one class per RFC error code.

    GatepassError
    └── OAuthError                  `error`, `status_code`; a public `description`
        ├── InvalidRequest          400 invalid_request
        ├── InvalidClient           401 invalid_client, with WWW-Authenticate
        ├── InvalidGrant            400 invalid_grant
        ├── UnauthorizedClient      400 unauthorized_client
        ├── UnsupportedResponseType 400 unsupported_response_type
        ├── UnsupportedGrantType    400 unsupported_grant_type
        ├── InvalidScope            400 invalid_scope
        ├── AccessDenied            400 access_denied
        ├── InvalidTarget           400 invalid_target             (RFC 8707)
        ├── LoginRequired           400 login_required             (OIDC Core §3.1.2.6)
        ├── ConsentRequired         400 consent_required           (OIDC Core §3.1.2.6)
        ├── RequestNotSupported     400 request_not_supported      (OIDC Core §6)
        ├── RequestUriNotSupported  400 request_uri_not_supported  (OIDC Core §6)
        ├── InvalidRedirectUri      400 invalid_redirect_uri       (RFC 7591)
        └── InvalidClientMetadata   400 invalid_client_metadata    (RFC 7591)

A new code is a new subclass with its two class attributes. `description` is
rendered to the client; `debug` is for the log only and never rendered.
Each error renders to a neutral `(status, headers, body)` for `web/` to send.
"""

from typing import ClassVar

from gatepass.errors import GatepassError

# RFC 6749 §5.1: responses carrying tokens or credentials are not cached; errors likewise.
NO_STORE = {"Cache-Control": "no-store", "Pragma": "no-cache"}


class OAuthError(GatepassError):
    error: ClassVar[str] = "server_error"
    status_code: ClassVar[int] = 500

    def __init__(self, description: str, *, debug: str = "") -> None:
        super().__init__(description)
        self.description = description
        self.debug = debug

    def headers(self) -> dict[str, str]:
        return dict(NO_STORE)

    def body(self) -> dict[str, str]:
        """The RFC 6749 §5.2 JSON members."""
        return {"error": self.error, "error_description": self.description}

    def as_response(self) -> tuple[int, dict[str, str], dict[str, str]]:
        return self.status_code, self.headers(), self.body()


class InvalidRequest(OAuthError):
    error = "invalid_request"
    status_code = 400


class InvalidClient(OAuthError):
    """Client authentication failed (unknown client, wrong or missing secret, wrong method).

    RFC 6749 §5.2: when the client authenticated with HTTP Basic, the answer MUST be
    401 with `WWW-Authenticate`; RFC 9110 §15.5.2 asks that header of every 401, so it
    is always sent, naming the scheme the client should use.
    """

    error = "invalid_client"
    status_code = 401

    def __init__(
        self,
        description: str = "Client authentication failed.",
        *,
        debug: str = "",
        realm: str = "gatepass",
    ) -> None:
        super().__init__(description, debug=debug)
        self.realm = realm

    def headers(self) -> dict[str, str]:
        return {**super().headers(), "WWW-Authenticate": f'Basic realm="{self.realm}"'}


class InvalidRedirectUri(OAuthError):
    """RFC 7591 §3.2.2: a registered redirect URI is not acceptable."""

    error = "invalid_redirect_uri"
    status_code = 400


class InvalidClientMetadata(OAuthError):
    """RFC 7591 §3.2.2: some other registered value is not acceptable."""

    error = "invalid_client_metadata"
    status_code = 400


class InvalidGrant(OAuthError):
    """RFC 6749 §5.2: the code is invalid, expired, revoked, or bound to another client,
    redirect URI or PKCE verifier."""

    error = "invalid_grant"
    status_code = 400


class UnauthorizedClient(OAuthError):
    """RFC 6749 §4.1.2.1, §5.2: the client may not use this grant or response type."""

    error = "unauthorized_client"
    status_code = 400


class UnsupportedResponseType(OAuthError):
    """RFC 6749 §4.1.2.1: only `code` is served (RFC 9700 §2.1.2: no implicit)."""

    error = "unsupported_response_type"
    status_code = 400


class UnsupportedGrantType(OAuthError):
    """RFC 6749 §5.2: the grant type is not served (RFC 9700 §2.4: never `password`)."""

    error = "unsupported_grant_type"
    status_code = 400


class InvalidScope(OAuthError):
    """RFC 6749 §4.1.2.1: the scope is missing, malformed or beyond the client's."""

    error = "invalid_scope"
    status_code = 400


class AccessDenied(OAuthError):
    """RFC 6749 §4.1.2.1: the user (or the server) denied the request."""

    error = "access_denied"
    status_code = 400


class LoginRequired(OAuthError):
    """OIDC Core §3.1.2.6: `prompt=none`, and nobody is signed in (or a new login is due)."""

    error = "login_required"
    status_code = 400


class ConsentRequired(OAuthError):
    """OIDC Core §3.1.2.6: `prompt=none`, and the user has not consented to these scopes."""

    error = "consent_required"
    status_code = 400


class InvalidTarget(OAuthError):
    """RFC 8707 §2: the `resource` is invalid, malformed or not one gatepass serves."""

    error = "invalid_target"
    status_code = 400


class RequestNotSupported(OAuthError):
    """OIDC Core §6: request objects (`request`) are not supported."""

    error = "request_not_supported"
    status_code = 400


class RequestUriNotSupported(OAuthError):
    """OIDC Core §6: request objects by reference (`request_uri`) are not supported."""

    error = "request_uri_not_supported"
    status_code = 400
