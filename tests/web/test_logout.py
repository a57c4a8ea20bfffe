"""Logout deletes the server record; "log out everywhere" ends every session (ASVS 7.4.1, 7.5.2)."""

import re

import httpx
import pytest

from gatepass.config import Settings
from gatepass.crypto.secrets import digest
from tests.support import post_form
from tests.web.conftest import (
    SESSION,
    AppClient,
    Cores,
    carrying,
    is_signed_in,
    log_in_as,
    log_out,
    run_cli,
    set_cookies,
    sign_up_as,
)


async def test_logout_replay_is_anonymous_and_the_server_record_is_gone__asvs_7_4_1(
    client: httpx.AsyncClient, services: Cores
) -> None:
    secret = await sign_up_as(client, "ada@example.com")
    user = await services.accounts.find("ada@example.com")
    assert user is not None
    response = await log_out(client)
    assert response.headers["location"] == "/login"
    expired = set_cookies(response)[SESSION]
    assert expired.value == ""
    assert expired.attributes.get("max-age") == "0"
    assert await services.sessions.list_for_user(user.id) == []
    # The cookie jar restored, as an attacker who copied it would:
    assert not await is_signed_in(carrying(client, secret))
    assert digest(secret) not in {s.id for s in await services.sessions.list_for_user(user.id)}


async def test_logging_out_after_the_session_ended_goes_to_the_login_page(
    client: httpx.AsyncClient, services: Cores
) -> None:
    await sign_up_as(client, "ada@example.com")
    page = await client.get("/account")  # the page stays open in the browser...
    user = await services.accounts.find("ada@example.com")
    assert user is not None
    await services.sessions.end_all(user.id)  # ...while the session ends elsewhere
    token = re.search(r'name="csrf_token" value="([^"]+)"', page.text)
    assert token is not None
    response = await client.post("/logout", data={"csrf_token": token.group(1)})
    assert response.status_code == 303
    assert response.headers["location"] == "/login"
    assert set_cookies(response)[SESSION].value == ""


async def test_log_out_everywhere_ends_every_session_of_the_user_and_no_one_elses__asvs_7_4_5(
    client: httpx.AsyncClient, second_device: AppClient, services: Cores
) -> None:
    await sign_up_as(client, "ada@example.com")
    async with (
        second_device() as ada_phone,
        second_device(address="198.51.100.3") as bob,
    ):
        await log_in_as(ada_phone, "ada@example.com")
        await sign_up_as(bob, "bob@example.com")
        response = await post_form(client, "/account/logout-everywhere", {}, page="/account")
        assert response.status_code == 303
        assert set_cookies(response)[SESSION].attributes.get("max-age") == "0"
        assert not await is_signed_in(client)
        assert not await is_signed_in(ada_phone)
        assert await is_signed_in(bob)
    ada = await services.accounts.find("ada@example.com")
    assert ada is not None
    assert await services.sessions.list_for_user(ada.id) == []


async def test_admin_session_revoke_for_a_user_ends_all_their_sessions__issue_2_cli(
    client: httpx.AsyncClient,
    second_device: AppClient,
    settings: Settings,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    await sign_up_as(client, "ada@example.com")
    async with second_device() as phone:
        await log_in_as(phone, "ada@example.com")
        code = await run_cli(
            settings, monkeypatch, "session", "revoke", "--user", "ada@example.com"
        )
        assert code == 0
        assert not await is_signed_in(client)
        assert not await is_signed_in(phone)
