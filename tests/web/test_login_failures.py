"""Failed logins say nothing about the account (ASVS 6.3.8); disabled users stay out (7.4.2)."""

import httpx
import pytest

from gatepass.config import Settings
from tests.support import PASSWORD, log_in
from tests.web.conftest import SESSION, Cores, is_signed_in, log_out, run_cli, sign_up_as

# Same length, so the echoed address is the only difference between the two pages.
KNOWN, UNKNOWN = "ada@example.com", "bob@example.com"
NOISY_HEADERS = {"date", "content-length", "set-cookie"}


async def test_unknown_email_and_wrong_password_get_identical_answers__asvs_6_3_8(
    client: httpx.AsyncClient,
) -> None:
    await sign_up_as(client, KNOWN)
    await log_out(client)
    wrong_password = await log_in(client, KNOWN, "not the password at all")
    unknown_user = await log_in(client, UNKNOWN, "not the password at all")
    assert wrong_password.status_code == unknown_user.status_code == 200
    assert wrong_password.text.replace(KNOWN, "EMAIL") == unknown_user.text.replace(
        UNKNOWN, "EMAIL"
    )
    assert "Incorrect e-mail address or password." in unknown_user.text
    assert {k: v for k, v in wrong_password.headers.items() if k not in NOISY_HEADERS} == {
        k: v for k, v in unknown_user.headers.items() if k not in NOISY_HEADERS
    }
    assert SESSION not in wrong_password.headers.get("set-cookie", "")
    assert SESSION not in unknown_user.headers.get("set-cookie", "")


async def test_disabled_user_cannot_log_in_and_gets_the_usual_answer__asvs_7_4_2(
    client: httpx.AsyncClient, services: Cores
) -> None:
    await sign_up_as(client, KNOWN)
    await log_out(client)
    user = await services.accounts.find(KNOWN)
    assert user is not None
    await services.accounts.set_disabled(user, True)
    response = await log_in(client, KNOWN, PASSWORD)
    assert response.status_code == 200
    assert "Incorrect e-mail address or password." in response.text
    assert SESSION not in response.headers.get("set-cookie", "")
    assert not await is_signed_in(client)


async def test_user_disabled_from_the_cli_is_signed_out_and_cannot_log_back_in__asvs_7_4_2(
    client: httpx.AsyncClient, settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    await sign_up_as(client, KNOWN)
    assert await run_cli(settings, monkeypatch, "user", "disable", KNOWN) == 0
    assert not await is_signed_in(client)
    response = await log_in(client, KNOWN, PASSWORD)
    assert response.status_code == 200
    assert SESSION not in response.headers.get("set-cookie", "")
    assert not await is_signed_in(client)
