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
