"""Opaque secrets (session IDs, CSRF keys): 256 random bits, stored only as digests."""

import base64
import hashlib
import hmac
import re
import secrets

SECRET_BYTES = 32  # 256 bits: guessing probability far below RFC 6749 §10.10's 2^-128
# token_urlsafe(32) is 43 characters of the URL-safe base64 alphabet, unpadded.
_SECRET_SHAPE = re.compile(r"[A-Za-z0-9_-]{43}")


def new_secret() -> str:
    """A fresh URL-safe secret from the operating system's CSPRNG."""
    return secrets.token_urlsafe(SECRET_BYTES)


def looks_like_secret(value: str) -> bool:
    """Cheap shape check, so garbage never reaches storage."""
    return _SECRET_SHAPE.fullmatch(value) is not None


def digest(secret: str) -> str:
    """The storage key of a secret: SHA-256, base64url, unpadded (43 characters).

    A leaked store holds only digests; no usable secret can be derived from them.
    """
    raw = hashlib.sha256(secret.encode("ascii")).digest()
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode("ascii")


def derive(key: str, purpose: str) -> str:
    """HMAC-SHA256 of `purpose` under `key`: a value bound to the key's holder."""
    mac = hmac.digest(key.encode("utf-8"), purpose.encode("utf-8"), "sha256")
    return base64.urlsafe_b64encode(mac).rstrip(b"=").decode("ascii")


class KeyedDigest:
    """HMAC-SHA256 under one key, as 64 hex characters.

    For random secrets (client secrets) a keyed fast hash is the right store: a slow
    password hash adds nothing against 256-bit guesses, and without the key a leaked
    digest cannot even be checked offline.
    """

    __slots__ = ("_keyed",)

    def __init__(self, key: bytes) -> None:
        # The keyed state is made once and copied per message: a one-shot HMAC looks the
        # digest up in OpenSSL by name every time, which cost more than the HMAC itself on
        # every client authentication at the token endpoint.
        self._keyed = hmac.new(key, digestmod=hashlib.sha256)

    def hex(self, message: str) -> str:
        mac = self._keyed.copy()
        mac.update(message.encode("utf-8"))
        return mac.hexdigest()

    def __repr__(self) -> str:
        return "KeyedDigest('**********')"


def same(a: str, b: str) -> bool:
    """Constant-time comparison of two strings."""
    return hmac.compare_digest(a.encode("utf-8"), b.encode("utf-8"))
