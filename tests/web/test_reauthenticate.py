"""`/account/confirm`: proving who you are again before a sensitive change (ASVS 7.5.1,
7.2.4 "including re-authentication")."""

from collections.abc import Callable

import httpx

from gatepass.audit.model import AuditEventType
from gatepass.clock import FixedClock
from gatepass.config import Settings
from gatepass.web.recent_auth import is_recent
from tests.support import post_form
from tests.web.conftest import (
    AppClient,
    Cores,
    assert_clean_error,
    carrying,
    is_signed_in,
    session_set_by,
    sign_up_as,
)


async def _confirm(client: httpx.AsyncClient, password: str, next_path: str) -> httpx.Response:
    return await post_form(
        client,
        "/account/confirm",
        {"password": password, "next": next_path},
        page=f"/account/confirm?next={next_path}",
    )


async def _events(services: Cores, kind: AuditEventType) -> int:
    return sum(1 for e in await services.audit.recent() if e.type == kind)


async def test_the_right_password_starts_a_new_session_and_goes_on__asvs_7_2_4(
    client: httpx.AsyncClient, services: Cores
) -> None:
    old = await sign_up_as(client, "ada@example.com")
    response = await _confirm(client, "correct horse battery staple", "/account?x=1")
    assert response.status_code == 303
    assert response.headers["location"] == "/account?x=1"
    new = session_set_by(response)
    assert new != old
    assert await is_signed_in(client)
    assert not await is_signed_in(carrying(client, old))  # the old ID is dead at once
    assert await _events(services, AuditEventType.REAUTHENTICATED) == 1


async def test_a_wrong_password_changes_nothing_and_is_audited(
    client: httpx.AsyncClient, services: Cores
) -> None:
    secret = await sign_up_as(client, "ada@example.com")
    response = await _confirm(client, "not the password at all", "/account")
    assert_clean_error(response, 400)
    assert "not correct" in response.text
    assert "gp_session" not in response.headers.get("set-cookie", "")
    assert await is_signed_in(carrying(client, secret))
    assert await _events(services, AuditEventType.REAUTHENTICATED) == 0
    failed = [e for e in await services.audit.recent() if e.type == AuditEventType.LOGIN_FAILED]
    assert [e.detail for e in failed] == ["reauthentication"]


async def test_guessing_at_the_confirm_page_is_throttled_like_a_login__asvs_6_3_1(
    make_settings: Callable[..., Settings], app_client: AppClient
) -> None:
    async with app_client(make_settings(login_account_limit=3)) as client:
        await sign_up_as(client, "ada@example.com")
        statuses = [
            (await _confirm(client, f"wrong guess {i}", "/account")).status_code for i in range(5)
        ]
        assert statuses[:3] == [400, 400, 400]
        assert statuses[3:] == [429, 429]


async def test_an_anonymous_visitor_is_sent_to_log_in(client: httpx.AsyncClient) -> None:
    response = await client.get("/account/confirm?next=/account")
    assert response.status_code == 303
    assert response.headers["location"].startswith("/login?next=/account")


async def test_confirming_without_the_csrf_token_is_refused__asvs_3_5_1(
    client: httpx.AsyncClient,
) -> None:
    await sign_up_as(client, "ada@example.com")
    response = await client.post(
        "/account/confirm", data={"password": "correct horse battery staple"}
    )
    assert_clean_error(response, 403)


async def test_an_offsite_next_falls_back_to_the_account_page(client: httpx.AsyncClient) -> None:
    await sign_up_as(client, "ada@example.com")
    response = await _confirm(client, "correct horse battery staple", "//evil.test/")
    assert response.headers["location"] == "/account"


async def test_the_window_opens_again_after_confirming(
    make_settings: Callable[..., Settings], app_client: AppClient
) -> None:
    clock = FixedClock()
    settings = make_settings(reauth_window_seconds=60)
    async with app_client(settings, clock=clock) as client:
        await sign_up_as(client, "ada@example.com")
        gp = client._transport.app.state.gatepass  # type: ignore[attr-defined]
        user = await gp.accounts.find("ada@example.com")
        [session] = await gp.sessions.list_for_user(user.id)
        assert is_recent(gp, session)
        clock.advance(61)
        [session] = await gp.sessions.list_for_user(user.id)
        assert not is_recent(gp, session)
        await _confirm(client, "correct horse battery staple", "/account")
        [session] = await gp.sessions.list_for_user(user.id)
        assert is_recent(gp, session)
