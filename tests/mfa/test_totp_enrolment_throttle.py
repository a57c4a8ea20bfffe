"""Guessing codes while setting up TOTP is throttled like every other guess, and the 429
says when to try again (`Retry-After`, as docs/openapi.yaml documents for every 429):
on the account page and at the enrolment a required MFA makes part of the first sign-in."""

from collections.abc import Callable

import httpx

from gatepass.clock import FixedClock
from gatepass.config import Settings
from gatepass.storage.backends import Backends
from tests.support import csrf_of, sign_up, web_client

EMAIL = "tess@example.com"
GUESSES = 10  # login_account_limit


async def _guess_until_throttled(http: httpx.AsyncClient, path: str, page: str) -> httpx.Response:
    token = csrf_of((await http.get(page)).text)
    for _ in range(GUESSES):
        wrong = await http.post(path, data={"csrf_token": token, "code": "000000"})
        assert wrong.status_code == 400
    return await http.post(path, data={"csrf_token": token, "code": "000000"})


async def test_a_throttled_enrolment_on_the_account_page_says_when_to_retry(
    browser: httpx.AsyncClient, backends: Backends
) -> None:
    assert (await sign_up(browser, EMAIL)).status_code == 303
    throttled = await _guess_until_throttled(browser, "/account/mfa/totp", page="/account/mfa/totp")
    assert throttled.status_code == 429
    assert int(throttled.headers["retry-after"]) > 0
    assert throttled.headers["cache-control"] == "no-store"


async def test_a_throttled_enrolment_at_sign_in_says_when_to_retry(
    make_settings: Callable[..., Settings], backends: Backends, clock: FixedClock
) -> None:
    settings = make_settings(mfa_required=True)
    async with web_client(settings, backends, clock=clock) as http:
        assert (await sign_up(http, EMAIL)).headers["location"] == "/login/enrol"
        throttled = await _guess_until_throttled(http, "/login/enrol", page="/login/enrol")
        assert throttled.status_code == 429
        assert int(throttled.headers["retry-after"]) > 0
