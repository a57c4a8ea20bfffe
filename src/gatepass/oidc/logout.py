"""RP-Initiated Logout (OpenID Connect RP-Initiated Logout 1.0 §2, §3): read and check a request.

    params ──► parse_logout_parameters: one value each, bounded ───────────bad──┐
       │                                                                        │
       ▼                                                                        │
    id_token_hint? ──► signature, iss, typ pinned; expired accepted (§2) ──bad──┤
       │               client_id too: the hint's azp (or sole aud) must be it ──┤
       ▼                                                                        │
    the client: client_id, else the hint's azp ─────────────────────unknown────┤
       │                                                                        │
       ▼                                                                        ▼
    post_logout_redirect_uri? ── no client identified, or not registered ──► InvalidLogoutRequest
       │                         exactly for it (§3: MUST NOT redirect there)   (a page, never
       ▼                                                                         a redirect)
    LogoutRequest: client, the redirect (with `state`), the hint

Whether to confirm, ending the session and the redirect itself belong to the web
layer (web/routes/logout.py). `ui_locales` and `logout_hint` are accepted, bounded
and ignored (§2: the OP MAY use them); unknown parameters are ignored.

This core sits below `oauth/` in the layers, so it sees a client only through
`LogoutClient`, the three fields it reads (oauth's `Client` has them).
"""

from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import asdict, dataclass
from typing import Protocol
from urllib.parse import urlencode

from gatepass.errors import GatepassError, InvalidToken
from gatepass.oidc.id_tokens import IdTokenHint

# The parameters read; any other is ignored (RFC 6749 §3.1 spirit).
PARAMETERS = (
    "id_token_hint",
    "client_id",
    "post_logout_redirect_uri",
    "state",
    "ui_locales",
    "logout_hint",
)
# An id token gatepass issues is about 1 KB; 8 KB leaves room and keeps the request line
# (the hint travels in a GET query) far inside the 16 KiB header limit.
MAX_HINT_LENGTH = 8192
MAX_VALUE_LENGTH = 2000  # client_id, the URI (as registration allows), state, locales, hint


class InvalidLogoutRequest(GatepassError):
    """The logout request cannot be honoured as asked. `description` is safe to show;
    `debug` is for the log only. The answer is a page: never a redirect (§3)."""

    def __init__(self, description: str, *, debug: str = "") -> None:
        super().__init__(description)
        self.description = description
        self.debug = debug


class LogoutClient(Protocol):
    """What logout needs of a registered client."""

    @property
    def client_id(self) -> str: ...

    @property
    def name(self) -> str: ...

    @property
    def post_logout_redirect_uris(self) -> tuple[str, ...]: ...


class HintVerifier(Protocol):
    """oidc/id_tokens.py's `IdTokens`: the pinned checks of every JWT gatepass accepts."""

    async def verify_id_token_hint(
        self, token: str | bytes, *, client_id: str | None = None
    ) -> IdTokenHint: ...


ClientLookup = Callable[[str], Awaitable[LogoutClient | None]]


@dataclass(frozen=True)
class LogoutParameters:
    """The request's parameters that matter, each present at most once and bounded."""

    id_token_hint: str | None = None
    client_id: str | None = None
    post_logout_redirect_uri: str | None = None
    state: str | None = None

    def query(self) -> str:
        """The parameters as a query string, e.g. to carry a POSTed request over to a GET."""
        return urlencode({name: value for name, value in asdict(self).items() if value})


@dataclass(frozen=True)
class LogoutRequest:
    """A checked logout request: every field is safe to act on."""

    client: LogoutClient | None  # identified by client_id or the hint, and registered
    post_logout_redirect_uri: str | None  # registered exactly for `client`
    state: str | None  # kept only along with a redirect URI: it is echoed nowhere else
    hint: IdTokenHint | None

    def redirect_url(self) -> str | None:
        """Where to send the browser once logged out (§3), `state` added; None: stay here."""
        uri = self.post_logout_redirect_uri
        if uri is None:
            return None
        if self.state is None:
            return uri
        query = urlencode({"state": self.state})
        if "?" not in uri:
            return f"{uri}?{query}"
        return f"{uri}{query}" if uri.endswith(("?", "&")) else f"{uri}&{query}"

    def names_someone_else(self, *, user_id: str, session_id: str) -> bool:
        """True when the hint was issued for another user, or (by `sid`) for another session
        of this one: the RP's idea of who is signed in is not this browser's session."""
        if self.hint is None:
            return False
        if self.hint.subject != user_id:
            return True
        return self.hint.sid is not None and self.hint.sid != session_id

    def carried(self) -> LogoutParameters:
        """This request without its hint, the client named by id: what a confirmation step
        sends back, to be checked again (the redirect URI against the registration)."""
        return LogoutParameters(
            client_id=self.client.client_id if self.client is not None else None,
            post_logout_redirect_uri=self.post_logout_redirect_uri,
            state=self.state,
        )


def is_logout_request(params: Mapping[str, Sequence[str]]) -> bool:
    """True when any RP-Initiated Logout parameter has a value (empty counts as absent)."""
    return any(value for name in PARAMETERS for value in params.get(name, ()))


def parse_logout_parameters(params: Mapping[str, Sequence[str]]) -> LogoutParameters:
    """One value per parameter, each bounded; raises InvalidLogoutRequest otherwise."""
    for name in ("ui_locales", "logout_hint"):
        _one(params, name, MAX_VALUE_LENGTH)  # accepted and ignored, but never unbounded
    return LogoutParameters(
        id_token_hint=_one(params, "id_token_hint", MAX_HINT_LENGTH),
        client_id=_one(params, "client_id", MAX_VALUE_LENGTH),
        post_logout_redirect_uri=_one(params, "post_logout_redirect_uri", MAX_VALUE_LENGTH),
        state=_one(params, "state", MAX_VALUE_LENGTH),
    )


async def validate_logout_request(
    params: LogoutParameters, *, id_tokens: HintVerifier, find_client: ClientLookup
) -> LogoutRequest:
    """The checked request; raises InvalidLogoutRequest, saying what is wrong."""
    hint = await _verified_hint(params, id_tokens)
    client = await _client(params, hint, find_client)
    uri = _redirect_uri(params.post_logout_redirect_uri, client)
    return LogoutRequest(client, uri, params.state if uri is not None else None, hint)


def _one(params: Mapping[str, Sequence[str]], name: str, limit: int) -> str | None:
    values = [value for value in params.get(name, ()) if value != ""]
    # OAuth 2.1 §3.1: request parameters MUST NOT be included more than once.
    if len(values) > 1:
        raise InvalidLogoutRequest(f"The {name} parameter is repeated.")
    if values and len(values[0]) > limit:
        raise InvalidLogoutRequest(f"The {name} parameter is longer than {limit} characters.")
    return values[0] if values else None


async def _verified_hint(params: LogoutParameters, id_tokens: HintVerifier) -> IdTokenHint | None:
    if params.id_token_hint is None:
        return None
    try:
        # §2: the OP SHOULD accept an expired hint; signature, iss and typ stay pinned.
        hint = await id_tokens.verify_id_token_hint(params.id_token_hint)
    except InvalidToken as exc:
        raise InvalidLogoutRequest(
            "The id_token_hint is not an ID token issued by this server.", debug=exc.debug
        ) from None
    # §2: when both are given, the OP MUST verify that client_id matches the one used to
    # issue the hint (the same check as verify_id_token_hint(client_id=...), told apart).
    if params.client_id is not None and hint.client_id != params.client_id:
        raise InvalidLogoutRequest(
            "The id_token_hint was issued to another application than client_id names.",
            debug=f"hint for {hint.client_id}, client_id {params.client_id}",
        )
    return hint


async def _client(
    params: LogoutParameters, hint: IdTokenHint | None, find_client: ClientLookup
) -> LogoutClient | None:
    client_id = params.client_id or (hint.client_id if hint is not None else None)
    if client_id is None:
        return None
    client = await find_client(client_id)
    if client is None:
        raise InvalidLogoutRequest(
            "The application that sent you here is not registered with this server.",
            debug=f"unknown client {client_id[:80]!r}",
        )
    return client


def _redirect_uri(uri: str | None, client: LogoutClient | None) -> str | None:
    if uri is None:
        return None
    # §3: without the client's identity, no registration can vouch for the URI.
    if client is None:
        raise InvalidLogoutRequest(
            "post_logout_redirect_uri needs client_id or id_token_hint to name the application."
        )
    # §3: the OP MUST NOT perform post-logout redirection unless the URI exactly matches
    # one registered for the client (simple string comparison; no loopback port freedom).
    if uri not in client.post_logout_redirect_uris:
        raise InvalidLogoutRequest(
            "The address this application asked to return to after logout is not "
            "registered for it.",
            debug=f"unregistered post_logout_redirect_uri {uri[:200]!r} for {client.client_id}",
        )
    return uri
