"""The passkey core against real signed ceremonies (W3C WebAuthn Level 3 §7.1, §7.2)."""

from collections.abc import Awaitable, Callable
from dataclasses import replace
from typing import Any

import pytest

from gatepass.clock import FixedClock
from gatepass.errors import ValidationError
from gatepass.mfa.passkey_model import b64url, unb64url
from gatepass.mfa.passkey_store import Passkey
from gatepass.mfa.passkeys import Ceremony, Passkeys, RelyingParty
from gatepass.mfa.webauthn_input import MalformedCredential, PasskeyRefused
from tests.passkeys.authenticator import SoftAuthenticator
from tests.passkeys.conftest import ORIGIN, RP_ID

AddUser = Callable[[], Awaitable[str]]


async def _registered(
    core: Passkeys, user_id: str, device: SoftAuthenticator, name: str = "Key"
) -> Passkey:
    options, challenge = await core.registration_options(user_id, "ada@example.com", "Ada")
    return await core.register(challenge, user_id, name, device.create(options))


def test_relying_party_is_the_issuers_host_and_origin__webauthn_5_1_3() -> None:
    rp = RelyingParty.for_issuer("https://login.example.com:8443/tenant")
    assert (rp.rp_id, rp.origin) == ("login.example.com", "https://login.example.com:8443")


async def test_registration_options_name_the_user_by_id_never_by_email__webauthn_14_6_1(
    core: Passkeys, add_user: AddUser, authenticator: SoftAuthenticator
) -> None:
    user_id = await add_user()
    first = await _registered(core, user_id, authenticator)
    options, challenge = await core.registration_options(user_id, "ada@example.com", "Ada")
    assert unb64url(options["user"]["id"]) == user_id.encode()
    assert b"ada" not in unb64url(options["user"]["id"])
    assert options["rp"] == {"id": RP_ID, "name": "gatepass"}
    assert options["authenticatorSelection"]["residentKey"] == "required"
    assert options["attestation"] == "none"
    # §5.4.3 excludeCredentials: the authenticator that holds one already is refused.
    assert [c["id"] for c in options["excludeCredentials"]] == [first.credential_id]
    assert challenge.ceremony is Ceremony.REGISTER
    assert challenge.user_id == user_id


async def test_passwordless_sign_in_with_a_device_bound_passkey(
    core: Passkeys, add_user: AddUser, authenticator: SoftAuthenticator, fixed_clock: FixedClock
) -> None:
    user_id = await add_user()
    passkey = await _registered(core, user_id, authenticator, "  YubiKey  ")
    assert passkey.name == "YubiKey"
    assert passkey.transports == ("internal",)
    options, challenge = await core.sign_in_options()
    assert options["allowCredentials"] == []
    assert options["userVerification"] == "required"
    fixed_clock.advance(60)
    asserted = await core.sign_in(challenge, authenticator.get(options))
    assert asserted.passkey.user_id == user_id
    assert asserted.amr == ("hwk", "user", "mfa")
    stored = (await core.for_user(user_id))[0]
    assert (stored.sign_count, stored.last_used_at) == (1, fixed_clock.now())


async def test_a_synced_passkey_without_a_counter_signs_in_again_and_again_as_swk(
    core: Passkeys, add_user: AddUser
) -> None:
    device = SoftAuthenticator(origin=ORIGIN, rp_id=RP_ID, counts=False, backed_up=True)
    user_id = await add_user()
    assert (await _registered(core, user_id, device)).backed_up
    for _ in range(3):
        options, challenge = await core.sign_in_options()
        asserted = await core.sign_in(challenge, device.get(options))
        assert asserted.amr == ("swk", "user", "mfa")
        assert asserted.passkey.sign_count == 0


async def test_registration_from_another_origin_is_refused__webauthn_7_1_step_9(
    core: Passkeys, add_user: AddUser, authenticator: SoftAuthenticator
) -> None:
    user_id = await add_user()
    options, challenge = await core.registration_options(user_id, "a@example.com", "")
    response = authenticator.create(options, origin="https://evil.example")
    with pytest.raises(PasskeyRefused):
        await core.register(challenge, user_id, "Key", response)
    assert await core.for_user(user_id) == []


async def test_registration_for_another_rp_id_is_refused__webauthn_7_1_step_13(
    core: Passkeys, add_user: AddUser, authenticator: SoftAuthenticator
) -> None:
    user_id = await add_user()
    options, challenge = await core.registration_options(user_id, "a@example.com", "")
    response = authenticator.create(options, rp_id="example.com")
    with pytest.raises(PasskeyRefused):
        await core.register(challenge, user_id, "Key", response)


async def test_registration_answering_another_challenge_is_refused__webauthn_7_1_step_8(
    core: Passkeys, add_user: AddUser, authenticator: SoftAuthenticator
) -> None:
    user_id = await add_user()
    options, challenge = await core.registration_options(user_id, "a@example.com", "")
    response = authenticator.create(options, challenge=b64url(b"another challenge entirely!!"))
    with pytest.raises(PasskeyRefused):
        await core.register(challenge, user_id, "Key", response)


async def test_a_registration_challenge_is_for_the_user_it_was_issued_to(
    core: Passkeys, add_user: AddUser, authenticator: SoftAuthenticator
) -> None:
    ada, bob = await add_user(), await add_user()
    options, challenge = await core.registration_options(ada, "a@example.com", "")
    with pytest.raises(PasskeyRefused):
        await core.register(challenge, bob, "Key", authenticator.create(options))
    assert await core.for_user(bob) == []


async def test_the_same_credential_cannot_be_registered_twice(
    core: Passkeys, add_user: AddUser, authenticator: SoftAuthenticator
) -> None:
    ada, bob = await add_user(), await add_user()
    await _registered(core, ada, authenticator)
    options, challenge = await core.registration_options(bob, "b@example.com", "")
    again = authenticator.create(options, reuse=authenticator.credentials[-1])
    with pytest.raises(PasskeyRefused, match="registered already"):
        await core.register(challenge, bob, "Key", again)
    assert await core.for_user(bob) == []


@pytest.mark.parametrize("name", ["", "   ", "x" * 101, "tab\there"], ids=repr)
async def test_a_passkey_needs_a_short_printable_name(
    core: Passkeys, add_user: AddUser, authenticator: SoftAuthenticator, name: str
) -> None:
    user_id = await add_user()
    options, challenge = await core.registration_options(user_id, "a@example.com", "")
    with pytest.raises(ValidationError):
        await core.register(challenge, user_id, name, authenticator.create(options))


@pytest.mark.parametrize(
    "lie",
    [
        {"origin": "https://evil.example"},
        {"origin": "http://id.example.com"},
        {"rp_id": "example.com"},
        {"challenge": b64url(b"a challenge the server never issued")},
        {"bad_signature": True},
    ],
    ids=["another origin", "http origin", "another rp id", "another challenge", "bad signature"],
)
async def test_a_lying_assertion_is_refused_and_moves_nothing__webauthn_7_2(
    core: Passkeys, add_user: AddUser, authenticator: SoftAuthenticator, lie: dict[str, Any]
) -> None:
    user_id = await add_user()
    await _registered(core, user_id, authenticator)
    options, challenge = await core.sign_in_options()
    with pytest.raises(PasskeyRefused):
        await core.sign_in(challenge, authenticator.get(options, **lie))
    stored = (await core.for_user(user_id))[0]
    assert (stored.sign_count, stored.last_used_at) == (0, None)


async def test_a_challenge_is_answered_once__webauthn_13_4_3(
    core: Passkeys, add_user: AddUser, authenticator: SoftAuthenticator
) -> None:
    await _registered(core, await add_user(), authenticator)
    options, challenge = await core.sign_in_options()
    response = authenticator.get(options)
    await core.sign_in(challenge, response)
    with pytest.raises(PasskeyRefused, match="answered already"):
        await core.sign_in(challenge, response)
    # Even a fresh, valid signature over the used challenge is refused.
    with pytest.raises(PasskeyRefused, match="answered already"):
        await core.sign_in(challenge, authenticator.get(options))


async def test_a_challenge_answers_only_its_own_ceremony(
    core: Passkeys, add_user: AddUser, authenticator: SoftAuthenticator
) -> None:
    user_id = await add_user()
    await _registered(core, user_id, authenticator)
    options, challenge = await core.second_factor_options(user_id)
    with pytest.raises(PasskeyRefused, match="not for this step"):
        await core.sign_in(replace(challenge, user_id=None), authenticator.get(options))


@pytest.mark.parametrize("presented", [3, 5, 0], ids=["lower", "equal", "zero"])
async def test_a_counter_that_does_not_grow_is_refused_as_a_clone__webauthn_6_1_1(
    core: Passkeys, add_user: AddUser, authenticator: SoftAuthenticator, presented: int
) -> None:
    user_id = await add_user()
    await _registered(core, user_id, authenticator)
    authenticator.credentials[-1].sign_count = 4
    options, challenge = await core.sign_in_options()
    await core.sign_in(challenge, authenticator.get(options))  # counter 5 now
    options, challenge = await core.sign_in_options()
    with pytest.raises(PasskeyRefused):
        await core.sign_in(challenge, authenticator.get(options, sign_count=presented))
    assert (await core.for_user(user_id))[0].sign_count == 5


async def test_passwordless_sign_in_requires_user_verification__nist_800_63b_5_1_8(
    core: Passkeys, add_user: AddUser
) -> None:
    device = SoftAuthenticator(origin=ORIGIN, rp_id=RP_ID, verifies_user=False)
    user_id = await add_user()
    await _registered(core, user_id, device)
    options, challenge = await core.sign_in_options()
    with pytest.raises(PasskeyRefused):
        await core.sign_in(challenge, device.get(options))
    # As a second factor, presence is enough: the password was the other factor.
    options, challenge = await core.second_factor_options(user_id)
    asserted = await core.second_factor(challenge, user_id, device.get(options))
    assert asserted.key_amr == "hwk"
    assert asserted.amr == ("hwk", "user")


async def test_second_factor_options_name_only_the_users_passkeys(
    core: Passkeys, add_user: AddUser, authenticator: SoftAuthenticator
) -> None:
    ada, bob = await add_user(), await add_user()
    mine = await _registered(core, ada, authenticator)
    await _registered(core, bob, SoftAuthenticator(origin=ORIGIN, rp_id=RP_ID))
    options, _ = await core.second_factor_options(ada)
    assert [c["id"] for c in options["allowCredentials"]] == [mine.credential_id]
    with pytest.raises(PasskeyRefused, match="no passkey"):
        await core.second_factor_options(await add_user())


async def test_someone_elses_passkey_is_no_second_factor(core: Passkeys, add_user: AddUser) -> None:
    ada, bob = await add_user(), await add_user()
    adas, bobs = (SoftAuthenticator(origin=ORIGIN, rp_id=RP_ID) for _ in range(2))
    await _registered(core, ada, adas)
    await _registered(core, bob, bobs)
    options, challenge = await core.second_factor_options(ada)
    with pytest.raises(PasskeyRefused, match="not registered"):
        await core.second_factor(challenge, ada, bobs.get(options))


async def test_a_user_handle_naming_someone_else_is_refused__webauthn_7_2_step_6(
    core: Passkeys, add_user: AddUser, authenticator: SoftAuthenticator
) -> None:
    ada, bob = await add_user(), await add_user()
    await _registered(core, ada, authenticator)
    options, challenge = await core.sign_in_options()
    with pytest.raises(PasskeyRefused, match="not registered"):
        await core.sign_in(challenge, authenticator.get(options, user_handle=bob.encode()))
    response = authenticator.get(options)
    del response["response"]["userHandle"]  # a discoverable sign-in must name its user
    options, challenge = await core.sign_in_options()
    with pytest.raises(PasskeyRefused):
        await core.sign_in(challenge, response)


async def test_a_removed_passkey_signs_in_no_more(
    core: Passkeys, add_user: AddUser, authenticator: SoftAuthenticator
) -> None:
    ada, bob = await add_user(), await add_user()
    passkey = await _registered(core, ada, authenticator)
    assert not await core.remove(bob, passkey.credential_id)  # only its owner removes it
    assert await core.remove(ada, passkey.credential_id)
    assert not await core.remove(ada, passkey.credential_id)
    options, challenge = await core.sign_in_options()
    with pytest.raises(PasskeyRefused, match="not registered"):
        await core.sign_in(challenge, authenticator.get(options))


GARBAGE: list[object] = [
    None,
    "a string",
    [],
    {},
    {"id": "AAAA", "rawId": "AAAA", "type": "public-key"},
    {"id": "AAAA", "rawId": "BBBB", "type": "public-key", "response": {}},
    {"id": "AA AA", "rawId": "AA AA", "type": "public-key", "response": {}},
    {"id": "A" * 2000, "rawId": "A" * 2000, "type": "public-key", "response": {}},
    {"id": "AAAA", "rawId": "AAAA", "type": "password", "response": {}},
    {"id": 7, "rawId": 7, "type": "public-key", "response": {}},
]


@pytest.mark.parametrize("credential", GARBAGE, ids=range(len(GARBAGE)))
async def test_malformed_credentials_are_refused_as_such(
    core: Passkeys, add_user: AddUser, credential: object
) -> None:
    user_id = await add_user()
    _options, challenge = await core.registration_options(user_id, "a@example.com", "")
    with pytest.raises(MalformedCredential):
        await core.register(challenge, user_id, "Key", credential)
    _, challenge = await core.sign_in_options()
    with pytest.raises(MalformedCredential):
        await core.sign_in(challenge, credential)


def _damaged(response: dict[str, Any], field: str, value: str) -> dict[str, Any]:
    return {**response, "response": {**response["response"], field: value}}


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("clientDataJSON", b64url(b"not json")),
        ("clientDataJSON", b64url(b'{"type": 5}')),
        ("attestationObject", b64url(b"\xff\x00 not cbor")),
        ("attestationObject", b64url(b"\xa0")),
        ("attestationObject", "A"),
    ],
)
async def test_damaged_registration_fields_are_refused_never_crash(
    core: Passkeys, add_user: AddUser, authenticator: SoftAuthenticator, field: str, value: str
) -> None:
    user_id = await add_user()
    options, challenge = await core.registration_options(user_id, "a@example.com", "")
    response = _damaged(authenticator.create(options), field, value)
    with pytest.raises(PasskeyRefused):
        await core.register(challenge, user_id, "Key", response)


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("authenticatorData", b64url(b"short")),
        ("authenticatorData", "A"),
        ("signature", b64url(b"\x30\x02\x01")),
        ("clientDataJSON", b64url(b"[]")),
        ("userHandle", "A"),
    ],
)
async def test_damaged_assertion_fields_are_refused_never_crash(
    core: Passkeys, add_user: AddUser, authenticator: SoftAuthenticator, field: str, value: str
) -> None:
    await _registered(core, await add_user(), authenticator)
    options, challenge = await core.sign_in_options()
    with pytest.raises(PasskeyRefused):
        await core.sign_in(challenge, _damaged(authenticator.get(options), field, value))
