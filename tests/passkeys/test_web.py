"""Passkeys through the real app on every backend: add, list, remove, passwordless
sign-in, second factor; the session's amr (RFC 8176) and the audit log."""

from collections.abc import Callable

import httpx

from gatepass.audit.model import AuditEventType as Event
from gatepass.clock import FixedClock
from gatepass.config import Settings
from tests.passkeys.web_support import (
    ACCOUNT_OPTIONS,
    ENROL_FINISH,
    ENROL_OPTIONS,
    LOGIN_FINISH,
    LOGIN_OPTIONS,
    VERIFY_FINISH,
    VERIFY_OPTIONS,
    add_passkey,
    api,
    csrf_from,
    device,
    services_of,
    sign_in_with,
)
from tests.support import PASSWORD, log_in, post_form
from tests.web.conftest import AppClient, is_signed_in, log_out, session_set_by, sign_up_as


async def _events(client: httpx.AsyncClient, kind: Event) -> list[str | None]:
    return [e.detail for e in await services_of(client).audit.recent() if e.type == kind]


async def _amr(client: httpx.AsyncClient, email: str) -> tuple[str, ...]:
    gp = services_of(client)
    user = await gp.accounts.find(email)
    assert user is not None
    [session] = await gp.sessions.list_for_user(user.id)
    return session.amr


async def test_a_passkey_added_on_the_account_page_is_listed_and_audited(
    client: httpx.AsyncClient,
) -> None:
    await sign_up_as(client, "ada@example.com")
    response = await add_passkey(client, device(), "My <laptop>")
    assert response.status_code == 200, response.text
    assert response.json() == {"redirect": "/account?notice=passkey-added"}
    page = (await client.get("/account?notice=passkey-added")).text
    assert "The passkey was added." in page
    assert "My &lt;laptop&gt;" in page
    assert "never" in page
    assert await _events(client, Event.PASSKEY_ADDED) == ["My <laptop>"]


async def test_passwordless_sign_in_starts_a_multi_factor_session__rfc8176(
    client: httpx.AsyncClient,
) -> None:
    authenticator = device()
    await sign_up_as(client, "ada@example.com")
    await add_passkey(client, authenticator)
    await log_out(client)
    response = await sign_in_with(client, authenticator, "/account?from=passkey")
    assert response.status_code == 200, response.text
    assert response.json() == {"redirect": "/account?from=passkey"}
    session_set_by(response)
    assert await is_signed_in(client)
    assert await _amr(client, "ada@example.com") == ("hwk", "user", "mfa")
    assert "passkey" in await _events(client, Event.LOGIN_SUCCEEDED)
    assert "never" not in (await client.get("/account")).text.split("Passkeys")[1]


async def test_an_offsite_next_after_a_passkey_sign_in_falls_back_to_the_account_page(
    client: httpx.AsyncClient,
) -> None:
    authenticator = device()
    await sign_up_as(client, "ada@example.com")
    await add_passkey(client, authenticator)
    await log_out(client)
    response = await sign_in_with(client, authenticator, "//evil.test/")
    assert response.json() == {"redirect": "/account"}


async def test_a_disabled_account_cannot_sign_in_with_its_passkey__asvs_7_4_2(
    client: httpx.AsyncClient,
) -> None:
    authenticator = device()
    await sign_up_as(client, "ada@example.com")
    await add_passkey(client, authenticator)
    await log_out(client)
    gp = services_of(client)
    user = await gp.accounts.find("ada@example.com")
    assert user is not None
    await gp.accounts.set_disabled(user, True)
    response = await sign_in_with(client, authenticator)
    assert response.status_code == 400
    assert response.json()["error"] == "refused"
    assert "set-cookie" not in response.headers or "gp_session=" not in str(
        response.headers.get_list("set-cookie")
    ).replace('gp_session=""', "")
    assert not await is_signed_in(client)
    assert "passkey: disabled" in await _events(client, Event.LOGIN_FAILED)


async def test_a_passkey_never_registered_here_is_refused_and_audited(
    client: httpx.AsyncClient,
) -> None:
    stranger = device()
    # A credential the authenticator made for this site, but never sent to it.
    stranger.create({"challenge": "AAAA", "rp": {"id": "127.0.0.1"}, "user": {"id": "AAAA"}})
    response = await sign_in_with(client, stranger)
    assert response.status_code == 400
    assert response.json()["message"] == "This passkey cannot sign in here."
    assert not await is_signed_in(client)
    assert await _events(client, Event.LOGIN_FAILED) == ["passkey"]


async def test_passkey_sign_in_is_throttled_per_address__asvs_6_3_1(
    make_settings: Callable[..., Settings], app_client: AppClient
) -> None:
    authenticator = device()
    async with app_client(make_settings(login_address_limit=3)) as client:
        await sign_up_as(client, "ada@example.com")
        await add_passkey(client, authenticator)
        await log_out(client)
        statuses = []
        for _ in range(4):
            statuses.append((await sign_in_with(client, authenticator)).status_code)
            if statuses[-1] == 200:
                await log_out(client)
        assert statuses[:3] == [200, 200, 200]
        assert statuses[3] == 429
        assert await _events(client, Event.LOGIN_THROTTLED) == ["passkey"]


async def test_removing_a_passkey_needs_the_form_token_and_is_audited(
    client: httpx.AsyncClient,
) -> None:
    authenticator = device()
    await sign_up_as(client, "ada@example.com")
    await add_passkey(client, authenticator, "Old key")
    gp = services_of(client)
    user = await gp.accounts.find("ada@example.com")
    assert user is not None
    [passkey] = await gp.passkeys.for_user(user.id)
    forged = await client.post(
        "/account/passkeys/remove", data={"credential_id": passkey.credential_id}
    )
    assert forged.status_code == 403
    assert await gp.passkeys.for_user(user.id) == [passkey]
    form = {"credential_id": passkey.credential_id}
    removed = await post_form(client, "/account/passkeys/remove", form, page="/account")
    assert removed.headers["location"] == "/account?notice=passkey-removed"
    assert await gp.passkeys.for_user(user.id) == []
    assert await _events(client, Event.PASSKEY_REMOVED) == ["Old key"]
    again = await post_form(client, "/account/passkeys/remove", form, page="/account")
    assert again.headers["location"] == "/account?notice=passkey-not-found"
    await log_out(client)
    assert (await sign_in_with(client, authenticator)).status_code == 400


async def test_adding_or_removing_a_passkey_needs_a_recent_sign_in__asvs_7_5_1(
    make_settings: Callable[..., Settings], app_client: AppClient
) -> None:
    clock = FixedClock()
    async with app_client(make_settings(reauth_window_seconds=60), clock=clock) as client:
        await sign_up_as(client, "ada@example.com")
        assert (await add_passkey(client, device())).status_code == 200
        clock.advance(61)
        csrf = await csrf_from(client, "/account")
        response = await api(client, ACCOUNT_OPTIONS, {}, csrf)
        assert response.status_code == 403
        assert response.json()["error"] == "reauthenticate"
        assert response.json()["redirect"] == "/account/confirm?next=/account"
        gp = services_of(client)
        user = await gp.accounts.find("ada@example.com")
        assert user is not None
        [passkey] = await gp.passkeys.for_user(user.id)
        form = {"credential_id": passkey.credential_id}
        removed = await post_form(client, "/account/passkeys/remove", form, page="/account")
        assert removed.headers["location"].startswith("/account/confirm")
        assert await gp.passkeys.for_user(user.id) == [passkey]


async def test_a_passkey_is_a_second_factor_after_the_password(client: httpx.AsyncClient) -> None:
    authenticator = device()
    await sign_up_as(client, "ada@example.com")
    await add_passkey(client, authenticator)
    await log_out(client)
    first = await log_in(client, "ada@example.com")
    assert first.headers["location"] == "/login/verify"
    page = await client.get("/login/verify")
    assert "Use a passkey" in page.text
    assert "/static/passkeys.js" in page.text
    csrf = await csrf_from(client, "/login/verify")
    options = await api(client, VERIFY_OPTIONS, {}, csrf)
    assert options.status_code == 200, options.text
    [allowed] = options.json()["allowCredentials"]
    credential = authenticator.get(options.json())
    assert allowed["id"] == credential["id"]
    done = await api(client, VERIFY_FINISH, {"credential": credential}, csrf)
    assert done.status_code == 200, done.text
    assert done.json() == {"redirect": "/account"}
    assert await is_signed_in(client)
    assert await _amr(client, "ada@example.com") == ("pwd", "hwk", "mfa")
    assert await _events(client, Event.MFA_SUCCEEDED) == ["passkey"]


async def test_someone_elses_passkey_is_no_second_factor(
    client: httpx.AsyncClient, app_client: AppClient, settings: Settings
) -> None:
    adas, bobs = device(), device()
    await sign_up_as(client, "ada@example.com")
    await add_passkey(client, adas)
    await log_out(client)
    async with app_client(settings) as bob:
        await sign_up_as(bob, "bob@example.com")
        await add_passkey(bob, bobs)
    await log_in(client, "ada@example.com")
    csrf = await csrf_from(client, "/login/verify")
    options = (await api(client, VERIFY_OPTIONS, {}, csrf)).json()
    done = await api(client, VERIFY_FINISH, {"credential": bobs.get(options)}, csrf)
    assert done.status_code == 400
    assert not await is_signed_in(client)
    assert await _events(client, Event.MFA_FAILED) == ["passkey"]


async def test_the_second_factor_endpoints_need_a_waiting_sign_in(
    client: httpx.AsyncClient,
) -> None:
    csrf = await csrf_from(client, "/login")
    for path in (VERIFY_OPTIONS, VERIFY_FINISH):
        response = await api(client, path, {}, csrf)
        assert response.status_code == 400
        assert response.json()["redirect"] == "/login"


async def test_when_mfa_is_required_a_passkey_enrols_at_the_first_sign_in(
    make_settings: Callable[..., Settings], app_client: AppClient
) -> None:
    authenticator = device()
    async with app_client(make_settings(mfa_required=True)) as client:
        first = await post_form(client, "/signup", {
            "email": "ada@example.com", "password": PASSWORD, "name": "Ada",
        })  # fmt: skip
        assert first.headers["location"] == "/login/enrol"
        page = await client.get("/login/enrol")
        assert "Add a passkey" in page.text
        csrf = await csrf_from(client, "/login/enrol")
        # Not yet a factor to prove: the verify endpoints send the browser to enrol.
        early = await api(client, VERIFY_OPTIONS, {}, csrf)
        assert early.status_code == 400
        assert early.json()["redirect"] == "/login/enrol"
        options = await api(client, ENROL_OPTIONS, {}, csrf)
        assert options.status_code == 200, options.text
        body = {"name": "First key", "credential": authenticator.create(options.json())}
        done = await api(client, ENROL_FINISH, body, csrf)
        assert done.status_code == 200, done.text
        assert done.json() == {"redirect": "/account"}
        assert await is_signed_in(client)
        assert await _amr(client, "ada@example.com") == ("pwd", "hwk", "mfa")
        assert await _events(client, Event.PASSKEY_ADDED) == ["First key"]
        # Its only factor stays while MFA is required.
        gp = services_of(client)
        user = await gp.accounts.find("ada@example.com")
        assert user is not None
        [passkey] = await gp.passkeys.for_user(user.id)
        form = {"credential_id": passkey.credential_id}
        kept = await post_form(client, "/account/passkeys/remove", form, page="/account")
        assert kept.headers["location"] == "/account?notice=passkey-kept#passkeys"
        assert await gp.passkeys.for_user(user.id) == [passkey]


async def test_a_ceremony_left_for_more_than_five_minutes_has_expired(
    make_settings: Callable[..., Settings], app_client: AppClient
) -> None:
    authenticator, clock = device(), FixedClock()
    async with app_client(make_settings(), clock=clock) as client:
        await sign_up_as(client, "ada@example.com")
        await add_passkey(client, authenticator)
        await log_out(client)
        csrf = await csrf_from(client, "/login")
        options = (await api(client, LOGIN_OPTIONS, {}, csrf)).json()
        clock.advance(301)
        body = {"credential": authenticator.get(options), "next": "/account"}
        late = await api(client, LOGIN_FINISH, body, csrf)
        assert late.status_code == 400
        assert late.json()["error"] == "expired"
        assert not await is_signed_in(client)
