"""Idle timeout and absolute lifetime, enforced by the server (ASVS 7.3.1, 7.3.2).

Redis expires keys in real time, so these tests use short real lifetimes and sleep.
"""

import asyncio
from collections.abc import Callable

from gatepass.config import Settings
from tests.web.conftest import AppClient, Cores, is_signed_in, sign_up_as

IDLE = 3
ABSOLUTE = 7  # room for a slow machine: the requests below must all land before it


async def test_session_ends_after_the_idle_timeout_server_side__asvs_7_3_1(
    make_settings: Callable[..., Settings], app_client: AppClient, services: Cores
) -> None:
    settings = make_settings(session_idle_ttl=1, session_absolute_ttl=60)
    async with app_client(settings) as client:
        await sign_up_as(client, "ada@example.com")
        await asyncio.sleep(1.3)  # later only makes it more expired
        # The browser still holds the cookie; the server no longer honours it.
        assert client.cookies.get("gp_session")
        assert not await is_signed_in(client)
        user = await services.accounts.find("ada@example.com")
        assert user is not None
        assert await services.sessions.list_for_user(user.id) == []


async def test_activity_slides_the_idle_timeout_until_the_absolute_lifetime_ends_it__asvs_7_3_2(
    make_settings: Callable[..., Settings], app_client: AppClient
) -> None:
    settings = make_settings(session_idle_ttl=IDLE, session_absolute_ttl=ABSOLUTE)
    loop = asyncio.get_running_loop()
    async with app_client(settings) as client:
        await sign_up_as(client, "ada@example.com")
        signed_up = loop.time()  # the session began before this
        # Requests every second keep it alive past the idle timeout (IDLE after login)...
        for _ in range(IDLE + 1):
            await asyncio.sleep(1)
            assert await is_signed_in(client)
        # ...but not past the absolute lifetime, although the last activity is recent.
        await asyncio.sleep(max(0.0, signed_up + ABSOLUTE + 0.5 - loop.time()))
        assert loop.time() - signed_up < ABSOLUTE + IDLE  # the last request, within IDLE
        assert not await is_signed_in(client)
