"""A software authenticator for tests: ES256, attestation `none`, discoverable credentials.

It builds what a browser and an authenticator would send (W3C WebAuthn Level 3 §6.1
authenticator data, §5.8.1 client data, §6.5 attestation object) with real signatures
from the `cryptography` library, and can be told to lie: another origin, another RP ID,
another challenge, a counter that goes back, a wrong signature.
"""

import hashlib
import json
import secrets
import struct
from dataclasses import dataclass, field
from typing import Any

import cbor2
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec

from gatepass.mfa.passkey_model import b64url, unb64url

UP, UV, BE, BS, AT = 0x01, 0x04, 0x08, 0x10, 0x40
AAGUID = bytes(16)  # attestation `none`: zero AAGUID, as Chromium's virtual authenticator


@dataclass
class Credential:
    """One key pair the authenticator holds, for one RP and one user handle."""

    credential_id: bytes
    key: ec.EllipticCurvePrivateKey
    rp_id: str
    user_handle: bytes
    sign_count: int = 0

    def cose_key(self) -> bytes:
        numbers = self.key.public_key().public_numbers()
        return cbor2.dumps(
            {
                1: 2,  # kty: EC2
                3: -7,  # alg: ES256
                -1: 1,  # crv: P-256
                -2: numbers.x.to_bytes(32, "big"),
                -3: numbers.y.to_bytes(32, "big"),
            }
        )


@dataclass
class SoftAuthenticator:
    origin: str
    rp_id: str
    counts: bool = True  # False: the counter stays 0 (synced passkeys, many platforms)
    backed_up: bool = False
    verifies_user: bool = True
    credentials: list[Credential] = field(default_factory=list)

    def _flags(self, *, attested: bool) -> int:
        flags = UP | (UV if self.verifies_user else 0)
        if self.backed_up:
            flags |= BE | BS
        return flags | (AT if attested else 0)

    def create(
        self,
        options: dict[str, Any],
        *,
        origin: str | None = None,
        rp_id: str | None = None,
        challenge: str | None = None,
        reuse: Credential | None = None,
    ) -> dict[str, Any]:
        """navigator.credentials.create(): a new credential (or, to test duplicates, one
        it holds already), as its JSON response."""
        rp = rp_id or options["rp"]["id"]
        credential = reuse or Credential(
            secrets.token_bytes(32),
            ec.generate_private_key(ec.SECP256R1()),
            rp,
            unb64url(options["user"]["id"]),
        )
        if reuse is None:
            self.credentials.append(credential)
        client_data = self._client_data("webauthn.create", options, origin, challenge)
        auth_data = (
            hashlib.sha256(rp.encode()).digest()
            + bytes([self._flags(attested=True)])
            + struct.pack(">I", credential.sign_count)
            + AAGUID
            + struct.pack(">H", len(credential.credential_id))
            + credential.credential_id
            + credential.cose_key()
        )
        attestation = cbor2.dumps({"fmt": "none", "attStmt": {}, "authData": auth_data})
        credential_id = b64url(credential.credential_id)
        return {
            "id": credential_id,
            "rawId": credential_id,
            "type": "public-key",
            "response": {
                "clientDataJSON": b64url(client_data),
                "attestationObject": b64url(attestation),
                "transports": ["internal"],
            },
        }

    def get(
        self,
        options: dict[str, Any],
        *,
        credential: Credential | None = None,
        origin: str | None = None,
        rp_id: str | None = None,
        challenge: str | None = None,
        sign_count: int | None = None,
        user_handle: bytes | None = None,
        bad_signature: bool = False,
    ) -> dict[str, Any]:
        """navigator.credentials.get(): an assertion by `credential` (default: the last
        one made), as its JSON response."""
        chosen = credential or self.credentials[-1]
        if self.counts:
            chosen.sign_count += 1
        count = chosen.sign_count if sign_count is None else sign_count
        client_data = self._client_data("webauthn.get", options, origin, challenge)
        auth_data = (
            hashlib.sha256((rp_id or chosen.rp_id).encode()).digest()
            + bytes([self._flags(attested=False)])
            + struct.pack(">I", count)
        )
        signed = auth_data + hashlib.sha256(client_data).digest()
        signature = chosen.key.sign(signed, ec.ECDSA(hashes.SHA256()))
        if bad_signature:
            signature = chosen.key.sign(signed + b"x", ec.ECDSA(hashes.SHA256()))
        credential_id = b64url(chosen.credential_id)
        return {
            "id": credential_id,
            "rawId": credential_id,
            "type": "public-key",
            "response": {
                "clientDataJSON": b64url(client_data),
                "authenticatorData": b64url(auth_data),
                "signature": b64url(signature),
                "userHandle": b64url(chosen.user_handle if user_handle is None else user_handle),
            },
        }

    def _client_data(
        self, kind: str, options: dict[str, Any], origin: str | None, challenge: str | None
    ) -> bytes:
        return json.dumps(
            {
                "type": kind,
                "challenge": challenge or options["challenge"],
                "origin": origin or self.origin,
                "crossOrigin": False,
            }
        ).encode()
