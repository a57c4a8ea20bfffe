"""Authorization requests (RFC 6749 §4.1, OIDC Core §3.1.2; SECURITY.md R1, R2, R5, R6, R9, R22)."""

from urllib.parse import parse_qs, urlsplit

import pytest

from gatepass.oauth.authorization_response import AuthorizationError, NoRedirectError, redirect_with
from gatepass.oauth.authorize import parse_authorization_request, read_authorization_request
from gatepass.oauth.clients import Client, new_client_id
from gatepass.oauth.errors import AccessDenied, InvalidRequest
from gatepass.oauth.pkce import s256

ISSUER = "https://id.example.com"
CB = "https://app.example.com/cb"
CB_WITH_QUERY = "https://app.example.com/cb?tenant=7"
LOOPBACK = "http://127.0.0.1/cb"
CHALLENGE = s256("v" * 43)
CLIENT = Client(
    client_id=new_client_id(),
    name="Example App",
    secret_digest=None,
    redirect_uris=(CB, CB_WITH_QUERY, LOOPBACK),
    post_logout_redirect_uris=(),
    grant_types=("authorization_code", "refresh_token"),
    scopes=("openid", "profile", "email", "offline_access", "api:read"),
    first_party=False,
    id_token_alg="RS256",
    created_at=0.0,
    updated_at=0.0,
)
CLIENT_CREDENTIALS_ONLY = Client(
    **{**CLIENT.__dict__, "client_id": new_client_id(), "grant_types": ("client_credentials",)}
)

Params = dict[str, list[str]]


def params(**changes: str | list[str] | None) -> Params:
    """A valid request, with `changes` applied (None removes a parameter)."""
    base: dict[str, str | list[str] | None] = {
        "response_type": "code",
        "client_id": CLIENT.client_id,
        "redirect_uri": CB,
        "scope": "openid profile",
        "state": "af0ifjsldkj",
        "code_challenge": CHALLENGE,
        "code_challenge_method": "S256",
        **changes,
    }
    return {k: v if isinstance(v, list) else [v] for k, v in base.items() if v is not None}


def parse(query: Params, client: Client | None = CLIENT) -> AuthorizationError:
    """The redirect error that `query` must raise."""
    with pytest.raises(AuthorizationError) as caught:
        parse_authorization_request(query, client, issuer=ISSUER)
    return caught.value


def redirected(error: AuthorizationError) -> dict[str, list[str]]:
    return parse_qs(urlsplit(error.redirect_url()).query)


# -- accepted ---------------------------------------------------------------------------


def test_a_valid_request_parses_to_a_typed_request() -> None:
    request = parse_authorization_request(
        params(nonce="n-0S6_WzA2Mj", prompt="login consent", max_age="0", login_hint="ada"),
        CLIENT,
        issuer=ISSUER,
    )
    assert request.client == CLIENT
    assert request.redirect_uri == CB
    assert request.scopes == ("openid", "profile")
    assert request.code_challenge == CHALLENGE
    assert request.code_challenge_method == "S256"
    assert (request.state, request.nonce, request.login_hint) == (
        "af0ifjsldkj",
        "n-0S6_WzA2Mj",
        "ada",
    )
    assert request.prompt == frozenset({"login", "consent"})
    assert request.max_age == 0
    assert request.openid


ACCEPTED = {
    "a loopback redirect on any port__rfc8252_7_3": {"redirect_uri": "http://127.0.0.1:50719/cb"},
    "a registered redirect URI with its own query": {"redirect_uri": CB_WITH_QUERY},
    "a plain OAuth request without openid": {"scope": "api:read"},
    "a repeated scope token, once": {"scope": "openid openid email"},
    "no state, which is optional__rfc6749_4_1_1": {"state": None},
    "empty values counted as omitted__oauth21_3_1": {"state": "", "nonce": "", "prompt": ""},
    "unknown parameters ignored__rfc6749_3_1": {"claims_locales": "de", "foo": ["1", "2"]},
    "prompt=none alone": {"prompt": "none"},
    "a resource that is an absolute URI__rfc8707_2": {"resource": "https://api.example.com/v1"},
    "response_mode=query, the default": {"response_mode": "query"},
    "a large but bounded max_age": {"max_age": "86400"},
}


@pytest.mark.parametrize("changes", ACCEPTED.values(), ids=list(ACCEPTED))
def test_a_request_is_accepted_with(changes: dict[str, str | list[str] | None]) -> None:
    parse_authorization_request(params(**changes), CLIENT, issuer=ISSUER)


def test_the_loopback_redirect_keeps_the_port_the_client_asked_for__rfc8252_7_3() -> None:
    asked = "http://127.0.0.1:50719/cb"
    request = parse_authorization_request(params(redirect_uri=asked), CLIENT, issuer=ISSUER)
    assert request.redirect_uri == asked


def test_scope_tokens_keep_their_order_without_duplicates__rfc6749_3_3() -> None:
    request = parse_authorization_request(
        params(scope="email  openid email"), CLIENT, issuer=ISSUER
    )
    assert request.scopes == ("email", "openid")


def test_a_request_without_openid_is_plain_oauth__oidc_core_3_1_2_1() -> None:
    request = parse_authorization_request(params(scope="api:read"), CLIENT, issuer=ISSUER)
    assert not request.openid


# -- never redirected -------------------------------------------------------------------

NEVER_REDIRECTED = {
    "a missing client_id": (params(client_id=None), None),
    "an unknown client_id": (params(client_id=new_client_id()), None),
    "a client_id the looked-up client does not have": (params(client_id="gpc_other"), CLIENT),
    "a repeated client_id": (params(client_id=[CLIENT.client_id, CLIENT.client_id]), CLIENT),
    "a missing redirect_uri": (params(redirect_uri=None), CLIENT),
    "an unregistered redirect_uri": (params(redirect_uri="https://evil.example/cb"), CLIENT),
    "a redirect_uri with another path": (params(redirect_uri=CB + "/x"), CLIENT),
    "a redirect_uri with an added query": (params(redirect_uri=CB + "?x=1"), CLIENT),
    "a redirect_uri differing in host case__decision_5": (
        params(redirect_uri="https://APP.example.com/cb"),
        CLIENT,
    ),
    "a repeated redirect_uri, even when both are registered": (
        params(redirect_uri=[CB, CB_WITH_QUERY]),
        CLIENT,
    ),
    "an unregistered redirect_uri with every other error too": (
        params(redirect_uri="https://evil.example/cb", response_type="token", scope="admin"),
        CLIENT,
    ),
}


@pytest.mark.parametrize(("query", "client"), NEVER_REDIRECTED.values(), ids=list(NEVER_REDIRECTED))
def test_it_never_redirects_for__rfc6749_4_1_2_1(query: Params, client: Client | None) -> None:
    with pytest.raises(NoRedirectError) as caught:
        parse_authorization_request(query, client, issuer=ISSUER)
    assert not isinstance(caught.value, AuthorizationError)
    assert caught.value.status_code == 400


def test_unregistered_redirect_uri_never_redirects__rfc6749_4_1_2_1() -> None:
    with pytest.raises(NoRedirectError) as caught:
        parse_authorization_request(
            params(redirect_uri="https://evil.example/cb"), CLIENT, issuer=ISSUER
        )
    # Nothing in the error points at the attacker's URI: there is nowhere to send the user.
    assert not hasattr(caught.value, "redirect_url")
    assert "evil" not in caught.value.description


async def test_an_unknown_client_is_looked_up_and_never_redirected__rfc6749_4_1_2_1() -> None:
    asked: list[str] = []

    async def lookup(client_id: str) -> Client | None:
        asked.append(client_id)
        return None

    with pytest.raises(NoRedirectError):
        await read_authorization_request(params(), lookup, issuer=ISSUER)
    assert asked == [CLIENT.client_id]


async def test_a_known_client_is_looked_up_and_the_request_parsed() -> None:
    async def lookup(client_id: str) -> Client | None:
        return CLIENT if client_id == CLIENT.client_id else None

    request = await read_authorization_request(params(), lookup, issuer=ISSUER)
    assert request.client == CLIENT


async def test_a_missing_client_id_is_refused_before_any_lookup__rfc6749_4_1_2_1() -> None:
    async def lookup(client_id: str) -> Client | None:
        raise AssertionError("no lookup without a client_id")

    with pytest.raises(NoRedirectError):
        await read_authorization_request(params(client_id=None), lookup, issuer=ISSUER)


# -- redirected with an error -----------------------------------------------------------

REDIRECTED = {
    # RFC 6749 §4.1.2.1, RFC 9700 §2.1.2: only the code flow.
    "response_type=token is unsupported_response_type__rfc9700_2_1_2": (
        {"response_type": "token"},
        "unsupported_response_type",
    ),
    "response_type=id_token is unsupported_response_type__rfc9700_2_1_2": (
        {"response_type": "id_token"},
        "unsupported_response_type",
    ),
    "response_type=code id_token is unsupported_response_type__rfc9700_2_1_2": (
        {"response_type": "code id_token"},
        "unsupported_response_type",
    ),
    "response_type=Code is not code": ({"response_type": "Code"}, "unsupported_response_type"),
    "a missing response_type is invalid_request__rfc6749_4_1_1": (
        {"response_type": None},
        "invalid_request",
    ),
    "a client without the code grant is unauthorized_client__rfc6749_4_1_2_1": (
        {"client_id": CLIENT_CREDENTIALS_ONLY.client_id},
        "unauthorized_client",
    ),
    # PKCE (R5, R6).
    "a missing code_challenge is invalid_request__oauth21_4_1_2_1": (
        {"code_challenge": None},
        "invalid_request",
    ),
    "a challenge without its method is invalid_request__rfc9700_2_1_1": (
        {"code_challenge_method": None},
        "invalid_request",
    ),
    "an unsupported challenge method is invalid_request__rfc7636_4_4_1": (
        {"code_challenge_method": "S384"},
        "invalid_request",
    ),
    "a malformed challenge is invalid_request__rfc7636_4_2": (
        {"code_challenge": "short"},
        "invalid_request",
    ),
    # Repeated parameters (R22).
    "a repeated response_type is invalid_request__oauth21_3_1": (
        {"response_type": ["code", "code"]},
        "invalid_request",
    ),
    "a repeated scope is invalid_request__oauth21_3_1": (
        {"scope": ["openid", "email"]},
        "invalid_request",
    ),
    "a repeated code_challenge is invalid_request__oauth21_3_1": (
        {"code_challenge": [CHALLENGE, CHALLENGE]},
        "invalid_request",
    ),
    "a repeated state is invalid_request__oauth21_3_1": (
        {"state": ["a", "b"]},
        "invalid_request",
    ),
    "a repeated nonce is invalid_request__oauth21_3_1": ({"nonce": ["a", "b"]}, "invalid_request"),
    # Scope (RFC 6749 §3.3).
    "a scope beyond the client's is invalid_scope__rfc6749_4_1_2_1": (
        {"scope": "openid admin"},
        "invalid_scope",
    ),
    "a missing scope is invalid_scope__rfc6749_3_3": ({"scope": None}, "invalid_scope"),
    "a scope of spaces only is invalid_scope__rfc6749_3_3": ({"scope": "   "}, "invalid_scope"),
    # prompt and max_age (OIDC Core §3.1.2.1).
    "prompt=none with login is invalid_request__oidc_core_3_1_2_1": (
        {"prompt": "none login"},
        "invalid_request",
    ),
    "prompt=none with consent is invalid_request__oidc_core_3_1_2_1": (
        {"prompt": "consent none"},
        "invalid_request",
    ),
    "an unknown prompt value is invalid_request": (
        {"prompt": "select_everything"},
        "invalid_request",
    ),
    "a negative max_age is invalid_request__oidc_core_3_1_2_1": (
        {"max_age": "-1"},
        "invalid_request",
    ),
    "a fractional max_age is invalid_request": ({"max_age": "1.5"}, "invalid_request"),
    "a max_age that is not a number is invalid_request": ({"max_age": "soon"}, "invalid_request"),
    # resource (RFC 8707 §2).
    "a relative resource is invalid_target__rfc8707_2": ({"resource": "/api"}, "invalid_target"),
    "a resource with a fragment is invalid_target__rfc8707_2": (
        {"resource": "https://api.example.com/#x"},
        "invalid_target",
    ),
    "an oversized resource is invalid_target": (
        {"resource": "https://api.example.com/" + "r" * 2000},
        "invalid_target",
    ),
    "a resource with a no-break space is invalid_target": (
        {"resource": "https://api.example.com/a\u00a0b"},
        "invalid_target",
    ),
    "two resources are invalid_target": (
        {"resource": ["https://a.example.com", "https://b.example.com"]},
        "invalid_target",
    ),
    # Request objects and response modes gatepass does not serve (OIDC Core §6).
    "a request object is request_not_supported__oidc_core_6": (
        {"request": "eyJhbGciOiJub25lIn0.e30."},
        "request_not_supported",
    ),
    "a request_uri is request_uri_not_supported__oidc_core_6": (
        {"request_uri": "https://app.example.com/req"},
        "request_uri_not_supported",
    ),
    "response_mode=fragment is invalid_request": (
        {"response_mode": "fragment"},
        "invalid_request",
    ),
    "an oversized nonce is invalid_request": ({"nonce": "n" * 2001}, "invalid_request"),
    "an oversized state is invalid_request": ({"state": "s" * 2001}, "invalid_request"),
}


@pytest.mark.parametrize(("changes", "code"), REDIRECTED.values(), ids=list(REDIRECTED))
def test_it_redirects_with_an_error_when(
    changes: dict[str, str | list[str] | None], code: str
) -> None:
    client = CLIENT_CREDENTIALS_ONLY if "client_id" in changes else CLIENT
    error = parse(params(**changes), client)
    assert error.error.error == code
    sent = redirected(error)
    assert sent["error"] == [code]
    assert sent["iss"] == [ISSUER]
    assert error.redirect_url().startswith(CB + "?")


def test_plain_pkce_is_refused__rfc9700_2_1_1() -> None:
    error = parse(params(code_challenge_method="plain", code_challenge="p" * 43))
    assert isinstance(error.error, InvalidRequest)
    assert "plain" in error.error.description


def test_iss_in_error_redirects__rfc9207_2() -> None:
    assert redirected(parse(params(response_type="token")))["iss"] == [ISSUER]


def test_state_in_error_redirects__rfc6749_4_1_2_1() -> None:
    sent = redirected(parse(params(scope="openid admin", state="xyz 1/2")))
    assert sent["state"] == ["xyz 1/2"]


def test_no_state_is_echoed_when_there_was_none__rfc6749_4_1_2_1() -> None:
    assert "state" not in redirected(parse(params(scope="admin", state=None)))


def test_a_repeated_state_is_echoed_by_neither_value__oauth21_3_1() -> None:
    assert "state" not in redirected(parse(params(state=["a", "b"])))


def test_an_error_redirect_carries_a_description__rfc6749_4_1_2_1() -> None:
    sent = redirected(parse(params(scope="openid admin")))
    assert sent["error_description"][0]


def test_an_error_redirect_keeps_the_registered_query__rfc6749_3_1_2() -> None:
    url = parse(params(redirect_uri=CB_WITH_QUERY, response_type="token")).redirect_url()
    assert url.startswith(CB_WITH_QUERY + "&")
    assert redirected(parse(params(redirect_uri=CB_WITH_QUERY, response_type="token")))[
        "tenant"
    ] == ["7"]


def test_an_error_redirect_goes_to_the_loopback_port_asked_for__rfc8252_7_3() -> None:
    asked = "http://127.0.0.1:50719/cb"
    url = parse(params(redirect_uri=asked, scope="admin")).redirect_url()
    assert url.startswith(asked + "?")


def test_an_error_redirect_is_a_303_never_a_307__rfc9700_4_12() -> None:
    status, headers, body = parse(params(response_type="token")).as_response()
    assert status == 303
    assert headers["Location"].startswith(CB + "?")
    assert headers["Cache-Control"] == "no-store"
    assert body == {}


def test_a_request_error_redirects_to_the_request_s_own_redirect_uri() -> None:
    request = parse_authorization_request(params(), CLIENT, issuer=ISSUER)
    denied = request.error(AccessDenied("The user said no."), issuer=ISSUER)
    assert redirected(denied) == {
        "error": ["access_denied"],
        "error_description": ["The user said no."],
        "state": ["af0ifjsldkj"],
        "iss": [ISSUER],
    }


# -- the success response ---------------------------------------------------------------


def test_the_success_redirect_carries_code_state_and_iss__rfc9207_2() -> None:
    request = parse_authorization_request(params(redirect_uri=CB_WITH_QUERY), CLIENT, issuer=ISSUER)
    url = request.response_url("the-code", issuer=ISSUER)
    assert url.startswith(CB_WITH_QUERY + "&")
    assert parse_qs(urlsplit(url).query) == {
        "tenant": ["7"],
        "code": ["the-code"],
        "state": ["af0ifjsldkj"],
        "iss": [ISSUER],
    }


REDIRECT_FORMS = {
    "no query": ("https://a.example/cb", "https://a.example/cb?x=1"),
    "a query": ("https://a.example/cb?a=b", "https://a.example/cb?a=b&x=1"),
    "a bare question mark": ("https://a.example/cb?", "https://a.example/cb?x=1"),
}


@pytest.mark.parametrize(("uri", "expected"), REDIRECT_FORMS.values(), ids=list(REDIRECT_FORMS))
def test_redirect_with_adds_to_the_query_of(uri: str, expected: str) -> None:
    assert redirect_with(uri, {"x": "1", "absent": None}) == expected
