"""Response headers and form markup: framing, caching, sniffing, password managers (ASVS 3.4)."""

import re
from collections.abc import Callable

import httpx

from gatepass.config import Settings
from tests.web.conftest import AppClient, sign_up_as

ANONYMOUS_PAGES = ("/login", "/signup", "/no/such/page")
MEMBER_PAGES = ("/account", "/logout", "/no/such/page")


def _assert_page_hardened(response: httpx.Response) -> None:
    headers = response.headers
    policy = headers["content-security-policy"]
    assert "frame-ancestors 'none'" in policy
    assert "default-src 'none'" in policy
    assert "form-action 'self'" in policy
    assert headers["x-frame-options"] == "DENY"
    assert headers["referrer-policy"] in ("no-referrer", "same-origin", "strict-origin")
    assert headers["x-content-type-options"] == "nosniff"
    assert re.fullmatch(r"text/html; ?charset=utf-8", headers["content-type"])
    assert "server" not in headers
    assert "x-powered-by" not in headers


async def test_every_page_forbids_framing_and_sniffing_and_limits_referrers__asvs_3_4(
    client: httpx.AsyncClient,
) -> None:
    for path in ANONYMOUS_PAGES:
        _assert_page_hardened(await client.get(path))
    await sign_up_as(client, "ada@example.com")
    for path in MEMBER_PAGES:
        _assert_page_hardened(await client.get(path))
    # Redirects and plain-text answers get the same protection.
    for response in (await client.get("/login"), await client.get("/healthz")):
        assert response.status_code in (200, 303)
        assert "frame-ancestors 'none'" in response.headers["content-security-policy"]
        assert response.headers["x-content-type-options"] == "nosniff"
        assert response.headers["x-frame-options"] == "DENY"


async def test_account_page_is_never_cached__asvs_14_3_2(client: httpx.AsyncClient) -> None:
    await sign_up_as(client, "ada@example.com")
    response = await client.get("/account")
    assert response.status_code == 200
    assert "no-store" in response.headers["cache-control"]


async def test_hsts_is_sent_on_https_and_not_on_http__asvs_3_4_1(
    client: httpx.AsyncClient, make_settings: Callable[..., Settings], app_client: AppClient
) -> None:
    assert "strict-transport-security" not in (await client.get("/login")).headers
    async with app_client(make_settings(issuer="https://id.example.test")) as https:
        hsts = (await https.get("/login")).headers["strict-transport-security"]
    max_age = int(re.search(r"max-age=(\d+)", hsts).group(1))  # type: ignore[union-attr]
    assert max_age >= 31_536_000
    assert "includeSubDomains" in hsts


async def test_other_origins_get_no_cors_grant__asvs_3_4_2(client: httpx.AsyncClient) -> None:
    for path in ("/login", "/account", "/healthz"):
        response = await client.get(path, headers={"origin": "https://evil.test"})
        assert "access-control-allow-origin" not in response.headers
        assert "access-control-allow-credentials" not in response.headers


async def test_forms_let_password_managers_fill_them__asvs_6_2_7(
    client: httpx.AsyncClient,
) -> None:
    login = (await client.get("/login")).text
    assert re.search(r'<input type="email" name="email"[^>]*autocomplete="username"', login)
    assert re.search(
        r'<input type="password" name="password"[^>]*autocomplete="current-password"', login
    )
    signup = (await client.get("/signup")).text
    assert re.search(r'name="email"[^>]*autocomplete="username"', signup)
    assert re.search(r'type="password" name="password"[^>]*autocomplete="new-password"', signup)
    assert "current-password" not in signup
    await sign_up_as(client, "ada@example.com")
    account = (await client.get("/account")).text
    assert re.search(r'name="username"[^>]*autocomplete="username"', account)
    assert re.search(
        r'type="password" name="current_password"[^>]*autocomplete="current-password"', account
    )
    assert re.search(
        r'type="password" name="new_password"[^>]*autocomplete="new-password"', account
    )
    for page in (login, signup, account):
        assert "onpaste" not in page  # no paste blocking (ASVS 6.2.6)
