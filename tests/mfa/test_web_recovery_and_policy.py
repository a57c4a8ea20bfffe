"""Recovery codes at the second step, regenerating them, the `mfa_required` policy (enrol
at the first sign-in) and `gatepass user reset-mfa`, on every backend."""

from collections.abc import Callable

import httpx
import pytest

from gatepass.audit.model import AuditEventType as Event
from gatepass.clock import FixedClock
from gatepass.config import Settings
from gatepass.storage.backends import Backends
from tests.mfa.conftest import (
    audit_types,
    code_now,
    codes_on,
    enrol_totp,
    key_on,
    session_of,
    submit_verify,
)
from tests.support import csrf_of, log_in, post_form, sign_up, web_client
from tests.web.conftest import SESSION, run_cli, set_cookies

EMAIL = "noor@example.com"


async def _user_id(backends: Backends) -> str:
    user = await backends.users.find_by_email(EMAIL)
    assert user is not None
    return user.id


async def _log_out(http: httpx.AsyncClient) -> None:
    assert (await post_form(http, "/logout", {}, page="/account")).status_code == 303
    http.cookies.clear()


async def test_a_recovery_code_signs_in_once(
    browser: httpx.AsyncClient, backends: Backends, clock: FixedClock
) -> None:
    await sign_up(browser, EMAIL)
    enrolled = await enrol_totp(browser, clock)
    await _log_out(browser)
    code = enrolled.recovery_codes[3]
    await log_in(browser, EMAIL)
    used = await submit_verify(browser, recovery_code=code.upper().replace("-", " "))
    assert used.status_code == 303
    user_id = await _user_id(backends)
    session = await session_of(backends, used, user_id, clock)
    assert session.amr == ("pwd", "otp", "mfa")
    assert "9 of 10 left" in (await browser.get("/account")).text
    await _log_out(browser)
    await log_in(browser, EMAIL)
    again = await submit_verify(browser, recovery_code=code)
    assert again.status_code == 400
    assert SESSION not in set_cookies(again)
    types = await audit_types(backends, user_id)
    assert Event.RECOVERY_CODE_USED in types
    assert Event.MFA_FAILED in types


async def test_new_recovery_codes_replace_all_old_ones(
    browser: httpx.AsyncClient, backends: Backends, clock: FixedClock
) -> None:
    await sign_up(browser, EMAIL)
    old = (await enrol_totp(browser, clock)).recovery_codes
    page = await post_form(browser, "/account/mfa/recovery-codes", {}, page="/account")
    assert page.status_code == 200
    assert page.headers["cache-control"] == "no-store"
    new = codes_on(page.text)
    assert len(new) == 10
    assert not set(new) & set(old)
    await _log_out(browser)
    await log_in(browser, EMAIL)
    assert (await submit_verify(browser, recovery_code=old[0])).status_code == 400
    assert (await submit_verify(browser, recovery_code=new[0])).status_code == 303


async def test_new_recovery_codes_need_a_recent_sign_in(
    browser: httpx.AsyncClient, clock: FixedClock
) -> None:
    await sign_up(browser, EMAIL)
    await enrol_totp(browser, clock)
    clock.advance(601)
    later = await post_form(browser, "/account/mfa/recovery-codes", {}, page="/account")
    assert later.status_code == 303
    assert later.headers["location"].startswith("/account/confirm")


async def test_when_mfa_is_required_the_first_sign_in_enrols_before_any_session(
    make_settings: Callable[..., Settings], backends: Backends, clock: FixedClock
) -> None:
    settings = make_settings(mfa_required=True)
    async with web_client(settings, backends, clock=clock) as http:
        signed_up = await sign_up(http, EMAIL)
        assert signed_up.headers["location"] == "/login/enrol"
        assert SESSION not in set_cookies(signed_up)
        assert (await http.get("/account")).status_code == 303
        assert (await http.get("/login/verify")).headers["location"] == "/login/enrol"
        page = await http.get("/login/enrol")
        assert page.status_code == 200
        assert page.headers["cache-control"] == "no-store"
        secret = key_on(page.text)
        token = csrf_of(page.text)
        wrong = await http.post("/login/enrol", data={"csrf_token": token, "code": "000000"})
        assert wrong.status_code == 400
        assert SESSION not in set_cookies(wrong)
        done = await http.post(
            "/login/enrol", data={"csrf_token": token, "code": code_now(secret, clock)}
        )
        assert done.status_code == 200
        assert len(codes_on(done.text)) == 10
        session = await session_of(backends, done, await _user_id(backends), clock)
        assert session.amr == ("pwd", "otp", "mfa")
        assert (await http.get("/account")).status_code == 200
        # Required: the only factor cannot be removed.
        kept = await post_form(http, "/account/mfa/totp/remove", {}, page="/account")
        assert "totp-kept" in kept.headers["location"]
        assert "Set up" not in (await http.get("/account")).text


async def test_reset_mfa_removes_every_factor_and_is_audited(
    browser: httpx.AsyncClient,
    backends: Backends,
    clock: FixedClock,
    settings: Settings,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    await sign_up(browser, EMAIL)
    await enrol_totp(browser, clock)
    await _log_out(browser)
    assert await run_cli(settings, monkeypatch, "user", "reset-mfa", EMAIL) == 0
    assert "reset the second factors of noor@example.com" in capsys.readouterr().out
    user_id = await _user_id(backends)
    assert Event.MFA_RESET in await audit_types(backends, user_id)
    plain = await log_in(browser, EMAIL)
    assert plain.headers["location"] == "/account"
    assert SESSION in set_cookies(plain)
    assert "0 of 10 left" in (await browser.get("/account")).text


async def test_reset_mfa_of_an_unknown_user_fails_cleanly(
    settings: Settings, monkeypatch: pytest.MonkeyPatch, backends: Backends
) -> None:
    assert await run_cli(settings, monkeypatch, "user", "reset-mfa", "nobody@example.com") != 0
