"""The webapp example in Chromium: sign-in through gatepass (OIDC, consent), its own
SameSite=Strict session, RP-initiated logout, and "log out everywhere" reaching it.

A gatepass of this module's own (its CLI registers the webapp's client) and the webapp
as a real subprocess, started as its README says.
"""

import re
import secrets
import time
from collections.abc import Iterator
from typing import Any

import pytest
from playwright.sync_api import Page, expect

from tests.browser.support import NewDevice, Server
from tests.browser.webapp_support import RunningWebapp, running_webapp
from tests.live_server import LiveServer, live_server
from tests.support import PASSWORD

NAME = "Ada Lovelace"
SIGN_IN = "Sign in with gatepass"
REVOCATION_BOUND_SECONDS = 5.0  # "within a second", with room for a loaded CI machine (as the spa)
WEBAPP_SWEEP_SECONDS = 5.0  # examples/webapp/app.py SWEEP_SECONDS


@pytest.fixture(scope="module")
def gatepass(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    with live_server(tmp_path_factory.mktemp("webapp-gatepass")) as running:
        yield running


@pytest.fixture(scope="module")
def server(gatepass: LiveServer) -> Server:
    """Overrides conftest's `server`: the browser fixtures then open this gatepass."""
    return Server(url=gatepass.url, log=gatepass.log)


@pytest.fixture(scope="module")
def webapp(gatepass: LiveServer) -> Iterator[RunningWebapp]:
    with running_webapp(gatepass) as running:
        yield running


@pytest.fixture(scope="module")
def cross_site_webapp(gatepass: LiveServer) -> Iterator[RunningWebapp]:
    """The webapp as another site than gatepass (localhost against 127.0.0.1), as in
    production: the redirect back to it is a cross-site navigation."""
    with running_webapp(gatepass, host="localhost") as app:
        yield app


# -- steps --------------------------------------------------------------------------------


def _email() -> str:
    return f"webapp-{secrets.token_hex(6)}@example.com"


def _at(page: Page, base: str, path: str) -> None:
    expect(page).to_have_url(re.compile("^" + re.escape(base + path) + r"(\?.*)?$"))


def _sign_up_at_gatepass(page: Page, server: Server) -> str:
    email = _email()
    page.goto(server.url + "/signup")
    page.get_by_label("Name").fill(NAME)
    page.get_by_label("E-mail").fill(email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign up").click()
    _at(page, server.url, "/account")
    return email


def _log_in_at_gatepass(page: Page, server: Server, email: str) -> None:
    """On gatepass's login page (reached directly or from /authorize)."""
    _at(page, server.url, "/login")
    page.get_by_label("E-mail").fill(email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()


def _start_sign_in(page: Page, webapp: RunningWebapp) -> None:
    page.goto(webapp.url + "/")
    page.get_by_role("button", name=SIGN_IN).click()


def _allow(page: Page, server: Server) -> None:
    _at(page, server.url, "/authorize")
    expect(page.get_by_role("heading", name="Allow Webapp?")).to_be_visible()
    page.get_by_role("button", name="Allow").click()


def _signed_in(page: Page, webapp: RunningWebapp, email: str) -> None:
    _at(page, webapp.url, "/")
    expect(page.get_by_role("heading", name=f"Signed in as {NAME}")).to_be_visible()
    expect(page.locator("dl")).to_contain_text(email)


def _signed_out(page: Page, webapp: RunningWebapp) -> None:
    _at(page, webapp.url, "/")
    expect(page.get_by_role("button", name=SIGN_IN)).to_be_visible()
    expect(page.get_by_role("heading", name=re.compile("Signed in as"))).to_have_count(0)


def _sign_up_and_sign_in(page: Page, server: Server, webapp: RunningWebapp) -> str:
    email = _sign_up_at_gatepass(page, server)
    _start_sign_in(page, webapp)
    _allow(page, server)
    _signed_in(page, webapp, email)
    return email


def _cookie(page: Page, url: str, name: str) -> dict[str, Any] | None:
    found = [dict(c) for c in page.context.cookies(url) if c["name"] == name]
    return found[0] if found else None


# -- tests --------------------------------------------------------------------------------


def test_sign_in_through_gatepass_with_consent_shows_the_users_name(
    page: Page, server: Server, webapp: RunningWebapp
) -> None:
    email = _sign_up_at_gatepass(page, server)
    page.goto(webapp.url + "/")
    expect(page.get_by_role("heading", name="Welcome")).to_be_visible()
    page.get_by_role("button", name=SIGN_IN).click()
    _at(page, server.url, "/authorize")

    # At gatepass's consent page, the pending sign-in is bound to this browser by a Lax
    # cookie: a Strict one would stay behind on the (in production cross-site) way back.
    pending = _cookie(page, webapp.url + "/callback", "webapp_login")
    assert pending is not None
    assert pending["sameSite"] == "Lax"
    assert pending["httpOnly"] is True
    assert pending["path"] == "/callback"
    _allow(page, server)

    _signed_in(page, webapp, email)
    assert _cookie(page, webapp.url + "/callback", "webapp_login") is None  # single use


def test_the_webapp_session_cookie_is_http_only_and_same_site_strict(
    page: Page, server: Server, webapp: RunningWebapp
) -> None:
    _sign_up_and_sign_in(page, server, webapp)

    session = _cookie(page, webapp.url, "webapp_session")
    assert session is not None
    assert session["httpOnly"] is True
    assert session["sameSite"] == "Strict"
    assert session["secure"] is False  # plain http on loopback; Secure under https
    assert session["path"] == "/"
    assert session["expires"] == -1  # a browser-session cookie: no lifetime of its own
    assert len(session["value"]) >= 43  # 256 random bits, base64url
    assert "webapp_session" not in page.evaluate("document.cookie")
    # Nothing of gatepass's tokens reaches the page.
    assert "eyJ" not in page.content()


def test_signing_out_of_the_webapp_ends_both_sessions__rp_initiated_logout(
    page: Page, new_device: NewDevice, server: Server, webapp: RunningWebapp
) -> None:
    _sign_up_and_sign_in(page, server, webapp)
    old_cookie = _cookie(page, webapp.url, "webapp_session")
    assert old_cookie is not None

    page.get_by_role("button", name="Sign out").click()
    # gatepass asks first: a logout request from an app never ends a session by itself.
    _at(page, server.url, "/logout")
    expect(page.get_by_role("heading", name="Log out of gatepass?")).to_be_visible()
    expect(page.locator("main")).to_contain_text("Webapp")
    page.locator("main").get_by_role("button", name="Log out").click()

    _signed_out(page, webapp)
    expect(page.get_by_role("status")).to_have_text(
        "You are signed out of this app and of gatepass."
    )
    assert _cookie(page, webapp.url, "webapp_session") is None
    page.goto(server.url + "/account")
    _at(page, server.url, "/login")
    page.goto(webapp.url + "/")
    _signed_out(page, webapp)

    # The record is gone on the server: the old cookie, replayed elsewhere, is nobody.
    replay = new_device("replay")
    replay.context.add_cookies([old_cookie])  # type: ignore[list-item]
    replay.goto(webapp.url + "/")
    _signed_out(replay, webapp)


def _signed_in_then_logged_out_everywhere(
    new_device: NewDevice, server: Server, webapp: RunningWebapp
) -> tuple[Page, str]:
    """A laptop signed in to the webapp, then "Log out everywhere" at gatepass from a
    phone: (the laptop, the user's e-mail)."""
    laptop = new_device("laptop")
    email = _sign_up_and_sign_in(laptop, server, webapp)

    phone = new_device("phone")
    phone.goto(server.url + "/login")
    _log_in_at_gatepass(phone, server, email)
    _at(phone, server.url, "/account")
    phone.get_by_role("button", name="Log out everywhere").click()
    _at(phone, server.url, "/login")
    return laptop, email


def test_log_out_everywhere_at_gatepass_ends_the_webapp_session_within_a_second(
    new_device: NewDevice, server: Server, webapp: RunningWebapp
) -> None:
    laptop, email = _signed_in_then_logged_out_everywhere(new_device, server, webapp)

    _reload_until_signed_out(laptop, webapp)
    assert _cookie(laptop, webapp.url, "webapp_session") is None

    # Signing in again afterwards works: the not-before kills only older sessions. Tokens
    # carry whole seconds, and one issued in the not-before's own second counts as older
    # (tokens/revocation_event.py, fail closed): a person takes longer than that, a test
    # must wait for it.
    time.sleep(1.1)
    laptop.get_by_role("button", name=SIGN_IN).click()
    _log_in_at_gatepass(laptop, server, email)  # the consent given before stands
    _signed_in(laptop, webapp, email)
    laptop.reload()
    _signed_in(laptop, webapp, email)


def test_a_session_the_sweeper_dropped_loses_its_cookie_at_the_next_visit(
    new_device: NewDevice, server: Server, webapp: RunningWebapp
) -> None:
    """Revoked while nobody asked, the record goes with the webapp's next sweep; the
    browser's cookie then names no session, and the next visit must clear it as it
    clears a revoked one."""
    laptop, _ = _signed_in_then_logged_out_everywhere(new_device, server, webapp)

    laptop.wait_for_timeout(2.2 * WEBAPP_SWEEP_SECONDS * 1000)  # two sweeps since
    laptop.goto(webapp.url + "/")
    _signed_out(laptop, webapp)
    assert _cookie(laptop, webapp.url, "webapp_session") is None


def test_logging_out_at_gatepass_ends_the_webapp_session_of_that_gatepass_session(
    page: Page, server: Server, webapp: RunningWebapp
) -> None:
    # The id token's `sid` names the gatepass session that signed the user in; its end
    # reaches the webapp through the revocation feed (a `session` event).
    _sign_up_and_sign_in(page, server, webapp)
    page.goto(server.url + "/account")
    page.locator("header").get_by_role("button", name="Log out").click()
    _at(page, server.url, "/login")

    _reload_until_signed_out(page, webapp)


def test_denying_consent_leaves_the_webapp_signed_out(
    page: Page, server: Server, webapp: RunningWebapp
) -> None:
    _sign_up_at_gatepass(page, server)
    _start_sign_in(page, webapp)
    _at(page, server.url, "/authorize")
    page.get_by_role("button", name="Deny").click()

    _at(page, webapp.url, "/callback")
    expect(page.get_by_role("alert")).to_have_text("You did not allow this app to sign you in.")
    assert _cookie(page, webapp.url + "/callback", "webapp_login") is None
    assert _cookie(page, webapp.url, "webapp_session") is None
    page.goto(webapp.url + "/")
    _signed_out(page, webapp)


def test_a_callback_this_browser_did_not_start_is_refused(
    page: Page, webapp: RunningWebapp
) -> None:
    response = page.goto(webapp.url + "/callback?code=forged&state=forged")
    assert response is not None
    assert response.status == 400
    expect(page.get_by_role("alert")).to_contain_text("sign in again")
    assert _cookie(page, webapp.url, "webapp_session") is None


def test_sign_in_works_when_the_webapp_is_another_site_than_gatepass(
    page: Page, server: Server, cross_site_webapp: RunningWebapp
) -> None:
    # localhost and 127.0.0.1 are different sites: the way back from gatepass is a
    # cross-site navigation, which carries the Lax sign-in cookie but no Strict one.
    email = _sign_up_and_sign_in(page, server, cross_site_webapp)

    page.reload()  # the Strict session cookie rides on same-site navigations
    _signed_in(page, cross_site_webapp, email)
    session = _cookie(page, cross_site_webapp.url, "webapp_session")
    assert session is not None
    assert session["sameSite"] == "Strict"


def _reload_until_signed_out(page: Page, webapp: RunningWebapp) -> None:
    """Reload the webapp until it shows the signed-out page, for at most the bound."""
    sign_in = page.get_by_role("button", name=SIGN_IN)
    deadline = time.monotonic() + REVOCATION_BOUND_SECONDS
    while True:
        page.goto(webapp.url + "/")
        if sign_in.count() == 1:
            _signed_out(page, webapp)
            return
        if time.monotonic() >= deadline:
            pytest.fail(f"still signed in {REVOCATION_BOUND_SECONDS} s after gatepass ended it")
        page.wait_for_timeout(100)
