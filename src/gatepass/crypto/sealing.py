"""Private keys at rest: AES-256-GCM under the key-encryption key, the kid as associated data.

    sealed = "v1." || base64url(nonce(12) || ciphertext || tag(16))

The associated data binds a sealed blob to its row: copying one key's blob onto
another row (another kid or algorithm) fails to open instead of swapping keys.
A random 96-bit nonce per seal is safe far beyond the number of keys ever made
(NIST SP 800-38D §8.3 caps random nonces at 2^32 messages per key).
"""

import base64
import binascii
import os
import threading
from collections.abc import Callable

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from gatepass.crypto.keys import SigningKey, UnusableKey, import_signing_key
from gatepass.crypto.master_key import MasterKey
from gatepass.errors import GatepassError

VERSION = "v1."
NONCE_BYTES = 12


class UnsealError(GatepassError):
    """A sealed key cannot be opened: another master key, or a damaged or moved blob."""


class KeySealer:
    """Seals and opens signing keys' private parts under the master key's KEK."""

    def __init__(self, master_key: MasterKey | Callable[[], MasterKey]) -> None:
        """Given a callable, the master key is read on first use, not before: commands
        that never touch a signing key never read (or create) the key file."""
        self._master_key = master_key
        self._aead_cache: AESGCM | None = None
        self._lock = threading.Lock()

    @property
    def _aead(self) -> AESGCM:
        with self._lock:
            if self._aead_cache is None:
                source = self._master_key
                master = source if isinstance(source, MasterKey) else source()
                self._aead_cache = AESGCM(master.key_encryption_key())
            return self._aead_cache

    def seal(self, key: SigningKey) -> str:
        nonce = os.urandom(NONCE_BYTES)
        sealed = self._aead.encrypt(nonce, key.private_jwk_json(), _aad(key.kid, key.alg))
        return VERSION + base64.urlsafe_b64encode(nonce + sealed).decode("ascii")

    def open(self, sealed: str, *, kid: str, alg: str) -> SigningKey:
        if not sealed.startswith(VERSION):
            raise UnsealError(f"key {kid}: unknown sealing format")
        try:
            blob = base64.urlsafe_b64decode(sealed.removeprefix(VERSION))
            plain = self._aead.decrypt(blob[:NONCE_BYTES], blob[NONCE_BYTES:], _aad(kid, alg))
        except (binascii.Error, ValueError, InvalidTag):
            raise UnsealError(f"key {kid}: cannot decrypt (another master key?)") from None
        try:
            return import_signing_key(plain, kid=kid, alg=alg)
        except UnusableKey as exc:
            raise UnsealError(f"key {kid}: {exc}") from None


def _aad(kid: str, alg: str) -> bytes:
    return f"gatepass signing key|{kid}|{alg}".encode()
