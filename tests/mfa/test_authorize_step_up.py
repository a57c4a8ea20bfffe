"""acr/amr in id tokens, and the step-up /authorize asks for (acr_values, a client's
require_mfa), through the real app on every backend (OIDC Core §2, §3.1.2.1; RFC 8176)."""

import base64
import json
from typing import Any
from urllib.parse import unquote

import httpx
import pytest

from gatepass.clock import FixedClock, SystemClock
from gatepass.config import Settings
from gatepass.crypto.master_key import load_master_key
from gatepass.oauth.clients import Client, ClientRegistration
from gatepass.oauth.registry import ClientRegistry
from gatepass.oidc.acr import ACR_MFA, ACR_SINGLE
from gatepass.storage.backends import Backends
from tests.authorize.conftest import REDIRECT_URI, authorize_url, new_pkce, redirect_params
from tests.authorize.helpers import decide
from tests.mfa.conftest import code_now, codes_on, enrol_totp, key_on, submit_verify
from tests.support import PASSWORD, csrf_of, sign_up
from tests.web.conftest import SESSION, set_cookies

EMAIL = "ola@example.com"


async def _client(settings: Settings, backends: Backends, **fields: Any) -> Client:
    registry = ClientRegistry(
        backends.clients, load_master_key(settings).client_secret_key(), SystemClock()
    )
    registration = ClientRegistration(
        name="Photo Printer", redirect_uris=(REDIRECT_URI,), public=True, **fields
    )
    client, _ = await registry.create(registration)
    return client


def _claims(id_token: str) -> dict[str, Any]:
    payload = id_token.split(".")[1]
    claims: dict[str, Any] = json.loads(
        base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4))
    )
    return claims


async def _finish(
    http: httpx.AsyncClient, answer: httpx.Response, app: Client, verifier: str
) -> dict[str, Any]:
    """From the answer /authorize gave (consent page or redirect): the id token's claims."""
    if answer.status_code == 200:
        answer = await decide(http, answer.text, "allow")
    code = redirect_params(answer)["code"]
    tokens = await http.post(
        "/token",
        data={
            "grant_type": "authorization_code",
            "code": code,
            "redirect_uri": REDIRECT_URI,
            "code_verifier": verifier,
            "client_id": app.client_id,
        },
    )
    assert tokens.status_code == 200, tokens.text
    return _claims(tokens.json()["id_token"])


async def test_a_single_factor_session_gives_acr_1fa_and_amr_pwd(
    browser: httpx.AsyncClient, settings: Settings, backends: Backends
) -> None:
    app = await _client(settings, backends)
    await sign_up(browser, EMAIL)
    pkce = new_pkce()
    claims = await _finish(browser, await browser.get(authorize_url(app, pkce)), app, pkce.verifier)
    assert claims["amr"] == ["pwd"]
    assert claims["acr"] == ACR_SINGLE


async def test_acr_values_mfa_steps_a_single_factor_session_up(
    browser: httpx.AsyncClient, settings: Settings, backends: Backends, clock: FixedClock
) -> None:
    app = await _client(settings, backends)
    await sign_up(browser, EMAIL)
    enrolled = await enrol_totp(browser, clock)  # this session stays single-factor
    clock.advance(30)
    pkce = new_pkce()
    asked = await browser.get(authorize_url(app, pkce, acr_values=f"{ACR_MFA} {ACR_SINGLE}"))
    assert asked.status_code == 303
    assert asked.headers["location"] == "/login/verify"
    verified = await submit_verify(browser, code=code_now(enrolled.secret, clock))
    assert verified.status_code == 303
    back = verified.headers["location"]
    assert back.startswith("/authorize?")
    claims = await _finish(browser, await browser.get(back), app, pkce.verifier)
    assert claims["amr"] == ["pwd", "otp", "mfa"]
    assert claims["acr"] == ACR_MFA


async def test_prompt_none_with_acr_values_mfa_answers_login_required(
    browser: httpx.AsyncClient, settings: Settings, backends: Backends
) -> None:
    app = await _client(settings, backends)
    await sign_up(browser, EMAIL)
    asked = await browser.get(authorize_url(app, new_pkce(), acr_values=ACR_MFA, prompt="none"))
    assert redirect_params(asked)["error"] == "login_required"


async def test_unknown_acr_values_are_voluntary_and_ignored(
    browser: httpx.AsyncClient, settings: Settings, backends: Backends
) -> None:
    app = await _client(settings, backends)
    await sign_up(browser, EMAIL)
    pkce = new_pkce()
    answer = await browser.get(authorize_url(app, pkce, acr_values="urn:example:loa:3"))
    claims = await _finish(browser, answer, app, pkce.verifier)
    assert claims["acr"] == ACR_SINGLE


async def test_a_client_requiring_mfa_makes_a_user_without_a_factor_enrol_first(
    browser: httpx.AsyncClient, settings: Settings, backends: Backends, clock: FixedClock
) -> None:
    app = await _client(settings, backends, require_mfa=True)
    await sign_up(browser, EMAIL)
    pkce = new_pkce()
    asked = await browser.get(authorize_url(app, pkce))
    assert asked.headers["location"] == "/login/enrol"
    page = await browser.get("/login/enrol")
    form = {"csrf_token": csrf_of(page.text), "code": code_now(key_on(page.text), clock)}
    done = await browser.post("/login/enrol", data=form)
    assert done.status_code == 200
    assert len(codes_on(done.text)) == 10
    back = done.text.split('class="button" href="', 1)[1].split('"', 1)[0].replace("&amp;", "&")
    assert back.startswith("/authorize?")
    claims = await _finish(browser, await browser.get(back), app, pkce.verifier)
    assert claims["amr"] == ["pwd", "otp", "mfa"]
    assert claims["acr"] == ACR_MFA


async def test_enrolling_at_a_step_up_needs_a_recent_sign_in__asvs_7_5_1(
    browser: httpx.AsyncClient, settings: Settings, backends: Backends, clock: FixedClock
) -> None:
    # A session alone (a stolen cookie) must not add a factor of its choosing.
    app = await _client(settings, backends, require_mfa=True)
    await sign_up(browser, EMAIL)
    clock.advance(settings.reauth_window_seconds + 1)
    pkce = new_pkce()
    url = authorize_url(app, pkce)
    asked = await browser.get(url)
    assert asked.headers["location"].startswith("/account/confirm?next=/authorize%3F")
    assert (await browser.get("/login/enrol")).status_code == 400  # nothing is waiting
    page = await browser.get(asked.headers["location"])
    confirmed = await browser.post(
        "/account/confirm",
        data={
            "csrf_token": csrf_of(page.text),
            "password": PASSWORD,
            "next": unquote(asked.headers["location"].split("next=", 1)[1]),
        },
    )
    assert confirmed.status_code == 303
    again = await browser.get(confirmed.headers["location"])
    assert again.headers["location"] == "/login/enrol"


async def test_a_refreshed_id_token_keeps_amr_and_acr(
    browser: httpx.AsyncClient, settings: Settings, backends: Backends, clock: FixedClock
) -> None:
    app = await _client(
        settings, backends, grant_types=("authorization_code", "refresh_token"), require_mfa=True
    )
    await sign_up(browser, EMAIL)
    pkce = new_pkce()
    await browser.get(authorize_url(app, pkce))
    page = await browser.get("/login/enrol")
    form = {"csrf_token": csrf_of(page.text), "code": code_now(key_on(page.text), clock)}
    done = await browser.post("/login/enrol", data=form)
    back = done.text.split('class="button" href="', 1)[1].split('"', 1)[0].replace("&amp;", "&")
    answer = await browser.get(back.replace("openid+profile+email", "openid+offline_access"))
    if answer.status_code == 200:
        answer = await decide(browser, answer.text, "allow")
    code = redirect_params(answer)["code"]
    issued = await browser.post(
        "/token",
        data={
            "grant_type": "authorization_code",
            "code": code,
            "redirect_uri": REDIRECT_URI,
            "code_verifier": pkce.verifier,
            "client_id": app.client_id,
        },
    )
    assert issued.status_code == 200, issued.text
    refreshed = await browser.post(
        "/token",
        data={
            "grant_type": "refresh_token",
            "refresh_token": issued.json()["refresh_token"],
            "client_id": app.client_id,
        },
    )
    assert refreshed.status_code == 200, refreshed.text
    claims = _claims(refreshed.json()["id_token"])
    assert (claims["amr"], claims["acr"]) == (["pwd", "otp", "mfa"], ACR_MFA)


@pytest.mark.parametrize("path", ["/.well-known/openid-configuration"])
async def test_discovery_lists_the_acr_values(browser: httpx.AsyncClient, path: str) -> None:
    doc = (await browser.get(path)).json()
    assert doc["acr_values_supported"] == [ACR_SINGLE, ACR_MFA]
    assert "acr" in doc["claims_supported"]


async def test_a_step_up_of_a_session_ended_meanwhile_signs_nobody_in(
    browser: httpx.AsyncClient, settings: Settings, backends: Backends, clock: FixedClock
) -> None:
    app = await _client(settings, backends)
    await sign_up(browser, EMAIL)
    enrolled = await enrol_totp(browser, clock)
    clock.advance(30)
    asked = await browser.get(authorize_url(app, new_pkce(), acr_values=ACR_MFA))
    assert asked.headers["location"] == "/login/verify"
    assert (await browser.get("/login/verify")).status_code == 200
    user = await backends.users.find_by_email(EMAIL)
    assert user is not None
    assert await backends.sessions.delete_for_user(user.id) == 1  # "log out everywhere"
    assert (await browser.get("/login/verify")).status_code == 400
    token = csrf_of((await browser.get("/login")).text)
    form = {"csrf_token": token, "code": code_now(enrolled.secret, clock)}
    answer = await browser.post("/login/verify", data=form)
    assert answer.status_code == 400
    assert SESSION not in set_cookies(answer)
