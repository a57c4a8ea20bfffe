"""Bad input gets a clear 4xx page: never a 500, never a traceback, nothing half-written."""

import asyncio
from collections.abc import AsyncIterator

import httpx

from gatepass.config import Settings
from gatepass.storage.backends import Backends
from tests.support import PASSWORD, csrf_of, sign_up
from tests.web.conftest import (
    SESSION,
    Cores,
    assert_clean_error,
    count_users,
    is_signed_in,
    session_set_by,
    sign_up_as,
)

FORM = "application/x-www-form-urlencoded"


async def _token(client: httpx.AsyncClient, page: str = "/signup") -> str:
    return csrf_of((await client.get(page)).text)


async def _post_raw(
    client: httpx.AsyncClient, path: str, body: bytes, content_type: str = FORM
) -> httpx.Response:
    return await client.post(path, content=body, headers={"content-type": content_type})


async def test_malformed_form_bodies_get_a_clear_4xx__issue_2_bad_input(
    client: httpx.AsyncClient, backends: Backends
) -> None:
    for body in (b"%%%&&&===", b"&&&", b"=", b"csrf_token", b"a=%zz&b=%", b";;;", b"\r\n\r\n"):
        for path in ("/login", "/signup"):
            response = await _post_raw(client, path, body)
            assert response.status_code in (400, 403), (body, response.status_code)
            assert_clean_error(response, response.status_code)
    assert await count_users(backends) == 0


async def test_repeated_fields_and_too_many_fields_are_refused__rfc6749_3_1(
    client: httpx.AsyncClient, backends: Backends
) -> None:
    token = await _token(client)
    extra = "&".join(f"f{n}=x" for n in range(40))
    for body in (
        f"csrf_token={token}&email=ada@example.com&password=pass+phrase+ok&{extra}",
        f"csrf_token={token}&email=ada@example.com&email=eve@example.com&password=pass+phrase+ok",
        f"csrf_token={token}&csrf_token={token}&email=ada@example.com&password=pass+phrase+ok",
        f"csrf_token={token}&email=ada@example.com&password=one+passphrase&password=another+one",
    ):
        assert_clean_error(await _post_raw(client, "/signup", body.encode()), 400)
    assert await count_users(backends) == 0


async def test_multipart_json_and_other_bodies_get_415__issue_2_bad_input(
    client: httpx.AsyncClient, backends: Backends
) -> None:
    token = await _token(client)
    fields = {"csrf_token": token, "email": "ada@example.com", "password": PASSWORD}
    multipart = await client.post("/signup", data=fields, files={"avatar": ("a.png", b"\x89PNG")})
    assert_clean_error(multipart, 415)
    assert_clean_error(await client.post("/signup", json=fields), 415)
    for content_type in ("text/plain", "application/xml", ""):
        response = await _post_raw(client, "/login", b"email=a&password=b", content_type)
        assert_clean_error(response, 415)
    assert await count_users(backends) == 0


async def test_body_over_the_cap_gets_413_and_nothing_is_written__issue_2_bad_input(
    client: httpx.AsyncClient, backends: Backends, settings: Settings
) -> None:
    token = await _token(client)
    body = (
        f"csrf_token={token}&email=ada@example.com&password=pass+phrase+ok&name="
        + "x" * settings.max_body_bytes
    ).encode()
    assert_clean_error(await _post_raw(client, "/signup", body), 413)

    async def chunks() -> AsyncIterator[bytes]:  # no Content-Length: the cap holds while reading
        for start in range(0, len(body), 4096):
            yield body[start : start + 4096]

    streamed = await client.post("/signup", content=chunks(), headers={"content-type": FORM})
    assert "content-length" not in streamed.request.headers
    assert_clean_error(streamed, 413)
    assert await count_users(backends) == 0
    # The control: the same form within the cap signs up.
    assert (await sign_up(client, "ada@example.com", name="x" * 100)).status_code == 303


async def test_invalid_utf8_and_nul_bytes_in_the_form_are_refused__issue_2_bad_input(
    client: httpx.AsyncClient, backends: Backends
) -> None:
    token = await _token(client)
    for tail in (b"email=%ff%fe@example.com", b"email=\xff\xfe@example.com", b"name=%c3%28"):
        body = f"csrf_token={token}&password=pass+phrase+ok&".encode() + tail
        assert_clean_error(await _post_raw(client, "/signup", body), 400)
    for fields in (
        {"email": "ada@example.com\x00admin", "password": "pass phrase ok"},
        {"email": "ada@example.com", "password": "pass phrase\x00ok"},
        {"email": "ada@example.com", "password": "pass phrase ok", "name": "Ada\x00"},
    ):
        response = await client.post("/signup", data={"csrf_token": token, **fields})
        assert_clean_error(response, 400)
    assert_clean_error(
        await client.post("/login", data={"csrf_token": token, "email": "a\x00@example.com"}), 400
    )
    assert await count_users(backends) == 0


async def test_refused_sign_ups_leave_nothing_behind__issue_2_bad_input(
    client: httpx.AsyncClient, backends: Backends
) -> None:
    for email, name in (
        ("not-an-address", "Ada"),
        ("a" * 300 + "@example.com", "Ada"),
        ("ada@example.com", "n" * 201),
        ("ada@example.com", "Ada\x01Lovelace"),
    ):
        response = await sign_up(client, email, name=name)
        assert_clean_error(response, 400)
        assert SESSION not in response.headers.get("set-cookie", "")
    assert await count_users(backends) == 0
    await sign_up_as(client, "ada@example.com")
    client.cookies.delete(SESSION)
    duplicate = await sign_up(client, "ADA@example.com", "another fine passphrase")
    assert_clean_error(duplicate, 400)
    assert "already exists" in duplicate.text
    assert await count_users(backends) == 1


async def test_parallel_sign_ups_for_one_address_create_one_user__issue_2_bad_input(
    client: httpx.AsyncClient, backends: Backends
) -> None:
    token = await _token(client)
    form = {"csrf_token": token, "email": "ada@example.com", "password": PASSWORD}
    responses = await asyncio.gather(*(client.post("/signup", data=form) for _ in range(5)))
    assert sorted(r.status_code for r in responses) == [303, 400, 400, 400, 400]
    for response in responses:
        if response.status_code == 400:
            assert "already exists" in response.text
            assert SESSION not in response.headers.get("set-cookie", "")
    assert await count_users(backends) == 1


async def test_garbage_and_unknown_session_cookies_are_anonymous__issue_2_bad_input(
    client: httpx.AsyncClient,
) -> None:
    for raw in (
        b"gp_session=garbage",
        b"gp_session=" + b"A" * 43,
        b"gp_session=" + b"A" * 8000,
        b"gp_session=\xff\xfe\x00; gp_csrf=\xff",
        b'gp_session="\' OR 1=1 --"; gp_csrf=%00',
        b"gp_session; =; ;;gp_session==",
        b"gp_session=" + b"x" * 12_000,
    ):
        account = await client.get("/account", headers={"cookie": raw})
        assert account.status_code == 303, raw[:40]
        assert account.headers["location"].startswith("/login")
        login = await client.get("/login", headers={"cookie": raw})
        assert login.status_code == 200, raw[:40]
        assert 'name="csrf_token"' in login.text


async def test_large_headers_are_stored_truncated_and_huge_ones_get_431__asvs_4_2_5(
    client: httpx.AsyncClient, services: Cores, backends: Backends
) -> None:
    client.headers["user-agent"] = "U" * 8000
    client.headers["x-forwarded-for"] = "1.2.3.4, " * 400
    await sign_up_as(client, "ada@example.com")
    assert await is_signed_in(client)
    user = await services.accounts.find("ada@example.com")
    assert user is not None
    (session,) = await services.sessions.list_for_user(user.id)
    assert session.address == "127.0.0.1"
    assert 0 < len(session.user_agent) <= 256
    # The sign-up and the verification mail it sent (docs/accounts.md).
    events = await services.audit.recent(user_id=user.id)
    assert len(events) == 2
    for event in events:
        assert event.user_agent is not None
        assert 0 < len(event.user_agent) <= 256
    # Past the header cap: 431, and nothing is written.
    client.cookies.clear()
    del client.headers["x-forwarded-for"]
    client.headers["user-agent"] = "python-httpx"
    token = await _token(client)
    for headers in (
        {"user-agent": "U" * 65_536},
        {"cookie": "gp_session=" + "x" * 65_536},
        {f"x-filler-{n}": "y" * 1000 for n in range(64)},
    ):
        response = await client.post(
            "/signup",
            data={"csrf_token": token, "email": "bob@example.com", "password": PASSWORD},
            headers=headers,
        )
        assert_clean_error(response, 431)
    assert await count_users(backends) == 1


async def test_huge_email_at_login_is_refused_politely__issue_2_bad_input(
    client: httpx.AsyncClient, services: Cores
) -> None:
    token = await _token(client, "/login")
    for email in ("x" * 10_000 + "@example.com", "ü" * 3000, ""):
        response = await client.post(
            "/login", data={"csrf_token": token, "email": email, "password": "whatever it is"}
        )
        assert response.status_code == 200
        assert "Incorrect e-mail address or password." in response.text
    for event in await services.audit.recent():
        assert event.email is None or len(event.email) <= 254


async def test_unknown_paths_get_404_and_wrong_methods_get_405__asvs_13_4_4(
    client: httpx.AsyncClient,
) -> None:
    for path in (
        "/no/such/page",
        "/%ff%fe",
        "/static/nope.css",
        "/static/../../../etc/passwd",
        "/static/%2e%2e/%2e%2e/etc/passwd",
        "/" + "a" * 5000,
        "/account/",  # no 307 to a slash-less twin (RFC 9700 §4.12)
    ):
        response = await client.get(path)
        assert_clean_error(response, 404)
        assert "root:" not in response.text
    for method, path in (
        ("PUT", "/login"),
        ("DELETE", "/account"),
        ("PATCH", "/signup"),
        ("TRACE", "/"),
        ("POST", "/"),
        ("POST", "/healthz"),
        ("PUT", "/account/password"),
        ("OPTIONS", "/logout"),
    ):
        response = await client.request(method, path)
        assert_clean_error(response, 405)
        assert "allow" in response.headers


async def test_invalid_utf8_in_the_query_is_survived__issue_2_bad_input(
    client: httpx.AsyncClient,
) -> None:
    for query in ("next=%ff%fe", "next=" + "%c3" * 3000, "a=b&a=c&next=/account"):
        response = await client.get(f"/login?{query}")
        assert response.status_code == 200, query
        assert 'name="next" value="/account"' in response.text


async def test_next_never_redirects_off_site__asvs_3_5_open_redirect(
    client: httpx.AsyncClient,
) -> None:
    await sign_up_as(client, "ada@example.com")
    for target in (
        "//evil.test",
        "https://evil.test/",
        "/\\evil.test",
        "/\nx",
        "javascript:x",
    ):
        response = await client.get("/login", params={"next": target})
        assert response.status_code == 303
        assert response.headers["location"] == "/account", target


async def test_sign_up_lands_on_the_given_same_site_path__issue_2(
    client: httpx.AsyncClient,
) -> None:
    # The control for the open-redirect test: a same-site `next` is honoured.
    token = await _token(client)
    response = await client.post(
        "/signup",
        data={
            "csrf_token": token,
            "email": "ada@example.com",
            "password": PASSWORD,
            "next": "/account?tab=sessions",
        },
    )
    assert response.status_code == 303
    assert response.headers["location"] == "/account?tab=sessions"
    assert session_set_by(response)


async def test_a_nul_character_in_the_path_or_query_is_a_400_on_every_store(
    client: httpx.AsyncClient,
) -> None:
    # Found by tests/hostile: PostgreSQL refuses NUL in text, so /login/%00 was a 500.
    for url in ("/login/%00", "/login/%00/callback", "/authorize?client_id=%00", "/login?next=%00"):
        response = await client.get(url)
        assert response.status_code == 400, url
        assert "NUL" in response.text
