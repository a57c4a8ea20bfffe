"""TOTP through the real app on every backend: enrolment on the account page, the
second step of a sign-in, single use, the skew, throttling (docs/mfa.md)."""

import httpx
from sqlalchemy import text

from gatepass.audit.model import AuditEventType as Event
from gatepass.clock import FixedClock
from gatepass.storage.backends import Backends
from tests.mfa.conftest import (
    audit_types,
    code_now,
    enrol_totp,
    key_on,
    session_of,
    submit_verify,
)
from tests.support import csrf_of, log_in, post_form, sign_up
from tests.web.conftest import SESSION, set_cookies

EMAIL = "mia@example.com"


async def _signed_up(http: httpx.AsyncClient, backends: Backends) -> str:
    assert (await sign_up(http, EMAIL)).status_code == 303
    user = await backends.users.find_by_email(EMAIL)
    assert user is not None
    return user.id


async def _log_out(http: httpx.AsyncClient) -> None:
    assert (await post_form(http, "/logout", {}, page="/account")).status_code == 303
    http.cookies.clear()


async def _enrolled_and_signed_out(
    http: httpx.AsyncClient, backends: Backends, clock: FixedClock
) -> tuple[str, str, list[str]]:
    user_id = await _signed_up(http, backends)
    enrolled = await enrol_totp(http, clock)
    await _log_out(http)
    clock.advance(30)  # the enrolment's code is used up; the next step's is fresh
    return user_id, enrolled.secret, enrolled.recovery_codes


async def test_the_setup_page_shows_a_qr_code_and_the_key_and_is_never_cached(
    browser: httpx.AsyncClient, backends: Backends
) -> None:
    await _signed_up(browser, backends)
    page = await browser.get("/account/mfa/totp")
    assert page.status_code == 200
    assert page.headers["cache-control"] == "no-store"
    assert "<svg" in page.text
    assert len(key_on(page.text)) == 32
    # Shown again (same enrolment), not a new secret each time the page loads.
    assert key_on((await browser.get("/account/mfa/totp")).text) == key_on(page.text)


async def test_enrolment_is_confirmed_by_a_first_code_and_shows_ten_recovery_codes(
    browser: httpx.AsyncClient, backends: Backends, clock: FixedClock
) -> None:
    user_id = await _signed_up(browser, backends)
    page = await browser.get("/account/mfa/totp")
    wrong = await browser.post(
        "/account/mfa/totp", data={"csrf_token": csrf_of(page.text), "code": "000000"}
    )
    assert wrong.status_code == 400
    assert "not right" in wrong.text
    assert "<td>Off</td>" in (await browser.get("/account")).text  # unconfirmed: no factor
    enrolled = await enrol_totp(browser, clock)
    assert len(set(enrolled.recovery_codes)) == 10
    account = await browser.get("/account")
    assert "10 of 10 left" in account.text
    types = await audit_types(backends, user_id)
    assert Event.TOTP_ENROLLED in types
    assert Event.RECOVERY_CODES_GENERATED in types


async def test_the_secret_is_sealed_at_rest(
    browser: httpx.AsyncClient, backends: Backends, clock: FixedClock
) -> None:
    user_id = await _signed_up(browser, backends)
    enrolled = await enrol_totp(browser, clock)
    async with backends.engine.connect() as conn:
        stored = (
            await conn.execute(
                text("SELECT sealed_secret FROM totp_factors WHERE user_id = :u"), {"u": user_id}
            )
        ).scalar_one()
        digests = (await conn.execute(text("SELECT digest FROM recovery_codes"))).scalars().all()
    assert enrolled.secret not in stored
    assert stored.startswith("v1.")
    for code in enrolled.recovery_codes:
        assert all(code.replace("-", "") not in d for d in digests)


async def test_a_password_alone_no_longer_signs_in_a_code_does(
    browser: httpx.AsyncClient, backends: Backends, clock: FixedClock
) -> None:
    user_id, secret, _ = await _enrolled_and_signed_out(browser, backends, clock)
    first = await log_in(browser, EMAIL)
    assert first.status_code == 303
    assert first.headers["location"] == "/login/verify"
    assert SESSION not in set_cookies(first)
    assert (await browser.get("/account")).status_code == 303  # not signed in yet
    step = await browser.get("/login/verify")
    assert 'name="code"' in step.text
    assert "Use a passkey" not in step.text  # no passkey enrolled: no passkey button
    answer = await submit_verify(browser, code=code_now(secret, clock))
    assert answer.status_code == 303
    assert answer.headers["location"] == "/account"
    session = await session_of(backends, answer, user_id, clock)
    assert session.amr == ("pwd", "otp", "mfa")
    assert (await browser.get("/account")).status_code == 200
    assert Event.MFA_SUCCEEDED in await audit_types(backends, user_id)


async def test_a_code_works_once(
    browser: httpx.AsyncClient, backends: Backends, clock: FixedClock
) -> None:
    user_id, secret, _ = await _enrolled_and_signed_out(browser, backends, clock)
    code = code_now(secret, clock)
    await log_in(browser, EMAIL)
    assert (await submit_verify(browser, code=code)).status_code == 303
    await _log_out(browser)
    await log_in(browser, EMAIL)
    again = await submit_verify(browser, code=code)
    assert again.status_code == 400
    assert SESSION not in set_cookies(again)
    assert Event.MFA_FAILED in await audit_types(backends, user_id)


async def test_a_code_beyond_the_one_step_skew_is_refused(
    browser: httpx.AsyncClient, backends: Backends, clock: FixedClock
) -> None:
    _, secret, _ = await _enrolled_and_signed_out(browser, backends, clock)
    await log_in(browser, EMAIL)
    stale = code_now(secret, clock, offset_seconds=-61)  # two steps back at least
    fresh = {code_now(secret, clock, d) for d in (-30, 0, 30)}
    assert stale not in fresh
    assert (await submit_verify(browser, code=stale)).status_code == 400
    future = code_now(secret, clock, offset_seconds=61)
    assert future not in fresh
    assert (await submit_verify(browser, code=future)).status_code == 400
    assert (await submit_verify(browser, code=code_now(secret, clock))).status_code == 303


async def test_guessing_codes_is_throttled_even_the_right_one_then(
    browser: httpx.AsyncClient, backends: Backends, clock: FixedClock
) -> None:
    user_id, secret, _ = await _enrolled_and_signed_out(browser, backends, clock)
    await log_in(browser, EMAIL)
    right = code_now(secret, clock)
    wrong = "999999" if right != "999999" else "111111"
    for _ in range(10):  # login_account_limit
        assert (await submit_verify(browser, code=wrong)).status_code == 400
    throttled = await submit_verify(browser, code=right)
    assert throttled.status_code == 429
    assert int(throttled.headers["retry-after"]) > 0
    assert SESSION not in set_cookies(throttled)
    assert Event.MFA_THROTTLED in await audit_types(backends, user_id)


async def test_a_pending_sign_in_expires(
    browser: httpx.AsyncClient, backends: Backends, clock: FixedClock
) -> None:
    _, secret, _ = await _enrolled_and_signed_out(browser, backends, clock)
    await log_in(browser, EMAIL)
    clock.advance(301)
    page = await browser.get("/login/verify")
    assert page.status_code == 400
    assert "took too long" in page.text
    assert 'href="/login' in page.text
    token = csrf_of((await browser.get("/login")).text)
    answer = await browser.post(
        "/login/verify", data={"csrf_token": token, "code": code_now(secret, clock)}
    )
    assert answer.status_code == 400
    assert SESSION not in set_cookies(answer)


async def test_no_or_a_forged_pending_sign_in_gets_a_clear_page(
    browser: httpx.AsyncClient,
) -> None:
    page = await browser.get("/login/verify")
    assert page.status_code == 400
    assert "sign in again" in page.text.lower()
    browser.cookies.set("gp_mfa", "A" * 80, domain="127.0.0.1")
    token = csrf_of((await browser.get("/login")).text)
    forged = await browser.post("/login/verify", data={"csrf_token": token, "code": "123456"})
    assert forged.status_code == 400
    assert (await browser.get("/login/enrol")).status_code == 400


async def test_the_verify_form_refuses_a_missing_csrf_token(
    browser: httpx.AsyncClient, backends: Backends, clock: FixedClock
) -> None:
    _, secret, _ = await _enrolled_and_signed_out(browser, backends, clock)
    await log_in(browser, EMAIL)
    answer = await browser.post("/login/verify", data={"code": code_now(secret, clock)})
    assert answer.status_code == 403


async def test_removing_totp_needs_a_recent_sign_in_then_a_password_suffices(
    browser: httpx.AsyncClient, backends: Backends, clock: FixedClock
) -> None:
    user_id = await _signed_up(browser, backends)
    await enrol_totp(browser, clock)
    clock.advance(601)
    later = await post_form(browser, "/account/mfa/totp/remove", {}, page="/account")
    assert later.status_code == 303
    assert later.headers["location"].startswith("/account/confirm")
    clock.advance(-601)  # as if within the window again
    removed = await post_form(browser, "/account/mfa/totp/remove", {}, page="/account")
    assert removed.headers["location"].startswith("/account?notice=totp-removed")
    assert Event.TOTP_REMOVED in await audit_types(backends, user_id)
    await _log_out(browser)
    plain = await log_in(browser, EMAIL)
    assert plain.headers["location"] == "/account"
    assert SESSION in set_cookies(plain)
