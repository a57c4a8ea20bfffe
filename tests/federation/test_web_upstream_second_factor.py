"""A login at an upstream provider is a first factor: a user with TOTP is asked for a
code before the session starts, which then says amr fed+otp+mfa and keeps the idp."""

import time

import httpx
import pyotp

from tests.federation.conftest import CORP, RelyingParty, upstream_sign_in
from tests.support import csrf_of
from tests.web.conftest import SESSION, set_cookies

STEP = 30


def _code_after(secret: str, used_step: int) -> str:
    # A code works once: the next step's while still in the used one (one step of skew).
    return pyotp.TOTP(secret).at(max(int(time.time() // STEP), used_step + 1) * STEP)


async def _enrol(browser: httpx.AsyncClient) -> tuple[str, int]:
    page = await browser.get("/account/mfa/totp")
    secret = page.text.split('data-key="', 1)[1].split('"', 1)[0]
    step = int(time.time() // STEP)
    form = {"csrf_token": csrf_of(page.text), "code": pyotp.TOTP(secret).at(step * STEP)}
    assert (await browser.post("/account/mfa/totp", data=form)).status_code == 200
    return secret, step


async def test_an_upstream_login_of_a_user_with_totp_waits_for_the_code(rp: RelyingParty) -> None:
    async with rp.browser() as first:
        assert (await upstream_sign_in(first, "alice")).status_code == 303
        secret, used = await _enrol(first)
    async with rp.browser() as second:
        back = await upstream_sign_in(second, "alice")
        assert back.status_code == 303
        assert back.headers["location"] == "/login/verify"
        assert SESSION not in set_cookies(back)
        page = await second.get("/login/verify")
        form = {"csrf_token": csrf_of(page.text), "code": _code_after(secret, used)}
        done = await second.post("/login/verify", data=form)
        assert done.status_code == 303, done.text[:300]
        assert done.headers["location"] == "/account"
        assert (await second.get("/account")).status_code == 200
    user = await rp.backends.users.find_by_email("alice@example.com")
    assert user is not None
    sessions = await rp.backends.sessions.list_for_user(user.id, 0, 3600)
    assert sorted((s.amr, s.idp) for s in sessions) == [
        (("fed",), CORP),
        (("fed", "otp", "mfa"), CORP),
    ]
