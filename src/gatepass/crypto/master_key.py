"""The master key: one secret from configuration, purpose-bound subkeys by HKDF (RFC 5869).

Nothing is encrypted or keyed with the master key itself. Each use gets its own
subkey, so a subkey that leaks through one use (say, a client-secret digest
oracle) says nothing about another (the key-encryption key of the signing keys).
"""

import base64
import logging
import os
import secrets
from collections.abc import Callable
from pathlib import Path

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from gatepass.config import MASTER_KEY_MIN_BYTES, Settings, decode_master_key
from gatepass.errors import ConfigError

SUBKEY_BYTES = 32
KEY_FILE_MODE = 0o600
_SALT = b"gatepass master key v1"
log = logging.getLogger("gatepass")


class MasterKey:
    """At least 256 bits from the operating system's CSPRNG; never shown by repr."""

    __slots__ = ("_raw",)

    def __init__(self, raw: bytes) -> None:
        if len(raw) < MASTER_KEY_MIN_BYTES:
            raise ValueError("a master key needs at least 32 bytes")
        self._raw = raw

    @classmethod
    def generate(cls) -> "MasterKey":
        return cls(secrets.token_bytes(MASTER_KEY_MIN_BYTES))

    def encoded(self) -> str:
        """The base64url text form, as GATEPASS_SECRET_KEY or the key file hold it."""
        return base64.urlsafe_b64encode(self._raw).rstrip(b"=").decode("ascii")

    def derive(self, purpose: str) -> bytes:
        """A 32-byte subkey for one purpose (HKDF-SHA256, the purpose as `info`)."""
        hkdf = HKDF(
            algorithm=hashes.SHA256(),
            length=SUBKEY_BYTES,
            salt=_SALT,
            info=f"gatepass/{purpose}".encode(),
        )
        return hkdf.derive(self._raw)

    def key_encryption_key(self) -> bytes:
        """AES-256-GCM key that seals signing keys' private parts at rest."""
        return self.derive("signing-key-encryption/v1")

    def client_secret_key(self) -> bytes:
        """HMAC-SHA256 key for client-secret digests (issue 3: keyed SHA-256)."""
        return self.derive("client-secret-hmac/v1")

    def provider_secret_key(self) -> bytes:
        """AES-256-GCM key that seals upstream providers' client secrets at rest (federation)."""
        return self.derive("provider-secrets/v1")

    def upstream_login_key(self) -> bytes:
        """AES-256-GCM key of the cookie that carries an upstream login across its redirects."""
        return self.derive("upstream-login-cookie/v1")

    def totp_secret_key(self) -> bytes:
        """AES-256-GCM key that seals users' TOTP secrets at rest (mfa/)."""
        return self.derive("totp-secrets/v1")

    def recovery_code_key(self) -> bytes:
        """HMAC-SHA256 key for recovery-code digests (mfa/recovery.py)."""
        return self.derive("recovery-code-hmac/v1")

    def refresh_successor_key(self) -> bytes:
        """HMAC-SHA256 key that derives a refresh token's successor from it (tokens/families)."""
        return self.derive("refresh-successor/v1")

    def __repr__(self) -> str:
        return "'**********'"

    __str__ = __repr__


def load_master_key(
    settings: Settings, announce: Callable[[Path], None] | None = None
) -> MasterKey:
    """GATEPASS_SECRET_KEY if set; otherwise the key file, created on first start.

    `announce` is told the path of a newly created file (default: a log warning, which
    reaches stderr even where logging is not configured).
    """
    if settings.secret_key is not None:
        raw = decode_master_key(settings.secret_key.reveal())
        assert raw is not None  # config.py validated it
        return MasterKey(raw)
    path = Path(settings.key_file)
    try:
        return _read_key_file(path)
    except FileNotFoundError:
        pass
    try:
        key = _create_key_file(path)
    except FileExistsError:  # another worker created it first: use theirs
        return _read_key_file(path)
    (announce or _announce)(path.resolve())
    return key


def _read_key_file(path: Path) -> MasterKey:
    name = "GATEPASS_KEY_FILE"
    try:
        text = path.read_text(encoding="ascii")
    except FileNotFoundError:
        raise
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(name, f"cannot read {path}: {exc}") from None
    raw = decode_master_key(text)
    if raw is None or len(raw) < MASTER_KEY_MIN_BYTES:
        raise ConfigError(name, f"{path} does not hold a base64url key of at least 32 bytes")
    return MasterKey(raw)


def _create_key_file(path: Path) -> MasterKey:
    """Write a new key beside `path`, then link it into place: readers never see a
    half-written file, and of two racing processes exactly one link succeeds."""
    key = MasterKey.generate()
    temp = path.with_name(f".{path.name}.{secrets.token_hex(8)}.tmp")
    # O_EXCL: never reuse or follow an existing file; 0600 from the first byte, no chmod race.
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_NOFOLLOW", 0)
    try:
        fd = os.open(temp, flags, KEY_FILE_MODE)
    except OSError as exc:
        raise ConfigError("GATEPASS_KEY_FILE", f"cannot create {path}: {exc.strerror}") from None
    try:
        with os.fdopen(fd, "w", encoding="ascii") as handle:
            handle.write(key.encoded() + "\n")
            handle.flush()
            os.fsync(handle.fileno())
        os.link(temp, path)  # FileExistsError when another process was first
    finally:
        temp.unlink(missing_ok=True)
    return key


def _announce(path: Path) -> None:
    log.warning("created a new master key in %s (mode 0600); back it up", path)
