"""TOTP in Chromium against `gatepass serve`: set it up from the key the page shows
(codes computed with pyotp, as an authenticator app would), then sign out and back in
with a code, and with a recovery code."""

import re
import secrets
import time

import pyotp
from playwright.sync_api import Page, expect

from tests.browser.support import Server
from tests.support import PASSWORD

STEP = 30


def _at(page: Page, server: Server, path: str) -> None:
    expect(page).to_have_url(re.compile("^" + re.escape(server.url + path) + r"(\?[^#]*)?(#.*)?$"))


def _code_after(secret: str, used_step: int) -> str:
    """The app's code, for a step later than one used already (a code works once): the
    next step's when we are still in the used one (the server accepts one step ahead)."""
    step = max(int(time.time() // STEP), used_step + 1)
    return pyotp.TOTP(secret).at(step * STEP)


def _log_in_with_password(page: Page, email: str) -> None:
    page.goto("/login")
    page.get_by_label("E-mail").fill(email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()


def test_enrol_totp_from_the_shown_key_then_sign_in_with_a_code(page: Page, server: Server) -> None:
    email = f"totp-{secrets.token_hex(6)}@example.com"
    page.goto("/signup")
    page.get_by_label("Name").fill("Grace Hopper")
    page.get_by_label("E-mail").fill(email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign up").click()
    _at(page, server, "/account")

    page.get_by_role("link", name="Set up").click()
    _at(page, server, "/account/mfa/totp")
    expect(page.locator("figure.qr svg")).to_be_visible()
    secret = (page.locator("#totp-key").text_content() or "").replace(" ", "")
    assert len(secret) == 32
    enrolled_step = int(time.time() // STEP)
    page.get_by_label("Code from the app").fill(pyotp.TOTP(secret).at(enrolled_step * STEP))
    page.get_by_role("button", name="Turn on").click()
    expect(page.get_by_role("heading", name="Your recovery codes")).to_be_visible()
    recovery = page.locator("ul.recovery-codes code").all_text_contents()
    assert len(recovery) == 10
    page.get_by_role("link", name="I saved them, continue").click()
    _at(page, server, "/account")
    expect(page.locator("#recovery-codes-left")).to_have_text("10 of 10 left")

    page.locator("header").get_by_role("button", name="Log out").click()
    _log_in_with_password(page, email)
    _at(page, server, "/login/verify")
    expect(page.get_by_role("heading", name="Two-step sign-in")).to_be_visible()
    page.get_by_label("Code from your authenticator app").fill(_code_after(secret, enrolled_step))
    page.get_by_role("button", name="Verify").click()
    _at(page, server, "/account")
    expect(page.get_by_role("heading", name="Your account", exact=True)).to_be_visible()

    page.locator("header").get_by_role("button", name="Log out").click()
    _log_in_with_password(page, email)
    _at(page, server, "/login/verify")
    page.get_by_text("Use a recovery code").click()
    page.get_by_label("Recovery code").fill(recovery[0])
    page.get_by_role("button", name="Use recovery code").click()
    _at(page, server, "/account")
    expect(page.locator("#recovery-codes-left")).to_have_text("9 of 10 left")
