"""Deleting your own account (issue 10): recent authentication, a typed confirmation,
everything signed in ends, personal data goes, the audit log keeps an anonymous record."""

from collections.abc import Callable

import httpx

from gatepass.audit.model import AuditEventType
from gatepass.clock import FixedClock
from gatepass.config import Settings
from tests.support import PASSWORD, log_in, post_form
from tests.web.conftest import (
    AppClient,
    Cores,
    assert_clean_error,
    carrying,
    is_signed_in,
    set_cookies,
    sign_up_as,
)

EMAIL = "ada@example.com"


async def _delete(client: httpx.AsyncClient, typed: str = EMAIL) -> httpx.Response:
    return await post_form(client, "/account/delete", {"confirm_email": typed}, page="/account")


async def test_deleting_removes_the_user_ends_every_session_and_scrubs_the_log(
    client: httpx.AsyncClient, services: Cores, second_device: AppClient
) -> None:
    secret = await sign_up_as(client, EMAIL)
    user = await services.accounts.find(EMAIL)
    assert user is not None
    async with second_device() as phone:
        await log_in(phone, EMAIL)
        assert await is_signed_in(phone)
        response = await _delete(client, " Ada@Example.com ")
        assert response.status_code == 200
        assert "was deleted" in response.text
        assert set_cookies(response)["gp_session"].value == ""  # cleared in the browser
        assert not await is_signed_in(phone)
    assert await services.accounts.find(EMAIL) is None
    assert not await is_signed_in(carrying(client, secret))
    events = await services.audit.recent()
    deleted = [e for e in events if e.type == AuditEventType.ACCOUNT_DELETED]
    assert [(e.user_id, e.email, e.address) for e in deleted] == [(user.id, None, None)]
    earlier = [e for e in events if e.user_id == user.id]
    assert len(earlier) >= 3  # signup, the phone's login, the deletion
    assert all(e.email is None and e.address is None and e.user_agent is None for e in earlier)
    assert not any(e.email == EMAIL for e in events)
    assert (await log_in(client, EMAIL)).status_code == 200  # the login form again


async def test_a_wrong_confirmation_deletes_nothing(
    client: httpx.AsyncClient, services: Cores
) -> None:
    await sign_up_as(client, EMAIL)
    response = await _delete(client, "someone@example.com")
    assert response.status_code == 303
    assert response.headers["location"] == "/account?notice=account-delete-unconfirmed#delete"
    page = await client.get(response.headers["location"])
    assert "Type your e-mail address to confirm the deletion." in page.text
    assert await services.accounts.find(EMAIL) is not None
    assert await is_signed_in(client)


async def test_a_sign_in_older_than_the_window_must_confirm_first__asvs_7_5_1(
    make_settings: Callable[..., Settings], app_client: AppClient, services: Cores
) -> None:
    clock = FixedClock()
    async with app_client(make_settings(reauth_window_seconds=60), clock=clock) as client:
        await sign_up_as(client, EMAIL)
        clock.advance(61)
        response = await _delete(client)
        assert response.status_code == 303
        assert response.headers["location"] == "/account/confirm?next=/account%23delete"
        assert await services.accounts.find(EMAIL) is not None
        confirmed = await post_form(
            client,
            "/account/confirm",
            {"password": PASSWORD, "next": "/account#delete"},
            page=response.headers["location"],
        )
        assert confirmed.headers["location"] == "/account#delete"
        assert (await _delete(client)).status_code == 200
        assert await services.accounts.find(EMAIL) is None


async def test_deleting_needs_the_csrf_token_and_a_session__asvs_3_5_1(
    client: httpx.AsyncClient, services: Cores
) -> None:
    await sign_up_as(client, EMAIL)
    forged = await client.post("/account/delete", data={"confirm_email": EMAIL})
    assert_clean_error(forged, 403)
    assert await services.accounts.find(EMAIL) is not None
    client.cookies.clear()
    anonymous = await post_form(client, "/account/delete", {"confirm_email": EMAIL}, page="/login")
    assert anonymous.status_code == 303
    assert anonymous.headers["location"].startswith("/login")
    assert await services.accounts.find(EMAIL) is not None
