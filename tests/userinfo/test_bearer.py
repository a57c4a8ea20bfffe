"""tokens/bearer.py: the Authorization header (RFC 6750 §2.1) and the challenge (§3)."""

from collections.abc import Callable

import pytest

from gatepass.tokens.bearer import (
    MAX_TOKEN_CHARS,
    BearerError,
    BearerInsufficientScope,
    BearerInvalidRequest,
    BearerInvalidToken,
    BearerMissing,
    parse_bearer,
)

JWT_LIKE = "eyJhbGciOiJFUzI1NiJ9.eyJzdWIiOiIxIn0.c2ln-_"


@pytest.mark.parametrize(
    ("header", "token"),
    [
        (f"Bearer {JWT_LIKE}", JWT_LIKE),
        (f"bearer {JWT_LIKE}", JWT_LIKE),
        (f"BEARER {JWT_LIKE}", JWT_LIKE),
        (f"Bearer   {JWT_LIKE}", JWT_LIKE),
        (f"  Bearer {JWT_LIKE} ", JWT_LIKE),
        ("Bearer mF_9.B5f-4.1JqM", "mF_9.B5f-4.1JqM"),
        ("Bearer abc+/~==", "abc+/~=="),
    ],
    ids=[
        "the usual form is read",
        "the scheme in lower case is read (RFC 9110 §11.1)",
        "the scheme in upper case is read",
        "several spaces after the scheme are allowed (1*SP)",
        "surrounding white space is not part of the value",
        "the RFC 6750 example token is read",
        "token68 allows + / ~ and trailing =",
    ],
)
def test_a_bearer_header_yields_its_token__rfc6750_2_1(header: str, token: str) -> None:
    assert parse_bearer([header]) == token


@pytest.mark.parametrize(
    "header",
    [
        "Bearer",
        "Bearer ",
        "Bearer a b",
        f"Bearer {JWT_LIKE} extra",
        "Bearer a=b",
        'Bearer "abc"',
        "Bearer abc,def",
        "Bearer\tabc",
        "Bearer ab\x00c",
        "Bearer jwt\u00e9",
        "",
        "=Bearer abc",
        "Bearer " + "a" * (MAX_TOKEN_CHARS + 1),
    ],
    ids=[
        "the scheme without a token",
        "the scheme and a space",
        "two tokens",
        "a token and something more",
        "an = inside the token",
        "a quoted token",
        "a comma in the token",
        "a tab where a space belongs",
        "a NUL in the token",
        "a non-ASCII character",
        "an empty header",
        "no scheme",
        "an oversized token",
    ],
)
def test_a_malformed_header_is_invalid_request_400__rfc6750_3_1(header: str) -> None:
    with pytest.raises(BearerInvalidRequest) as caught:
        parse_bearer([header])
    assert caught.value.status_code == 400
    assert caught.value.error == "invalid_request"


@pytest.mark.parametrize(
    "values",
    [[], ["Basic dXNlcjpwYXNz"], ["Digest username=x"], ["DPoP abc"]],
    ids=[
        "no Authorization header",
        "Basic credentials",
        "Digest credentials",
        "another scheme with a token",
    ],
)
def test_no_bearer_credentials_get_a_bare_challenge__rfc6750_3_1(values: list[str]) -> None:
    with pytest.raises(BearerMissing) as caught:
        parse_bearer(values)
    error = caught.value
    assert (error.status_code, error.error) == (401, None)
    # RFC 6750 §3.1: the resource server SHOULD NOT include an error code or other info.
    assert error.challenge("gatepass") == 'Bearer realm="gatepass"'
    assert error.challenge() == "Bearer"
    assert error.body() == {}


def test_a_token_only_in_the_query_or_body_counts_as_no_credentials__r23() -> None:
    with pytest.raises(BearerMissing):
        parse_bearer([], token_elsewhere=True)


def test_a_header_and_another_method_is_invalid_request__rfc6750_2() -> None:
    with pytest.raises(BearerInvalidRequest) as caught:
        parse_bearer([f"Bearer {JWT_LIKE}"], token_elsewhere=True)
    assert "Authorization header only" in caught.value.description


def test_two_authorization_headers_are_invalid_request__rfc6750_3_1() -> None:
    with pytest.raises(BearerInvalidRequest):
        parse_bearer([f"Bearer {JWT_LIKE}", f"Bearer {JWT_LIKE}"])


def test_invalid_token_challenge_carries_realm_error_and_description__rfc6750_3() -> None:
    error = BearerInvalidToken("The access token expired")
    assert error.challenge("example") == (
        'Bearer realm="example", error="invalid_token", '
        'error_description="The access token expired"'
    )
    status, headers, body = error.as_response("example")
    assert status == 401
    assert headers["WWW-Authenticate"] == error.challenge("example")
    assert headers["Cache-Control"] == "no-store"
    assert body == {"error": "invalid_token", "error_description": "The access token expired"}


def test_insufficient_scope_is_403_and_names_the_scope_needed__rfc6750_3_1() -> None:
    error = BearerInsufficientScope("Needs more.", scope=("openid", "email"))
    status, headers, body = error.as_response()
    assert status == 403
    assert headers["WWW-Authenticate"] == (
        'Bearer error="insufficient_scope", error_description="Needs more.", scope="openid email"'
    )
    assert body["scope"] == "openid email"


def test_a_realm_with_quote_or_backslash_is_escaped_as_a_quoted_string__rfc9110_5_6_4() -> None:
    assert BearerMissing().challenge('a"b\\c') == 'Bearer realm="a\\"b\\\\c"'


@pytest.mark.parametrize(
    "make",
    [
        lambda: BearerInvalidToken('say "no"'),
        lambda: BearerInvalidToken("back\\slash"),
        lambda: BearerInvalidToken("caf\u00e9"),
        lambda: BearerInvalidToken("line\nbreak"),
        lambda: BearerInsufficientScope("x", scope=("open id",)),
        lambda: BearerInsufficientScope("x", scope=('"',)),
    ],
    ids=[
        "a quote in a description",
        "a backslash in a description",
        "non-ASCII in a description",
        "a line break in a description (header injection)",
        "a space inside a scope token",
        "a quote as a scope token",
    ],
)
def test_values_rfc6750_forbids_are_refused_when_the_error_is_made__rfc6750_3(
    make: Callable[[], BearerError],
) -> None:
    with pytest.raises(ValueError, match=r"character|ASCII"):
        make()


def test_insufficient_scope_needs_a_sequence_of_scopes() -> None:
    with pytest.raises(TypeError):
        BearerInsufficientScope("x", scope="openid")
    with pytest.raises(TypeError):
        BearerInsufficientScope("x", scope=())


def test_a_control_character_in_the_realm_is_refused() -> None:
    with pytest.raises(ValueError, match="control"):
        BearerMissing().challenge("evil\r\nSet-Cookie: x=y")
