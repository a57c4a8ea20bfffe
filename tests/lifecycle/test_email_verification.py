"""Sign-up verification by mail (issue 10): a real SMTP server, links followed as a browser."""

import httpx
import jwt as pyjwt
import pytest
from sqlalchemy import text

from gatepass.audit.model import AuditEventType as Event
from gatepass.clock import FixedClock, SystemClock
from gatepass.config import Settings
from gatepass.crypto.master_key import load_master_key
from gatepass.oauth.clients import ClientRegistration
from gatepass.oauth.registry import ClientRegistry
from gatepass.storage.backends import Backends
from tests.authorize.conftest import REDIRECT_URI, authorize_url, new_pkce, redirect_params
from tests.authorize.helpers import decide
from tests.lifecycle.conftest import (
    Inbox,
    MailClient,
    confirm,
    follow,
    html_of,
    link_in,
    text_of,
    user_named,
)
from tests.support import csrf_of, post_form, sign_up

EMAIL = "ada@example.com"


async def _signed_up(browser: httpx.AsyncClient, inbox: Inbox) -> str:
    assert (await sign_up(browser, EMAIL, name="Ada")).status_code == 303
    return link_in(inbox.last_to(EMAIL))


async def test_sign_up_mails_a_verification_link(browser: httpx.AsyncClient, inbox: Inbox) -> None:
    link = await _signed_up(browser, inbox)
    message = inbox.last_to(EMAIL)
    assert message["Subject"] == "Verify your e-mail address"
    assert message["From"] == "gatepass <no-reply@localhost>"
    assert link.startswith("/verify-email?token=")
    assert link.split("=", 1)[1] in html_of(message)
    assert "expires in 24 hours" in text_of(message)


async def test_opening_the_link_verifies_nothing_until_the_button_is_pressed(
    browser: httpx.AsyncClient, inbox: Inbox, backends: Backends
) -> None:
    link = await _signed_up(browser, inbox)
    # A mail scanner fetches every link: GET must use nothing.
    page = await follow(browser, link)
    assert "Verify" in page.text
    assert not (await user_named(backends, EMAIL)).email_verified

    done = await confirm(browser, page, "/verify-email")

    assert done.status_code == 200, done.text
    assert (await user_named(backends, EMAIL)).email_verified
    account = await browser.get("/account")
    assert f"{EMAIL} is verified" in account.text


async def test_the_landing_moves_the_token_out_of_the_url_with_no_referrer(
    browser: httpx.AsyncClient, inbox: Inbox
) -> None:
    link = await _signed_up(browser, inbox)
    landing = await browser.get(link)
    assert landing.status_code == 303
    assert landing.headers["location"] == "/verify-email"
    assert landing.headers["referrer-policy"] == "no-referrer"
    assert landing.headers["cache-control"] == "no-store"
    assert link.split("=", 1)[1] not in landing.headers["set-cookie"]


async def test_the_link_works_once(browser: httpx.AsyncClient, inbox: Inbox) -> None:
    link = await _signed_up(browser, inbox)
    page = await follow(browser, link)
    assert (await confirm(browser, page, "/verify-email")).status_code == 200

    again = await follow(browser, link)
    assert again.status_code == 400
    assert "does not work" in again.text
    replayed = await browser.post("/verify-email", data={"csrf_token": csrf_of(page.text)})
    assert replayed.status_code == 400


async def test_the_link_expires_after_a_day(
    browser: httpx.AsyncClient, inbox: Inbox, clock: FixedClock, backends: Backends
) -> None:
    link = await _signed_up(browser, inbox)
    clock.advance(24 * 3600 + 1)
    assert (await follow(browser, link)).status_code == 400
    assert not (await user_named(backends, EMAIL)).email_verified


async def test_a_link_for_an_address_the_account_no_longer_has_is_refused(
    browser: httpx.AsyncClient, inbox: Inbox, backends: Backends, clock: FixedClock
) -> None:
    link = await _signed_up(browser, inbox)
    user = await user_named(backends, EMAIL)
    await backends.users.update(user.id, now=clock.now(), email="ada@other.example")
    page = await follow(browser, link)
    response = await confirm(browser, page, "/verify-email")
    assert response.status_code == 400
    assert not (await user_named(backends, "ada@other.example")).email_verified


@pytest.mark.parametrize(
    "token",
    ["", "x", "a" * 43 + "!", "A" * 43, "%00" * 20, "a" * 5000],
    ids=["empty", "short", "bad-character", "never-issued", "nul-bytes", "huge"],
)
async def test_garbage_tokens_get_a_clear_400(browser: httpx.AsyncClient, token: str) -> None:
    page = await browser.get(f"/verify-email?token={token}")
    if page.status_code == 303:  # the token goes into the cookie; the page then refuses it
        page = await browser.get(page.headers["location"])
    assert page.status_code == 400  # (a NUL is refused before any route sees it)
    assert "Traceback" not in page.text
    form = await browser.get("/forgot-password")  # any page with this visitor's CSRF token
    posted = await browser.post("/verify-email", data={"csrf_token": csrf_of(form.text)})
    assert posted.status_code == 400


async def test_a_reset_link_is_no_verification_link(
    browser: httpx.AsyncClient, inbox: Inbox, mail_client: MailClient
) -> None:
    await _signed_up(browser, inbox)
    async with mail_client() as other:
        await post_form(other, "/forgot-password", {"email": EMAIL})
    reset_link = link_in(inbox.last_to(EMAIL))
    assert reset_link.startswith("/reset-password?")
    token = reset_link.split("=", 1)[1]
    assert (await follow(browser, f"/verify-email?token={token}")).status_code == 400


async def test_send_again_mails_a_new_link_and_is_throttled(
    browser: httpx.AsyncClient, inbox: Inbox, settings: Settings
) -> None:
    await _signed_up(browser, inbox)
    statuses = []
    for _ in range(settings.login_account_limit + 1):
        response = await post_form(browser, "/account/verify-email/resend", {}, page="/account")
        statuses.append(response.headers["location"])
    assert statuses[0] == "/account?notice=verification-sent"
    assert statuses[-1] == "/account?notice=verification-throttled"
    assert len(inbox.to(EMAIL)) == 1 + settings.login_account_limit
    # Every link mailed works (each is its own), until one is used.
    page = await follow(browser, link_in(inbox.to(EMAIL)[1]))
    assert (await confirm(browser, page, "/verify-email")).status_code == 200


async def test_the_account_page_shows_an_unverified_address_and_the_button(
    browser: httpx.AsyncClient, inbox: Inbox
) -> None:
    await _signed_up(browser, inbox)
    page = await browser.get("/account")
    assert "not verified" in page.text
    assert 'action="/account/verify-email/resend"' in page.text


async def test_verification_is_audited(
    browser: httpx.AsyncClient, inbox: Inbox, backends: Backends
) -> None:
    link = await _signed_up(browser, inbox)
    await confirm(browser, await follow(browser, link), "/verify-email")
    async with backends.engine.connect() as conn:
        rows = await conn.execute(text("SELECT type FROM audit_events ORDER BY at, id"))
        types = [row[0] for row in rows]
    assert Event.EMAIL_VERIFICATION_SENT in types
    assert Event.EMAIL_VERIFIED in types


async def _tokens(
    browser: httpx.AsyncClient, settings: Settings, backends: Backends, scope: str
) -> httpx.Response:
    registry = ClientRegistry(
        backends.clients, load_master_key(settings).client_secret_key(), SystemClock()
    )
    client, _ = await registry.create(
        ClientRegistration(name="Photo Printer", redirect_uris=(REDIRECT_URI,), public=True)
    )
    pkce = new_pkce()
    page = await browser.get(authorize_url(client, pkce, scope=scope))
    if page.status_code != 200:
        return page
    code = redirect_params(await decide(browser, page.text, "allow"))["code"]
    form = {
        "grant_type": "authorization_code",
        "code": code,
        "redirect_uri": REDIRECT_URI,
        "code_verifier": pkce.verifier,
        "client_id": client.client_id,
    }
    return await browser.post("/token", data=form)


@pytest.mark.parametrize(
    ("scope", "expected"),
    [
        ("openid", set()),
        ("openid email", {"email", "email_verified"}),
        ("openid profile", {"name"}),
        ("openid profile email", {"email", "email_verified", "name"}),
    ],
    ids=["openid-alone", "email-scope", "profile-scope", "both"],
)
async def test_id_tokens_carry_the_claims_their_scope_releases__oidc_core_5_4(
    scope: str,
    expected: set[str],
    browser: httpx.AsyncClient,
    inbox: Inbox,
    mail_settings: Settings,
    backends: Backends,
) -> None:
    link = await _signed_up(browser, inbox)
    await confirm(browser, await follow(browser, link), "/verify-email")
    response = await _tokens(browser, mail_settings, backends, scope)
    assert response.status_code == 200, response.text
    claims = pyjwt.decode(response.json()["id_token"], options={"verify_signature": False})
    assert {"email", "email_verified", "name"} & claims.keys() == expected
    if "email" in expected:
        assert claims["email"] == EMAIL
        assert claims["email_verified"] is True
    if "name" in expected:
        assert claims["name"] == "Ada"


async def test_an_unverified_user_gets_email_verified_false_in_the_id_token(
    browser: httpx.AsyncClient, inbox: Inbox, mail_settings: Settings, backends: Backends
) -> None:
    await _signed_up(browser, inbox)
    response = await _tokens(browser, mail_settings, backends, "openid email")
    claims = pyjwt.decode(response.json()["id_token"], options={"verify_signature": False})
    assert claims["email_verified"] is False


async def test_with_require_verified_email_an_unverified_user_cannot_sign_in_to_clients(
    inbox: Inbox, make_settings: object, backends: Backends, clock: FixedClock
) -> None:
    from collections.abc import Callable

    from gatepass.config import Secret
    from tests.support import web_client

    assert callable(make_settings)
    build: Callable[..., Settings] = make_settings
    strict = build(smtp_url=Secret(f"smtp://127.0.0.1:{inbox.port}"), require_verified_email=True)
    async with web_client(strict, backends, clock=clock) as browser:
        link = await _signed_up(browser, inbox)
        refused = await _tokens(browser, strict, backends, "openid email")
        assert refused.status_code == 403
        assert "Verify your e-mail address" in refused.text
        assert 'action="/account/verify-email/resend"' in refused.text

        await confirm(browser, await follow(browser, link), "/verify-email")
        assert (await _tokens(browser, strict, backends, "openid email")).status_code == 200
