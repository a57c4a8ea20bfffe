"""Small secrets at rest (an upstream provider's client secret): AES-256-GCM.

    sealed = "v1." || base64url(nonce(12) || ciphertext || tag(16))

Unlike a client secret of ours, which is only ever compared and so is stored as a
digest, an upstream client secret must be sent to the provider: it has to be
recoverable, so it is encrypted under a master-key subkey of its own. The caller's
`bound_to` (e.g. the provider's name) is the associated data: a blob copied onto
another row fails to open instead of lending that row its secret.
"""

import base64
import binascii
import os
import threading
from collections.abc import Callable

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from gatepass.crypto.master_key import MasterKey
from gatepass.errors import GatepassError

VERSION = "v1."
NONCE_BYTES = 12


class SecretUnsealError(GatepassError):
    """A sealed secret cannot be opened: another master key, or a damaged or moved blob."""


class SecretSealer:
    """Seals and opens short secrets under a master-key subkey (by default the
    provider-secret one; TOTP secrets have their own: `subkey=MasterKey.totp_secret_key`)."""

    def __init__(
        self,
        master_key: MasterKey | Callable[[], MasterKey],
        subkey: Callable[[MasterKey], bytes] = MasterKey.provider_secret_key,
    ) -> None:
        """Given a callable, the master key is read on first use, not before (as KeySealer)."""
        self._master_key = master_key
        self._subkey = subkey
        self._aead_cache: AESGCM | None = None
        self._lock = threading.Lock()

    @property
    def _aead(self) -> AESGCM:
        with self._lock:
            if self._aead_cache is None:
                source = self._master_key
                master = source if isinstance(source, MasterKey) else source()
                self._aead_cache = AESGCM(self._subkey(master))
            return self._aead_cache

    def seal(self, secret: str, *, bound_to: str) -> str:
        nonce = os.urandom(NONCE_BYTES)
        sealed = self._aead.encrypt(nonce, secret.encode("utf-8"), _aad(bound_to))
        return VERSION + base64.urlsafe_b64encode(nonce + sealed).decode("ascii")

    def open(self, sealed: str, *, bound_to: str) -> str:
        if not sealed.startswith(VERSION):
            raise SecretUnsealError(f"{bound_to}: unknown sealing format")
        try:
            blob = base64.urlsafe_b64decode(sealed.removeprefix(VERSION))
            plain = self._aead.decrypt(blob[:NONCE_BYTES], blob[NONCE_BYTES:], _aad(bound_to))
            return plain.decode("utf-8")
        except (binascii.Error, ValueError, InvalidTag):
            raise SecretUnsealError(f"{bound_to}: cannot decrypt (another master key?)") from None


def _aad(bound_to: str) -> bytes:
    return f"gatepass sealed secret|{bound_to}".encode()
