"""The account page lists a user's sessions and revokes any one of them (ASVS 7.4.5, 7.1.2)."""

import re
from collections.abc import Callable

import httpx

from gatepass.audit.model import AuditEventType
from gatepass.config import Settings
from gatepass.crypto.secrets import digest
from gatepass.storage.backends import Backends
from tests.support import post_form
from tests.web.conftest import (
    SESSION,
    AppClient,
    Cores,
    is_signed_in,
    log_in_as,
    set_cookies,
    sign_up_as,
)

SESSION_IDS = re.compile(r'name="session_id" value="([^"]+)"')


async def _events(backends: Backends, kind: AuditEventType) -> int:
    return sum(1 for e in await backends.audit.recent() if e.type == kind)


async def test_account_lists_every_session_with_device_address_and_this_session__issue_2(
    client: httpx.AsyncClient, second_device: AppClient
) -> None:
    await sign_up_as(client, "ada@example.com")
    async with second_device(user_agent="AdaPhone/1.0") as phone:
        phone_secret = await log_in_as(phone, "ada@example.com")
    page = (await client.get("/account")).text
    assert SESSION_IDS.findall(page).count(digest(phone_secret)) == 1
    assert len(SESSION_IDS.findall(page)) == 2
    assert "AdaPhone/1.0" in page
    assert "198.51.100.2" in page
    assert "127.0.0.1" in page
    assert page.count("(this session)") == 1


async def test_revoking_another_session_ends_it_and_keeps_this_one__asvs_7_4_5(
    client: httpx.AsyncClient, second_device: AppClient, backends: Backends
) -> None:
    await sign_up_as(client, "ada@example.com")
    async with second_device() as phone:
        phone_secret = await log_in_as(phone, "ada@example.com")
        response = await post_form(
            client,
            "/account/sessions/revoke",
            {"session_id": digest(phone_secret)},
            page="/account",
        )
        assert response.status_code == 303
        assert not await is_signed_in(phone)
    assert await is_signed_in(client)
    assert await _events(backends, AuditEventType.SESSION_REVOKED) == 1


async def test_revoking_this_session_logs_this_browser_out__asvs_7_4_5(
    client: httpx.AsyncClient,
) -> None:
    secret = await sign_up_as(client, "ada@example.com")
    response = await post_form(
        client, "/account/sessions/revoke", {"session_id": digest(secret)}, page="/account"
    )
    assert response.status_code == 303
    assert response.headers["location"] == "/login"
    assert set_cookies(response)[SESSION].attributes.get("max-age") == "0"
    assert not await is_signed_in(client)


async def test_another_users_session_cannot_be_revoked__asvs_7_4_5(
    client: httpx.AsyncClient, second_device: AppClient, backends: Backends
) -> None:
    await sign_up_as(client, "ada@example.com")
    async with second_device() as bob:
        bob_secret = await sign_up_as(bob, "bob@example.com")
        response = await post_form(
            client, "/account/sessions/revoke", {"session_id": digest(bob_secret)}, page="/account"
        )
        assert response.status_code == 303
        assert response.headers["location"] == "/account?notice=session-not-found"
        assert "already ended" in (await client.get(response.headers["location"])).text
        assert await is_signed_in(bob)
    assert await is_signed_in(client)
    assert await _events(backends, AuditEventType.SESSION_REVOKED) == 0


async def test_logins_beyond_the_session_limit_evict_the_oldest_session__asvs_7_1_2(
    make_settings: Callable[..., Settings], app_client: AppClient, services: Cores
) -> None:
    settings = make_settings(max_sessions_per_user=2)
    async with (
        app_client(settings) as first,
        app_client(settings) as second,
        app_client(settings) as third,
    ):
        await sign_up_as(first, "ada@example.com")
        await log_in_as(second, "ada@example.com")
        await log_in_as(third, "ada@example.com")
        assert not await is_signed_in(first)
        assert await is_signed_in(second)
        assert await is_signed_in(third)
    user = await services.accounts.find("ada@example.com")
    assert user is not None
    assert len(await services.sessions.list_for_user(user.id)) == 2


async def test_disabling_a_user_ends_their_live_session_at_once__asvs_7_4_2(
    client: httpx.AsyncClient, services: Cores
) -> None:
    await sign_up_as(client, "ada@example.com")
    user = await services.accounts.find("ada@example.com")
    assert user is not None
    await services.accounts.set_disabled(user, True)  # not even ending the sessions
    assert not await is_signed_in(client)
    assert await services.sessions.list_for_user(user.id) == []
