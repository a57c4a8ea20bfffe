"""`gatepass session list | revoke` and `user disable | delete` end real sessions.

Sessions live in SQL or in Redis, so the tests that end sessions run on SQLite,
PostgreSQL and Redis; listing and deleting, where both SQL stores share one code path
(checked by the storage contract tests), on SQLite and Redis. Sessions start in-process
on the same stores the command is pointed at; "ended" means the browser's cookie no
longer opens /account.
"""

from collections.abc import Awaitable, Callable

import pytest

from gatepass.accounts.model import User
from gatepass.clock import SystemClock
from gatepass.config import Settings
from gatepass.sessions.manager import StartedSession
from gatepass.storage.backends import Backends
from gatepass.web.app import build_services
from gatepass.web.state import Services
from tests.cli.conftest import Cli
from tests.support import PASSWORD, log_in, sign_up, web_client

CookieWorks = Callable[[str], Awaitable[bool]]


def services(settings: Settings, backends: Backends) -> Services:
    return build_services(settings, backends, SystemClock())


async def user_with_sessions(
    gp: Services, email: str, count: int
) -> tuple[User, list[StartedSession]]:
    user = await gp.accounts.sign_up(email, PASSWORD)
    started = [
        await gp.sessions.start(user.id, f"203.0.113.{n}", f"Browser/{n}") for n in range(count)
    ]
    return user, started


@pytest.mark.parametrize("backend", ["sqlite", "redis"])
async def test_session_list_json_shows_each_live_session_of_the_user(
    cli: Cli, settings: Settings, backends: Backends
) -> None:
    gp = services(settings, backends)
    ada, started = await user_with_sessions(gp, "ada@example.com", 2)
    await user_with_sessions(gp, "bob@example.com", 1)
    rows = await cli.json("session", "list", "--user", "ada@example.com")
    assert sorted(row["id"] for row in rows) == sorted(s.session.id for s in started)
    assert {row["user_id"] for row in rows} == {ada.id}
    assert {(row["address"], row["user_agent"]) for row in rows} == {
        ("203.0.113.0", "Browser/0"),
        ("203.0.113.1", "Browser/1"),
    }
    assert all(row["created_at"] and row["last_seen_at"] and row["expires_at"] for row in rows)
    # The listing shows handles, never the secret a browser holds.
    assert not {s.secret for s in started} & {row["id"] for row in rows}


async def test_session_revoke_by_id_ends_that_session_and_no_other(
    cli: Cli, settings: Settings, backends: Backends, session_cookie_works: CookieWorks
) -> None:
    gp = services(settings, backends)
    _, (first, second) = await user_with_sessions(gp, "ada@example.com", 2)
    assert await session_cookie_works(first.secret)
    await cli.ok("session", "revoke", "--id", first.session.id)
    assert not await session_cookie_works(first.secret)
    assert await session_cookie_works(second.secret)


async def test_session_revoke_by_user_ends_every_session_of_that_user_only(
    cli: Cli, settings: Settings, backends: Backends, session_cookie_works: CookieWorks
) -> None:
    gp = services(settings, backends)
    async with web_client(settings, backends) as browser:
        assert (await sign_up(browser, "ada@example.com")).status_code == 303
        assert (await browser.get("/account")).status_code == 200
        _, (bobs,) = await user_with_sessions(gp, "bob@example.com", 1)
        ada = await gp.accounts.find("ada@example.com")
        assert ada is not None
        await gp.sessions.start(ada.id, "198.51.100.7", "Phone/1")

        out = await cli.ok("session", "revoke", "--user", "ada@example.com")

        assert "ended 2 session(s)" in out
        assert (await browser.get("/account")).headers["location"].startswith("/login")
    assert await gp.sessions.list_for_user(ada.id) == []
    assert await session_cookie_works(bobs.secret)


async def test_user_disable_ends_the_sessions_and_the_user_cannot_log_in(
    cli: Cli, settings: Settings, backends: Backends
) -> None:
    gp = services(settings, backends)
    async with web_client(settings, backends) as browser:
        assert (await sign_up(browser, "ada@example.com")).status_code == 303
        ada = await gp.accounts.find("ada@example.com")
        assert ada is not None

        out = await cli.ok("user", "disable", "ada@example.com")

        # Ended by the command itself, before any request could notice the disabled user.
        assert "ended 1 session(s)" in out
        assert await gp.sessions.list_for_user(ada.id) == []
        assert (await browser.get("/account")).status_code == 303
        response = await log_in(browser, "ada@example.com")
        assert response.status_code == 200
        assert "Incorrect e-mail address or password." in response.text
        assert (await browser.get("/account")).status_code == 303
    disabled = await gp.accounts.get(ada.id)
    assert disabled is not None
    assert disabled.disabled


@pytest.mark.parametrize("backend", ["sqlite", "redis"])
async def test_user_delete_removes_the_user_and_ends_their_sessions(
    cli: Cli, settings: Settings, backends: Backends, session_cookie_works: CookieWorks
) -> None:
    gp = services(settings, backends)
    ada, (session,) = await user_with_sessions(gp, "ada@example.com", 1)
    bob, _ = await user_with_sessions(gp, "bob@example.com", 1)

    await cli.ok("user", "delete", "ada@example.com")

    assert await gp.accounts.find("ada@example.com") is None
    assert await gp.sessions.list_for_user(ada.id) == []
    assert not await session_cookie_works(session.secret)
    assert [u.id for u in await gp.accounts.list_all()] == [bob.id]
    async with web_client(settings, backends) as browser:
        assert (await log_in(browser, "ada@example.com")).status_code == 200
        assert (await browser.get("/account")).status_code == 303
