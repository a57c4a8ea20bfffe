"""Client registration rules (oauth/clients.py): RFC 6749 §3.1.2, RFC 8252 §7, R1, R21, R29."""

import re
import uuid

import pytest

from gatepass.oauth.clients import (
    ClientRegistration,
    looks_like_client_id,
    new_client_id,
    validate_registration,
)
from gatepass.oauth.errors import (
    InvalidClient,
    InvalidClientMetadata,
    InvalidRedirectUri,
    InvalidRequest,
    OAuthError,
)

WEB = "https://app.example.com/callback"


def register(**fields: object) -> ClientRegistration:
    values: dict[str, object] = {"name": "Example App", "redirect_uris": (WEB,), **fields}
    return validate_registration(ClientRegistration(**values))  # type: ignore[arg-type]


ACCEPTED_REDIRECTS = {
    "an https URI": ("https://app.example.com/callback", False),
    "an https URI with port and query": ("https://app.example.com:8443/cb?x=1", False),
    "http on 127.0.0.1 with a port": ("http://127.0.0.1:8080/callback", True),
    "http on [::1] without a port": ("http://[::1]/callback", True),
    "http on localhost": ("http://localhost:3000/cb", False),
    "a private-use scheme for a public client": ("com.example.app:/oauth2redirect", True),
}


@pytest.mark.parametrize(
    ("uri", "public"), ACCEPTED_REDIRECTS.values(), ids=list(ACCEPTED_REDIRECTS)
)
def test_a_redirect_uri_is_accepted(uri: str, public: bool) -> None:
    assert register(redirect_uris=(uri,), public=public).redirect_uris == (uri,)


REFUSED_REDIRECTS = {
    "plain http on a public host__r21": ("http://app.example.com/cb", False, "loopback"),
    "plain http on a public host for a native app__r21": ("http://example.com/cb", True, "http"),
    "plain http on a LOCALHOST written in capitals": ("http://LOCALHOST/cb", True, "loopback"),
    "plain http on 127.0.0.2": ("http://127.0.0.2/cb", True, "loopback"),
    "a fragment__rfc6749_3_1_2": ("https://app.example.com/cb#frag", False, "fragment"),
    "an empty fragment__rfc6749_3_1_2": ("https://app.example.com/cb#", False, "fragment"),
    "a relative path__rfc6749_3_1_2": ("/callback", False, "absolute"),
    "a host without scheme": ("app.example.com/callback", False, "absolute"),
    "a scheme-relative URI": ("//app.example.com/cb", False, "absolute"),
    "an upper-case scheme": ("HTTPS://app.example.com/cb", False, "absolute"),
    "https without a host": ("https:///cb", False, "host"),
    "https with user information": ("https://user@app.example.com/cb", False, "user"),
    "a loopback with user information": ("http://127.0.0.1@evil.example/cb", True, "user"),
    "a port out of range": ("https://app.example.com:70000/cb", False, "port"),
    "a space in the URI": ("https://app.example.com/call back", False, "spaces"),
    "a private-use scheme for a confidential client": ("com.example.app:/cb", False, "public"),
    "a private-use scheme that is no domain": ("myapp:/cb", True, "reverse domain"),
    "javascript": ("javascript:alert(1)", True, "reverse domain"),
    "data": ("data:text/html,hi", True, "reverse domain"),
    "an empty string": ("", False, "characters"),
}


@pytest.mark.parametrize(
    ("uri", "public", "reason"), REFUSED_REDIRECTS.values(), ids=list(REFUSED_REDIRECTS)
)
def test_a_redirect_uri_is_refused(uri: str, public: bool, reason: str) -> None:
    with pytest.raises(InvalidRedirectUri, match=re.escape(reason)) as caught:
        register(redirect_uris=(uri,), public=public)
    assert caught.value.error == "invalid_redirect_uri"
    assert caught.value.status_code == 400


def test_post_logout_redirect_uris_follow_the_same_rules() -> None:
    with pytest.raises(InvalidRedirectUri, match="loopback"):
        register(post_logout_redirect_uris=("http://app.example.com/bye",))
    ok = register(post_logout_redirect_uris=("https://app.example.com/bye",))
    assert ok.post_logout_redirect_uris == ("https://app.example.com/bye",)


REFUSED_GRANTS = {
    "implicit__rfc9700_2_1_2": (("implicit",), False, "implicit grant is not supported"),
    "password__rfc9700_2_4": (("password",), False, "password grant is not supported"),
    "an unknown grant": (("urn:example:magic",), False, "Unknown grant type"),
    "client_credentials on a public client__rfc6749_4_4": (
        ("client_credentials",),
        True,
        "only for confidential",
    ),
    "refresh_token without authorization_code": (("refresh_token",), False, "needs"),
}


@pytest.mark.parametrize(
    ("grants", "public", "reason"), REFUSED_GRANTS.values(), ids=list(REFUSED_GRANTS)
)
def test_a_grant_type_is_refused(grants: tuple[str, ...], public: bool, reason: str) -> None:
    with pytest.raises(InvalidClientMetadata, match=reason) as caught:
        register(grant_types=grants, public=public)
    assert caught.value.error == "invalid_client_metadata"


def test_without_grant_types_a_client_gets_authorization_code__rfc7591_2() -> None:
    assert register().grant_types == ("authorization_code",)


def test_a_confidential_client_may_use_client_credentials_without_redirect_uris() -> None:
    clean = register(redirect_uris=(), grant_types=("client_credentials",))
    assert clean.grant_types == ("client_credentials",)
    assert clean.redirect_uris == ()


def test_authorization_code_needs_a_redirect_uri() -> None:
    with pytest.raises(InvalidClientMetadata, match="redirect URI"):
        register(redirect_uris=())


def test_default_scopes_add_offline_access_only_with_refresh_tokens() -> None:
    assert register().scopes == ("openid", "profile", "email")
    both = register(grant_types=("authorization_code", "refresh_token"))
    assert both.scopes == ("openid", "profile", "email", "offline_access")


@pytest.mark.parametrize(
    "scope", ["openid", "offline_access", "api:read", "orders.write", "https://api.example/x"]
)
def test_a_scope_is_accepted(scope: str) -> None:
    grants = ("authorization_code", "refresh_token")
    assert scope in register(scopes=(scope,), grant_types=grants).scopes


@pytest.mark.parametrize(
    "scope", ["has space", 'quote"', "back\\slash", "", "1starts-with-digit", "x" * 101, "é"]
)
def test_a_malformed_scope_is_refused(scope: str) -> None:
    with pytest.raises(InvalidClientMetadata, match="Scope"):
        register(scopes=(scope,))


def test_offline_access_needs_the_refresh_token_grant() -> None:
    with pytest.raises(InvalidClientMetadata, match="offline_access"):
        register(scopes=("openid", "offline_access"))


@pytest.mark.parametrize("alg", ["RS256", "ES256", "EdDSA"])
def test_an_id_token_algorithm_is_accepted(alg: str) -> None:
    assert register(id_token_alg=alg).id_token_alg == alg


@pytest.mark.parametrize("alg", ["none", "HS256", "rs256", "PS256", ""])
def test_an_id_token_algorithm_is_refused(alg: str) -> None:
    with pytest.raises(InvalidClientMetadata, match="id token algorithm"):
        register(id_token_alg=alg)


def test_the_default_id_token_algorithm_is_rs256() -> None:
    assert register().id_token_alg == "RS256"


@pytest.mark.parametrize("name", ["", "   ", "x" * 201, "tab\x01name"])
def test_a_bad_name_is_refused(name: str) -> None:
    with pytest.raises(InvalidClientMetadata, match="name"):
        register(name=name)


def test_duplicates_are_dropped_keeping_order() -> None:
    other = "https://app.example.com/other"
    clean = register(redirect_uris=(WEB, other, WEB), scopes=("email", "openid", "email"))
    assert clean.redirect_uris == (WEB, other)
    assert clean.scopes == ("email", "openid")


def test_client_ids_are_unique_and_carry_256_random_bits() -> None:
    ids = {new_client_id() for _ in range(1000)}
    assert len(ids) == 1000
    for client_id in ids:
        assert looks_like_client_id(client_id)
        assert len(client_id) <= 64  # fits the clients.client_id column
        assert len(client_id.removeprefix("gpc_")) * 6 >= 256


def test_a_client_id_can_never_be_a_user_id__r29() -> None:
    for _ in range(200):
        client_id = new_client_id()
        with pytest.raises(ValueError, match="badly formed"):
            uuid.UUID(client_id)
    assert not looks_like_client_id(str(uuid.uuid4()))


@pytest.mark.parametrize(
    ("error", "code", "status"),
    [
        (InvalidRequest("x"), "invalid_request", 400),
        (InvalidClient(), "invalid_client", 401),
        (InvalidClientMetadata("x"), "invalid_client_metadata", 400),
        (InvalidRedirectUri("x"), "invalid_redirect_uri", 400),
    ],
    ids=["invalid_request", "invalid_client", "invalid_client_metadata", "invalid_redirect_uri"],
)
def test_each_error_renders_its_rfc_code_and_status(
    error: OAuthError, code: str, status: int
) -> None:
    got_status, headers, body = error.as_response()
    assert (got_status, body["error"]) == (status, code)
    assert headers["Cache-Control"] == "no-store"
    assert body["error_description"] == error.description


def test_invalid_client_carries_www_authenticate__rfc6749_5_2() -> None:
    _, headers, _ = InvalidClient(debug="wrong secret for gpc_x").as_response()
    assert headers["WWW-Authenticate"] == 'Basic realm="gatepass"'


def test_debug_detail_is_never_rendered() -> None:
    _, headers, body = InvalidClient(debug="secret-detail").as_response()
    assert "secret-detail" not in repr((headers, body))


# --- token settings per client (the token-lifecycle issue) ---------------------------

REFRESHING = ("authorization_code", "refresh_token")
DAY = 86_400


def test_without_token_settings_a_client_follows_the_server() -> None:
    clean = register(grant_types=REFRESHING)
    assert clean.refresh_token_idle_ttl is None
    assert clean.refresh_token_absolute_ttl is None
    assert clean.refresh_retry_window is None
    assert clean.default_audience is None


ACCEPTED_REFRESH_SETTINGS = {
    "the shortest lifetimes": {"refresh_token_idle_ttl": 60, "refresh_token_absolute_ttl": 60},
    "the longest lifetimes": {
        "refresh_token_idle_ttl": 365 * DAY,
        "refresh_token_absolute_ttl": 365 * DAY,
    },
    "an idle time alone": {"refresh_token_idle_ttl": 3600},
    "an absolute lifetime alone": {"refresh_token_absolute_ttl": 7 * DAY},
    "a strict retry window": {"refresh_retry_window": 0},
    "the widest retry window": {"refresh_retry_window": 60},
}


@pytest.mark.parametrize(
    "fields", ACCEPTED_REFRESH_SETTINGS.values(), ids=list(ACCEPTED_REFRESH_SETTINGS)
)
def test_refresh_settings_are_accepted(fields: dict[str, int]) -> None:
    clean = register(grant_types=REFRESHING, **fields)
    assert {name: getattr(clean, name) for name in fields} == fields


REFUSED_REFRESH_SETTINGS = {
    "an idle time under a minute": ({"refresh_token_idle_ttl": 59}, "refresh_token_idle_ttl"),
    "an idle time over a year": (
        {"refresh_token_idle_ttl": 365 * DAY + 1},
        "refresh_token_idle_ttl",
    ),
    "an absolute lifetime under a minute": (
        {"refresh_token_absolute_ttl": 59},
        "refresh_token_absolute_ttl",
    ),
    "an absolute lifetime over a year": (
        {"refresh_token_absolute_ttl": 365 * DAY + 1},
        "refresh_token_absolute_ttl",
    ),
    "a zero idle time": ({"refresh_token_idle_ttl": 0}, "refresh_token_idle_ttl"),
    "a negative retry window": ({"refresh_retry_window": -1}, "refresh_retry_window"),
    "a retry window over a minute": ({"refresh_retry_window": 61}, "refresh_retry_window"),
    "a retry window of True": ({"refresh_retry_window": True}, "refresh_retry_window"),
    "a fractional idle time": ({"refresh_token_idle_ttl": 60.5}, "refresh_token_idle_ttl"),
    "an idle time over the absolute lifetime": (
        {"refresh_token_idle_ttl": 2 * DAY, "refresh_token_absolute_ttl": DAY},
        "must not exceed refresh_token_absolute_ttl",
    ),
}


@pytest.mark.parametrize(
    ("fields", "reason"), REFUSED_REFRESH_SETTINGS.values(), ids=list(REFUSED_REFRESH_SETTINGS)
)
def test_refresh_settings_are_refused(fields: dict[str, object], reason: str) -> None:
    with pytest.raises(InvalidClientMetadata, match=re.escape(reason)) as caught:
        register(grant_types=REFRESHING, **fields)
    assert caught.value.error == "invalid_client_metadata"


@pytest.mark.parametrize(
    "name", ["refresh_token_idle_ttl", "refresh_token_absolute_ttl", "refresh_retry_window"]
)
def test_refresh_settings_need_the_refresh_token_grant(name: str) -> None:
    with pytest.raises(InvalidClientMetadata, match=f"{name} needs the refresh_token grant"):
        register(**{name: 60})
    with pytest.raises(InvalidClientMetadata, match="needs the refresh_token grant"):
        register(redirect_uris=(), grant_types=("client_credentials",), **{name: 60})


ACCEPTED_AUDIENCES = {
    "an https API": "https://api.example.com",
    "an https API with a path and query": "https://api.example.com/v1?tenant=a",
    "a URN": "urn:example:orders",
    "2000 characters": "https://api.example.com/" + "a" * (2000 - 24),
}


@pytest.mark.parametrize("audience", ACCEPTED_AUDIENCES.values(), ids=list(ACCEPTED_AUDIENCES))
def test_a_default_audience_is_accepted(audience: str) -> None:
    assert register(default_audience=audience).default_audience == audience


def test_a_client_credentials_client_may_name_its_audience() -> None:
    clean = register(
        redirect_uris=(), grant_types=("client_credentials",), default_audience="urn:x:api"
    )
    assert clean.default_audience == "urn:x:api"


REFUSED_AUDIENCES = {
    "a relative URI__rfc8707_2": "/api",
    "a host without scheme__rfc8707_2": "api.example.com",
    "a fragment__rfc8707_2": "https://api.example.com/#x",
    "an empty fragment__rfc8707_2": "https://api.example.com/#",
    "a space": "https://api.example.com/a b",
    "a tab": "https://api.example.com/\tb",
    "a no-break space": "https://api.example.com/a\u00a0b",
    "a control character": "https://api.example.com/\x7f",
    "an empty string": "",
    "2001 characters": "https://api.example.com/" + "a" * (2001 - 24),
}


@pytest.mark.parametrize("audience", REFUSED_AUDIENCES.values(), ids=list(REFUSED_AUDIENCES))
def test_a_default_audience_is_refused(audience: str) -> None:
    with pytest.raises(InvalidClientMetadata, match="default_audience must be an absolute URI"):
        register(default_audience=audience)
