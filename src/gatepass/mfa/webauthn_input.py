"""What a browser may send as a WebAuthn credential (W3C WebAuthn Level 3 §5.1, the
`RegistrationResponseJSON` / `AuthenticationResponseJSON` shapes): checked and bounded
before py_webauthn parses it, so hostile input is a clear refusal, never a crash."""

import binascii
import re
from typing import Any

from webauthn.helpers.exceptions import WebAuthnException

from gatepass.errors import GatepassError

B64URL = re.compile(r"[A-Za-z0-9_-]*")
# §6.1: a credential ID is at most 1023 bytes (1364 base64url characters).
MAX_ID_CHARS = 1364
MAX_USER_HANDLE_CHARS = 86  # §5.4.3: a user handle is at most 64 bytes
MAX_TRANSPORTS = 8
# Generous for real authenticators (client data with extensions, packed attestation
# with a certificate chain), small enough that nothing costly is parsed.
FIELD_LIMITS = {
    "clientDataJSON": 8192,
    "attestationObject": 16384,
    "authenticatorData": 4096,
    "signature": 1024,
}
REGISTRATION_FIELDS = ("clientDataJSON", "attestationObject")
ASSERTION_FIELDS = ("clientDataJSON", "authenticatorData", "signature")

# Everything py_webauthn (and the CBOR, ASN.1 and key decoding under it) raises on
# input it cannot accept: malformed or hostile data is a refusal, not a server error.
verification_failures = (
    WebAuthnException,
    binascii.Error,
    ValueError,
    TypeError,
    KeyError,
    IndexError,
    AttributeError,
    OverflowError,
    RecursionError,
)


class PasskeyRefused(GatepassError):
    """The response is not acceptable; `message` is safe to show, `debug` is for logs."""

    def __init__(self, message: str, debug: str = "") -> None:
        super().__init__(message)
        self.message = message
        self.debug = debug


class MalformedCredential(PasskeyRefused):
    """The credential is not shaped as WebAuthn says."""

    def __init__(self, debug: str) -> None:
        super().__init__("The passkey response is malformed.", debug)


def checked_credential(credential: object, *, registration: bool) -> dict[str, Any]:
    """A copy of `credential` holding only the fields WebAuthn defines, each checked;
    MalformedCredential otherwise."""
    if not isinstance(credential, dict):
        raise MalformedCredential("not an object")
    credential_id = _b64url_field(credential, "id", MAX_ID_CHARS)
    if not credential_id or credential.get("rawId") != credential_id:
        raise MalformedCredential("id and rawId absent or different")
    if credential.get("type") != "public-key":
        raise MalformedCredential("type is not public-key")
    given = credential.get("response")
    if not isinstance(given, dict):
        raise MalformedCredential("no response object")
    fields = REGISTRATION_FIELDS if registration else ASSERTION_FIELDS
    response: dict[str, Any] = {
        name: _b64url_field(given, name, FIELD_LIMITS[name]) for name in fields
    }
    if any(not value for value in response.values()):
        raise MalformedCredential("an empty response field")
    if registration:
        response["transports"] = _transports(given.get("transports"))
    elif given.get("userHandle") is not None:
        response["userHandle"] = _b64url_field(given, "userHandle", MAX_USER_HANDLE_CHARS)
    return {"id": credential_id, "rawId": credential_id, "type": "public-key", "response": response}


def _b64url_field(source: dict[str, Any], name: str, limit: int) -> str:
    value = source.get(name)
    if not isinstance(value, str) or len(value) > limit or not B64URL.fullmatch(value):
        raise MalformedCredential(f"{name} is not base64url of at most {limit} characters")
    return value


def _transports(value: object) -> list[str]:
    if value is None:
        return []
    if (
        not isinstance(value, list)
        or len(value) > MAX_TRANSPORTS
        or not all(isinstance(t, str) and len(t) <= 32 for t in value)
    ):
        raise MalformedCredential("transports is not a short list of names")
    return list(value)
