"""The browser side of the authorization code flow: login, consent, code (OIDC Core §3.1.2)."""

import httpx

from gatepass.oauth.clients import Client
from gatepass.oauth.codes import AuthorizationCodes, Redeemed
from tests.authorize.conftest import (
    EMAIL,
    REDIRECT_URI,
    MakeClient,
    authorize_url,
    new_pkce,
    redirect_params,
)
from tests.authorize.helpers import decide, log_in_via, login_next
from tests.support import csrf_of, sign_up
from tests.web.conftest import SESSION

ISSUER = "http://127.0.0.1:8000"


async def test_consent_then_code_then_no_consent_the_second_time(
    signed_in: httpx.AsyncClient, oauth_client: Client, codes: AuthorizationCodes
) -> None:
    pkce = new_pkce()
    url = authorize_url(oauth_client, pkce, state="xyz", nonce="n-1")
    page = await signed_in.get(url)
    assert page.status_code == 200
    for words in ("Photo Printer", "Sign you in", "Your name", "Your e-mail address"):
        assert words in page.text
    assert 'name="decision" value="allow"' in page.text
    assert 'name="decision" value="deny"' in page.text
    # Chrome applies form-action to the redirect after the POST: the client's origin.
    assert "form-action 'self' https://app.example.com" in page.headers["content-security-policy"]

    response = await decide(signed_in, page.text, "allow")
    params = redirect_params(response)
    assert params["state"] == "xyz"
    assert params["iss"] == ISSUER

    second = await signed_in.get(authorize_url(oauth_client, new_pkce()))
    assert "code" in redirect_params(second)


async def test_the_code_is_bound_to_client_redirect_uri_and_pkce__rfc6749_4_1_2(
    signed_in: httpx.AsyncClient, make_client: MakeClient, codes: AuthorizationCodes
) -> None:
    client = await make_client(first_party=True)
    pkce = new_pkce()
    url = authorize_url(client, pkce, nonce="nonce-42", scope="openid email")
    code = redirect_params(await signed_in.get(url))["code"]
    result = await codes.redeem(
        code, client_id=client.client_id, redirect_uri=REDIRECT_URI, code_verifier=pkce.verifier
    )
    assert isinstance(result, Redeemed)
    assert result.code.nonce == "nonce-42"
    assert result.code.scopes == ("openid", "email")
    assert result.code.redirect_uri == REDIRECT_URI
    assert result.code.auth_time > 0
    assert result.code.user_id


async def test_a_wrong_verifier_does_not_redeem_the_code__rfc7636_4_6(
    signed_in: httpx.AsyncClient, make_client: MakeClient, codes: AuthorizationCodes
) -> None:
    client = await make_client(first_party=True)
    code = redirect_params(await signed_in.get(authorize_url(client, new_pkce())))["code"]
    result = await codes.redeem(
        code,
        client_id=client.client_id,
        redirect_uri=REDIRECT_URI,
        code_verifier=new_pkce().verifier,
    )
    assert not isinstance(result, Redeemed)


async def test_a_first_party_client_skips_consent(
    signed_in: httpx.AsyncClient, make_client: MakeClient
) -> None:
    client = await make_client(first_party=True)
    params = redirect_params(await signed_in.get(authorize_url(client, new_pkce(), state="s1")))
    assert params["code"]
    assert params["state"] == "s1"
    assert params["iss"] == ISSUER


async def test_deny_answers_access_denied_with_state_and_iss__rfc6749_4_1_2_1(
    signed_in: httpx.AsyncClient, oauth_client: Client
) -> None:
    page = await signed_in.get(authorize_url(oauth_client, new_pkce(), state="s-deny"))
    params = redirect_params(await decide(signed_in, page.text, "deny"))
    assert params["error"] == "access_denied"
    assert params["state"] == "s-deny"
    assert params["iss"] == ISSUER
    assert "code" not in params
    # Denying remembers nothing: the next request asks again.
    again = await signed_in.get(authorize_url(oauth_client, new_pkce()))
    assert again.status_code == 200
    assert "Allow" in again.text


async def test_prompt_consent_asks_again_after_consent(
    signed_in: httpx.AsyncClient, oauth_client: Client
) -> None:
    page = await signed_in.get(authorize_url(oauth_client, new_pkce()))
    redirect_params(await decide(signed_in, page.text, "allow"))
    again = await signed_in.get(authorize_url(oauth_client, new_pkce(), prompt="consent"))
    assert again.status_code == 200
    assert 'value="allow"' in again.text


async def test_wider_scopes_ask_again(
    signed_in: httpx.AsyncClient, make_client: MakeClient
) -> None:
    client = await make_client(scopes=("openid", "profile", "email"))
    page = await signed_in.get(authorize_url(client, new_pkce(), scope="openid"))
    redirect_params(await decide(signed_in, page.text, "allow"))
    wider = await signed_in.get(authorize_url(client, new_pkce(), scope="openid email"))
    assert wider.status_code == 200
    assert "Your e-mail address" in wider.text


async def test_an_anonymous_user_logs_in_and_comes_back(
    client: httpx.AsyncClient, make_client: MakeClient
) -> None:
    oauth = await make_client(first_party=True)
    await log_out_fully(client)
    url = authorize_url(oauth, new_pkce(), state="s-anon")
    first = await client.get(url)
    back = login_next(first)
    assert back.startswith("/authorize?")
    logged_in = await log_in_via(client, first.headers["location"], EMAIL)
    assert logged_in.status_code == 303
    assert logged_in.headers["location"] == back
    params = redirect_params(await client.get(back))
    assert params["code"]
    assert params["state"] == "s-anon"


async def test_an_anonymous_user_sees_consent_after_login(
    client: httpx.AsyncClient, oauth_client: Client
) -> None:
    await log_out_fully(client)
    first = await client.get(authorize_url(oauth_client, new_pkce()))
    logged_in = await log_in_via(client, first.headers["location"], EMAIL)
    page = await client.get(logged_in.headers["location"])
    assert page.status_code == 200
    assert "Photo Printer" in page.text
    assert "code" in redirect_params(await decide(client, page.text, "allow"))


async def test_prompt_none_anonymous_is_login_required__oidc_3_1_2_6(
    client: httpx.AsyncClient, oauth_client: Client
) -> None:
    params = redirect_params(
        await client.get(authorize_url(oauth_client, new_pkce(), prompt="none", state="q"))
    )
    assert params == {
        "error": "login_required",
        "error_description": params["error_description"],
        "state": "q",
        "iss": ISSUER,
    }


async def test_prompt_none_without_consent_is_consent_required__oidc_3_1_2_6(
    signed_in: httpx.AsyncClient, oauth_client: Client
) -> None:
    url = authorize_url(oauth_client, new_pkce(), prompt="none", state="q2")
    params = redirect_params(await signed_in.get(url))
    assert params["error"] == "consent_required"
    assert params["state"] == "q2"
    assert params["iss"] == ISSUER


async def test_prompt_none_with_consent_and_session_issues_a_code(
    signed_in: httpx.AsyncClient, make_client: MakeClient
) -> None:
    client = await make_client(first_party=True)
    params = redirect_params(await signed_in.get(authorize_url(client, new_pkce(), prompt="none")))
    assert "code" in params


async def test_prompt_login_shows_the_login_page_then_a_new_session__oidc_3_1_2_1(
    signed_in: httpx.AsyncClient, make_client: MakeClient
) -> None:
    client = await make_client(first_party=True)
    old_session = signed_in.cookies[SESSION]
    first = await signed_in.get(authorize_url(client, new_pkce(), prompt="login"))
    back = login_next(first)
    page = await signed_in.get(first.headers["location"])
    assert page.status_code == 200
    assert 'name="password"' in page.text
    logged_in = await log_in_via(signed_in, first.headers["location"], EMAIL)
    assert signed_in.cookies[SESSION] != old_session
    assert logged_in.headers["location"] == back
    # Back at /authorize the fresh login counts: a code, not another login page.
    assert "code" in redirect_params(await signed_in.get(back))


async def test_max_age_zero_forces_a_fresh_login__oidc_3_1_2_1(
    signed_in: httpx.AsyncClient, make_client: MakeClient
) -> None:
    client = await make_client(first_party=True)
    old_session = signed_in.cookies[SESSION]
    first = await signed_in.get(authorize_url(client, new_pkce(), max_age="0"))
    back = login_next(first)
    await log_in_via(signed_in, first.headers["location"], EMAIL)
    assert signed_in.cookies[SESSION] != old_session
    assert "code" in redirect_params(await signed_in.get(back))


async def test_a_generous_max_age_needs_no_new_login(
    signed_in: httpx.AsyncClient, make_client: MakeClient
) -> None:
    client = await make_client(first_party=True)
    url = authorize_url(client, new_pkce(), max_age="3600")
    assert "code" in redirect_params(await signed_in.get(url))


async def test_prompt_none_with_max_age_exceeded_is_login_required(
    signed_in: httpx.AsyncClient, make_client: MakeClient
) -> None:
    client = await make_client(first_party=True)
    url = authorize_url(client, new_pkce(), max_age="0", prompt="none")
    assert redirect_params(await signed_in.get(url))["error"] == "login_required"


async def test_a_forged_login_marker_does_not_skip_prompt_login(
    signed_in: httpx.AsyncClient, make_client: MakeClient
) -> None:
    client = await make_client(first_party=True)
    url = authorize_url(client, new_pkce(), prompt="login", gp_login="0.garbage")
    response = await signed_in.get(url)
    assert response.headers["location"].startswith("/login?prompt=login&")


async def log_out_fully(client: httpx.AsyncClient) -> None:
    """Sign the user up, then drop every cookie: an anonymous browser with an account."""
    await sign_up(client, EMAIL)
    client.cookies.clear()


async def test_the_login_page_lets_its_form_end_at_the_client__csp_form_action(
    client: httpx.AsyncClient, oauth_client: Client
) -> None:
    first = await client.get(authorize_url(oauth_client, new_pkce()))
    page = await client.get(first.headers["location"])
    assert "form-action 'self' https://app.example.com;" in page.headers["content-security-policy"]
    plain = await client.get("/login?next=/account")
    assert "form-action 'self';" in plain.headers["content-security-policy"]


async def test_the_login_page_shown_again_after_a_failure_keeps_the_client_in_form_action(
    client: httpx.AsyncClient, oauth_client: Client
) -> None:
    first = await client.get(authorize_url(oauth_client, new_pkce()))
    page = await client.get(first.headers["location"])
    failed = await client.post(
        "/login",
        data={
            "csrf_token": csrf_of(page.text),
            "next": login_next(first),
            "email": EMAIL,
            "password": "not the password",
        },
    )
    assert failed.status_code == 200
    assert "Incorrect e-mail address or password." in failed.text
    assert (
        "form-action 'self' https://app.example.com;" in failed.headers["content-security-policy"]
    )


async def test_login_hint_prefills_the_login_form__oidc_3_1_2_1(
    client: httpx.AsyncClient, oauth_client: Client
) -> None:
    await log_out_fully(client)
    first = await client.get(authorize_url(oauth_client, new_pkce(), login_hint="Bob@Example.com"))
    page = await client.get(first.headers["location"])
    assert 'name="email" value="bob@example.com"' in page.text


async def test_a_login_hint_that_is_not_an_address_prefills_nothing(
    client: httpx.AsyncClient, oauth_client: Client
) -> None:
    await log_out_fully(client)
    hint = '"><script>alert(1)</script>'
    first = await client.get(authorize_url(oauth_client, new_pkce(), login_hint=hint))
    page = await client.get(first.headers["location"])
    assert 'name="email" value=""' in page.text
    assert "<script>alert" not in page.text


async def test_a_long_state_survives_the_login_round_trip(
    client: httpx.AsyncClient, make_client: MakeClient
) -> None:
    oauth = await make_client(first_party=True)
    await log_out_fully(client)
    state = "s" * 2000
    first = await client.get(authorize_url(oauth, new_pkce(), state=state))
    logged_in = await log_in_via(client, first.headers["location"], EMAIL)
    params = redirect_params(await client.get(logged_in.headers["location"]))
    assert params["state"] == state
