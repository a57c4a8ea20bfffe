"""CSRF: every state-changing form needs a session-bound token and our own origin (ASVS 3.5)."""

from urllib.parse import urlencode

import httpx

from gatepass.config import Settings
from gatepass.crypto.secrets import digest
from gatepass.storage.backends import Backends
from tests.support import PASSWORD, csrf_of
from tests.web.conftest import (
    AppClient,
    Cores,
    assert_clean_error,
    count_users,
    is_signed_in,
    sign_up_as,
)

EVIL = "https://evil.test"
FORM = "application/x-www-form-urlencoded"


def _forms(secret: str) -> dict[str, dict[str, str]]:
    """Every state-changing form of the site, filled in as its owner would."""
    return {
        "/logout": {},
        "/account/logout-everywhere": {},
        "/account/sessions/revoke": {"session_id": digest(secret)},
        "/account/consents/revoke": {"client_id": "gpc_" + "a" * 43},
        "/account/grants/revoke": {"family_id": "0" * 32},
        "/account/password": {"current_password": PASSWORD, "new_password": "a brand new one"},
        "/login": {"email": "ada@example.com", "password": PASSWORD},
        "/signup": {"email": "eve@example.com", "password": "a fine passphrase"},
    }


async def _post(
    client: httpx.AsyncClient, path: str, form: dict[str, str], **headers: str
) -> httpx.Response:
    """POST like a browser does: urlencoded, with a Content-Type even for an empty form."""
    body = urlencode(form).encode()
    return await client.post(path, content=body, headers={"content-type": FORM, **headers})


async def _assert_nothing_changed(
    client: httpx.AsyncClient, services: Cores, backends: Backends, hash_before: str | None
) -> None:
    assert await is_signed_in(client)
    user = await services.accounts.find("ada@example.com")
    assert user is not None
    assert user.password_hash == hash_before
    assert len(await services.sessions.list_for_user(user.id)) == 1
    assert await count_users(backends) == 1


async def _signed_in(client: httpx.AsyncClient, services: Cores) -> tuple[str, str | None, str]:
    secret = await sign_up_as(client, "ada@example.com")
    user = await services.accounts.find("ada@example.com")
    assert user is not None
    token = csrf_of((await client.get("/account")).text)
    return secret, user.password_hash, token


async def test_forms_without_a_csrf_token_are_refused__asvs_3_5_1(
    client: httpx.AsyncClient, services: Cores, backends: Backends
) -> None:
    secret, hash_before, _ = await _signed_in(client, services)
    for path, form in _forms(secret).items():
        assert_clean_error(await _post(client, path, form), 403)
    await _assert_nothing_changed(client, services, backends, hash_before)


async def test_forms_with_a_wrong_csrf_token_are_refused__asvs_3_5_1(
    client: httpx.AsyncClient, services: Cores, backends: Backends
) -> None:
    secret, hash_before, token = await _signed_in(client, services)
    forged = token[:-4] + ("AAAA" if not token.endswith("AAAA") else "BBBB")
    for path, form in _forms(secret).items():
        for bad in (forged, "", "x" * 5000):
            response = await _post(client, path, {"csrf_token": bad, **form})
            assert_clean_error(response, 403)
    await _assert_nothing_changed(client, services, backends, hash_before)


async def test_forms_from_another_origin_are_refused_even_with_a_valid_token__asvs_3_5_3(
    client: httpx.AsyncClient, services: Cores, backends: Backends
) -> None:
    secret, hash_before, token = await _signed_in(client, services)
    foreign = (
        {"origin": EVIL},
        {"origin": "null"},
        {"origin": "http://127.0.0.1:8001"},
        {"referer": f"{EVIL}/attack.html"},
    )
    for path, form in _forms(secret).items():
        for headers in foreign:
            response = await _post(client, path, {"csrf_token": token, **form}, **headers)
            assert_clean_error(response, 403)
    await _assert_nothing_changed(client, services, backends, hash_before)


async def test_same_origin_form_with_its_token_is_accepted__asvs_3_5_3(
    client: httpx.AsyncClient, settings: Settings
) -> None:
    await sign_up_as(client, "ada@example.com")
    token = csrf_of((await client.get("/account")).text)
    response = await client.post(
        "/logout",
        data={"csrf_token": token},
        headers={"origin": settings.issuer, "referer": f"{settings.issuer}/account"},
    )
    assert response.status_code == 303
    assert not await is_signed_in(client)


async def test_token_bound_to_another_session_is_refused__asvs_3_5_1(
    client: httpx.AsyncClient, second_device: AppClient
) -> None:
    anonymous_token = csrf_of((await client.get("/signup")).text)
    await sign_up_as(client, "ada@example.com")
    async with second_device() as mallory:
        await sign_up_as(mallory, "mallory@example.com")
        mallory_token = csrf_of((await mallory.get("/account")).text)
    # Neither the token this browser had before login nor another user's token will do.
    for token in (anonymous_token, mallory_token):
        response = await client.post("/account/logout-everywhere", data={"csrf_token": token})
        assert_clean_error(response, 403)
    assert await is_signed_in(client)


async def test_get_never_changes_state_and_logout_needs_a_post__asvs_3_5_3(
    client: httpx.AsyncClient,
) -> None:
    await sign_up_as(client, "ada@example.com")
    page = await client.get("/logout")
    assert page.status_code == 200
    assert 'method="post" action="/logout"' in page.text
    # The other state-changing addresses do not answer GET at all.
    changing = ("/account/logout-everywhere", "/account/sessions/revoke", "/account/password")
    for path in (*changing, "/account/consents/revoke", "/account/grants/revoke"):
        assert_clean_error(await client.get(path), 405)
    assert await is_signed_in(client)
