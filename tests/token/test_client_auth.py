"""Client credentials as the endpoint reads them (oauth/client_auth.py; RFC 6749 §2.3)."""

import base64

import pytest

from gatepass.oauth.client_auth import ClientCredentials, parse_client_credentials
from gatepass.oauth.errors import InvalidClient, InvalidRequest


def basic(user: str, password: str) -> str:
    return "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()


def test_basic_credentials_are_form_urldecoded__rfc6749_2_3_1() -> None:
    # RFC 6749 §2.3.1: id and secret are application/x-www-form-urlencoded first.
    credentials = parse_client_credentials(basic("my%20app", "a%3Ab+c"), {})
    assert credentials == ClientCredentials("my app", "a:b c", "client_secret_basic")


def test_the_body_names_post_and_none__rfc6749_2_3_1() -> None:
    post = parse_client_credentials(None, {"client_id": "c", "client_secret": "s"})
    assert post == ClientCredentials("c", "s", "client_secret_post")
    assert parse_client_credentials(None, {"client_id": "c"}).method == "none"
    # R22: an empty value counts as omitted.
    assert parse_client_credentials(None, {"client_id": "c", "client_secret": ""}).secret is None


def test_basic_with_the_same_client_id_in_the_body_is_accepted__rfc6749_2_3_1() -> None:
    assert parse_client_credentials(basic("c", "s"), {"client_id": "c"}).client_id == "c"


@pytest.mark.parametrize(
    "form",
    [{"client_secret": "s"}, {"client_id": "other"}],
    ids=["two methods at once", "another client_id in the body"],
)
def test_conflicting_credentials_are_invalid_request__rfc6749_2_3(form: dict[str, str]) -> None:
    with pytest.raises(InvalidRequest):
        parse_client_credentials(basic("c", "s"), form)


@pytest.mark.parametrize(
    "header",
    ["Digest x", "Basic", "Basic %%%", basic("", "s"), basic("c", ""), "Basic " + "QQ" * 900],
    ids=["another scheme", "no token", "bad base64", "no id", "no secret", "oversized"],
)
def test_malformed_basic_credentials_are_invalid_client__rfc6749_2_3_1(header: str) -> None:
    with pytest.raises(InvalidClient):
        parse_client_credentials(header, {})
