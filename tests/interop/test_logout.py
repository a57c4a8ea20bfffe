"""RP-initiated logout (OpenID Connect RP-Initiated Logout 1.0) from the client's side:
the discovered `end_session_endpoint`, confirmed by the user on the provider's page, then
back at the client's registered post-logout URI with its `state`."""

import secrets

import httpx
from authlib.common.urls import add_params_to_uri

from tests.interop.flow import WEB_APP_CALLBACK, authorize, redeem
from tests.interop.relying_party import Provider, relying_party
from tests.interop.support import RegisterClient
from tests.interop.user_agent import User, form_posting_to, submit

SIGNED_OUT = "https://rp.interop.example/signed-out"


async def test_rp_initiated_logout_returns_with_state_and_ends_the_session__rp_logout_2(
    provider: Provider,
    register_client: RegisterClient,
    browser: httpx.AsyncClient,
    account: User,
) -> None:
    client = register_client(WEB_APP_CALLBACK, post_logout_redirect_uri=SIGNED_OUT)
    async with relying_party(client) as rp:
        token = await redeem(rp, provider, await authorize(rp, provider, browser, account))
        state = secrets.token_urlsafe(16)
        logout_url = add_params_to_uri(
            provider.endpoint("end_session_endpoint"),
            [
                ("id_token_hint", token["id_token"]),
                ("post_logout_redirect_uri", SIGNED_OUT),
                ("state", state),
            ],
        )

        # The provider asks the user first (§2: the OP SHOULD ask whether to log out).
        page = await browser.get(logout_url)
        assert page.status_code == 200, page.text
        confirm = form_posting_to(page, "/logout")
        assert confirm is not None, page.text
        assert "csrf_token" in confirm.fields
        button = confirm.buttons[0] if confirm.buttons else None
        done = await submit(browser, page, confirm, button=button)

        # §3: back to the registered URI, with the client's state.
        assert done.status_code in (302, 303), done.text
        back = httpx.URL(done.headers["location"])
        assert str(back.copy_with(query=None)) == SIGNED_OUT
        assert back.params["state"] == state

        # The session is over: a silent request gets login_required (OIDC Core §3.1.2.6).
        silent = await authorize(rp, provider, browser, None, prompt="none")
    assert silent.params["error"] == "login_required"
    assert "code" not in silent.params
