"""The key ring over a fixed clock, on real SQL stores: publish before signing, keep until
every signed token has expired, then leave the JWKS."""

import json
from collections.abc import Callable

import pytest

from gatepass.clock import FixedClock
from gatepass.crypto import jwt
from gatepass.crypto.jwt import MAX_LEEWAY_SECONDS
from gatepass.crypto.master_key import MasterKey
from gatepass.crypto.sealing import KeySealer
from gatepass.errors import ConfigError
from gatepass.keys.model import KeyState
from gatepass.keys.ring import KeyRing, NoSigningKey, RotationPolicy
from gatepass.storage.backends import Backends
from tests.keys.conftest import AUDIENCE, ISSUER, JWKS_MAX_AGE, TOKEN_TTL

MakeRing = Callable[..., KeyRing]


@pytest.fixture(params=("sqlite", "postgres"))
def backend(request: pytest.FixtureRequest) -> str:
    """Signing keys always live in SQL; the Redis backend changes nothing for them."""
    name: str = request.param
    return name


async def published_kids(ring: KeyRing) -> list[str]:
    return [key["kid"] for key in json.loads(await ring.jwks())["keys"]]


async def test_first_start_makes_one_active_key_per_algorithm_at_once(
    make_ring: MakeRing, clock: FixedClock
) -> None:
    ring = make_ring()
    await ring.start()
    keys = await ring.list_keys()
    assert sorted(k.alg for k in keys) == ["ES256", "EdDSA", "RS256"]
    assert all(k.state(clock.now()) is KeyState.ACTIVE for k in keys)
    for alg in ("RS256", "ES256", "EdDSA"):
        assert (await ring.signing_key(alg)).alg == alg
    assert sorted(await published_kids(ring)) == sorted(k.kid for k in keys)


async def test_a_second_start_reuses_the_keys(make_ring: MakeRing) -> None:
    first = make_ring("ES256")
    await first.start()
    again = make_ring("ES256")
    await again.start()
    assert [k.kid for k in await again.list_keys()] == [k.kid for k in await first.list_keys()]


async def test_a_second_start_on_a_clock_behind_within_the_leeway_reuses_the_keys(
    backends: Backends, sealer: KeySealer, policy: RotationPolicy, clock: FixedClock
) -> None:
    first = KeyRing(backends.signing_keys, sealer, policy, clock, ("ES256",))
    await first.start()
    behind = FixedClock(clock.now() - MAX_LEEWAY_SECONDS)
    again = KeyRing(backends.signing_keys, sealer, policy, behind, ("ES256",))
    await again.start()
    [key] = await first.list_keys()
    assert [k.kid for k in await again.list_keys()] == [key.kid]
    assert (await again.signing_key("ES256")).kid == key.kid


async def test_rotation_publishes_first_signs_later_and_keeps_the_old_key_until_its_tokens_expire(
    make_ring: MakeRing, clock: FixedClock, policy: RotationPolicy
) -> None:
    ring = make_ring("ES256")
    await ring.start()
    old = await ring.signing_key("ES256")

    new = await ring.rotate("ES256")
    # Published now, signing no sooner than one JWKS cache lifetime later.
    assert new.published_at == clock.now()
    assert new.active_at - new.published_at >= JWKS_MAX_AGE
    assert new.state(clock.now()) is KeyState.NEXT
    assert set(await published_kids(ring)) == {old.kid, new.kid}
    assert (await ring.signing_key("ES256")).kid == old.kid

    clock.advance(new.active_at - clock.now() - 1)
    assert (await ring.signing_key("ES256")).kid == old.kid
    last_token = jwt.sign(
        {"iss": ISSUER, "aud": AUDIENCE, "iat": clock.now(), "exp": clock.now() + TOKEN_TTL},
        old,
        "at+jwt",
    )

    clock.advance(1)  # the new key's moment
    assert (await ring.signing_key("ES256")).kid == new.kid
    states = {k.kid: k.state(clock.now()) for k in await ring.list_keys()}
    assert states == {old.kid: KeyState.RETIRING, new.kid: KeyState.ACTIVE}
    assert set(await published_kids(ring)) == {old.kid, new.kid}

    # The old key's last token is still verifiable, with leeway, until it expires.
    clock.advance(TOKEN_TTL + 58)
    assert old.kid in await published_kids(ring)
    keys = await ring.verification_keys()
    claims = jwt.verify(
        last_token, keys, issuer=ISSUER, audience=AUDIENCE, typ="at+jwt", now=clock.now(),
        leeway=60,
    )  # fmt: skip
    assert claims["aud"] == AUDIENCE

    clock.advance(policy.retire_grace_seconds - TOKEN_TTL - 58)
    assert await published_kids(ring) == [new.kid]
    assert [k.kid for k in await ring.verification_keys()] == [new.kid]
    assert {k.kid: k.state(clock.now()) for k in await ring.list_keys()}[old.kid] == (
        KeyState.EXPIRED
    )

    await ring.rotate("ES256")  # the next rotation removes what has expired
    assert old.kid not in [k.kid for k in await ring.list_keys()]


async def test_rotating_one_algorithm_leaves_the_others_alone(
    make_ring: MakeRing, clock: FixedClock
) -> None:
    ring = make_ring("RS256", "EdDSA")
    await ring.start()
    ed = await ring.signing_key("EdDSA")
    await ring.rotate("RS256")
    clock.advance(JWKS_MAX_AGE * 10)
    assert (await ring.signing_key("EdDSA")).kid == ed.kid


async def test_a_second_rotation_never_postpones_a_scheduled_retirement(
    make_ring: MakeRing, clock: FixedClock
) -> None:
    ring = make_ring("EdDSA")
    await ring.start()
    first = await ring.rotate("EdDSA")
    clock.advance(10)
    second = await ring.rotate("EdDSA")
    records = {k.kid: k for k in await ring.list_keys()}
    assert records[first.kid].retired_at == second.active_at
    original = next(k for k in records.values() if k.kid not in (first.kid, second.kid))
    assert original.retired_at == first.active_at


async def test_the_jwks_is_not_rebuilt_per_call(
    make_ring: MakeRing, backends: Backends, monkeypatch: pytest.MonkeyPatch
) -> None:
    ring = make_ring("ES256")
    await ring.start()
    body = await ring.jwks()
    calls = 0
    original = backends.signing_keys.list_all

    async def counting() -> list:  # type: ignore[type-arg]
        nonlocal calls
        calls += 1
        return await original()

    monkeypatch.setattr(backends.signing_keys, "list_all", counting)
    for _ in range(20):
        assert await ring.jwks() is body
    assert calls == 0


async def test_another_process_rotation_is_seen_within_the_refresh_interval(
    make_ring: MakeRing, clock: FixedClock, policy: RotationPolicy
) -> None:
    server, operator = make_ring("ES256"), make_ring("ES256")
    await server.start()
    new = await operator.rotate("ES256")
    clock.advance(policy.refresh_seconds)
    assert new.kid in await published_kids(server)


async def test_no_signing_key_before_start(make_ring: MakeRing) -> None:
    with pytest.raises(NoSigningKey):
        await make_ring("ES256").signing_key("ES256")


async def test_another_master_key_fails_the_start_with_one_line_naming_the_setting(
    make_ring: MakeRing,
) -> None:
    await make_ring("ES256").start()
    stranger = KeySealer(MasterKey(b"z" * 32))
    with pytest.raises(ConfigError, match="GATEPASS_SECRET_KEY") as refused:
        await make_ring("ES256", key_sealer=stranger).start()
    assert "\n" not in str(refused.value)
    with pytest.raises(ConfigError):
        await make_ring("ES256", key_sealer=stranger).rotate("ES256")


async def test_private_parts_are_stored_sealed(make_ring: MakeRing, backends: Backends) -> None:
    ring = make_ring()
    await ring.start()
    for record in await backends.signing_keys.list_all():
        assert record.sealed_private.startswith("v1.")
        assert '"d"' not in record.sealed_private
        assert '"d"' not in record.public_jwk


async def test_the_jwks_is_at_hand_only_while_the_snapshot_is_fresh(
    make_ring: MakeRing, clock: FixedClock, policy: RotationPolicy
) -> None:
    ring = make_ring("ES256")
    assert ring.jwks_at_hand() is None  # never loaded
    await ring.start()
    body = await ring.jwks()
    assert ring.jwks_at_hand() is body
    clock.advance(policy.refresh_seconds)
    assert ring.jwks_at_hand() is None  # due for a reload: jwks() reloads it first
    reloaded = await ring.jwks()
    assert ring.jwks_at_hand() is reloaded
