"""OAuth clients (RFC 6749 §2, RFC 7591 §2): the record, and what a registration may say."""

import re
import secrets
from collections.abc import Iterable
from dataclasses import dataclass, field

from gatepass.oauth.errors import InvalidClientMetadata
from gatepass.oauth.redirect_uris import matches_registered, validate_redirect_uri
from gatepass.oauth.resource_indicators import MAX_RESOURCE_LENGTH, is_resource_uri

# R29 (RFC 9700 §4.15): a client id can never equal a user id. User ids are UUIDs,
# which cannot contain "_"; every client id starts with this prefix.
CLIENT_ID_PREFIX = "gpc_"
CLIENT_ID_BYTES = 32  # 256 random bits: unguessable, never colliding
_CLIENT_ID_SHAPE = re.compile(re.escape(CLIENT_ID_PREFIX) + r"[A-Za-z0-9_-]{43}")

AUTHORIZATION_CODE = "authorization_code"
REFRESH_TOKEN = "refresh_token"  # noqa: S105 - a grant type name
CLIENT_CREDENTIALS = "client_credentials"
GRANT_TYPES = (AUTHORIZATION_CODE, REFRESH_TOKEN, CLIENT_CREDENTIALS)
REFUSED_GRANT_TYPES = {
    # RFC 9700 §2.1.2: the implicit grant SHOULD NOT be used; OAuth 2.1 removes it.
    "implicit": "the implicit grant is not supported (RFC 9700 §2.1.2); "
    "use authorization_code with PKCE",
    # RFC 9700 §2.4: the resource owner password credentials grant MUST NOT be used.
    "password": "the password grant is not supported (RFC 9700 §2.4); "
    "use authorization_code with PKCE",
}

STANDARD_SCOPES = ("openid", "profile", "email", "offline_access")
DEFAULT_SCOPES = ("openid", "profile", "email")
# RFC 6749 §3.3 allows more; custom API scopes keep to a plain, readable token.
_CUSTOM_SCOPE = re.compile(r"[A-Za-z][A-Za-z0-9_.:/-]{0,99}")

ID_TOKEN_ALGS = ("RS256", "ES256", "EdDSA")
DEFAULT_ID_TOKEN_ALG = "RS256"  # noqa: S105 - OIDC Core §15.1: RS256 must always be available

MAX_NAME_LENGTH = 200
MAX_URIS = 20
MAX_SCOPES = 50

# A client's own refresh-token settings keep to the bounds of the server's (config.py).
MIN_REFRESH_TTL_SECONDS = 60
MAX_REFRESH_TTL_SECONDS = 365 * 86_400
MAX_REFRESH_RETRY_WINDOW_SECONDS = 60
REFRESH_SETTINGS = ("refresh_token_idle_ttl", "refresh_token_absolute_ttl", "refresh_retry_window")


@dataclass(frozen=True)
class Client:
    """A registered client. A confidential client holds a secret, kept only as its digest."""

    client_id: str
    name: str
    secret_digest: str | None = field(repr=False)  # HMAC-SHA256; None for a public client
    redirect_uris: tuple[str, ...]
    post_logout_redirect_uris: tuple[str, ...]
    grant_types: tuple[str, ...]
    scopes: tuple[str, ...]
    first_party: bool
    id_token_alg: str
    created_at: float
    updated_at: float
    # The client's own token settings; None: the server's (oauth/token_settings.py).
    refresh_token_idle_ttl: int | None = None
    refresh_token_absolute_ttl: int | None = None
    refresh_retry_window: int | None = None  # 0: strict, no retry of a rotated token
    default_audience: str | None = None  # `aud` when a request names no resource (RFC 8707)
    # Users signing in to this client need a second factor; None: the server's
    # `mfa_required` setting decides (docs/mfa.md).
    require_mfa: bool | None = None

    @property
    def confidential(self) -> bool:
        return self.secret_digest is not None

    @property
    def token_endpoint_auth_method(self) -> str:
        """RFC 7591 §2: how the client authenticates at the token endpoint."""
        return "client_secret_basic" if self.confidential else "none"


@dataclass(frozen=True)
class ClientRegistration:
    """What an administrator asks for; `validate_registration` makes it a clean one."""

    name: str
    redirect_uris: tuple[str, ...] = ()
    public: bool = False
    grant_types: tuple[str, ...] = ()  # empty: authorization_code (RFC 7591 §2)
    scopes: tuple[str, ...] = ()  # empty: openid profile email (+ offline_access)
    first_party: bool = False
    post_logout_redirect_uris: tuple[str, ...] = ()
    id_token_alg: str = DEFAULT_ID_TOKEN_ALG
    refresh_token_idle_ttl: int | None = None  # None here and below: the server's setting
    refresh_token_absolute_ttl: int | None = None
    refresh_retry_window: int | None = None
    default_audience: str | None = None
    require_mfa: bool | None = None  # None: the server's mfa_required


def new_client_id() -> str:
    return CLIENT_ID_PREFIX + secrets.token_urlsafe(CLIENT_ID_BYTES)


def looks_like_client_id(value: str) -> bool:
    return _CLIENT_ID_SHAPE.fullmatch(value) is not None


def redirect_uri_matches(client: Client, uri: str) -> bool:
    """Exact match against the client's redirect URIs; any port on http loopback (RFC 8252 §7.3)."""
    return matches_registered(client.redirect_uris, uri)


def post_logout_redirect_uri_matches(client: Client, uri: str) -> bool:
    """OIDC RP-Initiated Logout §3: the URI MUST exactly match a registered one."""
    return uri in client.post_logout_redirect_uris


def validate_registration(reg: ClientRegistration) -> ClientRegistration:
    """The registration with defaults filled and duplicates dropped; raises
    InvalidClientMetadata or InvalidRedirectUri, naming the rule broken."""
    grant_types = _grant_types(reg.grant_types, public=reg.public)
    redirect_uris = _uris(reg.redirect_uris, public=reg.public, what="redirect URIs")
    if AUTHORIZATION_CODE in grant_types and not redirect_uris:
        raise InvalidClientMetadata("The authorization_code grant needs a redirect URI.")
    _check_refresh_settings(reg, grant_types)
    return ClientRegistration(
        name=_name(reg.name),
        redirect_uris=redirect_uris,
        public=reg.public,
        grant_types=grant_types,
        scopes=_scopes(reg.scopes, grant_types),
        first_party=reg.first_party,
        post_logout_redirect_uris=_uris(
            reg.post_logout_redirect_uris, public=reg.public, what="post-logout redirect URIs"
        ),
        id_token_alg=_id_token_alg(reg.id_token_alg),
        refresh_token_idle_ttl=reg.refresh_token_idle_ttl,
        refresh_token_absolute_ttl=reg.refresh_token_absolute_ttl,
        refresh_retry_window=reg.refresh_retry_window,
        default_audience=_default_audience(reg.default_audience),
        require_mfa=reg.require_mfa,
    )


def _unique(values: Iterable[str]) -> tuple[str, ...]:
    return tuple(dict.fromkeys(values))


def _name(name: str) -> str:
    name = " ".join(name.split())
    if not name or len(name) > MAX_NAME_LENGTH or any(ord(ch) < 32 for ch in name):
        raise InvalidClientMetadata(
            f"A client name is 1 to {MAX_NAME_LENGTH} characters, without control characters."
        )
    return name


def _grant_types(requested: Iterable[str], *, public: bool) -> tuple[str, ...]:
    grant_types = _unique(requested) or (AUTHORIZATION_CODE,)
    for grant_type in grant_types:
        if grant_type in REFUSED_GRANT_TYPES:
            raise InvalidClientMetadata(f"Refused: {REFUSED_GRANT_TYPES[grant_type]}.")
        if grant_type not in GRANT_TYPES:
            raise InvalidClientMetadata(
                f"Unknown grant type {grant_type!r}; use one of {', '.join(GRANT_TYPES)}."
            )
    # RFC 6749 §4.4: the client credentials grant MUST only be used by confidential clients.
    if public and CLIENT_CREDENTIALS in grant_types:
        raise InvalidClientMetadata(
            "client_credentials is only for confidential clients (RFC 6749 §4.4)."
        )
    # RFC 6749 §4.4.3: client credentials issue no refresh token; only a code grant does.
    if REFRESH_TOKEN in grant_types and AUTHORIZATION_CODE not in grant_types:
        raise InvalidClientMetadata("refresh_token needs the authorization_code grant.")
    return grant_types


def _uris(uris: Iterable[str], *, public: bool, what: str) -> tuple[str, ...]:
    unique = _unique(uris)
    if len(unique) > MAX_URIS:
        raise InvalidClientMetadata(f"Register at most {MAX_URIS} {what}.")
    for uri in unique:
        validate_redirect_uri(uri, public=public)
    return unique


def _scopes(requested: Iterable[str], grant_types: tuple[str, ...]) -> tuple[str, ...]:
    offline = ("offline_access",) if REFRESH_TOKEN in grant_types else ()
    scopes = _unique(requested) or (*DEFAULT_SCOPES, *offline)
    if len(scopes) > MAX_SCOPES:
        raise InvalidClientMetadata(f"Register at most {MAX_SCOPES} scopes.")
    for scope in scopes:
        if scope not in STANDARD_SCOPES and not _CUSTOM_SCOPE.fullmatch(scope):
            raise InvalidClientMetadata(
                f"Scope {scope!r} is not valid: use letters, digits and _ . : / - "
                "(starting with a letter), at most 100 characters."
            )
    if "offline_access" in scopes and REFRESH_TOKEN not in grant_types:
        raise InvalidClientMetadata("The offline_access scope needs the refresh_token grant.")
    return scopes


def _id_token_alg(alg: str) -> str:
    if alg not in ID_TOKEN_ALGS:
        raise InvalidClientMetadata(
            f"Unsupported id token algorithm {alg!r}; use one of {', '.join(ID_TOKEN_ALGS)}."
        )
    return alg


def _check_refresh_settings(reg: ClientRegistration, grant_types: tuple[str, ...]) -> None:
    given = [name for name in REFRESH_SETTINGS if getattr(reg, name) is not None]
    if given and REFRESH_TOKEN not in grant_types:
        raise InvalidClientMetadata(f"{given[0]} needs the refresh_token grant.")
    low, high = MIN_REFRESH_TTL_SECONDS, MAX_REFRESH_TTL_SECONDS
    _check_seconds("refresh_token_idle_ttl", reg.refresh_token_idle_ttl, low, high)
    _check_seconds("refresh_token_absolute_ttl", reg.refresh_token_absolute_ttl, low, high)
    _check_seconds(
        "refresh_retry_window", reg.refresh_retry_window, 0, MAX_REFRESH_RETRY_WINDOW_SECONDS
    )
    idle, absolute = reg.refresh_token_idle_ttl, reg.refresh_token_absolute_ttl
    # ASVS 10.4.8: the absolute expiry holds even with sliding renewal; a longer idle
    # time could never be reached, so it is a mistake in the registration.
    if idle is not None and absolute is not None and idle > absolute:
        raise InvalidClientMetadata(
            "refresh_token_idle_ttl must not exceed refresh_token_absolute_ttl."
        )


def _check_seconds(name: str, value: int | None, low: int, high: int) -> None:
    # Exactly an int: True (an int to Python) or 60.5 is a mistake, not a number of seconds.
    if value is not None and (type(value) is not int or not low <= value <= high):
        raise InvalidClientMetadata(f"{name} is a whole number of seconds from {low} to {high}.")


def _default_audience(audience: str | None) -> str | None:
    # The audience is an access token's `aud` like a request's `resource`: one rule for both.
    if audience is not None and not is_resource_uri(audience):
        raise InvalidClientMetadata(
            "default_audience must be an absolute URI without a fragment or white space, "
            f"at most {MAX_RESOURCE_LENGTH} characters (RFC 8707 §2)."
        )
    return audience
