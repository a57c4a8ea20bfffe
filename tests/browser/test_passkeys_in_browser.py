"""Passkeys in Chromium with its virtual authenticator (DevTools WebAuthn domain):
register from the account page, sign in without a password, use one as a second factor.

WebAuthn needs a secure context and an RP ID that is a domain: the server's issuer is
http://localhost:PORT (loopback http is a secure context; an IP address is no RP ID).
"""

import re
import secrets
from collections.abc import Iterator

import pytest
from playwright.sync_api import Browser, CDPSession, Page, expect

from tests.browser.conftest import ARTIFACTS, FAILED, TIMEOUT_MS
from tests.live_server import LiveServer, live_server
from tests.support import PASSWORD

AUTHENTICATOR = {
    "protocol": "ctap2",
    "transport": "internal",
    "hasResidentKey": True,
    "hasUserVerification": True,
    "isUserVerified": True,
}


@pytest.fixture(scope="module")
def localhost_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    with live_server(tmp_path_factory.mktemp("gatepass-passkeys"), host_name="localhost") as run:
        yield run


@pytest.fixture
def page_with_authenticator(
    browser: Browser, localhost_server: LiveServer, request: pytest.FixtureRequest
) -> Iterator[tuple[Page, CDPSession, str]]:
    context = browser.new_context(base_url=localhost_server.url, user_agent="gatepass-test")
    context.set_default_timeout(TIMEOUT_MS)
    page = context.new_page()
    cdp = context.new_cdp_session(page)
    cdp.send("WebAuthn.enable")
    added = cdp.send("WebAuthn.addVirtualAuthenticator", {"options": AUTHENTICATOR})
    yield page, cdp, added["authenticatorId"]
    if request.node.stash.get(FAILED, False):
        ARTIFACTS.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(ARTIFACTS / f"{request.node.name}.png"), full_page=True)
    context.close()


def _at(page: Page, server: LiveServer, path: str) -> None:
    expect(page).to_have_url(re.compile("^" + re.escape(server.url + path) + r"(\?.*)?$"))


def _sign_up_with_a_passkey(page: Page, server: LiveServer, name: str) -> str:
    email = f"user-{secrets.token_hex(6)}@example.com"
    page.goto("/signup")
    page.get_by_label("Name").fill("Ada Lovelace")
    page.get_by_label("E-mail").fill(email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign up").click()
    _at(page, server, "/account")
    page.get_by_label("Passkey name").fill(name)
    _press(page, "Add a passkey")
    expect(page.get_by_role("status")).to_have_text("The passkey was added.")
    expect(page.locator("table.passkeys tbody tr")).to_have_count(1)
    expect(page.locator("table.passkeys")).to_contain_text(name)
    return email


def _press(page: Page, button: str) -> None:
    """Press a passkey button once passkeys.js has taken over its form (not before: the
    form would be sent as a plain one)."""
    form = page.locator("form[data-passkey]", has=page.get_by_role("button", name=button))
    expect(form).to_have_attribute("data-passkey-ready", "yes")
    form.get_by_role("button", name=button).click()


def _log_out(page: Page, server: LiveServer) -> None:
    page.locator("header").get_by_role("button", name="Log out").click()
    _at(page, server, "/login")


def test_register_a_passkey_then_sign_in_without_a_password(
    page_with_authenticator: tuple[Page, CDPSession, str], localhost_server: LiveServer
) -> None:
    page, cdp, authenticator_id = page_with_authenticator
    email = _sign_up_with_a_passkey(page, localhost_server, "Virtual key")
    [held] = cdp.send("WebAuthn.getCredentials", {"authenticatorId": authenticator_id})[
        "credentials"
    ]
    assert held["isResidentCredential"]
    assert held["rpId"] == "localhost"
    _log_out(page, localhost_server)

    _press(page, "Sign in with a passkey")
    _at(page, localhost_server, "/account")
    expect(page.locator("dl")).to_contain_text(email)
    row = page.locator("table.passkeys tbody tr")
    expect(row).to_contain_text("Virtual key")
    expect(row).not_to_contain_text("never")  # last used: just now
    [used] = cdp.send("WebAuthn.getCredentials", {"authenticatorId": authenticator_id})[
        "credentials"
    ]
    assert used["credentialId"] == held["credentialId"]
    assert used["signCount"] > held["signCount"]

    # Removing it (the sign-in was just now: no confirmation needed) ends passwordless.
    page.get_by_role("button", name="Remove Virtual key").click()
    expect(page.get_by_role("status")).to_have_text("The passkey was removed.")
    _log_out(page, localhost_server)
    _press(page, "Sign in with a passkey")
    expect(page.locator("[data-passkey-status]")).to_have_text("This passkey cannot sign in here.")
    _at(page, localhost_server, "/login")


def test_a_passkey_as_the_second_factor_after_the_password(
    page_with_authenticator: tuple[Page, CDPSession, str], localhost_server: LiveServer
) -> None:
    page, _, _ = page_with_authenticator
    email = _sign_up_with_a_passkey(page, localhost_server, "Second step")
    _log_out(page, localhost_server)

    page.get_by_label("E-mail").fill(email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    _at(page, localhost_server, "/login/verify")
    _press(page, "Use a passkey")
    _at(page, localhost_server, "/account")
    expect(page.locator("dl")).to_contain_text(email)


@pytest.fixture(scope="module")
def mfa_required_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    workdir = tmp_path_factory.mktemp("gatepass-mfa-required")
    settings = {"GATEPASS_MFA_REQUIRED": "true"}
    with live_server(workdir, settings, host_name="localhost") as running:
        yield running


def test_when_mfa_is_required_a_passkey_is_enrolled_at_the_first_sign_in(
    browser: Browser, mfa_required_server: LiveServer
) -> None:
    server = mfa_required_server
    context = browser.new_context(base_url=server.url, user_agent="gatepass-test")
    context.set_default_timeout(TIMEOUT_MS)
    try:
        page = context.new_page()
        cdp = context.new_cdp_session(page)
        cdp.send("WebAuthn.enable")
        cdp.send("WebAuthn.addVirtualAuthenticator", {"options": AUTHENTICATOR})
        email = f"user-{secrets.token_hex(6)}@example.com"
        page.goto("/signup")
        page.get_by_label("Name").fill("Ada Lovelace")
        page.get_by_label("E-mail").fill(email)
        page.get_by_label("Password").fill(PASSWORD)
        page.get_by_role("button", name="Sign up").click()
        _at(page, server, "/login/enrol")
        page.get_by_label("Passkey name").fill("Enrolled key")
        _press(page, "Add a passkey")
        _at(page, server, "/account")
        expect(page.locator("table.passkeys")).to_contain_text("Enrolled key")
        _log_out(page, server)
        _press(page, "Sign in with a passkey")
        _at(page, server, "/account")
        expect(page.locator("dl")).to_contain_text(email)
    finally:
        context.close()
