"""Passwords: NIST 800-63B rules, argon2id storage, and changing one (ASVS 6.2, 7.4.3)."""

import re
import unicodedata
from collections.abc import Callable

import httpx

from gatepass.config import Settings
from tests.support import PASSWORD, log_in, post_form, sign_up
from tests.web.conftest import (
    AppClient,
    Cores,
    carrying,
    is_signed_in,
    log_in_as,
    log_out,
    session_set_by,
    sign_up_as,
)

ARGON2ID = re.compile(r"\$argon2id\$v=19\$m=(\d+),t=(\d+),p=(\d+)\$")
COMMON = ("password", "password1234", "123456789012", "iloveyou", "qwertyuiop", "Password1!")


async def _refused_sign_up(client: httpx.AsyncClient, password: str) -> httpx.Response:
    response = await sign_up(client, "ada@example.com", password)
    assert response.status_code == 400, password
    assert "gp_session" not in response.headers.get("set-cookie", "")
    return response


async def test_seven_character_password_is_refused_and_no_user_is_created__asvs_6_2_1(
    client: httpx.AsyncClient, services: Cores
) -> None:
    response = await _refused_sign_up(client, "k7#Qp2z")
    assert "at least 8 characters" in response.text
    assert await services.accounts.find("ada@example.com") is None


async def test_common_sequential_and_service_name_passwords_are_refused__asvs_6_2_4(
    client: httpx.AsyncClient, services: Cores
) -> None:
    for password in COMMON:
        response = await _refused_sign_up(client, password)
        assert "too common" in response.text, password
    # ASVS 6.2.11: nor one built from the service's name.
    assert "service name" in (await _refused_sign_up(client, "Gatepass2024!")).text
    assert await services.accounts.find("ada@example.com") is None


async def test_64_and_128_character_passphrases_are_accepted_and_usable__asvs_6_2_9(
    client: httpx.AsyncClient,
) -> None:
    for length in (64, 128):
        passphrase = ("violet harbour mosaic kettle " * 5)[:length]
        assert len(passphrase) == length
        email = f"user{length}@example.com"
        await sign_up_as(client, email, passphrase)
        await log_out(client)
        await log_in_as(client, email, passphrase)
        await log_out(client)


async def test_login_needs_the_whole_exact_password__asvs_6_2_8(
    client: httpx.AsyncClient,
) -> None:
    # A 100-character password: bcrypt would silently compare only its first 72 bytes.
    password = "Marmalade skies over a quiet harbour, 42 lanterns and one very patient heron. " * 2
    password = password[:100]
    await sign_up_as(client, "ada@example.com", password)
    await log_out(client)
    for wrong in (password[:72], password.swapcase()):
        response = await log_in(client, "ada@example.com", wrong)
        assert response.status_code == 200
        assert "Incorrect e-mail address or password." in response.text
    assert not await is_signed_in(client)


async def test_unicode_password_set_in_nfc_logs_in_typed_in_nfd__nist_800_63b_5_1_1_2(
    client: httpx.AsyncClient,
) -> None:
    password = unicodedata.normalize("NFC", "pässwörd über Brücken")
    typed = unicodedata.normalize("NFD", password)
    assert typed != password
    await sign_up_as(client, "ada@example.com", password)
    await log_out(client)
    await log_in_as(client, "ada@example.com", typed)


async def test_passwords_are_stored_as_argon2id_with_at_least_owasp_parameters__issue_2(
    client: httpx.AsyncClient, services: Cores
) -> None:
    await sign_up_as(client, "ada@example.com")
    user = await services.accounts.find("ada@example.com")
    assert user is not None
    assert user.password_hash is not None
    assert PASSWORD not in user.password_hash
    match = ARGON2ID.match(user.password_hash)
    assert match is not None, user.password_hash
    memory, time_cost, lanes = map(int, match.groups())
    assert memory >= 19456
    assert time_cost >= 2
    assert lanes == 1


async def test_login_rehashes_the_password_when_argon2_parameters_grow__issue_2(
    client: httpx.AsyncClient,
    make_settings: Callable[..., Settings],
    app_client: AppClient,
    services: Cores,
) -> None:
    await sign_up_as(client, "ada@example.com")
    before = await services.accounts.find("ada@example.com")
    assert before is not None
    assert before.password_hash is not None
    assert ARGON2ID.match(before.password_hash).group(2) == "2"  # type: ignore[union-attr]
    async with app_client(make_settings(argon2_time_cost=3)) as stronger:
        await log_in_as(stronger, "ada@example.com")
    after = await services.accounts.find("ada@example.com")
    assert after is not None
    assert after.password_hash is not None
    assert after.password_hash != before.password_hash
    assert ARGON2ID.match(after.password_hash).group(2) == "3"  # type: ignore[union-attr]
    # The upgraded hash still verifies on the old settings too, and a process still on
    # them (a rolling upgrade) never rewrites it back down to the weaker parameters.
    await log_out(client)
    await log_in_as(client, "ada@example.com")
    again = await services.accounts.find("ada@example.com")
    assert again is not None
    assert again.password_hash == after.password_hash


async def test_password_change_needs_the_current_password__asvs_6_2_3(
    client: httpx.AsyncClient, services: Cores
) -> None:
    await sign_up_as(client, "ada@example.com")
    before = await services.accounts.find("ada@example.com")
    assert before is not None
    for current in ("", "not my password at all"):
        response = await post_form(
            client,
            "/account/password",
            {"current_password": current, "new_password": "a brand new passphrase"},
            page="/account",
        )
        assert response.status_code == 400
        assert "current password is not correct" in response.text
    after = await services.accounts.find("ada@example.com")
    assert after is not None
    assert after.password_hash == before.password_hash
    assert await is_signed_in(client)


async def test_new_password_on_change_follows_the_same_rules__asvs_6_2_1(
    client: httpx.AsyncClient, services: Cores
) -> None:
    await sign_up_as(client, "ada@example.com")
    before = await services.accounts.find("ada@example.com")
    response = await post_form(
        client,
        "/account/password",
        {"current_password": PASSWORD, "new_password": "short"},
        page="/account",
    )
    assert response.status_code == 400
    assert "at least 8 characters" in response.text
    after = await services.accounts.find("ada@example.com")
    assert before is not None
    assert after is not None
    assert after.password_hash == before.password_hash


async def test_password_change_rotates_the_session_and_ends_others_by_default__asvs_7_4_3(
    client: httpx.AsyncClient, second_device: AppClient
) -> None:
    old = await sign_up_as(client, "ada@example.com")
    page = (await client.get("/account")).text
    # "Log out my other sessions" is ticked on the form as served.
    assert re.search(r'name="end_other_sessions" value="on" checked', page)
    async with second_device() as phone:
        await log_in_as(phone, "ada@example.com")
        response = await post_form(
            client,
            "/account/password",
            {
                "current_password": PASSWORD,
                "new_password": "a brand new passphrase",
                "end_other_sessions": "on",
            },
            page="/account",
        )
        assert response.status_code == 303
        new = session_set_by(response)
        assert new != old
        assert await is_signed_in(client)
        assert not await is_signed_in(phone)
        await log_in_as(phone, "ada@example.com", "a brand new passphrase")
    async with second_device() as replay:
        assert not await is_signed_in(carrying(replay, old))


async def test_password_change_keeping_other_sessions_still_rotates_this_one__asvs_7_2_4(
    client: httpx.AsyncClient, second_device: AppClient
) -> None:
    old = await sign_up_as(client, "ada@example.com")
    async with second_device() as phone:
        await log_in_as(phone, "ada@example.com")
        response = await post_form(
            client,
            "/account/password",
            {"current_password": PASSWORD, "new_password": "a brand new passphrase"},
            page="/account",
        )
        assert response.status_code == 303
        assert session_set_by(response) != old
        assert await is_signed_in(client)
        assert await is_signed_in(phone)
        assert not await is_signed_in(carrying(phone, old))
