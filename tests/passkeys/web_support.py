"""Driving the passkey endpoints as passkeys.js does: JSON, the CSRF header, our origin."""

from typing import Any

import httpx

from gatepass.web.state import Services
from tests.passkeys.authenticator import SoftAuthenticator
from tests.support import ISSUER, csrf_of

ACCOUNT_OPTIONS, ACCOUNT_FINISH = "/account/passkeys/options", "/account/passkeys"
LOGIN_OPTIONS, LOGIN_FINISH = "/login/passkey/options", "/login/passkey"
VERIFY_OPTIONS, VERIFY_FINISH = "/login/verify/passkey/options", "/login/verify/passkey"
ENROL_OPTIONS, ENROL_FINISH = "/login/enrol/passkey/options", "/login/enrol/passkey"


def device() -> SoftAuthenticator:
    """A software authenticator for the test issuer (http://127.0.0.1:8000)."""
    return SoftAuthenticator(origin=ISSUER, rp_id="127.0.0.1")


def services_of(client: httpx.AsyncClient) -> Services:
    gp: Services = client._transport.app.state.gatepass  # type: ignore[attr-defined]
    return gp


async def csrf_from(client: httpx.AsyncClient, page: str) -> str:
    return csrf_of((await client.get(page)).text)


async def api(
    client: httpx.AsyncClient, path: str, body: Any, csrf: str, **headers: str
) -> httpx.Response:
    return await client.post(
        path,
        json=body,
        headers={"X-CSRF-Token": csrf, "Origin": ISSUER, **headers},
    )


async def add_passkey(
    client: httpx.AsyncClient, authenticator: SoftAuthenticator, name: str = "Laptop"
) -> httpx.Response:
    """Register a passkey from the account page, as the signed-in client."""
    csrf = await csrf_from(client, "/account")
    options = await api(client, ACCOUNT_OPTIONS, {}, csrf)
    assert options.status_code == 200, options.text
    credential = authenticator.create(options.json())
    return await api(client, ACCOUNT_FINISH, {"name": name, "credential": credential}, csrf)


async def sign_in_with(
    client: httpx.AsyncClient,
    authenticator: SoftAuthenticator,
    next_path: str = "/account",
    **lie: Any,
) -> httpx.Response:
    """A passwordless sign-in from the login page."""
    csrf = await csrf_from(client, "/login")
    options = await api(client, LOGIN_OPTIONS, {}, csrf)
    assert options.status_code == 200, options.text
    credential = authenticator.get(options.json(), **lie)
    return await api(client, LOGIN_FINISH, {"credential": credential, "next": next_path}, csrf)
