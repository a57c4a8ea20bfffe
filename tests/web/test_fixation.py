"""Session fixation: a session ID the browser brought never becomes authenticated (ASVS 7.2.4)."""

import httpx

from gatepass.crypto.secrets import new_secret
from tests.support import PASSWORD, csrf_of, log_in
from tests.web.conftest import (
    CSRF,
    SESSION,
    AppClient,
    carrying,
    is_signed_in,
    log_out,
    session_set_by,
    sign_up_as,
)


async def test_planted_or_anonymous_cookie_values_are_never_adopted_at_login__asvs_7_2_4(
    client: httpx.AsyncClient, second_device: AppClient
) -> None:
    await sign_up_as(client, "ada@example.com")
    await log_out(client)
    anonymous = client.cookies.get(CSRF)  # the anonymous visitor's own cookie
    assert anonymous, "the anonymous visitor got no CSRF cookie"
    planted = new_secret()  # well-formed, so only the store can tell it is unknown
    carrying(client, planted)
    assert not await is_signed_in(client)
    issued = session_set_by(await log_in(client, "ada@example.com", PASSWORD))
    assert issued not in (planted, anonymous)
    async with second_device() as attacker:
        for value in (planted, anonymous):
            assert not await is_signed_in(carrying(attacker, value))


async def test_login_over_a_live_session_issues_a_new_id_and_ends_the_old_one__asvs_7_2_4(
    client: httpx.AsyncClient, second_device: AppClient
) -> None:
    old = await sign_up_as(client, "ada@example.com")
    # Logged in already, the login form is reached with the token of the live session.
    token = csrf_of((await client.get("/account")).text)
    response = await client.post(
        "/login", data={"csrf_token": token, "email": "ada@example.com", "password": PASSWORD}
    )
    assert response.status_code == 303
    new = session_set_by(response)
    assert new != old
    assert await is_signed_in(client)
    async with second_device() as replay:
        assert not await is_signed_in(carrying(replay, old))


async def test_sign_up_never_adopts_the_session_id_the_browser_brought__asvs_7_2_4(
    client: httpx.AsyncClient,
) -> None:
    planted = new_secret()
    carrying(client, planted)
    issued = await sign_up_as(client, "ada@example.com")
    assert issued != planted
    assert client.cookies.get(SESSION) == issued
