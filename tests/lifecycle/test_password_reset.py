"""Password reset by mail (ASVS 6.4.1, 6.4.3, 6.3.8; SECURITY.md AU-11, AU-18)."""

import logging

import httpx
import pytest
from sqlalchemy import text

from gatepass.accounts.service import Accounts
from gatepass.audit.model import AuditEventType as Event
from gatepass.clock import FixedClock, SystemClock
from gatepass.config import Secret, Settings
from gatepass.storage.backends import Backends
from tests.lifecycle.conftest import (
    Inbox,
    MailClient,
    confirm,
    follow,
    free_port,
    link_in,
    text_of,
    user_named,
)
from tests.support import PASSWORD, csrf_of, log_in, post_form, sign_up, web_client
from tests.web.conftest import SetCookie, _hasher, is_signed_in, set_cookies

EMAIL = "ada@example.com"
NEW_PASSWORD = "a brand new passphrase for ada"


async def _account(mail_client: MailClient) -> None:
    async with mail_client() as other:
        assert (await sign_up(other, EMAIL)).status_code == 303


async def _ask_reset(client: httpx.AsyncClient, email: str = EMAIL) -> httpx.Response:
    return await post_form(client, "/forgot-password", {"email": email})


async def _reset_link(client: httpx.AsyncClient, inbox: Inbox) -> str:
    assert (await _ask_reset(client)).status_code == 200
    message = inbox.last_to(EMAIL)
    assert message["Subject"] == "Reset your password"
    return link_in(message)


async def test_the_login_page_links_to_forgot_password(browser: httpx.AsyncClient) -> None:
    page = await browser.get("/login")
    assert 'href="/forgot-password"' in page.text
    assert (await browser.get("/forgot-password")).status_code == 200


def _comparable(response: httpx.Response) -> tuple[int, str, list[tuple[str, str]]]:
    headers = [(k, v) for k, v in response.headers.items() if k not in ("set-cookie", "date")]
    return response.status_code, response.text, sorted(headers)


async def test_known_and_unknown_addresses_get_the_same_answer__asvs_6_3_8(
    mail_client: MailClient, inbox: Inbox
) -> None:
    await _account(mail_client)
    async with mail_client() as known, mail_client() as unknown:
        await known.get("/forgot-password")
        await unknown.get("/forgot-password")
        csrf_known = csrf_of((await known.get("/forgot-password")).text)
        csrf_unknown = csrf_of((await unknown.get("/forgot-password")).text)
        a = await known.post("/forgot-password", data={"csrf_token": csrf_known, "email": EMAIL})
        b = await unknown.post(
            "/forgot-password", data={"csrf_token": csrf_unknown, "email": "nobody@example.com"}
        )
    assert _comparable(a) == _comparable(b)
    assert ("set-cookie" in a.headers) == ("set-cookie" in b.headers)
    assert a.status_code == 200
    assert len(inbox.to(EMAIL)) == 2  # the sign-up's verification, then the reset
    assert inbox.to("nobody@example.com") == []


async def test_a_disabled_account_gets_no_mail(
    mail_client: MailClient, inbox: Inbox, backends: Backends, clock: FixedClock
) -> None:
    await _account(mail_client)
    user = await user_named(backends, EMAIL)
    await backends.users.update(user.id, now=clock.now(), disabled=True)
    async with mail_client() as browser:
        assert (await _ask_reset(browser)).status_code == 200
    assert [m["Subject"] for m in inbox.to(EMAIL)] == ["Verify your e-mail address"]


async def test_the_link_opens_a_private_page_without_the_token_in_its_url(
    mail_client: MailClient, inbox: Inbox
) -> None:
    await _account(mail_client)
    async with mail_client() as browser:
        link = await _reset_link(browser, inbox)
        landing = await browser.get(link)
        page = await browser.get(landing.headers["location"])
    assert landing.status_code == 303
    assert landing.headers["location"] == "/reset-password"
    assert landing.headers["referrer-policy"] == "no-referrer"
    assert landing.headers["cache-control"] == "no-store"
    assert page.status_code == 200
    assert page.headers["cache-control"] == "no-store"
    assert EMAIL in page.text
    assert 'autocomplete="new-password"' in page.text
    assert "expires in 30 minutes" in text_of(inbox.last_to(EMAIL))


async def test_a_reset_sets_the_password_ends_every_session_and_never_signs_in__asvs_6_4_3(
    mail_client: MailClient, inbox: Inbox, backends: Backends
) -> None:
    await _account(mail_client)
    async with mail_client(address="198.51.100.7") as phone, mail_client() as browser:
        assert (await log_in(phone, EMAIL)).status_code == 303
        link = await _reset_link(browser, inbox)
        done = await confirm(
            browser, await follow(browser, link), "/reset-password", {"password": NEW_PASSWORD}
        )
        assert done.status_code == 303
        assert done.headers["location"] == "/login?notice=password-reset"
        # No session is handed out: the cookie, if set at all, is cleared.
        assert set_cookies(done).get("gp_session", SetCookie("", "", {})).value == ""
        assert not await is_signed_in(browser)
        assert not await is_signed_in(phone)
        notice = await browser.get(done.headers["location"])
        assert "Log in with the new one" in notice.text
        assert (await log_in(browser, EMAIL, PASSWORD)).status_code == 200  # refused
        assert (await log_in(browser, EMAIL, NEW_PASSWORD)).status_code == 303
    user = await user_named(backends, EMAIL)
    assert user.email_verified  # the inbox was proven
    async with backends.engine.connect() as conn:
        rows = await conn.execute(text("SELECT type FROM audit_events"))
        types = {row[0] for row in rows}
    assert {Event.PASSWORD_RESET_REQUESTED, Event.PASSWORD_RESET} <= types


async def test_a_refused_password_keeps_the_link_usable(
    mail_client: MailClient, inbox: Inbox
) -> None:
    await _account(mail_client)
    async with mail_client() as browser:
        page = await follow(browser, await _reset_link(browser, inbox))
        weak = await confirm(browser, page, "/reset-password", {"password": "password1234"})
        assert weak.status_code == 400
        assert "too common" in weak.text
        retry = {"csrf_token": csrf_of(weak.text), "password": NEW_PASSWORD}
        done = await browser.post("/reset-password", data=retry)
        assert done.status_code == 303


async def test_the_link_works_once__asvs_6_4_1(mail_client: MailClient, inbox: Inbox) -> None:
    await _account(mail_client)
    async with mail_client() as browser:
        link = await _reset_link(browser, inbox)
        page = await follow(browser, link)
        assert (
            await confirm(browser, page, "/reset-password", {"password": NEW_PASSWORD})
        ).status_code == 303
        again = await follow(browser, link)
        assert again.status_code == 400
        assert 'href="/forgot-password"' in again.text
        replay = await browser.post(
            "/reset-password", data={"csrf_token": csrf_of(page.text), "password": "x" * 20}
        )
        assert replay.status_code == 400


async def test_the_link_expires_after_thirty_minutes(
    mail_client: MailClient, inbox: Inbox, clock: FixedClock
) -> None:
    await _account(mail_client)
    async with mail_client() as browser:
        link = await _reset_link(browser, inbox)
        clock.advance(30 * 60 + 1)
        assert (await follow(browser, link)).status_code == 400


async def test_using_one_reset_link_voids_the_others(mail_client: MailClient, inbox: Inbox) -> None:
    await _account(mail_client)
    async with mail_client() as browser:
        first = await _reset_link(browser, inbox)
        second = await _reset_link(browser, inbox)
        page = await follow(browser, second)
        assert (
            await confirm(browser, page, "/reset-password", {"password": NEW_PASSWORD})
        ).status_code == 303
        assert (await follow(browser, first)).status_code == 400


async def test_a_link_resets_only_the_account_it_was_mailed_for(
    mail_client: MailClient, inbox: Inbox, backends: Backends
) -> None:
    await _account(mail_client)
    async with mail_client() as other:
        assert (await sign_up(other, "grace@example.com")).status_code == 303
    async with mail_client() as browser:
        page = await follow(browser, await _reset_link(browser, inbox))
        assert "grace@example.com" not in page.text
        await confirm(browser, page, "/reset-password", {"password": NEW_PASSWORD})
        assert (await log_in(browser, "grace@example.com", NEW_PASSWORD)).status_code == 200
        assert (await log_in(browser, "grace@example.com", PASSWORD)).status_code == 303


async def test_a_link_mailed_to_a_former_address_is_refused(
    mail_client: MailClient, inbox: Inbox, backends: Backends, clock: FixedClock
) -> None:
    await _account(mail_client)
    async with mail_client() as browser:
        link = await _reset_link(browser, inbox)
        user = await user_named(backends, EMAIL)
        await backends.users.update(user.id, now=clock.now(), email="ada@new.example")
        assert (await follow(browser, link)).status_code == 400


async def test_a_verification_link_is_no_reset_link(mail_client: MailClient, inbox: Inbox) -> None:
    await _account(mail_client)
    token = link_in(inbox.last_to(EMAIL)).split("=", 1)[1]
    async with mail_client() as browser:
        assert (await follow(browser, f"/reset-password?token={token}")).status_code == 400


async def test_an_account_without_a_password_gets_one_by_reset(
    mail_client: MailClient, inbox: Inbox, backends: Backends
) -> None:
    accounts = Accounts(backends.users, _hasher(), SystemClock())
    await accounts.sign_up_without_password(EMAIL, "Ada", email_verified=True)
    async with mail_client() as browser:
        page = await follow(browser, await _reset_link(browser, inbox))
        await confirm(browser, page, "/reset-password", {"password": NEW_PASSWORD})
        assert (await log_in(browser, EMAIL, NEW_PASSWORD)).status_code == 303


async def test_requests_are_throttled_per_address_asked(
    mail_client: MailClient, inbox: Inbox, settings: Settings
) -> None:
    async with mail_client() as browser:
        statuses = [
            (await _ask_reset(browser, "nobody@example.com")).status_code
            for _ in range(settings.login_account_limit + 1)
        ]
    assert statuses[:-1] == [200] * settings.login_account_limit
    assert statuses[-1] == 429


@pytest.mark.parametrize(
    "email",
    ["", "not an address", "a" * 5000, "ada@example.com\r\nBcc: eve@example.com"],
    ids=["empty", "not-an-address", "huge", "header-injection"],
)
async def test_odd_addresses_get_the_same_answer_and_no_mail(
    email: str, mail_client: MailClient, inbox: Inbox
) -> None:
    await _account(mail_client)
    async with mail_client() as browser:
        response = await _ask_reset(browser, email)
    assert response.status_code == 200
    assert "If an account uses that address" in response.text
    assert len(inbox.messages) == 1  # the verification only


async def test_with_the_mail_server_down_the_answer_is_the_same_and_the_failure_logged(
    make_settings: object,
    backends: Backends,
    mail_client: MailClient,
    caplog: pytest.LogCaptureFixture,
) -> None:
    await _account(mail_client)
    assert callable(make_settings)
    down: Settings = make_settings(smtp_url=Secret(f"smtp://127.0.0.1:{free_port()}"))
    caplog.set_level(logging.ERROR, logger="gatepass.mail")
    async with web_client(down, backends) as browser:
        response = await _ask_reset(browser)
    assert response.status_code == 200
    assert "If an account uses that address" in response.text
    failures = [r for r in caplog.records if "not sent" in r.getMessage()]
    assert len(failures) == 1
    assert "reset-password" in failures[0].getMessage()
    assert "token" not in failures[0].getMessage()
