"""Errors of the authorization endpoint: a page without redirect, or a 303 to the client."""

import httpx
import pytest

from gatepass.oauth.clients import Client
from tests.authorize.conftest import MakeClient, authorize_url, new_pkce, redirect_params
from tests.authorize.helpers import decide, hidden_fields

ISSUER = "http://127.0.0.1:8000"
UNKNOWN_CLIENT = "gpc_" + "A" * 43


def _assert_page_without_redirect(response: httpx.Response) -> None:
    assert response.status_code == 400
    assert "location" not in response.headers
    assert "cannot be completed" in response.text
    assert "access-control-allow-origin" not in response.headers


@pytest.mark.parametrize(
    "overrides",
    [
        pytest.param({"client_id": UNKNOWN_CLIENT}, id="an unknown client"),
        pytest.param({"client_id": None}, id="no client"),
        pytest.param({"redirect_uri": "https://evil.example.com/cb"}, id="an unregistered uri"),
        pytest.param({"redirect_uri": "https://app.example.com/callback/"}, id="a near-miss uri"),
        pytest.param({"redirect_uri": None}, id="no redirect uri"),
    ],
)
async def test_a_bad_client_or_redirect_uri_is_a_page_never_a_redirect__rfc6749_4_1_2_1(
    signed_in: httpx.AsyncClient, oauth_client: Client, overrides: dict[str, str | None]
) -> None:
    url = authorize_url(oauth_client, new_pkce(), **overrides)
    _assert_page_without_redirect(await signed_in.get(url))


async def test_a_bad_client_is_a_page_for_an_anonymous_user_too(
    client: httpx.AsyncClient, oauth_client: Client
) -> None:
    url = authorize_url(oauth_client, new_pkce(), redirect_uri="https://evil.example.com/cb")
    _assert_page_without_redirect(await client.get(url))


async def test_another_clients_redirect_uri_is_refused__rfc9700_4_1(
    signed_in: httpx.AsyncClient, oauth_client: Client, make_client: MakeClient
) -> None:
    other = await make_client()
    url = authorize_url(other, new_pkce()).replace(other.client_id, oauth_client.client_id)
    response = await signed_in.get(url + "&redirect_uri=https://other.example.com/cb")
    _assert_page_without_redirect(response)


@pytest.mark.parametrize(
    ("overrides", "error"),
    [
        pytest.param({"response_type": "token"}, "unsupported_response_type", id="token"),
        pytest.param({"response_type": "id_token"}, "unsupported_response_type", id="id_token"),
        pytest.param({"code_challenge_method": "plain"}, "invalid_request", id="plain pkce"),
        pytest.param(
            {"code_challenge": None, "code_challenge_method": None},
            "invalid_request",
            id="missing pkce",
        ),
        pytest.param({"scope": "openid admin"}, "invalid_scope", id="a scope beyond the client"),
        pytest.param({"prompt": "none login"}, "invalid_request", id="prompt none with login"),
    ],
)
async def test_other_errors_go_back_to_the_client_with_state_and_iss__rfc9207_2(
    signed_in: httpx.AsyncClient,
    oauth_client: Client,
    overrides: dict[str, str | None],
    error: str,
) -> None:
    url = authorize_url(oauth_client, new_pkce(), state="err-state", **overrides)
    response = await signed_in.get(url)
    params = redirect_params(response)  # a 303, never 307 (RFC 9700 §4.12)
    assert params["error"] == error
    assert params["state"] == "err-state"
    assert params["iss"] == ISSUER
    assert "code" not in params


async def test_an_anonymous_user_gets_errors_before_any_login(
    client: httpx.AsyncClient, oauth_client: Client
) -> None:
    url = authorize_url(oauth_client, new_pkce(), response_type="token")
    assert redirect_params(await client.get(url))["error"] == "unsupported_response_type"


async def test_no_redirect_is_ever_a_307__rfc9700_4_12(
    signed_in: httpx.AsyncClient, oauth_client: Client, make_client: MakeClient
) -> None:
    first_party = await make_client(first_party=True)
    urls = [
        authorize_url(first_party, new_pkce()),
        authorize_url(oauth_client, new_pkce(), prompt="none"),
        authorize_url(oauth_client, new_pkce(), response_type="token"),
        authorize_url(first_party, new_pkce(), prompt="login"),
    ]
    for url in urls:
        response = await signed_in.get(url)
        assert response.status_code == 303, url
        assert "location" in response.headers


async def test_no_cors_on_the_authorization_endpoint__rfc9700_2_6(
    signed_in: httpx.AsyncClient, oauth_client: Client
) -> None:
    url = authorize_url(oauth_client, new_pkce())
    response = await signed_in.get(url, headers={"Origin": "https://evil.example.com"})
    assert not any(name.startswith("access-control-") for name in response.headers)
    preflight = await signed_in.options(
        url,
        headers={"Origin": "https://evil.example.com", "Access-Control-Request-Method": "GET"},
    )
    assert not any(name.startswith("access-control-") for name in preflight.headers)


async def test_the_consent_page_cannot_be_framed__rfc9700_4_16(
    signed_in: httpx.AsyncClient, oauth_client: Client
) -> None:
    page = await signed_in.get(authorize_url(oauth_client, new_pkce()))
    assert "frame-ancestors 'none'" in page.headers["content-security-policy"]
    assert page.headers["x-frame-options"] == "DENY"
    assert page.headers["cache-control"] == "no-store"


async def test_consent_needs_the_csrf_token(
    signed_in: httpx.AsyncClient, oauth_client: Client
) -> None:
    page = await signed_in.get(authorize_url(oauth_client, new_pkce()))
    fields = hidden_fields(page.text)
    forged = await signed_in.post(
        "/consent", data={**fields, "csrf_token": "x" * 43, "decision": "allow"}
    )
    assert forged.status_code == 403
    assert "location" not in forged.headers
    cross_site = await signed_in.post(
        "/consent",
        data={**fields, "decision": "allow"},
        headers={"Origin": "https://evil.example.com"},
    )
    assert cross_site.status_code == 403


async def test_an_altered_consent_form_is_refused(
    signed_in: httpx.AsyncClient, oauth_client: Client
) -> None:
    page = await signed_in.get(authorize_url(oauth_client, new_pkce(), scope="openid"))
    fields = hidden_fields(page.text)
    fields["request"] = fields["request"].replace("scope=openid", "scope=openid+email")
    response = await signed_in.post("/consent", data={**fields, "decision": "allow"})
    assert response.status_code == 400
    assert "location" not in response.headers


async def test_consent_without_a_decision_is_refused(
    signed_in: httpx.AsyncClient, oauth_client: Client
) -> None:
    page = await signed_in.get(authorize_url(oauth_client, new_pkce()))
    response = await decide(signed_in, page.text, "maybe")
    assert response.status_code == 400
