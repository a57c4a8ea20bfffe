"""Changing the e-mail address: recent sign-in, the new address confirms, the old is told."""

import httpx
from sqlalchemy import text

from gatepass.audit.model import AuditEventType as Event
from gatepass.clock import FixedClock
from gatepass.config import Settings
from gatepass.storage.backends import Backends
from tests.lifecycle.conftest import (
    Inbox,
    MailClient,
    confirm,
    follow,
    link_in,
    text_of,
    user_named,
)
from tests.support import log_in, post_form, sign_up

OLD = "ada@example.com"
NEW = "ada@new.example"


async def _signed_up(browser: httpx.AsyncClient) -> None:
    assert (await sign_up(browser, OLD, name="Ada")).status_code == 303


async def _ask(browser: httpx.AsyncClient, email: str = NEW) -> httpx.Response:
    return await post_form(browser, "/account/email", {"email": email}, page="/account")


async def test_the_new_address_gets_a_link_and_the_old_one_a_notice(
    browser: httpx.AsyncClient, inbox: Inbox, backends: Backends
) -> None:
    await _signed_up(browser)
    response = await _ask(browser)
    assert response.status_code == 303
    assert response.headers["location"] == "/account?notice=email-change-sent"
    confirmation = inbox.last_to(NEW)
    assert confirmation["Subject"] == "Confirm your new e-mail address"
    assert link_in(confirmation).startswith("/confirm-email-change?token=")
    notice = inbox.last_to(OLD)
    assert notice["Subject"] == "A change of your e-mail address was requested"
    assert NEW in text_of(notice)
    assert "token=" not in text_of(notice)
    # Nothing changes before the new address confirms.
    assert (await user_named(backends, OLD)).email == OLD


async def test_confirming_makes_the_new_address_the_accounts_verified(
    browser: httpx.AsyncClient, inbox: Inbox, backends: Backends, mail_client: MailClient
) -> None:
    await _signed_up(browser)
    await _ask(browser)
    async with mail_client() as elsewhere:  # opened on another device: no session needed
        page = await follow(elsewhere, link_in(inbox.last_to(NEW)))
        assert NEW in page.text
        done = await confirm(elsewhere, page, "/confirm-email-change")
        assert done.status_code == 200
        assert (await log_in(elsewhere, NEW)).status_code == 303
    user = await user_named(backends, NEW)
    assert user.email_verified
    assert await backends.users.find_by_email(OLD) is None
    async with backends.engine.connect() as conn:
        rows = await conn.execute(text("SELECT type, detail FROM audit_events"))
        events = {(row[0], row[1]) for row in rows}
    assert (Event.EMAIL_CHANGE_REQUESTED, NEW) in events
    assert (Event.EMAIL_CHANGED, f"{OLD} -> {NEW}") in events


async def test_the_change_needs_a_recent_sign_in__asvs_7_5_1(
    browser: httpx.AsyncClient, inbox: Inbox, clock: FixedClock, settings: Settings
) -> None:
    await _signed_up(browser)
    clock.advance(settings.reauth_window_seconds + 1)
    response = await _ask(browser)
    assert response.status_code == 303
    assert response.headers["location"].startswith("/account/confirm")
    assert inbox.to(NEW) == []


async def test_a_taken_address_is_refused_clearly(
    browser: httpx.AsyncClient, inbox: Inbox, mail_client: MailClient
) -> None:
    async with mail_client() as other:
        assert (await sign_up(other, NEW)).status_code == 303
    await _signed_up(browser)
    response = await _ask(browser)
    assert response.status_code == 409
    assert "already exists" in response.text
    assert len(inbox.to(NEW)) == 1  # its own verification only


async def test_an_address_taken_before_the_confirmation_is_refused(
    browser: httpx.AsyncClient, inbox: Inbox, mail_client: MailClient, backends: Backends
) -> None:
    await _signed_up(browser)
    await _ask(browser)
    link = link_in(inbox.last_to(NEW))
    async with mail_client() as other:
        assert (await sign_up(other, NEW)).status_code == 303
    response = await confirm(browser, await follow(browser, link), "/confirm-email-change")
    assert response.status_code == 409
    assert (await user_named(backends, OLD)).email == OLD


async def test_the_link_works_once_and_expires(
    browser: httpx.AsyncClient, inbox: Inbox, clock: FixedClock
) -> None:
    await _signed_up(browser)
    await _ask(browser)
    link = link_in(inbox.last_to(NEW))
    page = await follow(browser, link)
    assert (await confirm(browser, page, "/confirm-email-change")).status_code == 200
    assert (await follow(browser, link)).status_code == 400

    await _ask(browser, "ada@third.example")
    later = link_in(inbox.last_to("ada@third.example"))
    clock.advance(24 * 3600 + 1)
    assert (await follow(browser, later)).status_code == 400


async def test_invalid_and_unchanged_addresses_are_refused(
    browser: httpx.AsyncClient, inbox: Inbox
) -> None:
    await _signed_up(browser)
    assert (await _ask(browser, "not an address")).status_code == 400
    assert (await _ask(browser, OLD.upper())).status_code == 400
    assert len(inbox.messages) == 1  # the sign-up's verification


async def test_the_change_form_needs_a_csrf_token(browser: httpx.AsyncClient) -> None:
    await _signed_up(browser)
    response = await browser.post("/account/email", data={"email": NEW})
    assert response.status_code == 403
