"""Hostile and malformed requests to the passkey endpoints: a clear JSON 4xx, never a 500
(SECURITY.md HD-07, SS-17)."""

import json

import httpx
import pytest

from tests.passkeys.web_support import (
    ACCOUNT_FINISH,
    ACCOUNT_OPTIONS,
    LOGIN_FINISH,
    LOGIN_OPTIONS,
    add_passkey,
    api,
    csrf_from,
    device,
)
from tests.support import ISSUER
from tests.web.conftest import is_signed_in, log_out, sign_up_as

JSON_ENDPOINTS = (ACCOUNT_OPTIONS, ACCOUNT_FINISH, LOGIN_OPTIONS, LOGIN_FINISH)


def _clean_json_error(response: httpx.Response, status: int) -> str:
    assert response.status_code == status, (response.status_code, response.text[:300])
    assert response.headers["content-type"].startswith("application/json")
    body = response.json()
    assert isinstance(body["message"], str)
    assert body["message"]
    for leak in ("Traceback", 'File "', "Exception", "webauthn", "cbor"):
        assert leak not in response.text
    error: str = body["error"]
    return error


async def _raw(
    client: httpx.AsyncClient, path: str, content: bytes, csrf: str, content_type: str
) -> httpx.Response:
    headers = {"X-CSRF-Token": csrf, "Origin": ISSUER, "Content-Type": content_type}
    return await client.post(path, content=content, headers=headers)


@pytest.mark.parametrize("path", JSON_ENDPOINTS)
async def test_no_csrf_token_or_another_origin_is_forbidden__asvs_3_5_1(
    client: httpx.AsyncClient, path: str
) -> None:
    await sign_up_as(client, "ada@example.com")
    csrf = await csrf_from(client, "/account")
    assert _clean_json_error(await api(client, path, {}, ""), 403) == "forbidden"
    assert _clean_json_error(await api(client, path, {}, "x" * 43), 403) == "forbidden"
    evil = await api(client, path, {}, csrf, Origin="https://evil.test")
    assert _clean_json_error(evil, 403) == "forbidden"


@pytest.mark.parametrize(
    ("content", "content_type", "status"),
    [
        (b"credential=x", "application/x-www-form-urlencoded", 415),
        (b"{}", "text/plain", 415),
        (b"{not json", "application/json", 400),
        (b"\xff\xfe", "application/json", 400),
        (b"[1, 2]", "application/json", 400),
        (b'"text"', "application/json", 400),
        (b'{"name": "a", "name": "b"}', "application/json", 400),
        (b"[" * 5000 + b"]" * 5000, "application/json", 400),
        (b'{"x": "' + b"a" * 40_000 + b'"}', "application/json", 413),
    ],
    ids=[
        "a form",
        "text",
        "broken json",
        "not utf-8",
        "an array",
        "a string",
        "a repeated member",
        "deep nesting",
        "too large",
    ],
)
async def test_a_body_that_is_not_one_small_json_object_is_refused(
    client: httpx.AsyncClient, content: bytes, content_type: str, status: int
) -> None:
    await sign_up_as(client, "ada@example.com")
    csrf = await csrf_from(client, "/account")
    for path in (ACCOUNT_OPTIONS, LOGIN_FINISH):
        _clean_json_error(await _raw(client, path, content, csrf, content_type), status)


async def test_an_anonymous_visitor_cannot_add_a_passkey(client: httpx.AsyncClient) -> None:
    csrf = await csrf_from(client, "/login")
    for path in (ACCOUNT_OPTIONS, ACCOUNT_FINISH):
        response = await api(client, path, {}, csrf)
        assert _clean_json_error(response, 401) == "login_required"
        assert response.json()["redirect"] == "/login?next=/account"


async def test_an_answer_without_its_options_has_expired(client: httpx.AsyncClient) -> None:
    authenticator = device()
    await sign_up_as(client, "ada@example.com")
    csrf = await csrf_from(client, "/account")
    fake_options = {"challenge": "AAAA", "rp": {"id": "127.0.0.1"}, "user": {"id": "AAAA"}}
    body = {"name": "Key", "credential": authenticator.create(fake_options)}
    assert _clean_json_error(await api(client, ACCOUNT_FINISH, body, csrf), 400) == "expired"
    login = {"credential": authenticator.get(fake_options)}
    assert _clean_json_error(await api(client, LOGIN_FINISH, login, csrf), 400) == "expired"


async def test_a_sign_in_challenge_cookie_does_not_open_as_a_registration(
    client: httpx.AsyncClient,
) -> None:
    await sign_up_as(client, "ada@example.com")
    csrf = await csrf_from(client, "/account")
    issued = await api(client, LOGIN_OPTIONS, {}, csrf)
    [value] = [v for k, v in issued.cookies.items() if k.endswith("gp_passkey_sign_in")]
    client.cookies.set("gp_passkey_register", value, domain=client.base_url.host)
    options = issued.json() | {"rp": {"id": "127.0.0.1"}, "user": {"id": "AAAA"}}
    body = {"name": "Key", "credential": device().create(options)}
    assert _clean_json_error(await api(client, ACCOUNT_FINISH, body, csrf), 400) == "expired"


GARBAGE_CREDENTIALS: list[object] = [
    None,
    17,
    "credential",
    [],
    {},
    {"id": "AAAA", "rawId": "AAAA", "type": "public-key", "response": {"clientDataJSON": 5}},
    {"id": "A" * 5000, "rawId": "A" * 5000, "type": "public-key", "response": {}},
]


@pytest.mark.parametrize("credential", GARBAGE_CREDENTIALS, ids=range(len(GARBAGE_CREDENTIALS)))
async def test_garbage_credentials_are_a_clear_400(
    client: httpx.AsyncClient, credential: object
) -> None:
    await sign_up_as(client, "ada@example.com")
    csrf = await csrf_from(client, "/account")
    await api(client, ACCOUNT_OPTIONS, {}, csrf)
    body = {"name": "Key", "credential": credential}
    _clean_json_error(await api(client, ACCOUNT_FINISH, body, csrf), 400)
    await api(client, LOGIN_OPTIONS, {}, csrf)
    _clean_json_error(await api(client, LOGIN_FINISH, {"credential": credential}, csrf), 400)


@pytest.mark.parametrize("name", [None, 5, "", "x" * 101, "x" * 2000, ["a"]], ids=repr)
async def test_a_bad_passkey_name_is_a_clear_400(client: httpx.AsyncClient, name: object) -> None:
    await sign_up_as(client, "ada@example.com")
    csrf = await csrf_from(client, "/account")
    options = (await api(client, ACCOUNT_OPTIONS, {}, csrf)).json()
    body = {"name": name, "credential": device().create(options)}
    _clean_json_error(await api(client, ACCOUNT_FINISH, body, csrf), 400)


async def test_a_replayed_sign_in_is_refused(client: httpx.AsyncClient) -> None:
    authenticator = device()
    await sign_up_as(client, "ada@example.com")
    await add_passkey(client, authenticator)
    await log_out(client)
    csrf = await csrf_from(client, "/login")
    options = await api(client, LOGIN_OPTIONS, {}, csrf)
    cookies = dict(client.cookies.items())
    body = {"credential": authenticator.get(options.json()), "next": "/account"}
    assert (await api(client, LOGIN_FINISH, body, csrf)).status_code == 200
    await log_out(client)
    for name, value in cookies.items():  # the captured challenge cookie, sent again
        client.cookies.set(name, value, domain=client.base_url.host)
    csrf = await csrf_from(client, "/login")
    _clean_json_error(await api(client, LOGIN_FINISH, body, csrf), 400)
    assert not await is_signed_in(client)


async def test_the_login_page_offers_passkeys_under_a_strict_script_policy(
    client: httpx.AsyncClient,
) -> None:
    page = await client.get("/login")
    assert "Sign in with a passkey" in page.text
    assert '<script src="/static/passkeys.js" defer></script>' in page.text
    assert "<script>" not in page.text  # no inline script
    policy = page.headers["content-security-policy"]
    assert "script-src 'self'" in policy
    assert "connect-src 'self'" in policy
    assert "unsafe-inline" not in policy
    script = await client.get("/static/passkeys.js")
    assert script.status_code == 200
    assert "navigator.credentials" in script.text
    assert json.dumps("X-CSRF-Token") in script.text
