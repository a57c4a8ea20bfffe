"""RelyingParty against a real upstream: a second gatepass, driven through its own pages.

The login, consent and code exchange are the upstream's real ones; so are its id tokens
(signed with its keys, published in its JWKS) and its refusals.
"""

import dataclasses

import pytest

from gatepass.clock import FixedClock, SystemClock
from gatepass.federation.model import UpstreamError, UpstreamProvider
from gatepass.federation.relying_party import RelyingParty
from tests.federation.core_fixtures import CALLBACK, Upstream, sign_in_upstream, upstream
from tests.live_server import free_port

__all__ = ["upstream"]  # the module-scoped fixture, imported for pytest


async def test_a_person_signed_in_upstream_comes_back_as_an_identity(upstream: Upstream) -> None:
    rp = RelyingParty(SystemClock())
    provider = upstream.provider()
    person = await upstream.sign_up()
    pending, params = await sign_in_upstream(rp, provider, person)
    assert params["iss"] == upstream.issuer  # RFC 9207, checked by complete
    identity = await rp.complete(provider, pending, params, CALLBACK.format(name="upstream"))
    assert identity.provider == "upstream"
    assert identity.subject  # the upstream's user id
    assert identity.email == person.email
    assert identity.email_verified is False  # gatepass does not claim to have verified it
    assert identity.name == person.name
    assert "pwd" in identity.amr


async def test_the_authorization_request_carries_pkce_s256_state_and_nonce(
    upstream: Upstream,
) -> None:
    rp = RelyingParty(SystemClock())
    url, pending = await rp.begin(upstream.provider(), CALLBACK.format(name="upstream"))
    assert url.startswith(f"{upstream.issuer}/authorize?")
    for part in ("response_type=code", "code_challenge_method=S256", f"state={pending.state}"):
        assert part in url
    assert f"nonce={pending.nonce}" in url
    assert pending.code_verifier not in url


async def test_a_replayed_callback_fails_the_second_exchange(upstream: Upstream) -> None:
    rp = RelyingParty(SystemClock())
    provider = upstream.provider()
    pending, params = await sign_in_upstream(rp, provider, await upstream.sign_up())
    redirect_uri = CALLBACK.format(name="upstream")
    await rp.complete(provider, pending, params, redirect_uri)
    with pytest.raises(UpstreamError) as caught:
        await rp.complete(provider, pending, params, redirect_uri)
    assert caught.value.reason == "exchange_failed"


async def test_a_tampered_state_is_refused_before_any_exchange(upstream: Upstream) -> None:
    rp = RelyingParty(SystemClock())
    provider = upstream.provider()
    pending, params = await sign_in_upstream(rp, provider, await upstream.sign_up())
    with pytest.raises(UpstreamError) as caught:
        await rp.complete(
            provider,
            pending,
            {**params, "state": "x" + params["state"][1:]},
            CALLBACK.format(name="upstream"),
        )
    assert caught.value.reason == "invalid_state"
    # The code was never spent: the right state still completes.
    identity = await rp.complete(provider, pending, params, CALLBACK.format(name="upstream"))
    assert identity.email is not None


async def test_the_login_in_flight_of_another_provider_is_refused(upstream: Upstream) -> None:
    rp = RelyingParty(SystemClock())
    provider = upstream.provider()
    pending, params = await sign_in_upstream(rp, provider, await upstream.sign_up())
    other = dataclasses.replace(pending, provider="another")
    with pytest.raises(UpstreamError) as caught:
        await rp.complete(provider, other, params, CALLBACK.format(name="upstream"))
    assert caught.value.reason == "invalid_state"


async def test_a_denied_consent_is_access_denied(upstream: Upstream) -> None:
    rp = RelyingParty(SystemClock())
    provider = upstream.provider()
    pending, params = await sign_in_upstream(
        rp, provider, await upstream.sign_up(), decision="deny"
    )
    assert params["error"] == "access_denied"
    with pytest.raises(UpstreamError) as caught:
        await rp.complete(provider, pending, params, CALLBACK.format(name="upstream"))
    assert caught.value.reason == "access_denied"
    assert "cancelled" in caught.value.message


async def test_an_id_token_whose_nonce_is_not_ours_is_refused(upstream: Upstream) -> None:
    rp = RelyingParty(SystemClock())
    provider = upstream.provider()
    pending, params = await sign_in_upstream(rp, provider, await upstream.sign_up())
    forged = dataclasses.replace(pending, nonce="another-nonce-than-the-one-sent")
    with pytest.raises(UpstreamError) as caught:
        await rp.complete(provider, forged, params, CALLBACK.format(name="upstream"))
    assert caught.value.reason == "invalid_id_token"


async def test_a_callback_for_another_client_fails_the_exchange(upstream: Upstream) -> None:
    """The code was issued to one client; the other client's credentials cannot redeem it."""
    rp = RelyingParty(SystemClock())
    provider = upstream.provider()
    other = upstream.provider()
    pending, params = await sign_in_upstream(rp, provider, await upstream.sign_up())
    with pytest.raises(UpstreamError) as caught:
        await rp.complete(other, pending, params, CALLBACK.format(name="upstream"))
    assert caught.value.reason == "exchange_failed"


async def test_a_wrong_client_secret_fails_the_exchange(upstream: Upstream) -> None:
    rp = RelyingParty(SystemClock())
    provider = upstream.provider()
    pending, params = await sign_in_upstream(rp, provider, await upstream.sign_up())
    wrong = dataclasses.replace(provider, client_secret="not-the-secret")
    with pytest.raises(UpstreamError) as caught:
        await rp.complete(wrong, pending, params, CALLBACK.format(name="upstream"))
    assert caught.value.reason == "exchange_failed"


async def test_a_login_left_pending_too_long_is_refused(upstream: Upstream) -> None:
    clock = FixedClock(SystemClock().now())
    rp = RelyingParty(clock)
    provider = upstream.provider()
    pending, params = await sign_in_upstream(rp, provider, await upstream.sign_up())
    clock.advance(601)
    with pytest.raises(UpstreamError) as caught:
        await rp.complete(provider, pending, params, CALLBACK.format(name="upstream"))
    assert caught.value.reason == "invalid_state"


async def test_a_provider_that_is_down_is_unavailable() -> None:
    rp = RelyingParty(SystemClock(), timeout=5)
    closed = f"http://127.0.0.1:{free_port()}"
    down = UpstreamProvider("down", "oidc", closed, "id", "secret", ("openid",), "Down")
    with pytest.raises(UpstreamError) as caught:
        await rp.begin(down, CALLBACK.format(name="down"))
    assert caught.value.reason == "unavailable"
    assert "try again" in caught.value.message


async def test_a_discovery_document_of_another_issuer_is_misconfigured(
    upstream: Upstream,
) -> None:
    """Reached as localhost, the upstream's document still names 127.0.0.1 (Discovery §4.3)."""
    rp = RelyingParty(SystemClock())
    aliased = upstream.issuer.replace("127.0.0.1", "localhost")
    provider = upstream.provider(issuer=aliased)
    with pytest.raises(UpstreamError) as caught:
        await rp.begin(provider, CALLBACK.format(name="upstream"))
    assert caught.value.reason == "misconfigured"
