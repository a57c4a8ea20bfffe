"""Authorization requests (RFC 6749 §4.1.1, OIDC Core §3.1.2.1, RFC 9700 §2.1): parse and check.

    params ──► client_id, redirect_uri ──bad──► NoRedirectError (a page; RFC 6749 §4.1.2.1)
                   │ known, registered
                   ▼
               everything else ─────bad──► AuthorizationError (303 to the client, with
                   │                        error, error_description, state, iss)
                   ▼
             AuthorizationRequest

`parse_authorization_request` is pure: the web layer looks the client up (or calls
`read_authorization_request`, which does) and hands the result in. Parameters are
`Mapping[str, list[str]]`, as a query string parses: an empty value counts as
omitted, a repeated one is refused (OAuth 2.1 §3.1), an unknown one is ignored.
"""

import re
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass

from gatepass.oauth.authorization_response import (
    AuthorizationError,
    NoRedirectError,
    redirect_with,
)
from gatepass.oauth.clients import AUTHORIZATION_CODE, Client, redirect_uri_matches
from gatepass.oauth.errors import (
    InvalidRequest,
    InvalidScope,
    InvalidTarget,
    OAuthError,
    RequestNotSupported,
    RequestUriNotSupported,
    UnauthorizedClient,
    UnsupportedResponseType,
)
from gatepass.oauth.pkce import S256, validate_code_challenge
from gatepass.oauth.resource_indicators import is_resource_uri

# The parameters gatepass reads; any other is ignored (RFC 6749 §3.1), even when repeated.
PARAMETERS = (
    "response_type",
    "client_id",
    "redirect_uri",
    "scope",
    "state",
    "code_challenge",
    "code_challenge_method",
    "nonce",
    "prompt",
    "max_age",
    "login_hint",
    "acr_values",
    "resource",
    "response_mode",
    "request",
    "request_uri",
)
PROMPTS = frozenset({"none", "login", "consent"})
MAX_VALUE_LENGTH = 2000  # state, nonce, login_hint: room to spare, not unbounded
_MAX_AGE = re.compile(r"[0-9]{1,10}")


@dataclass(frozen=True)
class AuthorizationRequest:
    """A checked authorization request: everything the login, consent and code steps need."""

    client: Client
    redirect_uri: str  # as sent: for a loopback URI, with the port the client asked for
    scopes: tuple[str, ...]
    code_challenge: str
    code_challenge_method: str = S256
    state: str | None = None
    nonce: str | None = None
    prompt: frozenset[str] = frozenset()
    max_age: int | None = None
    login_hint: str | None = None
    resource: str | None = None
    # OIDC Core §3.1.2.1: requested levels, most preferred first (oidc/acr.py).
    acr_values: tuple[str, ...] = ()

    @property
    def openid(self) -> bool:
        """OIDC Core §3.1.2.1: an OpenID request is one whose scope holds `openid`."""
        return "openid" in self.scopes

    def error(self, error: OAuthError, *, issuer: str) -> AuthorizationError:
        """`error` as a redirect to this request's client (access_denied, login_required...)."""
        return AuthorizationError(
            error, redirect_uri=self.redirect_uri, state=self.state, issuer=issuer
        )

    def response_url(self, code: str, *, issuer: str) -> str:
        """RFC 6749 §4.1.2 and RFC 9207 §2: the success redirect, with code, state and iss."""
        return redirect_with(self.redirect_uri, {"code": code, "state": self.state, "iss": issuer})


ClientLookup = Callable[[str], Awaitable[Client | None]]


async def read_authorization_request(
    params: Mapping[str, list[str]], lookup: ClientLookup, *, issuer: str
) -> AuthorizationRequest:
    """Look the client up (e.g. `ClientRegistry.get`), then `parse_authorization_request`."""
    client_id = _client_id(params)
    return parse_authorization_request(params, await lookup(client_id), issuer=issuer)


def parse_authorization_request(
    params: Mapping[str, list[str]], client: Client | None, *, issuer: str
) -> AuthorizationRequest:
    """The checked request; raises NoRedirectError or AuthorizationError.

    `client` is what the registry found for the request's `client_id` (None: unknown).
    """
    client, redirect_uri = _verified_target(params, client)
    state = _state(params)
    try:
        return _checked(params, client, redirect_uri, state)
    except OAuthError as exc:
        raise AuthorizationError(
            exc, redirect_uri=redirect_uri, state=state, issuer=issuer
        ) from exc


def _single(params: Mapping[str, list[str]], name: str, error: type[OAuthError]) -> str | None:
    """The one non-empty value of `name`, or None; raises `error` when it is repeated."""
    values = [value for value in params.get(name, ()) if value != ""]
    # OAuth 2.1 §3.1: request and response parameters MUST NOT be included more than once.
    if len(values) > 1:
        raise error(f"The {name} parameter is repeated.")
    return values[0] if values else None


def _client_id(params: Mapping[str, list[str]]) -> str:
    client_id = _single(params, "client_id", NoRedirectError)
    if client_id is None:
        raise NoRedirectError("The request names no client (client_id is missing).")
    return client_id


def _verified_target(params: Mapping[str, list[str]], client: Client | None) -> tuple[Client, str]:
    # RFC 6749 §4.1.2.1: with an invalid client or redirect URI the AS MUST NOT redirect.
    client_id = _client_id(params)
    if client is None or client.client_id != client_id:
        raise NoRedirectError("The client is unknown.", debug=f"client_id={client_id[:100]!r}")
    redirect_uri = _single(params, "redirect_uri", NoRedirectError)
    if redirect_uri is None:
        # OIDC Core §3.1.2.1: redirect_uri is REQUIRED; gatepass asks it of every client.
        raise NoRedirectError("The request has no redirect_uri.")
    # RFC 9700 §2.1: exact string match, loopback port aside (RFC 8252 §7.3).
    if not redirect_uri_matches(client, redirect_uri):
        raise NoRedirectError(
            "The redirect_uri is not registered for this client.",
            debug=f"redirect_uri={redirect_uri[:200]!r}",
        )
    return client, redirect_uri


def _state(params: Mapping[str, list[str]]) -> str | None:
    """`state` to echo back, if there is exactly one; a repeated one is echoed by nobody."""
    values = [value for value in params.get("state", ()) if value != ""]
    return values[0] if len(values) == 1 and len(values[0]) <= MAX_VALUE_LENGTH else None


def _checked(
    params: Mapping[str, list[str]], client: Client, redirect_uri: str, state: str | None
) -> AuthorizationRequest:
    _refuse_repeats(params)
    _refuse_request_objects(params)
    _check_response_type(params)
    if AUTHORIZATION_CODE not in client.grant_types:
        raise UnauthorizedClient("This client may not use the authorization code grant.")
    if _one(params, "response_mode") not in (None, "query"):
        raise InvalidRequest("Only response_mode=query is supported.")
    if state is None and _one(params, "state") is not None:
        raise InvalidRequest(f"state is longer than {MAX_VALUE_LENGTH} characters.")
    challenge = validate_code_challenge(
        _one(params, "code_challenge"), _one(params, "code_challenge_method")
    )
    return AuthorizationRequest(
        client=client,
        redirect_uri=redirect_uri,
        scopes=_scopes(_one(params, "scope"), client),
        code_challenge=challenge,
        state=state,
        nonce=_bounded(params, "nonce"),
        prompt=_prompt(_one(params, "prompt")),
        max_age=_max_age(_one(params, "max_age")),
        login_hint=_bounded(params, "login_hint"),
        resource=_resource(_one(params, "resource")),
        acr_values=tuple((_bounded(params, "acr_values") or "").split()),
    )


def _one(params: Mapping[str, list[str]], name: str) -> str | None:
    return _single(params, name, InvalidRequest)


def _refuse_repeats(params: Mapping[str, list[str]]) -> None:
    # RFC 8707 §2 would allow several `resource` values; gatepass issues for one audience.
    if len([value for value in params.get("resource", ()) if value]) > 1:
        raise InvalidTarget("Only one resource per request is supported.")
    for name in PARAMETERS:
        _one(params, name)


def _refuse_request_objects(params: Mapping[str, list[str]]) -> None:
    # OIDC Core §6: silently ignoring a request object could drop what it says; refuse it.
    if _one(params, "request") is not None:
        raise RequestNotSupported("Request objects are not supported.")
    if _one(params, "request_uri") is not None:
        raise RequestUriNotSupported("request_uri is not supported.")


def _check_response_type(params: Mapping[str, list[str]]) -> None:
    response_type = _one(params, "response_type")
    if response_type is None:
        raise InvalidRequest("response_type is required.")
    # RFC 9700 §2.1.2: no implicit or hybrid responses; only the code flow.
    if response_type != "code":
        raise UnsupportedResponseType("Only response_type=code is supported.")


def _bounded(params: Mapping[str, list[str]], name: str) -> str | None:
    value = _one(params, name)
    if value is not None and len(value) > MAX_VALUE_LENGTH:
        raise InvalidRequest(f"{name} is longer than {MAX_VALUE_LENGTH} characters.")
    return value


def _scopes(scope: str | None, client: Client) -> tuple[str, ...]:
    # RFC 6749 §3.3: without a scope the AS uses a default or fails; gatepass fails, so a
    # client always says what it asks for.
    if scope is None:
        raise InvalidScope("scope is required.")
    scopes = tuple(dict.fromkeys(token for token in scope.split(" ") if token))
    if not scopes:
        raise InvalidScope("scope is empty.")
    beyond = [s for s in scopes if s not in client.scopes]
    if beyond:
        raise InvalidScope(f"Scope not allowed for this client: {beyond[0][:100]}.")
    return scopes


def _prompt(prompt: str | None) -> frozenset[str]:
    values = frozenset(prompt.split(" ")) - {""} if prompt is not None else frozenset()
    unknown = values - PROMPTS
    if unknown:
        raise InvalidRequest("prompt may hold none, login and consent only.")
    # OIDC Core §3.1.2.1: if `none` is present with any other value, an error is returned.
    if "none" in values and len(values) > 1:
        raise InvalidRequest("prompt=none cannot be combined with other values.")
    return values


def _max_age(max_age: str | None) -> int | None:
    if max_age is None:
        return None
    # OIDC Core §3.1.2.1: max_age is a number of seconds, zero or more.
    if not _MAX_AGE.fullmatch(max_age):
        raise InvalidRequest("max_age must be a whole number of seconds, zero or more.")
    return int(max_age)


def _resource(resource: str | None) -> str | None:
    if resource is None:
        return None
    # RFC 8707 §2: an absolute URI (RFC 3986 §4.3), which MUST NOT include a fragment.
    if not is_resource_uri(resource):
        raise InvalidTarget("resource must be an absolute URI without a fragment.")
    return resource
