"""Ending everything a user is signed in with also signs out every app (ASVS 7.4.2, 7.4.3;
SECURITY.md SS-11, SS-12): log out everywhere, a password change that logs out the other
sessions, and the operator's `user disable`, `user delete` and `session revoke --user`."""

import httpx
import pytest

from gatepass.config import Settings
from gatepass.oauth.clients import Client
from tests.account_grants.conftest import (
    EMAIL,
    MakeClient,
    assert_alive,
    assert_dead,
    refresh,
    tokens,
    userinfo,
)
from tests.support import PASSWORD, post_form, sign_up
from tests.web.conftest import AppClient, is_signed_in, run_cli

NEW_PASSWORD = "a brand new passphrase"


async def change_password(browser: httpx.AsyncClient, *, end_others: bool) -> httpx.Response:
    form = {"current_password": PASSWORD, "new_password": NEW_PASSWORD}
    if end_others:
        form["end_other_sessions"] = "on"
    response = await post_form(browser, "/account/password", form, page="/account")
    assert response.status_code == 303, response.text[:300]
    return response


async def test_log_out_everywhere_signs_out_every_app_of_the_user_only(
    browser: httpx.AsyncClient,
    photo_app: Client,
    make_app: MakeClient,
    app_client: AppClient,
    settings: Settings,
) -> None:
    photo = await tokens(browser, photo_app)
    calendar = await tokens(browser, await make_app("Calendar"))
    async with app_client(settings, address="198.51.100.9") as other:
        assert (await sign_up(other, "bob@example.com")).status_code == 303
        bobs = await tokens(other, photo_app)

        response = await post_form(browser, "/account/logout-everywhere", {}, page="/account")

        assert response.status_code == 303
        assert not await is_signed_in(browser)
        await assert_dead(browser, photo)
        await assert_dead(browser, calendar)
        await assert_alive(other, bobs)
        assert (await refresh(other, bobs)).status_code == 200


async def test_a_password_change_logging_out_other_sessions_signs_out_every_app__asvs_7_4_3(
    browser: httpx.AsyncClient, photo_app: Client
) -> None:
    issued = await tokens(browser, photo_app)

    response = await change_password(browser, end_others=True)

    assert response.headers["location"] == "/account?notice=password-changed"
    # This browser stays signed in (on a new session id); the app does not.
    assert await is_signed_in(browser)
    await assert_dead(browser, issued)
    assert 'name="family_id"' not in (await browser.get("/account")).text


async def test_a_password_change_keeping_other_sessions_keeps_the_apps(
    browser: httpx.AsyncClient, photo_app: Client
) -> None:
    """The box unticked keeps everything else signed in, apps included: the form says so."""
    issued = await tokens(browser, photo_app)
    page = (await browser.get("/account")).text
    assert "Log out my other sessions and signed-in apps" in page
    await change_password(browser, end_others=False)
    await assert_alive(browser, issued)
    assert (await refresh(browser, issued)).status_code == 200


async def test_user_disable_revokes_every_grant_for_good__asvs_7_4_2(
    browser: httpx.AsyncClient,
    photo_app: Client,
    settings: Settings,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    issued = await tokens(browser, photo_app)

    assert await run_cli(settings, monkeypatch, "user", "disable", EMAIL) == 0
    assert "ended 1 session(s) and revoked 1 app grant(s)" in capsys.readouterr().out
    assert (await userinfo(browser, issued)).status_code == 401

    # Not merely refused while disabled: enabling the user again brings no token back.
    # (The refresh token is first tried here: a refresh while disabled would revoke the
    # family by itself, and prove nothing about the command.)
    assert await run_cli(settings, monkeypatch, "user", "enable", EMAIL) == 0
    await assert_dead(browser, issued)


async def test_session_revoke_for_a_user_revokes_their_grants_too(
    browser: httpx.AsyncClient,
    photo_app: Client,
    settings: Settings,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    issued = await tokens(browser, photo_app)
    assert await run_cli(settings, monkeypatch, "session", "revoke", "--user", EMAIL) == 0
    out = capsys.readouterr().out
    assert f"{EMAIL}: ended 1 session(s) and revoked 1 app grant(s)" in out
    assert not await is_signed_in(browser)
    await assert_dead(browser, issued)


async def test_user_delete_revokes_their_grants_before_the_user_goes(
    browser: httpx.AsyncClient,
    photo_app: Client,
    settings: Settings,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    issued = await tokens(browser, photo_app)
    assert await run_cli(settings, monkeypatch, "user", "delete", EMAIL) == 0
    assert "ended 1 session(s) and revoked 1 app grant(s)" in capsys.readouterr().out
    await assert_dead(browser, issued)


async def test_deleting_your_own_account_signs_out_every_app_first(
    browser: httpx.AsyncClient, photo_app: Client
) -> None:
    issued = await tokens(browser, photo_app)
    response = await post_form(
        browser, "/account/delete", {"confirm_email": EMAIL}, page="/account"
    )
    assert response.status_code == 200, response.text[:300]
    assert "was deleted" in response.text
    await assert_dead(browser, issued)
