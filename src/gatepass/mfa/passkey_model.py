"""The passkey core's values (mfa/passkeys.py): ceremonies, the relying party, issued
challenges, verified assertions and their RFC 8176 `amr`."""

import base64
from dataclasses import dataclass
from enum import StrEnum
from urllib.parse import urlsplit

from gatepass.errors import ValidationError
from gatepass.mfa.passkey_store import Passkey

CHALLENGE_TTL_SECONDS = 300  # the ceremony's sealed cookie and the browser's timeout
MAX_NAME_LENGTH = 100


class Ceremony(StrEnum):
    """What a challenge was issued for: a challenge answers only its own ceremony."""

    REGISTER = "passkey-register"
    SIGN_IN = "passkey-sign-in"
    SECOND_FACTOR = "passkey-second-factor"


@dataclass(frozen=True)
class RelyingParty:
    rp_id: str
    name: str
    origin: str

    @classmethod
    def for_issuer(cls, issuer: str, name: str = "gatepass") -> "RelyingParty":
        """RP ID = the issuer's host (§5.1.3 "effective domain"); origin = scheme://host:port."""
        parts = urlsplit(issuer)
        return cls(rp_id=parts.hostname or "", name=name, origin=f"{parts.scheme}://{parts.netloc}")


@dataclass(frozen=True)
class Challenge:
    """An issued challenge, for the web layer to seal: for whom and for which ceremony."""

    ceremony: Ceremony
    value: str  # base64url
    user_id: str | None  # the account it was issued to (None: passwordless sign-in)


@dataclass(frozen=True)
class Asserted:
    """A verified assertion: the passkey (counter updated) and whether the user was verified."""

    passkey: Passkey
    user_verified: bool

    @property
    def key_amr(self) -> str:
        """RFC 8176: `swk` for a synced passkey (software-held), else `hwk` (as the
        authenticator claims it: attestation `none` proves no hardware)."""
        return "swk" if self.passkey.backed_up else "hwk"

    @property
    def amr(self) -> tuple[str, ...]:
        """A passwordless sign-in's methods: the key, presence, and `mfa` when verified."""
        if self.user_verified:
            return (self.key_amr, "user", "mfa")
        return (self.key_amr, "user")


def b64url(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).decode("ascii").rstrip("=")


def unb64url(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def validate_name(name: str) -> str:
    """A passkey's label: 1-100 printable characters, surrounding spaces dropped."""
    name = name.strip()
    if not name:
        raise ValidationError("Give the passkey a name.", "name")
    if len(name) > MAX_NAME_LENGTH or any(ord(ch) < 32 or ord(ch) == 127 for ch in name):
        raise ValidationError(
            f"A passkey name has at most {MAX_NAME_LENGTH} printable characters.", "name"
        )
    return name
