"""A person signs up, sees the account page, logs out and logs back in."""

import httpx

from tests.support import PASSWORD, log_in, post_form, sign_up


async def test_sign_up_signs_in_and_shows_the_account(client: httpx.AsyncClient) -> None:
    response = await sign_up(client, "ada@example.com", name="Ada Lovelace")
    assert response.status_code == 303
    assert response.headers["location"] == "/account"
    page = await client.get("/account")
    assert page.status_code == 200
    assert "ada@example.com" in page.text
    assert "Ada Lovelace" in page.text
    assert "(this session)" in page.text


async def test_log_out_then_log_in_again(client: httpx.AsyncClient) -> None:
    await sign_up(client, "ada@example.com")
    response = await post_form(client, "/logout", {}, page="/account")
    assert response.status_code == 303
    assert (await client.get("/account")).headers["location"].startswith("/login")
    response = await log_in(client, "ada@example.com", PASSWORD)
    assert response.status_code == 303
    assert (await client.get("/account")).status_code == 200


async def test_wrong_password_is_refused(client: httpx.AsyncClient) -> None:
    await sign_up(client, "ada@example.com")
    await post_form(client, "/logout", {}, page="/account")
    response = await log_in(client, "ada@example.com", "not the password at all")
    assert response.status_code == 200
    assert "Incorrect e-mail address or password." in response.text
    assert (await client.get("/account")).status_code == 303
