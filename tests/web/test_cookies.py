"""The session cookie: its attributes, its name, and the secret it carries (ASVS 3.3, 7.2)."""

import base64
import re
from collections.abc import Callable

import httpx

from gatepass.config import Settings
from gatepass.crypto.secrets import digest
from gatepass.storage.backends import Backends
from tests.support import PASSWORD, sign_up
from tests.web.conftest import (
    CSRF,
    HOST_SESSION,
    SESSION,
    AppClient,
    Cores,
    log_in_as,
    log_out,
    set_cookies,
    sign_up_as,
    stored_session_data,
)

HTTPS_ISSUER = "https://id.example.test"
URL_SAFE_43 = re.compile(r"[A-Za-z0-9_-]{43}")


async def test_session_cookie_is_httponly_lax_path_root_and_not_secure_on_http_loopback__asvs_3_3_1(
    client: httpx.AsyncClient,
) -> None:
    anonymous = set_cookies(await client.get("/signup"))[CSRF]
    cookie = set_cookies(await sign_up(client, "ada@example.com"))[SESSION]
    assert cookie.has("httponly")
    assert cookie.attributes.get("samesite", "").lower() == "lax"
    assert cookie.attributes.get("path") == "/"
    # Browsers drop Secure cookies on plain http: the documented loopback exception.
    assert not cookie.has("secure")
    assert not cookie.has("domain")
    # A browser-session cookie: lifetimes are the server's alone (ASVS 7.3).
    assert not cookie.has("max-age")
    assert not cookie.has("expires")
    for each in (cookie, anonymous):
        assert each.has("httponly")
        assert len(each.name) + len(each.value) <= 4096  # ASVS 3.3.5


async def test_cookies_on_https_are_host_prefixed_secure_and_have_no_domain__asvs_3_3_3(
    make_settings: Callable[..., Settings], app_client: AppClient
) -> None:
    async with app_client(make_settings(issuer=HTTPS_ISSUER)) as https:
        assert str(https.base_url).startswith(HTTPS_ISSUER)
        anonymous = set_cookies(await https.get("/signup"))
        assert CSRF not in anonymous
        csrf = anonymous["__Host-gp_csrf"]
        assert csrf.has("secure")
        assert csrf.attributes.get("path") == "/"
        assert not csrf.has("domain")
        response = await sign_up(https, "ada@example.com")
        assert response.status_code == 303
        cookies = set_cookies(response)
        assert SESSION not in cookies
        cookie = cookies[HOST_SESSION]
        assert cookie.has("secure")
        assert cookie.has("httponly")
        assert cookie.attributes.get("samesite", "").lower() == "lax"
        assert cookie.attributes.get("path") == "/"
        assert not cookie.has("domain")
        # The https session works end to end under its prefixed name...
        assert (await https.get("/account")).status_code == 200
        # ...and logout expires it with the attributes a browser demands of __Host- cookies.
        expired = set_cookies(await log_out(https))[HOST_SESSION]
        assert expired.attributes.get("max-age") == "0"
        assert expired.has("secure")
        assert expired.attributes.get("path") == "/"
        assert not expired.has("domain")
        assert (await https.get("/account")).status_code == 303


async def test_session_id_has_256_random_bits_and_changes_on_every_login__asvs_7_2_3(
    client: httpx.AsyncClient,
) -> None:
    secrets = [await sign_up_as(client, "ada@example.com")]
    for _ in range(2):
        await log_out(client)
        secrets.append(await log_in_as(client, "ada@example.com", PASSWORD))
    assert len(set(secrets)) == len(secrets)
    for secret in secrets:
        assert URL_SAFE_43.fullmatch(secret), secret
        assert len(base64.urlsafe_b64decode(secret + "=")) * 8 >= 256


async def test_session_is_stored_only_as_a_digest_of_the_cookie__design_session_id(
    client: httpx.AsyncClient, services: Cores, backends: Backends, settings: Settings
) -> None:
    secret = await sign_up_as(client, "ada@example.com")
    user = await services.accounts.find("ada@example.com")
    assert user is not None
    listed = await services.sessions.list_for_user(user.id)
    assert [s.id for s in listed] == [digest(secret)]
    stored = await stored_session_data(backends, settings)
    assert any(digest(secret) in value for value in stored)
    assert not any(secret in value for value in stored), "the cookie value is in storage"


async def test_session_id_never_appears_in_a_url_location_or_page__asvs_3_3_4(
    client: httpx.AsyncClient,
) -> None:
    response = await sign_up(client, "ada@example.com")
    secret = set_cookies(response)[SESSION].value
    assert secret not in response.headers["location"]
    for path in ("/account", "/logout", "/login", "/signup", "/"):
        page = await client.get(path)
        assert secret not in page.text
        assert secret not in page.headers.get("location", "")
