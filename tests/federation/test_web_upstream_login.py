"""Login with an upstream OpenID provider through gatepass's pages: a real oidc-provider
upstream, gatepass in-process on every backend."""

from collections.abc import Callable

import httpx
from sqlalchemy import func, select

from gatepass.audit.model import AuditEventType
from gatepass.config import Settings
from gatepass.crypto.master_key import MasterKey
from gatepass.crypto.secret_box import SecretSealer
from gatepass.federation.presets import make_provider
from gatepass.federation.registry import ProviderRegistry
from gatepass.storage.sql.tables import user_identities, users
from tests.federation import oidc_provider
from tests.federation.conftest import (
    CORP,
    CORP_NAME,
    RelyingParty,
    provider_settings,
    upstream_sign_in,
)
from tests.live_server import free_port
from tests.support import ISSUER, PASSWORD, csrf_of, sign_up, web_client
from tests.support import test_backends as open_backends


async def user_count(rp: RelyingParty) -> int:
    async with rp.backends.engine.connect() as conn:
        return int((await conn.execute(select(func.count()).select_from(users))).scalar_one())


async def identity_count(rp: RelyingParty) -> int:
    async with rp.backends.engine.connect() as conn:
        query = select(func.count()).select_from(user_identities)
        return int((await conn.execute(query)).scalar_one())


async def test_the_login_page_offers_each_provider(rp: RelyingParty) -> None:
    async with rp.browser() as browser:
        page = await browser.get("/login", params={"next": "/account"})
    assert f"Continue with {CORP_NAME}" in page.text
    assert f'href="/login/{CORP}?next=/account"' in page.text


async def test_a_new_person_with_a_verified_address_gets_an_account_and_a_session(
    rp: RelyingParty,
) -> None:
    async with rp.browser() as browser:
        back = await upstream_sign_in(browser, "alice", next_path="/account")
        assert back.status_code == 303, back.text
        assert back.headers["location"] == "/account"
        account = await browser.get("/account")
    assert account.status_code == 200
    assert "alice@example.com" in account.text
    assert "Alice Liddell" in account.text
    assert CORP_NAME in account.text  # listed under sign-in methods
    user = await rp.backends.users.find_by_email("alice@example.com")
    assert user is not None
    assert user.password_hash is None  # no password: the password form never lets them in
    sessions = await rp.backends.sessions.list_for_user(user.id, 0, 3600)
    assert [(s.amr, s.idp) for s in sessions] == [(("fed",), CORP)]


async def test_the_same_person_signs_in_again_to_the_same_account(rp: RelyingParty) -> None:
    async with rp.browser() as first:
        await upstream_sign_in(first, "alice")
    async with rp.browser() as second:
        back = await upstream_sign_in(second, "alice")
        assert back.status_code == 303
        assert "alice@example.com" in (await second.get("/account")).text
    assert await user_count(rp) == 1
    assert await identity_count(rp) == 1


async def test_an_unverified_address_creates_and_links_nothing(rp: RelyingParty) -> None:
    async with rp.browser() as browser:
        back = await upstream_sign_in(browser, "bob")
        assert back.status_code == 403
        assert "not verified" in back.text
        assert f'href="/login/{CORP}?next=/account"' in back.text  # a way to try again
        assert (await browser.get("/account")).status_code == 303  # not signed in
    assert await user_count(rp) == 0


async def test_a_person_without_an_address_gets_a_clear_page(rp: RelyingParty) -> None:
    async with rp.browser() as browser:
        back = await upstream_sign_in(browser, "nobody")  # the upstream has no claims for them
    assert back.status_code == 403
    assert "did not share an e-mail address" in back.text
    assert await user_count(rp) == 0


async def test_cancelling_at_the_provider_shows_a_retry_page(rp: RelyingParty) -> None:
    async with rp.browser() as browser:
        back = await upstream_sign_in(browser, "alice", consent=False)
    assert back.status_code == 400
    assert "cancelled" in back.text
    assert "Try again" in back.text
    assert await user_count(rp) == 0


async def link_with_password(
    browser: httpx.AsyncClient, page: httpx.Response, password: str
) -> httpx.Response:
    form = {"csrf_token": csrf_of(page.text), "password": password, "next": "/account"}
    return await browser.post(f"/login/{CORP}/link", data=form, headers={"Origin": ISSUER})


async def test_an_existing_account_links_only_after_its_password(rp: RelyingParty) -> None:
    async with rp.browser() as owner:
        await sign_up(owner, "carol@example.com", name="Carol Local")
    async with rp.browser() as browser:
        page = await upstream_sign_in(browser, "carol")
        assert page.status_code == 200
        assert "Enter its" in page.text  # the link page asks for that account's password
        assert (await browser.get("/account")).status_code == 303  # not signed in yet
        wrong = await link_with_password(browser, page, "not the password at all")
        assert wrong.status_code == 400
        assert await identity_count(rp) == 0
        right = await link_with_password(browser, wrong, PASSWORD)
        assert right.status_code == 303, right.text
        assert "carol@example.com" in (await browser.get("/account")).text
    assert await identity_count(rp) == 1
    assert await user_count(rp) == 1
    async with rp.browser() as later:  # from now on the provider alone signs her in
        back = await upstream_sign_in(later, "carol")
        assert back.status_code == 303
        assert "carol@example.com" in (await later.get("/account")).text


async def test_a_callback_with_a_tampered_state_is_refused(rp: RelyingParty) -> None:
    async with rp.browser() as browser:
        start = await browser.get(f"/login/{CORP}")
        async with httpx.AsyncClient(timeout=30) as upstream:
            back = await oidc_provider.sign_in(upstream, start.headers["location"], "alice")
        url = httpx.URL(back)
        forged = url.copy_set_param("state", "A" * 43)
        answer = await browser.get(str(forged))
        assert answer.status_code == 400
        assert "no longer valid" in answer.text
        assert (await browser.get("/account")).status_code == 303
    assert await user_count(rp) == 0


async def test_a_replayed_callback_signs_nobody_in(rp: RelyingParty) -> None:
    async with rp.browser() as browser:
        start = await browser.get(f"/login/{CORP}")
        async with httpx.AsyncClient(timeout=30) as upstream:
            back = await oidc_provider.sign_in(upstream, start.headers["location"], "alice")
        first = await browser.get(back)
        assert first.status_code == 303
    async with rp.browser() as attacker:  # the callback URL alone, in another browser
        again = await attacker.get(back)
        assert again.status_code == 400
        assert (await attacker.get("/account")).status_code == 303
    user = await rp.backends.users.find_by_email("alice@example.com")
    assert user is not None
    assert len(await rp.backends.sessions.list_for_user(user.id, 0, 3600)) == 1


async def test_a_callback_without_a_login_in_flight_is_a_clear_page(rp: RelyingParty) -> None:
    async with rp.browser() as browser:
        for query in (
            {},
            {"code": "x", "state": "y"},
            {"error": "server_error"},
            {"state": "é" * 5000},
        ):
            answer = await browser.get(f"/login/{CORP}/callback", params=query)
            assert answer.status_code == 400, (query, answer.status_code)
            assert "Try again" in answer.text


async def test_an_unknown_provider_is_not_found(rp: RelyingParty) -> None:
    async with rp.browser() as browser:
        for path in ("/login/nope", "/login/nope/callback", "/login/%2e%2e"):
            assert (await browser.get(path)).status_code == 404, path


async def test_a_provider_that_is_down_gets_a_clear_page(
    make_settings: Callable[..., Settings], corp_secret: str
) -> None:
    down = provider_settings("down", f"http://127.0.0.1:{free_port()}", corp_secret)
    settings = make_settings(providers=(down,))
    async with open_backends(settings) as backends, web_client(settings, backends) as browser:
        answer = await browser.get("/login/down")
    assert answer.status_code == 502
    assert "cannot be reached" in answer.text


async def test_a_disabled_user_cannot_sign_in_upstream(rp: RelyingParty) -> None:
    async with rp.browser() as browser:
        await upstream_sign_in(browser, "alice")
    user = await rp.backends.users.find_by_email("alice@example.com")
    assert user is not None
    await rp.backends.users.update(user.id, now=user.updated_at, disabled=True)
    async with rp.browser() as browser:
        back = await upstream_sign_in(browser, "alice")
        assert back.status_code == 403
        assert "disabled" in back.text
        assert (await browser.get("/account")).status_code == 303


async def test_upstream_logins_are_audited(rp: RelyingParty) -> None:
    async with rp.browser() as browser:
        await upstream_sign_in(browser, "alice")
        await upstream_sign_in(browser, "bob")
    events = [e.type for e in await rp.backends.audit.recent(limit=20)]
    assert AuditEventType.UPSTREAM_LOGIN_SUCCEEDED in events
    assert AuditEventType.IDENTITY_LINKED in events
    assert AuditEventType.SIGNUP in events


async def test_the_passwordless_user_keeps_their_last_way_in(rp: RelyingParty) -> None:
    async with rp.browser() as browser:
        await upstream_sign_in(browser, "alice")
        account = await browser.get("/account")
        assert "Change password" not in account.text  # there is none to change
        user = await rp.backends.users.find_by_email("alice@example.com")
        assert user is not None
        (linked,) = await rp.backends.identities.for_user(user.id)
        form = {
            "csrf_token": csrf_of(account.text),
            "provider": linked.provider,
            "subject": linked.subject,
        }
        answer = await browser.post(
            "/account/identities/unlink", data=form, headers={"Origin": ISSUER}
        )
        assert answer.headers["location"] == "/account?notice=identity-last"
        assert "only way to sign in" in (await browser.get(answer.headers["location"])).text
    assert await identity_count(rp) == 1


async def test_a_provider_sealed_under_another_master_key_gets_a_clear_page(
    rp: RelyingParty,
) -> None:
    """The database's provider secret cannot be opened (the master key was replaced): its
    pages say so (502), and the login page still works without it."""
    foreign = ProviderRegistry((), rp.backends.providers, SecretSealer(MasterKey.generate()))
    await foreign.add(
        make_provider("orphan", issuer=rp.corp_issuer, client_id="x", client_secret="y" * 20)
    )
    async with rp.browser() as browser:
        for path in ("/login/orphan", "/login/orphan/callback"):
            answer = await browser.get(path)
            assert answer.status_code == 502, path
            assert "not set up correctly" in answer.text
        login = await browser.get("/login")
        assert login.status_code == 200
        assert CORP_NAME in login.text
        assert "orphan" not in login.text


async def test_a_next_too_long_for_the_cookie_is_a_clear_page_and_a_long_one_works(
    rp: RelyingParty,
) -> None:
    """The login in flight rides in a cookie of at most 3,500 characters: an /authorize
    request with a 2,000-character state still goes through; one of several KiB gets a
    page that says what to do, never a 500."""
    async with rp.browser() as browser:
        fits = await browser.get(
            f"/login/{CORP}", params={"next": "/authorize?state=" + "s" * 2000}
        )
        assert fits.status_code == 303
        assert fits.headers["location"].startswith(rp.corp_issuer)
        huge = await browser.get(
            f"/login/{CORP}", params={"next": "/authorize?state=" + "s" * 6000}
        )
        assert huge.status_code == 400
        assert "too long" in huge.text
        assert not browser.cookies.get("gp_upstream")  # no login left in flight
