"""RP-Initiated Logout 1.0 at /logout, through the real app on every backend.

The id tokens come from /authorize and /token (tests/logout/conftest.py); the
session, its record and the audit log are checked on the same storage.
"""

import hashlib
import hmac
import time
from urllib.parse import urlencode

import httpx
import pytest
from joserfc.jwk import RSAKey

from gatepass.audit.model import AuditEventType as Event
from gatepass.clock import FixedClock, SystemClock
from gatepass.config import Settings
from gatepass.crypto.secrets import digest
from gatepass.oauth.clients import Client
from gatepass.oidc.id_tokens import IdTokenPolicy, IdTokens
from gatepass.storage.backends import Backends
from gatepass.web.app import build_key_ring
from tests.authorize.conftest import authorize_url, new_pkce, redirect_params
from tests.authorize.helpers import hidden_fields
from tests.logout.conftest import BYE, MakeClient, id_token_for, logout_url, tokens_for
from tests.support import csrf_of
from tests.tokens.support import b64, payload_of
from tests.web.conftest import (
    SESSION,
    AppClient,
    Cores,
    assert_clean_error,
    carrying,
    is_signed_in,
    log_in_as,
    log_out,
    set_cookies,
    sign_up_as,
)

EMAIL = "ada@example.com"
EVIL = "https://evil.test"


async def _user_id(services: Cores, email: str = EMAIL) -> str:
    user = await services.accounts.find(email)
    assert user is not None
    return user.id


def _form_action(response: httpx.Response) -> str:
    policy = response.headers["content-security-policy"]
    directives = dict(part.strip().split(" ", 1) for part in policy.split(";"))
    return directives["form-action"]


def _assert_confirmation(page: httpx.Response, client_name: str = "Photo Printer") -> None:
    assert page.status_code == 200, page.text[:300]
    assert "Log out of gatepass?" in page.text
    assert f"<strong>{client_name}</strong> asked to sign you out" in page.text
    assert 'method="post" action="/logout"' in page.text
    assert page.headers["x-frame-options"] == "DENY"
    assert "frame-ancestors 'none'" in page.headers["content-security-policy"]


def _assert_refused(response: httpx.Response) -> None:
    """A clear 400 page; never a redirect (RP-Initiated Logout §3)."""
    assert_clean_error(response, 400)
    assert "location" not in response.headers
    assert "This logout request cannot be completed" in response.text


async def test_hint_uri_and_state__confirmed__back_to_the_rp_with_state_and_session_gone__ss_08(
    client: httpx.AsyncClient, rp: Client, services: Cores, settings: Settings
) -> None:
    secret = await sign_up_as(client, EMAIL)
    hint = await id_token_for(client, rp)
    assert payload_of(hint)["sid"] == digest(secret)  # the hint names this very session
    page = await client.get(
        logout_url(id_token_hint=hint, post_logout_redirect_uri=BYE, state="af0 ifj&sl")
    )
    _assert_confirmation(page)
    assert "another account" not in page.text
    # The form goes to /logout only; its 303 may go on to the registered URI (Chrome
    # applies form-action to the redirect that answers a form).
    assert _form_action(page) == f"{settings.issuer}/logout {BYE}"
    fields = hidden_fields(page.text)
    assert fields == {
        "csrf_token": csrf_of(page.text),
        "confirm": "yes",
        "client_id": rp.client_id,
        "post_logout_redirect_uri": BYE,
        "state": "af0 ifj&sl",
    }
    assert await is_signed_in(client), "showing the page ended the session"

    response = await client.post("/logout", data=fields)
    assert response.status_code == 303  # RFC 9700 §4.12: never 307
    assert response.headers["location"] == BYE + "?" + urlencode({"state": "af0 ifj&sl"})
    expired = set_cookies(response)[SESSION]
    assert (expired.value, expired.attributes.get("max-age")) == ("", "0")
    user_id = await _user_id(services)
    assert await services.sessions.list_for_user(user_id) == []  # the server record is gone
    assert (await services.audit.recent(user_id=user_id))[0].type == Event.LOGOUT

    # SS-19: an RP's silent re-authentication now answers login_required...
    silent = await client.get(authorize_url(rp, new_pkce(), prompt="none", state="q"))
    assert redirect_params(silent)["error"] == "login_required"
    # ...and so it does for the old cookie, restored as an attacker would (SS-08).
    replayed = carrying(client, secret)
    silent = await replayed.get(authorize_url(rp, new_pkce(), prompt="none", state="q"))
    assert redirect_params(silent)["error"] == "login_required"
    assert not await is_signed_in(replayed)


async def test_an_rp_form_post_gets_the_confirmation_and_changes_nothing__rp_logout_2(
    client: httpx.AsyncClient, rp: Client
) -> None:
    await sign_up_as(client, EMAIL)
    hint = await id_token_for(client, rp)
    # The RP's own page posts the form: another origin, and no token of ours.
    page = await client.post(
        "/logout",
        data={"id_token_hint": hint, "post_logout_redirect_uri": BYE, "state": "p"},
        headers={"origin": "https://app.example.com"},
    )
    _assert_confirmation(page)
    assert await is_signed_in(client)
    response = await client.post("/logout", data=hidden_fields(page.text))
    assert response.headers["location"] == BYE + "?state=p"
    assert not await is_signed_in(client)


async def test_client_id_alone_names_the_client_and_its_registered_uri(
    client: httpx.AsyncClient, rp: Client
) -> None:
    await sign_up_as(client, EMAIL)
    page = await client.get(
        logout_url(client_id=rp.client_id, post_logout_redirect_uri=BYE, state="c")
    )
    _assert_confirmation(page)
    response = await client.post("/logout", data=hidden_fields(page.text))
    assert (response.status_code, response.headers["location"]) == (303, BYE + "?state=c")


async def test_without_a_uri_the_confirmation_ends_on_the_signed_out_page(
    client: httpx.AsyncClient, rp: Client
) -> None:
    await sign_up_as(client, EMAIL)
    hint = await id_token_for(client, rp)
    page = await client.get(logout_url(id_token_hint=hint, state="dropped"))
    _assert_confirmation(page)
    assert _form_action(page) == "http://127.0.0.1:8000/logout"
    assert "state" not in hidden_fields(page.text)  # nowhere to send it back to
    response = await client.post("/logout", data=hidden_fields(page.text))
    assert (response.status_code, response.headers["location"]) == (303, "/logout/done")
    done = await client.get("/logout/done")
    assert "You are signed out" in done.text
    assert not await is_signed_in(client)


@pytest.mark.parametrize(
    "uri",
    [EVIL + "/bye", BYE + "/", BYE + "?next=" + EVIL, "https://APP.example.com/bye"],
    ids=["another site", "a trailing slash", "an added query", "another host case"],
)
async def test_an_unregistered_uri_is_never_followed__rp_logout_3(
    client: httpx.AsyncClient, rp: Client, uri: str
) -> None:
    await sign_up_as(client, EMAIL)
    hint = await id_token_for(client, rp)
    query = {"id_token_hint": hint, "post_logout_redirect_uri": uri, "state": "s"}
    _assert_refused(await client.get(logout_url(**query)))
    _assert_refused(await client.post("/logout", data=query))
    assert await is_signed_in(client)
    await log_out(client)  # and with no session to end, still no redirect
    _assert_refused(await client.get(logout_url(**query)))
    _assert_refused(await client.post("/logout", data=query))


async def test_a_uri_without_hint_or_client_id_is_never_followed__rp_logout_3(
    client: httpx.AsyncClient,
) -> None:
    await sign_up_as(client, EMAIL)
    _assert_refused(await client.get(logout_url(post_logout_redirect_uri=BYE, state="s")))
    assert await is_signed_in(client)


async def test_a_hint_for_another_client_than_client_id_is_refused__rp_logout_2(
    client: httpx.AsyncClient, rp: Client, make_client: MakeClient
) -> None:
    other = await make_client(name="Other App")  # BYE is registered for it too
    await sign_up_as(client, EMAIL)
    hint = await id_token_for(client, rp)
    for query in (
        {"id_token_hint": hint, "client_id": other.client_id, "post_logout_redirect_uri": BYE},
        {"id_token_hint": hint, "client_id": other.client_id},
    ):
        response = await client.get(logout_url(**query))
        _assert_refused(response)
        assert "issued to another application" in response.text
    assert await is_signed_in(client)


async def test_an_unknown_client_is_refused(client: httpx.AsyncClient, rp: Client) -> None:
    await sign_up_as(client, EMAIL)
    for client_id in ("gpc_" + "x" * 43, "../../etc", "x" * 300):
        _assert_refused(
            await client.get(logout_url(client_id=client_id, post_logout_redirect_uri=BYE))
        )
    assert await is_signed_in(client)


def _header_of(token: str) -> dict[str, str]:
    return payload_of("." + token.split(".")[0])


async def _hmac_with_the_public_key(client: httpx.AsyncClient, hint: str) -> str:
    """The classic confusion: HS256 keyed with the RSA public key, as published."""
    kid = _header_of(hint)["kid"]
    jwk = next(k for k in (await client.get("/jwks.json")).json()["keys"] if k["kid"] == kid)
    pem = RSAKey.import_key(jwk).as_pem(private=False)
    signing_input = b64({"alg": "HS256", "kid": kid, "typ": "JWT"}) + "." + hint.split(".")[1]
    mac = hmac.new(pem, signing_input.encode(), hashlib.sha256).digest()
    return f"{signing_input}.{b64(mac)}"


async def _hostile(client: httpx.AsyncClient, rp: Client, case: str) -> str:
    tokens = await tokens_for(client, rp)
    hint = tokens["id_token"]
    header, payload, signature = hint.split(".")
    if case == "tampered payload":
        return f"{header}.{b64(payload_of(hint) | {'sub': 'someone-else'})}.{signature}"
    if case == "alg none":
        return f"{b64({'alg': 'none', 'kid': _header_of(hint)['kid'], 'typ': 'JWT'})}.{payload}."
    if case == "HS256 with the public key":
        return await _hmac_with_the_public_key(client, hint)
    if case == "an access token":  # same keys, same issuer: typ at+jwt tells it apart
        return tokens["access_token"]
    if case == "oversized":
        return hint + "A" * 9000
    raise AssertionError(case)


@pytest.mark.parametrize(
    "case",
    ["tampered payload", "alg none", "HS256 with the public key", "an access token", "oversized"],
)
async def test_a_hint_that_fails_the_pinned_jwt_checks_gets_the_error_page(
    client: httpx.AsyncClient, rp: Client, case: str
) -> None:
    await sign_up_as(client, EMAIL)
    hostile = await _hostile(client, rp, case)
    query = {"id_token_hint": hostile, "post_logout_redirect_uri": BYE, "state": "s"}
    _assert_refused(await client.post("/logout", data=query))
    if case != "oversized":  # an oversized hint makes an oversized request line
        _assert_refused(await client.get(logout_url(**query)))
    assert await is_signed_in(client)


async def test_an_expired_hint_is_accepted__rp_logout_2(
    client: httpx.AsyncClient,
    rp: Client,
    settings: Settings,
    backends: Backends,
    services: Cores,
) -> None:
    secret = await sign_up_as(client, EMAIL)
    keys = build_key_ring(settings, backends, SystemClock())
    long_ago = FixedClock(time.time() - 30 * 86_400)
    old = IdTokens(keys, IdTokenPolicy(settings.issuer, settings.id_token_ttl), long_ago)
    hint = await old.issue(
        client_id=rp.client_id,
        alg=rp.id_token_alg,
        subject=await _user_id(services),
        auth_time=long_ago.now(),
        sid=digest(secret),
    )
    assert payload_of(hint)["exp"] < time.time()
    page = await client.get(logout_url(id_token_hint=hint, post_logout_redirect_uri=BYE))
    _assert_confirmation(page)
    response = await client.post("/logout", data=hidden_fields(page.text))
    assert response.headers["location"] == BYE
    assert not await is_signed_in(client)


async def test_a_get_never_ends_the_session_whatever_it_carries__asvs_3_5_3(
    client: httpx.AsyncClient, rp: Client, services: Cores
) -> None:
    await sign_up_as(client, EMAIL)
    hint = await id_token_for(client, rp)
    token = csrf_of((await client.get("/account")).text)
    for query in (
        {"id_token_hint": hint, "post_logout_redirect_uri": BYE, "state": "s"},
        {"client_id": rp.client_id, "confirm": "yes", "csrf_token": token},
        {"id_token_hint": hint, "confirm": "yes", "csrf_token": token},
    ):
        _assert_confirmation(await client.get(logout_url(**query)))
    assert await is_signed_in(client)
    assert len(await services.sessions.list_for_user(await _user_id(services))) == 1


@pytest.mark.parametrize(
    "headers",
    [{}, {"origin": EVIL}, {"origin": "null"}, {"referer": f"{EVIL}/page"}],
    ids=["no token", "a foreign origin", "a null origin", "a foreign referer"],
)
async def test_the_confirmation_needs_its_token_and_our_origin__ss_17(
    client: httpx.AsyncClient, rp: Client, headers: dict[str, str]
) -> None:
    await sign_up_as(client, EMAIL)
    hint = await id_token_for(client, rp)
    page = await client.get(logout_url(id_token_hint=hint, post_logout_redirect_uri=BYE))
    fields = hidden_fields(page.text)
    if not headers:
        del fields["csrf_token"]
    response = await client.post("/logout", data=fields, headers=headers)
    assert_clean_error(response, 403)
    assert "location" not in response.headers
    assert await is_signed_in(client)


async def test_with_no_session_the_browser_goes_straight_back_to_the_rp(
    client: httpx.AsyncClient, rp: Client
) -> None:
    await sign_up_as(client, EMAIL)
    hint = await id_token_for(client, rp)
    await log_out(client)
    query = {"id_token_hint": hint, "post_logout_redirect_uri": BYE, "state": "gone"}
    response = await client.get(logout_url(**query))
    assert (response.status_code, response.headers["location"]) == (303, BYE + "?state=gone")
    no_uri = await client.get(logout_url(id_token_hint=hint))
    assert (no_uri.status_code, no_uri.headers["location"]) == (303, "/logout/done")
    # A cross-site form POST carries no Lax cookie: it is asked again as a GET, which does.
    posted = await client.post("/logout", data=query, headers={"origin": "https://app.example.com"})
    assert posted.status_code == 303
    assert posted.headers["location"] == logout_url(**query)
    followed = await client.get(posted.headers["location"])
    assert followed.headers["location"] == BYE + "?state=gone"


async def test_an_rp_form_post_without_the_cookie_is_confirmed_on_the_get_that_has_it(
    client: httpx.AsyncClient, rp: Client
) -> None:
    await sign_up_as(client, EMAIL)
    hint = await id_token_for(client, rp)
    query = {"id_token_hint": hint, "post_logout_redirect_uri": BYE}
    cookies = dict(client.cookies)
    client.cookies.clear()  # what SameSite=Lax does to a cross-site POST
    posted = await client.post("/logout", data=query)
    assert posted.headers["location"] == logout_url(**query)
    client.cookies.update(cookies)
    _assert_confirmation(await client.get(posted.headers["location"]))
    assert await is_signed_in(client)


async def test_a_hint_for_another_session_is_confirmed_and_ends_only_this_one(
    client: httpx.AsyncClient, rp: Client, second_device: AppClient, services: Cores
) -> None:
    await sign_up_as(client, EMAIL)
    hint = await id_token_for(client, rp)  # names the laptop's session
    async with second_device() as phone:
        phone_secret = await log_in_as(phone, EMAIL)
        page = await phone.get(logout_url(id_token_hint=hint, post_logout_redirect_uri=BYE))
        _assert_confirmation(page)
        assert "for another account or an earlier sign-in" in page.text
        response = await phone.post("/logout", data=hidden_fields(page.text))
        assert response.headers["location"] == BYE
        assert not await is_signed_in(phone)
    assert await is_signed_in(client), "the session the hint named was ended"
    remaining = await services.sessions.list_for_user(await _user_id(services))
    assert digest(phone_secret) not in {s.id for s in remaining}
    assert len(remaining) == 1


async def test_a_hint_for_another_user_never_ends_that_users_session(
    client: httpx.AsyncClient, rp: Client, second_device: AppClient
) -> None:
    await sign_up_as(client, EMAIL)
    ada_hint = await id_token_for(client, rp)
    async with second_device() as bob:
        await sign_up_as(bob, "bob@example.com")
        page = await bob.get(logout_url(id_token_hint=ada_hint))
        _assert_confirmation(page)
        assert "for another account" in page.text
        assert "bob@example.com" in page.text
        await bob.post("/logout", data=hidden_fields(page.text))
        assert not await is_signed_in(bob)
    assert await is_signed_in(client)


@pytest.mark.parametrize(
    "query",
    [
        "state=a&state=b&client_id=x",
        "id_token_hint=a&id_token_hint=b",
        "state=" + "s" * 2001,
        "ui_locales=" + "x" * 2001,
        "state=%ff%fe",
        "&".join(f"f{i}=1" for i in range(40)),
    ],
    ids=["repeated state", "repeated hint", "long state", "long locales", "bad utf-8", "fields"],
)
async def test_malformed_requests_get_a_clear_400_never_a_500(
    client: httpx.AsyncClient, query: str
) -> None:
    await sign_up_as(client, EMAIL)
    response = await client.get("/logout?" + query)
    assert_clean_error(response, 400)
    assert "location" not in response.headers
    assert await is_signed_in(client)


async def test_discovery_advertises_the_end_session_endpoint(
    client: httpx.AsyncClient, settings: Settings
) -> None:
    doc = (await client.get("/.well-known/openid-configuration")).json()
    assert doc["end_session_endpoint"] == f"{settings.issuer}/logout"


async def test_the_plain_logout_is_unchanged(client: httpx.AsyncClient, settings: Settings) -> None:
    await sign_up_as(client, EMAIL)
    page = await client.get("/logout")
    assert "<h1>Log out?</h1>" in page.text
    assert "form-action 'self'" in page.headers["content-security-policy"]
    assert hidden_fields(page.text) == {"csrf_token": csrf_of(page.text)}
    response = await client.post("/logout", data=hidden_fields(page.text))
    assert (response.status_code, response.headers["location"]) == (303, "/login")
    assert not await is_signed_in(client)
    assert (await client.get("/logout")).headers["location"] == "/login"


async def test_a_native_apps_private_use_uri_is_followed_and_let_through_form_action(
    client: httpx.AsyncClient, make_client: MakeClient, settings: Settings
) -> None:
    native = await make_client(post_logout_redirect_uris=("com.example.app:/bye",))
    await sign_up_as(client, EMAIL)
    query = {"client_id": native.client_id, "post_logout_redirect_uri": "com.example.app:/bye"}
    page = await client.get(logout_url(**query, state="n"))
    assert _form_action(page) == f"{settings.issuer}/logout com.example.app:"
    response = await client.post("/logout", data=hidden_fields(page.text))
    assert response.headers["location"] == "com.example.app:/bye?state=n"
