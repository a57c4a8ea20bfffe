"""Short-lived state that must ride along with the browser, sealed so it can neither be
read nor forged: an upstream login between its redirect out and the callback, and an
upstream identity waiting for the password that proves the local account is the user's.

    value = base64url(nonce(12) || AES-256-GCM(JSON {"exp", "data"}) || tag(16))

The purpose is the associated data, so a value sealed for one step never opens at
another. Nothing lives in process memory: any `gatepass serve` process opens what
another sealed (they share the master key), and a restart loses no login in flight.
"""

import base64
import binascii
import json
import os
from collections.abc import Callable
from typing import Any

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from gatepass.clock import Clock

NONCE_BYTES = 12
MAX_COOKIE_CHARS = 3500  # under the 4 KiB a browser keeps per cookie


class CookieTooLarge(ValueError):
    """What was to be sealed would not fit in a cookie a browser keeps."""


class CookieBox:
    def __init__(self, key: Callable[[], bytes], clock: Clock) -> None:
        self._key = key  # read on first use (the master key may live in a file)
        self._aead: AESGCM | None = None
        self._clock = clock

    def _cipher(self) -> AESGCM:
        if self._aead is None:
            self._aead = AESGCM(self._key())
        return self._aead

    def seal(self, purpose: str, data: dict[str, Any], ttl_seconds: int) -> str:
        plain = json.dumps({"exp": self._clock.now() + ttl_seconds, "data": data}).encode()
        nonce = os.urandom(NONCE_BYTES)
        sealed = self._cipher().encrypt(nonce, plain, purpose.encode())
        value = base64.urlsafe_b64encode(nonce + sealed).decode("ascii").rstrip("=")
        if len(value) > MAX_COOKIE_CHARS:
            raise CookieTooLarge(f"a sealed {purpose} cookie would be {len(value)} characters")
        return value

    def open(self, purpose: str, value: str) -> dict[str, Any] | None:
        """The data sealed for `purpose`, or None: absent, forged, damaged, for another
        purpose, or expired."""
        if not value or len(value) > MAX_COOKIE_CHARS:
            return None
        try:
            blob = base64.urlsafe_b64decode(value + "=" * (-len(value) % 4))
            plain = self._cipher().decrypt(blob[:NONCE_BYTES], blob[NONCE_BYTES:], purpose.encode())
            sealed = json.loads(plain)
        except (binascii.Error, ValueError, InvalidTag):
            return None
        if not isinstance(sealed, dict) or not isinstance(sealed.get("data"), dict):
            return None
        expires = sealed.get("exp")
        if not isinstance(expires, int | float) or self._clock.now() >= expires:
            return None
        data: dict[str, Any] = sealed["data"]
        return data
