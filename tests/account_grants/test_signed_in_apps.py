"""The account page lists the user's signed-in apps (live grants) and revokes each one:
its refresh token and every access token it issued die; the consent stays."""

import re

import httpx

from gatepass.audit.model import AuditEventType
from gatepass.config import Settings
from gatepass.oauth.clients import Client
from gatepass.storage.backends import Backends
from tests.account_grants.conftest import (
    OFFLINE,
    MakeClient,
    assert_alive,
    assert_dead,
    refresh,
    tokens,
)
from tests.authorize.conftest import authorize_url, new_pkce, redirect_params
from tests.support import csrf_of, post_form, sign_up
from tests.web.conftest import AppClient, assert_clean_error, is_signed_in

REVOKE = "/account/grants/revoke"
FAMILY_IDS = re.compile(r'name="family_id" value="([^"]+)"')


def grants_table(page: str) -> str:
    """The "Signed-in apps" table of the account page ("" when there is none)."""
    match = re.search(r'<table class="grants">(.*?)</table>', page, re.S)
    return match.group(1) if match else ""


def rows(page: str) -> list[str]:
    return re.findall(r"<tr>(.*?)</tr>", grants_table(page), re.S)[1:]  # after the header


async def revoke(browser: httpx.AsyncClient, family_id: str) -> httpx.Response:
    return await post_form(browser, REVOKE, {"family_id": family_id}, page="/account")


async def grant_events(backends: Backends) -> list[str | None]:
    events = await backends.audit.recent()
    return [e.detail for e in events if e.type == AuditEventType.GRANT_REVOKED]


async def test_the_account_page_lists_a_grant_of_the_real_flow(
    browser: httpx.AsyncClient, photo_app: Client
) -> None:
    assert rows((await browser.get("/account")).text) == []
    issued = await tokens(browser, photo_app)

    page = (await browser.get("/account")).text

    [row] = rows(page)
    assert "Photo Printer" in row
    # The scopes in words, as on the consent page.
    assert "Your e-mail address" in row
    assert "Stay signed in when you are away" in row
    assert "<td>Yes</td>" in row  # it holds a refresh token
    assert FAMILY_IDS.findall(row) == [issued.family_id]
    assert f'action="{REVOKE}"' in row
    assert "can sign you in again without asking" in page


async def test_a_grant_without_refresh_token_cannot_stay_signed_in(
    browser: httpx.AsyncClient, photo_app: Client
) -> None:
    issued = await tokens(browser, photo_app, scope="openid email")
    assert issued.refresh_token is None
    [row] = rows((await browser.get("/account")).text)
    assert "No: its access ends" in row
    assert FAMILY_IDS.findall(row) == [issued.family_id]


async def test_the_last_used_grant_comes_first(
    browser: httpx.AsyncClient, photo_app: Client, make_app: MakeClient
) -> None:
    photo = await tokens(browser, photo_app)
    calendar = await tokens(browser, await make_app("Calendar"))
    # Using the photo app's refresh token makes it the last used.
    assert (await refresh(browser, photo)).status_code == 200
    listed = FAMILY_IDS.findall(grants_table((await browser.get("/account")).text))
    assert listed == [photo.family_id, calendar.family_id]


async def test_revoking_a_grant_kills_its_tokens_and_no_other(
    browser: httpx.AsyncClient, photo_app: Client, make_app: MakeClient, backends: Backends
) -> None:
    photo = await tokens(browser, photo_app)
    calendar = await tokens(browser, await make_app("Calendar"))
    await assert_alive(browser, photo)

    response = await revoke(browser, photo.family_id)

    assert response.status_code == 303
    assert response.headers["location"] == "/account?notice=grant-revoked"
    page = (await browser.get(response.headers["location"])).text
    assert "The application was signed out." in page
    assert FAMILY_IDS.findall(grants_table(page)) == [calendar.family_id]
    await assert_dead(browser, photo)
    await assert_alive(browser, calendar)
    assert (await refresh(browser, calendar)).status_code == 200
    assert await is_signed_in(browser)
    assert await grant_events(backends) == [f"client {photo_app.client_id}"]


async def test_revoking_a_grant_leaves_the_consent_alone(
    browser: httpx.AsyncClient, photo_app: Client
) -> None:
    issued = await tokens(browser, photo_app)
    await revoke(browser, issued.family_id)
    page = (await browser.get("/account")).text
    assert f'name="client_id" value="{photo_app.client_id}"' in page  # still allowed
    # The remembered consent answers the next authorization without asking.
    again = await browser.get(authorize_url(photo_app, new_pkce(), scope=OFFLINE))
    assert "code" in redirect_params(again)


async def test_a_revoked_grant_cannot_be_revoked_twice(
    browser: httpx.AsyncClient, photo_app: Client, backends: Backends
) -> None:
    issued = await tokens(browser, photo_app)
    assert (await revoke(browser, issued.family_id)).headers["location"].endswith("grant-revoked")
    second = await revoke(browser, issued.family_id)
    assert second.headers["location"] == "/account?notice=grant-not-found"
    notice = (await browser.get(second.headers["location"])).text
    assert "That application was already signed out." in notice
    assert len(await grant_events(backends)) == 1


async def test_one_user_cannot_revoke_anothers_grant(
    browser: httpx.AsyncClient,
    photo_app: Client,
    app_client: AppClient,
    settings: Settings,
    backends: Backends,
) -> None:
    adas = await tokens(browser, photo_app)
    async with app_client(settings, address="198.51.100.9") as other:
        assert (await sign_up(other, "mallory@example.com")).status_code == 303
        response = await revoke(other, adas.family_id)
        # Answered as for an unknown id: nothing says the family exists.
        assert response.status_code == 303
        assert response.headers["location"] == "/account?notice=grant-not-found"
        assert FAMILY_IDS.findall((await other.get("/account")).text) == []
    await assert_alive(browser, adas)
    assert FAMILY_IDS.findall(grants_table((await browser.get("/account")).text)) == [
        adas.family_id
    ]
    assert (await refresh(browser, adas)).status_code == 200
    assert await grant_events(backends) == []


async def test_revoking_needs_the_csrf_token_and_the_same_origin__asvs_3_5_1(
    browser: httpx.AsyncClient, photo_app: Client, settings: Settings
) -> None:
    issued = await tokens(browser, photo_app)
    token = csrf_of((await browser.get("/account")).text)

    missing = await browser.post(REVOKE, data={"family_id": issued.family_id})
    assert_clean_error(missing, 403)
    wrong = await browser.post(REVOKE, data={"family_id": issued.family_id, "csrf_token": "x"})
    assert_clean_error(wrong, 403)
    cross_site = await browser.post(
        REVOKE,
        data={"family_id": issued.family_id, "csrf_token": token},
        headers={"Origin": "https://evil.test"},
    )
    assert_clean_error(cross_site, 403)
    assert_clean_error(await browser.get(REVOKE), 405)

    await assert_alive(browser, issued)
    assert (await refresh(browser, issued)).status_code == 200


async def test_an_anonymous_visitor_is_sent_to_log_in_and_revokes_nothing(
    browser: httpx.AsyncClient, photo_app: Client, app_client: AppClient, settings: Settings
) -> None:
    issued = await tokens(browser, photo_app)
    async with app_client(settings) as anonymous:
        response = await post_form(
            anonymous, REVOKE, {"family_id": issued.family_id}, page="/login"
        )
        assert response.status_code == 303
        assert response.headers["location"].startswith("/login")
    await assert_alive(browser, issued)
    assert (await refresh(browser, issued)).status_code == 200


HOSTILE_IDS = ("", " ", "x" * 64, "x" * 65, "y" * 5000, "' OR 1=1 --", "é☃𝄞", "%00", "../x")


async def test_a_hostile_family_id_is_a_clean_not_found(
    browser: httpx.AsyncClient, photo_app: Client
) -> None:
    issued = await tokens(browser, photo_app)
    for family_id in HOSTILE_IDS:
        response = await revoke(browser, family_id)
        assert response.status_code == 303, (family_id[:20], response.text[:300])
        assert response.headers["location"] == "/account?notice=grant-not-found"
    await assert_alive(browser, issued)


async def test_a_family_id_with_a_nul_byte_is_a_clean_400(browser: httpx.AsyncClient) -> None:
    token = csrf_of((await browser.get("/account")).text)
    response = await browser.post(REVOKE, data={"family_id": "a\x00b", "csrf_token": token})
    assert_clean_error(response, 400)
