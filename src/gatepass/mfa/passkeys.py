"""Passkeys (W3C WebAuthn Level 3): register, sign in without a password, second factor.

    browser                         gatepass                              store
    POST .../options ─────────────► options + challenge (sealed cookie)
    navigator.credentials.create/get
    POST credential ──────────────► challenge answered once? ──────────► ChallengeRegister
                                    origin, RP ID, challenge, signature (py_webauthn)
                                    owner, counter grows (compare-and-set) ► PasskeyStore

Choices (docs/mfa.md "Passkeys"):
- RP ID is the issuer's host name, the expected origin the issuer's origin; RP IDs
  cannot be IP addresses in browsers, so a deployment that uses passkeys has a name.
- The user handle is the user's ID (a random UUID, no personal data, §14.6.1), so an
  assertion names its account without a lookup table.
- Registration asks for a discoverable credential (`residentKey: required`): every
  passkey then works both for passwordless sign-in and as a second factor. Attestation
  is `none`: gatepass trusts no vendor list, and says so in `amr`.
- Passwordless sign-in requires user verification (PIN or biometrics), which makes the
  passkey multi-factor by itself (NIST 800-63B §5.1.8); as a second factor, presence
  is enough (`userVerification: preferred`): the password was the other factor.
- A signature counter that does not grow (when either side is non-zero) is refused as
  a possible clone (§6.1.1); the counter moves by compare-and-set, so of two uses that
  saw the same counter one wins.
"""

import hashlib
import secrets
from dataclasses import replace
from typing import Any

from webauthn import (
    generate_authentication_options,
    generate_registration_options,
    verify_authentication_response,
    verify_registration_response,
)
from webauthn.helpers.options_to_json_dict import options_to_json_dict
from webauthn.helpers.structs import (
    AttestationConveyancePreference,
    AuthenticatorSelectionCriteria,
    AuthenticatorTransport,
    PublicKeyCredentialDescriptor,
    ResidentKeyRequirement,
    UserVerificationRequirement,
)

from gatepass.clock import Clock
from gatepass.mfa.passkey_model import (
    CHALLENGE_TTL_SECONDS,
    Asserted,
    Ceremony,
    Challenge,
    RelyingParty,
    b64url,
    unb64url,
    validate_name,
)
from gatepass.mfa.passkey_store import (
    ChallengeRegister,
    DuplicatePasskey,
    Passkey,
    PasskeyStore,
)
from gatepass.mfa.webauthn_input import (
    PasskeyRefused,
    checked_credential,
    verification_failures,
)

__all__ = ["Asserted", "Ceremony", "Challenge", "Passkeys", "RelyingParty"]

CHALLENGE_BYTES = 32
MAX_PASSKEYS_PER_USER = 20
TRANSPORTS = frozenset(t.value for t in AuthenticatorTransport)


class Passkeys:
    def __init__(
        self,
        store: PasskeyStore,
        answered: ChallengeRegister,
        relying_party: RelyingParty,
        clock: Clock,
    ) -> None:
        self._store = store
        self._answered = answered
        self._rp = relying_party
        self._clock = clock

    async def for_user(self, user_id: str) -> list[Passkey]:
        return await self._store.for_user(user_id)

    async def remove(self, user_id: str, credential_id: str) -> bool:
        """Remove the passkey if it is this user's; whether it was."""
        return await self._store.delete(user_id, credential_id)

    async def registration_options(
        self, user_id: str, user_name: str, display_name: str
    ) -> tuple[dict[str, Any], Challenge]:
        """Creation options (§5.4) for the signed-in user, excluding their passkeys."""
        mine = await self._store.for_user(user_id)
        challenge = secrets.token_bytes(CHALLENGE_BYTES)
        options = generate_registration_options(
            rp_id=self._rp.rp_id,
            rp_name=self._rp.name,
            user_id=user_id.encode(),
            user_name=user_name,
            user_display_name=display_name or user_name,
            challenge=challenge,
            timeout=CHALLENGE_TTL_SECONDS * 1000,
            attestation=AttestationConveyancePreference.NONE,
            authenticator_selection=AuthenticatorSelectionCriteria(
                resident_key=ResidentKeyRequirement.REQUIRED,
                user_verification=UserVerificationRequirement.PREFERRED,
            ),
            # §5.4.3: the browser refuses an authenticator that holds one of these already.
            exclude_credentials=[_descriptor(p) for p in mine],
        )
        issued = Challenge(Ceremony.REGISTER, b64url(challenge), user_id)
        return options_to_json_dict(options), issued

    async def register(
        self, challenge: Challenge, user_id: str, name: str, credential: object
    ) -> Passkey:
        """Verify an attestation (§7.1) for `user_id` and store the new passkey."""
        name = validate_name(name)
        await self._answer(challenge, Ceremony.REGISTER, user_id)
        response = checked_credential(credential, registration=True)
        if len(await self._store.for_user(user_id)) >= MAX_PASSKEYS_PER_USER:
            raise PasskeyRefused(f"An account holds at most {MAX_PASSKEYS_PER_USER} passkeys.")
        try:
            verified = verify_registration_response(
                credential=response,
                expected_challenge=unb64url(challenge.value),
                expected_rp_id=self._rp.rp_id,
                expected_origin=self._rp.origin,
            )
        except verification_failures as exc:
            raise PasskeyRefused("The passkey could not be verified.", str(exc)) from None
        passkey = Passkey(
            credential_id=b64url(verified.credential_id),
            user_id=user_id,
            name=name,
            public_key=b64url(verified.credential_public_key),
            sign_count=verified.sign_count,
            transports=_transports(response),
            backed_up=verified.credential_backed_up,
            created_at=self._clock.now(),
        )
        try:
            await self._store.add(passkey)
        except DuplicatePasskey:
            raise PasskeyRefused("This passkey is registered already.") from None
        return passkey

    async def sign_in_options(self) -> tuple[dict[str, Any], Challenge]:
        """Request options (§5.5) for a discoverable credential: no allowCredentials, so
        the authenticator offers its passkeys for this RP; the user must be verified."""
        challenge = secrets.token_bytes(CHALLENGE_BYTES)
        options = generate_authentication_options(
            rp_id=self._rp.rp_id,
            challenge=challenge,
            timeout=CHALLENGE_TTL_SECONDS * 1000,
            user_verification=UserVerificationRequirement.REQUIRED,
        )
        return options_to_json_dict(options), Challenge(Ceremony.SIGN_IN, b64url(challenge), None)

    async def second_factor_options(self, user_id: str) -> tuple[dict[str, Any], Challenge]:
        """Request options naming the user's passkeys; PasskeyRefused when they have none."""
        mine = await self._store.for_user(user_id)
        if not mine:
            raise PasskeyRefused("This account has no passkey.")
        challenge = secrets.token_bytes(CHALLENGE_BYTES)
        options = generate_authentication_options(
            rp_id=self._rp.rp_id,
            challenge=challenge,
            timeout=CHALLENGE_TTL_SECONDS * 1000,
            allow_credentials=[_descriptor(p) for p in mine],
            user_verification=UserVerificationRequirement.PREFERRED,
        )
        issued = Challenge(Ceremony.SECOND_FACTOR, b64url(challenge), user_id)
        return options_to_json_dict(options), issued

    async def sign_in(self, challenge: Challenge, credential: object) -> Asserted:
        """A passwordless sign-in: whoever's passkey it is, verified by the authenticator."""
        await self._answer(challenge, Ceremony.SIGN_IN, None)
        return await self._assert(challenge, credential, owner=None, verify_user=True)

    async def second_factor(
        self, challenge: Challenge, user_id: str, credential: object
    ) -> Asserted:
        """A second factor for `user_id`, who proved a password (or another first factor)."""
        await self._answer(challenge, Ceremony.SECOND_FACTOR, user_id)
        return await self._assert(challenge, credential, owner=user_id, verify_user=False)

    def credential_id_of(self, credential: object) -> str:
        """The credential ID an assertion names (to throttle by, before verifying);
        MalformedCredential when it is no assertion."""
        response = checked_credential(credential, registration=False)
        credential_id: str = response["id"]
        return credential_id

    async def _answer(self, challenge: Challenge, ceremony: Ceremony, user_id: str | None) -> None:
        """The challenge is for this ceremony and account, and answered for the first time."""
        if challenge.ceremony != ceremony or challenge.user_id != user_id:
            raise PasskeyRefused("This passkey request is not for this step. Please start again.")
        key = ceremony.value + ":" + hashlib.sha256(challenge.value.encode()).hexdigest()
        if not await self._answered.first_use(key, self._clock.now(), CHALLENGE_TTL_SECONDS * 2):
            raise PasskeyRefused("This passkey request was answered already. Please start again.")

    async def _assert(
        self, challenge: Challenge, credential: object, *, owner: str | None, verify_user: bool
    ) -> Asserted:
        response = checked_credential(credential, registration=False)
        passkey = await self._store.get(response["id"])
        if passkey is None or (owner is not None and passkey.user_id != owner):
            raise PasskeyRefused("This passkey is not registered here.", "unknown credential")
        handle = response["response"].get("userHandle")
        # §7.2 step 6: the user handle, when given (always, for a discoverable passkey),
        # names the credential's owner.
        if (handle is None and owner is None) or (
            handle is not None and not _same_handle(handle, passkey.user_id)
        ):
            raise PasskeyRefused("This passkey is not registered here.", "user handle mismatch")
        try:
            verified = verify_authentication_response(
                credential=response,
                expected_challenge=unb64url(challenge.value),
                expected_rp_id=self._rp.rp_id,
                expected_origin=self._rp.origin,
                credential_public_key=unb64url(passkey.public_key),
                credential_current_sign_count=passkey.sign_count,
                require_user_verification=verify_user,
            )
        except verification_failures as exc:
            raise PasskeyRefused("The passkey could not be verified.", str(exc)) from None
        now = self._clock.now()
        backed_up = verified.credential_backed_up
        if not await self._store.record_use(
            passkey.credential_id, passkey.sign_count, verified.new_sign_count, backed_up, now
        ):
            raise PasskeyRefused("The passkey could not be verified.", "counter moved meanwhile")
        used = replace(
            passkey, sign_count=verified.new_sign_count, backed_up=backed_up, last_used_at=now
        )
        return Asserted(used, verified.user_verified)


def _descriptor(passkey: Passkey) -> PublicKeyCredentialDescriptor:
    return PublicKeyCredentialDescriptor(
        id=unb64url(passkey.credential_id),
        transports=[AuthenticatorTransport(t) for t in passkey.transports if t in TRANSPORTS],
    )


def _transports(response: dict[str, Any]) -> tuple[str, ...]:
    given = response["response"].get("transports")
    if not isinstance(given, list):
        return ()
    return tuple(sorted({t for t in given if isinstance(t, str) and t in TRANSPORTS}))


def _same_handle(handle: str, user_id: str) -> bool:
    try:
        return secrets.compare_digest(unb64url(handle), user_id.encode())
    except ValueError:
        return False
